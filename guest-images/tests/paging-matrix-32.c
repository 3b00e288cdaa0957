/* paging-matrix-32.c: guest "paging-matrix-32": the permission matrix of
 * paging-matrix.c under 32-bit paging. */
#include "paging.h"
#include "test.h"

void matrix__run(enum paging_mode mode, const char *name);

void test_main(void)
{
	matrix__run(PAGING_32, "paging-matrix-32");
}
