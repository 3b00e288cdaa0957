#!/bin/sh
# alloc-ctl.sh SHADE OSDIR: changing the allocation at run time through the control
# socket (shade ctl: shares, min, tau). Two 32 MiB VMs, a and b, with equal shares and
# tau = 0 on a 40 MiB host, both idle after filling 4 MiB, so their targets come from
# the shares alone:
#   equal shares:        the two targets are within 1 MiB of each other;
#   shares a = 10 x b:   a's target is at least 4 times b's within 2 policy periods;
#   balloon a 20M:       a's target is at most 20 MiB and its balloon target at least
#                        12 MiB, kept period after period, until balloon a 32M lifts it;
#   min b = 20 MiB:      b's target is at least 20 MiB;
#   tau 50:              query-memsched and the CSV's tau column say 0.50;
# and bad requests (shares 0, a min larger than the VM, mins that do not fit machine
# memory, tau 100, an unknown VM) are refused with one line and exit status 2. Both
# guests still pass: memtouch finds its pages intact.
set -u
shade=$1 os=$2
. "$(dirname "$0")/lib.sh"
need_kvm
make_tmp
vm() { echo "--vm $1 --mem 32M --kernel $os/kernel.elf --module $os/initrd.tar --cmdline"; }
# last VM COLUMN: the VM's latest value of that CSV column
last() { awk -F, -v vm="$1" -v c="$2" 'NR == 1 { for (i = 1; i <= NF; i++) k[$i] = i; next }
	$k["vm"] == vm { v = $k[c] } END { print v }' "$tmp/ms.csv"; }
ctl() { "$shade" ctl "$tmp/ctl" "$@"; }
# settle: wait 2 periods of 250 ms after a change, then copy the CSV's latest rows
settle() { sleep 0.6; }

timeout 800 "$shade" host --quiet --log-dir "$tmp" --share-rate 0 --machine-mem 40M --tau 0 \
	--alloc-ms 250 --csv "$tmp/ms.csv" --swap-dir "$tmp" --ctl "$tmp/ctl" \
	$(vm a) "-- memtouch 4 fill=seed:1 idle time=20" \
	$(vm b) "-- memtouch 4 fill=seed:2 idle time=20" 2>"$tmp/err" &
pid=$!
i=0
while [ $i -lt 300 ] && ! { grep -q "memtouch: filled" "$tmp/a.log" 2>/dev/null &&
	grep -q "memtouch: filled" "$tmp/b.log" 2>/dev/null; }; do
	i=$((i + 1)); sleep 0.5
done
check "both VMs filled their 4 MiB" 'grep -q "memtouch: filled" "$tmp/b.log"'
settle
ta=$(last a SZTGT) tb=$(last b SZTGT)
check "equal shares: targets within 1 MiB (a $ta, b $tb MiB)" \
	'awk -v a="$ta" -v b="$tb" "BEGIN { d = a - b; exit !(a > 0 && d <= 1 && d >= -1) }"'

sb=$(last b SHARES)
ctl a shares $((10 * sb)) >"$tmp/out" 2>&1
check "shade ctl a shares $((10 * sb)) is accepted" '[ $? -eq 0 ]'
settle
ta=$(last a SZTGT) tb=$(last b SZTGT) sa=$(last a SHARES)
check "shares a = 10 x b: a's target at least 4 times b's (a $ta, b $tb MiB; a has $sa shares)" \
	'[ "$sa" -eq $((10 * sb)) ] && awk -v a="$ta" -v b="$tb" "BEGIN { exit !(a >= 4 * b) }"'

# a balloon set by hand is a limit the policy keeps: a holds at most 20 MiB, so its
# balloon target is at least 12 MiB, period after period, and the guest inflates it
ctl a balloon 20M >"$tmp/out" 2>&1
check "shade ctl a balloon 20M is accepted" '[ $? -eq 0 ]'
settle
settle
ta=$(last a SZTGT) bt=$(last a MCTLTGT)
i=0
while [ $i -lt 40 ] && ! awk -v b="$(last a MCTLSZ)" "BEGIN { exit !(b >= 11.9) }"; do
	i=$((i + 1)); sleep 0.25
done
ba=$(last a MCTLSZ) keep=$(ctl a query-balloon)
check "balloon a = keep 20 MiB: target $ta <= 20, balloon target $bt >= 12, balloon $ba MiB ($keep)" \
	'awk -v t="$ta" -v bt="$bt" -v b="$ba" "BEGIN { exit !(t <= 20 && bt >= 12 && b >= 11.9) }"'
settle
settle
check "the policy keeps the hand-set balloon (balloon target $(last a MCTLTGT) MiB)" \
	'awk -v bt="$(last a MCTLTGT)" "BEGIN { exit !(bt >= 12) }"'
ctl a balloon 32M >"$tmp/out" 2>&1
settle
settle
check "balloon a = keep 32 MiB lifts it (balloon target $(last a MCTLTGT) MiB)" \
	'awk -v bt="$(last a MCTLTGT)" "BEGIN { exit !(bt == 0) }"'

ctl b min 20M >"$tmp/out" 2>&1
check "shade ctl b min 20M is accepted" '[ $? -eq 0 ]'
settle
tb=$(last b SZTGT) mb=$(last b MIN)
check "min b = 20 MiB: b's target is at least 20 MiB (target $tb, MIN $mb)" \
	'awk -v t="$tb" -v m="$mb" "BEGIN { exit !(t >= 20 && m == 20) }"'

ctl - tau 50 >"$tmp/out" 2>&1
check "shade ctl - tau 50 is accepted" '[ $? -eq 0 ]'
settle
ctl - query-memsched >"$tmp/q.json"
check "query-memsched reports tau 0.5" 'grep -q "\"tau\":0.5[,}]" "$tmp/q.json"'
check "the CSV's tau column is 0.50" '[ "$(last a tau)" = 0.50 ]'

# bad requests: one line on stderr, exit status 2, nothing changed
bad() { # NAME PATTERN ARGS...
	name=$1 pat=$2
	shift 2
	ctl "$@" >"$tmp/out" 2>"$tmp/bad"
	st=$?
	check "refused: $name (status $st: $(head -1 "$tmp/bad"))" \
		'[ "$st" -eq 2 ] && [ "$(wc -l <"$tmp/bad")" -eq 1 ] && grep -q "$pat" "$tmp/bad"'
}
bad "shares 0" "at least 1" a shares 0
bad "shares x" "positive integer" a shares x
bad "a min larger than the VM" "more than the VM" a min 33M
bad "mins that do not fit" "does not fit" a min 24M
bad "tau 100" "0 to 99" - tau 100
bad "an unknown VM" "no such VM" c shares 100
settle
check "the refused min left a's min alone" '[ "$(last a MIN)" = 0.00 ]'
check "the refused shares left a's shares alone" '[ "$(last a SHARES)" -eq $((10 * sb)) ]'

wait $pid
status=$?
pid=
check "host status 1: both guests' scripts passed (got $status)" '[ "$status" -eq 1 ]'
for v in a b; do
	check "$v: memtouch found every page intact" \
		'grep -q "^memtouch: checked [0-9]* pages, 0 bad" "$tmp/$v.log"'
done
[ "$fail" -eq 0 ] || { echo "--- stderr"; grep -v '^sample' "$tmp/err" | tail -20; }
exit "$fail"
