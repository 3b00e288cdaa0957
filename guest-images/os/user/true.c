/*
 * true.c: does nothing and succeeds: the smallest program to fork and exec.
 */
int main(void)
{
	return 0;
}
