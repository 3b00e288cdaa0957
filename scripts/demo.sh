#!/bin/sh
# demo.sh: build shade and its bundled guest OS, then run shade's main job: several VMs
# on one pool of machine memory smaller than their RAM, sharing identical pages.
# Four VMs of 256 MiB each (1 GiB of guest RAM) run on a 320 MiB pool; each VM's
# guest OS runs memtouch over 32 MiB of identical pages and idles, then prints its
# memory info. Every 2 s shade prints a 'sample' line (machine memory in use, memfd
# blocks really resident, RssShmem, shared frames and the references they save); at the
# end every VM's counters and the host's. Console logs go to demo-logs/.
# What the demo cannot show yet: ballooning and the idle memory tax (not built).
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
os=build/guest-images/os
exec ./build/shade host --machine-mem 320M --share-rate 5000 --sample-ms 2000 --stats \
	--log-dir demo-logs \
	--vm os --clones 4 --mem 256M --kernel $os/kernel.elf --module $os/initrd.tar \
	--cmdline "-- memtouch 32 fill=same idle time=20; meminfo"
