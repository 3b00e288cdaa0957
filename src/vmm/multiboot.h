/*
 * multiboot.h: loading a multiboot (v1) kernel and its modules into guest memory and
 * building the multiboot information, as a multiboot loader (GRUB, QEMU -kernel) does.
 */
#ifndef SHADE_MULTIBOOT_H
#define SHADE_MULTIBOOT_H

#include <stddef.h>
#include <stdint.h>

struct vm;

#define MB_HEADER_MAGIC 0x1badb002u
#define MB_LOADER_MAGIC 0x2badb002u
#define MB_SEARCH 8192
#define MB_MAX_IMAGE (512u << 20)   /* a kernel or module larger than this is refused */

/* A kernel or module already in memory; `name` is what messages, the command line and
 * the module string call it (the path, for a file). */
struct mb_image {
	const uint8_t *data;
	size_t len;
	const char *name;
};

/* Load vm->cfg.kernel and modules; sets vm->entry and vm->mbi. On error the reason is
 * in vm->stop_reason and the return is a negative errno. */
int multiboot__load(struct vm *vm);
/* The same from images in memory (no file is opened): what multiboot__load does once
 * it has read the files, and what the loader's fuzzing harness drives. */
int multiboot__load_images(struct vm *vm, const struct mb_image *kernel,
			   const struct mb_image *mods, unsigned nmods);

/* Pure parsing, for tests: find and validate the header in the first MB_SEARCH bytes.
 * Returns its offset, or -1 with a reason. */
long multiboot__find_header(const uint8_t *img, size_t len, const char **why);

#endif
