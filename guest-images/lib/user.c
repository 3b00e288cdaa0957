/* user.c: setup for user.S (ring-3 entry and the return gate). */
#include "user.h"
#include "desc.h"

extern char user__exit_stub[];

void user__init(void)
{
	tss__init();
	idt__set(USER_EXIT_VECTOR, (u32)(uintptr_t)user__exit_stub, SEL_KCODE,
		 GATE_P | GATE_DPL(3) | GATE_INT32);
}
