/* unit.h: the shared main() of every Check unit-test program.  Each
 * tests/unit/test_<module>.c defines its suite and ends with
 * UNIT_MAIN(<module>_suite). */
#ifndef MSGCMD_UNIT_H
#define MSGCMD_UNIT_H

#include <check.h>
#include <stdlib.h>

#define UNIT_MAIN(suite_fn)                                             \
	int main(void)                                                  \
	{                                                               \
		SRunner *sr = srunner_create(suite_fn());               \
		srunner_run_all(sr, CK_NORMAL);                         \
		int failed = srunner_ntests_failed(sr);                 \
		srunner_free(sr);                                       \
		return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;       \
	}

#endif
