#!/bin/sh
# make fuzz: each target for FUZZ_SECONDS (or FUZZ_RUNS inputs) from its
# corpus in the repository. What it adds goes to BUILD/fuzz-work/TARGET/
# (corpus/, crashes/, log), never into the repository: `make fuzz-merge`
# folds the new inputs in when they are worth keeping. Prints a line per
# target: execs, libFuzzer's coverage (cov: edges, ft: features), crashes.
#
#   tests/fuzz/run.sh BUILD TARGET...
set -u

build=$1
shift
secs=${FUZZ_SECONDS:-60}
runs=${FUZZ_RUNS:-}
here=tests/fuzz
failed=0

# A freed block waits in ASan's quarantine to catch a use after free: the
# default 256 MiB means every allocation touches fresh pages, which made
# the conn target a third slower; 16 MiB is still far more than one input
# allocates. A caller's ASAN_OPTIONS win.
export ASAN_OPTIONS="${ASAN_OPTIONS:-quarantine_size_mb=16}"
if [ -n "$runs" ]; then
	limit="-runs=$runs"
else
	limit="-max_total_time=$secs"
fi
printf '%-8s %12s %7s %7s %8s\n' target execs cov ft crashes
for t in "$@"; do
	work=$build/fuzz-work/$t
	mkdir -p "$work/corpus" "$work/crashes"
	dict=
	[ -f "$here/dict/$t.dict" ] && dict="-dict=$here/dict/$t.dict"
	# One input taking 10 s is a hang, and a crash like any other.
	# shellcheck disable=SC2086
	"$build/fuzz_$t" $limit $dict -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$work/crashes/" "$work/corpus" \
		"$here/corpus/$t" >"$work/log" 2>&1
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
	last=$(grep -E '^#[0-9]+[[:space:]]' "$work/log" | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	crashes=$(find "$work/crashes" -type f | wc -l)
	printf '%-8s %12s %7s %7s %8s\n' "$t" "${execs:-?}" "${cov:-?}" \
		"${ft:-?}" "$crashes"
	if [ "$crashes" -gt 0 ]; then
		find "$work/crashes" -type f | sed 's/^/  /'
		failed=1
	fi
done
[ "$failed" = 0 ] || echo "fuzz: crashes; see tests/fuzz/README.md to reproduce" >&2
exit "$failed"
