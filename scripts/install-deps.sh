#!/usr/bin/env bash
# Installs every Debian package shoal's build, tests, benchmarks and demo need.  Runs as root,
# non-interactively; does nothing when everything is present.
set -eu
pkgs=(
	build-essential pkg-config clang libclang-rt-14-dev
	libjansson-dev libuv1-dev libmnl-dev libnftnl-dev libcmocka-dev
	iproute2 iputils-ping nftables iptables jq procps util-linux curl python3
	containernetworking-plugins
	# The etcd store backend: our HTTP/1.1 client frames responses with http-parser; etcds:// uses
	# OpenSSL (loaded at run time; the client key and certificates are PEM files, which OpenSSL
	# reads natively).  etcd-server/etcd-client (3.4) and openssl are for the lab tests (a real
	# etcd, test certificates, etcdctl compaction).
	libhttp-parser-dev libssl-dev etcd-server etcd-client openssl
	# Tests: the Kubernetes manifests are parsed with PyYAML; the unit's hardening is scored by
	# systemd-analyze (a fresh container image has no systemd package).
	python3-yaml systemd
	# Man pages are built with scdoc; the docs test renders them with man (man-db) and loads the
	# bash and zsh completions.
	scdoc man-db zsh
	# make bench: the overlay's throughput against a hand-built VXLAN path; the bandwidth plot.
	iperf3 gnuplot-nox
	# shoald's /metrics and /healthz (HTTP server driven from the loop); the metrics test parses
	# the text with the Prometheus client's own parser.
	libmicrohttpd-dev python3-prometheus-client
	# Bandwidth per cgroup: the BPF object is compiled by clang (above) and stripped of DWARF by
	# llvm-strip (package llvm); shoald loads it with libbpf (dlopen'ed, libbpf1 comes with
	# libbpf-dev); the test checks with bpftool that nothing is left behind.
	llvm libbpf-dev bpftool
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
