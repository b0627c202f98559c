/*
 * test_parse.c: command-line value parsing (common/core/ltb_parse.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/ltb_parse.h"

static void
ports_accepts_ranges_lists_and_zero(void **unused)
{
	uint16_t p[LTB_MAX_PORTS];
	const char *why = NULL;
	size_t n;

	assert_int_equal(ltb_parse_ports("8360-8367", p, LTB_MAX_PORTS, &n,
	    &why), 0);
	assert_int_equal(n, 8);
	assert_int_equal(p[0], 8360);
	assert_int_equal(p[7], 8367);
	assert_int_equal(ltb_parse_ports("9000,8360-8361,0,0", p,
	    LTB_MAX_PORTS, &n, &why), 0);
	assert_int_equal(n, 5);
	assert_int_equal(p[0], 9000);
	assert_int_equal(p[2], 8361);
	assert_int_equal(p[3], 0);
	assert_int_equal(p[4], 0);
}

static void
ports_rejects_bad_lists(void **unused)
{
	static const char *const bad[] = {
		"", "8360-", "-8360", "8367-8360", "8360,,8361", "65536",
		"8360,8360", "0-5", "abc", "8360 ", "+8360", "1,2,3,"
	};
	uint16_t p[LTB_MAX_PORTS];
	const char *why;
	size_t n;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = NULL;
		assert_int_equal(ltb_parse_ports(bad[i], p, LTB_MAX_PORTS, &n,
		    &why), -1);
		assert_non_null(why);
	}
	why = NULL;
	assert_int_equal(ltb_parse_ports("1-300", p, LTB_MAX_PORTS, &n,
	    &why), -1);
	assert_string_equal(why, "too many ports");
}

static void
sizes_take_binary_suffixes(void **unused)
{
	const char *why;
	uint64_t v;

	assert_int_equal(ltb_parse_size("512", &v, &why), 0);
	assert_int_equal(v, 512);
	assert_int_equal(ltb_parse_size("64K", &v, &why), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(ltb_parse_size("50M", &v, &why), 0);
	assert_int_equal(v, 50u << 20);
	assert_int_equal(ltb_parse_size("50MiB", &v, &why), 0);
	assert_int_equal(v, 50u << 20);
	assert_int_equal(ltb_parse_size("1g", &v, &why), 0);
	assert_int_equal(v, 1u << 30);
	assert_int_equal(ltb_parse_size("0", &v, &why), 0);
	assert_int_equal(v, 0);
	assert_int_equal(ltb_parse_size("5X", &v, &why), -1);
	assert_int_equal(ltb_parse_size("-5", &v, &why), -1);
	assert_int_equal(ltb_parse_size("M", &v, &why), -1);
	assert_int_equal(ltb_parse_size("99999999999999G", &v, &why), -1);
}

static void
uints_are_range_checked(void **unused)
{
	const char *why;
	uint64_t v;

	assert_int_equal(ltb_parse_uint("65535", 0, 65535, &v, &why), 0);
	assert_int_equal(v, 65535);
	assert_int_equal(ltb_parse_uint("65536", 0, 65535, &v, &why), -1);
	assert_string_equal(why, "out of range");
	assert_int_equal(ltb_parse_uint("0", 1, 10, &v, &why), -1);
	assert_int_equal(ltb_parse_uint("1e3", 0, 9999, &v, &why), -1);
	assert_int_equal(ltb_parse_uint("", 0, 9, &v, &why), -1);
}

static void
seconds_allow_fractions(void **unused)
{
	const char *why;
	uint64_t ns;

	assert_int_equal(ltb_parse_seconds("10", &ns, &why), 0);
	assert_int_equal(ns, 10000000000ull);
	assert_int_equal(ltb_parse_seconds("0.5", &ns, &why), 0);
	assert_int_equal(ns, 500000000ull);
	assert_int_equal(ltb_parse_seconds(".25", &ns, &why), 0);
	assert_int_equal(ns, 250000000ull);
	assert_int_equal(ltb_parse_seconds("-1", &ns, &why), -1);
	assert_int_equal(ltb_parse_seconds("1s", &ns, &why), -1);
	assert_int_equal(ltb_parse_seconds("nan", &ns, &why), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ports_accepts_ranges_lists_and_zero),
		cmocka_unit_test(ports_rejects_bad_lists),
		cmocka_unit_test(sizes_take_binary_suffixes),
		cmocka_unit_test(uints_are_range_checked),
		cmocka_unit_test(seconds_allow_fractions),
	};

	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
