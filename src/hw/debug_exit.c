/*
 * debug_exit.c: a write of value v to any byte of the range requests exit status
 * (v << 1) | 1, so a guest can never report plain 0 and be mistaken for a clean VMM
 * exit; reads return 0. Both match QEMU's isa-debug-exit.
 */
#include <string.h>

#include "debug_exit.h"

static int debug_exit_io(void *dev, uint64_t addr, void *data, unsigned len, bool is_write)
{
	struct debug_exit *d = dev;
	uint32_t v = 0;

	if (!is_write) {
		d->reads++;
		memset(data, 0, len);
		return 0;
	}
	/* QEMU accepts 1-4 byte writes and uses the value as written, whatever the offset. */
	if (len > 4)
		return 0;
	memcpy(&v, data, len);
	d->writes++;
	d->requested = true;
	d->status = (int)((v << 1) | 1);
	if (d->exit)
		d->exit(d->ctx, d->status);
	return 0;
}

void debug_exit__init(struct debug_exit *d, uint16_t base, uint16_t size,
		      void (*exit)(void *ctx, int status), void *ctx)
{
	memset(d, 0, sizeof(*d));
	d->base = base;
	d->size = size;
	d->exit = exit;
	d->ctx = ctx;
}

int debug_exit__register(struct debug_exit *d, struct bus *pio)
{
	return bus__register(pio, d->base, d->size, debug_exit_io, d, "debug-exit");
}
