/*
 * main.c: kmain, the kernel's init order, and the kernel command line.
 *
 * Command line (after the kernel path the loader puts first):
 *   [init=PROGRAM] [balloon.OPTION=VALUE]... [-- ARGS...]
 * PROGRAM (default "runner") is the first process, run from the initial file system
 * with ARGS as its arguments; balloon options are balloon.c's.
 */
#include "kernel.h"
#include "boot.h"
#include "pmem.h"
#include "vm.h"
#include "fs.h"
#include "proc.h"
#include "timer.h"
#include "trap.h"
#include "x86.h"
#include "balloon.h"

#define MAX_INIT_ARGS ARG_MAX

static char *init_argv[MAX_INIT_ARGS + 2];
static char init_path[64] = "runner";

static void parse_cmdline(char *s)
{
	int argc = 1;
	bool args = false;
	while (*s) {
		while (*s == ' ')
			*s++ = 0;
		if (!*s)
			break;
		char *tok = s;
		while (*s && *s != ' ')
			s++;
		if (*s)
			*s++ = 0;
		if (args) {
			if (argc <= MAX_INIT_ARGS)
				init_argv[argc++] = tok;
		} else if (!strcmp(tok, "--")) {
			args = true;
		} else if (!strncmp(tok, "init=", 5)) {
			strncpy0(init_path, tok + 5, sizeof(init_path));
		} else if (balloon__option(tok)) {
			;
		} else {
			kprintf("kernel: unknown option '%s' ignored\n", tok);
		}
	}
	init_argv[0] = init_path;
	init_argv[argc] = NULL;
}

void kmain(uint32_t magic, uint32_t mbi)
{
	struct pmem_stats s;

	console__init();
	kprintf("shade-os: booting\n");
	multiboot__parse(magic, mbi);		/* before anything reuses loader memory */
	vm__init_kernel();			/* direct map; the boot tables are left */
	cpu__init();				/* GDT, TSS, IDT, SYSCALL */
	balloon__probe();			/* its rings come from boot memory */
	pmem__init();				/* every page after the boot allocations */
	initrd__init(bootinfo.initrd_start, bootinfo.initrd_end);
	timer__init();				/* PIC and PIT: ticks from here on */
	sched__calibrate();			/* the TSC rate, for uptime() */

	pmem__stats(&s);
	kprintf("mem: %lu pages (%lu MiB) of RAM, %lu free, %lu for the kernel and initrd\n",
		s.total, s.total >> 8, s.free, s.kernel);
	kprintf("initrd: %d files\n", initrd__count());
	parse_cmdline(bootinfo.cmdline);
	kprintf("init: %s", init_path);
	for (int i = 1; init_argv[i]; i++)
		kprintf(" %s", init_argv[i]);
	kprintf("\n");
	struct proc *init = proc__create_init(init_path, init_argv);
	balloon__start();			/* its kernel thread, after init (pid 1) */
	sched__run_first(init);
}
