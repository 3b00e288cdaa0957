#!/bin/sh
# run-wss-overhead.sh [BUILD_DIR]: what working-set sampling costs a busy guest. One VM
# of VMMEM MiB runs memtouch over WS MiB for SECS s (user code at native speed, so any
# fault shade adds is visible), with the sampler
#   off:  one page per hour (--wss-pages 1 --wss-ms 3600000);
#   esx:  ESX's default, 100 pages per 30 s;
#   fast: 1000 pages per 100 ms, 300 000 times ESX's rate;
# and for each the memtouch throughput over the touch phase (pages/s), the hidden
# faults (shadow refills the guest never sees) and exits, the slowdown against "off",
# and the cost per sampled page (extra wall time / pages sampled). In one run, so the
# ratios compare. Output: a summary and bench/results/wss-overhead.csv.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
shade=$build/shade
os=$build/guest-images/os
out=$here/results
mkdir -p "$out"
VMMEM=${VMMEM:-64} WS=${WS:-32} SECS=${SECS:-20}
[ -x "$shade" ] && [ -r "$os/kernel.elf" ] || { echo "run-wss-overhead: build first" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
csv=$out/wss-overhead.csv
echo "mode,wss_pages,wss_ms,pages_per_s,slowdown,sampled_pages,hidden_faults,exits,us_per_sampled_page" >"$csv"
base=
for spec in off:1:3600000 esx:100:30000 fast:1000:100; do
	mode=${spec%%:*} rest=${spec#*:}
	np=${rest%%:*} ms=${rest#*:}
	d=$tmp/$mode
	mkdir -p "$d"
	"$shade" host --quiet --log-dir "$d" --share-rate 0 --swap-dir "$d" --stats \
		--wss-pages "$np" --wss-ms "$ms" \
		--vm b --mem ${VMMEM}M --kernel "$os/kernel.elf" --module "$os/initrd.tar" \
		--cmdline "-- memtouch $WS time=$SECS" 2>"$d/err" >/dev/null
	st() { awk -v k="$1" '$1 == k { print $2 }' "$d/err"; }
	# the end line: "touched N pages of a W-page working set in T ms"
	rate=$(sed -n 's/^memtouch: progress end: touched \([0-9]*\) pages .* in \([0-9]*\) ms$/\1 \2/p' "$d/b.log" |
		awk '{ if ($2 > 0) printf "%.0f", $1 * 1000 / $2 }')
	sp=$(st b.mem.sampled_pages) hf=$(st b.vcpu0.hidden_faults) ex=$(st b.vcpu0.exits.total)
	[ -z "$base" ] && base=$rate
	slow=$(awk -v b="$base" -v r="$rate" 'BEGIN { if (r > 0) printf "%.4f", b / r; else print "n/a" }')
	# extra time for the same work, per sampled page
	per=$(awk -v b="$base" -v r="$rate" -v s="$SECS" -v n="${sp:-0}" 'BEGIN {
		if (n > 0 && r > 0) printf "%.1f", (s * 1e6 * (b / r - 1)) / n; else print "n/a" }')
	echo "$mode,$np,$ms,${rate:-0},$slow,${sp:-0},${hf:-0},${ex:-0},$per" >>"$csv"
	echo "$mode ($np pages per $ms ms): ${rate:-?} pages/s, slowdown ${slow}x vs off, ${sp:-0} pages sampled, ${hf:-0} hidden faults, ${ex:-0} exits, ${per} us per sampled page"
done
echo "(CSV: $csv)"
