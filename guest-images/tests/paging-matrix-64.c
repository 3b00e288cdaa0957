/* paging-matrix-64.c: guest "paging-matrix-64": the permission matrix of
 * paging-matrix.c under 4-level paging in IA-32e mode (checks run in 64-bit mode). */
#include "paging.h"
#include "test.h"

void matrix__run(enum paging_mode mode, const char *name);

void test_main(void)
{
	matrix__run(PAGING_4L, "paging-matrix-64");
}
