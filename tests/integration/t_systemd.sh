#!/usr/bin/env bash
# shoald under systemd, without needing systemd to run: `make install` puts a unit with the
# installed paths (never a hard-coded /usr/local) into systemd's unit directory, `make uninstall`
# removes exactly that again, `systemd-analyze verify` finds nothing to say about the unit, its
# sandbox scores an exposure of at most 4.0 in `systemd-analyze security`, and shoald speaks the
# sd_notify protocol Type=notify depends on: READY=1 only once it serves, RELOADING=1 then READY=1
# around SIGHUP, STOPPING=1 on SIGTERM.
. "$(dirname "$0")/lib.sh"

# The binaries are built already (make check builds them): never rebuild from inside a test (-o
# all).  The Makefile rewrites its flags stamp when this make's flags differ from the build's
# (WERROR=1, SANITIZE=1): put it back, or the next `make` would rebuild everything.
minst() {
	local r
	cp -p "$BUILD/.flags" "$LAB_TMP/flags.saved" 2>/dev/null
	make --no-print-directory -C "$ROOT" B="$BUILD" -o all "$@" >>"$LAB_TMP/make.log" 2>&1; r=$?
	[ -f "$LAB_TMP/flags.saved" ] && cp -p "$LAB_TMP/flags.saved" "$BUILD/.flags"
	return $r
}
unitdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null)
unitdir=${unitdir:-/lib/systemd/system}

# ---- make install / uninstall into a staging root
stage=$LAB_TMP/stage
if minst install DESTDIR="$stage" PREFIX=/usr; then ok "make install DESTDIR=... PREFIX=/usr"; else
	not_ok "make install DESTDIR=... PREFIX=/usr"; tail -5 "$LAB_TMP/make.log" | sed 's/^/#   /'; fi
unit=$stage$unitdir/shoald.service
check "the unit is installed into systemd's unit directory ($unitdir)" test -f "$unit"
check "the unit runs the installed shoald" grep -qx 'ExecStart=/usr/sbin/shoald' "$unit"
check "the unit checks the configuration first" grep -qx 'ExecStartPre=/usr/sbin/shoald --check-config' "$unit"
check_fails "no /usr/local in a PREFIX=/usr unit" grep -q /usr/local "$unit"
check_fails "no unsubstituted @PLACEHOLDER@ in the unit" grep -q '@[A-Z]*@' "$unit"
check_fails "no staging root (DESTDIR) inside the unit" grep -qF "$stage" "$unit"
check "shoald, netctl and the plugin are installed" test -x "$stage/usr/sbin/shoald" -a -x "$stage/usr/bin/netctl" \
	-a -x "$stage/usr/lib/cni/shoal" -a -x "$stage/opt/cni/bin/shoal"
check "LICENSE is installed with the docs" test -s "$stage/usr/share/doc/shoal/LICENSE"
# An administrator's configuration is theirs: uninstall leaves it, and everything else goes.
printf '{}\n' >"$stage/etc/shoal/shoald.json"
if minst uninstall DESTDIR="$stage" PREFIX=/usr; then ok "make uninstall"; else not_ok "make uninstall"; fi
left=$(cd "$stage" && find . -mindepth 1 | sort | tr '\n' ' ')
expect_eq "uninstall removes exactly what install installed" "./etc ./etc/shoal ./etc/shoal/shoald.json " "$left"
rm -rf "$stage"
minst install DESTDIR="$stage" && minst uninstall DESTDIR="$stage"
expect_eq "install + uninstall with the default PREFIX leave nothing" "" "$(find "$stage" -mindepth 1 2>/dev/null)"
minst install DESTDIR="$stage"
check "the default PREFIX is /usr/local, substituted at install time" \
	grep -qx 'ExecStart=/usr/local/sbin/shoald' "$stage$unitdir/shoald.service"
minst uninstall DESTDIR="$stage"
rm -rf "$stage"

if ! command -v systemd-analyze >/dev/null; then
	ok "skipped: systemd-analyze is missing (verify, security score)"
else
	# verify checks that the commands exist: install for real, but into a private prefix.
	priv=$LAB_TMP/priv
	minst install PREFIX="$priv/usr" SYSCONFDIR="$priv/etc" SYSTEMDUNITDIR="$priv/unit" CNI_DIRS="$priv/cni" DESTDIR=
	out=$(systemd-analyze verify "$priv/unit/shoald.service" 2>&1); rc=$?
	if [ $rc -eq 0 ] && [ -z "$out" ]; then ok "systemd-analyze verify: no complaints"; else
		not_ok "systemd-analyze verify: no complaints (rc $rc)"; echo "$out" | sed 's/^/#   /'; fi
	sec=$(systemd-analyze security --offline=true "$priv/unit/shoald.service" 2>&1)
	score=$(echo "$sec" | sed -n 's/.*Overall exposure level for shoald.service: \([0-9.]*\).*/\1/p')
	echo "# systemd-analyze security: exposure $score"
	if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 4.0) }'; then
		ok "systemd-analyze security: exposure $score <= 4.0"
	else
		not_ok "systemd-analyze security: exposure '$score' <= 4.0"; echo "$sec" | grep '✗' | sed 's/^/#   /'
	fi
	# What the daemon needs must survive the hardening.
	check "setns() into container namespaces stays allowed (RestrictNamespaces=net)" \
		grep -qx 'RestrictNamespaces=net' "$priv/unit/shoald.service"
	check "setns() is in the allowed system calls (@system-service)" \
		sh -c 'systemd-analyze syscall-filter @system-service @process | grep -qx "    setns"'
	check "netlink stays allowed" grep -q '^RestrictAddressFamilies=.*AF_NETLINK' "$priv/unit/shoald.service"
	minst uninstall PREFIX="$priv/usr" SYSCONFDIR="$priv/etc" SYSTEMDUNITDIR="$priv/unit" CNI_DIRS="$priv/cni" DESTDIR=
	# Without DESTDIR only shoal's own directories go; shared ones (bin, sbin, ...) stay.
	expect_eq "uninstall from a private prefix leaves no file" "" "$(find "$priv" -mindepth 1 ! -type d 2>/dev/null)"
	check_fails "uninstall removes shoal's own directories" test -e "$priv/etc/shoal" -o -e "$priv/usr/share/doc/shoal"
fi

# ---- sd_notify: a receiver stands in for systemd.
cat >"$LAB_TMP/notify.py" <<'EOF'
import os, socket, sys
addr, out, api_sock = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
open(out + ".bound", "w").close()
s.settimeout(60)
with open(out, "a") as f:
    while True:
        try:
            d = s.recv(4096).decode()
        except socket.timeout:
            break
        for line in d.split("\n"):
            if line == "READY=1":   # readiness must mean "serving"
                line += " socket=" + ("yes" if os.path.exists(api_sock) else "no")
            f.write(line + "\n")
        f.flush()
        if "STOPPING=1" in d:
            break
EOF
lab_host h1 >/dev/null
shoald_conf h1 >/dev/null
sock=$LAB_TMP/h1.sock
notes=$LAB_TMP/notify.out
count_lines() { grep -c "^$1" "$notes" 2>/dev/null; }

# Abstract socket ('@'): per network namespace, so the receiver runs in h1's.
ip netns exec "$LAB-h1" python3 "$LAB_TMP/notify.py" "@$LAB-notify" "$notes" "$sock" &
LAB_PIDS+=($!)
lab_wait 10 test -e "$notes.bound" || not_ok "the notify receiver starts"
export NOTIFY_SOCKET=@$LAB-notify
shoald_start h1 || not_ok "shoald starts with NOTIFY_SOCKET (abstract)"
unset NOTIFY_SOCKET
lab_wait 10 grep -q '^READY=1' "$notes"
check "READY=1 arrives on an abstract NOTIFY_SOCKET" grep -q '^READY=1' "$notes"
check "READY=1 comes only once the API socket exists" grep -qx 'READY=1 socket=yes' "$notes"
check "STATUS= names the socket" grep -q "^STATUS=serving on $sock" "$notes"
check "shoald serves" "$BUILD/netctl" --socket "$sock" status
kill -HUP "$(shoald_pid h1)"
lab_wait 10 test "$(count_lines READY=1)" = 2
check "SIGHUP: RELOADING=1 is sent" grep -q '^RELOADING=1' "$notes"
check "SIGHUP: RELOADING=1 carries MONOTONIC_USEC" grep -q '^MONOTONIC_USEC=[0-9]' "$notes"
expect_eq "SIGHUP: READY=1 again after the reload" "2" "$(count_lines READY=1)"
expect_eq "SIGHUP: RELOADING=1 comes before the second READY=1" "RELOADING=1" \
	"$(grep -E '^(RELOADING|READY)=1' "$notes" | sed -n 2p)"
shoald_stop h1 || not_ok "shoald stops on SIGTERM"
lab_wait 10 grep -q '^STOPPING=1' "$notes"
check "SIGTERM: STOPPING=1 is sent" grep -q '^STOPPING=1' "$notes"

# A path socket, reachable from any namespace.
rm -f "$notes" "$notes.bound"
python3 "$LAB_TMP/notify.py" "$LAB_TMP/notify.sock" "$notes" "$sock" &
LAB_PIDS+=($!)
lab_wait 10 test -e "$notes.bound" || not_ok "the notify receiver starts (path)"
export NOTIFY_SOCKET=$LAB_TMP/notify.sock
shoald_start h1 || not_ok "shoald starts with NOTIFY_SOCKET (path)"
unset NOTIFY_SOCKET
lab_wait 10 grep -q '^READY=1' "$notes"
check "READY=1 arrives on a path NOTIFY_SOCKET" grep -qx 'READY=1 socket=yes' "$notes"
shoald_stop h1
lab_wait 10 grep -q '^STOPPING=1' "$notes"
check "STOPPING=1 on the path socket" grep -q '^STOPPING=1' "$notes"
check_fails "no notify warnings in the log" grep -q 'failed to notify systemd' "$LAB_TMP/shoald-h1.log"

lab_done
