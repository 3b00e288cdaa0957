/*
 * bus.h: the port-I/O and MMIO buses of one VM.
 *
 * Every device model is a set of ranges registered on a bus with one handler signature.
 * The bus owns dispatch only; device state lives in the device's own struct, hung off
 * struct vm, never in file statics. Unclaimed reads return all ones and unclaimed writes
 * are dropped, as on a PC; the counters let users see that a guest poked at nothing.
 */
#ifndef SHADE_BUS_H
#define SHADE_BUS_H

#include "types.h"

/*
 * addr is the absolute port or guest-physical address of the access, data the bytes
 * (little-endian, len 1, 2, 4 or 8). Return 0, or a negative errno for a device error
 * (the VMM reports it and stops the VM; a guest cannot make a device crash shade).
 */
typedef int (*bus_fn)(void *dev, uint64_t addr, void *data, unsigned len, bool is_write);

struct bus_range {
	uint64_t base, len;
	bus_fn fn;
	void *dev;
	const char *name;
};

#define BUS_MAX_RANGES 64

struct bus {
	const char *name;
	struct bus_range r[BUS_MAX_RANGES];
	unsigned n;
	uint64_t unclaimed_reads, unclaimed_writes;
};

void bus__init(struct bus *bus, const char *name);
/* -EEXIST if the range overlaps one already registered, -ENOSPC if the bus is full. */
int bus__register(struct bus *bus, uint64_t base, uint64_t len, bus_fn fn, void *dev,
		  const char *name);
int bus__unregister(struct bus *bus, uint64_t base, void *dev);
/* Whether any device claims part of [addr, addr + len). */
bool bus__claims(const struct bus *bus, uint64_t addr, uint64_t len);
/* 0 if a device took it, 1 if unclaimed (read data set to all ones), <0 on device error. */
int bus__access(struct bus *bus, uint64_t addr, void *data, unsigned len, bool is_write);

#endif
