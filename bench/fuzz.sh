#!/bin/sh
# fuzz.sh [--time SECONDS] [HARNESS...]: how fast each fuzzing harness runs and how much
# of shade it reaches, so coverage can be tracked from commit to commit. Runs every
# harness (tests/fuzz/fuzz_*.c, or those named) under libFuzzer with ASan+UBSan for a set
# time (default 60 s), one at a time and each from an empty scratch corpus plus the seeds
# (scripts/fuzz.sh --fresh --jobs 1), and reports executions, executions per second,
# libFuzzer's coverage (cov: edges of shade's code reached, ft: features, which also count
# edge hit-count buckets and value profiles), the corpus it grew and any crash.
# Output: a table on stdout and bench/results/fuzz.csv (with a date and commit column).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$here/..
B=${FUZZ_BUILD:-build-fuzz-clang}
case $B in /*) logs=$B/logs ;; *) logs=$root/$B/logs ;; esac
time=60
if [ "${1:-}" = "--time" ]; then
	[ $# -ge 2 ] || { echo "bench/fuzz.sh: --time needs a value" >&2; exit 2; }
	time=$2
	shift 2
fi
out=$here/results
mkdir -p "$out"
csv=$out/fuzz.csv

sh "$root/scripts/fuzz.sh" --fresh --jobs 1 --time "$time" "$@" >"$out/fuzz-run.txt" 2>&1
status=$?
[ $status -eq 2 ] && { cat "$out/fuzz-run.txt" >&2; exit 2; }

commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
date=$(date -u +%Y-%m-%dT%H:%MZ)
[ -f "$csv" ] || echo "date,commit,harness,seconds,execs,execs_per_s,cov_edges,ft_features,corpus_units,crashes" >"$csv"
printf '%-12s %8s %10s %8s %8s %8s %8s %8s\n' harness seconds execs exec/s cov ft corpus crashes
if [ $# -eq 0 ]; then
	set --
	for f in "$root"/tests/fuzz/fuzz_*.c; do
		n=${f##*/fuzz_}
		set -- "$@" "${n%.c}"
	done
fi
for n in "$@"; do
	log=$logs/$n.log
	# libFuzzer's last status line ("#N DONE cov: C ft: F corp: U/S ...", as scripts/fuzz.sh
	# repeats it) and final stats; a harness that did not run this time is left out.
	last=$(grep "^fuzz.sh: $n: #" "$out/fuzz-run.txt" | tail -n 1)
	if [ -z "$last" ]; then
		printf '%-12s did not run: %s\n' "$n" "$(grep "^fuzz.sh: $n:" "$out/fuzz-run.txt" | head -n 1)"
		continue
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p')
	crashes=$(grep -c "CRASH kept in .*/crashes/$n/" "$out/fuzz-run.txt")
	printf '%-12s %8s %10s %8s %8s %8s %8s %8s\n' "$n" "$time" "${execs:-?}" "${rate:-?}" \
		"${cov:-?}" "${ft:-?}" "${corp:-?}" "$crashes"
	echo "$date,$commit,$n,$time,${execs:-},${rate:-},${cov:-},${ft:-},${corp:-},$crashes" >>"$csv"
done
echo "(libFuzzer logs: $B/logs/NAME.log; CSV: bench/results/fuzz.csv)"
exit $status
