/*
 * seg.c: descriptors, the guest's descriptor tables and their real mirrors.
 */
#include <errno.h>
#include <string.h>

#include "monitor.h"
#include "physmap.h"
#include "seg.h"
#include "vcpu.h"

void seg__decode(uint64_t d, uint16_t sel, struct kvm_segment *s)
{
	memset(s, 0, sizeof(*s));
	uint32_t limit = (uint32_t)((d & 0xffff) | ((d >> 32) & 0xf0000));
	s->g = (d >> 55) & 1;
	s->limit = s->g ? (limit << 12) | 0xfff : limit;
	s->base = ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24);
	s->type = (d >> 40) & 0xf;
	s->s = (d >> 44) & 1;
	s->dpl = (d >> 45) & 3;
	s->present = (d >> 47) & 1;
	s->avl = (d >> 52) & 1;
	s->l = (d >> 53) & 1;
	s->db = (d >> 54) & 1;
	s->selector = sel;
	s->unusable = !s->present;
}

uint64_t seg__encode(const struct kvm_segment *s)
{
	uint64_t limit = s->g ? s->limit >> 12 : s->limit;
	return (limit & 0xffff) | ((s->base & 0xffffff) << 16) | ((uint64_t)(s->type & 0xf) << 40) |
	       ((uint64_t)(s->s & 1) << 44) | ((uint64_t)(s->dpl & 3) << 45) |
	       ((uint64_t)(s->present & 1) << 47) | (((limit >> 16) & 0xf) << 48) |
	       ((uint64_t)(s->avl & 1) << 52) | ((uint64_t)(s->l & 1) << 53) |
	       ((uint64_t)(s->db & 1) << 54) | ((uint64_t)(s->g & 1) << 55) |
	       (((s->base >> 24) & 0xff) << 56);
}

uint64_t seg__compress(uint64_t d, bool long_mode)
{
	if (!(d & BIT(44)))
		return 0;        /* system descriptors never reach the real CPU */
	/* Lazy accessed bit: a descriptor the guest has never loaded is mirrored
	 * not-present, so its first load traps and shade sets A in the guest's copy
	 * (seg__mark_accessed), as the CPU would. The mirror then gets the present form. */
	if (!(d & BIT(40)))
		d &= ~BIT(47);
	if (((d >> 45) & 3) == 0)
		d |= 1ULL << 45; /* DPL 0 -> 1 */
	if (!long_mode)
		d &= ~BIT(53);   /* L is meaningless outside IA-32e mode */
	return d | BIT(40);      /* accessed: the real CPU never writes the mirror */
}

int seg__read_desc(struct vcpu *vcpu, uint16_t sel, uint64_t *desc, struct xfault *xf)
{
	struct vcpu_virt *v = &vcpu->v;
	uint64_t base, limit;
	if (sel & 4) {
		if (v->ldtr.unusable || !v->ldtr.present)
			return xfault_set(xf, X86_GP, true, sel & ~3u);
		base = v->ldtr.base;
		limit = v->ldtr.limit;
	} else {
		base = v->gdtr.base;
		limit = v->gdtr.limit;
	}
	uint64_t off = sel & ~7u;
	if (off + 7 > limit)
		return xfault_set(xf, X86_GP, true, sel & ~3u);
	if (!(sel & 4) && (sel >> 3) >= MON_GDT_FIRST) {
		/* The real GDT holds the monitor's descriptors there (all DPL 0, so the
		 * guest's every use of the selector traps here). */
		vm__stop(vcpu->vm, 4, "guest uses GDT entry %u, where shade's monitor keeps its own "
			 "descriptors (guests may use entries below %u)", sel >> 3, MON_GDT_FIRST);
		return -E2BIG;
	}
	int r = gmem__read_linear(vcpu, base + off, desc, 8, ACC_READ | ACC_SUPERVISOR, xf);
	return r;
}

static int mirror_table(struct vcpu *vcpu, uint64_t base, uint32_t limit, bool is_ldt)
{
	struct monitor *m = &vcpu->vm->mon;
	bool lm = virt_long_mode(&vcpu->v);
	unsigned n = (limit + 1) / 8, max = is_ldt ? GDT_ENTRIES : MON_GDT_FIRST;
	struct xfault xf;

	/* A GDT limit reaching the monitor's entries is legal (LGDT of open bus gives
	 * 0xffff): what the guest keeps there is never mirrored, and using it stops the
	 * VM (seg__read_desc). */
	n = MIN(n, max);
	for (unsigned i = 0; i < max; i++) {
		uint64_t d = 0;
		if (i < n && i > 0 && gmem__read_linear(vcpu, base + i * 8, &d, 8,
							 ACC_READ | ACC_SUPERVISOR, &xf))
			d = 0;
		if (is_ldt && i == 0 && n)
			gmem__read_linear(vcpu, base, &d, 8, ACC_READ | ACC_SUPERVISOR, &xf);
		uint64_t *e = is_ldt ? monitor__ldt_entry(m, vcpu->id, i)
				     : monitor__gdt_entry(m, vcpu->id, i);
		*e = seg__compress(d, lm);
	}
	return 0;
}

/*
 * Trace (write-protect) the guest pages holding a descriptor table, so that a guest
 * write reaches the mirror (see exit.c: a write fault there is single-stepped and the
 * page re-mirrored). Pages are counted, since the GDT and LDT may share one. With guest
 * paging off, linear addresses are guest-physical.
 */
static void trace_pages(struct vcpu *vcpu, uint64_t base, uint32_t limit, bool on)
{
	struct vm *vm = vcpu->vm;
	if (vcpu->v.cr0 & CR0_PG)
		return;
	for (uint64_t a = base & PAGE_MASK; a <= ((base + limit) & 0xffffffffULL); a += PAGE_SIZE) {
		gfn_t g = GFN(a >> PAGE_SHIFT);
		if (!pmap__in_ram(&vm->pmap, g))
			break;
		struct pmap_entry *e = &vm->pmap.e[g.v];
		if (on && e->trace_refs++ == 0) {
			e->flags |= PPN_F_PT;
			if (physmap__protect(vm, g, true))
				vcpu__queue_flush(vcpu, a);
		} else if (!on && e->trace_refs && --e->trace_refs == 0) {
			e->flags &= (uint8_t)~PPN_F_PT;
			physmap__protect(vm, g, false);
		}
	}
}

static void retrace(struct vcpu *vcpu, struct traced_range *t,
		    uint64_t base, uint32_t limit, bool on)
{
	if (t->on)
		trace_pages(vcpu, t->base, t->limit, false);
	t->base = base;
	t->limit = limit;
	t->on = on;
	if (on)
		trace_pages(vcpu, base, limit, true);
}

int seg__mirror_gdt(struct vcpu *vcpu)
{
	int r = mirror_table(vcpu, vcpu->v.gdtr.base, vcpu->v.gdtr.limit, false);
	if (!r)
		retrace(vcpu, &vcpu->traced_gdt, vcpu->v.gdtr.base, vcpu->v.gdtr.limit, true);
	return r;
}

int seg__mirror_ldt(struct vcpu *vcpu)
{
	const struct kvm_segment *l = &vcpu->v.ldtr;
	bool on = !l->unusable && l->present;
	int r = on ? mirror_table(vcpu, l->base, l->limit, true) : mirror_table(vcpu, 0, 0, true);
	if (!r)
		retrace(vcpu, &vcpu->traced_ldt, l->base, l->limit, on);
	return r;
}

void seg__guest_wrote(struct vcpu *vcpu, uint64_t lin, unsigned len)
{
	struct vcpu_virt *v = &vcpu->v;
	struct monitor *m = &vcpu->vm->mon;
	bool lm = virt_long_mode(v);
	struct xfault xf;
	const struct { uint64_t base; uint32_t limit; bool ldt; } t[2] = {
		{ v->gdtr.base, v->gdtr.limit, false },
		{ v->ldtr.base, v->ldtr.present ? v->ldtr.limit : 0, true },
	};
	for (unsigned k = 0; k < 2; k++) {
		if (!t[k].limit || lin + len <= t[k].base || lin > t[k].base + t[k].limit)
			continue;
		uint64_t first = (MAX(lin, t[k].base) - t[k].base) / 8;
		uint64_t last = (MIN(lin + len - 1, t[k].base + t[k].limit) - t[k].base) / 8;
		for (uint64_t i = first; i <= last && i < (t[k].ldt ? GDT_ENTRIES : MON_GDT_FIRST); i++) {
			uint64_t d = 0;
			if (i == 0 && !t[k].ldt)
				continue;
			if (gmem__read_linear(vcpu, t[k].base + i * 8, &d, 8, ACC_READ, &xf))
				d = 0;
			uint64_t *e = t[k].ldt ? monitor__ldt_entry(m, vcpu->id, (unsigned)i)
					       : monitor__gdt_entry(m, vcpu->id, (unsigned)i);
			*e = seg__compress(d, lm);
		}
	}
}

int seg__mark_accessed(struct vcpu *vcpu, uint16_t sel, uint64_t *desc, struct xfault *xf)
{
	if ((*desc & BIT(40)) || !(*desc & BIT(44)))
		return 0;
	uint64_t base = (sel & 4) ? vcpu->v.ldtr.base : vcpu->v.gdtr.base;
	uint8_t access = (uint8_t)((*desc >> 40) | 1);
	*desc |= BIT(40);
	/* Written like the CPU does it: a supervisor write to the descriptor table. With
	 * paging off the page is traced and the write refreshes the mirror; with paging on
	 * descriptor pages are not traced, so the mirror entry is refreshed here. */
	uint64_t lin = base + (sel & ~7u) + 5;
	int r = gmem__write_linear(vcpu, lin, &access, 1, ACC_SUPERVISOR, xf);
	if (!r && (vcpu->v.cr0 & CR0_PG))
		seg__guest_wrote(vcpu, lin, 1);
	return r;
}

int seg__load(struct vcpu *vcpu, enum seg_reg reg, uint16_t sel, struct xfault *xf)
{
	struct kvm_segment s;
	uint64_t d;
	unsigned cpl = vcpu->g.cpl, rpl = sel & 3;

	if ((sel & ~3u) == 0) {
		/* Null selector: fine for data registers (use faults later); #GP(0) for SS
		 * outside 64-bit mode. */
		if (reg == S_SS && !(gs_64bit(&vcpu->g) && cpl != 3))
			return xfault_set(xf, X86_GP, true, 0);
		memset(&s, 0, sizeof(s));
		s.selector = sel;
		s.unusable = 1;
		goto load;
	}
	int r = seg__read_desc(vcpu, sel, &d, xf);
	if (r)
		return r;
	seg__decode(d, sel, &s);
	unsigned dpl = s.dpl;
	if (reg == S_SS) {
		if (rpl != cpl || !s.s || (s.type & 8) || !(s.type & 2) || dpl != cpl)
			return xfault_set(xf, X86_GP, true, sel & ~3u);
		if (!s.present)
			return xfault_set(xf, X86_SS, true, sel & ~3u);
	} else {
		bool code = s.type & 8, conforming = code && (s.type & 4);
		if (!s.s || (code && !(s.type & 2)))
			return xfault_set(xf, X86_GP, true, sel & ~3u);
		if (!conforming && (rpl > dpl || cpl > dpl))
			return xfault_set(xf, X86_GP, true, sel & ~3u);
		if (!s.present)
			return xfault_set(xf, X86_NP, true, sel & ~3u);
	}
	if ((r = seg__mark_accessed(vcpu, sel, &d, xf)))
		return r;
	seg__decode(d, sel, &s);
load:
	/* The real cache: compressed DPL, real RPL. */
	if (!s.unusable) {
		/* Data registers keep the guest's selector as a native load would (RPL 0
		 * is fine at real CPL 1); SS must carry the real CPL. */
		uint64_t real = seg__compress(seg__encode(&s), virt_long_mode(&vcpu->v));
		seg__decode(real, sel, &s);
		if (reg == S_SS)
			s.selector = (uint16_t)((sel & ~3u) | (cpl == 0 ? 1 : 3));
	}
	vcpu->g.seg[reg] = s;
	vcpu->g.seg_dirty = true;
	return 0;
}

int seg__check_code(struct vcpu *vcpu, uint16_t sel, unsigned cpl, bool is_ret,
		    struct kvm_segment *s, struct xfault *xf)
{
	uint64_t d;
	if ((sel & ~3u) == 0)
		return xfault_set(xf, X86_GP, true, 0);
	int r = seg__read_desc(vcpu, sel, &d, xf);
	if (r)
		return r;
	seg__decode(d, sel, s);
	if (!s->s || !(s->type & 8))
		return xfault_set(xf, X86_GP, true, sel & ~3u);
	bool conforming = s->type & 4;
	if (is_ret) {
		/* the new CPL is the selector's RPL */
		if ((conforming && s->dpl > (sel & 3)) || (!conforming && s->dpl != (sel & 3)))
			return xfault_set(xf, X86_GP, true, sel & ~3u);
	} else if ((conforming && s->dpl > cpl) || (!conforming && s->dpl != cpl)) {
		return xfault_set(xf, X86_GP, true, sel & ~3u);
	}
	if (!s->present)
		return xfault_set(xf, X86_NP, true, sel & ~3u);
	if (s->l && virt_long_mode(&vcpu->v) && s->db)
		return xfault_set(xf, X86_GP, true, sel & ~3u);
	if ((r = seg__mark_accessed(vcpu, sel, &d, xf)))
		return r;
	uint64_t real = seg__compress(d, virt_long_mode(&vcpu->v));
	unsigned new_cpl = is_ret ? (sel & 3u) : (conforming ? cpl : s->dpl);
	seg__decode(real, (uint16_t)((sel & ~3u) | (new_cpl == 0 ? 1 : new_cpl)), s);
	return 0;
}

int seg__check_stack(struct vcpu *vcpu, uint16_t sel, unsigned cpl, unsigned vec_for_fault,
		     struct kvm_segment *s, struct xfault *xf)
{
	uint64_t d;
	if ((sel & ~3u) == 0)
		return xfault_set(xf, vec_for_fault, true, 0);
	int r = seg__read_desc(vcpu, sel, &d, xf);
	if (r == 1)
		return xfault_set(xf, vec_for_fault, true, sel & ~3u);
	if (r)
		return r;
	seg__decode(d, sel, s);
	if ((sel & 3) != cpl || !s->s || (s->type & 8) || !(s->type & 2) || s->dpl != cpl)
		return xfault_set(xf, vec_for_fault, true, sel & ~3u);
	if (!s->present)
		return xfault_set(xf, X86_SS, true, sel & ~3u);
	if ((r = seg__mark_accessed(vcpu, sel, &d, xf)))
		return r;
	uint64_t real = seg__compress(d, virt_long_mode(&vcpu->v));
	seg__decode(real, (uint16_t)((sel & ~3u) | (cpl == 0 ? 1 : cpl)), s);
	return 0;
}
