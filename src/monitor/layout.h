/*
 * layout.h: where the CPL0 monitor lives, shared by the monitor's assembly and the VMM.
 * Plain #defines only: this file is included from .S files.
 *
 * The monitor occupies one top-level (PML4) slot that x86-64 kernels leave unused for
 * hypervisors, 0xffff800000000000-0xffff807fffffffff. 32-bit guest code (legacy or
 * compatibility mode) cannot form an address above 4 GiB at all; 64-bit guests get a
 * clear error if they map that slot. Per-vCPU structures sit at MON_CPU(n).
 *
 * The real GDT of each vCPU mirrors the guest's GDT entry for entry (DPL 0 compressed to
 * DPL 1) and keeps the monitor's own descriptors in its last four entries, which a guest
 * GDT must not reach.
 */
#ifndef SHADE_MONITOR_LAYOUT_H
#define SHADE_MONITOR_LAYOUT_H

#define MON_PML4_SLOT      256
#define MON_BASE           0xffff800000000000
#define MON_IDT            (MON_BASE + 0x0000)    /* 256 x 16-byte gates, one page */
#define MON_TEXT           (MON_BASE + 0x1000)    /* the stubs, up to 4 pages */
#define MON_TEXT_PAGES     4
#define MON_CPU_BASE       (MON_BASE + 0x100000)
#define MON_CPU_STRIDE     0x40000
#define MON_CPU(n)         (MON_CPU_BASE + (n) * MON_CPU_STRIDE)

/* Offsets inside one vCPU's block. */
#define MON_CPU_GDT        0x00000                /* 64 KiB: 8192 descriptors */
#define MON_CPU_GDT_PAGES  16
#define MON_CPU_TSS        0x10000                /* 64-bit TSS, no I/O bitmap */
#define MON_CPU_STACK_LO   0x12000                /* guard page at 0x11000 */
#define MON_CPU_STACK_TOP  0x14000                /* TSS.RSP0 */
#define MON_CPU_IST_LO     0x15000                /* guard page at 0x14000 */
#define MON_CPU_IST_TOP    0x16000                /* TSS.IST1: #DF, NMI, #MC */
#define MON_CPU_LDT        0x20000                /* 64 KiB: the guest LDT's mirror */
#define MON_CPU_LDT_PAGES  16

#define GDT_ENTRIES        8192
#define MON_GDT_FIRST      8188                   /* first entry the monitor owns */
#define MON_SEL_CS         (8188 * 8)             /* 64-bit code, DPL 0 */
#define MON_SEL_DS         (8189 * 8)             /* data, DPL 0 */
#define MON_SEL_TSS        (8190 * 8)             /* 16-byte 64-bit TSS descriptor */

/* The port a stub writes the vector to; honoured only from real CPL 0. */
#define MON_PORT           0xe3

/* Stubs are MON_STUB_SIZE bytes each, vector n at MON_TEXT + n * MON_STUB_SIZE. */
#define MON_STUB_SIZE      16

/*
 * Frame layout at the OUT exit, from the RSP the exit reports (low to high): saved RAX,
 * vector, error code, then the hardware frame RIP, CS, RFLAGS, RSP, SS.
 */
#define MON_FRAME_RAX      0
#define MON_FRAME_VEC      8
#define MON_FRAME_ERR      16
#define MON_FRAME_RIP      24
#define MON_FRAME_CS       32
#define MON_FRAME_RFLAGS   40
#define MON_FRAME_RSP      48
#define MON_FRAME_SS       56
#define MON_FRAME_SIZE     64

/* Real vector the VMM injects (KVM_INTERRUPT) to deliver a virtual interrupt. */
#define MON_VEC_VIRQ       0x20

#endif
