/*
 * firmware.c: guest "firmware": what a PC's BIOS leaves for the OS, found and parsed
 * the way a kernel does it, with no knowledge of who built it (SeaBIOS under QEMU,
 * shade's src/firmware/ under shade). Only structure and the platform facts both
 * peers share are checked, never one builder's details:
 *   - BIOS data area: COM1 at 0x400, a serial port in the equipment word, base memory
 *     (0x413) and the EBDA segment (0x40e) that agree;
 *   - the MP floating pointer (EBDA's first KiB, then 0xf0000-0xfffff), its checksum,
 *     the configuration table's checksum, every entry walked to the table's length,
 *     a boot processor, an ISA bus, the I/O APIC at 0xfec00000, ISA IRQ 0 on pin 2,
 *     ExtINT on LINT0 and NMI on LINT1;
 *   - the ACPI RSDP (same scan), its checksums, RSDT (and XSDT when revision >= 2),
 *     every table's checksum; the FADT (SCI 9, PM timer block, DSDT and FACS), the
 *     MADT (local APIC 0xfee00000, a processor, the I/O APIC with GSI base 0, IRQ 0 ->
 *     GSI 2, IRQ 9 level, LINT1 NMI);
 *   - the PM timer advancing at 3.579545 MHz (against 50 ms of PIT channel 2, within
 *     25 %, the best of nine tries: a VMM preempted in one window does not fail it),
 *     24 bits unless the FADT says 32;
 *   - SCI_EN set and cleared through the FADT's SMI_CMD/ACPI_ENABLE/ACPI_DISABLE.
 * It ends as an OS does: the DSDT's \_S5 SLP_TYP written with SLP_EN to PM1a_CNT,
 * which powers the machine off (exit status 0 under both peers).
 */
#include "clock.h"
#include "pit.h"
#include "printf.h"
#include "string.h"
#include "test.h"
#include "x86.h"

/* A physical address as a pointer (paging is off); laundered through asm so the compiler
 * does not take the BIOS data area's low addresses for null-pointer arithmetic. */
static const volatile u8 *phys(u32 a)
{
	asm("" : "+r"(a));
	return (const volatile u8 *)a;
}

#define BDA(off) (*(const volatile u16 *)phys(0x400 + (off)))

static u8 sum(const void *p, u32 len)
{
	u8 s = 0;
	for (u32 i = 0; i < len; i++)
		s = (u8)(s + ((const u8 *)p)[i]);
	return s;
}

/* 16-byte aligned signature with a zero checksum over `len(p)` bytes. */
static const u8 *scan(u32 from, u32 to, const char *sig, u32 siglen, u32 (*len)(const u8 *))
{
	for (u32 a = from; a + 16 <= to; a += 16) {
		const u8 *p = (const u8 *)a;
		if (!memcmp(p, sig, siglen) && len(p) && sum(p, len(p)) == 0)
			return p;
	}
	return NULL;
}

static const u8 *scan_bios(const char *sig, u32 siglen, u32 (*len)(const u8 *), u32 hi)
{
	u32 ebda = (u32)BDA(0x0e) << 4;
	const u8 *p = NULL;
	if (ebda >= 0x80000 && ebda < 0xa0000)
		p = scan(ebda, ebda + 1024, sig, siglen, len);
	return p ? p : scan(0xe0000, hi, sig, siglen, len);
}

static u32 mpf_len(const u8 *p) { return p[8] * 16u; }
static u32 rsdp_len(const u8 *p) { (void)p; return 20; }

static u32 rd32(const u8 *p) { u32 v; memcpy(&v, p, 4); return v; }
static u16 rd16(const u8 *p) { u16 v; memcpy(&v, p, 2); return v; }

static void check_bda(void)
{
	u16 eq = BDA(0x10), kib = BDA(0x13), seg = BDA(0x0e);
	test__eq(0x3f8, BDA(0x00), "BDA 0x400: COM1 at 0x3f8");
	test__ok(((eq >> 9) & 7) >= 1, "BDA 0x410: the equipment word counts a serial port");
	test__range(512, 640, kib, "BDA 0x413: base memory in KiB");
	test__eq((u32)kib << 10, (u32)seg << 4, "BDA 0x40e: the EBDA starts where base memory ends");
	const u8 *e = (const u8 *)((u32)seg << 4);
	test__ok(e[0] >= 1 && ((u32)seg << 4) + e[0] * 1024u <= 0xa0000,
		 "EBDA: its size in KiB (first byte) fits below 640 KiB");
}

static void check_mp(void)
{
	const u8 *f = scan_bios("_MP_", 4, mpf_len, 0x100000);
	if (!test__ok(f != NULL, "MP floating pointer found with a valid checksum"))
		return;
	test__ok(f[9] == 1 || f[9] == 4, "MP spec revision 1.1 or 1.4");
	const u8 *c = (const u8 *)rd32(f + 4);
	if (!test__ok(rd32(f + 4) && !memcmp(c, "PCMP", 4), "MP configuration table present"))
		return;
	u16 len = rd16(c + 4), count = rd16(c + 34);
	test__eq(0, sum(c, len), "MP configuration table checksum");
	test__eq(0xfee00000, rd32(c + 36), "MP table: local APIC address");
	u32 off = 44, cpus = 0, bsp = 0, isa = 0, ioapic = 0, irq0_pin = 99, extint = 0, nmi = 0;
	u8 isa_id = 0xff;
	for (u16 i = 0; i < count && off < len; i++) {
		const u8 *e = c + off;
		switch (e[0]) {
		case 0:
			cpus += e[3] & 1;
			bsp += (e[3] & 3) == 3;
			off += 20;
			continue;
		case 1:
			if (!memcmp(e + 2, "ISA", 3)) {
				isa++;
				isa_id = e[1];
			}
			break;
		case 2:
			ioapic += rd32(e + 4) == 0xfec00000 && (e[3] & 1);
			break;
		case 3:
			if (e[1] == 0 && e[4] == isa_id && e[5] == 0)
				irq0_pin = e[7];
			break;
		case 4:
			extint += e[1] == 3 && e[7] == 0;
			nmi += e[1] == 1 && e[7] == 1;
			break;
		}
		off += 8;
	}
	test__eq(len, off, "MP table: its entries walk exactly to its length");
	test__ok(cpus >= 1 && bsp == 1, "MP table: an enabled boot processor");
	test__eq(1, isa, "MP table: one ISA bus");
	test__eq(1, ioapic, "MP table: the I/O APIC at 0xfec00000, enabled");
	test__eq(2, irq0_pin, "MP table: ISA IRQ 0 on I/O APIC pin 2");
	test__ok(extint >= 1, "MP table: ExtINT on LINT0");
	test__ok(nmi >= 1, "MP table: NMI on LINT1");
}

struct acpi {
	const u8 *fadt, *madt, *dsdt, *facs;
};

static bool table_ok(const u8 *t, const char *where)
{
	return test__ok(t && rd32(t + 4) >= 36 && sum(t, rd32(t + 4)) == 0,
			"%s: length and checksum valid", where);
}

static void walk_sdt(const u8 *sdt, u32 width, struct acpi *a)
{
	u32 n = (rd32(sdt + 4) - 36) / width;
	for (u32 i = 0; i < n; i++) {
		const u8 *p = sdt + 36 + i * width;
		const u8 *t = (const u8 *)rd32(p);
		if (width == 8 && rd32(p + 4))
			continue;  /* above 4 GiB: not ours to read */
		if (!memcmp(t, "FACP", 4))
			a->fadt = t;
		else if (!memcmp(t, "APIC", 4))
			a->madt = t;
	}
}

static void check_sdts(struct acpi *a)
{
	const u8 *r = scan_bios("RSD PTR ", 8, rsdp_len, 0x100000);
	if (!test__ok(r != NULL, "ACPI RSDP found with a valid checksum"))
		return;
	const u8 *rsdt = (const u8 *)rd32(r + 16);
	if (table_ok(rsdt, "RSDT") && !memcmp(rsdt, "RSDT", 4))
		walk_sdt(rsdt, 4, a);
	/* Revision 0 (ACPI 1.0, what SeaBIOS gives) has no XSDT; from revision 2 on the
	 * extended checksum and the XSDT must be right. One check either way, so that both
	 * peers print the same lines. */
	bool x_ok = true;
	if (r[15] >= 2) {
		const u8 *xsdt = (const u8 *)rd32(r + 24);
		struct acpi x = { 0 };
		x_ok = sum(r, rd32(r + 20)) == 0 && rd32(r + 28) == 0 && !memcmp(xsdt, "XSDT", 4) &&
		       sum(xsdt, rd32(xsdt + 4)) == 0;
		if (x_ok)
			walk_sdt(xsdt, 8, &x);
		x_ok = x_ok && x.fadt == a->fadt && x.madt == a->madt;
	}
	test__ok(x_ok, "RSDP revision >= 2: extended checksum, XSDT valid and listing the "
		 "RSDT's FADT and MADT");
}

static u32 pm_tmr_port, pm1a_cnt;
static bool tmr_32;

static void check_fadt(struct acpi *a)
{
	const u8 *f = a->fadt;
	if (!table_ok(f, "FADT"))
		return;
	test__eq(9, rd16(f + 46), "FADT: SCI_INT is IRQ 9");
	pm_tmr_port = rd32(f + 76);
	pm1a_cnt = rd32(f + 64);
	test__ok(pm_tmr_port != 0 && f[91] == 4, "FADT: a PM timer block of 4 bytes");
	test__ok(pm1a_cnt != 0 && f[89] >= 2, "FADT: a PM1a control block");
	tmr_32 = rd32(f + 112) & (1u << 8);
	a->dsdt = (const u8 *)rd32(f + 40);
	if (table_ok(a->dsdt, "DSDT"))
		test__ok(!memcmp(a->dsdt, "DSDT", 4), "FADT's DSDT pointer leads to a DSDT");
	a->facs = (const u8 *)rd32(f + 36);
	test__ok(a->facs && !memcmp(a->facs, "FACS", 4) && rd32(a->facs + 4) >= 64 &&
		 !((u32)a->facs & 63), "FADT's FACS: signature, length >= 64, 64-byte aligned");
	bool reset_sup = rd32(f + 4) >= 129 && (rd32(f + 112) & (1u << 10));
	test__ok(!reset_sup || (f[116] == 1 && rd32(f + 120) != 0),
		 "FADT: a reset register, if RESET_REG_SUP, is in I/O space");
}

static void check_madt(struct acpi *a)
{
	const u8 *m = a->madt;
	if (!table_ok(m, "MADT"))
		return;
	test__eq(0xfee00000, rd32(m + 36), "MADT: local APIC address");
	u32 len = rd32(m + 4), off = 44, cpus = 0, ioapic = 0, irq0 = 99, nmi = 0;
	u16 irq9_flags = 0;
	while (off + 2 <= len && m[off + 1] >= 2) {
		const u8 *e = m + off;
		switch (e[0]) {
		case 0: cpus += rd32(e + 4) & 1; break;
		case 1: ioapic += rd32(e + 4) == 0xfec00000 && rd32(e + 8) == 0; break;
		case 2:
			if (e[3] == 0)
				irq0 = rd32(e + 4);
			if (e[3] == 9)
				irq9_flags = rd16(e + 8);
			break;
		case 4: nmi += e[5] == 1; break;
		}
		off += e[1];
	}
	test__eq(len, off, "MADT: entries walk exactly to its length");
	test__ok(cpus >= 1, "MADT: an enabled processor");
	test__eq(1, ioapic, "MADT: the I/O APIC at 0xfec00000 with GSI base 0");
	test__eq(2, irq0, "MADT: ISA IRQ 0 overridden to GSI 2");
	test__eq(3, (irq9_flags >> 2) & 3, "MADT: IRQ 9 (the SCI) level-triggered");
	test__ok(nmi >= 1, "MADT: a local APIC NMI on LINT1");
}

/* PM timer ticks per second, over one 50 ms one-shot of PIT channel 2 (gated through
 * port 0x61, its output polled there): both clocks in the same window, no calibration
 * carried over from elsewhere. 0 if the PIT never finished (a hang guard). */
static u64 pm_rate(void)
{
	u32 count = PIT_HZ / 20;
	u8 p = inb(PORT_61);
	u32 i = 0;

	outb(PORT_61, p & (u8)~0x03);                  /* gate low, speaker off */
	pit__start(2, PIT_MODE_INT_ON_TC, (u16)count);
	u32 p0 = inl((u16)pm_tmr_port);
	outb(PORT_61, (p & (u8)~0x02) | 0x01);         /* gate high: counting starts */
	while (!(inb(PORT_61) & 0x20) && ++i < 100000000)
		;
	u32 p1 = inl((u16)pm_tmr_port);
	outb(PORT_61, p & (u8)~0x03);
	if (i >= 100000000)
		return 0;
	u32 ticks = (p1 - p0) & (tmr_32 ? 0xffffffffu : 0xffffff);
	return (u64)ticks * PIT_HZ / count;
}

static void check_pm_timer(void)
{
	if (!pm_tmr_port)
		return;
	u32 a = inl((u16)pm_tmr_port), b = a;
	for (u32 i = 0; i < 10000000 && b == a; i++)
		b = inl((u16)pm_tmr_port);
	test__ok(b != a, "PM timer advances");
	test__ok(tmr_32 || (!(a >> 24) && !(b >> 24)),
		 "PM timer is 24 bits wide unless the FADT's TMR_VAL_EXT says 32");
	u64 best = 0;
	for (int i = 0; i < 9; i++) {
		u64 r = pm_rate();
		u64 err = r > 3579545 ? r - 3579545 : 3579545 - r;
		u64 berr = best > 3579545 ? best - 3579545 : 3579545 - best;
		if (!best || err < berr)
			best = r;
	}
	test__range(3579545 * 3 / 4, 3579545 * 5 / 4, best, "PM timer rate in Hz (3579545)");
}

static void check_sci_en(struct acpi *a)
{
	u32 smi = rd32(a->fadt + 48);
	u8 en = a->fadt[52], dis = a->fadt[53];
	if (!smi || !pm1a_cnt) {
		test__skip("ACPI enable through SMI_CMD", "the FADT says ACPI is always on");
		return;
	}
	outb((u16)smi, en);
	test__ok(inw((u16)pm1a_cnt) & 1, "ACPI_ENABLE to SMI_CMD sets SCI_EN");
	outb((u16)smi, dis);
	test__ok(!(inw((u16)pm1a_cnt) & 1), "ACPI_DISABLE clears it");
}

/* SLP_TYPa of \_S5 in the DSDT: NameOp "_S5_" PackageOp PkgLength NumElements data. */
static int s5_type(const u8 *dsdt)
{
	u32 len = rd32(dsdt + 4);
	for (u32 i = 36; i + 8 < len; i++) {
		if (memcmp(dsdt + i, "_S5_", 4) || dsdt[i + 4] != 0x12)
			continue;
		const u8 *p = dsdt + i + 5;
		p += 1 + (p[0] >> 6);          /* PkgLength: 1 + follow-on bytes */
		p++;                           /* NumElements */
		if (*p == 0x0a)
			return p[1];           /* BytePrefix */
		return *p <= 1 ? *p : -1;      /* ZeroOp, OneOp */
	}
	return -1;
}

void test_main(void)
{
	struct acpi a = { 0 };

	test__begin("firmware");
	check_bda();
	check_mp();
	check_sdts(&a);
	check_fadt(&a);
	check_madt(&a);
	check_pm_timer();
	if (a.fadt)
		check_sci_en(&a);
	int typ = a.dsdt ? s5_type(a.dsdt) : -1;
	test__ok(typ >= 0, "DSDT: \\_S5 found");
	if (test__summary() || typ < 0 || !pm1a_cnt)
		test__exit(1);
	/* Soft-off as an OS does it: the VMM must stop with status 0. */
	outw((u16)pm1a_cnt, (u16)((typ << 10) | (1u << 13)));
	/* QEMU stops the machine from its main loop, a little after the write: wait (a
	 * hang guard of 5 s, far above the need) before calling it a failure. */
	u64 until = clock__deadline_ms(5000);
	while (!clock__expired(until))
		;
	printf("not ok - writing \\_S5 with SLP_EN to PM1a_CNT did not power off\n");
	test__exit(1);
}
