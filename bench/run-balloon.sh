#!/bin/sh
# run-balloon.sh [BUILD_DIR]: ballooning the bundled OS on this machine, in one run.
#  1. Reclaim speed: a VM of 4*MIB MiB touches MIB MiB (memtouch; the pages go back to its
#     free list, backed), then `shade ctl ... balloon` asks it to give MIB MiB back;
#     time from the request until the host's resident memory stopped falling and the
#     guest reports the target reached, as MiB/s, with KVM exits per 256-page inflate
#     batch (the exits counted during the inflation / (pages / 256)).
#  2. The ESX balloon-overhead experiment: the same workload (verify over W MiB, two
#     passes) in a VM configured with M MiB and in a VM of 2M MiB ballooned down to M
#     from boot (--balloon M); the ratio of their times.
# Output: a summary on stdout and bench/results/balloon.csv.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
shade=$build/shade
os=$build/guest-images/os
out=$here/results
mkdir -p "$out"
MIB=${MIB:-64}
M=${M:-96}
W=${W:-32}
VMMEM=${VMMEM:-$((MIB * 4))}
[ -x "$shade" ] && [ -r "$os/kernel.elf" ] || { echo "run-balloon: build first" >&2; exit 2; }
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
pages=$((MIB * 256))
ms() { date +%s%3N; }
wait_log() { i=0; while ! grep -q -- "$1" "$tmp/b.log" 2>/dev/null; do i=$((i + 1)); [ $i -gt 3000 ] && return 1; sleep 0.1; done; }
last() { awk -v f="$1" '$1 == "sample" { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == f) v = kv[2] } } END { print v }' "$tmp/err"; }

"$shade" host --quiet --ctl "$tmp/ctl" --sample-ms 100 --share-rate 0 --log-dir "$tmp" --stats \
	--vm b --mem ${VMMEM}M --kernel "$os/kernel.elf" --module "$os/initrd.tar" \
	--cmdline "-- memtouch $MIB fill=seed:9; balloon wait $pages 600; verify 16 passes=1" \
	</dev/null 2>"$tmp/err" &
pid=$!
wait_log "^\$ balloon wait" || { echo "run-balloon: the guest did not get to the balloon step" >&2; exit 1; }
sleep 1
r0=$(last resident_bytes) e0=$(last exits) t0=$(ms)
"$shade" ctl "$tmp/ctl" b balloon $((VMMEM - MIB))M >/dev/null
wait_log "^balloon: target $pages pages, actual $pages pages"
t1=$(ms)
sleep 0.3
r1=$(last resident_bytes) e1=$(last exits)
wait $pid; pid=
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1000 }')
freed=$(awk -v a="$r0" -v b="$r1" 'BEGIN { printf "%.1f", (a - b) / 1048576 }')
rate=$(awk -v f="$freed" -v s="$secs" 'BEGIN { if (s > 0) printf "%.1f", f / s; else print "n/a" }')
epb=$(awk -v a="$e0" -v b="$e1" -v p="$pages" 'BEGIN { printf "%.1f", (b - a) / (p / 256) }')
echo "reclaim: $MIB MiB asked, $freed MiB of host memory released in $secs s: $rate MiB/s; $epb exits per 256-page batch"

# 2. balloon overhead
work="verify $W passes=2"
run_vm() { # MEM [BALLOON]
	"$shade" run --mem "$1" ${2:+--balloon "$2"} --module "$os/initrd.tar" \
		--cmdline "-- balloon wait ${3:-0} 300; $work" "$os/kernel.elf" </dev/null 2>/dev/null |
		tr -d '\r' | sed -n 's/^verify: .*, \([0-9]*\) ms$/\1/p'
}
a=$(run_vm ${M}M)
b=$(run_vm $((2 * M))M ${M}M $((M * 256)))
ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { if (a && b) printf "%.3f", b / a; else print "n/a" }')
echo "balloon overhead: '$work' in a ${M} MiB VM: ${a:-?} ms; in a $((2 * M)) MiB VM ballooned to ${M} MiB: ${b:-?} ms; ratio $ratio"
echo "reclaim_mib,seconds,mib_per_s,exits_per_batch,overhead_plain_ms,overhead_ballooned_ms,overhead_ratio" >"$out/balloon.csv"
echo "$freed,$secs,$rate,$epb,${a:-},${b:-},$ratio" >>"$out/balloon.csv"
echo "(CSV: $out/balloon.csv)"
