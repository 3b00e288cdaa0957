#!/bin/sh
# run-wss-overhead.sh [BUILD_DIR]: what working-set sampling costs a busy guest. One VM
# of VMMEM MiB runs memtouch over WS MiB for SECS s (user code at native speed, so any
# fault shade adds is visible), with the sampler
#   off:  one page per hour (--wss-pages 1 --wss-ms 3600000);
#   esx:  ESX's default, 100 pages per 30 s;
#   fast: 1000 pages per 100 ms, 300 000 times ESX's rate;
# and for each the memtouch throughput over the touch phase (pages/s), the hidden
# faults (shadow refills the guest never sees) and exits, the slowdown against "off",
# and the cost per sampled page (extra wall time / pages sampled). "off" runs first and
# last: the two give the run-to-run noise, and their mean the base. A run of SECS s
# ends before ESX's first 30 s period does, so the ESX default's cost is computed from
# the per-page cost of "fast". In one run, so the ratios compare. Output: a summary and
# bench/results/wss-overhead.csv.
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
run() { # MODE PAGES MS -> $rate $sp $hf $ex
	d=$tmp/$1
	mkdir -p "$d"
	"$shade" host --quiet --log-dir "$d" --share-rate 0 --swap-dir "$d" --stats \
		--wss-pages "$2" --wss-ms "$3" \
		--vm b --mem ${VMMEM}M --kernel "$os/kernel.elf" --module "$os/initrd.tar" \
		--cmdline "-- memtouch $WS time=$SECS" 2>"$d/err" >/dev/null
	st() { awk -v k="$1" '$1 == k { print $2 }' "$d/err"; }
	# the end line: "touched N pages of a W-page working set in T ms"
	rate=$(sed -n 's/^memtouch: progress end: touched \([0-9]*\) pages .* in \([0-9]*\) ms$/\1 \2/p' "$d/b.log" |
		awk '{ if ($2 > 0) printf "%.0f", $1 * 1000 / $2 }')
	rate=${rate:-0} sp=$(st b.mem.sampled_pages) hf=$(st b.vcpu0.hidden_faults) ex=$(st b.vcpu0.exits.total)
}
run off 1 3600000; off1=$rate
run esx 100 30000; esx="$rate ${sp:-0} ${hf:-0} ${ex:-0}"
run fast 1000 100; fast="$rate ${sp:-0} ${hf:-0} ${ex:-0}"
run off2 1 3600000; off2=$rate
base=$(awk -v a="$off1" -v b="$off2" 'BEGIN { printf "%.0f", (a + b) / 2 }')
noise=$(awk -v a="$off1" -v b="$off2" 'BEGIN { d = a - b; if (d < 0) d = -d; printf "%.1f", 100 * d / ((a + b) / 2) }')
echo "off: $off1 and $off2 pages/s (run-to-run difference $noise %)"
echo "off,1,3600000,$base,1.0000,0,,,," >>"$csv"
per=
for spec in "esx 100 30000 $esx" "fast 1000 100 $fast"; do
	set -- $spec
	slow=$(awk -v b="$base" -v r="$4" 'BEGIN { if (r > 0) printf "%.4f", b / r; else print "n/a" }')
	p=$(awk -v b="$base" -v r="$4" -v s="$SECS" -v n="$5" 'BEGIN {
		if (n > 0 && r > 0) printf "%.1f", (s * 1e6 * (b / r - 1)) / n; else print "n/a" }')
	[ "$1" = fast ] && per=$p
	echo "$1,$2,$3,$4,$slow,$5,$6,$7,$p" >>"$csv"
	echo "$1 ($2 pages per $3 ms): $4 pages/s, ${slow}x the time of off, $5 pages sampled, $6 hidden faults, $7 exits, $p us per sampled page"
done
echo "ESX default from fast's per-page cost: 100 pages x $per us per 30 s = $(awk -v p="$per" 'BEGIN { printf "%.4f", 100 * 100 * p / 30e6 }') % of run time"
echo "(CSV: $csv)"
