/*
 * kvm.c: KVM ioctl wrappers. Return 0 or a negative errno; no policy here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm.h"

int kvm__open(struct kvm_sys *k)
{
	k->fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (k->fd < 0)
		return -errno;
	int api = ioctl(k->fd, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION) {
		close(k->fd);
		return -ENOTSUP;
	}
	static const int need[] = { KVM_CAP_USER_MEMORY, KVM_CAP_SYNC_REGS,
				    KVM_CAP_IMMEDIATE_EXIT, KVM_CAP_EXT_CPUID };
	for (unsigned i = 0; i < ARRAY_SIZE(need); i++) {
		if (ioctl(k->fd, KVM_CHECK_EXTENSION, need[i]) <= 0) {
			close(k->fd);
			return -ENOTSUP;
		}
	}
	k->shadows_our_tables = access("/sys/module/kvm_pvm", F_OK) == 0;
	k->run_size = ioctl(k->fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (k->run_size <= 0) {
		close(k->fd);
		return -ENOTSUP;
	}
	return 0;
}

void kvm__close(struct kvm_sys *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
}

int kvm__create_vm(struct kvm_sys *k)
{
	int fd = ioctl(k->fd, KVM_CREATE_VM, 0);
	return fd < 0 ? -errno : fd;
}

int kvm__set_memslot(int vmfd, unsigned slot, uint64_t gpa, uint64_t size, void *host,
		     bool readonly)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = readonly ? KVM_MEM_READONLY : 0,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)host,
	};
	return ioctl(vmfd, KVM_SET_USER_MEMORY_REGION, &r) < 0 ? -errno : 0;
}

int kvm__create_vcpu(struct kvm_sys *k, int vmfd, unsigned id, struct kvm_run **run)
{
	int fd = ioctl(vmfd, KVM_CREATE_VCPU, id);
	if (fd < 0)
		return -errno;
	void *p = mmap(NULL, (size_t)k->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		int ret = -errno;
		close(fd);
		return ret;
	}
	*run = p;
	return fd;
}

void kvm__destroy_vcpu(struct kvm_sys *k, int vcpufd, struct kvm_run *run)
{
	if (run)
		munmap(run, (size_t)k->run_size);
	if (vcpufd >= 0)
		close(vcpufd);
}

int kvm__supported_cpuid(struct kvm_sys *k, struct kvm_cpuid2 **out)
{
	for (unsigned n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return -ENOMEM;
		c->nent = n;
		if (ioctl(k->fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			*out = c;
			return 0;
		}
		int err = errno;
		free(c);
		if (err != E2BIG)
			return -err;
	}
	return -E2BIG;
}

int kvm__set_cpuid(int vcpufd, struct kvm_cpuid2 *c)
{
	return ioctl(vcpufd, KVM_SET_CPUID2, c) < 0 ? -errno : 0;
}

int kvm__get_msr(int vcpufd, uint32_t index, uint64_t *val)
{
	struct { struct kvm_msrs h; struct kvm_msr_entry e; } m;
	memset(&m, 0, sizeof(m));
	m.h.nmsrs = 1;
	m.e.index = index;
	int n = ioctl(vcpufd, KVM_GET_MSRS, &m);
	if (n != 1)
		return n < 0 ? -errno : -EINVAL;
	*val = m.e.data;
	return 0;
}

int kvm__set_msr(int vcpufd, uint32_t index, uint64_t val)
{
	struct { struct kvm_msrs h; struct kvm_msr_entry e; } m;
	memset(&m, 0, sizeof(m));
	m.h.nmsrs = 1;
	m.e.index = index;
	m.e.data = val;
	int n = ioctl(vcpufd, KVM_SET_MSRS, &m);
	if (n != 1)
		return n < 0 ? -errno : -EINVAL;
	return 0;
}

int kvm__interrupt(int vcpufd, unsigned vector)
{
	struct kvm_interrupt irq = { .irq = vector };
	return ioctl(vcpufd, KVM_INTERRUPT, &irq) < 0 ? -errno : 0;
}

int kvm__get_debugregs(int vcpufd, struct kvm_debugregs *d)
{
	return ioctl(vcpufd, KVM_GET_DEBUGREGS, d) < 0 ? -errno : 0;
}

int kvm__set_debugregs(int vcpufd, const struct kvm_debugregs *d)
{
	return ioctl(vcpufd, KVM_SET_DEBUGREGS, d) < 0 ? -errno : 0;
}
