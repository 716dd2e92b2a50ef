#!/usr/bin/env bash
# usage: tests/vm/run-tests.sh BUILDDIR   (make check-vm, check-asan, valgrind)
#
# Runs the integration suite, tests/integ/run-all.sh BUILDDIR, where a real
# CAN stack exists: in the test VM, or natively in namespaces when we are root
# on a host with CAN (see vm.sh). Exits with the suite's status.
# CAND_DAEMON_WRAPPER (e.g. "valgrind --error-exitcode=99 ...") and the
# other CAND_*, CK_* variables reach the suite unchanged.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)

[ $# -eq 1 ] || { echo "usage: $0 BUILDDIR" >&2; exit 2; }
[ -d "$1" ] || { echo "run-tests.sh: no build directory $1 (run make first)" >&2; exit 2; }
BUILD=$(cd "$1" && pwd -P)

# Not a silent pass: without the suite there is nothing to show for the run.
if [ ! -f "$REPO/tests/integ/run-all.sh" ]; then
	echo "run-tests.sh: tests/integ/run-all.sh is missing: no integration suite to run" >&2
	exit 1
fi

q() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }
if [ -x "$REPO/tests/integ/run-all.sh" ]; then
	cmd="tests/integ/run-all.sh $(q "$BUILD")"
else
	cmd="bash tests/integ/run-all.sh $(q "$BUILD")"
fi

exec "$HERE/vm.sh" -b "$BUILD" -e CAND_DAEMON_WRAPPER -- "$cmd"
