/*
 * vm.c: the host (KVM and machine memory, shared by every VM of the process) and one
 * VM's assembly and teardown.
 *
 * vm__init is one ordered list; each step names itself when it fails, and vm__exit
 * undoes the steps in reverse (every step's exit tolerates a step that never ran).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "baseline.h"
#include "devices.h"
#include "firmware.h"
#include "multiboot.h"
#include "physmap.h"
#include "vcpu.h"

#define MSR_MISC_FEATURES_ENABLES 0x140
#define CPUID_FAULTING BIT(0)

int host__init(struct host *h, uint64_t machine_bytes)
{
	memset(&h->ms, 0, sizeof(h->ms));   /* memsched__host_init turns it on */
	int ret = kvm__open(&h->kvm);
	if (ret)
		return ret;
	ret = pool__init(&h->pool, machine_bytes);
	if (ret) {
		kvm__close(&h->kvm);
		return ret;
	}
	ret = pageshare__host_init(&h->share, &h->pool);
	if (ret) {
		pool__exit(&h->pool);
		kvm__close(&h->kvm);
	}
	return ret;
}

void host__exit(struct host *h)
{
	memsched__host_exit(&h->ms);
	pageshare__host_exit(&h->share, &h->pool);
	pool__exit(&h->pool);
	kvm__close(&h->kvm);
}

static int step_kvm_vm(struct vm *vm)
{
	struct pool *p = &vm->host->pool;
	vm->fd = kvm__create_vm(&vm->host->kvm);
	if (vm->fd < 0)
		return vm->fd;
	/* Machine memory is KVM guest-physical memory: MPN n is KVM frame n. */
	int ret = kvm__set_memslot(vm->fd, 0, 0, p->nframes * PAGE_SIZE, p->base, false);
	if (ret)
		return ret;
	/* Some KVM backends want a TSS area for real-mode emulation; put it past the pool. */
	uint64_t tss = (p->nframes * PAGE_SIZE + 0x10000) & ~0xfffULL;
	if (tss + 0x3000 < 0x100000000ULL)
		ioctl(vm->fd, KVM_SET_TSS_ADDR, tss);
	return 0;
}

static int step_cpuid(struct vm *vm)
{
	struct kvm_cpuid2 *sup;
	int ret = kvm__supported_cpuid(&vm->host->kvm, &sup);
	if (ret)
		return ret;
	ret = cpuid__build(&vm->cpuid, sup);
	free(sup);
	/* The shadow MMU maps guest large pages with 4 KiB leaves, so shade offers 1 GiB
	 * pages whether or not the host's MMU has them (--baseline gets what KVM has). */
	if (!ret && !vm->cfg.baseline)
		cpuid__set_bit(&vm->cpuid, 0x80000001, 0, 3, 26);
	return ret;
}

/*
 * The real vCPU is described to KVM with everything KVM supports (it needs long mode,
 * UMIP, PGE for shade's own use); the guest sees shade's filtered table because CPUID
 * faults at CPL > 0 and is emulated.
 */
static int vcpu_cpuid(struct vm *vm, struct vcpu *vcpu)
{
	struct kvm_cpuid2 *sup;
	int ret = kvm__supported_cpuid(&vm->host->kvm, &sup);
	if (ret)
		return ret;
	if (vm->cfg.baseline) {
		/* No CPUID faulting without a monitor: KVM answers from the guest's table. */
		free(sup);
		struct kvm_cpuid2 *t = cpuid__to_kvm(&vm->cpuid);
		if (!t)
			return -ENOMEM;
		ret = kvm__set_cpuid(vcpu->fd, t);
		free(t);
		return ret;
	}
	ret = kvm__set_cpuid(vcpu->fd, sup);
	free(sup);
	if (ret)
		return ret;
	if (kvm__set_msr(vcpu->fd, MSR_MISC_FEATURES_ENABLES, CPUID_FAULTING)) {
		fprintf(stderr, "shade: warning: KVM has no CPUID faulting; the guest sees the host's CPUID\n");
	}
	return 0;
}

static int step_vcpus(struct vm *vm)
{
	for (unsigned i = 0; i < VM_MAX_VCPUS; i++) {
		struct vcpu *vcpu = calloc(1, sizeof(*vcpu));
		if (!vcpu)
			return -ENOMEM;
		int ret = vcpu__init(vcpu, vm, i);
		if (ret) {
			free(vcpu);
			return ret;
		}
		vm->vcpu[vm->nvcpus++] = vcpu;
		if ((ret = vcpu_cpuid(vm, vcpu)))
			return ret;
		if (vm->cfg.baseline)
			ret = baseline__reset(vcpu, (uint32_t)vm->entry, (uint32_t)vm->mbi);
		else
			ret = vcpu__reset_multiboot(vcpu, (uint32_t)vm->entry, (uint32_t)vm->mbi);
		if (ret)
			return ret;
	}
	return 0;
}

static int step_pmap(struct vm *vm)
{
	int ret = pmap__init(&vm->pmap, &vm->host->pool, vm->cfg.mem_bytes);
	if (!ret && vm->cfg.baseline)
		ret = pmap__init_identity(&vm->pmap);
	return ret;
}
/* --baseline maps guest-physical n to machine frame n: nothing can be remapped. */
static int step_memsched(struct vm *vm)
{
	if (vm->cfg.baseline)
		return 0;
	return memsched__vm_init(&vm->ms, vm, &vm->host->ms, vm->cfg.min_bytes / PAGE_SIZE,
				 vm->cfg.shares ? vm->cfg.shares : vm->cfg.mem_bytes / (1 << 20) * 10);
}
static int step_share(struct vm *vm)
{
	return pageshare__vm_init(&vm->share, vm, &vm->host->share,
				  vm->cfg.baseline ? 0 : vm->cfg.share_rate, vm->cfg.index + 1);
}
/* --baseline has no monitor and no shadow tables. */
static int step_monitor(struct vm *vm)
{
	return vm->cfg.baseline ? 0 : monitor__init(&vm->mon, &vm->host->pool, VM_MAX_VCPUS);
}
static int step_physmap(struct vm *vm) { return vm->cfg.baseline ? 0 : physmap__init(vm); }
static int step_mmu(struct vm *vm)
{
	if (vm->cfg.baseline)
		return 0;
	return mmu__init(&vm->mmu, &vm->host->pool, &vm->pmap, &vm->mon,
			 vm->cfg.shadow_max ? vm->cfg.shadow_max : 8192);
}
static int step_buses(struct vm *vm)
{
	bus__init(&vm->pio, "pio");
	bus__init(&vm->mmio, "mmio");
	return 0;
}
static int step_load(struct vm *vm) { return multiboot__load(vm); }

static const struct {
	const char *name;
	int (*fn)(struct vm *vm);
} init_steps[] = {
	{ "guest memory map", step_pmap },
	{ "page sharing", step_share },
	{ "memory scheduler", step_memsched },
	{ "KVM VM", step_kvm_vm },
	{ "CPUID table", step_cpuid },
	{ "monitor", step_monitor },
	{ "physical-mode page tables", step_physmap },
	{ "shadow MMU", step_mmu },
	{ "buses", step_buses },
	{ "devices", devices__init },
	{ "kernel image", step_load },
	{ "firmware tables", firmware__install },
	{ "vCPUs", step_vcpus },
};

int vm__init(struct vm *vm, struct host *h, const struct vm_config *cfg)
{
	memset(vm, 0, sizeof(*vm));
	vm->host = h;
	vm->cfg = *cfg;
	vm->fd = -1;
	vm->clock = vclock_host;
	vm->physmap.root = MFN_INVALID;
	for (unsigned i = 0; i < ARRAY_SIZE(init_steps); i++) {
		int ret = init_steps[i].fn(vm);
		if (ret) {
			if (!vm->stop_reason[0])
				snprintf(vm->stop_reason, sizeof(vm->stop_reason), "%s: %s",
					 init_steps[i].name, strerror(-ret));
			vm__exit(vm);
			return ret;
		}
	}
	return 0;
}

void vm__exit(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		vcpu__exit(vm->vcpu[i]);
		free(vm->vcpu[i]);
		vm->vcpu[i] = NULL;
	}
	vm->nvcpus = 0;
	devices__exit(vm);
	mmu__exit(&vm->mmu);
	physmap__exit(vm);
	monitor__exit(&vm->mon);
	if (vm->fd >= 0)
		close(vm->fd);
	vm->fd = -1;
	pmap__exit(&vm->pmap);
	pageshare__vm_exit(&vm->share);
}

void vm__stop(struct vm *vm, int status, const char *fmt, ...)
{
	bool expected = false;
	if (!atomic_compare_exchange_strong(&vm->stop, &expected, true))
		return;
	vm->exit_status = status;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(vm->stop_reason, sizeof(vm->stop_reason), fmt, ap);
	va_end(ap);
	vm__kick(vm);
}

bool vm__unmap_gfn(struct vm *vm, gfn_t g)
{
	bool zapped = vm->mmu.rmap && mmu__zap_gfn(&vm->mmu, g);
	return physmap__zap(vm, g) || zapped;
}

void vm__kick(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vcpu__kick(vm->vcpu[i]);
}

void vm__start(struct vm *vm)
{
	/* From now on an empty pool makes the VM wait for frames instead of failing. */
	vm->pmap.stop = &vm->stop;
	vm->pmap.owner = vm->cfg.name;
	vcpu__signals_init();
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		if (pthread_create(&vm->vcpu[i]->thread, NULL, vcpu__thread, vm->vcpu[i])) {
			vm__stop(vm, 4, "cannot start vCPU thread %u", i);
			break;
		}
	}
	int ret = devices__start(vm);
	if (ret)
		vm__stop(vm, 4, "cannot start the console: %s", strerror(-ret));
}

int vm__wait(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (vm->vcpu[i]->thread)
			pthread_join(vm->vcpu[i]->thread, NULL);
	console__flush(&vm->console);
	devices__report_stop(vm, stderr);
	return vm->exit_status;
}

int vm__run(struct vm *vm)
{
	vm__start(vm);
	return vm__wait(vm);
}
