/*
 * test_dupset.c: bounded duplicate detection (common/collector/ltb_dupset.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "collector/ltb_dupset.h"

static void
finds_a_key_added_before(void **unused)
{
	struct ltb_dupset *d = ltb_dupset_new(1000);

	assert_non_null(d);
	assert_int_equal(ltb_dupset_add(d, 42), 0);
	assert_int_equal(ltb_dupset_add(d, 43), 0);
	assert_int_equal(ltb_dupset_add(d, 42), 1);
	assert_int_equal(ltb_dupset_add(d, 43), 1);
	/* 0 is the empty slot inside; it must still work as a key. */
	assert_int_equal(ltb_dupset_add(d, 0), 0);
	assert_int_equal(ltb_dupset_add(d, 0), 1);
	ltb_dupset_free(d);
}

static void
remembers_the_whole_window(void **unused)
{
	const size_t window = 4096;
	struct ltb_dupset *d = ltb_dupset_new(window);
	uint64_t i;

	assert_non_null(d);
	/* Several generations' worth, then every key of the last window
	 * must still be known. */
	for (i = 1; i <= 10 * window; i++)
		assert_int_equal(ltb_dupset_add(d, ltb_dupset_key(7, i)), 0);
	for (i = 10 * window - window + 1; i <= 10 * window; i++)
		assert_int_equal(ltb_dupset_add(d, ltb_dupset_key(7, i)), 1);
	ltb_dupset_free(d);
}

static void
forgets_what_is_far_behind(void **unused)
{
	const size_t window = 1024;
	struct ltb_dupset *d = ltb_dupset_new(window);
	uint64_t i;

	assert_non_null(d);
	assert_int_equal(ltb_dupset_add(d, ltb_dupset_key(1, 1)), 0);
	for (i = 2; i <= 8 * window; i++)
		ltb_dupset_add(d, ltb_dupset_key(1, i));
	/* Memory is bounded, so the first key is gone by now. */
	assert_int_equal(ltb_dupset_add(d, ltb_dupset_key(1, 1)), 0);
	ltb_dupset_free(d);
}

static void
clear_forgets_everything(void **unused)
{
	struct ltb_dupset *d = ltb_dupset_new(100);

	assert_non_null(d);
	for (uint64_t i = 1; i < 50; i++)
		ltb_dupset_add(d, i);
	ltb_dupset_clear(d);
	for (uint64_t i = 1; i < 50; i++)
		assert_int_equal(ltb_dupset_add(d, i), 0);
	ltb_dupset_free(d);
}

static void
keys_tell_traces_apart(void **unused)
{
	assert_true(ltb_dupset_key(1, 5) != ltb_dupset_key(2, 5));
	assert_true(ltb_dupset_key(5, 1) != ltb_dupset_key(1, 5));
	assert_true(ltb_dupset_key(0, 0) != 0);
	assert_int_equal(ltb_dupset_key(3, 9), ltb_dupset_key(3, 9));
}

/* The key is SplitMix64's finaliser over the two ids, pinned here so
 * that a change of the shared mixer (core/ltb_hash.h) is seen, not
 * silent; the 0 it gives for (0, 0) is moved to 1, off the empty slot. */
static void
keys_are_splitmix_of_the_ids(void **unused)
{
	assert_true(ltb_dupset_key(0, 0) == 1);
	assert_true(ltb_dupset_key(0, 1) == 0x5692161d100b05e5ull);
	assert_true(ltb_dupset_key(1, 1) == 0xe4d971771b652c20ull);
	assert_true(ltb_dupset_key(123456789, 123456789) ==
	    0xf5370cdb1c6139edull);
}

static void
tells_a_retry_after_a_refusal_from_a_duplicate(void **unused)
{
	const size_t window = 256;
	struct ltb_dupset *d = ltb_dupset_new(window);

	assert_non_null(d);
	assert_int_equal(ltb_dupset_note(d, 7, 1), LTB_DUP_NEW);
	/* Refused again, still only refused. */
	assert_int_equal(ltb_dupset_note(d, 7, 1), LTB_DUP_REFUSED);
	/* The retry that gets through says so once; after it, taken. */
	assert_int_equal(ltb_dupset_note(d, 7, 0), LTB_DUP_REFUSED);
	assert_int_equal(ltb_dupset_note(d, 7, 0), LTB_DUP_TAKEN);
	assert_int_equal(ltb_dupset_note(d, 7, 1), LTB_DUP_TAKEN);
	/* Taken first: a refused copy later changes nothing. */
	assert_int_equal(ltb_dupset_note(d, 8, 0), LTB_DUP_NEW);
	assert_int_equal(ltb_dupset_note(d, 8, 1), LTB_DUP_TAKEN);
	assert_int_equal(ltb_dupset_add(d, 8), 1);
	/* The mark survives a generation's rotation: 9 is in the older. */
	assert_int_equal(ltb_dupset_note(d, 9, 1), LTB_DUP_NEW);
	for (uint64_t i = 1; i <= window; i++)
		ltb_dupset_add(d, ltb_dupset_key(3, i));
	assert_int_equal(ltb_dupset_note(d, 9, 0), LTB_DUP_REFUSED);
	assert_int_equal(ltb_dupset_note(d, 9, 0), LTB_DUP_TAKEN);
	ltb_dupset_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(finds_a_key_added_before),
		cmocka_unit_test(remembers_the_whole_window),
		cmocka_unit_test(forgets_what_is_far_behind),
		cmocka_unit_test(clear_forgets_everything),
		cmocka_unit_test(keys_tell_traces_apart),
		cmocka_unit_test(keys_are_splitmix_of_the_ids),
		cmocka_unit_test(tells_a_retry_after_a_refusal_from_a_duplicate),
	};

	return cmocka_run_group_tests_name("dupset", tests, NULL, NULL);
}
