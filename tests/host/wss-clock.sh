#!/bin/sh
# wss-clock.sh SHADE OSDIR: the working-set sampler's clock. With --wss-clock run a
# sampling period is 500 ms of the VM's run time (the CPU time its vCPU used, as ESX
# counts it), so a VM that sleeps in HLT completes far fewer periods than one that runs
# all the time; with the default wall clock both complete one period per 500 ms. Two
# 16 MiB VMs for 20 s: "busy" touches 4 MiB continuously, "idle" sleeps.
#   run:  idle runs less than half as long as busy and completes at most half as many
#         periods; busy completes one period per 500 ms of its run time, each period
#         stretched by the time to its next exit but short of the 1000 ms of a clock at
#         half speed;
#   wall: both complete about the same number of periods (within 25 %).
set -u
shade=$1 os=$2
. "$(dirname "$0")/lib.sh"
need_kvm
make_tmp
vm() { echo "--vm $1 --mem 16M --kernel $os/kernel.elf --module $os/initrd.tar --cmdline"; }

for clock in run wall; do
	# a hang guard (two 20 s guests took 100 s with two CPU hogs and parallel tests)
	timeout 500 "$shade" host --quiet --log-dir "$tmp/$clock" --share-rate 0 --swap-dir "$tmp" \
		--wss-ms 500 --wss-clock $clock --stats \
		$(vm busy) "-- memtouch 4 time=20" $(vm idle) "-- memtouch 1 idle time=20" \
		2>"$tmp/$clock.err"
	status=$?
	check "$clock: host status 1, both guests' scripts passed (got $status)" '[ "$status" -eq 1 ]'
done

rb=$(stat_of "$tmp/run.err" busy.mem.run_ms) ri=$(stat_of "$tmp/run.err" idle.mem.run_ms)
pb=$(stat_of "$tmp/run.err" busy.mem.samples) pi=$(stat_of "$tmp/run.err" idle.mem.samples)
echo "# run clock: busy ran ${rb:-?} ms and sampled ${pb:-?} periods; idle ran ${ri:-?} ms and sampled ${pi:-?}"
check "run: the sleeping VM ran under half as long as the busy one" \
	'[ -n "$rb" ] && [ -n "$ri" ] && [ $((2 * ri)) -lt "$rb" ]'
check "run: the sleeping VM completed at most half as many periods" \
	'[ -n "$pb" ] && [ -n "$pi" ] && [ "$pb" -ge 10 ] && [ $((2 * pi)) -le "$pb" ]'
# No period is shorter than 500 ms of run time. A period ends at the first tick (an exit
# of the busy VM, at the latest its next timer interrupt) after its 500 ms and the next
# one starts there, so each is longer by a few ms of CPU time, whatever the host's load
# (the clock stands still while the thread waits for a CPU). The upper bound catches a
# run clock at half speed (1000 ms periods): (pb + 2) * 600 >= rb fails for those
# whenever rb > 3000 ms; the busy VM uses a CPU for most of its 20 s even next to two
# CPU hogs. The + 2 is the first period (no sample yet) and the last (cut short).
check "run: periods follow run time (busy: ${pb:-?} periods of 500 ms in ${rb:-?} ms)" \
	'[ $((pb * 500)) -le "$rb" ] && [ "$rb" -gt 3000 ] && [ $(((pb + 2) * 600)) -ge "$rb" ]'
wb=$(stat_of "$tmp/wall.err" busy.mem.samples) wi=$(stat_of "$tmp/wall.err" idle.mem.samples)
echo "# wall clock: busy sampled ${wb:-?} periods, idle ${wi:-?}"
check "wall: both VMs completed about as many periods (within 25 %)" \
	'[ -n "$wb" ] && [ -n "$wi" ] && [ "$wb" -ge 10 ] && [ $((4 * wi)) -ge $((3 * wb)) ] && [ $((4 * wb)) -ge $((3 * wi)) ]'
[ "$fail" -eq 0 ] || { echo "--- stderr"; grep -v '^sample' "$tmp/run.err" | grep -v '\.' | tail -10; }
exit "$fail"
