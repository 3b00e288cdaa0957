/*
 * seg.c: descriptors, the guest's descriptor tables and their real mirrors: decoding
 * and the load checks, mirroring (ring compression, the lazy accessed bit), tracing the
 * tables' frames so guest writes reach the mirror (paging off and on), and hiding the
 * real entries of CS/SS selectors whose loaded segment the table no longer shows.
 */
#include <errno.h>
#include <string.h>

#include "monitor.h"
#include "mmu.h"
#include "paging.h"
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

/* Every write of a real table entry goes here: it supersedes a hidden form of it. */
static void mirror_put(struct vcpu *vcpu, bool is_ldt, unsigned i, uint64_t d)
{
	struct monitor *m = &vcpu->vm->mon;
	uint64_t *e = is_ldt ? monitor__ldt_entry(m, vcpu->id, i) : monitor__gdt_entry(m, vcpu->id, i);
	for (unsigned k = 0; k < ARRAY_SIZE(vcpu->hidden); k++)
		if (vcpu->hidden[k].entry == e)
			vcpu->hidden[k].entry = NULL;
	*e = d;
}

static int mirror_table(struct vcpu *vcpu, uint64_t base, uint32_t limit, bool is_ldt)
{
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
		mirror_put(vcpu, is_ldt, i, seg__compress(d, lm));
	}
	return 0;
}

/*
 * Trace (write-protect) the guest frames holding a descriptor table, so that a guest
 * write reaches the mirror: a write fault there is executed in software (or, failing
 * that, single-stepped with the page open) and the entries it touched re-mirrored (see
 * exit.c and paging.c). The frames are those the table's linear pages translate to
 * now (paging off: the same numbers); they are counted per frame, shared with the
 * shadow MMU's tracking of guest page tables, since the GDT, the LDT and a page table
 * may share one. Retraced at LGDT/LLDT and whenever the translation may have changed
 * (paging__update: CR0.PG, CR3, CR4, EFER).
 */
static void trace_gfn(struct vcpu *vcpu, gfn_t g, bool on)
{
	struct vm *vm = vcpu->vm;
	struct pmap_entry *e = &vm->pmap.e[g.v];
	if (on && e->state == PPN_SHARED) {
		/* Never shared while traced (page sharing skips traced frames): the page is
		 * made writable again when it is no longer traced, which must not open a
		 * frame other VMs map. */
		int err = 0;
		pmap__touch_write(&vm->pmap, g, &err);
	}
	if (on && e->trace_refs++ == 0) {
		e->flags |= PPN_F_PT;
		if (physmap__protect(vm, g, true))
			vcpu__queue_flush(vcpu, (uint64_t)-1);
		if (vcpu->v.cr0 & CR0_PG)         /* (paging off: no shadow pages) */
			mmu__write_protect(&vm->mmu, g);
		if (vm->mmu.flush_needed) {
			vm->mmu.flush_needed = false;
			vcpu__queue_flush(vcpu, (uint64_t)-1);
		}
	} else if (!on && e->trace_refs && --e->trace_refs == 0) {
		/* Writable shadow leaves come back lazily, at the next write fault. */
		e->flags &= (uint8_t)~PPN_F_PT;
		physmap__protect(vm, g, false);
	}
}

/* A/D updates a walk would make, not made: finding the frames is not an access. */
static int no_ad_update(void *ctx, gpa_t gpa, uint64_t old, uint64_t new, unsigned len)
{
	(void)ctx; (void)gpa; (void)old; (void)new; (void)len;
	return 0;
}

/* The guest frames of [base, base + limit] (at most the part a mirror holds), as the
 * guest's tables translate them now. */
static unsigned table_gfns(struct vcpu *vcpu, uint64_t base, uint32_t limit, gfn_t *out)
{
	struct vm *vm = vcpu->vm;
	uint64_t end = base + MIN(limit, (uint32_t)(GDT_ENTRIES * 8 - 1));
	struct walk_mem wm = paging__walk_mem(vcpu);
	struct walk_env env;
	unsigned n = 0;
	wm.cmpxchg = no_ad_update;
	paging__env(vcpu, &env);
	for (uint64_t a = base & PAGE_MASK; a <= end && n < TRACE_PAGES; a += PAGE_SIZE) {
		struct walk w;
		gpa_t gpa = GPA(a & 0xffffffffULL);
		if (env.mode != PG_OFF) {
			if (walker__walk(&env, &wm, a, 0, &w))
				continue;     /* not mapped now: nothing there to write */
			gpa = w.gpa;
		}
		if (pmap__in_ram(&vm->pmap, gpa_to_gfn(gpa)))
			out[n++] = gpa_to_gfn(gpa);
	}
	return n;
}

/* Trace the table's frames as they are now; true if they are not the ones traced. */
static bool retrace(struct vcpu *vcpu, struct traced_range *t, uint64_t base, uint32_t limit,
		    bool on)
{
	gfn_t g[TRACE_PAGES];
	unsigned n = on ? table_gfns(vcpu, base, limit, g) : 0;
	bool changed = n != t->n || memcmp(g, t->gfn, n * sizeof(g[0]));
	for (unsigned i = 0; i < n; i++)
		trace_gfn(vcpu, g[i], true);         /* new ones first: no page flaps */
	for (unsigned i = 0; i < t->n; i++)
		trace_gfn(vcpu, t->gfn[i], false);
	memcpy(t->gfn, g, n * sizeof(g[0]));
	t->n = n;
	return changed;
}

void seg__retrace(struct vcpu *vcpu)
{
	const struct kvm_segment *l = &vcpu->v.ldtr;
	bool ldt = !l->unusable && l->present;
	/* (a GDT of the null entry alone has nothing to mirror: the loader's is so) */
	if (retrace(vcpu, &vcpu->traced_gdt, vcpu->v.gdtr.base, vcpu->v.gdtr.limit,
		    vcpu->v.gdtr.limit >= 15))
		mirror_table(vcpu, vcpu->v.gdtr.base, vcpu->v.gdtr.limit, false);
	if (retrace(vcpu, &vcpu->traced_ldt, l->base, l->limit, ldt) && ldt)
		mirror_table(vcpu, l->base, l->limit, true);
}

/* How many of the descriptor tables' traced pages are frame g. */
static unsigned seg_refs(const struct vcpu *vcpu, gfn_t g)
{
	unsigned n = 0;
	for (unsigned i = 0; i < vcpu->traced_gdt.n; i++)
		n += vcpu->traced_gdt.gfn[i].v == g.v;
	for (unsigned i = 0; i < vcpu->traced_ldt.n; i++)
		n += vcpu->traced_ldt.gfn[i].v == g.v;
	return n;
}

bool seg__open_page(struct vcpu *vcpu, gfn_t g)
{
	unsigned n = seg_refs(vcpu, g);
	if (!n || vcpu->vm->pmap.e[g.v].trace_refs != n)
		return false;     /* also a guest page table: that must stay traced */
	for (unsigned i = 0; i < n; i++)
		trace_gfn(vcpu, g, false);
	return true;
}

void seg__close_page(struct vcpu *vcpu, gfn_t g, uint64_t lin)
{
	unsigned n = seg_refs(vcpu, g);
	for (unsigned i = 0; i < n; i++)
		trace_gfn(vcpu, g, true);
	seg__guest_wrote(vcpu, lin & PAGE_MASK, PAGE_SIZE);
}

int seg__mirror_gdt(struct vcpu *vcpu)
{
	int r = mirror_table(vcpu, vcpu->v.gdtr.base, vcpu->v.gdtr.limit, false);
	if (!r)
		retrace(vcpu, &vcpu->traced_gdt, vcpu->v.gdtr.base, vcpu->v.gdtr.limit,
			vcpu->v.gdtr.limit >= 15);
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
			mirror_put(vcpu, t[k].ldt, (unsigned)i, seg__compress(d, lm));
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

/*
 * A segment register's hidden part is what was loaded into it, while the real table
 * entry for its selector is what a load would give now. The two differ once the guest
 * rewrote its table (or loaded another one) without reloading the register, or when
 * shade loaded the register itself (an emulated far transfer, SYSCALL's fixed
 * segments). A trap frame shows CS and SS by selector only, so shade could then not
 * tell whether the CPU still held what was loaded or had reloaded the selector natively
 * since. So while they differ the entry is hidden: mirrored not present, any native load
 * of the selector faults and is emulated against the guest's table, and a frame that
 * shows the selector means the register was not reloaded.
 */
bool seg__mirror_shows(struct vcpu *vcpu, const struct kvm_segment *s)
{
	uint16_t sel = s->selector;
	if ((sel & ~3u) == 0 || s->unusable)
		return true;
	if (!(sel & 4) && (sel >> 3) >= MON_GDT_FIRST)
		return false;
	struct monitor *m = &vcpu->vm->mon;
	uint64_t e = (sel & 4) ? *monitor__ldt_entry(m, vcpu->id, sel >> 3)
			       : *monitor__gdt_entry(m, vcpu->id, sel >> 3);
	return e == seg__encode(s);
}

void seg__unhide(struct vcpu *vcpu)
{
	for (unsigned k = 0; k < ARRAY_SIZE(vcpu->hidden); k++) {
		if (vcpu->hidden[k].entry)
			*vcpu->hidden[k].entry = vcpu->hidden[k].orig;
		vcpu->hidden[k].entry = NULL;
	}
}

void seg__hide_stale(struct vcpu *vcpu, const struct kvm_segment *cs, const struct kvm_segment *ss)
{
	const struct kvm_segment *regs[2] = { cs, ss };
	struct monitor *m = &vcpu->vm->mon;
	seg__unhide(vcpu);
	for (unsigned k = 0; k < 2; k++) {
		uint16_t sel = regs[k]->selector;
		if (seg__mirror_shows(vcpu, regs[k]) || (sel & 3) == 0 ||
		    (!(sel & 4) && (sel >> 3) >= MON_GDT_FIRST))
			continue;
		uint64_t *e = (sel & 4) ? monitor__ldt_entry(m, vcpu->id, sel >> 3)
				       : monitor__gdt_entry(m, vcpu->id, sel >> 3);
		if (!(*e & BIT(47)))
			continue;     /* not present already: every load of it traps */
		vcpu->hidden[k].entry = e;
		vcpu->hidden[k].orig = *e;
		*e &= ~BIT(47);
	}
}
