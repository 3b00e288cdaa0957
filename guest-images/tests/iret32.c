/*
 * iret32.c: guest "iret32": a 32-bit kernel enters ring 3 the way small kernels do
 * (SDM vol. 2 IRET, vol. 3 6.12.1): push SS=0x23, ESP, EFLAGS=0x202, CS=0x1B, EIP and
 * IRET, user segments in GDT entries 3 and 4, from a GDT just loaded (never used, so
 * the accessed bits of its user descriptors are clear), DS/ES already holding the
 * user data selector and FS/GS null; ring 3 comes back with INT 0x80 through a DPL3
 * gate onto the TSS ring-0 stack. Once with paging off and once with 32-bit paging,
 * where the ring-0 stack is supervisor-only (a ring-3 -> ring-0 entry must push its
 * frame with supervisor privilege). Each round checks the ring-3 view and the frame
 * INT 0x80 pushed.
 */
#include "desc.h"
#include "paging.h"
#include "pic.h"
#include "pit.h"
#include "printf.h"
#include "string.h"
#include "test.h"
#include "trap.h"
#include "x86.h"

#define ENTRY_VECTOR 0x80

/* Filled by the assembly below. */
volatile u32 r3_cs, r3_ss, r3_ds, r3_eflags, r3_mark;
volatile u32 k_frame[5];   /* EIP, CS, EFLAGS, ESP, SS pushed by INT 0x80 */
volatile u32 k_frame_at;   /* address of that frame (top of the TSS stack - 20) */
volatile u32 k_ss_seen;
u32 iret32_kernel_esp;
u32 iret32_user_stack_top;
u32 iret32_user_eip;
u32 iret32_ds = 0x23;      /* DS/ES at the IRET */
extern char iret32_user_entry[], iret32_user_int[], iret32_user_end[], iret32_entry_stub[];
u32 iret32_run(u32 eflags);

asm(".text\n"
    /* u32 iret32_run(u32 eflags): DS/ES = user data, FS/GS null, IRET to ring 3. */
    ".globl iret32_run\n"
    "iret32_run:\n\t"
    "pushl %ebp\n\tpushl %ebx\n\tpushl %esi\n\tpushl %edi\n\t"
    "movl 20(%esp), %edx\n\t"
    "movl %esp, iret32_kernel_esp\n\t"
    "movl iret32_user_stack_top, %ecx\n\t"
    "movl iret32_ds, %eax\n\t"
    "movw %ax, %es\n\tmovw %ax, %ds\n\t"
    "xorl %eax, %eax\n\t"
    "movw %ax, %fs\n\tmovw %ax, %gs\n\t"
    "pushl $0x23\n\t"             /* SS */
    "pushl %ecx\n\t"              /* ESP */
    "pushl %edx\n\t"              /* EFLAGS */
    "pushl $0x1b\n\t"             /* CS */
    "pushl iret32_user_eip\n\t"   /* EIP */
    "iret\n"
    /* ring 3 */
    ".globl iret32_user_entry\n"
    "iret32_user_entry:\n\t"
    "movl %cs, %eax\n\tmovl %eax, %ss:r3_cs\n\t"
    "movl %ss, %eax\n\tmovl %eax, %ss:r3_ss\n\t"
    "movl %ds, %eax\n\tmovl %eax, %ss:r3_ds\n\t"
    "pushfl\n\tpopl %eax\n\tmovl %eax, %ss:r3_eflags\n\t"
    "movl $0x5eed, %ss:r3_mark\n\t"
    ".globl iret32_user_int\n"
    "iret32_user_int:\n\t"
    "int $0x80\n\t"
    "ud2\n"
    ".globl iret32_user_end\n"
    "iret32_user_end:\n"
    /* u32 iret32_same_stack(void): the tutorial form (JamesM's switch_to_user_mode):
     * every data segment = user data, ring 3 continues right after the IRET on the
     * kernel's stack, EFLAGS from PUSHF with IF set. */
    ".globl iret32_same_stack\n"
    "iret32_same_stack:\n\t"
    "pushl %ebp\n\tpushl %ebx\n\tpushl %esi\n\tpushl %edi\n\t"
    "movl %esp, iret32_kernel_esp\n\t"
    "movl 20(%esp), %eax\n\t"
    "testl %eax, %eax\n\t"
    "jz 2f\n\t"
    "movl %eax, %esp\n"         /* the stack given: in the GDT's page */
    "2:\t"
    "cli\n\t"
    "movw $0x23, %ax\n\t"
    "movw %ax, %ds\n\tmovw %ax, %es\n\tmovw %ax, %fs\n\tmovw %ax, %gs\n\t"
    "movl %esp, %eax\n\t"
    "pushl $0x23\n\t"
    "pushl %eax\n\t"
    "pushfl\n\t"
    "popl %eax\n\t"
    "orl $0x200, %eax\n\t"
    "pushl %eax\n\t"
    "pushl $0x1b\n\t"
    "pushl $1f\n\t"
    "iret\n"
    "1:\t"
    "movl %cs, %eax\n\tmovl %eax, r3_cs\n\t"
    "movl %ss, %eax\n\tmovl %eax, r3_ss\n\t"
    "movl %gs, %eax\n\tmovl %eax, r3_ds\n\t"
    "pushfl\n\tpopl %eax\n\tmovl %eax, r3_eflags\n\t"
    "movl $0x5eed, r3_mark\n\t"
    ".globl iret32_same_stack_int\n"
    "iret32_same_stack_int:\n\t"
    "int $0x80\n\t"
    "ud2\n"
    /* ring 0, on the TSS stack: record the frame, back to the kernel stack. */
    ".globl iret32_entry_stub\n"
    "iret32_entry_stub:\n\t"
    "movl $0x10, %eax\n\tmovw %ax, %ds\n\tmovw %ax, %es\n\t"
    "movl %ss, %eax\n\tmovl %eax, k_ss_seen\n\t"
    "movl %esp, k_frame_at\n\t"
    "movl 0(%esp), %eax\n\tmovl %eax, k_frame\n\t"
    "movl 4(%esp), %eax\n\tmovl %eax, k_frame+4\n\t"
    "movl 8(%esp), %eax\n\tmovl %eax, k_frame+8\n\t"
    "movl 12(%esp), %eax\n\tmovl %eax, k_frame+12\n\t"
    "movl 16(%esp), %eax\n\tmovl %eax, k_frame+16\n\t"
    "movw %ax, %fs\n\tmovw %ax, %gs\n\t"
    "movl iret32_kernel_esp, %esp\n\t"
    "movl $0x10, %eax\n\tmovw %ax, %fs\n\tmovw %ax, %gs\n\t"
    "movl r3_mark, %eax\n\t"
    "popl %edi\n\tpopl %esi\n\tpopl %ebx\n\tpopl %ebp\n\t"
    "ret\n");

/* A GDT as small kernels build it: null, kernel code and data, user code and data
 * (entries 3 and 4), the TSS; no accessed bit set anywhere. Each round loads a fresh
 * copy, so ring 3's descriptors have never been loaded. */
static u64 round_gdt[10][512] __aligned(4096);
static u8 user_stack[10][4096] __aligned(4096);

static void load_fresh_gdt(int round, u8 acc)
{
	u64 *g = round_gdt[round];
	struct dtr d;

	g[0] = 0;
	g[1] = desc__make(0, 0xfffff, ACC_CODE, FLG_FLAT);
	g[2] = desc__make(0, 0xfffff, ACC_DATA, FLG_FLAT);
	g[3] = desc__make(0, 0xfffff, ACC_CODE | ACC_DPL(3) | acc, FLG_FLAT);
	g[4] = desc__make(0, 0xfffff, ACC_DATA | ACC_DPL(3) | acc, FLG_FLAT);
	/* TR stays loaded; its descriptor is marked busy as the CPU leaves it. */
	g[5] = desc__make((u32)(uintptr_t)&tss__main, sizeof(tss__main) - 1,
			  ACC_P | TSS_TYPE_BUSY, 0);
	d.limit = 6 * 8 - 1;
	d.base = (u32)(uintptr_t)g;
	lgdt(&d);
	/* Reload every segment register from the new table, as the kernel would. */
	asm volatile("ljmp $0x08, $1f\n1:\n\t"
		     "movw %w0, %%ds\n\tmovw %w0, %%es\n\tmovw %w0, %%ss\n\t"
		     "movw %w0, %%fs\n\tmovw %w0, %%gs"
		     : : "r"(0x10) : "memory");
}

/* Where ring 3 runs: its code where the kernel was linked, or copied to address 0 with
 * the stack just above (the layout of xv6's first process). */
static u32 user_base;

static void one_round(int round, u8 acc, const char *what)
{
	u32 top = tss__esp0();

	load_fresh_gdt(round, acc);
	iret32_user_stack_top = (u32)(uintptr_t)(user_stack[round] + sizeof(user_stack[round]));
	iret32_user_eip = (u32)(uintptr_t)iret32_user_entry;
	if (user_base != iret32_user_eip) {
		memcpy((void *)(uintptr_t)user_base, iret32_user_entry,
		       (u32)(iret32_user_end - iret32_user_entry));
		iret32_user_eip = user_base;
		iret32_user_stack_top = 0x1000;
	}
	r3_cs = r3_ss = r3_ds = r3_eflags = r3_mark = 0;
	memset((void *)k_frame, 0, sizeof(k_frame));
	u32 r = iret32_run(FL_FIXED | FL_IF);
	test__eq(0x5eed, r, "%s: IRET reached ring 3 and INT 0x80 came back", what);
	test__eq(0x1b, r3_cs & 0xffff, "%s: ring 3 runs with CS 0x1b", what);
	test__eq(0x23, r3_ss & 0xffff, "%s: ring 3 runs with SS 0x23", what);
	test__eq(iret32_ds == 0x23 ? 0x23 : 0, r3_ds & 0xffff,
		 iret32_ds == 0x23 ? "%s: DS kept the user data selector" : "%s: IRET nulled DS", what);
	test__eq(FL_FIXED | FL_IF, r3_eflags & (FL_IF | FL_IOPL_MASK | FL_FIXED),
		 "%s: ring-3 EFLAGS has IF set, IOPL 0", what);
	test__eq(iret32_user_eip + (u32)(iret32_user_int - iret32_user_entry) + 2, k_frame[0],
		 "%s: frame EIP after INT 0x80", what);
	test__eq(0x1b, k_frame[1] & 0xffff, "%s: frame CS", what);
	test__eq(FL_IF, k_frame[2] & FL_IF, "%s: frame EFLAGS.IF", what);
	test__eq(iret32_user_stack_top, k_frame[3], "%s: frame ESP is the user stack", what);
	test__eq(0x23, k_frame[4] & 0xffff, "%s: frame SS", what);
	test__eq(top - 20, k_frame_at, "%s: the frame is at the top of TSS.ESP0's stack", what);
	/* (RPL not compared: shade's ring compression shows the kernel's RPL as 1) */
	test__eq(0x10, k_ss_seen & 0xfffc, "%s: the handler runs on TSS.SS0", what);
	/* The data descriptor the CPU loaded now has its accessed bit set (QEMU TCG does
	 * not set it in the code descriptor an IRET loads). */
	test__eq(ACC_A, desc__access(round_gdt[round][4]) & ACC_A, "%s: user data descriptor accessed", what);
}

u32 iret32_same_stack(u32 stack);
extern char iret32_same_stack_int[];

/* The tutorial form, on the kernel's stack or (round >= 0) on a stack in the page of a
 * fresh GDT (small kernels keep both in one data page). */
static void same_stack_round(int round, const char *what)
{
	u32 stack = 0;
	if (round >= 0) {
		load_fresh_gdt(round, 0);
		stack = (u32)(uintptr_t)round_gdt[round] + 4096;
	}
	r3_cs = r3_ss = r3_ds = r3_eflags = r3_mark = 0;
	memset((void *)k_frame, 0, sizeof(k_frame));
	u32 r = iret32_same_stack(stack);
	write_fs(SEL_KDATA);
	write_gs(SEL_KDATA);
	test__eq(0x5eed, r, "%s: IRET reached ring 3 and INT 0x80 came back", what);
	test__eq(0x1b, r3_cs & 0xffff, "%s: ring 3 runs with CS 0x1b", what);
	test__eq(0x23, r3_ss & 0xffff, "%s: ring 3 runs with SS 0x23", what);
	test__eq(0x23, r3_ds & 0xffff, "%s: GS kept the user data selector", what);
	test__eq(FL_IF, r3_eflags & (FL_IF | FL_IOPL_MASK), "%s: ring-3 EFLAGS has IF set, IOPL 0", what);
	test__eq((u32)(uintptr_t)iret32_same_stack_int + 2, k_frame[0], "%s: frame EIP after INT 0x80", what);
	test__eq(0x1b, k_frame[1] & 0xffff, "%s: frame CS", what);
	test__eq(0x23, k_frame[4] & 0xffff, "%s: frame SS", what);
}

static volatile u32 ticks;

static void irq0_handler(struct trap_frame *f)
{
	(void)f;
	ticks++;
	pic__eoi(0);
}

/* The tutorial form again and again with the PIT interrupting at 1 kHz, until 20 ticks:
 * interrupts land around the IRET, in ring 3 and in the kernel. */
static void timer_rounds(const char *what)
{
	u32 ok = 0, n = 0;
	trap__set_handler(PIC_MASTER_BASE, irq0_handler);
	pit__start(0, PIT_MODE_RATE, pit__divisor(1000));
	ticks = 0;
	pic__mask(0, false);
	/* until 20 ticks came (the bound on rounds is only a hang guard) */
	for (; ticks < 20 && n < 1000000; n++) {
		r3_cs = r3_mark = 0;
		sti();
		u32 r = iret32_same_stack(0);
		write_fs(SEL_KDATA);
		write_gs(SEL_KDATA);
		ok += r == 0x5eed && (r3_cs & 0xffff) == 0x1b;
	}
	pic__mask(0, true);
	cli();
	trap__set_handler(PIC_MASTER_BASE, NULL);
	test__eq_dec(n, ok, "%s: every IRET to ring 3 and back with the timer running", what);
	test__ok(ticks >= 20, "%s: 20 timer interrupts came meanwhile", what);
}

static u8 pt_mem[64 * 4096] __aligned(4096);

void test_main(void)
{
	static struct pt_pool pool;
	static struct paging as;

	test__begin("iret32");
	pic__remap(PIC_MASTER_BASE, PIC_SLAVE_BASE);
	pic__set_mask(0xffff);   /* IF is on in ring 3: no device interrupt may come */
	tss__init();
	idt__set(ENTRY_VECTOR, (u32)(uintptr_t)iret32_entry_stub, SEL_KCODE,
		 GATE_P | GATE_DPL(3) | GATE_INT32);

	user_base = (u32)(uintptr_t)iret32_user_entry;
	one_round(0, 0, "paging off");
	one_round(2, ACC_A, "paging off, accessed user descriptors");
	user_base = 0;
	one_round(4, 0, "paging off, ring 3 at address 0");
	user_base = (u32)(uintptr_t)iret32_user_entry;
	iret32_ds = 0x10;
	one_round(6, 0, "paging off, kernel DS at the IRET");
	iret32_ds = 0x23;
	same_stack_round(-1, "paging off, the tutorial form");
	same_stack_round(8, "paging off, the tutorial form, stack in the GDT's page");
	timer_rounds("paging off");

	/* 32-bit paging: everything identity-mapped and user-accessible except the TSS
	 * ring-0 stack, which is supervisor-only. */
	pt_pool__init(&pool, pt_mem, sizeof(pt_mem));
	paging__init(&as, PAGING_32, &pool);
	paging__identity(&as, 16u << 20, PTE_P | PTE_RW | PTE_US);
	for (u32 va = (tss__esp0() - 16384) & ~0xfffu; va < tss__esp0(); va += 4096)
		paging__map(&as, va, va, 1, PTE_P | PTE_RW);
	if (paging__enable(&as, 0)) {
		test__skip("paging on", "no 32-bit paging");
		test__done();
	}
	one_round(1, 0, "paging on, supervisor-only ring-0 stack");
	one_round(3, ACC_A, "paging on, accessed user descriptors");
	user_base = 0;
	one_round(5, 0, "paging on, ring 3 at address 0");
	user_base = (u32)(uintptr_t)iret32_user_entry;
	iret32_ds = 0x10;
	one_round(7, 0, "paging on, kernel DS at the IRET");
	iret32_ds = 0x23;
	same_stack_round(-1, "paging on, the tutorial form");
	same_stack_round(9, "paging on, the tutorial form, stack in the GDT's page");
	timer_rounds("paging on");
	test__done();
}
