/*
 * control_server.c: the control socket itself, one thread serving every client with
 * poll(2); control.c answers the requests. No client can hold up another or the host:
 * sockets are non-blocking, each client has its own input buffer, a line longer than
 * CONTROL_LINE_MAX is answered with an error and its client dropped, a client is read
 * again only once its last answer is sent (so a client that never reads costs one
 * answer of memory), answers go out with MSG_NOSIGNAL (a client gone before reading
 * is an EPIPE, never a SIGPIPE), and a client beyond CONTROL_MAX_CLIENTS is told so and
 * dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"

struct control_client {
	int fd;
	char *in;                  /* bytes received, not yet a whole line */
	size_t in_len, in_cap;
	char *out;                 /* the answer being sent */
	size_t out_len, out_off;
	bool eof;                  /* the client has shut down its side */
	bool drop;                 /* close once the answer is out */
};

static void client_close(struct control *c, unsigned i)
{
	struct control_client *k = &c->cl[i];
	close(k->fd);
	free(k->in);
	free(k->out);
	c->cl[i] = c->cl[--c->ncl];
}

/* Queue one answer line; the caller sends it. */
static int client_answer(struct control_client *k, char *ans)
{
	if (!ans)
		return -ENOMEM;
	size_t n = strlen(ans);
	ans[n] = '\n';      /* strdup's terminator becomes the newline; out_len says where */
	k->out = ans;
	k->out_len = n + 1;
	k->out_off = 0;
	return 0;
}

/* Send what is pending: 0 when all out (or blocked for now), -1 when the client is gone. */
static int client_flush(struct control_client *k)
{
	while (k->out && k->out_off < k->out_len) {
		ssize_t r = send(k->fd, k->out + k->out_off, k->out_len - k->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		k->out_off += (size_t)r;
	}
	free(k->out);
	k->out = NULL;
	return 0;
}

/* Answer the next whole line (at the end of input, what is left is one), if nothing is
 * waiting to go out. */
static void client_next(struct control *c, struct control_client *k)
{
	if (k->out || k->drop)
		return;
	char *nl = memchr(k->in, '\n', k->in_len);
	size_t len = nl ? (size_t)(nl - k->in) : k->in_len;
	if (len > CONTROL_LINE_MAX) {
		char msg[128];
		snprintf(msg, sizeof(msg), "{\"error\": {\"class\": \"GenericError\", \"desc\": "
			 "\"request line longer than %d bytes\"}}", CONTROL_LINE_MAX);
		client_answer(k, strdup(msg));
		k->drop = true;
		return;
	}
	if (!nl && !(k->eof && len))
		return;
	if (client_answer(k, control__handle(c, k->in, len)))
		k->drop = true;
	len += nl ? 1 : 0;
	k->in_len -= len;
	memmove(k->in, k->in + len, k->in_len);
}

/* Read what the client sent: -1 when it is gone. */
static int client_read(struct control_client *k)
{
	if (k->in_len == k->in_cap) {
		size_t cap = k->in_cap ? k->in_cap * 2 : 4096;
		char *p = k->in_cap > CONTROL_LINE_MAX ? NULL : realloc(k->in, cap);
		if (!p)
			return -1;
		k->in = p;
		k->in_cap = cap;
	}
	ssize_t r = recv(k->fd, k->in + k->in_len, k->in_cap - k->in_len, MSG_DONTWAIT);
	if (r < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (r == 0)
		k->eof = true;
	k->in_len += (size_t)r;
	return 0;
}

/* false when out of file descriptors: the listening socket is then left alone until a
 * client goes (else poll would report it ready again and again). */
static bool accept_client(struct control *c)
{
	int fd = accept4(c->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return errno != EMFILE && errno != ENFILE;
	if (c->ncl == CONTROL_MAX_CLIENTS) {
		static const char busy[] = "{\"error\": {\"class\": \"GenericError\", \"desc\": "
					   "\"too many clients\"}}\n";
		send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);  /* dropped anyway */
		close(fd);
		return true;
	}
	c->cl[c->ncl++] = (struct control_client){ .fd = fd };
	return true;
}

static void *server(void *arg)
{
	struct control *c = arg;
	struct pollfd *p = calloc(CONTROL_MAX_CLIENTS + 2, sizeof(*p));
	if (!p)
		return NULL;
	bool accepting = true;
	for (;;) {
		p[0] = (struct pollfd){ c->fd, accepting ? POLLIN : 0, 0 };
		p[1] = (struct pollfd){ c->stop[0], POLLIN, 0 };
		for (unsigned i = 0; i < c->ncl; i++)
			p[2 + i] = (struct pollfd){ c->cl[i].fd, c->cl[i].out ? POLLOUT : POLLIN, 0 };
		unsigned n = c->ncl;
		/* Out of descriptors: try again when a client goes, or in 100 ms. */
		int r = poll(p, 2 + n, accepting ? -1 : 100);
		accepting = accepting || r == 0;
		if (r < 0)
			continue;
		if (p[1].revents)
			break;
		/* Backwards: closing client i moves the last one into its place. */
		for (unsigned i = n; i-- > 0;) {
			struct control_client *k = &c->cl[i];
			short ev = p[2 + i].revents;
			if (!ev)
				continue;
			int gone = 0;
			/* A hang-up while an answer waits: sending it fails and ends the client. */
			if (k->out)
				gone = client_flush(k);
			else if (ev & (POLLIN | POLLHUP | POLLERR))
				gone = client_read(k);
			/* Answer lines until one has to wait for the client to read. */
			while (!gone && !k->out && !k->drop) {
				size_t before = k->in_len;
				client_next(c, k);
				if (!k->out)
					break;
				gone = client_flush(k);
				if (k->in_len == before)
					break;
			}
			if (gone || (!k->out && (k->drop || k->eof))) {
				client_close(c, i);
				accepting = true;
			}
		}
		if (p[0].revents & POLLIN)
			accepting = accept_client(c);
	}
	while (c->ncl)
		client_close(c, c->ncl - 1);
	free(p);
	return NULL;
}

/* PATH may be a socket a host left behind (it crashed); anything else there, or a host
 * still answering, is not ours to remove. */
static int claim_path(const char *path, const struct sockaddr_un *a)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int live = connect(fd, (const struct sockaddr *)a, sizeof(*a)) == 0;
	close(fd);
	if (live)
		return -EADDRINUSE;
	return unlink(path) < 0 ? -errno : 0;
}

int control__start(struct control *c, const char *path, struct vm *vms, unsigned n)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int ret = control__init(c, vms, n);
	if (ret)
		return ret;
	if (strlen(path) >= sizeof(a.sun_path)) {
		control__exit(c);
		return -ENAMETOOLONG;
	}
	strcpy(a.sun_path, path);
	c->cl = calloc(CONTROL_MAX_CLIENTS, sizeof(*c->cl));
	if (!c->cl) {
		ret = -ENOMEM;
		goto out;
	}
	if ((ret = claim_path(path, &a)))
		goto out;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		ret = -errno;
		goto out;
	}
	if (bind(c->fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		ret = -errno;
		goto out;
	}
	c->path = path;         /* from here on control__stop removes it */
	if (listen(c->fd, CONTROL_MAX_CLIENTS) < 0 || pipe2(c->stop, O_CLOEXEC) < 0) {
		ret = -errno;
		goto out;
	}
	if (pthread_create(&c->thread, NULL, server, c)) {
		ret = -EAGAIN;
		goto out;
	}
	c->started = true;
	return 0;
out:
	control__stop(c);
	return ret;
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
	if (c->fd >= 0)
		close(c->fd);
	if (c->path)
		unlink(c->path);
	free(c->cl);
	c->cl = NULL;
	c->path = NULL;
	c->fd = c->stop[0] = c->stop[1] = -1;
	control__exit(c);
}
