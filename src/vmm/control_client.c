/*
 * control_client.c: `shade ctl SOCKET VM COMMAND [ARG]`, one request to a running
 * `shade host --ctl SOCKET` (control.c). COMMAND is balloon SIZE (what the guest
 * keeps, as `virsh setmem`), shares N, min SIZE (the VM's allocation, from the
 * policy's next period), query-balloon, query-memstats (printed like `virsh
 * dommemstat`: "tag value" lines, KiB), or, for the host (VM is then ignored),
 * query-vms, query-memsched or tau PCT (the idle tax rate, as `shade host --tau`).
 */
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "control.h"

static const char usage_ctl[] =
	"usage: shade ctl SOCKET VM balloon SIZE | shares N | min SIZE | query-balloon |\n"
	"                           query-memstats\n"
	"       shade ctl SOCKET - query-vms | query-memsched | tau PCT\n";

int control__request(const char *path, const char *line, char *reply, size_t cap)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	strcpy(a.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    write(fd, line, strlen(line)) < 0 || write(fd, "\n", 1) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	size_t n = 0;
	while (n < cap - 1) {
		ssize_t r = read(fd, reply + n, cap - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		if (memchr(reply, '\n', n))
			break;
	}
	reply[n] = 0;
	close(fd);
	return n ? 0 : -EPIPE;
}

int control__client(int argc, char **argv)
{
	if (argc < 4 || (argc > 1 && !strcmp(argv[1], "--help"))) {
		fputs(usage_ctl, argc < 4 ? stderr : stdout);
		return argc < 4 ? 2 : 0;
	}
	const char *path = argv[1], *vm = argv[2], *cmd = argv[3];
	/* The commands with an argument, and the protocol's name for each. */
	static const struct { const char *cmd, *execute, *key, *what; } with_arg[] = {
		{ "balloon", "balloon", "value", "a size, e.g. 'balloon 256M'" },
		{ "shares", "set-alloc", "shares", "a positive integer, e.g. 'shares 2000'" },
		{ "min", "set-alloc", "min", "a size, e.g. 'min 64M'" },
		{ "tau", "set-tau", "value", "a percentage, 0 to 99, e.g. 'tau 50'" },
	};
	const char *execute = cmd;
	struct json_object *req = json_object_new_object(), *args = json_object_new_object();
	json_object_object_add(args, "vm", json_object_new_string(vm));
	unsigned k;
	for (k = 0; k < sizeof(with_arg) / sizeof(with_arg[0]) && strcmp(cmd, with_arg[k].cmd); k++)
		;
	if (k < sizeof(with_arg) / sizeof(with_arg[0])) {
		uint64_t v = 0;
		unsigned long n = 0;
		const char *a = argc == 5 ? argv[4] : "";
		bool ok = argc == 5;
		if (!strcmp(cmd, "balloon") || !strcmp(cmd, "min"))
			ok = ok && !cli__parse_size(a, &v);
		else if ((ok = ok && !cli__parse_ulong(a, 0, !strcmp(cmd, "tau") ? 99 : ULONG_MAX, &n)))
			v = n;
		if (!ok) {
			json_object_put(req);
			json_object_put(args);
			return cli__die(2, "%s needs %s", cmd, with_arg[k].what);
		}
		execute = with_arg[k].execute;
		json_object_object_add(args, with_arg[k].key, !strcmp(cmd, "tau")
			? json_object_new_double((double)v / 100.0) : json_object_new_int64((int64_t)v));
	} else if (argc != 4) {
		json_object_put(req);
		json_object_put(args);
		return cli__die(2, "%s takes no argument", cmd);
	}
	json_object_object_add(req, "execute", json_object_new_string(execute));
	json_object_object_add(req, "arguments", args);
	static char reply[1 << 20];    /* query-memsched of many VMs is long */
	int r = control__request(path, json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN), reply,
			sizeof(reply));
	json_object_put(req);
	if (r)
		return cli__die(4, "cannot talk to %s: %s", path, strerror(-r));
	struct json_object *ans = json_tokener_parse(reply), *v;
	if (!ans)
		return cli__die(4, "not a JSON answer from %s", path);
	int status = 0;
	if (json_object_object_get_ex(ans, "error", &v)) {
		struct json_object *d;
		json_object_object_get_ex(v, "desc", &d);
		status = cli__die(2, "%s", d ? json_object_get_string(d) : "error");
	} else if (json_object_object_get_ex(ans, "return", &v) && !strcmp(cmd, "query-memstats")) {
		json_object_object_foreach(v, key, val)
			printf("%s %lld\n", key, (long long)json_object_get_int64(val));
	} else if (json_object_object_get_ex(ans, "return", &v)) {
		printf("%s\n", json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
	}
	json_object_put(ans);
	return status;
}
