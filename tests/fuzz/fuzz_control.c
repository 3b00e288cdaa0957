/*
 * fuzz_control.c: the control socket's protocol (src/vmm/control.c, control__handle):
 * one request line, any bytes, against a host of two VMs fabricated without /dev/kvm:
 * "a" with the PC devices and a virtio balloon, "b" without devices, both under an
 * allocation policy that is on but has no thread (its snapshot filled by hand). The
 * answer must be one JSON object, on one line, with exactly one of "return" or "error",
 * an error having a string "class" and "desc"; nothing may crash, leak or trip a
 * sanitizer. What a request changes (balloon target, limit, shares, min, tau) is reset
 * before the next one, so every input runs against the same host.
 *
 * Input: the request line itself (the socket's framing, the newline, is not part of it).
 */
#include <json-c/json.h>
#include <string.h>

#include "control.h"
#include "devices.h"
#include "fuzz.h"

#define RAM (256 * 1024)
#define NVMS 2

static struct {
	struct host host;
	struct vm vms[NVMS];
	struct fake_clock clock;
	struct control ctl;
	bool ready;
} F;

static void make_vm(struct vm *vm, const char *name)
{
	memset(vm, 0, sizeof(*vm));
	vm->host = &F.host;
	vm->fd = -1;
	vm->physmap.root = MFN_INVALID;
	vm->cfg.name = name;
	vm->cfg.mem_bytes = RAM;
	vm->cfg.console_in = vm->cfg.console_out = vm->cfg.console_log = -1;
	vm->clock = F.clock.vc;
	bus__init(&vm->pio, "pio");
	bus__init(&vm->mmio, "mmio");
	if (pmap__init(&vm->pmap, &F.host.pool, RAM))
		fuzz__fail("pmap__init", __FILE__, __LINE__);
	vm->ms.vm = vm;
	vm->ms.ms = &F.host.ms;
}

/* The host once: a pool, two VMs, the policy's state as memsched__start leaves it. */
static void setup(void)
{
	struct memsched *ms = &F.host.ms;
	if (pool__init(&F.host.pool, 4 * RAM))
		fuzz__fail("pool__init", __FILE__, __LINE__);
	fake_clock__init(&F.clock, 1000000000ULL, 1700000000LL * 1000000000LL);
	make_vm(&F.vms[1], "b");
	memset(ms, 0, sizeof(*ms));
	ms->host = &F.host;
	ms->on = true;
	ms->vms = F.vms;
	ms->n = NVMS;
	ms->snap = calloc(NVMS, sizeof(*ms->snap));
	if (!ms->snap || control__init(&F.ctl, F.vms, NVMS))
		fuzz__fail("setup", __FILE__, __LINE__);
	pthread_mutex_init(&ms->lock, NULL);
	for (unsigned i = 0; i < NVMS; i++) {
		snprintf(ms->snap[i].name, sizeof(ms->snap[i].name), "%c", 'a' + i);
		ms->snap[i].memsz = RAM / PAGE_SIZE;
	}
	F.ready = true;
}

/* What a request may have changed in the host and "b", back to where every input
 * starts. */
static void reset(void)
{
	atomic_store(&F.host.ms.tau, 0.75);
	for (unsigned i = 1; i < NVMS; i++) {
		struct memsched_vm *v = &F.vms[i].ms;
		atomic_store(&v->min, 0);
		atomic_store(&v->shares, 10);
		atomic_store(&v->limit, RAM / PAGE_SIZE);
	}
}

/* The protocol's promise about every answer. */
static void check_answer(const char *ans)
{
	FUZZ_CHECK(ans && !strchr(ans, '\n'));
	struct json_tokener *tok = json_tokener_new();
	FUZZ_CHECK(tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	size_t len = strlen(ans);
	struct json_object *o = json_tokener_parse_ex(tok, ans, (int)len), *r, *e, *s;
	FUZZ_CHECK(json_object_is_type(o, json_type_object) &&
		   json_tokener_get_parse_end(tok) == len);
	bool has_r = json_object_object_get_ex(o, "return", &r);
	bool has_e = json_object_object_get_ex(o, "error", &e);
	FUZZ_CHECK(has_r != has_e && json_object_object_length(o) == 1);
	if (has_e) {
		FUZZ_CHECK(json_object_is_type(e, json_type_object));
		FUZZ_CHECK(json_object_object_get_ex(e, "class", &s) &&
			   json_object_is_type(s, json_type_string));
		FUZZ_CHECK(json_object_object_get_ex(e, "desc", &s) &&
			   json_object_is_type(s, json_type_string));
	}
	json_object_put(o);
	json_tokener_free(tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!F.ready)
		setup();
	reset();
	/* "a" is made fresh for every input, with its devices (the balloon): a request
	 * posts its target there. */
	make_vm(&F.vms[0], "a");
	if (devices__init(&F.vms[0]))
		fuzz__fail("devices__init", __FILE__, __LINE__);
	char *ans = control__handle(&F.ctl, (const char *)data, size);
	check_answer(ans);
	free(ans);
	devices__exit(&F.vms[0]);
	pmap__exit(&F.vms[0].pmap);
	return 0;
}
