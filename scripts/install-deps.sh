#!/bin/sh
# install-deps.sh: install, from Debian's packages, everything shade needs to build, test
# and benchmark. Idempotent: installs only what is missing. Run as root (or via sudo).
set -eu

PKGS="build-essential cmake pkg-config gcc-multilib nasm
libcapstone-dev libunicorn-dev check libsubunit-dev libvirt-dev libxml2-dev libxxhash-dev
libjson-c-dev
clang libclang-rt-14-dev
qemu-system-x86 gnuplot-nox valgrind python3"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "install-deps: installing:$missing"
$SUDO apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
