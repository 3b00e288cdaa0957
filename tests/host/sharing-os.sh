#!/bin/sh
# sharing-os.sh SHADE OSDIR: four VMs booting the same bundled guest OS image, idle in
# one host, run twice: without sharing, counting (--census) the backed guest pages
# whose contents another backed page already has, and with sharing. The memory that
# sharing really released (memfd blocks and RssShmem, the no-sharing peak minus the
# with-sharing level where sharing peaked) must be at least 80 % of those identical
# pages, within the guests' 8 s of idling at 20000 pages/s per VM; every VM must finish
# its runner script.
set -u
shade=$1 os=$2
. "$(dirname "$0")/lib.sh"
need_kvm
make_tmp
run() {
	mkdir -p "$tmp/$1"
	timeout 300 "$shade" host --quiet --census --sample-ms 1000 --share-rate "$1" \
		--log-dir "$tmp/$1" --vm os --clones 4 --mem 128M --kernel "$os/kernel.elf" \
		--module "$os/initrd.tar" --cmdline "-- sleep 8000" 2>"$tmp/$1.err"
	echo $?
}
col() { awk -v r="$2" -v f="$3" '$1 == r { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == f) print kv[2] } }' "$1"; }
peak() { awk -v f="$2" '$1 == "sample" { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	if (v["pages_sharing"] + 0 > best) { best = v["pages_sharing"] + 0; val = v[f] } } END { print val }' "$1"; }
s0=$(run 0)
s1=$(run 20000)
check "without sharing: host status 1 (got $s0)" '[ "$s0" -eq 1 ]'
check "with sharing: host status 1 (got $s1)" '[ "$s1" -eq 1 ]'
ident=$(col "$tmp/0.err" census identical_pages | tail -1)
max0=$(col "$tmp/0.err" sample resident_bytes | sort -n | tail -1)
rmax0=$(col "$tmp/0.err" sample rss_shmem_kb | sort -n | tail -1)
at1=$(peak "$tmp/20000.err" resident_bytes)
rat1=$(peak "$tmp/20000.err" rss_shmem_kb)
saved=$(( (${max0:-0} - ${at1:-0}) / 4096 ))
rsaved=$(( (${rmax0:-0} - ${rat1:-0}) / 4 ))
echo "# identical backed pages: ${ident:-?}; released: $saved frames (memfd), $rsaved (RssShmem)"
check "the census found identical pages (${ident:-none})" '[ "${ident:-0}" -gt 100 ]'
check "memfd blocks: >= 80 % of the identical pages released ($saved of ${ident:-?})" \
	'[ $((saved * 10)) -ge $((${ident:-1} * 8)) ]'
check "RssShmem: >= 80 % of the identical pages released ($rsaved of ${ident:-?})" \
	'[ $((rsaved * 10)) -ge $((${ident:-1} * 8)) ]'
for vm in os1 os2 os3 os4; do
	check "$vm: its runner finished with sharing" \
		'grep -q "script done: 1 commands, 0 failed" "$tmp/20000/$vm.log"'
done
exit "$fail"
