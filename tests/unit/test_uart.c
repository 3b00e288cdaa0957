/*
 * test_uart.c: the 16550A through its ports: registers and DLAB, transmit to the sink,
 * receive FIFO and rx_space flow control, IIR priorities and trigger level, THRE
 * interrupt semantics, loopback, modem status, and IRQ4 not gated by OUT2 (as QEMU).
 */
#include <check.h>

#include "check_run.h"
#include <stdlib.h>

#include "fakes.h"
#include "uart.h"

#define B 0x3f8

struct env {
	struct bus pio;
	struct irq_rec irqs;
	struct uart u;
	uint8_t out[64];
	unsigned nout;
};

static void sink(void *ctx, uint8_t c)
{
	struct env *e = ctx;
	if (e->nout < sizeof(e->out))
		e->out[e->nout++] = c;
}

static void setup(struct env *e)
{
	memset(e, 0, sizeof(*e));
	bus__init(&e->pio, "pio");
	uart__init(&e->u, B, irq_rec__line(&e->irqs, 4), sink, e);
	ck_assert_int_eq(uart__register(&e->u, &e->pio), 0);
}

static void rx_str(struct env *e, const char *s)
{
	size_t n = strlen(s);
	ck_assert_uint_eq(uart__rx(&e->u, (const uint8_t *)s, n), n);
}

START_TEST(test_registers)
{
	struct env e;
	setup(&e);
	ck_assert_uint_eq(inb(&e.pio, B + 5), 0x60); /* THRE | TEMT */
	ck_assert_uint_eq(inb(&e.pio, B + 2), 0x01); /* no interrupt, no FIFO */
	ck_assert_uint_eq(inb(&e.pio, B + 6), 0xb0); /* DCD, DSR, CTS */
	outb(&e.pio, B + 3, 0x83);                   /* DLAB, 8N1 */
	outb(&e.pio, B + 0, 0x01);
	outb(&e.pio, B + 1, 0x02);
	ck_assert_uint_eq(inb(&e.pio, B + 0), 0x01);
	ck_assert_uint_eq(inb(&e.pio, B + 1), 0x02);
	outb(&e.pio, B + 3, 0x03);
	ck_assert_uint_eq(inb(&e.pio, B + 3), 0x03);
	ck_assert_uint_eq(inb(&e.pio, B + 1), 0x00); /* IER, not DLM */
	outb(&e.pio, B + 1, 0xff);
	ck_assert_uint_eq(inb(&e.pio, B + 1), 0x0f);
	outb(&e.pio, B + 7, 0x5a);
	ck_assert_uint_eq(inb(&e.pio, B + 7), 0x5a);
	ck_assert_uint_eq(e.u.dll, 0x01);
	ck_assert_uint_eq(e.u.dlm, 0x02);
}
END_TEST

START_TEST(test_tx)
{
	struct env e;
	setup(&e);
	outb(&e.pio, B, 'h');
	outb(&e.pio, B, 'i');
	ck_assert_uint_eq(e.nout, 2);
	ck_assert_mem_eq(e.out, "hi", 2);
	ck_assert_uint_eq(e.u.stats.tx_bytes, 2);
	ck_assert_uint_eq(inb(&e.pio, B + 5) & 0x60, 0x60);
}
END_TEST

START_TEST(test_fifo_and_rx_space)
{
	struct env e;
	setup(&e);
	/* Without the FIFO there is one holding register. */
	ck_assert_uint_eq(uart__rx_space(&e.u), 1);
	ck_assert_uint_eq(uart__rx(&e.u, (const uint8_t *)"xyz", 3), 1);
	ck_assert_uint_eq(uart__rx_space(&e.u), 0);
	ck_assert_uint_eq(inb(&e.pio, B + 5) & 0x01, 0x01);
	ck_assert_uint_eq(inb(&e.pio, B), 'x');
	ck_assert_uint_eq(inb(&e.pio, B + 5) & 0x01, 0x00);

	outb(&e.pio, B + 2, 0x07); /* enable and reset FIFOs, trigger 1 */
	ck_assert_uint_eq(inb(&e.pio, B + 2) & 0xc0, 0xc0);
	ck_assert_uint_eq(uart__rx_space(&e.u), 16);
	uint8_t buf[20];
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = 'a' + i;
	ck_assert_uint_eq(uart__rx(&e.u, buf, sizeof(buf)), 16); /* never dropped: refused */
	ck_assert_uint_eq(uart__rx_space(&e.u), 0);
	ck_assert_uint_eq(inb(&e.pio, B + 5) & 0x02, 0); /* no overrun */
	for (unsigned i = 0; i < 16; i++)
		ck_assert_uint_eq(inb(&e.pio, B), 'a' + i);
	ck_assert_uint_eq(inb(&e.pio, B + 5) & 0x01, 0);
	ck_assert_uint_eq(uart__rx_space(&e.u), 16);
	ck_assert_uint_eq(e.u.stats.rx_bytes, 17);

	/* FCR RX reset empties it. */
	rx_str(&e, "abc");
	outb(&e.pio, B + 2, 0x03);
	ck_assert_uint_eq(inb(&e.pio, B + 5) & 0x01, 0);
	ck_assert_uint_eq(uart__rx_space(&e.u), 16);
}
END_TEST

START_TEST(test_thre_interrupt)
{
	struct env e;
	setup(&e);
	outb(&e.pio, B + 4, 0x08); /* OUT2 */
	outb(&e.pio, B + 1, 0x02); /* ETBEI with THR empty raises THRE at once */
	ck_assert_int_eq(e.irqs.level[4], 1);
	ck_assert_uint_eq(inb(&e.pio, B + 2), 0x02);
	/* Reading IIR while THRE is the reported source clears it. */
	ck_assert_int_eq(e.irqs.level[4], 0);
	ck_assert_uint_eq(inb(&e.pio, B + 2), 0x01);
	/* The byte leaves at once, so THR is empty again and THRE re-arms. */
	outb(&e.pio, B, 'x');
	ck_assert_int_eq(e.irqs.level[4], 1);
	ck_assert_uint_eq(e.irqs.rises[4], 2);
	/* Toggling ETBEI resamples THRE (Windows and Linux's THRE test rely on it). */
	inb(&e.pio, B + 2);
	outb(&e.pio, B + 1, 0x00);
	ck_assert_int_eq(e.irqs.level[4], 0);
	outb(&e.pio, B + 1, 0x02);
	ck_assert_int_eq(e.irqs.level[4], 1);
	ck_assert_uint_eq(e.u.stats.irq_raised, 3);
}
END_TEST

/* This test used to assert that IRQ4 stays low until MCR.OUT2 is set, as a real PC's
 * serial card wires it. QEMU raises the line regardless of OUT2, and kernels written
 * against QEMU (which leave OUT2 clear) depend on that, so shade now does the same. */
START_TEST(test_irq_ignores_out2)
{
	struct env e;
	setup(&e);
	outb(&e.pio, B + 1, 0x01);
	rx_str(&e, "q");
	ck_assert_uint_eq(inb(&e.pio, B + 2), 0x04);
	ck_assert_int_eq(e.irqs.level[4], 1);        /* on the bus with OUT2 clear */
	outb(&e.pio, B + 4, 0x08);
	ck_assert_int_eq(e.irqs.level[4], 1);
	outb(&e.pio, B + 4, 0x00);
	ck_assert_int_eq(e.irqs.level[4], 1);
	inb(&e.pio, B);                              /* draining the data lowers it */
	ck_assert_int_eq(e.irqs.level[4], 0);
}
END_TEST

START_TEST(test_iir_priority)
{
	struct env e;
	setup(&e);
	outb(&e.pio, B + 2, 0xc1);  /* FIFO, trigger level 14 */
	outb(&e.pio, B + 4, 0x18);  /* loopback + OUT2 */
	outb(&e.pio, B + 1, 0x0f);
	/* Entering loopback changed every modem input: modem status is pending... */
	ck_assert_uint_eq(inb(&e.pio, B + 2), 0xc0 | 0x02); /* ...but THRE outranks it */
	ck_assert_uint_eq(inb(&e.pio, B + 2), 0xc0 | 0x00); /* then modem status */
	/* CTS and DSR dropped; DCD now follows OUT2, which is set, so it did not change. */
	ck_assert_uint_eq(inb(&e.pio, B + 6) & 0x0f, 0x03);
	ck_assert_uint_eq(inb(&e.pio, B + 2), 0xc1);

	/* Below the trigger level: character timeout (reported at once). */
	for (unsigned i = 0; i < 5; i++)
		outb(&e.pio, B, '0' + i);
	ck_assert_uint_eq(inb(&e.pio, B + 2), 0xcc);
	/* At the trigger level: received data available. */
	for (unsigned i = 5; i < 14; i++)
		outb(&e.pio, B, '0' + i);
	ck_assert_uint_eq(inb(&e.pio, B + 2), 0xc4);
	/* Overrun: line status outranks everything; reading LSR clears it. */
	for (unsigned i = 14; i < 17; i++)
		outb(&e.pio, B, '0' + i);
	ck_assert_uint_eq(inb(&e.pio, B + 2), 0xc6);
	ck_assert_uint_eq(inb(&e.pio, B + 5) & 0x03, 0x03);
	ck_assert_uint_eq(inb(&e.pio, B + 5) & 0x02, 0x00);
	ck_assert_uint_eq(e.u.stats.overruns, 1);
	ck_assert_uint_eq(inb(&e.pio, B + 2), 0xc4);
	/* The FIFO kept the first 16; the 17th was lost. */
	for (unsigned i = 0; i < 16; i++)
		ck_assert_uint_eq(inb(&e.pio, B), '0' + i);
	ck_assert_uint_eq(inb(&e.pio, B + 2), 0xc2);
	ck_assert_uint_eq(inb(&e.pio, B + 2), 0xc1);
	ck_assert_int_eq(e.irqs.level[4], 0);
}
END_TEST

START_TEST(test_loopback)
{
	struct env e;
	setup(&e);
	outb(&e.pio, B + 4, 0x10);
	ck_assert_uint_eq(uart__rx_space(&e.u), 0); /* host input waits, not dropped */
	ck_assert_uint_eq(uart__rx(&e.u, (const uint8_t *)"h", 1), 0);
	outb(&e.pio, B, 'L');
	ck_assert_uint_eq(e.nout, 0);
	ck_assert_uint_eq(inb(&e.pio, B + 5) & 0x01, 0x01);
	ck_assert_uint_eq(inb(&e.pio, B), 'L');
	ck_assert_uint_eq(e.u.stats.loopback_bytes, 1);
	/* MSR mirrors MCR: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD. */
	outb(&e.pio, B + 4, 0x1f);
	ck_assert_uint_eq(inb(&e.pio, B + 6) & 0xf0, 0xf0);
	outb(&e.pio, B + 4, 0x11);
	ck_assert_uint_eq(inb(&e.pio, B + 6), 0x20 | 0x04 | 0x01 | 0x08); /* TERI on RI fall */
	outb(&e.pio, B + 4, 0x00);
	ck_assert_uint_eq(uart__rx_space(&e.u), 1);
	outb(&e.pio, B, 'o');
	ck_assert_uint_eq(e.nout, 1);
}
END_TEST

START_TEST(test_wide_access)
{
	struct env e;
	setup(&e);
	/* A word write to 0x3fb splits into LCR and MCR. */
	outw(&e.pio, B + 3, 0x0803);
	ck_assert_uint_eq(inb(&e.pio, B + 3), 0x03);
	ck_assert_uint_eq(inb(&e.pio, B + 4), 0x08);
	ck_assert_uint_eq(inl(&e.pio, B + 4), 0x00b06008u | (uint32_t)e.u.scr << 24);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("uart");
	TCase *tc = tcase_create("16550a");

	tcase_add_test(tc, test_registers);
	tcase_add_test(tc, test_tx);
	tcase_add_test(tc, test_fifo_and_rx_space);
	tcase_add_test(tc, test_thre_interrupt);
	tcase_add_test(tc, test_irq_ignores_out2);
	tcase_add_test(tc, test_iir_priority);
	tcase_add_test(tc, test_loopback);
	tcase_add_test(tc, test_wide_access);
	suite_add_tcase(s, tc);

	return check_run(s);
}
