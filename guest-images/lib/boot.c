/*
 * boot.c: C side of the entry. Init order: serial console, IDT (all vectors to the
 * trap stubs), CPUID snapshot, PIC remapped to 0x20/0x28 with every line masked
 * (firmware may leave the PIT ticking on IRQ0 at vector 8, which would look like a
 * double fault), then the guest's test_main, then the report.
 */
#include "cpu.h"
#include "pic.h"
#include "desc.h"
#include "serial.h"
#include "test.h"

void boot__main(void);

void boot__main(void)
{
	serial__init();
	idt__init();
	cpu__probe();
	pic__remap(PIC_MASTER_BASE, PIC_SLAVE_BASE);
	pic__set_mask(0xffff);
	test_main();
	test__done();
}
