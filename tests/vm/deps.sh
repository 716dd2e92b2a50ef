#!/bin/sh
# Installs the Debian 12 packages that building cand and running its tests
# need, including what tests/vm/vm.sh needs to boot a CAN-capable VM.
# Idempotent and quiet when everything is there already (make check calls it
# every time); otherwise apt-get update + install, through sudo when not root.
# CAND_SKIP_DEPS=1 skips it (e.g. on a non-Debian host set up by hand).
set -eu

[ "${CAND_SKIP_DEPS:-0}" = 1 ] && exit 0

# build:   compiler, pkg-config and the libraries the Makefile links
# vm:      qemu, a stock kernel with CAN modules, a static busybox for the
#          initramfs, cpio/gzip to pack it, kmod (modprobe --show-depends)
# guest:   iproute2 (ip link ... type can), can-utils (candump/cansend),
#          python3-can (Debian's python-can 4.1: tests/python, the bench),
#          util-linux (setsid, setpriv, unshare), coreutils (timeout),
#          procps (ps/pkill in tests), valgrind (make valgrind),
#          systemd (PID 1 of the systemd test, systemd-analyze,
#          systemd-sysusers), man-db (man page checks), tmux (a
#          terminal for canctl sniff)
# host:    bash-completion (tests/unit/options.sh runs canctl's)
# deb:     debhelper, dh-python and lintian (make deb: debian/control's
#          Build-Depends are the build line above plus these and python3)
# fuzz:    clang-14 and its libFuzzer/sanitizer runtimes (tests/fuzz)
PACKAGES="
build-essential pkg-config clang-14 libclang-rt-14-dev
libevent-dev libprotobuf-c-dev protobuf-c-compiler libsocketcan-dev
libsystemd-dev check libinih-dev
qemu-system-x86 linux-image-amd64 busybox-static cpio gzip kmod
iproute2 can-utils util-linux coreutils procps valgrind systemd man-db python3-can
tmux bash-completion
debhelper dh-python lintian
"

missing=
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
	echo "deps.sh: missing packages:$missing" >&2
	echo "deps.sh: no apt-get here; install the equivalents by hand, then set CAND_SKIP_DEPS=1" >&2
	exit 1
fi

if [ "$(id -u)" = 0 ]; then
	sudo=
elif command -v sudo >/dev/null 2>&1; then
	sudo=sudo
else
	echo "deps.sh: missing packages:$missing" >&2
	echo "deps.sh: not root and no sudo: install them as root (apt-get install$missing)" >&2
	exit 1
fi

echo "deps.sh: installing:$missing" >&2
# shellcheck disable=SC2086
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
# shellcheck disable=SC2086
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -q -y --no-install-recommends $missing
