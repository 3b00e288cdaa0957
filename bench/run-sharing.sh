#!/bin/sh
# run-sharing.sh [BUILD_DIR]: the ESX page-sharing experiment on this machine, in one
# run: 1, 2, 4 and 8 VMs of the bundled guest OS (the same image, each running
# `memtouch MIB fill=same` and then idling) in one shade host with sharing on. Every
# second the host samples machine memory in use and really resident (memfd blocks);
# the output is that time series as CSV and a gnuplot plot of the saving over time,
# the final saving as a fraction of guest memory touched, the scanner's CPU time per GiB
# scanned, the VMM's CPU time per copy-on-write break (each break is one write-fault
# exit: the guest's write to a shared page; the memtouch process's exit frees and the
# OS zeroes its pages, breaking them), and the guest slowdown of a CPU-bound run
# (compute) with sharing on vs off.
# Output: bench/results/sharing.csv, sharing-summary.csv, sharing.png (if gnuplot).
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
shade=$build/shade
os=$build/guest-images/os
out=$here/results
mkdir -p "$out"
MIB=${MIB:-8}
IDLE=${IDLE:-15}
RATE=${RATE:-4000}
VMS=${VMS:-"1 2 4 8"}
[ -x "$shade" ] && [ -r "$os/kernel.elf" ] || { echo "run-sharing: build first" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
csv=$out/sharing.csv sum=$out/sharing-summary.csv
echo "vms,t_s,pool_used_mib,resident_mib,saved_mib,pages_sharing" >"$csv"
echo "vms,guest_touched_mib,peak_saved_mib,saved_fraction,seconds_to_90pct,scanned_gib,scan_cpu_s,cpu_s_per_gib,cow_breaks,cow_vmm_us" >"$sum"
for n in $VMS; do
	"$shade" host --quiet --log-dir "$tmp/logs$n" --stats --sample-ms 1000 --share-rate "$RATE" \
		--vm os --clones "$n" --mem 128M --kernel "$os/kernel.elf" --module "$os/initrd.tar" \
		--cmdline "-- memtouch $MIB fill=same idle time=$IDLE" </dev/null >/dev/null 2>"$tmp/err$n"
	awk -v n="$n" '$1 == "sample" { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		printf "%d,%.1f,%.2f,%.2f,%.2f,%d\n", n, v["t_ms"] / 1000, v["pool_used"] * 4096 / 1048576,
			v["resident_bytes"] / 1048576, v["pages_sharing"] * 4096 / 1048576, v["pages_sharing"] }' \
		"$tmp/err$n" >>"$csv"
	# Guest memory touched: frames the VMs hold privately plus their shared references.
	touched=$(awk '/\.mem\.private_frames / { p += $2 } /\.share\.shared / { s += $2 } END { print p + s }' "$tmp/err$n")
	awk -v n="$n" -F, -v touched="$touched" 'BEGIN { peak = 0 }
		$1 == n { if ($5 > peak) peak = $5; t[NR] = $2; s[NR] = $5 }
		END { for (i in s) if (s[i] >= 0.9 * peak && (first == "" || t[i] < first)) first = t[i]
		      printf "%d,%s,%.2f,", n, "TOUCHED", peak; printf "%s,", first }' "$csv" >"$tmp/row"
	scanned=$(awk '/\.share\.scanned / { s += $2 } END { print s + 0 }' "$tmp/err$n")
	cpu=$(awk '/\.share\.scan_cpu_ns / { s += $2 } END { print s + 0 }' "$tmp/err$n")
	peak=$(cut -d, -f3 "$tmp/row")
	# touched is counted at exit, after memtouch freed its memory: use the peak of the
	# run without sharing's equivalent, the pool's peak use plus what sharing saved then.
	gt=$(awk -F, -v n="$n" '$1 == n { u = $3 + $5; if (u > m) m = u } END { printf "%.2f", m }' "$csv")
	frac=$(awk -v p="$peak" -v g="$gt" 'BEGIN { printf "%.3f", g ? p / g : 0 }')
	gib=$(awk -v s="$scanned" 'BEGIN { printf "%.3f", s * 4096 / 1073741824 }')
	cps=$(awk -v c="$cpu" 'BEGIN { printf "%.3f", c / 1e9 }')
	per=$(awk -v c="$cpu" -v s="$scanned" 'BEGIN { if (s) printf "%.3f", (c / 1e9) / (s * 4096 / 1073741824); else print "n/a" }')
	cow=$(awk '/\.share\.cow_breaks / { s += $2 } END { print s + 0 }' "$tmp/err$n")
	cowus=$(awk '/\.share\.cow_cpu_ns / { s += $2 } /\.share\.cow_breaks / { b += $2 } END { if (b) printf "%.1f", s / b / 1000; else print "n/a" }' "$tmp/err$n")
	echo "$n,$gt,$peak,$frac,$(cut -d, -f4 "$tmp/row"),$gib,$cps,$per,$cow,$cowus" >>"$sum"
	: "$touched"
done
echo "saving per number of identical VMs (MiB; fraction of guest memory in use):"
column -t -s, "$sum"
# Guest slowdown while sharing is active: the same CPU-bound run, sharing off and on.
for rate in 0 "$RATE"; do
	"$shade" run --share-rate "$rate" --mem 128M --module "$os/initrd.tar" \
		--cmdline "-- memtouch $MIB fill=same; compute 200" "$os/kernel.elf" </dev/null >"$tmp/c$rate" 2>&1
	ms=$(tr -d '\r' <"$tmp/c$rate" | sed -n 's/^compute: .*, \([0-9]*\) ms$/\1/p')
	echo "compute 200 with --share-rate $rate: ${ms:-?} ms"
	eval "ms_$rate=\${ms:-0}"
done
if command -v gnuplot >/dev/null 2>&1; then
	gnuplot <<GP
set terminal pngcairo size 900,500 noenhanced
set output "$out/sharing.png"
set datafile separator ","
set key left top
set xlabel "seconds"
set ylabel "MiB saved by page sharing"
set title "shade: identical VMs of the bundled OS (memtouch $MIB MiB fill=same, then idle)"
plot for [n in "$VMS"] "$csv" using (\$1 == n ? \$2 : 1/0):5 with linespoints title n." VM(s)"
GP
	echo "plot: $out/sharing.png"
fi
echo "(CSV: $csv, $sum)"
