#!/bin/sh
# run-os.sh: boot the bundled guest OS (guest-images/os) under shade or QEMU (TCG), run
# one runner script from its initial file system, and compare the console transcript,
# with timings and machine-dependent sizes masked (normalize below), to an expected file.
# Both peers are checked against the same file: that is the check that the OS behaves
# the same on both, i.e. that it is written for bare metal.
#
#   run-os.sh shade SHADE_BIN KERNEL INITRD EXPECTED [-- SHADE_RUN_ARGS...]
#   run-os.sh qemu  -         KERNEL INITRD EXPECTED [-- QEMU_ARGS...]
#
# Environment: OS_CMDLINE (kernel command line, default "-- -f test.rc"), OS_MEM (MiB,
# 256), OS_TIMEOUT (seconds, 3600). Passes when the exit status is 1 (the runner powered
# off with code 0: every command succeeded) and the normalized transcript matches.
#
# OS_TIMEOUT is a hang guard, not a speed goal. Under shade on a nested KVM backend the
# guest kernel is interpreted (~600 ns an instruction), so test.rc's forks, execs and
# demand-zero faults are CPU-bound and stretch with the host's load: 163 s got as far as
# "forkbench 10 mem=8" with two CPU hogs and parallel tests, and the whole script took
# 644 s at load average ~20 (repeat 300 true 112 s, forkbench 100 70 s, the 64 MiB fill
# 92 s); with that load plus two CPU hogs it was past 1800 s at "compute 20", 4 short
# commands from the end (the guest's own clock said 706 s: it calibrates its TSC rate by
# counting ticks, and a starved guest loses ticks, so its clock runs slow). Nothing in
# the script depends on wall time for its result: memtouch time=1 only bounds a
# progress count (masked below), sleeps count timer ticks.
set -u
mode=$1 bin=$2 kernel=$3 initrd=$4 expected=$5
shift 5
[ "${1:-}" = "--" ] && shift
cmdline=${OS_CMDLINE:--- -f test.rc}
mem=${OS_MEM:-256}
timeout_s=${OS_TIMEOUT:-3600}
out=$(mktemp) norm=$(mktemp)
trap 'rm -f "$out" "$norm"' EXIT

case $mode in
shade)
	if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		echo "SKIP: /dev/kvm is not available (needs read/write access)"
		exit 77
	fi
	set -- "$bin" run --mem "${mem}M" --module "$initrd" --cmdline "$cmdline" "$@" "$kernel"
	;;
qemu)
	if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
		echo "SKIP: qemu-system-x86_64 is not installed"
		exit 77
	fi
	set -- qemu-system-x86_64 -accel tcg -cpu max -m "$mem" -nodefaults -display none \
		-no-reboot -serial stdio -monitor none \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-kernel "$kernel" -initrd "$initrd" -append "$cmdline" "$@"
	;;
*)
	echo "usage: run-os.sh shade|qemu BIN KERNEL INITRD EXPECTED [-- ARGS...]" >&2
	exit 2
	;;
esac

start=$(date +%s)
timeout "$timeout_s" "$@" </dev/null >"$out" 2>&1
status=$?
echo "$mode: $(($(date +%s) - start)) s"
cat "$out"
if [ "$status" -eq 124 ]; then
	echo "FAIL: $mode timed out after ${timeout_s}s"
	exit 1
fi

# Timings ("12 ms", "300 ns"), progress lines (how far a timed loop got) and the RAM
# sizes (each peer has its own memory map) differ between runs and peers.
tr -d '\r' <"$out" | grep -av 'progress' |
	sed -E -e 's/[0-9]+ (ms|us|ns)/# \1/g' -e '/^(mem|shade):/ s/[0-9]+/#/g' |
	grep -av '^vm[0-9]*\.' >"$norm"
if ! diff -u "$expected" "$norm"; then
	echo "FAIL: $mode: the transcript differs from $expected (diff above: - expected, + got)"
	exit 1
fi
if [ "$status" -ne 1 ]; then
	echo "FAIL: $mode exited with status $status, expected 1 (runner: every command passed)"
	exit 1
fi
echo "PASS: $mode: transcript matches $(basename "$expected"), status $status"
exit 0
