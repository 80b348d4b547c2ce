#!/bin/sh
# shoal-install-cni: the DaemonSet's init container.  Copies the shoal plugin binary and the
# network configuration (conflist) from the image / ConfigMap onto the node, where the container
# runtime (containerd, CRI-O) finds them.  The Containerfile installs this script as
# /usr/sbin/shoal-install-cni.
#
# - A file is replaced only when its content differs: an unchanged conflist is not rewritten, so the
#   runtime (which watches the directory) does not reload its network config for nothing.
# - A replacement is atomic: the new content goes to a temporary name in the same directory, is
#   flushed, and is renamed over the old file.  The runtime never reads half a conflist, and a plugin
#   being executed at that moment keeps running the old binary.  The temporary name ends in ".tmp",
#   which libcni does not load (it loads *.conf, *.conflist, *.json only).
# - The binary goes first and the conflist last: the runtime must never see a conflist whose plugin
#   is missing.  For the same reason every other plugin the conflist names (portmap) must already be
#   on the node; if one is not, nothing is installed and the container fails with a message saying
#   which, instead of every pod on the node failing later with "failed to find plugin".
#
# Environment (the defaults are the DaemonSet's paths):
#   SHOAL_PLUGIN    the plugin binary to install          (/opt/cni/bin/shoal, inside the image)
#   SHOAL_CONFLIST  the conflist to install                (/etc/shoal/10-shoal.conflist, the ConfigMap)
#   CNI_BIN_DIR     the node's CNI plugin directory        (/host/opt/cni/bin)
#   CNI_CONF_DIR    the node's CNI configuration directory (/host/etc/cni/net.d)
# The conflist keeps its file name (10-shoal.conflist) on the node.
set -eu

plugin=${SHOAL_PLUGIN:-/opt/cni/bin/shoal}
conflist=${SHOAL_CONFLIST:-/etc/shoal/10-shoal.conflist}
bin_dir=${CNI_BIN_DIR:-/host/opt/cni/bin}
conf_dir=${CNI_CONF_DIR:-/host/etc/cni/net.d}

die() { echo "shoal-install-cni: $*" >&2; exit 1; }

# install_file SRC DIR NAME MODE: put SRC at DIR/NAME unless it is already there, atomically.
install_file() {
	src=$1 dir=$2 name=$3 mode=$4
	dst=$dir/$name
	if [ -f "$dst" ] && cmp -s "$src" "$dst"; then
		echo "shoal-install-cni: $dst is up to date"
		return 0
	fi
	tmp=$dir/.$name.shoal-install.tmp
	rm -f "$tmp"
	cp "$src" "$tmp"
	chmod "$mode" "$tmp"
	sync "$tmp"
	mv -f "$tmp" "$dst"
	echo "shoal-install-cni: installed $dst"
}

[ -f "$plugin" ] || die "the plugin binary $plugin is missing from the image"
[ -f "$conflist" ] || die "the conflist $conflist is missing (is the ConfigMap mounted with key $(basename "$conflist")?)"
for d in "$bin_dir" "$conf_dir"; do
	[ -d "$d" ] || die "$d is not a directory (is the hostPath mounted?)"
done

# Every plugin the conflist chains besides shoal must be on the node.  The conflist is ours and
# simple (one "type" per plugin object), so grep is enough to find the names.
types=$(grep -o '"type"[[:space:]]*:[[:space:]]*"[^"]*"' "$conflist" | sed 's/.*"\([^"]*\)"$/\1/')
[ -n "$types" ] || die "$conflist names no plugin (no \"type\" key)"
echo "$types" | grep -qx shoal || die "$conflist does not use the shoal plugin (\"type\": \"shoal\")"
for t in $types; do
	[ "$t" = shoal ] && continue
	[ -x "$bin_dir/$t" ] || die "$conflist chains the plugin \"$t\", but $bin_dir/$t does not exist on this node; " \
		"install the CNI reference plugins there or remove \"$t\" from the ConfigMap (docs/kubernetes.md)"
done

install_file "$plugin" "$bin_dir" shoal 0755
install_file "$conflist" "$conf_dir" "$(basename "$conflist")" 0644
