#include "test.h"
void test_main(void)
{
	test__begin("privileged");
}
