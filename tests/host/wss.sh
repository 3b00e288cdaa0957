#!/bin/sh
# wss.sh SHADE OSDIR: the working-set estimator against known working sets. Three 32 MiB
# VMs (8192 guest pages each) run memtouch over 3, 16 and 29 MiB (768, 4096 and 7424
# pages: 9.4, 50 and 90.6 % of the VM) for 45 s, touching every page of it continuously.
# Sampling is ESX's 100 pages per period, with a 1 s period. In each VM's touch phase,
# the mean of its estimated active fraction over 10 periods must be within 0.10 of its
# working set's share of guest memory (the guest kernel's own activity is part of the
# error). The 10 periods are each VM's own, from when its memtouch reports 12 s of
# touching: the fills take as long as the host's load makes them (w50's 16 MiB took
# 105 s with two CPU hogs and parallel tests), so on a busy host one VM can be done
# touching before another has started, and no single window fits all three.
set -u
shade=$1 os=$2
. "$(dirname "$0")/lib.sh"
need_kvm
make_tmp
vm() { echo "--vm $1 --mem 32M --kernel $os/kernel.elf --module $os/initrd.tar --cmdline"; }

timeout 1200 "$shade" host --quiet --log-dir "$tmp" --share-rate 0 --alloc-ms 1000 \
	--wss-ms 1000 --wss-pages 100 --csv "$tmp/ms.csv" --swap-dir "$tmp" --ctl "$tmp/ctl" \
	$(vm w10) "-- memtouch 3 time=45" $(vm w50) "-- memtouch 16 time=45" \
	$(vm w90) "-- memtouch 29 time=45" 2>"$tmp/err" &
pid=$!
# wait until every VM has been touching for 12 s (its fill done, the averages settled);
# a hang guard of 600 s (the slowest fill took ~200 s with two CPU hogs and parallel
# tests), as the run's own is 1200 s (the test took 351 s under that load)
i=0
while [ $i -lt 1200 ]; do
	n=0
	for v in w10 w50 w90; do
		grep -q "progress t=12s" "$tmp/$v.log" 2>/dev/null || continue
		n=$((n + 1))
		# the host time of the last CSV row when this VM was first seen at 12 s
		[ -e "$tmp/mark.$v" ] || tail -n 1 "$tmp/ms.csv" | cut -d, -f1 >"$tmp/mark.$v"
	done
	[ $n -eq 3 ] && break
	i=$((i + 1)); sleep 0.5
done
check "all three VMs reached 12 s of touching" '[ $n -eq 3 ]'
sleep 10
# the live views of the same numbers: shade top (batch and panel) and query-memsched
"$shade" top -b -n 2 -d 0.5 "$tmp/ctl" >"$tmp/top.csv"
check "shade top -b prints the CSV header and a row per VM per refresh" \
	'head -1 "$tmp/top.csv" | grep -q "^t_ms,vm,state,MEMSZ,MIN,SHARES,GRANT,SZTGT,TCHD" && [ "$(grep -c ",w[159]0,high," "$tmp/top.csv")" -eq 6 ]'
"$shade" top -n 1 "$tmp/ctl" >"$tmp/top.txt"
check "shade top shows the memory panel" \
	'grep -q "MEMSZ.*GRANT.*SZTGT.*TCHD.*MCTLSZ.*SWCUR" "$tmp/top.txt" && grep -q "^w50 " "$tmp/top.txt"'
"$shade" ctl "$tmp/ctl" - query-memsched >"$tmp/q.json"
check "query-memsched answers with the host state and the VMs" \
	'grep -q "\"state\":\"high\"" "$tmp/q.json" && grep -q "\"name\":\"w90\"" "$tmp/q.json"'
wait $pid
status=$?
check "host status 1: every memtouch checked its pages (got $status)" '[ "$status" -eq 1 ]'
# the mean of each VM's 10 rows after its mark (t=12 s of touching), column "active"
for spec in w10:768 w50:4096 w90:7424; do
	v=${spec%%:*} pages=${spec#*:}
	mark=$(cat "$tmp/mark.$v" 2>/dev/null)
	r=$(awk -F, -v vm="$v" -v ws="$pages" -v mark="${mark:-999999999}" '
		NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		$col["vm"] == vm && $1 > mark && n < 10 { a[n++] = $col["active"] }
		END { if (n < 10) { print "none"; exit }
		      for (k = 0; k < n; k++) s += a[k]; m = s / 10; e = ws / 8192
		      printf "%.4f %.4f %.4f\n", m, e, m - e }' "$tmp/ms.csv")
	est=$(echo "$r" | cut -d' ' -f1) exp=$(echo "$r" | cut -d' ' -f2) err=$(echo "$r" | cut -d' ' -f3)
	echo "# $v: estimated active fraction $est, working set $exp of guest memory, error $err"
	check "$v: the estimate is within 0.10 of the working set" \
		'[ "$est" != none ] && awk -v d="$err" "BEGIN { exit !(d <= 0.10 && d >= -0.10) }"'
done
[ "$fail" -eq 0 ] || { echo "--- stderr"; grep -v '^sample' "$tmp/err" | tail -20; }
exit "$fail"
