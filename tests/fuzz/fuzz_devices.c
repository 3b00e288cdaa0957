/*
 * fuzz_devices.c: the whole PC platform of a VM (src/vmm/devices.c assembling src/hw/:
 * PIC pair and ELCR, PIT and port B, RTC/CMOS, UART, PCI configuration mechanism #1 and
 * the host bridge, the debug-exit port, and the virtio balloon behind PCI) driven by a
 * random sequence of port reads and writes, interrupt acknowledges, guest memory stores
 * and time passing on a hand-moved clock. Nothing may crash or trip a sanitizer, and
 * an acknowledged interrupt is a vector (0-255) or none (-1).
 *
 * Input: operations until it ends, each u8 op then its fields:
 *   op & 7 = 0 write, 1 read: u8 port choice, then (write) u32 value; the access is
 *            1, 2 or 4 bytes (op bits 3-4). A choice below the table's size is a device
 *            port plus op bits 5-7 as offset; any other choice is followed by a raw u16.
 *   2 u32 ns: the clock moves on (up to ~4 s) and due timers fire (devices__poll)
 *   3 the CPU acknowledges an interrupt if one is pending
 *   4 u32 gpa, u8 n, n bytes: guest stores into its 256 KiB of RAM (balloon rings)
 *   5 u16 offset, u32 value: an access to the local APIC (offset bit 12 clear) or I/O
 *     APIC page, a write if op bit 5, 1/2/4/8 bytes (op bits 3-4 pick 1, 2, 4; bit 6: 8)
 *   6 u8 msr, u32 value: WRMSR (op bit 5) or RDMSR of the local APIC's MSRs: APIC_BASE
 *     (msr 0), TSC_DEADLINE (1), else x2APIC 0x800 + msr; op bit 6 makes the value's
 *     high half the value again
 *   7 a read of a random port of the table, no fields (cheap status polling)
 */
#include <string.h>

#include "devices.h"
#include "fuzz.h"
#include "ioapic.h"
#include "lapic.h"

#define RAM (256 * 1024)
#define MAX_OPS 2048

/* Mutations the ctest replay runs (a few seconds; replay.c). */
const unsigned fuzz_replay_runs = 20000;

static struct fuzz_vm F;

/* Where the devices decode; 0xc000 is where the seeds put the balloon's BAR0. */
static const uint16_t ports[] = {
	0x20, 0xa0, 0x4d0, 0x40, 0x61, 0x70, 0x3f8, 0xcf8, 0xcfc, 0xf4, 0xc000, 0xc010, 0xc018,
};
#define NPORTS (sizeof(ports) / sizeof(ports[0]))

static uint16_t pick_port(struct fin *in, uint8_t op)
{
	uint8_t c = fin__u8(in);
	if (c < NPORTS)
		return (uint16_t)(ports[c] + (op >> 5));
	return fin__u16(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned lens[4] = { 1, 2, 4, 1 };
	struct fin in = { data, size };
	struct vm *vm = &F.vm;

	fuzz_vm__begin(&F, RAM + (1 << 20), RAM);
	if (devices__init(vm))
		fuzz__fail("devices__init", __FILE__, __LINE__);
	for (unsigned k = 0; in.n && k < MAX_OPS; k++) {
		uint8_t op = fin__u8(&in);
		unsigned len = lens[(op >> 3) & 3];
		uint32_t v = 0;
		switch (op & 7) {
		case 0: {
			uint16_t port = pick_port(&in, op);
			v = fin__u32(&in);
			bus__access(&vm->pio, port, &v, len, true);
			break;
		}
		case 1:
			bus__access(&vm->pio, pick_port(&in, op), &v, len, false);
			break;
		case 2:
			fake_clock__advance(&F.clock, fin__u32(&in));
			devices__poll(vm);
			break;
		case 3:
			if (devices__irq_pending(vm)) {
				int vec = devices__irq_ack(vm);
				FUZZ_CHECK(vec >= -1 && vec < 256);
			}
			break;
		case 4: {
			uint32_t gpa = fin__u32(&in) % RAM;
			size_t got;
			const uint8_t *p = fin__bytes(&in, fin__u8(&in), &got);
			if (got > RAM - gpa)
				got = RAM - gpa;
			FUZZ_CHECK(pmap__write(&vm->pmap, GPA(gpa), p, got) == 0);
			break;
		}
		case 5: {
			uint16_t off = fin__u16(&in);
			uint64_t w = fin__u32(&in);
			uint64_t base = (off & 0x1000) ? IOAPIC_BASE : LAPIC_DEFAULT_BASE;
			unsigned n = (op & 0x40) ? 8 : len;
			uint64_t a = base + (off & (0xfff & ~(uint64_t)(n - 1)));
			/* The page may have moved (APIC_BASE) or be unclaimed: 1 is fine. */
			FUZZ_CHECK(bus__access(&vm->mmio, a, &w, n, op & 0x20) >= 0);
			break;
		}
		case 6: {
			struct lapic *apic = devices__lapic(vm);
			uint8_t m = fin__u8(&in);
			uint64_t val = fin__u32(&in);
			uint32_t msr = m == 0 ? MSR_IA32_APIC_BASE : m == 1 ? MSR_IA32_TSC_DEADLINE
								    : MSR_X2APIC_FIRST + m;
			if (op & 0x40)
				val |= val << 32;
			FUZZ_CHECK(apic && lapic__owns_msr(msr));
			int r = (op & 0x20) ? lapic__msr_write(apic, msr, val)
					    : lapic__msr_read(apic, msr, &val);
			FUZZ_CHECK(r == 0 || r == 1);
			break;
		}
		default:
			bus__access(&vm->pio, ports[op % NPORTS], &v, len, false);
			break;
		}
	}
	fuzz_vm__end(&F);
	return 0;
}
