/*
 * mmio.c: the path from a guest access to a device page to the device.
 *
 * Device pages are never mapped in the real tables (neither the physmap nor a shadow
 * leaf maps a guest-physical address outside RAM), so every access to one faults. The
 * faulting instruction is then executed once in unicorn (ucstep.c) with that page mapped
 * as unicorn MMIO whose callbacks are the VM's MMIO bus: every form of memory operand,
 * width, prefix and read-modify-write works as on the CPU, at whatever virtual address
 * the guest mapped the device (the step translates through the guest's own tables), in
 * 32-bit and 64-bit code. What is refused, with the VM stopped and the bytes reported
 * (never run with a wrong result): instructions whose operands are x87, MMX, SSE or AVX
 * registers (the step does not carry the guest's FPU state), 16-bit code and 32-bit code
 * with a non-zero segment base (the step's limits).
 */
#include <errno.h>
#include <string.h>

#include "emu_internal.h"
#include "mmio.h"

static bool vector_reg(x86_reg r)
{
	return (r >= X86_REG_FP0 && r <= X86_REG_FP7) || (r >= X86_REG_MM0 && r <= X86_REG_MM7) ||
	       (r >= X86_REG_ST0 && r <= X86_REG_ST7) || (r >= X86_REG_XMM0 && r <= X86_REG_XMM31) ||
	       (r >= X86_REG_YMM0 && r <= X86_REG_YMM31) || (r >= X86_REG_ZMM0 && r <= X86_REG_ZMM31) ||
	       (r >= X86_REG_K0 && r <= X86_REG_K7);
}

/* 0 if the instruction at CS:RIP only moves general-register data; -EOPNOTSUPP if it
 * involves FPU/vector state; 1 with a fault if it cannot even be fetched. */
static int check_form(struct vcpu *vcpu, uint8_t *code, struct xfault *xf)
{
	struct gstate *g = &vcpu->g;
	uint64_t lin;
	int r = gmem__seg_linear(vcpu, S_CS, g->rip, 1, ACC_FETCH, &lin, xf);
	if (r)
		return r;
	unsigned n = (unsigned)MIN(15ULL, PAGE_SIZE - (lin & (PAGE_SIZE - 1)));
	if ((r = gmem__read_linear(vcpu, lin, code, n, ACC_FETCH, xf)))
		return r;
	if (n < 15 && gmem__read_linear(vcpu, lin + n, code + n, 15 - n, ACC_FETCH, xf) == 0)
		n = 15;
	csh h = gs_64bit(g) ? vcpu->cs64 : vcpu->cs32;
	cs_option(h, CS_OPT_MODE, gs_64bit(g) ? CS_MODE_64 : CS_MODE_32);
	cs_insn *ci;
	if (cs_disasm(h, code, n, lin, 1, &ci) != 1)
		return -EOPNOTSUPP;
	bool ok = true;
	const cs_x86 *x = &ci->detail->x86;
	for (unsigned i = 0; i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_REG && vector_reg(x->operands[i].reg))
			ok = false;
	for (unsigned i = 0; i < ci->detail->groups_count; i++) {
		uint8_t gr = ci->detail->groups[i];
		if (gr == X86_GRP_FPU || gr == X86_GRP_MMX || gr == X86_GRP_3DNOW ||
		    (gr >= X86_GRP_SSE1 && gr <= X86_GRP_SSE42) || gr == X86_GRP_SSE4A ||
		    gr == X86_GRP_AVX || gr == X86_GRP_AVX2 || gr == X86_GRP_AVX512)
			ok = false;
	}
	cs_free(ci, 1);
	return ok ? 0 : -EOPNOTSUPP;
}

int emulate__mmio(struct vcpu *vcpu, gpa_t gpa, struct xfault *xf)
{
	struct vm *vm = vcpu->vm;
	uint8_t code[15] = { 0 };

	if (!bus__claims(&vm->mmio, gpa.v, 1))
		return -EFAULT;
	vcpu->stats.mmio_faults++;
	int r = check_form(vcpu, code, xf);
	if (r == 0)
		r = emu_unicorn_step(vcpu, xf);
	if (r == 0 || r == 1)
		return r;
	vm__stop(vm, 4, "cannot run the instruction at %04x:%08llx (bytes %02x %02x %02x %02x "
		 "%02x %02x) against the device at guest-physical %#llx: %s",
		 vcpu->g.seg[S_CS].selector, (unsigned long long)vcpu->g.rip, code[0], code[1],
		 code[2], code[3], code[4], code[5], (unsigned long long)gpa.v,
		 r == -ENOSYS ? "16-bit code or a segment base other than 0" :
		 r == -EOPNOTSUPP ? "not a form shade runs against a device (x87/MMX/SSE/AVX "
				    "operands, a fetch, too many pages)" :
		 strerror(-r));
	return 0;
}
