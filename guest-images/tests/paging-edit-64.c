/* paging-edit-64.c: guest "paging-edit-64": the live page-table edits of
 * paging-edit.c under 4-level paging in IA-32e mode. */
#include "paging.h"
#include "test.h"

void edit__run(enum paging_mode mode, const char *name);

void test_main(void)
{
	edit__run(PAGING_4L, "paging-edit-64");
}
