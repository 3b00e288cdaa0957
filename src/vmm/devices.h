/*
 * devices.h: the PC platform of one VM: which device models it has, where they sit on
 * the buses, how their interrupt lines reach the vCPU, and the console's host side.
 * The models themselves live in src/hw/.
 */
#ifndef SHADE_DEVICES_H
#define SHADE_DEVICES_H

#include <stdio.h>

#include "types.h"

struct vm;

int devices__init(struct vm *vm);
void devices__exit(struct vm *vm);
/* Start the console input thread (after the vCPU threads exist). */
int devices__start(struct vm *vm);
/* On the vCPU thread: fire due device timers, move console input into the UART. */
void devices__poll(struct vm *vm);
/* Whether the interrupt controller has an interrupt for the CPU. */
bool devices__irq_pending(struct vm *vm);
/* The interrupt-acknowledge cycle: the vector to deliver, or -1. */
int devices__irq_ack(struct vm *vm);
/* The vCPU's local APIC (for its MSRs, CR8 and CPUID.1:EDX.APIC), or NULL. */
struct lapic *devices__lapic(struct vm *vm);
void devices__print_stats(struct vm *vm, FILE *f);
/* The balloon, from any thread: ask the guest to hold `pages`; the driver's count;
 * libvirt memory-stat lines. -ENODEV without a balloon device. */
int devices__balloon_request(struct vm *vm, uint64_t pages);
int devices__balloon_actual(struct vm *vm, uint32_t *actual);
void devices__print_memstats(struct vm *vm, FILE *f);

/* The exit status of a VM whose guest asked for a reset (0xcf9, i8042 0xfe, port 0x92):
 * even, so never a debug-exit status, and not 0 (halt, power-off), 2 or 4. */
#define DEVICES_RESET_STATUS 6
struct fw_cfg;
/* The VM's fw_cfg device, for the firmware step to fill (NULL if none). */
struct fw_cfg *devices__fw_cfg(struct vm *vm);
/* The text screen (cga__render's text), from any thread: the vCPU thread renders it on
 * request (-ETIMEDOUT if it does not within 2 s); after the VM stopped, the final one. */
int devices__screendump(struct vm *vm, char *out, size_t cap);
/* Once the vCPUs are gone: keep the final screen, and print it to f if the guest
 * wrote anything on it. */
void devices__report_stop(struct vm *vm, FILE *f);

#endif
