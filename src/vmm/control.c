/*
 * control.c: the requests of the host's control socket (served by control_server.c), a
 * QMP-like protocol: one JSON object per line, {"execute": CMD, "arguments": {...}},
 * answered by {"return": ...} or {"error": {"class": CLASS, "desc": "..."}} (json-c),
 * CLASS being CommandNotFound for a command that does not exist, else GenericError. A
 * line that is not exactly one JSON value (NUL bytes, trailing bytes, invalid UTF-8) is
 * malformed. Commands:
 *   query-vms                         the VMs, running or stopped
 *   balloon        {"vm", "value"}    set the balloon so the guest keeps `value` bytes
 *   query-balloon  {"vm"}             {"actual": bytes the guest keeps}
 *   query-memstats {"vm"}             libvirt's memory-stat tags, KiB (virsh dommemstat)
 *   query-memsched                    the allocation policy's latest period: the host's
 *                                     free-memory state, every VM's targets, working set,
 *                                     balloon and swap (bytes; what `shade top` shows)
 *   set-tau        {"value"}          the idle memory tax rate, 0 to 0.99
 *   set-alloc      {"vm", "shares", "min"}
 *                                     a VM's shares and/or guaranteed min (bytes); both
 *                                     take effect from the policy's next period
 *   screendump     {"vm"}             {"text": the VM's text screen (0xb8000) as lines}
 * control__handle is the whole protocol, callable without a socket (fuzzing, tests).
 * The server thread never touches a device: it posts a balloon target that the VM's
 * vCPU thread applies (vballoon__poll), and kicks the vCPU. Statistics it reads are
 * plain counters the vCPU thread updates.
 */
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cga.h"
#include "control.h"
#include "devices.h"
#include "vm.h"

/* QMP's error classes: a command that does not exist is CommandNotFound, anything else
 * wrong with a request or its target is GenericError. */
static struct json_object *error_class(const char *cls, const char *desc)
{
	struct json_object *o = json_object_new_object(), *e = json_object_new_object();
	json_object_object_add(e, "class", json_object_new_string(cls));
	json_object_object_add(e, "desc", json_object_new_string(desc));
	json_object_object_add(o, "error", e);
	return o;
}

static struct json_object *error(const char *desc)
{
	return error_class("GenericError", desc);
}

static struct json_object *ret(struct json_object *v)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "return", v ? v : json_object_new_object());
	return o;
}

static struct vm *find_vm(struct control *c, struct json_object *args)
{
	struct json_object *n;
	if (!args || !json_object_object_get_ex(args, "vm", &n) || !json_object_is_type(n, json_type_string))
		return NULL;
	for (unsigned i = 0; i < c->nvms; i++)
		if (!strcmp(c->vms[i].cfg.name, json_object_get_string(n)))
			return &c->vms[i];
	return NULL;
}

static void add_bytes(struct json_object *o, const char *k, uint64_t pages)
{
	json_object_object_add(o, k, json_object_new_int64((int64_t)(pages * PAGE_SIZE)));
}

static void add_double(struct json_object *o, const char *k, double v)
{
	json_object_object_add(o, k, json_object_new_double(v));
}

static struct json_object *query_memsched(struct control *c)
{
	struct memsched_snap *s = c->snap;
	int state;
	uint64_t free_pages, total;
	if (!c->nvms || !c->vms[0].host->ms.on)
		return error("memory allocation is off in this host");
	struct memsched *ms = &c->vms[0].host->ms;
	unsigned n = memsched__snapshot(ms, s, MEMSCHED_MAX_VMS, &state, &free_pages, &total);
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();
	json_object_object_add(o, "state", json_object_new_string(alloc__state_name(state)));
	add_bytes(o, "free", free_pages);
	add_bytes(o, "total", total);
	add_double(o, "tau", atomic_load(&ms->tau));
	json_object_object_add(o, "t_ms", json_object_new_int64((int64_t)ms->t_ms));
	for (unsigned i = 0; i < n; i++) {
		struct json_object *v = json_object_new_object();
		json_object_object_add(v, "name", json_object_new_string(s[i].name));
		json_object_object_add(v, "running", json_object_new_boolean(s[i].running));
		add_bytes(v, "memsz", s[i].memsz);
		add_bytes(v, "min", s[i].min);
		json_object_object_add(v, "shares", json_object_new_int64((int64_t)s[i].shares));
		add_bytes(v, "granted", s[i].granted);
		add_bytes(v, "target", s[i].target);
		add_double(v, "active", s[i].active);
		add_double(v, "active_fast", s[i].active_fast);
		add_double(v, "active_slow", s[i].active_slow);
		add_double(v, "active_last", s[i].active_last);
		add_bytes(v, "balloon", s[i].balloon);
		add_bytes(v, "balloon_target", s[i].balloon_target);
		add_bytes(v, "swapped", s[i].swapped);
		add_bytes(v, "swap_target", s[i].swap_target);
		add_double(v, "swap_in_rate", s[i].swap_in_rate * PAGE_SIZE);
		add_double(v, "swap_out_rate", s[i].swap_out_rate * PAGE_SIZE);
		add_bytes(v, "shared", s[i].shared);
		add_bytes(v, "zero", s[i].zero);
		json_object_object_add(v, "swap_ins", json_object_new_int64((int64_t)s[i].swap_ins));
		json_object_object_add(v, "swap_outs", json_object_new_int64((int64_t)s[i].swap_outs));
		json_object_object_add(v, "swap_write_errors",
				       json_object_new_int64((int64_t)s[i].swap_write_errors));
		json_object_object_add(v, "blocked_ms", json_object_new_int64((int64_t)s[i].blocked_ms));
		add_double(v, "rho", isinf(s[i].rho) ? -1 : s[i].rho);
		json_object_array_add(a, v);
	}
	json_object_object_add(o, "vms", a);
	return ret(o);
}

/* An optional non-negative integer argument: 1 if present (in *out), 0 if absent, -1 if
 * present but not one. */
static int opt_uint(struct json_object *args, const char *key, uint64_t *out)
{
	struct json_object *v;
	if (!args || !json_object_object_get_ex(args, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
		return -1;
	*out = (uint64_t)json_object_get_int64(v);
	return 1;
}

static struct json_object *set_tau(struct control *c, struct json_object *args)
{
	struct json_object *v;
	char why[256];
	if (!args || !json_object_object_get_ex(args, "value", &v) ||
	    !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
		return error("set-tau needs \"value\": the idle tax rate, 0 to 0.99");
	if (!c->nvms || memsched__set_tau(&c->vms[0].host->ms, json_object_get_double(v), why,
					   sizeof(why)))
		return error(c->nvms ? why : "no VMs");
	return ret(NULL);
}

static struct json_object *set_alloc(struct vm *vm, struct json_object *args)
{
	uint64_t shares = UINT64_MAX, min = UINT64_MAX;
	char why[256];
	int hs = opt_uint(args, "shares", &shares), hm = opt_uint(args, "min", &min);
	if (hs < 0 || hm < 0 || (!hs && !hm))
		return error("set-alloc needs \"shares\" (a positive integer) and/or \"min\" "
			     "(bytes, a multiple of 4096)");
	if (hm && min % PAGE_SIZE)
		return error("min must be a multiple of 4096 bytes");
	if (memsched__set_alloc(&vm->host->ms, &vm->ms, shares, hm ? min / PAGE_SIZE : UINT64_MAX,
				why, sizeof(why)))
		return error(why);
	return ret(NULL);
}

static struct json_object *query_vms(struct control *c)
{
	struct json_object *a = json_object_new_array();
	for (unsigned i = 0; i < c->nvms; i++) {
		struct json_object *v = json_object_new_object();
		json_object_object_add(v, "name", json_object_new_string(c->vms[i].cfg.name));
		json_object_object_add(v, "running", json_object_new_boolean(!atomic_load(&c->vms[i].stop)));
		json_object_object_add(v, "memory", json_object_new_int64((int64_t)c->vms[i].cfg.mem_bytes));
		json_object_array_add(a, v);
	}
	return ret(a);
}

static struct json_object *balloon(struct vm *vm, struct json_object *args)
{
	struct json_object *v;
	if (!json_object_object_get_ex(args, "value", &v) || !json_object_is_type(v, json_type_int))
		return error("balloon needs \"value\": bytes the guest keeps");
	int64_t keep = json_object_get_int64(v);
	if (keep < 0 || (uint64_t)keep > vm->cfg.mem_bytes || keep % (int64_t)PAGE_SIZE)
		return error("value must be a multiple of 4096 between 0 and the VM's memory");
	if (devices__balloon_request(vm, (vm->cfg.mem_bytes - (uint64_t)keep) / PAGE_SIZE))
		return error("this VM has no balloon device");
	/* Under the allocation policy the hand-set balloon is also the floor of the
	 * policy's balloon targets, from its next period. */
	if (vm->ms.ms)
		memsched__set_limit(&vm->ms, (uint64_t)keep / PAGE_SIZE);
	return ret(NULL);
}

static struct json_object *query_balloon(struct vm *vm)
{
	uint32_t actual;
	if (devices__balloon_actual(vm, &actual))
		return error("this VM has no balloon device");
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "actual", json_object_new_int64(
		(int64_t)(vm->cfg.mem_bytes - (uint64_t)actual * PAGE_SIZE)));
	return ret(o);
}

static struct json_object *query_memstats(struct vm *vm)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return error("out of memory");
	devices__print_memstats(vm, f);
	fclose(f);
	/* "NAME.memstat.TAG VALUE" lines -> {"TAG": VALUE} */
	struct json_object *o = json_object_new_object();
	char *save = NULL;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *tag = strstr(line, ".memstat."), *sp = strchr(line, ' ');
		if (!tag || !sp)
			continue;
		*sp = 0;
		json_object_object_add(o, tag + 9, json_object_new_int64(strtoll(sp + 1, NULL, 10)));
	}
	free(buf);
	return ret(o);
}

/* The screen is rendered on the VM's vCPU thread (devices__screendump waits for it). */
static struct json_object *screendump(struct vm *vm)
{
	char *text = malloc(CGA_TEXT_MAX);
	int r = text ? devices__screendump(vm, text, CGA_TEXT_MAX) : -ENOMEM;
	struct json_object *o = NULL;
	if (!r) {
		o = json_object_new_object();
		json_object_object_add(o, "text", json_object_new_string(text));
	}
	free(text);
	return o ? ret(o) : error(r == -ETIMEDOUT ? "the VM did not render its screen in time"
						 : "this VM has no text screen");
}

/* The commands. Those of one VM name it in "arguments": {"vm": NAME}. */
enum cmd_id { Q_VMS, Q_MEMSCHED, SET_TAU, BALLOON, SET_ALLOC, Q_BALLOON, Q_MEMSTATS,
	      SCREENDUMP };
static const struct { const char *name; enum cmd_id id; bool of_vm; } commands[] = {
	{ "query-vms", Q_VMS, false },
	{ "query-memsched", Q_MEMSCHED, false },
	{ "set-tau", SET_TAU, false },
	{ "balloon", BALLOON, true },
	{ "set-alloc", SET_ALLOC, true },
	{ "query-balloon", Q_BALLOON, true },
	{ "query-memstats", Q_MEMSTATS, true },
	{ "screendump", SCREENDUMP, true },
};

/* Checked in this order: the request's shape, the command's name, the VM it names,
 * then (in each command) its arguments. */
static struct json_object *execute(struct control *c, struct json_object *req)
{
	struct json_object *cmd, *args = NULL;
	if (!json_object_is_type(req, json_type_object) ||
	    !json_object_object_get_ex(req, "execute", &cmd) || !json_object_is_type(cmd, json_type_string))
		return error("a command is {\"execute\": NAME, \"arguments\": {...}}");
	if (json_object_object_get_ex(req, "arguments", &args) &&
	    !json_object_is_type(args, json_type_object))
		return error("\"arguments\" must be an object");
	const char *name = json_object_get_string(cmd);
	unsigned k;
	for (k = 0; k < sizeof(commands) / sizeof(commands[0]) && strcmp(name, commands[k].name); k++)
		;
	if (k == sizeof(commands) / sizeof(commands[0])) {
		char desc[160];
		snprintf(desc, sizeof(desc), "The command %.80s%s has not been found", name,
			 strlen(name) > 80 ? "..." : "");
		return error_class("CommandNotFound", desc);
	}
	struct vm *vm = NULL;
	if (commands[k].of_vm && !(vm = find_vm(c, args)))
		return error("no such VM (give \"vm\": NAME; query-vms lists them)");
	switch (commands[k].id) {
	case Q_VMS: return query_vms(c);
	case Q_MEMSCHED: return query_memsched(c);
	case SET_TAU: return set_tau(c, args);
	case BALLOON: return balloon(vm, args);
	case SET_ALLOC: return set_alloc(vm, args);
	case Q_BALLOON: return query_balloon(vm);
	case Q_MEMSTATS: return query_memstats(vm);
	case SCREENDUMP: return screendump(vm);
	}
	return error("unknown command");
}

/* One line -> one JSON value, all of it: a NUL byte, trailing garbage or nesting beyond
 * json-c's default depth makes it malformed. NULL with *why set when it is. */
static struct json_object *parse_line(const char *line, size_t len, const char **why)
{
	if (memchr(line, 0, len)) {
		*why = "malformed request: a NUL byte in the line";
		return NULL;
	}
	struct json_tokener *tok = json_tokener_new();
	if (!tok) {
		*why = "out of memory";
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	struct json_object *req = len ? json_tokener_parse_ex(tok, line, (int)len) : NULL;
	size_t end = json_tokener_get_parse_end(tok);
	if (req)
		while (end < len && strchr(" \t\r", line[end]))
			end++;
	if (!req || json_tokener_get_error(tok) != json_tokener_success || end != len) {
		json_object_put(req);
		req = NULL;
		*why = "malformed request: not one JSON object";
	}
	json_tokener_free(tok);
	return req;
}

char *control__handle(struct control *c, const char *line, size_t len)
{
	const char *why = NULL;
	if (len > CONTROL_LINE_MAX)
		why = "request line too long";
	struct json_object *req = why ? NULL : parse_line(line, len, &why), *ans;
	ans = req ? execute(c, req) : error(why);
	const char *s = ans ? json_object_to_json_string_ext(ans, JSON_C_TO_STRING_PLAIN) : NULL;
	char *out = s ? strdup(s) : NULL;
	json_object_put(ans);
	json_object_put(req);
	return out;
}

int control__init(struct control *c, struct vm *vms, unsigned n)
{
	memset(c, 0, sizeof(*c));
	c->fd = c->stop[0] = c->stop[1] = -1;
	c->vms = vms;
	c->nvms = n;
	c->snap = calloc(MEMSCHED_MAX_VMS, sizeof(*c->snap));
	return c->snap ? 0 : -ENOMEM;
}

void control__exit(struct control *c)
{
	free(c->snap);
	c->snap = NULL;
}
