/*
 * control.h: the control socket of `shade host --ctl PATH` (QMP-like JSON lines; see
 * control.c for the commands) and its client, `shade ctl PATH VM COMMAND [ARG]`.
 */
#ifndef SHADE_CONTROL_H
#define SHADE_CONTROL_H

#include <pthread.h>
#include <stdbool.h>

struct vm;

struct control {
	int fd, stop[2];
	const char *path;
	struct vm *vms;
	unsigned nvms;
	pthread_t thread;
	bool started;
};

int control__start(struct control *c, const char *path, struct vm *vms, unsigned n);
void control__stop(struct control *c);
/* `shade ctl`: one command, its answer on stdout; 0, or 2/4 on a bad command/failure. */
int control__client(int argc, char **argv);
/* One request line to the socket at `path`; its one-line answer in reply. 0 or -errno. */
int control__request(const char *path, const char *line, char *reply, size_t cap);
/* `shade top`: the memory panel of a running host, refreshed (see cli_top.c). */
int cli__top(int argc, char **argv);

#endif
