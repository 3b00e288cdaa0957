#!/bin/sh
# sharing.sh SHADE GUESTDIR: content-based page sharing across four VMs, measured on
# real host memory. Each VM runs share-idle (guest-images/tests/share-idle.c) with its
# own seed: per_set pages each of zero, common (identical in all VMs), unique, dup
# (identical within the VM) and near (common but one word different, per VM).
# The same four VMs run twice, without and with sharing, sampling the machine memory
# that is really resident (the memfd's allocated blocks, and the process's RssShmem)
# every 500 ms. Checks:
#   - the saving (resident without sharing at its peak minus resident with sharing
#     where sharing peaked, both with every page filled and the guests idle) is at
#     least 80 % of what the identical pages allow:
#     zero 4*per_set - 1, common 3*per_set, dup 4*(per_set - 1) frames;
#   - both by the memfd's blocks and by RssShmem;
#   - no sample shows more resident memory than the pool accounts for (freed frames
#     really go back to the host);
#   - every guest's own checks pass after idling, after rewriting half of its (then
#     shared) pages and after idling again: no page that differs was merged (near set),
#     no write reached a shared frame, and every VM broke sharing on write (cow_breaks).
set -u
shade=$1 guests=$2
. "$(dirname "$0")/lib.sh"
need_kvm
make_tmp
g=$guests/share-idle.elf
run() { # RATE -> $tmp/RATE.err, logs in $tmp/RATE/
	mkdir -p "$tmp/$1"
	set -- "$1" --vm a --mem 64M --kernel "$g" --cmdline "pages=2000 idle=5 seed=1" \
		--vm b --mem 64M --kernel "$g" --cmdline "pages=2000 idle=5 seed=2" \
		--vm c --mem 64M --kernel "$g" --cmdline "pages=2000 idle=5 seed=3" \
		--vm d --mem 64M --kernel "$g" --cmdline "pages=2000 idle=5 seed=4"
	rate=$1
	shift
	timeout 400 "$shade" host --quiet --stats --sample-ms 500 --share-rate "$rate" \
		--log-dir "$tmp/$rate" "$@" 2>"$tmp/$rate.err"
	echo $?
}
field() { awk -v f="$2" '$1 == "sample" { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == f) print kv[2] } }' "$1"; }

s0=$(run 0)
s1=$(run 20000)
check "without sharing: host status 1 (got $s0)" '[ "$s0" -eq 1 ]'
check "with sharing: host status 1 (got $s1)" '[ "$s1" -eq 1 ]'
per_set=$(sed -n 's/.*per_set=\([0-9]*\).*/\1/p' "$tmp/20000/a.log" | head -1)
check "the guest reported its set size ($per_set)" '[ -n "$per_set" ] && [ "$per_set" -gt 0 ]'
[ -n "$per_set" ] || per_set=0
ideal=$(( (4 * per_set - 1) + 3 * per_set + 4 * (per_set - 1) ))
max0=$(field "$tmp/0.err" resident_bytes | sort -n | tail -1)
# With sharing: the sample where sharing peaked (all pages filled, the guests idle):
# earlier samples are smaller only because the guests had not filled their pages yet.
peak() { awk -v f="$2" '$1 == "sample" { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	if (v["pages_sharing"] + 0 > best) { best = v["pages_sharing"] + 0; val = v[f] } } END { print val }' "$1"; }
min1=$(peak "$tmp/20000.err" resident_bytes)
rmax0=$(field "$tmp/0.err" rss_shmem_kb | sort -n | tail -1)
rmin1=$(peak "$tmp/20000.err" rss_shmem_kb)
saved=$(( (${max0:-0} - ${min1:-0}) / 4096 ))
rsaved=$(( (${rmax0:-0} - ${rmin1:-0}) / 4 ))
echo "# identical pages allow $ideal frames; saved $saved by the memfd's blocks ($max0 -> $min1 bytes), $rsaved by RssShmem ($rmax0 -> $rmin1 kB)"
check "memfd blocks: saving >= 80 % of the identical pages ($saved of $ideal)" '[ $((saved * 10)) -ge $((ideal * 8)) ]'
check "RssShmem: saving >= 80 % of the identical pages ($rsaved of $ideal)" '[ $((rsaved * 10)) -ge $((ideal * 8)) ]'
over=$(awk '$1 == "sample" { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	if (v["resident_bytes"] > v["pool_used"] * 4096) n++ } END { print n + 0 }' "$tmp/20000.err")
check "no sample has more resident memory than the pool's frames in use ($over did)" '[ "$over" -eq 0 ]'
for vm in a b c d; do
	check "$vm: all of the guest's checks passed with sharing" \
		'grep -Eq "^shade-test: [1-9][0-9]* passed, 0 failed" "$tmp/20000/$vm.log"'
	cow=$(awk -v k="$vm.share.cow_breaks" '$1 == k { print $2 }' "$tmp/20000.err")
	check "$vm: writes to shared pages were copy-on-write breaks ($cow)" '[ "${cow:-0}" -gt 0 ]'
	merged=$(awk -v k="$vm.share.merged" '$1 == k { print $2 }' "$tmp/20000.err")
	check "$vm: pages were merged ($merged)" '[ "${merged:-0}" -gt 0 ]'
done
if [ "$fail" -ne 0 ]; then
	echo "--- with sharing, stderr"; grep -v '^sample' "$tmp/20000.err" | tail -30
fi
exit "$fail"
