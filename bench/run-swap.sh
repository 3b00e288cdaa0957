#!/bin/sh
# run-swap.sh [BUILD_DIR]: host swap throughput, in one run. A VM of 2*MIB MiB without a
# balloon runs `verify MIB` (two passes) on a host of POOL MiB (default MIB - 8), so its
# pages cycle through the swap file. Reported from shade's counters:
#   swap-out: pages written / the vCPU thread's time in the swap-out path (unmap, pwrite,
#             free), MiB/s; swap-in: pages read / time in the swap-in path (pread), MiB/s;
#   guest-visible: swap-ins per second of the run (each one a guest page fault handled
#             by shade, the fault path included), and the exits per swap-in.
# Output: a summary on stdout and bench/results/swap.csv.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
shade=$build/shade
os=$build/guest-images/os
out=$here/results
mkdir -p "$out"
MIB=${MIB:-48}
POOL=${POOL:-$((MIB - 8))}
[ -x "$shade" ] && [ -r "$os/kernel.elf" ] || { echo "run-swap: build first" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
t0=$(date +%s%3N)
"$shade" host --quiet --log-dir "$tmp" --share-rate 0 --machine-mem ${POOL}M --alloc-ms 250 \
	--swap-dir "$tmp" --stats --vm b --mem $((MIB * 2))M --no-balloon \
	--kernel "$os/kernel.elf" --module "$os/initrd.tar" --cmdline "-- verify $MIB passes=2" 2>"$tmp/err"
t1=$(date +%s%3N)
grep -h "^verify:" "$tmp/b.log"
s() { awk -v k="$1" '$1 == k { print $2 }' "$tmp/err"; }
outs=$(s b.mem.swap_outs) ins=$(s b.mem.swap_ins) ons=$(s b.mem.swap_out_ns) ins_ns=$(s b.mem.swap_in_ns)
wns=$(s host.swap.write_ns) rns=$(s host.swap.read_ns) exits=$(s b.vcpu0.exits.total)
awk -v o="$outs" -v i="$ins" -v on="$ons" -v inn="$ins_ns" -v w="$wns" -v r="$rns" \
    -v t="$((t1 - t0))" -v e="${exits:-0}" -v out="$out/swap.csv" 'BEGIN {
	mo = o * 4096 / 1048576; mi = i * 4096 / 1048576
	printf "swap-out: %d pages (%.1f MiB): %.1f MiB/s in the swap-out path, %.1f MiB/s in pwrite\n", o, mo, mo / (on / 1e9), mo / (w / 1e9)
	printf "swap-in:  %d pages (%.1f MiB): %.1f MiB/s in the swap-in path (pread)\n", i, mi, mi / (inn / 1e9)
	printf "guest-visible: %.0f swap-ins/s over the %.1f s run (%.1f MiB/s); %.1f exits per swap-in (all exits of the run, boot and the first fill included)\n", i / (t / 1000), t / 1000, mi / (t / 1000), i ? e / i : 0
	print "swap_outs,swap_ins,swap_out_path_mib_s,pwrite_mib_s,swap_in_path_mib_s,run_s,guest_swapins_per_s" > out
	printf "%d,%d,%.1f,%.1f,%.1f,%.1f,%.0f\n", o, i, mo / (on / 1e9), mo / (w / 1e9), mi / (inn / 1e9), t / 1000, i / (t / 1000) >> out
}'
echo "(CSV: $out/swap.csv)"
