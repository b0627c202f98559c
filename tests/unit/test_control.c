/*
 * test_control.c: the control message (common/run/ltb_control_msg.c):
 * the metrics clients' keys (SatelliteUdpPorts, SatelliteUnixSocket,
 * LineBufferBytes, Meters, the spectatord and atlas protocols) and the
 * OSProfiler clients' (SatelliteRespPorts, the osprofiler protocol, its
 * trace points) read, refused with a reason when wrong, and written back
 * the same; and a satellite group's RESP ports, from its ready and stats
 * records (common/run/ltb_satellite_admin.c) into the message ltb-sample
 * serves, and the --resp arguments of a group it starts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "run/ltb_control_msg.h"
#include "run/ltb_satellite_admin.h"

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

static void
test_osprofiler(void **state)
{
	struct ltb_control c, d;
	cJSON *o = cJSON_CreateObject();
	char *text, err[256];

	ltb_control_default(&c);
	assert_int_equal(c.nresp, 0);
	parse_ok(&c, "{\"Protocol\":\"osprofiler\",\"SatelliteRespPorts\":"
	    "[6379,6380]}");
	assert_int_equal(c.protocol, LTB_CONTROL_OSPROFILER);
	/* the records' name of the unit (ltb_records.c), not its words */
	assert_string_equal(ltb_control_protocol_unit(c.protocol),
	    "trace point");
	assert_int_equal(c.nresp, 2);
	assert_int_equal(c.satellite_resp_ports[0], 6379);
	assert_int_equal(c.satellite_resp_ports[1], 6380);
	assert_int_equal(ltb_control_to_json(&c, o), 0);
	text = cJSON_PrintUnformatted(o);
	assert_non_null(text);
	if (strstr(text, "\"SatelliteRespPorts\":[6379,6380]") == NULL ||
	    strstr(text, "\"Protocol\":\"osprofiler\"") == NULL)
		fail_msg("%s", text);
	ltb_control_default(&d);
	assert_int_equal(ltb_control_parse(&d, text, strlen(text), err,
	    sizeof err), 0);
	assert_int_equal(d.protocol, LTB_CONTROL_OSPROFILER);
	assert_int_equal(d.nresp, 2);
	assert_int_equal(d.satellite_resp_ports[1], 6380);
	free(text);
	cJSON_Delete(o);
	/* an empty list: no RESP port (a tracer's message says so) */
	parse_ok(&c, "{\"SatelliteRespPorts\":[]}");
	assert_int_equal(c.nresp, 0);
}

static void
test_resp_refused(void **state)
{
	parse_bad("{\"SatelliteRespPorts\":[0]}", "SatelliteRespPorts");
	parse_bad("{\"SatelliteRespPorts\":[65536]}", "SatelliteRespPorts");
	parse_bad("{\"SatelliteRespPorts\":[6379.5]}", "SatelliteRespPorts");
	parse_bad("{\"SatelliteRespPorts\":6379}", "SatelliteRespPorts");
	parse_bad("{\"SatelliteRespPorts\":[\"6379\"]}",
	    "SatelliteRespPorts");
	parse_bad("{\"Protocol\":\"zipkin\"}", "atlas, osprofiler)");
}

/* take_ports of the JSON text rec into g: its return. */
static int
take(struct ltb_satgroup *g, const char *rec)
{
	cJSON *r = cJSON_Parse(rec);
	int rc;

	assert_non_null(r);
	memset(g, 0, sizeof *g);
	rc = ltb_satgroup_take_ports(g, r);
	cJSON_Delete(r);
	return rc;
}

static void
test_group_resp_ports(void **state)
{
	struct ltb_satgroup g;

	/* a ready record of --resp */
	assert_int_equal(take(&g, "{\"ports\":[8360],\"udp_ports\":[],"
	    "\"resp_ports\":[6379,6380],\"unix_socket\":null}"), 0);
	assert_int_equal(g.nports, 1);
	assert_int_equal(g.nudp, 0);
	assert_int_equal(g.nresp, 2);
	assert_int_equal(g.resp_ports[1], 6380);
	assert_int_equal(g.resp_known, 1);
	/* without --resp, and from a satellite older than RESP */
	assert_int_equal(take(&g, "{\"ports\":[8360],\"resp_ports\":[]}"),
	    0);
	assert_int_equal(g.nresp, 0);
	assert_int_equal(g.resp_known, 1);
	assert_int_equal(take(&g, "{\"ports\":[8360]}"), 0);
	assert_int_equal(g.nresp, 0);
	assert_int_equal(g.resp_known, 0);
	/* a stats record: its RESP ports are entries of transport tcp, no
	 * HTTP port, beside udp ones */
	assert_int_equal(take(&g, "{\"ports\":[{\"transport\":\"http\","
	    "\"port\":8360},{\"transport\":\"tcp\",\"port\":6379},"
	    "{\"transport\":\"udp\",\"port\":9000}]}"), 0);
	assert_int_equal(g.nports, 1);
	assert_int_equal(g.ports[0], 8360);
	assert_int_equal(g.nresp, 1);
	assert_int_equal(g.resp_ports[0], 6379);
	assert_int_equal(g.nudp, 1);
	assert_int_equal(g.udp_ports[0], 9000);
	/* broken ones */
	assert_int_equal(take(&g, "{\"ports\":[8360],\"resp_ports\":[0]}"),
	    -1);
	assert_int_equal(take(&g, "{\"ports\":[8360],\"resp_ports\":7}"),
	    -1);
	assert_int_equal(take(&g, "{\"ports\":[{\"transport\":\"tcp\","
	    "\"port\":0},{\"port\":8360}]}"), -1);
}

static void
test_resp_args(void **state)
{
	char ports[LTB_CONTROL_MAX_PORTS * 2 + 1], *args[3];

	ltb_satgroup_resp_args(1, ports, args);
	assert_string_equal(args[0], "--resp");
	assert_string_equal(args[1], "0");
	assert_null(args[2]);
	ltb_satgroup_resp_args(3, ports, args);
	assert_string_equal(args[1], "0,0,0");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_metrics_keys),
		cmocka_unit_test(test_metrics_refused),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_osprofiler),
		cmocka_unit_test(test_resp_refused),
		cmocka_unit_test(test_group_resp_ports),
		cmocka_unit_test(test_resp_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
