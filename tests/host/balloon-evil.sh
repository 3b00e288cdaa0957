#!/bin/sh
# balloon-evil.sh SHADE GUESTDIR: shade's side of guest-images/tests/balloon-evil.c, a
# guest that breaks the virtio-balloon protocol six ways: the VM must finish with the
# guest's own checks passed, every violation counted as a device error (a buffer
# outside RAM, a looping chain, a bad head, a PFN outside RAM, an index jump, its own
# GDT page), the two bad PFNs counted, and no page taken from the guest.
set -u
shade=$1 guests=$2
. "$(dirname "$0")/lib.sh"
need_kvm
out=$(mktemp)
trap 'rm -f "$out"' EXIT
timeout 120 "$shade" run --stats "$guests/balloon-evil.elf" </dev/null >"$out" 2>&1
status=$?
v() { awk -v k="$1" '$1 == k { print $2 }' "$out"; }
check "status 1: the guest's checks passed (got $status)" '[ "$status" -eq 1 ]'
check "six device errors ($(v vm0.balloon.device_errors))" '[ "$(v vm0.balloon.device_errors)" = 6 ]'
check "two bad PFNs ($(v vm0.balloon.bad_pfns))" '[ "$(v vm0.balloon.bad_pfns)" = 2 ]'
check "no page inflated ($(v vm0.balloon.inflated))" '[ "$(v vm0.balloon.inflated)" = 0 ]'
[ "$fail" -eq 0 ] || cat "$out"
exit "$fail"
