#!/bin/sh
# demo.sh: build shade and its bundled guest OS, then run shade's main job: several VMs
# overcommitted on one pool of machine memory, ESX-style. Four VMs of 64 MiB each
# (256 MiB of guest RAM) on a 52 MiB host, tau = 75 %:
#   web1, web2  fill 24 MiB with identical pages and idle: page sharing merges them;
#   cache       touches 40 MiB, frees it and idles: the balloon takes it back;
#   batch       touches 44 MiB over and over: the idle memory tax moves memory to it
#               (the idle VMs' balloons, then host swapping).
# While it runs, `shade top` prints the memory panel every 5 s (granted, target, working
# set, balloon, swap, shared, zero per VM, and the host's free-memory state). At the end
# every VM's counters and the host's; the per-period time series is in
# demo-logs/memsched.csv, the console logs in demo-logs/.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
os=build/guest-images/os
mkdir -p demo-logs
ctl=demo-logs/ctl.sock
vm() { echo "--vm $1 --mem 64M --kernel $os/kernel.elf --module $os/initrd.tar --cmdline"; }
./build/shade host --machine-mem 52M --tau 75 --share-rate 4000 --alloc-ms 500 --wss-ms 2000 \
	--swap-dir demo-logs --csv demo-logs/memsched.csv --ctl $ctl --stats --quiet --log-dir demo-logs \
	$(vm web1) "-- memtouch 24 fill=same idle time=70; meminfo" \
	$(vm web2) "-- memtouch 24 fill=same idle time=70; meminfo" \
	$(vm cache) "-- memtouch 40 fill=seed:3; sleep 60000; meminfo" \
	$(vm batch) "-- memtouch 44 fill=seed:4 time=50; meminfo" 2>demo-logs/host.err &
pid=$!
sleep 3
./build/shade top -d 5 $ctl || true
status=0
wait $pid || status=$?
grep -v '^sample' demo-logs/host.err | grep -E '^shade:|\.mem\.(swap_outs|swap_ins|active) |\.share\.shared |balloon\.inflated|^host\.(mem|swap|share)\.' || true
echo "(time series: demo-logs/memsched.csv; console logs: demo-logs/*.log)"
# shade host exits with 1 when every guest reported success (see README)
[ "$status" -eq 1 ] && exit 0
exit "$status"
