#!/bin/sh
# several-vms.sh SHADE GUESTDIR: `shade host` runs four test guests at once on one
# machine-memory pool smaller than their combined RAM (untouched guest memory costs
# nothing): two IA-32e and two 32-bit paging guests, with the shadow audit on. Every VM
# must report success in its own console log, the terminal must carry each VM's lines
# under its prefix, and the host's status must be 1 (every guest wrote 0 to port 0xf4).
set -u
shade=$1 guests=$2
. "$(dirname "$0")/lib.sh"
need_kvm
make_tmp
# 4 x 128 MiB of guest RAM on a 96 MiB pool.
timeout 300 "$shade" host --machine-mem 96M --log-dir "$tmp" --audit --stats \
	--vm lm --kernel "$guests/paging-edit-64.elf" --clones 2 \
	--vm pg --kernel "$guests/paging-edit-32.elf" --clones 2 >"$tmp/out" 2>"$tmp/err"
status=$?
check "host exit status 1 (got $status)" '[ "$status" -eq 1 ]'
for vm in lm1 lm2 pg1 pg2; do
	check "$vm: its log ends with a clean report" \
		'grep -Eq "^shade-test: [1-9][0-9]* passed, 0 failed" "$tmp/$vm.log"'
	check "$vm: its lines reach the terminal prefixed" \
		'grep -Eq "^\[$vm\] shade-test: [1-9][0-9]* passed, 0 failed" "$tmp/out"'
	check "$vm: stopped by its own debug-exit write" \
		'grep -q "^shade: $vm: guest wrote 0 to the debug-exit port (status 1)" "$tmp/err"'
done
check "no VM's lines are interleaved with another's" \
	'! grep -vE "^\[(lm1|lm2|pg1|pg2)\] " "$tmp/out" | grep -q .'
used=$(stat_of "$tmp/err" host.pool.frames)
check "the pool was 96 MiB (24576 frames, got $used)" '[ "$used" = 24576 ]'
if [ "$fail" -ne 0 ]; then
	echo "--- stderr"; tail -40 "$tmp/err"
fi
exit "$fail"
