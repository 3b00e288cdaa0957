/*
 * seg.h: segment descriptors: decoding and encoding, reading the guest's own GDT/LDT,
 * the protected-mode checks of a segment-register load, and ring compression: the real
 * GDT/LDT of each vCPU mirror the guest's with DPL 0 descriptors made DPL 1, so guest
 * kernel code runs at real CPL 1 and its selectors keep working.
 */
#ifndef SHADE_SEG_H
#define SHADE_SEG_H

#include "gmem.h"

struct vcpu;

void seg__decode(uint64_t desc, uint16_t sel, struct kvm_segment *s);
uint64_t seg__encode(const struct kvm_segment *s);
/* The real descriptor for a guest one: DPL 0 -> 1, system descriptors removed, L
 * cleared outside long mode, accessed bit preset. */
uint64_t seg__compress(uint64_t desc, bool long_mode);
/* Virtual DPL of a descriptor the real CPU loaded (the inverse of the compression). */
static inline unsigned seg_virt_dpl(unsigned real_dpl) { return real_dpl == 1 ? 0 : real_dpl; }
/* The real selector for a guest selector at guest privilege `rpl` (RPL 0 -> 1). */
static inline uint16_t seg_real_sel(uint16_t sel) { return (sel & 3) == 0 && (sel & ~3) ? sel | 1 : sel; }
static inline uint16_t seg_virt_sel(uint16_t sel) { return (sel & 3) == 1 ? sel & ~3 : sel; }

/* Read a guest descriptor for `sel` from its GDT or LDT. 1 + #GP(sel) if out of limits. */
int seg__read_desc(struct vcpu *vcpu, uint16_t sel, uint64_t *desc, struct xfault *xf);
/* Mirror the guest's GDT (all of it) / LDT into the real tables. -E2BIG if the guest GDT
 * reaches the monitor's entries. */
int seg__mirror_gdt(struct vcpu *vcpu);
int seg__mirror_ldt(struct vcpu *vcpu);
/* Trace the frames the GDT and LDT live in now (after a change of translation), and
 * re-mirror a table whose frames changed. */
void seg__retrace(struct vcpu *vcpu);
/* A write to frame g that could not be executed in software is to run natively: stop
 * tracing g for the descriptor tables. False if g must stay traced (a page table). */
bool seg__open_page(struct vcpu *vcpu, gfn_t g);
/* ...and it ran: trace g again and re-mirror what the page at linear `lin` holds. */
void seg__close_page(struct vcpu *vcpu, gfn_t g, uint64_t lin);
/* Update the mirror after the guest wrote linear [lin, lin+len). */
void seg__guest_wrote(struct vcpu *vcpu, uint64_t lin, unsigned len);

/* Whether the real table's entry for s->selector is the descriptor *s (null: yes). */
bool seg__mirror_shows(struct vcpu *vcpu, const struct kvm_segment *s);
/* Before the guest resumes with CS = *cs and SS = *ss: the real entries of their
 * selectors that show another descriptor are made not present (so a native load of the
 * selector traps), the ones hidden at the last resume restored. */
void seg__hide_stale(struct vcpu *vcpu, const struct kvm_segment *cs, const struct kvm_segment *ss);
/* Restore the entries seg__hide_stale hid. */
void seg__unhide(struct vcpu *vcpu);

/* Set the accessed bit of a guest descriptor in its table (and in *desc), as the CPU
 * does on a segment load. */
int seg__mark_accessed(struct vcpu *vcpu, uint16_t sel, uint64_t *desc, struct xfault *xf);

/*
 * Load a data segment register or SS with the protected-mode checks (SDM MOV/POP/LDS):
 * on success vcpu->g.seg[reg] holds the real (compressed) cache and the selector as the
 * real CPU would have it.
 */
int seg__load(struct vcpu *vcpu, enum seg_reg reg, uint16_t sel, struct xfault *xf);
/* Checks for loading CS as the target of a far JMP/CALL/RET/IRET or gate at new
 * privilege `cpl` (virtual); fills *s (real cache). */
int seg__check_code(struct vcpu *vcpu, uint16_t sel, unsigned cpl, bool is_ret,
		    struct kvm_segment *s, struct xfault *xf);
/* Checks for SS at privilege `cpl` (stack switch / return to outer level). */
int seg__check_stack(struct vcpu *vcpu, uint16_t sel, unsigned cpl, unsigned vec_for_fault,
		     struct kvm_segment *s, struct xfault *xf);

#endif
