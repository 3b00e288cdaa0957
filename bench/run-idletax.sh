#!/bin/sh
# run-idletax.sh [BUILD_DIR]: ESX's idle memory tax experiment (Waldspurger, OSDI 2002,
# figure 6) on the bundled OS, in one run. Two VMs of VMMEM MiB with equal shares on a
# POOL MiB host: "idle" fills IDLE MiB and sleeps holding it, "active" fills ACTIVE MiB
# and touches all of it for SECS s. Run with tau = 0 and tau = 75 %; for each, the memory
# granted to each VM over time (shade host --csv) and the active VM's throughput
# (memtouch pages per second, from its progress lines).
# Output: bench/results/idletax-tau{0,75}.csv (the memsched time series),
# idletax-throughput.csv (t_s,tau,pages_per_s), idletax.png, and a summary: the time
# from the first reclaim to the active VM holding its working set, and the throughput
# of the last 10 s in each run. CLOCK=run samples working sets by the VMs' run time
# (shade host --wss-clock run; the files are then named idletax-run-*).
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
shade=$build/shade
os=$build/guest-images/os
out=$here/results
mkdir -p "$out"
POOL=${POOL:-64} VMMEM=${VMMEM:-48} IDLE=${IDLE:-32} ACTIVE=${ACTIVE:-36} SECS=${SECS:-80}
CLOCK=${CLOCK:-wall}
case $CLOCK in wall) sfx= ;; run) sfx=-run ;; *) echo "run-idletax: CLOCK is wall or run" >&2; exit 2 ;; esac
[ -x "$shade" ] && [ -r "$os/kernel.elf" ] || { echo "run-idletax: build first" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tp=$out/idletax$sfx-throughput.csv
echo "t_s,tau,pages_per_s" > "$tp"
for tau in 0 75; do
	d=$tmp/$tau
	mkdir -p "$d"
	"$shade" host --quiet --log-dir "$d" --share-rate 0 --machine-mem ${POOL}M --tau $tau \
		--alloc-ms 500 --wss-ms 1000 --wss-clock $CLOCK --csv "$out/idletax$sfx-tau$tau.csv" --swap-dir "$d" --stats \
		--vm idle --mem ${VMMEM}M --kernel "$os/kernel.elf" --module "$os/initrd.tar" \
		--cmdline "-- memtouch $IDLE fill=seed:1 idle time=$((SECS + 20))" \
		--vm active --mem ${VMMEM}M --kernel "$os/kernel.elf" --module "$os/initrd.tar" \
		--cmdline "-- memtouch $ACTIVE fill=seed:2 time=$SECS" 2>"$d/err"
	grep -h "memtouch: checked" "$d"/*.log | sed "s/^/tau=$tau: /"
	# progress lines -> per-second rate, on the host's clock: the line's t= is since the
	# touch phase began, so shift by when that was (the fill's end) in host time
	fill_ms=$(sed -n 's/^memtouch: filled .* in \([0-9]*\) ms$/\1/p' "$d/active.log")
	grep "memtouch: progress t=" "$d/active.log" | awk -v tau=$tau -v f="${fill_ms:-0}" '{
		split($3, t, "="); sub("s", "", t[2]); if (NR > 1) printf "%.1f,%s,%d\n", (f / 1000) + t[2], tau, $5 - p
		p = $5 }' >> "$tp"
	start=$(awk -F, 'NR > 1 && $3 != "high" { print $1; exit }' "$out/idletax$sfx-tau$tau.csv")
	# the working set is held: ACTIVE MiB granted and no more swapping in (SWR/s)
	held=$(awk -F, -v a=$ACTIVE 'NR == 1 { for (i = 1; i <= NF; i++) k[$i] = i; next }
		$k["vm"] == "active" && $k["GRANT"] >= a && $k["SWR_s"] < 0.1 { print $1; exit }' "$out/idletax$sfx-tau$tau.csv")
	rate=$(grep "memtouch: progress t=" "$d/active.log" | tail -11 | awk '{ split($3, t, "="); sub("s", "", t[2])
		if (NR == 1) { t0 = t[2]; p0 = $5 } t1 = t[2]; p1 = $5 } END { if (t1 > t0) printf "%.0f", (p1 - p0) / (t1 - t0) }')
	ins=$(awk '$1 == "active.mem.swap_ins" { print $2 }' "$d/err")
	eval "rate$tau=\${rate:-0}"
	if [ -n "$start" ] && [ -n "$held" ]; then
		moved="memory moved in $(awk -v a="$start" -v b="$held" 'BEGIN { printf "%.1f", (b - a) / 1000 }') s (first reclaim at ${start} ms, working set held at ${held} ms)"
	else
		moved="the active VM never held its working set"
	fi
	echo "tau=$tau: $moved; active throughput over the last 10 s: ${rate:-0} pages/s; active swap-ins: ${ins:-0}"
done
echo "throughput gain tau=75 over tau=0: $(awk -v a="$rate0" -v b="$rate75" 'BEGIN { if (a > 0) printf "%.1fx", b / a; else print "n/a" }')"
# one file per run and VM for the plot (t_s GRANT SZTGT): gnuplot breaks lines at rows it skips
for tau in 0 75; do
	for v in idle active; do
		awk -F, -v OFS=, -v vm=$v 'NR > 1 && $2 == vm { print $1 / 1000, $7, $8 }' "$out/idletax$sfx-tau$tau.csv" >"$tmp/$tau-$v.dat"
	done
done
if command -v gnuplot >/dev/null 2>&1; then
	gnuplot <<GP
set terminal pngcairo size 1000,700 noenhanced
set output "$out/idletax$sfx.png"
set datafile separator ","
set multiplot layout 2,1 title "shade: idle memory tax (two ${VMMEM} MiB VMs, ${POOL} MiB host; idle holds ${IDLE} MiB, active touches ${ACTIVE} MiB; ${CLOCK}-clock sampling)"
do for [tau in "0 75"] {
  set title "tau = ".tau." %"
  set xlabel "seconds"
  set ylabel "MiB granted"
  set y2label "active VM, M pages/s"
  set y2tics
  set ytics nomirror
  set key right center
  plot "$tmp/".tau."-idle.dat" using 1:2 with lines lw 2 title "idle: granted", \
       "$tmp/".tau."-active.dat" using 1:2 with lines lw 2 title "active: granted", \
       "$tmp/".tau."-idle.dat" using 1:3 with lines dt 2 title "idle: target", \
       "$tp" using (\$2 == tau + 0 ? \$1 : 1/0):(\$3/1e6) axes x1y2 with lines title "active: throughput"
}
unset multiplot
GP
	echo "plot: $out/idletax$sfx.png"
fi
echo "(CSV: $out/idletax$sfx-tau0.csv $out/idletax$sfx-tau75.csv $tp)"
