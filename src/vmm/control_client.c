/*
 * control_client.c: `shade ctl SOCKET VM COMMAND [ARG]`, one request to a running
 * `shade host --ctl SOCKET` (control.c). COMMAND is balloon SIZE (what the guest
 * keeps, as `virsh setmem`), query-balloon, query-memstats (printed like
 * `virsh dommemstat`: "tag value" lines, KiB) or query-vms (VM is then ignored).
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "control.h"

static const char usage_ctl[] =
	"usage: shade ctl SOCKET VM balloon SIZE | query-balloon | query-memstats\n"
	"       shade ctl SOCKET - query-vms\n";

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
	struct json_object *req = json_object_new_object(), *args = json_object_new_object();
	json_object_object_add(req, "execute", json_object_new_string(cmd));
	json_object_object_add(args, "vm", json_object_new_string(vm));
	if (!strcmp(cmd, "balloon")) {
		uint64_t keep;
		if (argc != 5 || cli__parse_size(argv[4], &keep)) {
			json_object_put(req);
			json_object_put(args);
			return cli__die(2, "balloon needs a size, e.g. 'balloon 256M'");
		}
		json_object_object_add(args, "value", json_object_new_int64((int64_t)keep));
	} else if (argc != 4) {
		json_object_put(req);
		json_object_put(args);
		return cli__die(2, "%s takes no argument", cmd);
	}
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
