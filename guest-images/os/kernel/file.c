/*
 * file.c: file descriptors. 0, 1 and 2 are the console; open() adds read-only
 * descriptors on files of the initial file system, read through the page cache.
 * Descriptors are copied by fork and kept across exec.
 */
#include "kernel.h"
#include "proc.h"
#include "fs.h"
#include "../common/abi.h"

#define IO_CHUNK 256

void file__init_fds(struct proc *p)
{
	for (int i = 0; i < NFD; i++)
		p->fd[i].kind = i < 3 ? FD_CONSOLE : FD_NONE;
}

void file__fork_fds(struct proc *dst, struct proc *src)
{
	memcpy(dst->fd, src->fd, sizeof(dst->fd));
}

static struct fd *get(struct proc *p, int fd)
{
	if (fd < 0 || fd >= NFD || p->fd[fd].kind == FD_NONE)
		return NULL;
	return &p->fd[fd];
}

long file__open(struct proc *p, const char *path)
{
	int file = initrd__lookup(path);
	if (file < 0)
		return file;
	for (int i = 0; i < NFD; i++) {
		if (p->fd[i].kind != FD_NONE)
			continue;
		p->fd[i] = (struct fd){ FD_FILE, file, 0 };
		return i;
	}
	return -E_MFILE;
}

long file__close(struct proc *p, int fd)
{
	struct fd *f = get(p, fd);
	if (!f)
		return -E_BADF;
	f->kind = FD_NONE;
	return 0;
}

long file__size(struct proc *p, int fd)
{
	struct fd *f = get(p, fd);
	if (!f || f->kind != FD_FILE)
		return -E_BADF;
	return (long)initrd__size(f->file);
}

static long read_console(struct proc *p, uint64_t ubuf, uint64_t n)
{
	char buf[IO_CHUNK];
	int got;
	if (n > sizeof(buf))
		n = sizeof(buf);
	/* Polled, a tick at a time: the console has no receive interrupt here. */
	while (!(got = console__read(buf, n)))
		sched__sleep_ms(10);
	return copy_to_user(p, ubuf, buf, (uint64_t)got) ? -E_FAULT : got;
}

long file__read(struct proc *p, int fd, uint64_t ubuf, uint64_t n)
{
	struct fd *f = get(p, fd);
	if (!f)
		return -E_BADF;
	if (f->kind == FD_CONSOLE)
		return n ? read_console(p, ubuf, n) : 0;
	uint64_t size = initrd__size(f->file), done = 0;
	if (f->off >= size)
		return 0;
	if (n > size - f->off)
		n = size - f->off;
	while (done < n) {
		uint64_t off = f->off + done, in_page = off % PAGE_SIZE;
		uint64_t chunk = PAGE_SIZE - in_page < n - done ? PAGE_SIZE - in_page : n - done;
		uint64_t pa = pagecache__page(f->file, off);
		if (!pa)
			return done ? (long)done : -E_NOMEM;
		if (copy_to_user(p, ubuf + done, (char *)p2v(pa) + in_page, chunk))
			return done ? (long)done : -E_FAULT;
		done += chunk;
	}
	f->off += done;
	return (long)done;
}

long file__write(struct proc *p, int fd, uint64_t ubuf, uint64_t n)
{
	struct fd *f = get(p, fd);
	char buf[IO_CHUNK];
	uint64_t done = 0;
	if (!f || f->kind != FD_CONSOLE)
		return -E_BADF;
	while (done < n) {
		uint64_t chunk = n - done < sizeof(buf) ? n - done : sizeof(buf);
		if (copy_from_user(p, buf, ubuf + done, chunk))
			return done ? (long)done : -E_FAULT;
		console__write(buf, chunk);
		done += chunk;
	}
	return (long)done;
}
