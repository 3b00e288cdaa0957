#!/bin/sh
# run-paging.sh [BUILD_DIR]: the shadow MMU under a page-fault-heavy guest workload, in
# one run on this machine: procs64's bench mode (guest-images/tests/procs64-bench.c)
#   demand-touch  create an address space, a ring-3 process touches PAGES pages (each a
#                 guest page fault the guest kernel handles: demand-zero), exits, the
#                 address space is torn down
#   fork-copy     copy a populated address space of PAGES pages into a new one
# timed by the guest's RDTSC under shade, under `shade run --baseline` (plain KVM at
# CPL 0) and under QEMU TCG; plus shade's exits and shadow counters per operation,
# from two boots with N1 and N2 iterations (the difference cancels the boot), and the
# root-cache hit rate of the multi-process test (procs64).
# Output: a table on stdout and bench/results/paging.csv.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
shade=$build/shade
guest=$build/guest-images/tests/procs64-bench.elf
procs=$build/guest-images/tests/procs64.elf
out=$here/results
mkdir -p "$out"
csv=$out/paging.csv
PAGES=${PAGES:-64}
N1=${N1:-10}
N2=${N2:-40}

[ -x "$shade" ] && [ -r "$guest" ] || { echo "run-paging: build first (missing $shade or $guest)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

run() { # MODE N -> output in $tmp/MODE.N
	mode=$1 n=$2 f=$tmp/$1.$2
	args="bench iterations=$n pages=$PAGES"
	case $mode in
	shade) "$shade" run --stats --cmdline "$args" "$guest" </dev/null >"$f" 2>&1 ;;
	baseline) "$shade" run --baseline --stats --cmdline "$args" "$guest" </dev/null >"$f" 2>&1 ;;
	qemu) timeout 300 qemu-system-x86_64 -accel tcg -cpu max -m 128 -nodefaults -display none \
		-no-reboot -serial stdio -monitor none -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-kernel "$guest" -append "$args" </dev/null >"$f" 2>&1 ;;
	esac
}
ns() { awk -v k="$2" '$1 == "bench:" && $2 == k { for (i = 3; i <= NF; i++) if ($i ~ /^ns_per_op=/) { sub("ns_per_op=", "", $i); print $i } }' "$1"; }
stat() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
per() { awk -v a="$1" -v b="$2" -v d="$3" 'BEGIN { if (a == "" || b == "" || d == 0) print "n/a"; else printf "%.2f", (b - a) / d }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "n/a"; else printf "%.2f", a / b }'; }

for m in shade baseline; do run $m "$N1"; run $m "$N2"; done
have_qemu=0
command -v qemu-system-x86_64 >/dev/null 2>&1 && { have_qemu=1; run qemu "$N2"; }

s1=$tmp/shade.$N1 s2=$tmp/shade.$N2
ops=$((2 * (N2 - N1)))                  # both kinds run N iterations each
faults=$((2 * (N2 - N1) * PAGES / 2))   # demand-touch: one guest fault per page
echo "kind,pages,shade_ns,baseline_ns,qemu_tcg_ns,shade_over_baseline,shade_over_qemu" >"$csv"
printf '%-13s %6s %14s %14s %12s %9s %9s\n' kind pages shade_ns kvm_ns tcg_ns shade/kvm shade/tcg
for k in demand-touch fork-copy; do
	s=$(ns "$s2" $k) b=$(ns "$tmp/baseline.$N2" $k) q=n/a
	[ $have_qemu = 1 ] && q=$(ns "$tmp/qemu.$N2" $k)
	echo "$k,$PAGES,$s,$b,$q,$(ratio "$s" "$b"),$(ratio "$s" "$q")" >>"$csv"
	printf '%-13s %6s %14s %14s %12s %9s %9s\n' $k $PAGES "$s" "$b" "$q" "$(ratio "$s" "$b")" "$(ratio "$s" "$q")"
done
d() { echo $(( $(stat "$s2" "$1") - $(stat "$s1" "$1") )); }
ex=$(d vm0.vcpu0.exits.total)
echo
echo "shade, per operation of either kind ($ops operations, $PAGES pages each):"
for c in vm0.vcpu0.exits.total vm0.shadow.hidden_faults vm0.shadow.true_faults \
	vm0.shadow.pt_writes vm0.shadow.cr3_switches vm0.shadow.root_hits vm0.shadow.root_misses \
	vm0.shadow.sp_alloc vm0.shadow.sp_unshadowed vm0.vcpu0.tlb_flushes vm0.vcpu0.backend_resyncs; do
	printf '  %-28s %8s\n' "${c#vm0.}" "$(per 0 "$(d $c)" $ops)"
done
tf=$(d vm0.shadow.true_faults) pw=$(d vm0.shadow.pt_writes) cr=$(d vm0.shadow.cr3_switches)
echo "  exits per guest page fault (all exits / true faults): $(per 0 "$ex" "$tf")"
echo "  guest page-table writes per guest page fault:          $(per 0 "$pw" "$tf")"
echo "  CR3 switches per operation:                             $(per 0 "$cr" $ops)"
echo "  backend resyncs (kvm_pvm only) per operation:           $(per 0 "$(d vm0.vcpu0.backend_resyncs)" $ops)"
if [ -r "$procs" ]; then
	"$shade" run --stats "$procs" </dev/null >"$tmp/procs" 2>&1
	h=$(stat "$tmp/procs" vm0.shadow.root_hits) mi=$(stat "$tmp/procs" vm0.shadow.root_misses)
	echo
	echo "multi-process guest (procs64): CR3 loads $(stat "$tmp/procs" vm0.shadow.cr3_switches), root-cache hits $h, misses $mi, hit rate $(awk -v h="$h" -v m="$mi" 'BEGIN { if (h + m) printf "%.1f %%", 100 * h / (h + m); else print "n/a" }')"
fi
echo "(ns per operation from the guest's RDTSC. CSV: $csv)"
