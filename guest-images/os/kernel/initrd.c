/*
 * initrd.c: the initial file system, a ustar archive passed as the first multiboot
 * module and left where the loader put it. It is the backing store of the page cache
 * (pagecache.c), which is what readers and exec see. Only regular files count; names
 * are kept without a leading "./" or "/".
 */
#include "kernel.h"
#include "fs.h"
#include "../common/abi.h"

struct ustar {
	char name[100], mode[8], uid[8], gid[8], size[12], mtime[12], chksum[8];
	char typeflag, linkname[100], magic[6], version[2], uname[32], gname[32];
	char devmajor[8], devminor[8], prefix[155], pad[12];
};

struct file {
	char name[100];
	uint64_t data;		/* physical address of the contents */
	uint64_t size;
};

static struct file files[MAX_FILES];
static int nfiles;

static uint64_t octal(const char *s, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n && s[i] >= '0' && s[i] <= '7'; i++)
		v = v * 8 + (uint64_t)(s[i] - '0');
	return v;
}

static const char *strip(const char *path)
{
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	while (path[0] == '/')
		path++;
	return path;
}

void initrd__init(uint64_t start, uint64_t end)
{
	uint64_t p = start;
	if (!start)
		panic("no initial file system: pass the archive as a multiboot module");
	while (p + 512 <= end) {
		const struct ustar *h = p2v(p);
		if (!h->name[0])
			break;	/* end-of-archive block */
		if (memcmp(h->magic, "ustar", 5))
			panic("initrd: not a ustar archive at offset %lu", p - start);
		uint64_t size = octal(h->size, sizeof(h->size));
		if ((h->typeflag == '0' || h->typeflag == 0) && !h->prefix[0]) {
			if (nfiles == MAX_FILES)
				panic("initrd: more than %d files", MAX_FILES);
			struct file *f = &files[nfiles++];
			strncpy0(f->name, strip(h->name), sizeof(f->name));
			f->data = p + 512;
			f->size = size;
		}
		p += 512 + ((size + 511) & ~511UL);
	}
}

int initrd__lookup(const char *path)
{
	path = strip(path);
	for (int i = 0; i < nfiles; i++)
		if (!strcmp(files[i].name, path))
			return i;
	return -E_NOENT;
}

uint64_t initrd__size(int file)
{
	return files[file].size;
}

const char *initrd__name(int file)
{
	return files[file].name;
}

int initrd__count(void)
{
	return nfiles;
}

void initrd__read(int file, uint64_t off, void *dst, uint64_t n)
{
	ASSERT(off + n <= files[file].size);
	memcpy(dst, p2v(files[file].data + off), n);
}
