#!/usr/bin/env bash
# usage: tests/vm/run-tests.sh BUILDDIR   (make check-vm, check-asan, valgrind)
#
# Runs the integration suite, tests/integ/run-all.sh BUILDDIR, where a real
# CAN stack exists: in the test VM, or natively in namespaces when we are root
# on a host with CAN (see vm.sh). Then, unless CAND_VM_SYSTEMD=0, the units
# under a real systemd: tests/integ/systemd.sh in a VM booted with systemd
# as PID 1 (vm.sh --systemd), with systemd_restart.sh after it; then,
# unless CAND_VM_SOAK=0, a one-minute soak (SOAK_SECONDS, tests/soak/soak.sh).
# With CAND_VM_DEB=DIR (make check: make deb's
# output) also the Debian packages, tests/deb/run.sh DIR. The last line
# sums them all: "N passed, N failed", after the failures of every part
# named again; the exit status is non-zero if any part failed.
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

OUT=$(mktemp "${TMPDIR:-/tmp}/cand-run-tests.XXXXXX")
FAILS=$(mktemp "${TMPDIR:-/tmp}/cand-run-tests-fails.XXXXXX")
trap 'rm -f "$OUT" "$FAILS"' EXIT

# counts FILE PATTERN: "passed failed" summed over the summary lines (one
# per script the part runs), or "".
counts() {
	# A tty that systemd set up ends lines in CR LF.
	tr -d '\r' <"$1" | grep -E "$2" | tr -cs '0-9\n' ' ' |
		awk '{ p += $1; f += $2; n++ } END { if (n) print p, f }'
}

# part NAME PATTERN CMD...: runs CMD, whose output ends in a summary line
# matching PATTERN, and adds its counts to the totals; no summary or a
# failed CMD with none failing counts as one failure.
passed=0
failed=0
part() {
	local name=$1 pattern=$2 rc p f
	shift 2
	set +e
	"$@" 2>&1 | tee "$OUT"
	rc=${PIPESTATUS[0]}
	set -e
	read -r p f <<<"$(counts "$OUT" "$pattern")" || true
	# CI keeps only the tail of a long run: the failures are named again last.
	tr -d '\r' <"$OUT" | grep -E '^FAIL: |:[FE]:[^:]+:[^:]+:[0-9]+: ' |
		sed "s/^/  $name: /" | cut -c1-300 >>"$FAILS" || true
	if [ -z "${p:-}" ]; then
		echo "run-tests.sh: the $name tests ended without a summary (status $rc)" |
			tee -a "$FAILS"
		p=0 f=1
	elif [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
}

part integration '^[0-9]+ passed, [0-9]+ failed$' \
	"$HERE/vm.sh" -b "$BUILD" -e CAND_DAEMON_WRAPPER -- "$cmd"
if [ "${CAND_VM_SYSTEMD:-1}" != 0 ]; then
	echo "==== systemd.sh (systemd as PID 1) ===="
	# systemd_restart.sh uses the units systemd.sh installed.
	part systemd '^systemd(-restart)?: [0-9]+ passed, [0-9]+ failed$' \
		"$HERE/vm.sh" --systemd -t "${CAND_VM_SYSTEMD_TIMEOUT:-1200}" -b "$BUILD" -- \
		"bash tests/integ/systemd.sh $(q "$BUILD"); s=\$?;" \
		"bash tests/integ/systemd_restart.sh $(q "$BUILD") || s=1; exit \$s"
fi
if [ "${CAND_VM_SOAK:-1}" != 0 ]; then
	echo "==== soak (${SOAK_SECONDS:-60} s) ===="
	part soak '^soak: [0-9]+ passed, [0-9]+ failed$' \
		env SOAK_SECONDS="${SOAK_SECONDS:-60}" "$HERE/run-soak.sh" "$BUILD"
fi
if [ -n "${CAND_VM_DEB:-}" ]; then
	echo "==== tests/deb (the Debian packages, systemd as PID 1) ===="
	part deb '^deb: [0-9]+ passed, [0-9]+ failed$' "$REPO/tests/deb/run.sh" "$CAND_VM_DEB"
fi
if [ -s "$FAILS" ]; then
	echo "==== what failed ===="
	cat "$FAILS"
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
