/* privileged.h: the two halves of the "privileged" guest. */
#ifndef TESTS_PRIVILEGED_H
#define TESTS_PRIVILEGED_H

/* privileged-desc.c: descriptor tables, segment loads, far transfers. */
void privileged__desc_checks(void);

#endif
