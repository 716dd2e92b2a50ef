#!/usr/bin/env bash
# usage: tests/vm/run-soak.sh BUILDDIR [MINUTES]   (make soak; SOAK_SECONDS
# overrides MINUTES, as make check's one-minute run does)
#
# tests/soak/soak.sh BUILDDIR in the test VM: one daemon under load and
# churn, its table and its verdict, "soak: N passed, N failed" last.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
[ $# -ge 1 ] || { echo "usage: $0 BUILDDIR [MINUTES]" >&2; exit 2; }
BUILD=$(cd "$1" && pwd -P)
export SOAK_MINUTES=${2:-${SOAK_MINUTES:-10}}
secs=${SOAK_SECONDS:-$((SOAK_MINUTES * 60))}
export SOAK_SECONDS=$secs
exec "$HERE/vm.sh" -b "$BUILD" -t $((secs + 900)) -e SOAK_SECONDS -e SOAK_MINUTES -- \
	"bash tests/soak/soak.sh '$BUILD'"
