#!/usr/bin/env bash
# Installs every Debian package shoal's build, tests, benchmarks and demo need.  Runs as root,
# non-interactively; does nothing when everything is present.  (etcd-server, libcurl and
# libmicrohttpd join this list with the issues that use them.)
set -eu
pkgs=(
	build-essential pkg-config clang libclang-rt-14-dev
	libjansson-dev libuv1-dev libmnl-dev libnftnl-dev libcmocka-dev
	iproute2 iputils-ping nftables iptables jq procps util-linux curl python3
	containernetworking-plugins
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}; run as root (or: apt-get install ${missing[*]})" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
