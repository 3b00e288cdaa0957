/*
 * control_client.c: `shade ctl SOCKET VM COMMAND [ARG]`, one request to a running
 * `shade host --ctl SOCKET` (control.c). COMMAND is balloon SIZE (what the guest
 * keeps, as `virsh setmem`), shares N, min SIZE (the VM's allocation, from the
 * policy's next period), query-balloon, query-memstats (printed like `virsh
 * dommemstat`: "tag value" lines, KiB), screendump (the VM's text screen, as text),
 * or, for the host (VM is then ignored),
 * query-vms, query-memsched or tau PCT (the idle tax rate, as `shade host --tau`).
 */
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "control.h"

static const char usage_ctl[] =
	"usage: shade ctl SOCKET VM balloon SIZE | shares N | min SIZE | query-balloon |\n"
	"                           query-memstats | screendump\n"
	"       shade ctl SOCKET - query-vms | query-memsched | tau PCT\n";

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t r = send(fd, p, n, MSG_NOSIGNAL);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0) {
			p += r;
			n -= (size_t)r;
		}
	}
	return 0;
}

int control__request(const char *path, const char *line, char *reply, size_t cap)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	strcpy(a.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), e = 0;
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		e = -errno;
	if (!e)
		e = send_all(fd, line, strlen(line));
	if (!e)
		e = send_all(fd, "\n", 1);
	size_t n = 0;
	while (!e && n < cap - 1 && !memchr(reply, '\n', n)) {
		ssize_t r = read(fd, reply + n, cap - 1 - n);
		if (r < 0 && errno != EINTR)
			e = -errno;
		else if (r == 0)
			break;
		else if (r > 0)
			n += (size_t)r;
	}
	close(fd);
	reply[n] = 0;
	if (!e && !memchr(reply, '\n', n))
		e = n < cap - 1 ? -EPIPE : -EMSGSIZE;     /* no whole answer */
	return e;
}

int control__request_status(int err)
{
	/* Nothing that serves the protocol at that path: the user named the wrong thing. */
	bool bad_input = err == -ENOENT || err == -ENOTSOCK || err == -ECONNREFUSED ||
			 err == -ENAMETOOLONG || err == -ENOTDIR || err == -EACCES || err == -ELOOP;
	return bad_input ? 2 : 4;
}

/* The answer on stdout, or its error on stderr: the process status. An answer that is
 * not what the protocol says is the host's failure (4), never a crash of the client. */
static int print_answer(const char *path, const char *cmd, const char *reply)
{
	struct json_object *ans = json_tokener_parse(reply), *v, *d;
	int status = 0;
	if (!json_object_is_type(ans, json_type_object)) {
		status = cli__die(4, "%s: the answer is not a JSON object", path);
	} else if (json_object_object_get_ex(ans, "error", &v)) {
		bool has_desc = json_object_is_type(v, json_type_object) &&
				json_object_object_get_ex(v, "desc", &d) &&
				json_object_is_type(d, json_type_string);
		status = cli__die(2, "%s", has_desc ? json_object_get_string(d)
						   : "the host answered an error without a description");
	} else if (!json_object_object_get_ex(ans, "return", &v)) {
		status = cli__die(4, "%s: an answer with neither \"return\" nor \"error\"", path);
	} else if (!strcmp(cmd, "query-memstats")) {
		if (!json_object_is_type(v, json_type_object)) {
			status = cli__die(4, "%s: query-memstats's \"return\" is not an object", path);
		} else {
			json_object_object_foreach(v, key, val)
				printf("%s %lld\n", key, (long long)json_object_get_int64(val));
		}
	} else if (!strcmp(cmd, "screendump")) {
		if (!json_object_object_get_ex(v, "text", &d) || !json_object_is_type(d, json_type_string))
			status = cli__die(4, "%s: screendump's \"return\" has no \"text\"", path);
		else
			fputs(json_object_get_string(d), stdout);
	} else {
		printf("%s\n", json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
	}
	json_object_put(ans);
	return status;
}

int control__client(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage_ctl, stdout);
		return 0;
	}
	if (argc < 4)
		return cli__die(2, "shade ctl needs SOCKET VM COMMAND (see 'shade ctl --help')");
	const char *path = argv[1], *vm = argv[2], *cmd = argv[3];
	/* The commands with an argument, and the protocol's name for each. */
	static const struct { const char *cmd, *execute, *key, *what; } with_arg[] = {
		{ "balloon", "balloon", "value", "a size, e.g. 'balloon 256M'" },
		{ "shares", "set-alloc", "shares", "a positive integer, e.g. 'shares 2000'" },
		{ "min", "set-alloc", "min", "a size, e.g. 'min 64M'" },
		{ "tau", "set-tau", "value", "a percentage, 0 to 99, e.g. 'tau 50'" },
	};
	unsigned k;
	for (k = 0; k < sizeof(with_arg) / sizeof(with_arg[0]) && strcmp(cmd, with_arg[k].cmd); k++)
		;
	bool has_arg = k < sizeof(with_arg) / sizeof(with_arg[0]);
	uint64_t v = 0;
	if (has_arg) {
		unsigned long n = 0;
		const char *a = argc == 5 ? argv[4] : "";
		bool ok = argc == 5;
		if (!strcmp(cmd, "balloon") || !strcmp(cmd, "min"))
			ok = ok && !cli__parse_size(a, &v);
		else if ((ok = ok && !cli__parse_ulong(a, 0, !strcmp(cmd, "tau") ? 99 : ULONG_MAX, &n)))
			v = n;
		if (!ok)
			return cli__die(2, "%s needs %s", cmd, with_arg[k].what);
	} else if (argc != 4) {
		return cli__die(2, "%s takes no argument", cmd);
	}
	struct json_object *req = json_object_new_object(), *args = json_object_new_object();
	json_object_object_add(args, "vm", json_object_new_string(vm));
	if (has_arg)
		json_object_object_add(args, with_arg[k].key, !strcmp(cmd, "tau")
			? json_object_new_double((double)v / 100.0) : json_object_new_int64((int64_t)v));
	json_object_object_add(req, "execute", json_object_new_string(has_arg ? with_arg[k].execute : cmd));
	json_object_object_add(req, "arguments", args);
	char *reply = malloc(CONTROL_REPLY_MAX);    /* query-memsched of many VMs is long */
	int r = reply ? control__request(path, json_object_to_json_string_ext(req,
			JSON_C_TO_STRING_PLAIN), reply, CONTROL_REPLY_MAX) : -ENOMEM;
	json_object_put(req);
	int status = r ? cli__die(control__request_status(r), "cannot talk to %s: %s", path, strerror(-r))
		       : print_answer(path, cmd, reply);
	free(reply);
	return status;
}
