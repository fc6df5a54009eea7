/* test_shard.c: a conversation id's shard, and stamping a new id with
 * the shard that creates it. */
#include <string.h>

#include "event.h"
#include "shard.h"
#include "unit.h"

static const struct {
	const char *id;
	int count, shard;
} of_cases[] = {
	{ "0a1b2c3d-0000-4000-8000-000000000000", 1, 0 },
	{ "fa1b2c3d-0000-4000-8000-000000000000", 1, 0 },
	{ "0a1b2c3d-0000-4000-8000-000000000000", 2, 0 },
	{ "9a1b2c3d-0000-4000-8000-000000000000", 2, 1 },
	{ "ea1b2c3d-0000-4000-8000-000000000000", 2, 0 },
	{ "Fa1b2c3d-0000-4000-8000-000000000000", 2, 1 },
	{ "ba1b2c3d-0000-4000-8000-000000000000", 3, 2 },
	{ "fa1b2c3d-0000-4000-8000-000000000000", 16, 15 },
	{ "xa1b2c3d-0000-4000-8000-000000000000", 2, -1 },
	{ "", 2, -1 },
	{ "0a1b2c3d-0000-4000-8000-000000000000", 0, -1 },
	{ "0a1b2c3d-0000-4000-8000-000000000000", 17, -1 },
};

START_TEST(test_shard_of)
{
	ck_assert_int_eq(shard_of(of_cases[_i].id, of_cases[_i].count),
	    of_cases[_i].shard);
}
END_TEST

/* Every shard of every count gets ids that route back to it, that are
 * still UUIDs, and whose first digit still varies where it can. */
START_TEST(test_shard_stamp_routes_back)
{
	for (int count = 1; count <= SHARD_MAX; count++) {
		for (int index = 0; index < count; index++) {
			char seen[SHARD_MAX] = { 0 };
			int distinct = 0;

			for (int i = 0; i < 200; i++) {
				char id[EVENT_UUID_LEN + 1];

				ck_assert_int_eq(event_uuid(id), 0);
				ck_assert_int_eq(shard_stamp(id, index, count), 0);
				ck_assert_int_eq(shard_of(id, count), index);
				ck_assert(event_is_uuid(id));
				distinct += !seen[shard_of(id, SHARD_MAX)]++;
			}
			/* The digits congruent to index: 16/count of them. */
			ck_assert_int_eq(distinct,
			    (SHARD_MAX - 1 - index) / count + 1);
		}
	}
}
END_TEST

START_TEST(test_shard_stamp_refuses)
{
	char id[] = "0a1b2c3d-0000-4000-8000-000000000000";

	ck_assert_int_eq(shard_stamp(id, 2, 2), -1);
	ck_assert_int_eq(shard_stamp(id, -1, 2), -1);
	ck_assert_int_eq(shard_stamp(id, 0, 0), -1);
	ck_assert_int_eq(shard_stamp(id, 0, 17), -1);
	ck_assert_str_eq(id, "0a1b2c3d-0000-4000-8000-000000000000");
	id[0] = 'z';
	ck_assert_int_eq(shard_stamp(id, 0, 2), -1);
	ck_assert_int_eq(id[0], 'z');
}
END_TEST

static Suite *shard_suite(void)
{
	Suite *s = suite_create("shard");
	TCase *tc = tcase_create("shard");
	tcase_add_loop_test(tc, test_shard_of, 0,
	    sizeof of_cases / sizeof of_cases[0]);
	tcase_add_test(tc, test_shard_stamp_routes_back);
	tcase_add_test(tc, test_shard_stamp_refuses);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(shard_suite)
