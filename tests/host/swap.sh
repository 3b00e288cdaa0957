#!/bin/sh
# swap.sh SHADE OSDIR: host swapping of a VM that has no balloon driver (no balloon
# device at all: --no-balloon). A 64 MiB VM runs `verify 40` (writes 40 MiB of patterns
# and checks them, twice) on a 40 MiB host: it can only fit by being swapped. Checked:
# verify finds no corruption, pages were swapped out and back in, the host's resident
# machine memory (memfd blocks) never exceeds the pool, and the swap file is removed at
# exit. Then `verify 37`, which fits the pool but leaves less free memory than the high
# state wants, so the policy keeps swapping, with the swap directory on a 1 MiB tmpfs
# (mounted here; that part is skipped, and says so, where mounting is not allowed):
# writes past 1 MiB fail with ENOSPC, shade says so and keeps those pages resident, and
# verify still passes. Last, the swap file is truncated behind shade's back while the
# first workload runs: the next swap-in of a lost page must stop the VM with a report
# (a short read, or a hole whose zeros fail the slot's checksum), never hand the guest
# a page that is not its own; shade exits 4 and still removes the swap file.
set -u
shade=$1 os=$2
. "$(dirname "$0")/lib.sh"
need_kvm
make_tmp
# Seconds per shade run, a hang guard: the whole test took 258 s with two CPU hogs and
# parallel tests and over 600 s at load average ~20 (the guest's verify is CPU-bound
# interpreted kernel work plus swapping); ctest's TIMEOUT covers three of these.
guard=900

run() {
	d=$1 mib=$3
	mkdir -p "$d/swap"
	[ "$2" != - ] && mount -t tmpfs -o size=$2 tmpfs "$d/swap" && mnt=$d/swap
	timeout "$guard" "$shade" host --quiet --log-dir "$d" --share-rate 0 --machine-mem 40M \
		--alloc-ms 250 --swap-dir "$d/swap" --sample-ms 500 --stats \
		--vm b --mem 64M --no-balloon --kernel "$os/kernel.elf" --module "$os/initrd.tar" \
		--cmdline "-- verify $mib passes=2" 2>"$d/err"
	status=$?
	check "$(basename "$d"): host status 1, the guest's script passed (got $status)" '[ "$status" -eq 1 ]'
	check "$(basename "$d"): verify finds no corruption" \
		'grep -q "^verify: $mib MiB, 2 passes, 0 corrupted pages" "$d/b.log"'
	check "$(basename "$d"): the swap file was removed" '[ -z "$(ls "$d/swap")" ]'
}

run "$tmp/plain" - 40
outs=$(stat_of "$tmp/plain/err" b.mem.swap_outs) ins=$(stat_of "$tmp/plain/err" b.mem.swap_ins)
echo "# swapped out $outs pages, swapped in $ins"
check "pages were swapped out and in" '[ "${outs:-0}" -gt 1000 ] && [ "${ins:-0}" -gt 1000 ]'
peak=$(awk '$1 == "sample" { for (i = 2; i <= NF; i++) { split($i, kv, "=")
	if (kv[1] == "resident_bytes" && kv[2] > m) m = kv[2] } } END { print m + 0 }' "$tmp/plain/err")
echo "# peak resident machine memory $peak bytes"
check "resident machine memory stayed within the 40 MiB pool" '[ "$peak" -gt 0 ] && [ "$peak" -le 41943040 ]'

mkdir -p "$tmp/probe"
if mount -t tmpfs -o size=1m tmpfs "$tmp/probe" 2>/dev/null; then
	umount "$tmp/probe"
	run "$tmp/limited" 1m 37
	umount "$mnt" && mnt=
	werr=$(stat_of "$tmp/limited/err" b.mem.swap_write_errors)
	echo "# $werr swap writes failed"
	check "swap writes past the limit failed and were counted" '[ "${werr:-0}" -gt 0 ]'
	check "shade said so" 'grep -q "swap write failed" "$tmp/limited/err"'
else
	echo "# SKIP part 2: cannot mount a small tmpfs here (needs CAP_SYS_ADMIN)"
fi
d=$tmp/tampered
mkdir -p "$d/swap"
timeout "$guard" "$shade" host --quiet --log-dir "$d" --share-rate 0 --machine-mem 40M \
	--alloc-ms 250 --swap-dir "$d/swap" --csv "$d/ms.csv" --stats \
	--vm b --mem 64M --no-balloon --kernel "$os/kernel.elf" --module "$os/initrd.tar" \
	--cmdline "-- verify 40 passes=4" 2>"$d/err" &
pid=$!
# once 4 MiB are swapped out, empty the file (polled for up to the run's own guard)
i=0
while [ $i -lt $((guard * 5)) ] && ! awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) k[$i] = i; next }
	$k["SWCUR"] >= 4 { f = 1 } END { exit !f }' "$d/ms.csv" 2>/dev/null; do
	i=$((i + 1)); sleep 0.2
done
sw=$(ls "$d/swap"/*.swap 2>/dev/null | head -1)
check "tampered: the VM was swapping and its swap file is there" '[ -n "$sw" ] && [ $i -lt $((guard * 5)) ]'
[ -n "$sw" ] && : >"$sw"
wait $pid
status=$?
pid=
rerr=$(stat_of "$d/err" host.swap.read_errors)
check "tampered: shade stopped the VM with status 4 (got $status)" '[ "$status" -eq 4 ]'
check "tampered: it said which page could not be read back ($(grep -o "cannot read guest page [^:]*" "$d/err" | head -1))" \
	'grep -q "cannot read guest page .* back from swap slot" "$d/err" && [ "${rerr:-0}" -ge 1 ]'
check "tampered: the guest did not go on to report a result" '! grep -q "^verify: 40 MiB" "$d/b.log"'
check "tampered: the swap file was removed" '[ -z "$(ls "$d/swap")" ]'
[ "$fail" -eq 0 ] || for d in "$tmp"/plain "$tmp"/limited "$tmp"/tampered; do echo "--- $d"; grep -v '^sample' "$d/err" | grep -v '\.' | tail -5; done
exit "$fail"
