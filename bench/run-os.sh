#!/bin/sh
# run-os.sh [BUILD_DIR]: the bundled guest OS (guest-images/os) under shade and QEMU TCG,
# in one run on this machine: boot time (to the runner and back out), each workload's
# own timing line, the wall time of its boot, and under shade the exits per fork and
# per guest page fault (by differencing two sizes of the same workload, which cancels
# the boot). `--baseline` cannot run the OS on nested KVM backends that stay at CPL 3
# on SYSCALL (platform-facts.md); it is tried and reported.
# Output: a table on stdout and bench/results/os.csv.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
shade=$build/shade
os=$build/guest-images/os
out=$here/results
mkdir -p "$out"
csv=$out/os.csv
[ -x "$shade" ] && [ -r "$os/kernel.elf" ] || { echo "run-os: build first" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

run() { # MODE "COMMANDS" -> $tmp/o, prints wall seconds
	t0=$(date +%s.%N)
	case $1 in
	shade) "$shade" run --stats --mem 256M --module "$os/initrd.tar" --cmdline "-- $2" \
		"$os/kernel.elf" </dev/null >"$tmp/o" 2>&1 ;;
	baseline) timeout 120 "$shade" run --baseline --stats --mem 256M --module "$os/initrd.tar" \
		--cmdline "-- $2" "$os/kernel.elf" </dev/null >"$tmp/o" 2>&1 ;;
	qemu) timeout 300 qemu-system-x86_64 -accel tcg -cpu max -m 256 -nodefaults -display none \
		-no-reboot -serial stdio -monitor none -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-kernel "$os/kernel.elf" -initrd "$os/initrd.tar" -append "-- $2" </dev/null >"$tmp/o" 2>&1 ;;
	esac
	echo "$t0 $(date +%s.%N)" | awk '{ printf "%.2f", $2 - $1 }'
}
result() { grep -E "^(memtouch|forkbench|compute|verify|syscallbench|repeat):" "$tmp/o" | grep -v progress | tail -1 | tr ',' ';'; }
stat() { awk -v k="$1" '$1 == k { print $2 }' "$tmp/o"; }

echo "workload,mode,wall_s,exits,result" >"$csv"
for w in "exit 0" "memtouch 64 fill=seed:7" "memtouch 64 fill=zero" "forkbench 50" \
	"forkbench 20 mem=8" "forkbench 20 exec" "compute 50" "verify 16 passes=2" "syscallbench 2000"; do
	for m in shade baseline qemu; do
		[ $m = qemu ] && ! command -v qemu-system-x86_64 >/dev/null 2>&1 && continue
		wall=$(run $m "$w")
		ok=$(grep -c "script done: 1 commands, 0 failed" "$tmp/o")
		[ "$w" = "exit 0" ] && ok=$(grep -c "^runner: pid 1" "$tmp/o")
		r=$(result); [ "$ok" -ge 1 ] || r="FAILED: $(grep -v '^vm0\.' "$tmp/o" | tail -1)"
		ex=$(stat vm0.vcpu0.exits.total)
		echo "$w,$m,$wall,${ex:-},$r" >>"$csv"
		printf '%-24s %-8s %7ss %9s  %s\n' "$w" $m "$wall" "${ex:-}" "$r"
	done
done
# Exits per fork and per guest page fault under shade: two sizes, the difference.
per() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { printf "%.1f", (b - a) / n }'; }
run shade "forkbench 20" >/dev/null; a=$(stat vm0.vcpu0.exits.total) fa=$(stat vm0.vcpu0.backend_resyncs)
run shade "forkbench 80" >/dev/null; b=$(stat vm0.vcpu0.exits.total) fb=$(stat vm0.vcpu0.backend_resyncs)
echo "shade: exits per fork+exit+wait: $(per "$a" "$b" 60) (backend resyncs per fork: $(per "$fa" "$fb" 60))"
run shade "memtouch 8 fill=zero" >/dev/null; a=$(stat vm0.vcpu0.exits.total) ta=$(stat vm0.shadow.true_faults)
run shade "memtouch 40 fill=zero" >/dev/null; b=$(stat vm0.vcpu0.exits.total) tb=$(stat vm0.shadow.true_faults)
echo "shade: exits per guest page fault (demand-zero, 32 MiB more): $(per "$a" "$b" $((tb - ta))) ($((tb - ta)) more guest faults)"
echo "(CSV: $csv)"
