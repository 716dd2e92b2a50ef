#!/bin/bash
# canctl's can-utils tools against a running cand, each beside its
# can-utils counterpart on the same bus:
#
#   tests/integ/tools.sh BUILDDIR
#
# Needs CAND_SOCKET (run-all.sh exports it) and root. The tests are in a
# file per tool: cli_candump.sh (dump's candump options), cli_play.sh
# (canplayer), cli_gen.sh (cangen), cli_sniff.sh (cansniffer, in tmux),
# cli_busload.sh (canbusload), with cli_lib.sh's and tools_lib.sh's
# helpers (tests/unit/options.sh checks --help, canctl(1) and completion
# on the host). CAND_TOOLS_ONLY="candump ..." narrows the run.
# The last line is "tools: N passed, N failed".
set -u

BUILD=${1:?usage: $0 BUILDDIR}
BUILD=$(cd "$BUILD" && pwd) || exit 2
CANCTL="$BUILD/canctl"
SOCK=${CAND_SOCKET:?CAND_SOCKET is not set}
T=$(mktemp -d /tmp/cand-tools.XXXXXX)
passed=0
failed=0
trap 'rm -rf "$T"' EXIT
HERE=$(cd "$(dirname "$0")" && pwd)
export CAND_SOCKET="$SOCK"

# shellcheck source=tests/integ/cli_lib.sh
. "$HERE/cli_lib.sh"
# shellcheck source=tests/integ/tools_lib.sh
. "$HERE/tools_lib.sh"
# shellcheck source=tests/integ/cli_candump.sh
. "$HERE/cli_candump.sh"
# shellcheck source=tests/integ/cli_play.sh
. "$HERE/cli_play.sh"
# shellcheck source=tests/integ/cli_gen.sh
. "$HERE/cli_gen.sh"
# shellcheck source=tests/integ/cli_sniff.sh
. "$HERE/cli_sniff.sh"
# shellcheck source=tests/integ/cli_busload.sh
. "$HERE/cli_busload.sh"

only=${CAND_TOOLS_ONLY:-candump play gen sniff busload}
for family in $only; do
	"cli_${family}_tests"
done

echo "tools: $passed passed, $failed failed"
[ "$failed" = 0 ]
