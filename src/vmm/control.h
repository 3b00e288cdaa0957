/*
 * control.h: the control socket of `shade host --ctl PATH` (QMP-like JSON lines; see
 * control.c for the commands, control_server.c for the socket) and its client,
 * `shade ctl PATH VM COMMAND [ARG]` (control_client.c).
 */
#ifndef SHADE_CONTROL_H
#define SHADE_CONTROL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

struct vm;
struct memsched_snap;
struct control_client;

/* A request line longer than this is refused and its client dropped. */
#define CONTROL_LINE_MAX (64 * 1024)
/* The longest answer a client takes (query-memsched of many VMs is long). */
#define CONTROL_REPLY_MAX (1 << 20)
/* Clients served at once; one more is told "too many clients" and dropped. */
#define CONTROL_MAX_CLIENTS 256

struct control {
	struct vm *vms;
	unsigned nvms;
	struct memsched_snap *snap;   /* query-memsched's copy of the policy's period */
	/* the socket (control_server.c) */
	int fd, stop[2];
	const char *path;
	struct control_client *cl;    /* the server thread's clients */
	unsigned ncl;
	pthread_t thread;
	bool started;
};

/* The request handler alone, no socket (tests, fuzzing): 0 or -ENOMEM. */
int control__init(struct control *c, struct vm *vms, unsigned n);
void control__exit(struct control *c);
/* One request line (len bytes, no newline; any bytes) -> its answer, one JSON object
 * without the newline, malloc'd (the caller frees it), or NULL when out of memory. */
char *control__handle(struct control *c, const char *line, size_t len);

/* control__init, then serve PATH from a thread; refuses a PATH that exists and is not a
 * stale socket. 0 or -errno. control__stop ends it and removes PATH. */
int control__start(struct control *c, const char *path, struct vm *vms, unsigned n);
void control__stop(struct control *c);

/* `shade ctl`: one command, its answer on stdout; 0, or 2/4 on a bad command/failure. */
int control__client(int argc, char **argv);
/* One request line to the socket at `path`; its one-line answer in reply. 0 or -errno. */
int control__request(const char *path, const char *line, char *reply, size_t cap);
/* The exit status for a control__request failure: 2 when nothing serves `path`. */
int control__request_status(int err);
/* `shade top`: the memory panel of a running host, refreshed (see cli_top.c). */
int cli__top(int argc, char **argv);

#endif
