/*
 * devices.c: assembling the PC platform of a VM from the models in src/hw/.
 *
 * Init order (devices__init):
 *   1. i8259 PIC pair and the APICs (intc.c): every ISA line drives the i8259 and the
 *      I/O APIC; the local APIC decides what the CPU takes
 *   2. i8254 PIT on IRQ 0, CMOS RTC on IRQ 8 (both on the VM's timer queue)
 *   3. 16550 UART COM1 on IRQ 4, its output to the console fd
 *   4. PCI configuration mechanism #1 with the host bridge
 *   5. the debug-exit port at 0xf4
 *   6. the virtio balloon at 00:03.0, IRQ 11 (not with --baseline)
 *   7. PC odds and ends: ACPI PM block + APM + reset control (0x600, 0xb2, 0xcf9),
 *      fw_cfg (0x510), i8042 + port 0x92 (IRQ 1, 12), the CGA/VGA text ports, port 0x80
 *      (their items and the firmware tables are filled by firmware__install later)
 * All device state is in struct devices, one per VM; they run on the vCPU thread. The
 * only other thread is the console reader, which touches nothing but the input ring.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "acpi_pm.h"
#include "cga.h"
#include "debug_exit.h"
#include "fw_cfg.h"
#include "i8042.h"
#include "devices.h"
#include "intc.h"
#include "pci.h"
#include "pic.h"
#include "pit.h"
#include "rtc.h"
#include "uart.h"
#include "vcpu.h"
#include "virtio_balloon.h"

#define INPUT_RING 4096
#define BALLOON_IRQ 11

struct devices {
	struct vm *vm;
	struct pic pic;
	struct intc intc;            /* the APICs, and every ISA line's way to the CPU */
	struct pit pit;
	struct rtc rtc;
	struct uart com1;
	struct pci pci;
	struct debug_exit dbg;
	struct vballoon balloon;
	bool has_balloon;
	struct acpi_pm pm;
	struct fw_cfg fw_cfg;
	bool has_fw_cfg;
	struct i8042 kbd;
	struct cga cga;
	uint64_t port80_writes;
	/* the screen as text, rendered on the vCPU thread for the control socket */
	bool screen_wanted, screen_ready, screen_final;
	pthread_cond_t screen_cond;
	char screen[CGA_TEXT_MAX];

	/* console input: filled by the reader thread, drained into the UART */
	pthread_t reader;
	bool reader_started;
	pthread_mutex_t lock;
	pthread_cond_t space;
	uint8_t ring[INPUT_RING];
	size_t head, tail;           /* head - tail bytes buffered */
	bool input_eof;
	int stop_pipe[2];
};

static void console_tx(void *ctx, uint8_t c)
{
	struct vm *vm = ctx;
	console__put(&vm->console, c);
}

static void guest_exit(void *ctx, int status)
{
	struct vm *vm = ctx;
	vm__stop(vm, status, "guest wrote %d to the debug-exit port", (status - 1) / 2);
}

static void guest_power_off(void *ctx)
{
	struct vm *vm = ctx;
	vm__stop(vm, 0, "guest powered off (ACPI soft-off, S5)");
}

/* shade has no reboot: a reset request ends the VM with a status of its own. */
static void guest_reset(void *ctx)
{
	struct vm *vm = ctx;
	vm__stop(vm, DEVICES_RESET_STATUS, "guest requested a reset (shade has no reboot)");
}

static int fw_cfg_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct vm *vm = ctx;
	return pmap__read(&vm->pmap, GPA(gpa), buf, len);
}

static int fw_cfg_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	struct vm *vm = ctx;
	return pmap__write(&vm->pmap, GPA(gpa), buf, len);   /* a device write: COW-safe */
}

/* Port 0x80 (POST codes, I/O delays): writes go nowhere, reads give 0xff as on QEMU;
 * claimed only so that these do not count as unclaimed accesses. */
static int port80_io(void *dev, uint64_t addr, void *data, unsigned len, bool is_write)
{
	struct devices *d = dev;
	if (is_write)
		d->port80_writes++;
	else
		memset(data, 0xff, len);
	return 0;
}

static int odds_and_ends(struct vm *vm, struct devices *d)
{
	struct fw_cfg_mem mem = { fw_cfg_read, fw_cfg_write, vm };
	int ret;

	acpi_pm__init(&d->pm, &vm->clock, guest_power_off, guest_reset, vm);
	d->pci.rcr_fn = acpi_pm__rcr_io;
	d->pci.rcr_dev = &d->pm;
	i8042__init(&d->kbd, intc__isa_line(&d->intc, I8042_KBD_IRQ),
		    intc__isa_line(&d->intc, I8042_AUX_IRQ),
		    guest_reset, vm);
	cga__init(&d->cga);
	if ((ret = fw_cfg__init(&d->fw_cfg, &mem)))
		return ret;
	d->has_fw_cfg = true;
	if ((ret = acpi_pm__register(&d->pm, &vm->pio)) ||
	    (ret = fw_cfg__register(&d->fw_cfg, &vm->pio)) ||
	    (ret = i8042__register(&d->kbd, &vm->pio)) ||
	    (ret = cga__register(&d->cga, &vm->pio)))
		return ret;
	return bus__register(&vm->pio, 0x80, 1, port80_io, d, "port-80");
}

static void pic_notify(void *ctx, int level)
{
	struct vm *vm = ctx;
	if (level)
		vm__kick(vm);
}

int devices__init(struct vm *vm)
{
	struct devices *d = calloc(1, sizeof(*d));
	int ret;

	if (!d)
		return -ENOMEM;
	d->vm = vm;
	d->stop_pipe[0] = d->stop_pipe[1] = -1;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->space, NULL);
	pthread_cond_init(&d->screen_cond, NULL);
	vm->dev = d;
	console__init(&vm->console, vm->cfg.name, vm->cfg.console_out, vm->cfg.console_log,
		      vm->cfg.console_prefix, vm->cfg.term_lock);

	pic__init(&d->pic, pic_notify, vm);
	intc__init(&d->intc, vm, &d->pic);
	pit__init(&d->pit, &vm->clock, intc__isa_line(&d->intc, PIT_IRQ));
	uint64_t below = MIN(vm->cfg.mem_bytes, 0xe0000000ULL);
	rtc__init(&d->rtc, &vm->clock, intc__isa_line(&d->intc, RTC_IRQ), below,
		  vm->cfg.mem_bytes - below);
	uart__init(&d->com1, UART_COM1_BASE, intc__isa_line(&d->intc, UART_COM1_IRQ), console_tx, vm);
	pci__init(&d->pci);
	debug_exit__init(&d->dbg, DEBUG_EXIT_BASE, DEBUG_EXIT_SIZE, guest_exit, vm);

	/* The virtio balloon at 00:03.0 on IRQ 11 (level, as PCI INTx is); not for
	 * --baseline, whose guest memory is KVM's own, nor for a VM configured without one. */
	if (!vm->cfg.baseline && !vm->cfg.no_balloon) {
		if ((ret = vballoon__init(&d->balloon, vm, intc__isa_line(&d->intc, BALLOON_IRQ)))) {
			devices__exit(vm);
			return ret;
		}
		d->balloon.pci.cfg[PCI_INTERRUPT_LINE] = BALLOON_IRQ;
		d->has_balloon = true;
		vballoon__set_target(&d->balloon, (uint32_t)(vm->cfg.balloon_target / PAGE_SIZE));
	}
	if ((ret = pic__register(&d->pic, &vm->pio)) ||
	    (ret = intc__register(&d->intc, vm)) ||
	    (ret = pit__register(&d->pit, &vm->pio, &vm->timers)) ||
	    (ret = rtc__register(&d->rtc, &vm->pio, &vm->timers)) ||
	    (ret = uart__register(&d->com1, &vm->pio)) ||
	    (ret = pci__register(&d->pci, &vm->pio)) ||
	    (ret = debug_exit__register(&d->dbg, &vm->pio)) ||
	    (d->has_balloon && (ret = vballoon__register(&d->balloon, &d->pci, PCI_DEVFN(3, 0)))) ||
	    (ret = odds_and_ends(vm, d))) {
		devices__exit(vm);
		return ret;
	}
	return 0;
}

static void *reader_thread(void *arg)
{
	struct devices *d = arg;
	struct vm *vm = d->vm;
	uint8_t buf[256];

	for (;;) {
		struct pollfd p[2] = { { vm->cfg.console_in, POLLIN, 0 }, { d->stop_pipe[0], POLLIN, 0 } };
		if (poll(p, 2, -1) < 0)
			continue;
		if (p[1].revents)
			break;
		pthread_mutex_lock(&d->lock);
		while (d->head - d->tail == INPUT_RING && !atomic_load(&vm->stop))
			pthread_cond_wait(&d->space, &d->lock);
		size_t room = MIN(INPUT_RING - (d->head - d->tail), sizeof(buf));
		pthread_mutex_unlock(&d->lock);
		if (atomic_load(&vm->stop))
			break;
		ssize_t n = read(vm->cfg.console_in, buf, room);
		pthread_mutex_lock(&d->lock);
		if (n <= 0) {
			d->input_eof = true;
			pthread_mutex_unlock(&d->lock);
			break;
		}
		for (ssize_t i = 0; i < n; i++)
			d->ring[(d->head++) % INPUT_RING] = buf[i];
		pthread_mutex_unlock(&d->lock);
		vm__kick(vm);
	}
	return NULL;
}

int devices__start(struct vm *vm)
{
	struct devices *d = vm->dev;
	if (vm->cfg.console_in < 0)
		return 0;
	if (pipe(d->stop_pipe) < 0)
		return -errno;
	if (pthread_create(&d->reader, NULL, reader_thread, d))
		return -EAGAIN;
	d->reader_started = true;
	return 0;
}

void devices__exit(struct vm *vm)
{
	struct devices *d = vm->dev;
	if (!d)
		return;
	if (d->reader_started) {
		pthread_mutex_lock(&d->lock);
		pthread_cond_broadcast(&d->space);
		pthread_mutex_unlock(&d->lock);
		if (write(d->stop_pipe[1], "x", 1) < 0)
			pthread_cancel(d->reader);
		pthread_join(d->reader, NULL);
	}
	if (d->stop_pipe[0] >= 0) {
		close(d->stop_pipe[0]);
		close(d->stop_pipe[1]);
	}
	if (d->has_fw_cfg)
		fw_cfg__exit(&d->fw_cfg);
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->space);
	pthread_cond_destroy(&d->screen_cond);
	free(d);
	vm->dev = NULL;
}

/* The text page the CRTC displays, from guest RAM: on the vCPU thread, or once the VM's
 * vCPUs are gone. */
static bool render_screen(struct vm *vm, struct devices *d)
{
	/* Only the displayed page is read (reading backs guest pages): at most two
	 * pieces, when it wraps at the end of the 32 KiB. */
	uint8_t *vram = calloc(1, CGA_VRAM_SIZE);
	size_t off = cga__page_offset(&d->cga), len = CGA_COLS * CGA_ROWS * 2;
	size_t first = MIN(len, CGA_VRAM_SIZE - off);
	bool written = false;
	d->screen[0] = 0;
	if (vram && !pmap__read(&vm->pmap, GPA(CGA_VRAM + off), vram + off, first) &&
	    !pmap__read(&vm->pmap, GPA(CGA_VRAM), vram, len - first)) {
		written = cga__written(&d->cga, vram);
		cga__render(&d->cga, vram, d->screen, sizeof(d->screen));
	}
	free(vram);
	return written;
}

static void poll_screen(struct vm *vm, struct devices *d)
{
	pthread_mutex_lock(&d->lock);
	if (d->screen_wanted) {
		render_screen(vm, d);
		d->screen_wanted = false;
		d->screen_ready = true;
		pthread_cond_broadcast(&d->screen_cond);
	}
	pthread_mutex_unlock(&d->lock);
}

void devices__poll(struct vm *vm)
{
	struct devices *d = vm->dev;
	timers__run(&vm->timers, vclock__mono(&vm->clock));
	if (d->has_balloon)
		vballoon__poll(&d->balloon);

	if (__atomic_load_n(&d->screen_wanted, __ATOMIC_RELAXED))
		poll_screen(vm, d);
	pthread_mutex_lock(&d->lock);
	while (d->head != d->tail) {
		size_t space = uart__rx_space(&d->com1);
		if (!space)
			break;
		uint8_t chunk[UART_FIFO_SIZE];
		size_t n = 0;
		while (n < space && n < sizeof(chunk) && d->tail + n != d->head) {
			chunk[n] = d->ring[(d->tail + n) % INPUT_RING];
			n++;
		}
		d->tail += uart__rx(&d->com1, chunk, n);
		pthread_cond_signal(&d->space);
	}
	pthread_mutex_unlock(&d->lock);
}

int devices__screendump(struct vm *vm, char *out, size_t cap)
{
	struct devices *d = vm->dev;
	struct timespec until;
	int ret = 0;

	if (!d || !cap)
		return -ENODEV;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 2;
	/* No vCPU thread yet (or none at all): nothing runs the guest, read it here. */
	bool idle = vm->nvcpus == 0 || !vm->vcpu[0]->thread;
	pthread_mutex_lock(&d->lock);
	if (idle && !d->screen_final) {
		render_screen(vm, d);
		d->screen_ready = true;
	} else if (!d->screen_final) {
		d->screen_wanted = true;
		d->screen_ready = false;
		vm__kick(vm);
		while (!d->screen_ready && !d->screen_final && !ret)
			ret = pthread_cond_timedwait(&d->screen_cond, &d->lock, &until);
	}
	if (d->screen_ready || d->screen_final) {
		snprintf(out, cap, "%s", d->screen);
		ret = 0;
	} else {
		ret = -ETIMEDOUT;
	}
	pthread_mutex_unlock(&d->lock);
	return ret;
}

void devices__report_stop(struct vm *vm, FILE *f)
{
	struct devices *d = vm->dev;
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	bool written = render_screen(vm, d);
	d->screen_final = true;
	pthread_cond_broadcast(&d->screen_cond);
	if (written) {
		unsigned cur = cga__cursor(&d->cga);
		fprintf(f, "shade: %s: text screen at stop (cursor at row %u column %u):\n%s",
			vm->cfg.name ? vm->cfg.name : "vm", cur / CGA_COLS, cur % CGA_COLS, d->screen);
	}
	pthread_mutex_unlock(&d->lock);
}

bool devices__irq_pending(struct vm *vm)
{
	return intc__pending(&vm->dev->intc);
}

int devices__irq_ack(struct vm *vm)
{
	return intc__ack(&vm->dev->intc);
}

struct lapic *devices__lapic(struct vm *vm)
{
	return vm->dev ? &vm->dev->intc.lapic : NULL;
}

void devices__print_stats(struct vm *vm, FILE *f)
{
	struct devices *d = vm->dev;
	const char *n = vm->cfg.name;
#define P(dev, field) fprintf(f, "%s.%s.%s %llu\n", n, #dev, #field, \
			      (unsigned long long)d->dev.stats.field)
	P(com1, tx_bytes); P(com1, rx_bytes); P(com1, loopback_bytes); P(com1, overruns);
	P(com1, irq_raised);
	P(pic, acks); P(pic, spurious); P(pic, eois);
	for (unsigned i = 0; i < PIC_NR_IRQS; i++)
		if (d->pic.stats.delivered[i])
			fprintf(f, "%s.pic.delivered.irq%u %llu\n", n, i,
				(unsigned long long)d->pic.stats.delivered[i]);
	P(pit, edges); P(pit, missed); P(pit, loads); P(pit, latches); P(pit, readbacks);
	P(rtc, reads); P(rtc, writes); P(rtc, irq_raised); P(rtc, periodic);
	P(rtc, update_ended); P(rtc, alarm);
	P(pci, cfg_reads); P(pci, cfg_writes); P(pci, absent_reads);
	P(pm, timer_reads); P(kbd, commands); P(kbd, resets);
	P(fw_cfg, selects); P(fw_cfg, data_reads); P(fw_cfg, dma_transfers); P(fw_cfg, dma_errors);
#undef P
	fprintf(f, "%s.cga.crtc_writes %llu\n%s.port80.writes %llu\n", n,
		(unsigned long long)d->cga.crtc_writes, n, (unsigned long long)d->port80_writes);
	intc__print_stats(&d->intc, n, f);
	if (d->has_balloon)
		vballoon__print_stats(&d->balloon, n, f);
	fprintf(f, "%s.pio.unclaimed_reads %llu\n%s.pio.unclaimed_writes %llu\n", n,
		(unsigned long long)vm->pio.unclaimed_reads, n,
		(unsigned long long)vm->pio.unclaimed_writes);
}

struct fw_cfg *devices__fw_cfg(struct vm *vm)
{
	struct devices *d = vm->dev;
	return d && d->has_fw_cfg ? &d->fw_cfg : NULL;
}

int devices__balloon_request(struct vm *vm, uint64_t pages)
{
	struct devices *d = vm->dev;
	if (!d || !d->has_balloon)
		return -ENODEV;
	vballoon__post_target(&d->balloon, (uint32_t)MIN(pages, (uint64_t)UINT32_MAX));
	vm__kick(vm);
	return 0;
}

int devices__balloon_actual(struct vm *vm, uint32_t *actual)
{
	struct devices *d = vm->dev;
	if (!d || !d->has_balloon)
		return -ENODEV;
	*actual = d->balloon.actual;
	return 0;
}

void devices__print_memstats(struct vm *vm, FILE *f)
{
	struct devices *d = vm->dev;
	if (d && d->has_balloon)
		vballoon__print_memstats(&d->balloon, vm->cfg.name, f);
}
