/*
 * uart.c: guest "uart": the COM1 16550A as a driver uses it (NS16550A data sheet):
 * polled receive via LSR.DR, interrupt-driven receive (IER.ERBFI, MCR.OUT2, IRQ4
 * through the PIC), divisor latch (LCR.DLAB), scratch register, FIFO enable via FCR
 * (IIR bits 7:6), loopback (MCR bit 4) with overrun and modem-status wiring, and the
 * THRE interrupt.
 *
 * It prints "ready" and expects the harness to feed UART_INPUT on COM1 (GUEST_INPUT
 * in tests/guest/guests.cmake). The first part is polled, the rest arrives by
 * interrupt. Loopback output must not reach the console, so results gathered with
 * the console muted are reported afterwards.
 */
#include "clock.h"
#include "desc.h"
#include "pic.h"
#include "pit.h"
#include "printf.h"
#include "serial.h"
#include "string.h"
#include "test.h"
#include "trap.h"
#include "x86.h"

#define UART_INPUT "shade-uart-input\n"
#define POLLED_LEN 6 /* "shade-" */
#define IRQ4 4

static char rx[32];
static volatile u32 rx_len, irqs, iir_ids, thre_irqs, iir_after_thre;

static u8 reg_read(u8 reg)
{
	return inb((u16)(COM1 + reg));
}

static void reg_write(u8 reg, u8 v)
{
	outb((u16)(COM1 + reg), v);
}

/* Wait for LSR bits; every LSR value read is ORed into *seen (reading clears OE). */
static bool wait_lsr_seen(u8 bits, u32 ms, u8 *seen)
{
	u64 end = clock__deadline_ms(ms);
	u8 lsr;

	for (;;) {
		lsr = reg_read(UART_LSR);
		*seen |= lsr;
		if ((lsr & bits) == bits)
			return true;
		if (clock__expired(end))
			return false;
	}
}

static bool wait_lsr(u8 bits, u32 ms)
{
	u8 seen = 0;

	return wait_lsr_seen(bits, ms, &seen);
}

/* IRQ4: note the IIR interrupt id, drain RBR, or acknowledge THRE by reading IIR. */
static void irq4_handler(struct trap_frame *f)
{
	u8 iir;

	(void)f;
	irqs++;
	for (;;) {
		iir = reg_read(UART_IIR);
		if (iir & 0x01)
			break; /* no interrupt pending */
		iir_ids |= 1u << ((iir >> 1) & 7);
		if ((iir & 0x0e) == 0x02) { /* THRE: reading IIR cleared it */
			thre_irqs++;
			iir_after_thre = reg_read(UART_IIR);
			reg_write(UART_IER, 0);
			continue;
		}
		while (reg_read(UART_LSR) & LSR_DR) {
			u8 c = reg_read(UART_RBR);

			if (rx_len < sizeof(rx) - 1)
				rx[rx_len++] = (char)c;
		}
	}
	pic__eoi(IRQ4);
}

static void check_receive(void)
{
	const u32 total = sizeof(UART_INPUT) - 1;
	u64 end;
	bool got_all;

	printf("ready\n");
	rx_len = 0;
	while (rx_len < POLLED_LEN && wait_lsr(LSR_DR, 10000))
		rx[rx_len++] = (char)reg_read(UART_RBR);
	rx[rx_len] = '\0';
	test__ok(rx_len == POLLED_LEN && memcmp(rx, UART_INPUT, POLLED_LEN) == 0,
		 "polled receive (LSR.DR, RBR) of the first %u bytes: '%s'", POLLED_LEN, rx);

	trap__set_handler(PIC_MASTER_BASE + IRQ4, irq4_handler);
	reg_write(UART_MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
	reg_write(UART_IER, 0x01); /* received data available */
	pic__mask(IRQ4, false);
	sti();
	end = clock__deadline_ms(10000);
	while (rx_len < total && !clock__expired(end))
		pause(); /* not HLT: input that never comes must not hang the guest */
	cli();
	reg_write(UART_IER, 0);
	pic__mask(IRQ4, true);
	rx[rx_len] = '\0';
	got_all = rx_len == total && memcmp(rx, UART_INPUT, total) == 0;
	test__ok(got_all, "interrupt-driven receive of the rest (%u of %u bytes)", rx_len, total);
	test__ok(irqs >= 1, "IRQ4 delivered through the PIC (%u interrupts)", irqs);
	test__ok(iir_ids & (1u << 2), "IIR identified 'received data available' (ids 0x%x)", iir_ids);
	test__eq(0x01, reg_read(UART_IIR) & 0x0f, "IIR: no interrupt pending once drained");
	test__eq(0, reg_read(UART_LSR) & LSR_DR, "LSR.DR clear once all input is read");
}

static void check_registers(void)
{
	u8 lcr = reg_read(UART_LCR), dll, dlm, ier;

	reg_write(UART_LCR, lcr | LCR_DLAB);
	reg_write(UART_DLL, 0x0c);
	reg_write(UART_DLM, 0x12);
	dll = reg_read(UART_DLL);
	dlm = reg_read(UART_DLM);
	reg_write(UART_LCR, lcr);
	ier = reg_read(UART_IER);
	test__eq(0x0c, dll, "DLAB=1: divisor latch low round trip");
	test__eq(0x12, dlm, "DLAB=1: divisor latch high round trip");
	test__eq(0, ier, "DLAB=0: offset 1 is IER again, not DLM");
	reg_write(UART_LCR, lcr | LCR_DLAB);
	reg_write(UART_DLL, 1);
	reg_write(UART_DLM, 0);
	reg_write(UART_LCR, lcr);

	reg_write(UART_LCR, 0x1b); /* 8 bits, 1 stop, even parity */
	test__eq(0x1b, reg_read(UART_LCR), "LCR round trip (0x1b)");
	reg_write(UART_LCR, 0x03);
	test__eq(0x03, reg_read(UART_LCR), "LCR round trip (0x03)");

	reg_write(UART_SCR, 0x5a);
	test__eq(0x5a, reg_read(UART_SCR), "scratch register round trip (0x5a)");
	reg_write(UART_SCR, 0xa5);
	test__eq(0xa5, reg_read(UART_SCR), "scratch register round trip (0xa5)");

	reg_write(UART_IER, 0x0f);
	test__eq(0x0f, reg_read(UART_IER) & 0x0f, "IER round trip");
	reg_write(UART_IER, 0);
}

/* Loopback results, gathered with the console muted. */
static struct {
	bool dr1;
	u8 c1;
	u8 lsr_ovr, lsr_after, c_ovr;
	u8 iir_fifo, iir_nofifo;
	char fifo[5];
	u8 fifo_lsr;
	u8 msr_dtr, msr_rts, msr_all, msr_none;
	bool idle;
} lb;

static void loopback_tests(void)
{
	int i;

	reg_write(UART_MCR, MCR_LOOP);
	/* No FIFO: one byte round trip, then an overrun. */
	reg_write(UART_THR, 'A');
	lb.dr1 = wait_lsr(LSR_DR, 100);
	lb.c1 = reg_read(UART_RBR);
	reg_write(UART_THR, 'B');
	wait_lsr(LSR_DR, 100);
	wait_lsr(LSR_THRE, 100);
	reg_write(UART_THR, 'C');
	lb.lsr_ovr = 0;
	wait_lsr_seen(LSR_TEMT, 100, &lb.lsr_ovr);
	lb.lsr_after = reg_read(UART_LSR);
	lb.c_ovr = reg_read(UART_RBR);

	/* FIFO on: several bytes queue up in order. */
	reg_write(UART_FCR, 0x07); /* enable, clear RX and TX */
	lb.iir_fifo = reg_read(UART_IIR);
	for (i = 0; i < 4; i++) {
		wait_lsr(LSR_THRE, 100);
		reg_write(UART_THR, (u8)("wxyz"[i]));
	}
	wait_lsr(LSR_TEMT, 100);
	lb.fifo_lsr = reg_read(UART_LSR);
	for (i = 0; i < 4 && wait_lsr(LSR_DR, 100); i++)
		lb.fifo[i] = (char)reg_read(UART_RBR);
	reg_write(UART_FCR, 0x06); /* disable (and clear) */
	lb.iir_nofifo = reg_read(UART_IIR);

	/* Modem outputs loop back to the modem status inputs. */
	reg_write(UART_MCR, MCR_LOOP | MCR_DTR);
	lb.msr_dtr = reg_read(UART_MSR);
	reg_write(UART_MCR, MCR_LOOP | MCR_RTS);
	lb.msr_rts = reg_read(UART_MSR);
	reg_write(UART_MCR, MCR_LOOP | MCR_DTR | MCR_RTS | MCR_OUT1 | MCR_OUT2);
	lb.msr_all = reg_read(UART_MSR);
	reg_write(UART_MCR, MCR_LOOP);
	lb.msr_none = reg_read(UART_MSR);
	reg_write(UART_MCR, MCR_DTR | MCR_RTS);
	lb.idle = wait_lsr(LSR_THRE | LSR_TEMT, 100);
}

static void check_loopback(void)
{
	serial__mute(true);
	loopback_tests();
	serial__mute(false);
	test__ok(lb.dr1, "loopback: LSR.DR set after writing THR");
	test__eq('A', lb.c1, "loopback: the byte written comes back in RBR");
	test__ok(lb.lsr_ovr & LSR_OE, "loopback without FIFO: second unread byte sets LSR.OE (lsr 0x%x)",
		 lb.lsr_ovr);
	test__eq(0, lb.lsr_after & LSR_OE, "LSR.OE clears when LSR is read");
	test__eq('C', lb.c_ovr, "overrun: RBR holds the newest byte");
	test__eq(0xc0, lb.iir_fifo & 0xc0, "FCR enable: IIR bits 7:6 report FIFOs enabled");
	test__ok(memcmp(lb.fifo, "wxyz", 4) == 0, "loopback with FIFO: 4 bytes back in order ('%s')",
		 lb.fifo);
	test__eq(0, lb.fifo_lsr & LSR_OE, "loopback with FIFO: no overrun for 4 bytes");
	test__eq(0, lb.iir_nofifo & 0xc0, "FCR disable: IIR bits 7:6 clear");
	test__eq(0x20, lb.msr_dtr & 0xf0, "loopback: DTR drives DSR");
	test__eq(0x10, lb.msr_rts & 0xf0, "loopback: RTS drives CTS");
	test__eq(0xf0, lb.msr_all & 0xf0, "loopback: DTR/RTS/OUT1/OUT2 drive DSR/CTS/RI/DCD");
	test__eq(0x00, lb.msr_none & 0xf0, "loopback: no outputs, no modem inputs");
	test__ok(lb.idle, "LSR: THRE and TEMT set when the transmitter is idle");
}

static void check_thre_irq(void)
{
	u64 end;

	thre_irqs = 0;
	iir_ids = 0;
	serial__mute(true); /* no console output while IER.ETBEI is set */
	wait_lsr(LSR_THRE | LSR_TEMT, 100);
	reg_write(UART_MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
	pic__mask(IRQ4, false);
	sti();
	reg_write(UART_IER, 0x02); /* THR empty */
	end = clock__deadline_ms(1000);
	while (!thre_irqs && !clock__expired(end))
		pause();
	cli();
	reg_write(UART_IER, 0);
	pic__mask(IRQ4, true);
	reg_write(UART_MCR, MCR_DTR | MCR_RTS);
	serial__mute(false);
	test__ok(thre_irqs >= 1, "IER.ETBEI with THR empty raises IRQ4 (%u)", thre_irqs);
	test__ok(iir_ids & (1u << 1), "IIR identified 'THR empty' (ids 0x%x)", iir_ids);
	test__eq(0x01, iir_after_thre & 0x0f, "reading IIR acknowledged the THRE interrupt");
}

void test_main(void)
{
	test__begin("uart");
	clock__tsc_hz(); /* calibrate (50 ms on PIT channel 2) before any timed wait */
	check_receive();
	check_registers();
	check_loopback();
	check_thre_irq();
}
