#!/usr/bin/env bash
# usage: tests/vm/run-daemon.sh BUILDDIR   (make run)
#
# Root on a host whose kernel has CAN: runs BUILDDIR/cand -f in the
# foreground, on the default socket /run/cand.sock, against the real host.
# Anywhere else: boots the test VM (see vm.sh), starts the daemon there,
# demonstrates canctl on vcan0 (tests/vm/daemon-demo.sh), and then gives you
# a shell in the VM if stdin is a terminal; otherwise it stops after the demo.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)

[ $# -eq 1 ] || { echo "usage: $0 BUILDDIR" >&2; exit 2; }
[ -d "$1" ] || { echo "run-daemon.sh: no build directory $1 (run make first)" >&2; exit 2; }
BUILD=$(cd "$1" && pwd -P)
for b in cand canctl; do
	[ -x "$BUILD/$b" ] || { echo "run-daemon.sh: $BUILD/$b not built" >&2; exit 2; }
done

if [ "${CAND_VM_MODE:-auto}" != vm ] && "$HERE/vm.sh" --check-native; then
	echo "run-daemon.sh: this host has CAN: running $BUILD/cand -f (socket /run/cand.sock); Ctrl-C stops it" >&2
	exec "$BUILD/cand" -f
fi

q() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }
cmd="sh tests/vm/daemon-demo.sh $(q "$BUILD")"
if [ -t 0 ] && [ -t 1 ]; then
	echo "run-daemon.sh: no CAN on this host (or not root): booting a VM with vcan0/vcan1/can0/can1," >&2
	echo "run-daemon.sh: starting the daemon there, a short canctl demo, then a shell in the VM." >&2
	# No timeout: the shell is yours for as long as you like.
	exec "$HERE/vm.sh" --vm -i -t 0 -b "$BUILD" -- "$cmd"
fi
echo "run-daemon.sh: no CAN on this host (or not root): booting a VM to start the daemon and show a" >&2
echo "run-daemon.sh: short canctl demo (stdin is not a terminal, so no shell afterwards)." >&2
exec "$HERE/vm.sh" --vm -b "$BUILD" -- "$cmd"
