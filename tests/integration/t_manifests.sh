#!/usr/bin/env bash
# The Kubernetes deployment (conf/kubernetes/, Containerfile, docs/kubernetes.md): what a user relies
# on when applying it, checked without a cluster.  Every YAML document parses; the objects are there
# and in one namespace; the DaemonSet uses the host network, mounts only volumes it declares, uses
# absolute host paths at the same paths inside (the plugin on the host and shoald in the pod must
# meet at the socket and the state directory), runs shoald with the node's name and probes it with
# netctl; the image is the one the doc tells users to build; shoald.json uses only documented keys
# and passes `shoald --check-config`; the conflist is 1.0.0 and uses the shoal plugin with shoald's
# socket.  The init container's install script installs only what changed, atomically, and refuses
# a conflist chaining a plugin the node lacks.  shellcheck/hadolint/podman run when installed.
. "$(dirname "$0")/lib.sh"
K8S=$ROOT/conf/kubernetes
DOC=$ROOT/docs/kubernetes.md

if ! python3 -c 'import yaml' 2>/dev/null; then
	not_ok "python3-yaml is installed (apt-get install python3-yaml)"
	lab_done
	exit
fi

# Structural checks in Python; each prints "ok<TAB>name" or "not ok<TAB>name<TAB>detail".
python3 - "$K8S" "$DOC" "$ROOT/docs/config.md" "$ROOT/lib/version.h" "$ROOT/Containerfile" "$LAB_TMP" \
	>"$LAB_TMP/struct.out" 2>"$LAB_TMP/struct.err" <<'PY'
import glob, json, os, re, sys
import yaml

k8s, doc_path, config_md, version_h, containerfile, tmp = sys.argv[1:]
def res(name, cond, detail=""):
    print("%s\t%s\t%s" % ("ok" if cond else "not ok", name, detail))
    return cond

files = sorted(glob.glob(k8s + "/*.yaml") + glob.glob(k8s + "/*.yml") + glob.glob(k8s + "/*.yaml.example"))
res("conf/kubernetes has YAML files", len(files) >= 4, "found %d" % len(files))
docs = []
for f in files:
    try:
        with open(f) as fh:
            ds = [d for d in yaml.safe_load_all(fh) if d is not None]
        res("%s parses (%d documents)" % (os.path.basename(f), len(ds)), len(ds) > 0, "no document")
        docs += [(os.path.basename(f), d) for d in ds]
    except yaml.YAMLError as e:
        res("%s parses" % os.path.basename(f), False, str(e).replace("\n", " "))
applied = [d for f, d in docs if not f.endswith(".example")]
def one(kind, pool=None):
    found = [d for d in (pool if pool is not None else [d for _, d in docs]) if d.get("kind") == kind]
    return found[0] if len(found) == 1 else None

kinds = sorted(d.get("kind", "?") for d in applied)
for k in ("Namespace", "ServiceAccount", "ConfigMap", "DaemonSet"):
    res("kubectl apply -f conf/kubernetes/ creates one %s" % k, kinds.count(k) == 1, "kinds: %s" % kinds)
res("the Secret is a template kubectl apply skips (*.yaml.example)",
    one("Secret") is not None and one("Secret", applied) is None)
for f, d in docs:
    res("%s %s has apiVersion, kind, metadata.name" % (f, d.get("kind")),
        bool(d.get("apiVersion") and d.get("kind") and (d.get("metadata") or {}).get("name")))
ns, sa, cm, ds, secret = one("Namespace"), one("ServiceAccount"), one("ConfigMap"), one("DaemonSet"), one("Secret")
if not (ns and sa and cm and ds and secret):
    sys.exit(0)
nsname = ns["metadata"]["name"]
res("every object is in namespace %s" % nsname,
    all(d["metadata"].get("namespace") == nsname for _, d in docs if d["kind"] != "Namespace"))
res("the namespace allows privileged pods (Pod Security)",
    ns["metadata"].get("labels", {}).get("pod-security.kubernetes.io/enforce") == "privileged")
res("no RBAC objects (shoald does not use the Kubernetes API)",
    not any(d["kind"] in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding") for _, d in docs))

spec = ds["spec"]["template"]["spec"]
res("the DaemonSet selector matches its pod labels",
    all(ds["spec"]["template"]["metadata"]["labels"].get(k) == v for k, v in ds["spec"]["selector"]["matchLabels"].items()))
res("the DaemonSet uses the host network", spec.get("hostNetwork") is True)
res("it does not use the host PID namespace", not spec.get("hostPID"))
res("priorityClassName is system-node-critical", spec.get("priorityClassName") == "system-node-critical")
res("it tolerates every taint (control plane, not-ready)",
    any(t.get("operator") == "Exists" and "key" not in t and "effect" not in t for t in spec.get("tolerations", [])))
res("it uses the ServiceAccount %s" % sa["metadata"]["name"], spec.get("serviceAccountName") == sa["metadata"]["name"])
ru = ds["spec"].get("updateStrategy", {}).get("rollingUpdate", {})
res("rolling updates never run two shoalds on a node (maxSurge 0)", ru.get("maxSurge", 0) in (0, "0", "0%"))

vols = {v["name"]: v for v in spec.get("volumes", [])}
ctrs = spec.get("initContainers", []) + spec.get("containers", [])
used = set()
for c in ctrs:
    for m in c.get("volumeMounts", []):
        used.add(m["name"])
        res("container %s: volumeMount %s has a volume" % (c["name"], m["name"]), m["name"] in vols)
    paths = [m["mountPath"] for m in c.get("volumeMounts", [])]
    nested = [(a, b) for a in paths for b in paths if a != b and b.startswith(a.rstrip("/") + "/")]
    res("container %s: no mount inside another (read-only ConfigMap volumes)" % c["name"], not nested, str(nested))
res("every volume is mounted somewhere", set(vols) <= used, str(set(vols) - used))
host = {n: v["hostPath"]["path"] for n, v in vols.items() if "hostPath" in v}
for n, p in host.items():
    res("hostPath %s (%s) is absolute" % (n, p), os.path.isabs(p) and os.path.normpath(p) == p)
for p in ("/run/shoal", "/var/lib/shoal", "/etc/cni/net.d", "/opt/cni/bin"):
    res("the host's %s is mounted" % p, p in host.values())
cmvols = [v for v in vols.values() if "configMap" in v]
res("the ConfigMap volume names the ConfigMap", cmvols and all(v["configMap"]["name"] == cm["metadata"]["name"] for v in cmvols))
secvols = [v for v in vols.values() if "secret" in v]
res("the TLS volume names the Secret and is optional (etcd:// needs none)",
    len(secvols) == 1 and secvols[0]["secret"]["secretName"] == secret["metadata"]["name"] and secvols[0]["secret"].get("optional") is True)

# The image: one name everywhere, the one the doc builds and pushes, tagged with shoal's version.
images = sorted({c.get("image") for c in ctrs})
version = re.search(r'SHOAL_VERSION\s+"([^"]+)"', open(version_h).read()).group(1)
doc = open(doc_path).read() if os.path.exists(doc_path) else ""
res("every container uses one image", len(images) == 1, str(images))
image = images[0]
res("the image tag is shoal's version %s" % version, image.endswith(":" + version), image)
res("docs/kubernetes.md builds %s from the Containerfile" % image,
    re.search(r"podman build\b[^\n]*-t " + re.escape(image) + r"\b[^\n]*-f Containerfile", doc) is not None)
res("docs/kubernetes.md pushes %s" % image, re.search(r"podman push " + re.escape(image) + r"\b", doc) is not None)
cf = open(containerfile).read()
res("the Containerfile's own example builds the same image", ("-t " + image + " ") in cf)

# The main container: shoald with the node's name, NET_ADMIN + SYS_ADMIN (or privileged), probes.
main = [c for c in spec["containers"] if c["name"] == "shoald"]
res("a container named shoald", len(main) == 1)
main = main[0]
argv = main.get("command", []) + main.get("args", [])
res("it runs shoald", argv and os.path.basename(argv[0]) == "shoald", str(argv))
env = {e["name"]: e for e in main.get("env", [])}
nodevar = None
if "--node" in argv and argv.index("--node") + 1 < len(argv):
    m = re.fullmatch(r"\$\((\w+)\)", argv[argv.index("--node") + 1])
    nodevar = m.group(1) if m else None
res("--node is the node name from the downward API (spec.nodeName)",
    nodevar in env and env[nodevar].get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "spec.nodeName", str(argv))
confarg = argv[argv.index("--config") + 1] if "--config" in argv else "/etc/shoal/shoald.json"
sc = main.get("securityContext", {})
caps = set(sc.get("capabilities", {}).get("add", []))
res("shoald may change the network and enter namespaces (NET_ADMIN, SYS_ADMIN)",
    sc.get("privileged") is True or {"NET_ADMIN", "SYS_ADMIN"} <= caps, str(caps))
for probe in ("livenessProbe", "readinessProbe"):
    cmd = main.get(probe, {}).get("exec", {}).get("command", [])
    res("%s is `netctl status --timeout ...`" % probe, cmd[:3] == ["netctl", "status", "--timeout"], str(cmd))
    t = re.fullmatch(r"(\d+)(s|ms)?", cmd[3]) if len(cmd) > 3 else None
    secs = (int(t.group(1)) / (1000 if t.group(2) == "ms" else 1)) if t else 99
    res("%s: kubelet waits longer (timeoutSeconds) than netctl does" % probe, main.get(probe, {}).get("timeoutSeconds", 1) > secs)

def mount_of(c, path):
    """(volume, path inside the volume) for a file path in container c, by the longest mountPath."""
    best = None
    for m in c.get("volumeMounts", []):
        mp = m["mountPath"].rstrip("/")
        if (path == mp or path.startswith(mp + "/")) and (best is None or len(mp) > len(best[0])):
            best = (mp, m["name"])
    return (vols.get(best[1]), os.path.relpath(path, best[0])) if best else (None, None)

# shoald.json: valid JSON, documented keys only, consistent with the mounts and with the conflist.
table = [l for l in open(config_md).read().splitlines() if l.startswith("| `")]
keys = set()
for l in table:
    keys.update(re.findall(r"`([A-Za-z]+)`", l.split("|")[1]))
try:
    conf = json.loads(cm["data"]["shoald.json"])
    res("the ConfigMap's shoald.json is valid JSON", isinstance(conf, dict))
except (KeyError, ValueError) as e:
    conf = None
    res("the ConfigMap's shoald.json is valid JSON", False, str(e))
if conf is not None:
    res("docs/config.md's key table was found", len(keys) >= 15, str(sorted(keys)))
    res("every key of shoald.json is in docs/config.md's table", set(conf) <= keys, str(set(conf) - keys))
    open(tmp + "/shoald.json", "w").write(cm["data"]["shoald.json"])
    v, rel = mount_of(main, confarg)
    res("shoald's --config %s is the ConfigMap's shoald.json" % confarg,
        v is not None and "configMap" in v and rel == "shoald.json")
    for key, default in (("socket", "/run/shoal/shoald.sock"), ("stateDir", "/var/lib/shoal")):
        p = conf.get(key, default)
        v, rel = mount_of(main, p)
        hp = os.path.normpath(os.path.join(v["hostPath"]["path"], rel)) if v and "hostPath" in v else None
        res("shoald's %s %s is the host's %s (the plugin runs on the host)" % (key, p, p), hp == p, str(hp))
    for key in ("storeCA", "storeCert", "storeKey"):
        if conf.get(key):
            v, rel = mount_of(main, conf[key])
            res("%s %s is a key of the Secret" % (key, conf[key]),
                v is not None and "secret" in v and rel in secret.get("stringData", secret.get("data", {})), str(rel))
    if conf.get("store", "").startswith("etcd"):
        res("the etcd store is reached without cluster DNS (dnsPolicy Default)", spec.get("dnsPolicy") == "Default")

# The conflist: JSON, 1.0.0, shoal first, talking to the same socket and state directory.
ic = [c for c in spec.get("initContainers", []) if "shoal-install-cni" in " ".join(c.get("command", []))]
res("an init container runs shoal-install-cni", len(ic) == 1)
ic = ic[0] if ic else {}
ienv = {e["name"]: e.get("value") for e in ic.get("env", [])}
clpath = ienv.get("SHOAL_CONFLIST", "/etc/shoal/10-shoal.conflist")
v, rel = mount_of(ic, clpath)
res("the init container's conflist %s is a key of the ConfigMap" % clpath,
    v is not None and "configMap" in v and rel in cm["data"], str(rel))
for var, dflt, want in (("CNI_BIN_DIR", "/host/opt/cni/bin", "/opt/cni/bin"), ("CNI_CONF_DIR", "/host/etc/cni/net.d", "/etc/cni/net.d")):
    v, rel = mount_of(ic, ienv.get(var, dflt))
    res("the init container's %s is the host's %s" % (var, want),
        v is not None and "hostPath" in v and os.path.normpath(os.path.join(v["hostPath"]["path"], rel)) == want)
res("the Containerfile installs the script as /usr/sbin/shoal-install-cni",
    re.search(r"^COPY conf/kubernetes/install-cni.sh /usr/sbin/shoal-install-cni$", cf, re.M) is not None)
try:
    cl = json.loads(cm["data"][rel if rel in cm["data"] else "10-shoal.conflist"])
    res("the ConfigMap's conflist is valid JSON", isinstance(cl, dict))
except (KeyError, ValueError) as e:
    cl = None
    res("the ConfigMap's conflist is valid JSON", False, str(e))
if cl is not None:
    plugins = cl.get("plugins", [])
    res("the conflist's cniVersion is 1.0.0", cl.get("cniVersion") == "1.0.0", str(cl.get("cniVersion")))
    res("the conflist's first plugin is type shoal", plugins[:1] and plugins[0].get("type") == "shoal")
    if conf is not None and plugins:
        res("the plugin's socket is shoald's", plugins[0].get("socket", "/run/shoal/shoald.sock") == conf.get("socket", "/run/shoal/shoald.sock"))
        res("the plugin's stateDir is shoald's", plugins[0].get("stateDir", "/var/lib/shoal") == conf.get("stateDir", "/var/lib/shoal"))
    open(tmp + "/10-shoal.conflist", "w").write(json.dumps(cl, indent=2))
PY
if [ -s "$LAB_TMP/struct.err" ]; then
	not_ok "the structural checks ran without a Python error"
	sed 's/^/#   /' "$LAB_TMP/struct.err" | tail -15
fi
while IFS=$'\t' read -r verdict name detail; do
	if [ "$verdict" = ok ]; then ok "$name"; else not_ok "$name${detail:+ ($detail)}"; fi
done <"$LAB_TMP/struct.out"

# shoald itself accepts the ConfigMap's configuration, with the node name the DaemonSet passes.  It
# also checks that the TLS files are readable: stand-ins take the Secret's place.
if [ -x "$BUILD/shoald" ] && [ -f "$LAB_TMP/shoald.json" ]; then
	for k in storeCA storeCert storeKey; do echo "stand-in for the Secret's file" >"$LAB_TMP/tls-$k"; done
	jq --arg d "$LAB_TMP" 'with_entries(if (.key | test("^store(CA|Cert|Key)$")) and .value != ""
		then .value = "\($d)/tls-\(.key)" else . end)' "$LAB_TMP/shoald.json" >"$LAB_TMP/shoald-check.json"
	check "shoald --check-config accepts the ConfigMap's shoald.json" \
		"$BUILD/shoald" --check-config --config "$LAB_TMP/shoald-check.json" --node worker-1.example
else
	echo "# skip: no $BUILD/shoald to check the ConfigMap's shoald.json with"
fi

# The init container's script, against stand-in node directories.
inst=$K8S/install-cni.sh
node=$LAB_TMP/node
mkdir -p "$node/bin" "$node/net.d" "$node/src"
printf '#!/bin/sh\necho plugin v1\n' >"$node/src/shoal"
cp "$LAB_TMP/10-shoal.conflist" "$node/src/10-shoal.conflist" 2>/dev/null ||
	printf '{"cniVersion":"1.0.0","name":"shoal","plugins":[{"type":"shoal"},{"type":"portmap"}]}\n' >"$node/src/10-shoal.conflist"
install_cni() {
	SHOAL_PLUGIN=$node/src/shoal SHOAL_CONFLIST=$node/src/10-shoal.conflist \
		CNI_BIN_DIR=$node/bin CNI_CONF_DIR=$node/net.d sh "$inst"
}
ino() { stat -c %i "$1" 2>/dev/null; }
chained=$(grep -o '"type"[[:space:]]*:[[:space:]]*"[^"]*"' "$node/src/10-shoal.conflist" | sed 's/.*"\([^"]*\)"$/\1/' | grep -vx shoal)
if [ -n "$chained" ]; then
	if install_cni >"$LAB_TMP/inst0.log" 2>&1; then not_ok "install-cni fails when $chained is missing on the node"
	else ok "install-cni fails when $chained is missing on the node"; fi
	check "and names the missing plugin" grep -q "\"$(echo "$chained" | head -1)\"" "$LAB_TMP/inst0.log"
	expect_eq "and installs nothing" "" "$(find "$node/bin" "$node/net.d" -mindepth 1)"
	for t in $chained; do printf '#!/bin/sh\n' >"$node/bin/$t"; chmod 0755 "$node/bin/$t"; done
fi
check "install-cni installs the plugin and the conflist" install_cni
check "the plugin is the image's" cmp "$node/src/shoal" "$node/bin/shoal"
check "the conflist is the ConfigMap's" cmp "$node/src/10-shoal.conflist" "$node/net.d/10-shoal.conflist"
expect_eq "the plugin is executable (0755)" 755 "$(stat -c %a "$node/bin/shoal")"
expect_eq "the conflist is 0644" 644 "$(stat -c %a "$node/net.d/10-shoal.conflist")"
pi=$(ino "$node/bin/shoal") ci=$(ino "$node/net.d/10-shoal.conflist")
install_cni >"$LAB_TMP/inst2.log" 2>&1
expect_eq "a second run leaves an unchanged plugin alone (same inode)" "$pi" "$(ino "$node/bin/shoal")"
expect_eq "and an unchanged conflist (no reload by the runtime)" "$ci" "$(ino "$node/net.d/10-shoal.conflist")"
check "and says both are up to date" test "$(grep -c 'up to date' "$LAB_TMP/inst2.log")" = 2
sed -i 's/"name": *"shoal"/"name": "shoal-v2"/' "$node/src/10-shoal.conflist"
exec 9<"$node/net.d/10-shoal.conflist"   # a reader holding the old file, as the runtime may
check "a changed conflist is installed" install_cni
check "with the new content" cmp "$node/src/10-shoal.conflist" "$node/net.d/10-shoal.conflist"
check_fails "by rename (a new inode), never rewritten in place" test "$ci" = "$(ino "$node/net.d/10-shoal.conflist")"
check "a reader of the old file still sees it whole" bash -c 'grep -q "\"name\": *\"shoal\"" <&9'
exec 9<&-
expect_eq "the unchanged plugin stays as it was" "$pi" "$(ino "$node/bin/shoal")"
expect_eq "no temporary files are left" "" "$(find "$node/bin" "$node/net.d" -name '*tmp*')"
printf '{"cniVersion":"1.0.0","name":"x","plugins":[{"type":"bridge"}]}\n' >"$node/src/10-shoal.conflist"
check_fails "install-cni refuses a conflist without the shoal plugin" install_cni

# Linters, when installed.
if command -v shellcheck >/dev/null; then
	check "shellcheck: install-cni.sh" shellcheck -s sh "$inst"
	check "shellcheck: t_manifests.sh" shellcheck -x -e SC1091 "$0"
else
	echo "# skip: shellcheck is not installed"
fi
if command -v hadolint >/dev/null; then
	check "hadolint: Containerfile" hadolint "$ROOT/Containerfile"
else
	echo "# skip: hadolint is not installed"
fi

# The image, when podman is installed (slow: it builds shoal from scratch).
if command -v podman >/dev/null; then
	image=$(sed -n 's/^ *image: *//p' "$K8S"/*.yaml | head -1)
	tag=localhost/shoal-test:$$
	if podman build -q -t "$tag" -f "$ROOT/Containerfile" "$ROOT" >"$LAB_TMP/podman.log" 2>&1; then
		ok "podman builds the image (as $image would be)"
		check "the image runs shoald" podman run --rm "$tag" shoald --version
		check "the image has netctl" podman run --rm "$tag" netctl --version
		check "the image has shoal-install-cni" podman run --rm "$tag" test -x /usr/sbin/shoal-install-cni
		check "the image's plugin answers VERSION" \
			bash -c "podman run --rm '$tag' sh -c 'CNI_COMMAND=VERSION /opt/cni/bin/shoal </dev/null' | grep -q supportedVersions"
		check_fails "the image's plugin is static (the node may lack its libraries)" \
			podman run --rm "$tag" ldd /opt/cni/bin/shoal
		podman rmi -f "$tag" >/dev/null 2>&1
	else
		not_ok "podman builds the image"
		tail -15 "$LAB_TMP/podman.log" | sed 's/^/#   /'
	fi
else
	echo "# skip: podman is not installed; the image is not built"
fi
lab_done
