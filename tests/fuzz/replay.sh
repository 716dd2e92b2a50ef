#!/bin/sh
# make check-fuzz: every input of every corpus through its target once,
# without fuzzing, so a crash once fixed stays fixed; and every file of
# the config corpus through the real `cand -n`, which must answer 0 or 1
# (never die of a signal) within seconds.
#
#   tests/fuzz/replay.sh FUZZBUILD CAND TARGET...
set -u

build=$1
cand=$2
shift 2
here=tests/fuzz
failed=0

for t in "$@"; do
	log=$build/fuzz-replay-$t.log
	if "$build/fuzz_$t" -runs=0 -timeout=60 "$here/corpus/$t" >"$log" 2>&1; then
		n=$(find "$here/corpus/$t" -type f | wc -l)
		cov=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" |
			sed -n 's/.* \(cov: [0-9]* ft: [0-9]*\).*/\1/p')
		echo "fuzz replay: $t: $n inputs, $cov"
	else
		echo "fuzz replay: $t FAILED; the end of $log:" >&2
		tail -n 40 "$log" >&2
		failed=1
	fi
done

n=0
bad=0
for f in "$here"/corpus/config/*; do
	timeout 10 "$cand" -n -c "$f" >/dev/null 2>&1
	rc=$?
	if [ "$rc" -gt 1 ]; then
		echo "fuzz replay: cand -n -c $f exited $rc" >&2
		bad=$((bad + 1))
	fi
	n=$((n + 1))
done
echo "fuzz replay: cand -n: $n files, $bad exited other than 0 or 1"
[ "$bad" = 0 ] || failed=1
exit "$failed"
