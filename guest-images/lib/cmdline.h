/*
 * cmdline.h: the multiboot command line (info flag bit 2, string at +16), read as
 * space-separated "key=value" words.
 */
#ifndef GUEST_CMDLINE_H
#define GUEST_CMDLINE_H

#include "types.h"

/* Where "key" starts a word of the command line, the text after it; NULL if absent. */
const char *cmdline__value(const char *key);
/* The decimal number after "key" (e.g. "pages="), or `dflt` when absent or empty. */
u32 cmdline__u32(const char *key, u32 dflt);

#endif
