/*
 * test_host.c: the machine's fingerprint (common/core/ltb_host.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/ltb_host.h"

/* A cpuinfo file with text in it; its path in path. */
static void
cpuinfo(char *path, const char *text)
{
	int fd;

	snprintf(path, 64, "/tmp/ltb-test-cpuinfo.XXXXXX");
	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void
the_first_model_name_trimmed(void **unused)
{
	char path[64], buf[256];

	cpuinfo(path, "processor\t: 0\nvendor_id\t: GenuineIntel\n"
	    "model\t\t: 85\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz  \n"
	    "processor\t: 1\nmodel name\t: Other\n");
	assert_int_equal(ltb_host_cpu_model(path, buf, sizeof buf), 0);
	assert_string_equal(buf, "Intel(R) Xeon(R) CPU @ 2.20GHz");
	unlink(path);
}

static void
no_model_name_is_unknown(void **unused)
{
	char path[64], buf[256] = "x";

	/* As on some ARM machines: "model" but no "model name". */
	cpuinfo(path, "processor\t: 0\nBogoMIPS\t: 50.00\nmodel\t: 1\n"
	    "model name\t:   \n");
	assert_int_equal(ltb_host_cpu_model(path, buf, sizeof buf), -1);
	assert_string_equal(buf, "");
	unlink(path);
	assert_int_equal(ltb_host_cpu_model("/nonexistent/cpuinfo", buf,
	    sizeof buf), -1);
	assert_string_equal(buf, "");
}

static void
this_machine_has_cores_and_a_kernel(void **unused)
{
	struct ltb_host h;

	ltb_host_read(&h);
	assert_true(h.cores > 0);
	assert_true(h.kernel[0] != '\0');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_first_model_name_trimmed),
		cmocka_unit_test(no_model_name_is_unknown),
		cmocka_unit_test(this_machine_has_cores_and_a_kernel),
	};

	return cmocka_run_group_tests_name("host", tests, NULL, NULL);
}
