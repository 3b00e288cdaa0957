#!/bin/sh
# balloon.sh SHADE OSDIR: ballooning the bundled OS through shade's virtio-balloon and the
# host's control socket. A 128 MiB VM touches 64 MiB (memtouch), frees it, and waits;
# `shade ctl ... balloon 64M` asks it to keep 64 MiB: the guest's driver inflates by
# 16384 pages and the host's resident memory (memfd blocks) must drop by at least 80 %
# of that while the guest keeps running; `verify` then finds no corruption; the balloon
# is deflated again (`balloon 128M`) and `verify` runs once more. query-balloon and
# query-memstats must answer with the guest's numbers.
set -u
shade=$1 os=$2
. "$(dirname "$0")/lib.sh"
need_kvm
make_tmp
ctl() { "$shade" ctl "$tmp/ctl" b "$@"; }
# wait_for PATTERN SECONDS: until the VM's log has a line matching PATTERN
wait_for() {
	i=0
	while ! grep -q -- "$1" "$tmp/b.log" 2>/dev/null; do
		i=$((i + 1)); [ $i -gt $(($2 * 5)) ] && return 1; sleep 0.2
	done
}
resident() { awk '$1 == "sample" { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "resident_bytes") v = kv[2] } } END { print v }' "$tmp/err"; }

# Hang guards only: with two CPU hogs and parallel tests (load 15-18) the whole run took
# over 600 s, the verify passes being interpreted kernel work at a fraction of a CPU.
timeout 1700 "$shade" host --quiet --ctl "$tmp/ctl" --sample-ms 250 --stats --log-dir "$tmp" \
	--share-rate 0 --vm b --mem 128M --kernel "$os/kernel.elf" --module "$os/initrd.tar" \
	--cmdline "-- memtouch 64 fill=seed:5; balloon wait 16384 300; verify 32 passes=1; balloon wait 0 300; verify 32 passes=1; meminfo" \
	2>"$tmp/err" &
pid=$!
check "the guest finished touching 64 MiB and waits for the balloon" 'wait_for "^\$ balloon wait 16384" 400'
sleep 1
before=$(resident)
check "shade ctl balloon 64M is accepted" 'ctl balloon 64M >/dev/null'
check "the guest inflated by 16384 pages" 'wait_for "^balloon: target 16384 pages, actual 16384 pages" 120'
sleep 1
after=$(resident)
qb=$(ctl query-balloon)
check "query-balloon reports the guest keeps 64 MiB ($qb)" '[ "$qb" = "{\"actual\":67108864}" ]'
ctl query-memstats >"$tmp/ms"
check "query-memstats has the guest's own statistics" 'grep -q "^unused [0-9]" "$tmp/ms" && grep -q "^available [0-9]" "$tmp/ms" && grep -q "^actual 65536$" "$tmp/ms"'
released=$(( (${before:-0} - ${after:-0}) / 4096 ))
echo "# resident before inflating $before bytes, after $after: $released frames released"
check "the host got back >= 80 % of 16384 frames ($released)" '[ $((released * 10)) -ge $((16384 * 8)) ]'
check "verify finds no corruption with the balloon inflated" 'wait_for "^verify: 32 MiB, 1 passes, 0 corrupted pages" 900'
check "shade ctl balloon 128M (deflate) is accepted" 'wait_for "^\$ balloon wait 0" 60 && ctl balloon 128M >/dev/null'
check "the guest deflated" 'wait_for "^balloon: target 0 pages, actual 0 pages" 120'
wait $pid
status=$?
pid=
check "host status 1: the runner's script passed (got $status)" '[ "$status" -eq 1 ]'
check "verify again after deflating" '[ "$(grep -c "^verify: 32 MiB, 1 passes, 0 corrupted pages" "$tmp/b.log")" -eq 2 ]'
bad=$(stat_of "$tmp/err" b.balloon.device_errors)
check "no device errors (${bad:-?})" '[ "${bad:-1}" -eq 0 ]'
[ "$fail" -eq 0 ] || { echo "--- guest log"; tail -20 "$tmp/b.log"; }
exit "$fail"
