#!/bin/sh
# balloon-oom.sh SHADE OSDIR: a guest whose balloon holds more than it can spare. A
# 64 MiB VM of the bundled OS is asked from boot (--balloon 32M) to lend half its
# memory, reaches that, then verifies 48 MiB: more than it has left, so its driver
# must deflate on memory pressure (shade offers DEFLATE_ON_OOM) through the standard
# deflate queue. The guest must survive with verify clean, and shade must have seen
# pages deflated.
set -u
shade=$1 os=$2
. "$(dirname "$0")/lib.sh"
need_kvm
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# a hang guard: 278 s with two CPU hogs, parallel tests and other builds (interpreted
# guest kernel work, CPU-bound); ctest's TIMEOUT is above it
timeout 1000 "$shade" run --stats --mem 64M --balloon 32M --module "$os/initrd.tar" \
	--cmdline "-- balloon wait 8192 120; verify 48 passes=1; meminfo; balloon" \
	"$os/kernel.elf" </dev/null >"$out" 2>&1
status=$?
v() { awk -v k="$1" '$1 == k { print $2 }' "$out"; }
check "status 1: the runner's script passed (got $status)" '[ "$status" -eq 1 ]'
check "the balloon first reached 8192 pages" 'grep -q "^balloon: target 8192 pages, actual 8192 pages" "$out"'
check "verify over 48 MiB found no corruption" 'grep -q "^verify: 48 MiB, 1 passes, 0 corrupted pages" "$out"'
check "the guest deflated under pressure ($(v vm0.balloon.deflated) pages)" '[ "$(v vm0.balloon.deflated)" -gt 0 ]'
check "no device errors" '[ "$(v vm0.balloon.device_errors)" = 0 ]'
[ "$fail" -eq 0 ] || tr -d '\r' <"$out" | grep -v "^vm0\." | tail -15
exit "$fail"
