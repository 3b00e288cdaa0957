/* paging-matrix-pae.c: guest "paging-matrix-pae": the permission matrix of
 * paging-matrix.c under PAE paging. */
#include "paging.h"
#include "test.h"

void matrix__run(enum paging_mode mode, const char *name);

void test_main(void)
{
	matrix__run(PAGING_PAE, "paging-matrix-pae");
}
