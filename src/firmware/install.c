/*
 * install.c: putting the firmware's work into a VM, as a BIOS and QEMU's -kernel path
 * leave it before the kernel's first instruction: the BIOS data area, the EBDA, the F
 * segment with the MP and ACPI tables, a blank text screen, and fw_cfg's items.
 *
 * Runs as the init step after the kernel image is loaded (it reads the multiboot
 * information the loader built, for fw_cfg's kernel, command-line and initrd items).
 * The fw_cfg items follow QEMU's PC: RAM_SIZE (i64), NB_CPUS and MAX_CPUS (i16),
 * NOGRAPHIC (i16, 1: shade has no graphical display), IRQ0_OVERRIDE (i32, 1), the file
 * "etc/e820". For a multiboot boot QEMU gives KERNEL_ADDR/SIZE/DATA as the multiboot
 * information block and KERNEL_ENTRY; shade does the same, and adds CMDLINE_ADDR/SIZE/
 * DATA (the command line string, NUL included) and INITRD_ADDR/SIZE (the first module,
 * where it was loaded), the items QEMU gives for its other -kernel boots.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cga.h"
#include "devices.h"
#include "firmware.h"
#include "fw_cfg.h"
#include "vm.h"

#define MBI_SIZE 120          /* what src/vmm/multiboot.c writes */

static int write_guest(struct vm *vm, uint64_t gpa, const void *buf, size_t len)
{
	return pmap__write(&vm->pmap, GPA(gpa), buf, len);
}

static int install_tables(struct vm *vm)
{
	uint8_t *fseg = calloc(1, FW_FSEG_SIZE);
	uint8_t bda[256], ebda[1024];
	uint64_t rsdp, mpfp;
	uint32_t id[4];
	int r;

	if (!fseg)
		return -ENOMEM;
	cpuid__lookup(&vm->cpuid, 1, 0, id);
	struct fw_platform p = { .ncpus = vm->nvcpus ? vm->nvcpus : 1,
				 .cpu_signature = id[0], .cpu_features = id[3] };
	struct fw_area a = { fseg, FW_FSEG_BASE, FW_FSEG_SIZE, 0 };
	if ((r = firmware__build_acpi(&a, &p, &rsdp)) ||
	    (r = firmware__build_mptable(&a, &p, &mpfp)))
		goto out;
	firmware__build_bda(bda, ebda);
	/* Only what the tables use: the rest of the segment stays unbacked (it reads as
	 * zeros all the same) instead of adding zero pages for sharing to find. */
	if ((r = write_guest(vm, FW_FSEG_BASE, fseg, a.used)) ||
	    (r = write_guest(vm, FW_BDA_BASE, bda, sizeof(bda))) ||
	    (r = write_guest(vm, FW_EBDA_BASE, ebda, sizeof(ebda))))
		goto out;
	/* A BIOS leaves mode 3 with a cleared screen: blank cells, not zeros; the page on
	 * display only (the rest of the 32 KiB reads as zeros, which show as blanks too).
	 * The F-segment buffer is reused. */
	cga__blank(fseg);
	r = write_guest(vm, CGA_VRAM, fseg, CGA_COLS * CGA_ROWS * 2);
out:
	free(fseg);
	return r;
}

static int boot_items(struct vm *vm, struct fw_cfg *f)
{
	uint32_t mbi[MBI_SIZE / 4];
	int r = pmap__read(&vm->pmap, GPA(vm->mbi), mbi, sizeof(mbi));
	if (r)
		return r;
	if ((r = fw_cfg__add_i32(f, FW_CFG_KERNEL_ADDR, (uint32_t)vm->mbi)) ||
	    (r = fw_cfg__add_i32(f, FW_CFG_KERNEL_SIZE, sizeof(mbi))) ||
	    (r = fw_cfg__add_i32(f, FW_CFG_KERNEL_ENTRY, (uint32_t)vm->entry)) ||
	    (r = fw_cfg__add_bytes(f, FW_CFG_KERNEL_DATA, mbi, sizeof(mbi))))
		return r;
	/* The command line: flag bit 2, address in word 4; bounded by the loader's area. */
	if (mbi[0] & BIT(2)) {
		char cmd[0x10000 - 0x8000];
		size_t n = 0;
		while (n < sizeof(cmd) - 1 && !pmap__read(&vm->pmap, GPA(mbi[4] + n), &cmd[n], 1) &&
		       cmd[n])
			n++;
		cmd[n] = 0;
		if ((r = fw_cfg__add_i32(f, FW_CFG_CMDLINE_ADDR, mbi[4])) ||
		    (r = fw_cfg__add_i32(f, FW_CFG_CMDLINE_SIZE, (uint32_t)n + 1)) ||
		    (r = fw_cfg__add_bytes(f, FW_CFG_CMDLINE_DATA, cmd, (uint32_t)n + 1)))
			return r;
	}
	/* The first module (flag bit 3: count in word 5, list in word 6). */
	if ((mbi[0] & BIT(3)) && mbi[5]) {
		uint32_t mod[2];
		if ((r = pmap__read(&vm->pmap, GPA(mbi[6]), mod, sizeof(mod))) ||
		    (r = fw_cfg__add_i32(f, FW_CFG_INITRD_ADDR, mod[0])) ||
		    (r = fw_cfg__add_i32(f, FW_CFG_INITRD_SIZE, mod[1] - mod[0])))
			return r;
	}
	return 0;
}

int firmware__install(struct vm *vm)
{
	struct fw_cfg *f = devices__fw_cfg(vm);
	struct fw_e820 map[8];
	unsigned n = firmware__e820(vm->cfg.mem_bytes, map);
	int r = install_tables(vm);

	if (!r && f) {
		if ((r = fw_cfg__add_i64(f, FW_CFG_RAM_SIZE, vm->cfg.mem_bytes)) ||
		    (r = fw_cfg__add_i16(f, FW_CFG_NB_CPUS, 1)) ||
		    (r = fw_cfg__add_i16(f, FW_CFG_MAX_CPUS, VM_MAX_VCPUS)) ||
		    (r = fw_cfg__add_i16(f, FW_CFG_NOGRAPHIC, 1)) ||
		    (r = fw_cfg__add_i32(f, FW_CFG_IRQ0_OVERRIDE, 1)) ||
		    (r = fw_cfg__add_file(f, "etc/e820", map, n * (uint32_t)sizeof(map[0]))) ||
		    (r = boot_items(vm, f)))
			return r;
	}
	return r;
}
