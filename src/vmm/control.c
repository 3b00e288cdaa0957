/*
 * control.c: the host's control socket, speaking a QMP-like protocol: one JSON object
 * per line, {"execute": CMD, "arguments": {...}}, answered by {"return": ...} or
 * {"error": {"class": "GenericError", "desc": "..."}} (json-c). Commands:
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
 * The server thread never touches a device: it posts a balloon target that the VM's
 * vCPU thread applies (vballoon__poll), and kicks the vCPU. Statistics it reads are
 * plain counters the vCPU thread updates.
 */
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "devices.h"
#include "vm.h"

static struct json_object *error(const char *desc)
{
	struct json_object *o = json_object_new_object(), *e = json_object_new_object();
	json_object_object_add(e, "class", json_object_new_string("GenericError"));
	json_object_object_add(e, "desc", json_object_new_string(desc));
	json_object_object_add(o, "error", e);
	return o;
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
	static struct memsched_snap s[MEMSCHED_MAX_VMS];   /* only the server thread */
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

static struct json_object *execute(struct control *c, struct json_object *req)
{
	struct json_object *cmd, *args = NULL;
	if (!json_object_is_type(req, json_type_object) ||
	    !json_object_object_get_ex(req, "execute", &cmd) || !json_object_is_type(cmd, json_type_string))
		return error("a command is {\"execute\": NAME, \"arguments\": {...}}");
	json_object_object_get_ex(req, "arguments", &args);
	const char *name = json_object_get_string(cmd);

	if (!strcmp(name, "query-vms")) {
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
	if (!strcmp(name, "query-memsched"))
		return query_memsched(c);
	if (!strcmp(name, "set-tau"))
		return set_tau(c, args);
	struct vm *vm = find_vm(c, args);
	if (!vm)
		return error("no such VM (give \"vm\": NAME; query-vms lists them)");
	if (!strcmp(name, "balloon")) {
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
	if (!strcmp(name, "set-alloc"))
		return set_alloc(vm, args);
	if (!strcmp(name, "query-balloon")) {
		uint32_t actual;
		if (devices__balloon_actual(vm, &actual))
			return error("this VM has no balloon device");
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "actual", json_object_new_int64(
			(int64_t)(vm->cfg.mem_bytes - (uint64_t)actual * PAGE_SIZE)));
		return ret(o);
	}
	if (!strcmp(name, "query-memstats")) {
		struct json_object *o = json_object_new_object();
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		if (!f)
			return error("out of memory");
		devices__print_memstats(vm, f);
		fclose(f);
		/* "NAME.memstat.TAG VALUE" lines -> {"TAG": VALUE} */
		for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
			char *tag = strstr(line, ".memstat."), *sp = strchr(line, ' ');
			if (!tag || !sp)
				continue;
			*sp = 0;
			json_object_object_add(o, tag + 9, json_object_new_int64(strtoll(sp + 1, NULL, 10)));
		}
		free(buf);
		return ret(o);
	}
	return error("unknown command");
}

static void serve(struct control *c, int fd)
{
	char buf[4096];
	size_t n = 0;
	for (;;) {
		ssize_t r = read(fd, buf + n, sizeof(buf) - 1 - n);
		if (r <= 0)
			return;
		n += (size_t)r;
		buf[n] = 0;
		char *nl;
		while ((nl = strchr(buf, '\n'))) {
			*nl = 0;
			struct json_object *req = json_tokener_parse(buf), *ans;
			ans = req ? execute(c, req) : error("not JSON");
			const char *s = json_object_to_json_string_ext(ans, JSON_C_TO_STRING_PLAIN);
			if (write(fd, s, strlen(s)) < 0 || write(fd, "\n", 1) < 0) {
				json_object_put(ans);
				json_object_put(req);
				return;
			}
			json_object_put(ans);
			json_object_put(req);
			n -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, n + 1);
		}
		if (n == sizeof(buf) - 1)
			return;          /* a line longer than any command: drop the client */
	}
}

static void *server(void *arg)
{
	struct control *c = arg;
	for (;;) {
		struct pollfd p[2] = { { c->fd, POLLIN, 0 }, { c->stop[0], POLLIN, 0 } };
		if (poll(p, 2, -1) < 0)
			continue;
		if (p[1].revents)
			return NULL;
		int cl = accept(c->fd, NULL, NULL);
		if (cl < 0)
			continue;
		serve(c, cl);
		close(cl);
	}
}

int control__start(struct control *c, const char *path, struct vm *vms, unsigned n)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	memset(c, 0, sizeof(*c));
	c->fd = c->stop[0] = c->stop[1] = -1;
	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	strcpy(a.sun_path, path);
	c->vms = vms;
	c->nvms = n;
	c->path = path;
	unlink(path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	if (bind(c->fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(c->fd, 4) < 0 ||
	    pipe(c->stop) < 0) {
		int e = -errno;
		control__stop(c);
		return e;
	}
	if (pthread_create(&c->thread, NULL, server, c)) {
		control__stop(c);
		return -EAGAIN;
	}
	c->started = true;
	return 0;
}

void control__stop(struct control *c)
{
	if (c->started) {
		if (write(c->stop[1], "x", 1) < 0)
			pthread_cancel(c->thread);
		pthread_join(c->thread, NULL);
		c->started = false;
	}
	for (int i = 0; i < 2; i++)
		if (c->stop[i] >= 0)
			close(c->stop[i]);
	if (c->fd >= 0) {
		close(c->fd);
		unlink(c->path);
	}
	c->fd = c->stop[0] = c->stop[1] = -1;
}
