#!/bin/sh
# run-guest.sh: boot one test guest under shade or under QEMU (TCG) and check its verdict.
#
#   run-guest.sh shade SHADE_BIN KERNEL [-- SHADE_RUN_ARGS...]
#   run-guest.sh qemu  -         KERNEL [-- QEMU_ARGS...]
#
# Environment: GUEST_INPUT (bytes fed to the guest's COM1), GUEST_TIMEOUT (seconds, 450: a hang guard),
# GUEST_CMDLINE (kernel command line), GUEST_EXPECT_STATUS (exit status, default 1: the
# guest wrote 0 to the isa-debug-exit port 0xf4).
#
# GUEST_PVM_GAPS: for `shade` runs on the nested kvm_pvm backend only, a regular
# expression naming checks that fail there because that backend's interpreter does not
# implement something (see docs/architecture.md, "Backend gaps"). On kvm_pvm the run then
# passes only if exactly the checks it names fail (a gap that closes fails the test, so
# the entry gets removed); on any other host every check must pass.
#
# A guest passes when (a) the VMM's exit status is GUEST_EXPECT_STATUS, and (b) its serial
# output ends its report with "shade-test: N passed, 0 failed" with N > 0. Both peers run
# the same image with the same checks: that is what shows the guests are written for bare
# metal and not for shade.
set -u
mode=$1 bin=$2 kernel=$3
shift 3
[ "${1:-}" = "--" ] && shift
timeout_s=${GUEST_TIMEOUT:-450}
expect=${GUEST_EXPECT_STATUS:-1}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

case $mode in
shade)
	if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		echo "SKIP: /dev/kvm is not available (needs read/write access)"
		exit 77
	fi
	set -- "$bin" run ${GUEST_CMDLINE:+--cmdline "$GUEST_CMDLINE"} "$@" "$kernel"
	;;
qemu)
	if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
		echo "SKIP: qemu-system-x86_64 is not installed"
		exit 77
	fi
	set -- qemu-system-x86_64 -accel tcg -cpu max -m 128 -nodefaults -display none \
		-no-reboot -serial stdio -monitor none \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-kernel "$kernel" ${GUEST_CMDLINE:+-append "$GUEST_CMDLINE"} "$@"
	;;
*)
	echo "usage: run-guest.sh shade|qemu BIN KERNEL [-- ARGS...]" >&2
	exit 2
	;;
esac

printf '%s' "${GUEST_INPUT:-}" | timeout "$timeout_s" "$@" >"$out" 2>&1
status=$?
cat "$out"
if [ "$status" -eq 124 ]; then
	echo "FAIL: $mode timed out after ${timeout_s}s"
	exit 1
fi
summary=$(grep -a 'shade-test: [0-9]* passed, [0-9]* failed' "$out" | tail -n 1)
if [ "$mode" = shade ] && [ -n "${GUEST_PVM_GAPS:-}" ] && [ -d /sys/module/kvm_pvm ]; then
	failed=$(grep -a '^not ok' "$out")
	unexpected=$(printf '%s\n' "$failed" | grep -Ev -- "$GUEST_PVM_GAPS" | grep -c .)
	gaps=$(printf '%s\n' "$failed" | grep -Ec -- "$GUEST_PVM_GAPS")
	if [ "$unexpected" -eq 0 ] && [ "$gaps" -gt 0 ] && [ "$status" -eq 3 ]; then
		echo "PASS: $mode: $summary ($gaps known kvm_pvm backend gap(s): $GUEST_PVM_GAPS)"
		exit 0
	fi
	if [ "$gaps" -eq 0 ] && [ "$unexpected" -eq 0 ]; then
		echo "FAIL: $mode: the known kvm_pvm gap '$GUEST_PVM_GAPS' no longer fails: remove it"
		exit 1
	fi
fi
if [ "$status" -ne "$expect" ]; then
	echo "FAIL: $mode exited with status $status, expected $expect"
	exit 1
fi

case $summary in
*"shade-test: 0 passed"*|"")
	echo "FAIL: no test report from the guest"
	exit 1 ;;
*", 0 failed"*)
	echo "PASS: $mode: $summary"
	exit 0 ;;
*)
	echo "FAIL: $mode: $summary"
	exit 1 ;;
esac
