/*
 * test_control.c: the control message (common/run/ltb_control_msg.c):
 * the metrics clients' keys (SatelliteUdpPorts, SatelliteUnixSocket,
 * LineBufferBytes, Meters, the spectatord and atlas protocols) read,
 * refused with a reason when wrong, and written back the same.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "run/ltb_control_msg.h"

static void
parse_ok(struct ltb_control *c, const char *json)
{
	char err[256] = "";

	ltb_control_default(c);
	if (ltb_control_parse(c, json, strlen(json), err, sizeof err) < 0)
		fail_msg("%s: %s", json, err);
}

static void
parse_bad(const char *json, const char *why)
{
	struct ltb_control c;
	char err[256] = "";

	ltb_control_default(&c);
	assert_int_equal(ltb_control_parse(&c, json, strlen(json), err,
	    sizeof err), -1);
	if (strstr(err, why) == NULL)
		fail_msg("%s: '%s' does not say '%s'", json, err, why);
}

static void
test_defaults(void **state)
{
	struct ltb_control c;

	ltb_control_default(&c);
	assert_int_equal(c.nudp, 0);
	assert_string_equal(c.satellite_unix, "");
	assert_int_equal(c.line_buffer_bytes, 0);
	assert_string_equal(c.meters, "ctg");
	assert_string_equal(ltb_control_protocol_unit(c.protocol), "span");
}

static void
test_metrics_keys(void **state)
{
	struct ltb_control c;

	parse_ok(&c, "{\"Protocol\":\"spectatord\",\"SatelliteUdpPorts\":"
	    "[1234,1235],\"SatelliteUnixSocket\":\"/tmp/x.sock\","
	    "\"LineBufferBytes\":2048,\"Meters\":[\"timer\",\"max_gauge\","
	    "\"distribution_summary\"]}");
	assert_int_equal(c.protocol, LTB_CONTROL_SPECTATORD);
	assert_string_equal(ltb_control_protocol_unit(c.protocol),
	    "measurement");
	assert_int_equal(c.nudp, 2);
	assert_int_equal(c.satellite_udp_ports[1], 1235);
	assert_string_equal(c.satellite_unix, "/tmp/x.sock");
	assert_int_equal(c.line_buffer_bytes, 2048);
	assert_string_equal(c.meters, "tmd");
	parse_ok(&c, "{\"Protocol\":\"atlas\",\"SatelliteUdpPorts\":[],"
	    "\"SatelliteUnixSocket\":null}");
	assert_int_equal(c.protocol, LTB_CONTROL_ATLAS);
	assert_int_equal(c.nudp, 0);
	assert_string_equal(c.satellite_unix, "");
}

static void
test_metrics_refused(void **state)
{
	parse_bad("{\"SatelliteUdpPorts\":[0]}", "SatelliteUdpPorts");
	parse_bad("{\"SatelliteUdpPorts\":[70000]}", "SatelliteUdpPorts");
	parse_bad("{\"SatelliteUdpPorts\":8125}", "SatelliteUdpPorts");
	parse_bad("{\"SatelliteUnixSocket\":\"\"}", "SatelliteUnixSocket");
	parse_bad("{\"SatelliteUnixSocket\":5}", "SatelliteUnixSocket");
	parse_bad("{\"LineBufferBytes\":65537}", "LineBufferBytes");
	parse_bad("{\"Meters\":[]}", "Meters");
	parse_bad("{\"Meters\":[\"histogram\"]}", "Meters");
	parse_bad("{\"Meters\":[\"c\",\"c\",\"c\",\"c\",\"c\",\"c\",\"c\","
	    "\"c\",\"c\"]}", "Meters");
	parse_bad("{\"Protocol\":\"statsd\"}", "spectatord, atlas");
}

static void
test_round_trip(void **state)
{
	struct ltb_control c, d;
	cJSON *o = cJSON_CreateObject();
	char *text, err[256];

	parse_ok(&c, "{\"Protocol\":\"spectatord\",\"SatelliteUdpPorts\":"
	    "[9000],\"SatelliteUnixSocket\":\"/run/s.sock\","
	    "\"LineBufferBytes\":512,\"Meters\":[\"gauge\",\"counter\"]}");
	assert_int_equal(ltb_control_to_json(&c, o), 0);
	text = cJSON_PrintUnformatted(o);
	assert_non_null(text);
	ltb_control_default(&d);
	assert_int_equal(ltb_control_parse(&d, text, strlen(text), err,
	    sizeof err), 0);
	assert_int_equal(d.protocol, LTB_CONTROL_SPECTATORD);
	assert_int_equal(d.nudp, 1);
	assert_int_equal(d.satellite_udp_ports[0], 9000);
	assert_string_equal(d.satellite_unix, "/run/s.sock");
	assert_int_equal(d.line_buffer_bytes, 512);
	assert_string_equal(d.meters, "gc");
	free(text);
	cJSON_Delete(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_metrics_keys),
		cmocka_unit_test(test_metrics_refused),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
