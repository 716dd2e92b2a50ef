#!/usr/bin/env bash
# usage: tests/vm/run-bench.sh BUILDDIR   (make bench)
#
# Runs BUILDDIR/bench_can, then bench/python/bench_python.py, where a real
# CAN stack exists (the test VM, or natively in namespaces as root on a host
# with CAN). BENCH_* variables such as BENCH_REPEAT reach them unchanged. A
# benchmark reports, it does not judge: exits 0 whatever they returned,
# non-zero only when the VM itself failed (no result at all).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)

[ $# -eq 1 ] || { echo "usage: $0 BUILDDIR" >&2; exit 2; }
[ -d "$1" ] || { echo "run-bench.sh: no build directory $1 (run make first)" >&2; exit 2; }
BUILD=$(cd "$1" && pwd -P)
[ -x "$BUILD/bench_can" ] || { echo "run-bench.sh: $BUILD/bench_can not built" >&2; exit 2; }

q() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }
# Inside, the command always ends with status 0, so any non-zero status
# from vm.sh is the VM's own failure (timeout 124, setup/boot 125).
bench=$(q "$BUILD/bench_can")
cmd="$bench; rc=\$?; [ \$rc = 0 ] || echo \"run-bench.sh: bench_can exited with status \$rc\" >&2"
# python-can through cand against its socketcan backend: rows into the same
# table and results.json.
pybench="/usr/bin/python3 $(q "$HERE/../../bench/python/bench_python.py") -b $(q "$BUILD")"
cmd="$cmd; $pybench; rc=\$?; [ \$rc = 0 ] || echo \"run-bench.sh: bench_python exited with status \$rc\" >&2; exit 0"
exec "$HERE/vm.sh" -b "$BUILD" -e BENCH_REPEAT -- "$cmd"
