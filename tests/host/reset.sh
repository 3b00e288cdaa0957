#!/bin/sh
# reset.sh SHADE GUESTDIR: a guest's reset request stops the VM with status 6 and says
# why (shade has no reboot): through the reset control register (0xcf9 value 6), the
# keyboard controller's pulse command (0xfe) and port 0x92's fast reset. The pc-devices
# guest passes its checks, then asks (its "reset=" argument). A guest that powers off
# ends with 0 instead: guest.firmware.* covers that.
set -u
shade=$1 guests=$2
. "$(dirname "$0")/lib.sh"
need_kvm
make_tmp
for how in cf9 kbc 92; do
	timeout 300 "$shade" run --cmdline "reset=$how" "$guests/pc-devices.elf" \
		>"$tmp/out" 2>"$tmp/err" </dev/null
	st=$?
	check "reset through $how: status 6 (got $st)" '[ $st -eq 6 ]'
	check "reset through $how: the guest's checks passed first" 'grep -q "shade-test: [0-9]* passed, 0 failed" "$tmp/out"'
	check "reset through $how: one line says a reset was requested" 'grep -q "^shade: guest requested a reset" "$tmp/err"'
done
exit "$fail"
