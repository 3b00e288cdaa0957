#!/bin/sh
# fuzz.sh: libFuzzer campaigns against shade's harnesses (tests/fuzz/fuzz_*.c), with
# AddressSanitizer and UndefinedBehaviorSanitizer. Configures a clang build with
# SHADE_FUZZ=ON (in build-fuzz-clang, or $FUZZ_BUILD), builds the harnesses and runs each
# for the set time from its seeds (tests/fuzz/corpus/NAME and the generated ones) into a
# scratch corpus outside the tree (BUILD/corpus/NAME, kept between runs unless --fresh).
# A crash is kept in BUILD/crashes/NAME/ and a line to reproduce it is printed; copy it to
# tests/fuzz/corpus/NAME/ with the fix to make ctest's replay a regression test.
#
#   sh scripts/fuzz.sh [--time SECONDS] [--jobs N] [--fresh] [HARNESS...]
#     --time   seconds per harness (default 300)
#     --jobs   harnesses run at once (default: the number of CPUs)
#     --fresh  start each scratch corpus empty (what bench/fuzz.sh uses)
#     HARNESS  names such as loader, virtqueue (default: every tests/fuzz/fuzz_*.c)
# Each run's libFuzzer output is in BUILD/logs/NAME.log. Exit status: 0 when no harness
# crashed, 1 when one did or did not build, 2 for bad usage or no harness built.
set -eu
cd "$(dirname "$0")/.."
B=${FUZZ_BUILD:-build-fuzz-clang}
time=300
jobs=$(nproc)
fresh=0

usage() {
	echo "fuzz.sh: $1 (usage: fuzz.sh [--time SECONDS] [--jobs N] [--fresh] [HARNESS...])" >&2
	exit 2
}
number() {
	case "$2" in '' | *[!0-9]*) usage "$1 needs a positive number" ;; esac
	[ "$2" -gt 0 ] || usage "$1 needs a positive number"
}
while [ $# -gt 0 ]; do
	case "$1" in
	--time) [ $# -ge 2 ] || usage "--time needs a value"; number --time "$2"; time=$2; shift 2 ;;
	--jobs) [ $# -ge 2 ] || usage "--jobs needs a value"; number --jobs "$2"; jobs=$2; shift 2 ;;
	--fresh) fresh=1; shift ;;
	-*) usage "unknown option $1" ;;
	*) break ;;
	esac
done
names=""
if [ $# -eq 0 ]; then
	for f in tests/fuzz/fuzz_*.c; do
		n=${f#tests/fuzz/fuzz_}
		names="$names ${n%.c}"
	done
else
	for n in "$@"; do
		[ -f "tests/fuzz/fuzz_$n.c" ] || usage "no harness $n (tests/fuzz/fuzz_$n.c)"
		names="$names $n"
	done
fi

command -v clang >/dev/null || { echo "fuzz.sh: clang is missing (sh scripts/install-deps.sh)" >&2; exit 2; }
# Warnings are not errors here: clang warns where gcc (the normal build) does not. A
# harness that does not build is skipped, saying so, and the others still run.
mkdir -p "$B/logs"
CC=clang cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHADE_FUZZ=ON \
	-DSHADE_WERROR=OFF >"$B/logs/build.log" 2>&1 || {
	tail -n 20 "$B/logs/build.log" >&2
	echo "fuzz.sh: cannot configure the clang build (all of it in $B/logs/build.log)" >&2
	exit 2
}
built="" skipped=0
for n in $names; do
	if cmake --build "$B" -j"$(nproc)" --target "fuzz_$n" >>"$B/logs/build.log" 2>&1; then
		built="$built $n"
	else
		echo "fuzz.sh: $n: does not build, skipped (see $B/logs/build.log)" >&2
		skipped=1
	fi
done
[ -n "$built" ] || exit 2
names=$built

# run NAME: one campaign; prints one summary line.
run() {
	n=$1
	corpus="$B/corpus/$n" crashes="$B/crashes/$n"
	[ "$fresh" = 1 ] && rm -rf "$corpus"
	mkdir -p "$corpus" "$crashes"
	touch "$crashes/.start"
	seeds=""
	for d in "tests/fuzz/corpus/$n" "$B/tests/fuzz/seeds/$n"; do
		[ -d "$d" ] && seeds="$seeds $d"
	done
	# shellcheck disable=SC2086
	"$B/tests/fuzz/fuzz_$n" -max_total_time="$time" -timeout=20 -max_len=16384 \
		-use_value_profile=1 -print_final_stats=1 -artifact_prefix="$crashes/" \
		"$corpus" $seeds >"$B/logs/$n.log" 2>&1 || true
	last=$(grep -E '^#[0-9]+.*cov:' "$B/logs/$n.log" | tail -n 1)
	echo "fuzz.sh: $n: ${last:-no status line, see $B/logs/$n.log}"
	for c in $(find "$crashes" -type f -newer "$crashes/.start" ! -name .start); do
		echo "fuzz.sh: $n: CRASH kept in $c; reproduce: $B/tests/fuzz/fuzz_$n $c" \
			"(or, with the normal build: build/tests/fuzz/fuzz_$n $c)"
	done
}

running=0
for n in $names; do
	run "$n" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait
		running=0
	fi
done
wait

# Crashes of this run only (those of earlier runs stay in BUILD/crashes until removed).
for n in $names; do
	[ -z "$(find "$B/crashes/$n" -type f -newer "$B/crashes/$n/.start" ! -name .start)" ] || exit 1
done
exit $skipped
