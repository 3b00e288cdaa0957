/*
 * higher-half.c: guest "higher-half": a kernel linked at 0x80100000, loaded at 1 MiB,
 * whose ELF entry point is the physical address of its boot code (higher-half.ld,
 * higher-half-boot.S). A multiboot loader must start it there, as QEMU's does: the
 * entry is not translated by the segment's virtual-to-physical offset when it already
 * lies in the segment's physical range.
 */
#include "test.h"
#include "x86.h"

extern u32 hh_entry_eip;   /* physical EIP after the entry's first 3 instructions */
extern char hh_start[];

void test_main(void)
{
	test__begin("higher-half");
	test__eq((u32)(uintptr_t)hh_start - 0x80000000u + 12, hh_entry_eip,
		 "started at the physical entry point (e_entry)");
	test__ok((u32)(uintptr_t)test_main >= 0x80100000u, "running at the linked address 0x%x",
		 (u32)(uintptr_t)test_main);
	test__eq(0x80000000u, read_cr0() & 0x80000000u, "paging on");
}
