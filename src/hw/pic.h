/*
 * pic.h: the cascaded i8259A pair of a PC (master 0x20, slave 0xa0 on master IR2) with
 * the PIIX edge/level control registers (ELCR, 0x4d0/0x4d1).
 *
 * The PIC owns request, in-service and mask state and the interrupt-acknowledge cycle.
 * The VMM owns delivery: it asks pic__has_interrupt() when the guest can take one and
 * calls pic__ack() to get the vector; the notify callback tells it when the PIC's output
 * changes so it can kick a halted vCPU. Devices reach the PIC through pic__line().
 */
#ifndef SHADE_PIC_H
#define SHADE_PIC_H

#include "bus.h"
#include "irq.h"

#define PIC_MASTER_BASE 0x20
#define PIC_SLAVE_BASE  0xa0
#define PIC_ELCR_BASE   0x4d0
#define PIC_CASCADE_IRQ 2
#define PIC_NR_IRQS     16

struct pic_chip {
	uint8_t irr, isr, imr;
	uint8_t elcr, elcr_mask;   /* level-triggered inputs; mask of those allowed */
	uint8_t input;             /* current input levels, for edge detection */
	uint8_t vector_base;       /* ICW2 & 0xf8 */
	uint8_t icw3;
	uint8_t init_step;         /* 0 = operational, else the ICW expected next (2..4) */
	uint8_t lowest;            /* rotation: the IR with lowest priority is lowest-1 */
	bool need_icw4, single, auto_eoi, rotate_on_aeoi, sfnm;
	bool read_isr, poll, special_mask;
};

struct pic_stats {
	uint64_t acks;             /* interrupt-acknowledge cycles, spurious included */
	uint64_t spurious;         /* acks that found no request (vector base+7, no ISR) */
	uint64_t eois;
	uint64_t delivered[PIC_NR_IRQS];
};

struct pic {
	struct pic_chip chip[2];   /* [0] master, [1] slave */
	bool output;               /* the master's INT pin */
	void (*notify)(void *ctx, int level);
	void *notify_ctx;
	struct pic_stats stats;
};

/* notify (may be NULL) is called whenever the INT output changes level. */
void pic__init(struct pic *p, void (*notify)(void *ctx, int level), void *ctx);
int pic__register(struct pic *p, struct bus *pio);

/* Drive input irq (0-15); out-of-range irqs are ignored. */
void pic__set_irq(struct pic *p, unsigned irq, int level);
/* An irq_line that drives input irq of this PIC, for device models. */
struct irq_line pic__line(struct pic *p, unsigned irq);
/* True if an unmasked request outranks everything in service. */
bool pic__has_interrupt(const struct pic *p);
/* The INTA cycle: marks the winner in service and returns its vector (0-255). */
int pic__ack(struct pic *p);

#endif
