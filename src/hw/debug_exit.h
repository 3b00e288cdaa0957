/*
 * debug_exit.h: an isa-debug-exit compatible port (QEMU's -device isa-debug-exit,
 * iobase=0xf4,iosize=0x04), through which test guests end the VM with a status.
 *
 * The device only records the request and tells the VMM through the exit callback;
 * stopping the vCPUs and choosing the process exit code belong to the VMM.
 */
#ifndef SHADE_DEBUG_EXIT_H
#define SHADE_DEBUG_EXIT_H

#include "bus.h"

#define DEBUG_EXIT_BASE 0xf4
#define DEBUG_EXIT_SIZE 4

struct debug_exit {
	uint16_t base, size;
	void (*exit)(void *ctx, int status);
	void *ctx;
	bool requested;          /* a write happened; status holds the latest */
	int status;
	uint64_t writes, reads;
};

/* exit may be NULL (the VMM polls requested instead). */
void debug_exit__init(struct debug_exit *d, uint16_t base, uint16_t size,
		      void (*exit)(void *ctx, int status), void *ctx);
int debug_exit__register(struct debug_exit *d, struct bus *pio);

#endif
