#!/bin/sh
# demo.sh: build shade and boot the bundled test guests deprivileged, one after the
# other, printing each guest's console and shade's per-VM counters (exits, traps,
# emulated instructions). This is the best that works so far: the overcommit demo (several
# VMs sharing, ballooning and being taxed) needs the issues that build those.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
for g in build/guest-images/tests/*.elf; do
	name=$(basename "$g" .elf)
	case $name in bench-*) continue ;; esac
	echo "=== shade run --stats $g"
	status=0
	printf 'shade-uart-input\n' | ./build/shade run --stats "$g" || status=$?
	echo "=== $name: exit status $status (1 = the guest reported success)"
done
