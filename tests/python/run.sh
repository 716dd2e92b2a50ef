#!/bin/bash
# The python-can-cand tests (tests/python/test_*.py), in the VM against the
# daemon run-all.sh started:
#
#   tests/python/run.sh BUILDDIR
#
# Needs root and CAND_SOCKET. The "user" group runs as candtest (uid 4242,
# group can), as a python-can user would; the "root" group as root (daemons
# of its own, links, configure). Debian's /usr/bin/python3 and python3-can,
# the package from BUILDDIR/python. Last line: "python: N passed, N failed".
set -u

BUILD=${1:?usage: $0 BUILDDIR}
BUILD=$(cd "$BUILD" && pwd) || exit 2
HERE=$(cd "$(dirname "$0")" && pwd)
: "${CAND_SOCKET:?CAND_SOCKET is not set}"
export BUILDDIR="$BUILD" PYTHONPATH="$BUILD/python" PYTHONDONTWRITEBYTECODE=1
# python-can 4.1 itself warns about importlib.metadata on Python 3.11.
export PYTHONWARNINGS="ignore::DeprecationWarning"
# A sanitized libcand (make check-asan) wants its runtimes loaded before
# anything else, and python is not built with them. Python's own memory is
# not ours to check for leaks.
SAN=$(ldd "$BUILD/libcand.so" 2>/dev/null | awk '/lib(asan|ubsan)\.so/ {printf "%s ", $3}')
if [ -n "$SAN" ]; then
	export LD_PRELOAD="$SAN" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
fi
OUT=$(mktemp /tmp/cand-python.XXXXXX)
trap 'rm -f "$OUT"' EXIT
passed=0
failed=0

group() {
	local name=$1 p f
	shift
	echo "==== python ($name) ===="
	"$@" /usr/bin/python3 "$HERE/run.py" "$name" 2>&1 | tee "$OUT"
	read -r p f <<<"$(grep -E "^python-$name: [0-9]+ passed, [0-9]+ failed$" "$OUT" |
		tail -n 1 | tr -cs '0-9' ' ')"
	if [ -z "${p:-}" ]; then
		echo "FAIL: python:$name ended without a summary"
		p=0 f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
}

group user setpriv --reuid=candtest --regid=candtest --init-groups env HOME=/tmp/home/candtest
group root env
echo "python: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
