#!/bin/bash
# canctl against a running cand, with can-utils as the peers:
#
#   tests/integ/cli.sh BUILDDIR
#
# Needs CAND_SOCKET (run-all.sh exports it) and root. Every
# test is a function t_*; the last line is "cli: N passed, N failed".
# The tests are in a file per canctl family: cli_frames.sh (list, send,
# dump), cli_bcm.sh (periodic, monitor) and cli_health.sh (state, set,
# restart, events), their helpers in cli_lib.sh.
set -u

BUILD=${1:?usage: $0 BUILDDIR}
CANCTL="$BUILD/canctl"
SOCK=${CAND_SOCKET:?CAND_SOCKET is not set}
T=$(mktemp -d /tmp/cand-cli.XXXXXX)
passed=0
failed=0
trap 'rm -rf "$T"' EXIT
HERE=$(cd "$(dirname "$0")" && pwd)

# shellcheck source=tests/integ/cli_lib.sh
. "$HERE/cli_lib.sh"
# shellcheck source=tests/integ/cli_frames.sh
. "$HERE/cli_frames.sh"
# shellcheck source=tests/integ/cli_bcm.sh
. "$HERE/cli_bcm.sh"
# shellcheck source=tests/integ/cli_health.sh
. "$HERE/cli_health.sh"

cli_frames_tests
cli_bcm_tests
cli_health_tests
restore_controllers

echo "cli: $passed passed, $failed failed"
[ "$failed" = 0 ]
