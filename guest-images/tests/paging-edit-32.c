/* paging-edit-32.c: guest "paging-edit-32": the live page-table edits of
 * paging-edit.c under 32-bit paging. */
#include "paging.h"
#include "test.h"

void edit__run(enum paging_mode mode, const char *name);

void test_main(void)
{
	edit__run(PAGING_32, "paging-edit-32");
}
