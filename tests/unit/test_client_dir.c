/*
 * test_client_dir.c: a client's default protocol and contract, the one
 * line of its clients/NAME/protocol and clients/NAME/contract files
 * (common/run/ltb_client_dir.c).
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

#include "run/ltb_client_dir.h"
#include "run/ltb_control_msg.h"
#include "run/ltb_plan.h"

static char dir[64];

static int
make_dir(void **unused)
{
	snprintf(dir, sizeof dir, "/tmp/test_client_dir.XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
remove_dir(void **unused)
{
	char path[128];

	snprintf(path, sizeof path, "%s/protocol", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/contract", dir);
	unlink(path);
	return rmdir(dir);
}

/* The protocol file says text. */
static void
protocol_file(const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof path, "%s/protocol", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void
no_file_is_lightstep(void **unused)
{
	char err[512] = "";
	int p = -1;

	assert_int_equal(ltb_client_protocol(dir, &p, err, sizeof err), 0);
	assert_int_equal(p, LTB_CONTROL_LIGHTSTEP);
}

static void
the_line_names_the_protocol(void **unused)
{
	static const struct {
		const char *text;
		int protocol;
	} cases[] = {
		{ "spectatord\n", LTB_CONTROL_SPECTATORD },
		{ "atlas", LTB_CONTROL_ATLAS },		/* no newline */
		{ "  otlp \t\r\n", LTB_CONTROL_OTLP },
		{ "# what clients/x speaks\n\nlightstep\n\n",
		    LTB_CONTROL_LIGHTSTEP },
	};
	char err[512];
	int p;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		protocol_file(cases[i].text);
		p = -1;
		err[0] = '\0';
		assert_int_equal(ltb_client_protocol(dir, &p, err, sizeof err),
		    0);
		assert_int_equal(p, cases[i].protocol);
	}
}

static void
a_bad_name_names_the_file_line_and_known_ones(void **unused)
{
	char err[512], want[600];
	int p;

	protocol_file("# a comment\nzipkin\n");
	assert_int_equal(ltb_client_protocol(dir, &p, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s/protocol:2: unknown protocol 'zipkin' "
	    "(known: lightstep, otlp, spectatord, atlas, osprofiler)", dir);
	assert_string_equal(err, want);
}

static void
two_names_or_none_are_errors(void **unused)
{
	char err[512], want[600];
	int p;

	protocol_file("spectatord\natlas\n");
	assert_int_equal(ltb_client_protocol(dir, &p, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s/protocol:2: a second protocol (line 1 "
	    "named one): the file names one", dir);
	assert_string_equal(err, want);

	protocol_file("\n# nothing\n");
	assert_int_equal(ltb_client_protocol(dir, &p, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s/protocol: names no protocol (known: "
	    "lightstep, otlp, spectatord, atlas, osprofiler)", dir);
	assert_string_equal(err, want);
}

/* The contract file says text. */
static void
contract_file(const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof path, "%s/contract", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* No file: http; the line names it, comments and blanks aside; a bad
 * name, two, or none name the file and line. */
static void
the_contract_file(void **unused)
{
	char err[512], want[600], path[128];
	int c = -1;

	assert_int_equal(ltb_client_contract(dir, &c, err, sizeof err), 0);
	assert_int_equal(c, LTB_CONTRACT_HTTP);
	contract_file("# the original's flags\n\n  argv  \n");
	assert_int_equal(ltb_client_contract(dir, &c, err, sizeof err), 0);
	assert_int_equal(c, LTB_CONTRACT_ARGV);
	contract_file("http\n");
	assert_int_equal(ltb_client_contract(dir, &c, err, sizeof err), 0);
	assert_int_equal(c, LTB_CONTRACT_HTTP);
	contract_file("\n# x\nsoap\n");
	assert_int_equal(ltb_client_contract(dir, &c, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s/contract:3: unknown contract 'soap' "
	    "(known: http, argv)", dir);
	assert_string_equal(err, want);
	contract_file("argv\nhttp\n");
	assert_int_equal(ltb_client_contract(dir, &c, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s/contract:2: a second contract (line 1 "
	    "named one): the file names one", dir);
	assert_string_equal(err, want);
	contract_file("# nothing\n");
	assert_int_equal(ltb_client_contract(dir, &c, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s/contract: names no contract (known: "
	    "http, argv)", dir);
	assert_string_equal(err, want);
	snprintf(path, sizeof path, "%s/contract", dir);
	unlink(path);
	assert_int_equal(ltb_contract("argv"), LTB_CONTRACT_ARGV);
	assert_int_equal(ltb_contract("http"), LTB_CONTRACT_HTTP);
	assert_int_equal(ltb_contract("ARGV"), -1);
	assert_string_equal(ltb_contract_name(LTB_CONTRACT_ARGV), "argv");
	assert_string_equal(ltb_contract_name(LTB_CONTRACT_HTTP), "http");
}

/* The plan flags: --line-buffer and --meters into the control records. */
static void
line_buffer_and_meters_flags(void **unused)
{
	struct ltb_plan_opts o;
	char err[512];

	ltb_plan_default(&o);
	assert_string_equal(o.meters, "ctg");
	assert_int_equal(ltb_plan_flag(&o, LTB_OPT_LINE_BUFFER, "2048", NULL,
	    0, NULL, err, sizeof err), 0);
	assert_int_equal(o.line_buffer_bytes, 2048);
	assert_int_equal(ltb_plan_flag(&o, LTB_OPT_LINE_BUFFER, "65537", NULL,
	    0, NULL, err, sizeof err), -1);
	assert_int_equal(ltb_plan_flag(&o, LTB_OPT_METERS,
	    "gauge,percentile_timer,counter", NULL, 0, NULL, err, sizeof err),
	    0);
	assert_string_equal(o.meters, "gTc");
	assert_int_equal(ltb_plan_flag(&o, LTB_OPT_METERS, "counter,histogram",
	    NULL, 0, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "'histogram' is no meter type"));
	assert_int_equal(ltb_plan_flag(&o, LTB_OPT_METERS, "counter,,timer",
	    NULL, 0, NULL, err, sizeof err), -1);
	assert_string_equal(o.meters, "gTc");	/* a refusal keeps them */
	/* --protocol given: the client's file is not read */
	assert_int_equal(o.protocol_set, 0);
	assert_int_equal(ltb_plan_flag(&o, LTB_OPT_PROTOCOL, "spectatord",
	    NULL, 0, NULL, err, sizeof err), 0);
	assert_int_equal(o.protocol_set, 1);
	assert_int_equal(o.protocol, LTB_CONTROL_SPECTATORD);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(no_file_is_lightstep),
		cmocka_unit_test(the_line_names_the_protocol),
		cmocka_unit_test(a_bad_name_names_the_file_line_and_known_ones),
		cmocka_unit_test(two_names_or_none_are_errors),
		cmocka_unit_test(line_buffer_and_meters_flags),
		cmocka_unit_test(the_contract_file),
	};

	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
