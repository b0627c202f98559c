/*
 * test_net.c: address helpers (common/core/ltb_net.c): what counts as
 * loopback, for the admin port's bind and its Host check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/ltb_net.h"

static int
loopback(const char *s)
{
	struct ltb_addr a;
	char err[128];

	assert_int_equal(ltb_addr_parse(&a, s, err, sizeof err), 0);
	return ltb_addr_is_loopback(&a);
}

static int
any(const char *s)
{
	struct ltb_addr a;
	char err[128];

	assert_int_equal(ltb_addr_parse(&a, s, err, sizeof err), 0);
	return ltb_addr_is_any(&a);
}

static void
loopback_addresses(void **unused)
{
	assert_true(loopback("127.0.0.1"));
	assert_true(loopback("127.9.8.7"));
	assert_true(loopback("::1"));
	assert_true(loopback("::ffff:127.0.0.1"));
	assert_false(loopback("0.0.0.0"));
	assert_false(loopback("::"));
	assert_false(loopback("192.0.2.2"));
	assert_false(loopback("128.0.0.1"));
	assert_false(loopback("fd00::2"));
	assert_false(loopback("::ffff:192.0.2.2"));
}

static void
wildcard_addresses(void **unused)
{
	assert_true(any("0.0.0.0"));
	assert_true(any("::"));
	assert_false(any("127.0.0.1"));
	assert_false(any("::1"));
}

static void
loopback_host_headers(void **unused)
{
	assert_true(ltb_host_is_loopback("localhost"));
	assert_true(ltb_host_is_loopback("LocalHost:8359"));
	assert_true(ltb_host_is_loopback("localhost.:1"));
	assert_true(ltb_host_is_loopback("127.0.0.1"));
	assert_true(ltb_host_is_loopback("127.0.0.1:8359"));
	assert_true(ltb_host_is_loopback("127.1.2.3:65535"));
	assert_true(ltb_host_is_loopback("[::1]"));
	assert_true(ltb_host_is_loopback("[::1]:8359"));
}

static void
other_host_headers(void **unused)
{
	assert_false(ltb_host_is_loopback(""));
	assert_false(ltb_host_is_loopback("evil.example"));
	assert_false(ltb_host_is_loopback("evil.example:8359"));
	assert_false(ltb_host_is_loopback("localhost.evil.example"));
	assert_false(ltb_host_is_loopback("127.0.0.1.evil.example"));
	assert_false(ltb_host_is_loopback("192.0.2.2:8359"));
	assert_false(ltb_host_is_loopback("0.0.0.0:8359"));
	assert_false(ltb_host_is_loopback("[fd00::2]:8359"));
	assert_false(ltb_host_is_loopback("::1"));
	assert_false(ltb_host_is_loopback("[::1"));
	assert_false(ltb_host_is_loopback("[::1]x"));
	assert_false(ltb_host_is_loopback("[127.0.0.1]"));
	assert_false(ltb_host_is_loopback("127.0.0.1:"));
	assert_false(ltb_host_is_loopback("127.0.0.1:80a"));
	assert_false(ltb_host_is_loopback("127.0.0.1:123456"));
	assert_false(ltb_host_is_loopback("localhost:1:2"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(loopback_addresses),
		cmocka_unit_test(wildcard_addresses),
		cmocka_unit_test(loopback_host_headers),
		cmocka_unit_test(other_host_headers),
	};

	return cmocka_run_group_tests_name("net", tests, NULL, NULL);
}
