/*
 * bus.c: range registration and dispatch for the port-I/O and MMIO buses.
 * A linear scan: a PC has a few dozen ranges, and the hot ones are registered first.
 */
#include <errno.h>
#include <string.h>

#include "bus.h"

void bus__init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
}

static bool overlaps(const struct bus_range *r, uint64_t base, uint64_t len)
{
	return base < r->base + r->len && r->base < base + len;
}

int bus__register(struct bus *bus, uint64_t base, uint64_t len, bus_fn fn, void *dev,
		  const char *name)
{
	if (len == 0 || base + len < base)
		return -EINVAL;
	for (unsigned i = 0; i < bus->n; i++)
		if (overlaps(&bus->r[i], base, len))
			return -EEXIST;
	if (bus->n == BUS_MAX_RANGES)
		return -ENOSPC;
	bus->r[bus->n++] = (struct bus_range){ base, len, fn, dev, name };
	return 0;
}

int bus__unregister(struct bus *bus, uint64_t base, void *dev)
{
	for (unsigned i = 0; i < bus->n; i++) {
		if (bus->r[i].base == base && bus->r[i].dev == dev) {
			memmove(&bus->r[i], &bus->r[i + 1], (bus->n - i - 1) * sizeof(bus->r[0]));
			bus->n--;
			return 0;
		}
	}
	return -ENOENT;
}

bool bus__claims(const struct bus *bus, uint64_t addr, uint64_t len)
{
	for (unsigned i = 0; i < bus->n; i++)
		if (addr < bus->r[i].base + bus->r[i].len && bus->r[i].base < addr + len)
			return true;
	return false;
}

int bus__access(struct bus *bus, uint64_t addr, void *data, unsigned len, bool is_write)
{
	for (unsigned i = 0; i < bus->n; i++) {
		struct bus_range *r = &bus->r[i];
		if (addr >= r->base && addr + len <= r->base + r->len)
			return r->fn(r->dev, addr, data, len, is_write);
	}
	if (is_write) {
		bus->unclaimed_writes++;
	} else {
		bus->unclaimed_reads++;
		memset(data, 0xff, len);
	}
	return 1;
}
