#!/bin/sh
# run-traps.sh [BUILD_DIR]: the cost of each trap kind shade handles, measured in one run
# on this machine under shade, under `shade run --baseline` (plain KVM at CPL 0, where
# the backend can run the instruction at all) and under QEMU TCG, as time per guest
# operation (the guest's own RDTSC loops, guest-images/tests/bench-traps.c) and as KVM
# exits per guest operation.
#
# Exits per operation are machine-independent: for each kind the guest runs N1 and N2
# iterations in two boots, and (exits(N2) - exits(N1)) / (N2 - N1) cancels the boot.
# Output: a table on stdout and bench/results/traps.csv.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
shade=$build/shade
guest=$build/guest-images/tests/bench-traps.elf
out=$here/results
mkdir -p "$out"
csv=$out/traps.csv
N1=${N1:-2000}
N2=${N2:-20000}
KINDS=${KINDS:-"loop cr0-write cr3-write invlpg out-80 in-80 cpuid rdmsr int-ring0 gp-reflect int80-user hlt-wakeup"}

[ -x "$shade" ] && [ -r "$guest" ] || { echo "run-traps: build first (missing $shade or $guest)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# run MODE KIND N: prints "ns_per_op exits_total iterations" (n/a where absent)
run() {
	mode=$1 kind=$2 n=$3
	case $mode in
	shade) "$shade" run --stats --cmdline "iterations=$n kinds=$kind" "$guest" </dev/null >"$tmp/o" 2>&1 ;;
	baseline) "$shade" run --baseline --stats --cmdline "iterations=$n kinds=$kind" "$guest" </dev/null >"$tmp/o" 2>&1 ;;
	qemu) timeout 300 qemu-system-x86_64 -accel tcg -cpu max -m 128 -nodefaults -display none \
		-no-reboot -serial stdio -monitor none -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-kernel "$guest" -append "iterations=$n kinds=$kind" </dev/null >"$tmp/o" 2>&1 ;;
	esac
	ns=$(awk -v k="$kind" '$1 == "bench:" && $2 == k { sub("ns_per_op=", "", $5); print $5 }' "$tmp/o")
	it=$(awk -v k="$kind" '$1 == "bench:" && $2 == k { sub("iterations=", "", $3); print $3 }' "$tmp/o")
	ex=$(awk '/\.exits\.total / { print $2 }' "$tmp/o")
	[ -n "$ns" ] || ex=""   # the kind did not run: its exits mean nothing
	echo "${ns:-n/a} ${ex:-n/a} ${it:-n/a}"
}

per_op() { # exits1 iterations1 exits2 iterations2 -> exits per operation
	awk -v a="$1" -v n1="$2" -v b="$3" -v n2="$4" 'BEGIN {
		if (a == "n/a" || b == "n/a" || n1 == "n/a" || n2 == "n/a" || n2 == n1) print "n/a"
		else printf "%.2f", (b - a) / (n2 - n1) }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "n/a" || b == "n/a" || b == 0) print "n/a"; else printf "%.2f", a / b }'; }

have_qemu=0
command -v qemu-system-x86_64 >/dev/null 2>&1 && have_qemu=1
echo "kind,shade_ns,baseline_ns,qemu_tcg_ns,shade_over_baseline,shade_over_qemu,shade_exits_per_op,baseline_exits_per_op" >"$csv"
printf '%-11s %11s %11s %11s %8s %8s %9s %9s\n' kind shade_ns kvm_ns tcg_ns shade/kvm shade/tcg exits/op kvm_ex/op
for k in $KINDS; do
	set -- $(run shade "$k" "$N1"); s_ex1=$2 s_it1=$3
	set -- $(run shade "$k" "$N2"); s_ns=$1 s_ex2=$2 s_it2=$3
	set -- $(run baseline "$k" "$N1"); b_ex1=$2 b_it1=$3
	set -- $(run baseline "$k" "$N2"); b_ns=$1 b_ex2=$2 b_it2=$3
	q_ns=n/a
	[ $have_qemu = 1 ] && { set -- $(run qemu "$k" "$N2"); q_ns=$1; }
	s_epo=$(per_op "$s_ex1" "$s_it1" "$s_ex2" "$s_it2")
	b_epo=$(per_op "$b_ex1" "$b_it1" "$b_ex2" "$b_it2")
	r_b=$(ratio "$s_ns" "$b_ns")
	r_q=$(ratio "$s_ns" "$q_ns")
	echo "$k,$s_ns,$b_ns,$q_ns,$r_b,$r_q,$s_epo,$b_epo" >>"$csv"
	printf '%-11s %11s %11s %11s %8s %8s %9s %9s\n' "$k" "$s_ns" "$b_ns" "$q_ns" "$r_b" "$r_q" "$s_epo" "$b_epo"
done
echo "(ns per guest operation from the guest's RDTSC; n/a: plain KVM on this backend cannot run"
echo " that instruction at CPL 0 (KVM internal error). CSV: $csv)"
