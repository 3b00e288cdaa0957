/*
 * baseline.h: --baseline, the comparison mode: the same guest run directly by KVM at
 * real CPL 0 with no deprivileging, no monitor and no shadow tables (its physical
 * addresses are KVM's). Devices, loader and stats are shared with the normal path, so
 * differences in exits and time are the cost of trap-and-emulate.
 */
#ifndef SHADE_BASELINE_H
#define SHADE_BASELINE_H

#include <stdint.h>

struct vcpu;

int baseline__reset(struct vcpu *vcpu, uint32_t entry, uint32_t mbi);
void baseline__handle_exit(struct vcpu *vcpu);
void baseline__prepare_entry(struct vcpu *vcpu);

#endif
