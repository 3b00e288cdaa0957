#!/bin/sh
# run-balloon.sh: the bundled OS's virtio-balloon driver under QEMU (TCG) with QEMU's
# own virtio-balloon-pci device (legacy interface), the host side driven through QMP by
# balloon-qemu.py: inflate to half of guest memory, check the guest's actual and
# statistics from the host, verify the guest's remaining memory, deflate, verify again.
# With "oom", the device offers DEFLATE_ON_OOM and the guest must deflate on memory
# pressure. QEMU only for now: shade's balloon device is not written yet.
#
#   run-balloon.sh KERNEL INITRD [oom]
#
# Environment: OS_MEM (MiB, 256). Skips (77) without qemu-system-x86_64 or python3.
set -u
kernel=$1 initrd=$2 mode=${3:-}
for tool in qemu-system-x86_64 python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool is not installed"
		exit 77
	fi
done
exec python3 "$(dirname "$0")/balloon-qemu.py" "$kernel" "$initrd" "${OS_MEM:-256}" $mode
