/*
 * hx-io.c: rounds of random MSR access and random port I/O.
 *
 * MSRs: RDMSR and WRMSR at CPL 0 of interesting indexes (EFER, SYSENTER, PAT, TSC,
 * APIC base, MTRRs, machine-check banks, VMX capabilities, x2APIC, SYSCALL and segment
 * bases, AMD ranges) and random ones, writing random values or the value read with a
 * few bits flipped; now and then one from CPL 3. A real CPU gives #GP for a bad index
 * or value.
 *
 * Ports: IN/OUT of every width, and string I/O, on every device shade has (UART 0x3f8,
 * PICs 0x20/0xa0 and ELCR 0x4d0, PIT 0x40-0x43 and 0x61, RTC 0x70/0x71, PCI 0xcf8/0xcfc
 * with random config addresses, the balloon's I/O BAR) and on random ports; the
 * debug-exit port 0xf4-0xf7 excepted. The round's reset reprograms every device.
 */
#include "cpu.h"
#include "hostile.h"
#include "printf.h"
#include "x86.h"

static const u32 msrs[] = {
	0x10, 0x1b, 0x3a, 0x8b, 0xfe, 0x174, 0x175, 0x176, 0x179, 0x17a, 0x17b, 0x1a0,
	0x1d9, 0x200, 0x201, 0x20f, 0x250, 0x258, 0x259, 0x268, 0x26f, 0x277, 0x2ff, 0x400,
	0x401, 0x402, 0x403, 0x480, 0x481, 0x491, 0x600, 0x6e0, 0x802, 0x80f, 0x830, 0x8ff,
	0xc0000080, 0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, 0xc0000100, 0xc0000101,
	0xc0000102, 0xc0000103, 0xc0010000, 0xc0010015, 0xc0011022, 0x40000000, 0x4b564d00,
	0x4b564d01, 0xffffffff,
};

static u32 msr_index;
static u64 msr_value;

static void do_rdmsr(u32 unused)
{
	(void)unused;
	msr_value = rdmsr(msr_index);
}

static void do_wrmsr(u32 unused)
{
	(void)unused;
	wrmsr(msr_index, msr_value);
}

void hx__round_msr(void)
{
	for (u32 n = 8 + hx__below(24); n; n--) {
		char what[64];
		u32 r;

		if (hx__chance(2))
			msr_index = hx__pick(msrs, ARRAY_SIZE(msrs));
		else if (hx__chance(2))
			msr_index = hx__pick(msrs, ARRAY_SIZE(msrs)) + hx__below(32);
		else
			msr_index = hx__rand();
		if (hx__chance(12)) {
			/* from CPL 3: RDMSR (0f 32) then UD2 */
			struct hx_regs regs;
			u8 *c = (u8 *)HX_CODE;
			c[0] = 0x0f, c[1] = hx__chance(2) ? 0x32 : 0x30, c[2] = 0x0f, c[3] = 0x0b;
			hx__random_regs(&regs, 0, 3);
			regs.ecx = msr_index;
			snprintf(what, sizeof(what), "cpl3 %s 0x%x", c[1] == 0x32 ? "rdmsr" : "wrmsr",
				 msr_index);
			printf("  %s\n", what);
			hx__report(hx__run(&regs, 3, 10));
			continue;
		}
		printf("  rdmsr 0x%x\n", msr_index);
		r = hx__try(do_rdmsr, 0);
		if (!r)
			printf("    -> %llx\n", msr_value);
		else
			hx__report(r);
		if (hx__chance(2))
			continue;
		if (!r && hx__chance(2))
			msr_value ^= 1ull << hx__below(64);
		else
			msr_value = ((u64)hx__rand() << 32) | hx__rand();
		printf("  wrmsr 0x%x %llx\n", msr_index, msr_value);
		hx__report(hx__try(do_wrmsr, 0));
	}
}

static u16 random_port(void)
{
	static const u32 ports[] = { 0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x3fe, 0x3ff,
				     0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1, 0x40, 0x41, 0x42,
				     0x43, 0x61, 0x70, 0x71, 0xcf8, 0xcfa, 0xcfb, 0xcfc,
				     0xcfd, 0xcfe, 0xcff, 0x80 };
	u16 p;
	do {
		u32 k = hx__below(8);
		if (k < 4)
			p = (u16)hx__pick(ports, ARRAY_SIZE(ports));
		else if (k < 6 && hx.balloon_io)
			p = (u16)(hx.balloon_io + hx__below(0x24));
		else
			p = (u16)hx__rand();
	/* Not the debug exit (a wide access at 0xf1-0xf3 reaches 0xf4), nor the reset
	 * ports QEMU has (0x64, 0x92, 0xcf9), nor ACPI's PM1a_CNT (0x604, reached from
	 * 0x601 on by wide accesses), whose SLP_EN powers off: the guest runs on. */
	} while ((p >= 0xf1 && p <= 0xf7) || p == 0x64 || p == 0x92 || p == 0xcf9 ||
		 (p >= 0x601 && p <= 0x605));
	return p;
}

/* REP INS/OUTS of `count` bytes or dwords between `port` and the data page. */
static void string_io(u16 port, bool out, u32 width, u32 count)
{
	void *buf = (void *)HX_DATA;
	u8 insn = (u8)((out ? 0x6e : 0x6c) + (width > 1));

	if (insn == 0x6c)
		asm volatile("rep insb" : "+D"(buf), "+c"(count) : "d"(port) : "memory");
	else if (insn == 0x6d)
		asm volatile("rep insl" : "+D"(buf), "+c"(count) : "d"(port) : "memory");
	else if (insn == 0x6e)
		asm volatile("rep outsb" : "+S"(buf), "+c"(count) : "d"(port) : "memory");
	else
		asm volatile("rep outsl" : "+S"(buf), "+c"(count) : "d"(port) : "memory");
}

void hx__round_io(void)
{
	u32 n = 16 + hx__below(112), ins = 0, outs = 0;

	hx__fill((void *)HX_DATA, 4096);
	for (u32 i = 0; i < n; i++) {
		u16 port = random_port();
		u32 w = 1u << hx__below(3), v = hx__rand();
		/* QEMU's 16550 asserts on a wider access (it would abort, not fault) */
		if (cpu__info.tcg && (port & 0xfff8) == 0x3f8)
			w = 1;
		bool out = hx__chance(2);
		if ((port & 0xfffc) == 0xcf8 && out && hx__chance(2))
			v = 0x80000000u | (hx__below(256) << 8) | (hx__rand() & 0xfc) |
			    (hx__chance(4) ? hx__below(256) << 16 : 0);
		if (hx__chance(16) && w != 2) {
			string_io(port, out, w, 1 + hx__below(16));
		} else if (out) {
			if (w == 1) outb(port, (u8)v);
			else if (w == 2) outw(port, (u16)v);
			else outl(port, v);
		} else {
			if (w == 1) v = inb(port);
			else if (w == 2) v = inw(port);
			else v = inl(port);
		}
		ins += !out;
		outs += out;
	}
	hx__reset_devices();
	printf("  %u port accesses (%u in, %u out)\n", n, ins, outs);
}
