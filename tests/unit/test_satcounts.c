/*
 * test_satcounts.c: a satellite group's counts as a run reads them
 * (common/run/ltb_satellite_admin.c): /stats parsed into bounded counts, the
 * difference of two snapshots, and the one line that says why a traced
 * run received nothing. The last test does it all against a real
 * ltb-satellite, as ltb-sample does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/ltb_clock.h"

#include "run/ltb_satellite_admin.h"

/* Captured from a real ltb-satellite (its ports array left out): 5 spans,
 * the same 5 again, 2 spans without a context in one report, a POST to
 * the thrift path and a GET on the report path. */
static const char captured[] =
    "{\"type\":\"stats\",\"v\":1,\"pid\":12730,\"mode\":\"typical\","
    "\"up\":true,\"spans_received\":12,\"reports\":3,\"bytes\":11494,"
    "\"invalid_spans\":2,\"duplicate_spans\":6,\"rejected_reports\":1,"
    "\"connections\":5,\"requests\":5,\"rejected\":{\"malformed\":0,"
    "\"too_large\":0,\"slow_fail\":0,\"wrong_method\":1},\"invalid\":{"
    "\"no_context\":2,\"zero_trace_id\":0,\"zero_span_id\":0,"
    "\"no_operation\":0,\"no_start\":0,\"bad_timestamp\":0,"
    "\"bad_reference\":0,\"empty_key\":0},\"unknown_path_requests\":1,"
    "\"unknown_paths\":{\"/_rpc/v1/reports/binary\":1},"
    "\"unknown_paths_other\":0}";

/* A stats record with every count zero; the tests set what they need. */
static const char zeros[] =
    "{\"type\":\"stats\",\"v\":1,\"spans_received\":0,\"reports\":0,"
    "\"bytes\":0,\"invalid_spans\":0,\"duplicate_spans\":0,"
    "\"rejected_reports\":0,\"connections\":0,\"requests\":0,"
    "\"rejected\":{\"malformed\":0,\"too_large\":0,\"slow_fail\":0,"
    "\"wrong_method\":0},\"invalid\":{\"no_context\":0},"
    "\"unknown_path_requests\":0,\"unknown_paths\":{},"
    "\"unknown_paths_other\":0}";

static uint64_t
map_get(const struct ltb_satcount_map *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->e[i].name, name) == 0)
			return m->e[i].n;
	return UINT64_MAX;
}

static void
map_set(struct ltb_satcount_map *m, const char *name, uint64_t n)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->e[i].name, name) == 0) {
			m->e[i].n = n;
			return;
		}
	assert_true(m->n < LTB_SATCOUNT_NAMES);
	snprintf(m->e[m->n].name, sizeof m->e[m->n].name, "%s", name);
	m->e[m->n++].n = n;
}

static struct ltb_satcounts
parsed(const char *json)
{
	struct ltb_satcounts c;
	char err[256] = "";

	memset(&c, 0xa5, sizeof c);	/* parse must set everything */
	if (ltb_satcounts_parse(&c, json, err, sizeof err) != 0)
		fail_msg("parse failed: %s", err);
	return c;
}

static struct ltb_satgroup
group(const char *host, uint16_t p0, uint16_t p1)
{
	struct ltb_satgroup g;

	memset(&g, 0, sizeof g);
	snprintf(g.host, sizeof g.host, "%s", host);
	g.ports[g.nports++] = p0;
	if (p1)
		g.ports[g.nports++] = p1;
	return g;
}

/* ---- parse --------------------------------------------------------- */

static void
parses_a_captured_stats_record(void **unused)
{
	struct ltb_satcounts c = parsed(captured);

	assert_int_equal(c.spans_received, 12);
	assert_int_equal(c.spans_invalid, 2);
	assert_int_equal(c.spans_duplicate, 6);
	assert_int_equal(c.reports, 3);
	assert_int_equal(c.reports_rejected, 1);
	assert_int_equal(c.bytes, 11494);
	assert_int_equal(c.connections, 5);
	assert_int_equal(c.requests, 5);
	assert_int_equal(c.unknown_path_requests, 1);
	assert_int_equal(c.invalid_by_reason.n, 8);
	assert_int_equal(map_get(&c.invalid_by_reason, "no_context"), 2);
	assert_int_equal(map_get(&c.invalid_by_reason, "empty_key"), 0);
	assert_int_equal(c.invalid_by_reason.other, 0);
	assert_int_equal(c.rejected_by_reason.n, 4);
	assert_int_equal(map_get(&c.rejected_by_reason, "wrong_method"), 1);
	assert_int_equal(c.unknown_paths.n, 1);
	assert_string_equal(c.unknown_paths.e[0].name,
	    "/_rpc/v1/reports/binary");
	assert_int_equal(c.unknown_paths.e[0].n, 1);
	assert_int_equal(c.unknown_paths.other, 0);
}

static void
refuses_what_is_not_a_stats_record(void **unused)
{
	static const char *const bad[] = {
		"", "not json", "[]", "{\"type\":\"ready\",\"v\":1}",
		/* a count missing, or not a count */
		"{\"type\":\"stats\",\"v\":1,\"spans_received\":1}",
		"{\"type\":\"stats\",\"v\":1,\"spans_received\":\"1\","
		    "\"reports\":0,\"bytes\":0,\"invalid_spans\":0,"
		    "\"duplicate_spans\":0,\"rejected_reports\":0,"
		    "\"connections\":0,\"requests\":0,"
		    "\"unknown_path_requests\":0}",
		"{\"type\":\"stats\",\"v\":1,\"spans_received\":-1,"
		    "\"reports\":0,\"bytes\":0,\"invalid_spans\":0,"
		    "\"duplicate_spans\":0,\"rejected_reports\":0,"
		    "\"connections\":0,\"requests\":0,"
		    "\"unknown_path_requests\":0}",
	};
	struct ltb_satcounts c;
	char err[256];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		assert_int_equal(ltb_satcounts_parse(&c, bad[i], err,
		    sizeof err), -1);
		assert_true(strlen(err) > 0);
	}
	ltb_satcounts_parse(&c, "{\"type\":\"stats\",\"v\":1}", err,
	    sizeof err);
	assert_non_null(strstr(err, "spans_received"));
}

static void
keeps_names_bounded_and_safe(void **unused)
{
	char json[8192], *p = json;
	struct ltb_satcounts c;
	char err[256];

	p += sprintf(p, "{\"type\":\"stats\",\"v\":1,\"spans_received\":0,"
	    "\"reports\":0,\"bytes\":0,\"invalid_spans\":0,"
	    "\"duplicate_spans\":0,\"rejected_reports\":0,"
	    "\"connections\":30,\"requests\":30,"
	    "\"unknown_path_requests\":30,\"unknown_paths_other\":7,"
	    "\"unknown_paths\":{\"/x\\ny\\\"z\":1,\"/");
	for (int i = 0; i < 100; i++)
		*p++ = 'a';
	p += sprintf(p, "\":1");
	for (int i = 0; i < 20; i++)
		p += sprintf(p, ",\"/p%d\":1", i);
	sprintf(p, "}}");
	assert_int_equal(ltb_satcounts_parse(&c, json, err, sizeof err), 0);
	assert_int_equal(c.unknown_paths.n, LTB_SATCOUNT_NAMES);
	/* 22 paths: 16 by name, 6 summed with the satellite's own 7. */
	assert_int_equal(c.unknown_paths.other, 13);
	assert_string_equal(c.unknown_paths.e[0].name, "/x?y?z");
	assert_int_equal(strlen(c.unknown_paths.e[1].name),
	    LTB_SATCOUNT_NAME_LEN);
}

/* ---- diff ---------------------------------------------------------- */

static void
diff_is_after_minus_before_name_by_name(void **unused)
{
	struct ltb_satcounts before = parsed(captured), after = before, d;

	after.spans_received += 110;
	after.spans_duplicate += 50;
	after.spans_invalid += 10;
	after.reports += 4;
	after.connections += 2;
	after.requests += 6;
	after.unknown_path_requests += 2;
	map_set(&after.invalid_by_reason, "no_context", 12);
	map_set(&after.rejected_by_reason, "malformed", 1);
	map_set(&after.unknown_paths, "/_rpc/v1/reports/binary", 2);
	map_set(&after.unknown_paths, "/made/up", 1);
	after.unknown_paths.other = 3;
	ltb_satcounts_diff(&d, &after, &before);
	assert_int_equal(d.spans_received, 110);
	assert_int_equal(d.spans_duplicate, 50);
	assert_int_equal(d.spans_invalid, 10);
	assert_int_equal(d.reports, 4);
	assert_int_equal(d.reports_rejected, 0);
	assert_int_equal(d.connections, 2);
	assert_int_equal(d.requests, 6);
	assert_int_equal(d.unknown_path_requests, 2);
	assert_int_equal(map_get(&d.invalid_by_reason, "no_context"), 10);
	assert_int_equal(map_get(&d.invalid_by_reason, "no_start"), 0);
	assert_int_equal(map_get(&d.rejected_by_reason, "malformed"), 1);
	assert_int_equal(map_get(&d.rejected_by_reason, "wrong_method"), 0);
	assert_int_equal(map_get(&d.unknown_paths, "/_rpc/v1/reports/binary"),
	    1);
	assert_int_equal(map_get(&d.unknown_paths, "/made/up"), 1);
	assert_int_equal(d.unknown_paths.other, 3);
	assert_int_equal(ltb_satcounts_intact(&d), 50);
	/* In place, too. */
	ltb_satcounts_diff(&after, &after, &before);
	assert_int_equal(after.spans_received, 110);
	assert_int_equal(map_get(&after.invalid_by_reason, "no_context"), 10);
}

static void
diff_after_a_reset_is_what_came_since(void **unused)
{
	struct ltb_satcounts before = parsed(captured), after = parsed(zeros);
	struct ltb_satcounts d;

	after.spans_received = 4;
	map_set(&after.invalid_by_reason, "no_context", 1);
	ltb_satcounts_diff(&d, &after, &before);
	assert_int_equal(d.spans_received, 4);
	assert_int_equal(d.spans_duplicate, 0);
	assert_int_equal(d.connections, 0);
	assert_int_equal(map_get(&d.invalid_by_reason, "no_context"), 1);
	/* Names only before are gone. */
	assert_int_equal(d.unknown_paths.n, 0);
	assert_int_equal(map_get(&d.invalid_by_reason, "empty_key"),
	    UINT64_MAX);
}

static void
intact_is_never_negative(void **unused)
{
	struct ltb_satcounts c = parsed(zeros);

	c.spans_received = 3;
	c.spans_duplicate = 3;
	c.spans_invalid = 2;
	assert_int_equal(ltb_satcounts_intact(&c), 0);
	c.spans_received = 10;
	assert_int_equal(ltb_satcounts_intact(&c), 5);
}

static void
refused_counts_are_read_and_zero_from_an_older_satellite(void **unused)
{
	struct ltb_satcounts c = parsed(captured);
	char json[sizeof captured + 128], err[256];

	assert_int_equal(c.spans_refused, 0);
	assert_int_equal(c.spans_refused_new, 0);
	assert_int_equal(c.spans_retried, 0);
	snprintf(json, sizeof json, "%.*s,\"refused_spans\":30,"
	    "\"refused_new_spans\":10,\"retried_spans\":4}",
	    (int)(sizeof captured - 2), captured);
	c = parsed(json);
	assert_int_equal(c.spans_refused, 30);
	assert_int_equal(c.spans_refused_new, 10);
	assert_int_equal(c.spans_retried, 4);
	snprintf(json, sizeof json, "%.*s,\"retried_spans\":-1}",
	    (int)(sizeof captured - 2), captured);
	assert_int_equal(ltb_satcounts_parse(&c, json, err, sizeof err), -1);
	assert_non_null(strstr(err, "retried_spans is not a count"));
}

static void
socket_drops_are_read_diffed_and_zero_from_an_older_satellite(void **unused)
{
	struct ltb_satcounts before = parsed(captured), after, d;
	char json[sizeof captured + 128], err[256];

	assert_int_equal(before.socket_drops, 0);
	snprintf(json, sizeof json, "%.*s,\"socket_drops\":17}",
	    (int)(sizeof captured - 2), captured);
	after = parsed(json);
	assert_int_equal(after.socket_drops, 17);
	ltb_satcounts_diff(&d, &after, &before);
	assert_int_equal(d.socket_drops, 17);
	snprintf(json, sizeof json, "%.*s,\"socket_drops\":\"x\"}",
	    (int)(sizeof captured - 2), captured);
	assert_int_equal(ltb_satcounts_parse(&d, json, err, sizeof err), -1);
	assert_non_null(strstr(err, "socket_drops is not a count"));
}

/* 100 spans sent; a 429 refused 40 of them; a retry got 30 through, 10
 * given up. 140 arrived: 100 new, 40 again (the 30 retried, 10 refused
 * twice). Intact: the 60 never refused and the 30 retried. */
static void
intact_leaves_out_what_was_refused_and_never_got_through(void **unused)
{
	struct ltb_satcounts before = parsed(zeros), after = before, d;

	after.spans_received = 140;
	after.spans_duplicate = 40;
	after.spans_refused = 50;
	after.spans_refused_new = 40;
	after.spans_retried = 30;
	ltb_satcounts_diff(&d, &after, &before);
	assert_int_equal(d.spans_refused, 50);
	assert_int_equal(d.spans_refused_new, 40);
	assert_int_equal(d.spans_retried, 30);
	assert_int_equal(ltb_satcounts_refused_only(&d), 10);
	assert_int_equal(ltb_satcounts_intact(&d), 90);
	/* More retried than refused in a window (refused before it began):
	 * none is counted refused only. */
	d.spans_retried = 50;
	assert_int_equal(ltb_satcounts_refused_only(&d), 0);
}

static void
map_json_writes_every_name(void **unused)
{
	struct ltb_satcounts c = parsed(captured);
	cJSON *o = cJSON_CreateObject();
	char *s;

	c.unknown_paths.other = 2;
	assert_int_equal(ltb_satcount_map_json(o, "r",
	    &c.rejected_by_reason), 0);
	assert_int_equal(ltb_satcount_map_json(o, "u", &c.unknown_paths), 0);
	s = cJSON_PrintUnformatted(o);
	assert_string_equal(s, "{\"r\":{\"malformed\":0,\"too_large\":0,"
	    "\"slow_fail\":0,\"wrong_method\":1},\"u\":{"
	    "\"/_rpc/v1/reports/binary\":1,\"other\":2}}");
	cJSON_free(s);
	cJSON_Delete(o);
}

/* ---- where and why ------------------------------------------------- */

static void
where_names_host_and_ports(void **unused)
{
	struct ltb_satgroup g = group("127.0.0.1", 8360, 8361);
	char buf[64];

	ltb_satgroup_where(&g, buf, sizeof buf);
	assert_string_equal(buf, "127.0.0.1:8360,8361");
	g = group("::1", 8360, 0);
	ltb_satgroup_where(&g, buf, sizeof buf);
	assert_string_equal(buf, "[::1]:8360");
	ltb_satgroup_where(&g, buf, 4);
	assert_string_equal(buf, "[::");
}

static void
diagnoses_no_connection(void **unused)
{
	struct ltb_satgroup g = group("127.0.0.1", 8360, 8361);
	struct ltb_satcounts d = parsed(zeros);
	char buf[512];

	assert_int_equal(ltb_satcounts_diagnose(&d, &g, buf, sizeof buf), 1);
	assert_string_equal(buf, "no connection reached the satellites at "
	    "127.0.0.1:8360,8361: is the client pointed at the right host "
	    "and ports?");
}

static void
diagnoses_connections_without_a_request(void **unused)
{
	struct ltb_satgroup g = group("127.0.0.1", 8360, 0);
	struct ltb_satcounts d = parsed(zeros);
	char buf[512];

	d.connections = 2;
	assert_int_equal(ltb_satcounts_diagnose(&d, &g, buf, sizeof buf), 1);
	assert_string_equal(buf, "2 connections reached the satellites at "
	    "127.0.0.1:8360 but sent no HTTP request: is the client speaking "
	    "TLS or another protocol to them?");
}

static void
diagnoses_failed_tls_handshakes(void **unused)
{
	struct ltb_satgroup g = group("127.0.0.1", 8360, 0);
	struct ltb_satcounts d = parsed(zeros), a, b;
	char buf[512];

	d.connections = 3;
	d.tls_failures = 3;
	assert_int_equal(ltb_satcounts_diagnose(&d, &g, buf, sizeof buf), 1);
	assert_string_equal(buf, "3 connections to the satellites at "
	    "127.0.0.1:8360 failed the TLS handshake: they serve TLS (--tls); "
	    "is the client reporting over https (Tls in its control "
	    "message)?");
	/* read from /stats, and subtracted like every count */
	assert_int_equal(ltb_satcounts_parse(&a, "{\"type\":\"stats\","
	    "\"spans_received\":0,\"invalid_spans\":0,\"duplicate_spans\":0,"
	    "\"reports\":0,\"rejected_reports\":0,\"bytes\":0,"
	    "\"connections\":9,\"requests\":0,\"unknown_path_requests\":0,"
	    "\"tls_handshake_failures\":7}", buf, sizeof buf), 0);
	b = a;
	b.tls_failures = 2;
	ltb_satcounts_diff(&d, &a, &b);
	assert_int_equal(d.tls_failures, 5);
}

static void
diagnoses_paths_no_protocol_serves(void **unused)
{
	struct ltb_satgroup g = group("127.0.0.1", 8360, 8361);
	struct ltb_satcounts d = parsed(zeros);
	char buf[1024];

	d.connections = 1;
	d.requests = d.unknown_path_requests = 6;
	map_set(&d.unknown_paths, "/api/v2/spans", 3);
	map_set(&d.unknown_paths, "/made/up", 1);
	d.unknown_paths.other = 2;
	assert_int_equal(ltb_satcounts_diagnose(&d, &g, buf, sizeof buf), 1);
	assert_string_equal(buf, "the satellites at 127.0.0.1:8360,8361 "
	    "received no intact span: 6 requests to paths no protocol serves "
	    "(ltb serves POST /api/v2/reports, POST /_rpc/v1/reports/binary, "
	    "POST /v1/traces, POST /api/v1/publish, POST /api/v0/reports): "
	    "/api/v2/spans 3 (Zipkin, which ltb does not serve), "
	    "/made/up 1, other paths 2");
}

static void
names_the_transports_it_knows(void **unused)
{
	struct ltb_satgroup g = group("127.0.0.1", 8360, 0);
	struct ltb_satcounts d = parsed(zeros);
	char buf[1024];

	d.connections = 1;
	d.requests = d.unknown_path_requests = 2;
	map_set(&d.unknown_paths, "/api/traces", 1);
	map_set(&d.unknown_paths, "/v1/metrics", 1);
	assert_int_equal(ltb_satcounts_diagnose(&d, &g, buf, sizeof buf), 1);
	assert_non_null(strstr(buf, "/api/traces 1 (Jaeger's HTTP thrift"));
	assert_non_null(strstr(buf, "/v1/metrics 1 (OTLP/HTTP metrics"));
}

static void
diagnoses_rejected_reports_by_reason(void **unused)
{
	struct ltb_satgroup g = group("127.0.0.1", 8360, 0);
	struct ltb_satcounts d = parsed(zeros);
	char buf[1024];

	d.connections = 3;
	d.requests = 4;
	d.reports_rejected = 4;
	map_set(&d.rejected_by_reason, "malformed", 2);
	map_set(&d.rejected_by_reason, "too_large", 1);
	map_set(&d.rejected_by_reason, "slow_fail", 1);
	assert_int_equal(ltb_satcounts_diagnose(&d, &g, buf, sizeof buf), 1);
	assert_string_equal(buf, "the satellites at 127.0.0.1:8360 received "
	    "no intact span: 4 reports rejected: malformed 2, too_large 1 "
	    "(over --max-body), slow_fail 1 (satellites in slow_fail mode)");
}

static void
diagnoses_spans_all_broken_or_twice(void **unused)
{
	struct ltb_satgroup g = group("127.0.0.1", 8360, 0);
	struct ltb_satcounts d = parsed(zeros);
	char buf[1024];

	d.connections = 1;
	d.requests = d.reports = 2;
	d.spans_received = 12;
	d.spans_invalid = 2;
	d.spans_duplicate = 10;
	map_set(&d.invalid_by_reason, "no_context", 2);
	assert_int_equal(ltb_satcounts_diagnose(&d, &g, buf, sizeof buf), 1);
	assert_string_equal(buf, "the satellites at 127.0.0.1:8360 received "
	    "no intact span: 12 spans arrived, none intact: 2 invalid "
	    "(no_context 2), 10 duplicates");
}

static void
diagnoses_empty_reports_and_other_requests(void **unused)
{
	struct ltb_satgroup g = group("127.0.0.1", 8360, 0);
	struct ltb_satcounts d = parsed(zeros);
	char buf[1024];

	d.connections = 1;
	d.requests = d.reports = 3;
	assert_int_equal(ltb_satcounts_diagnose(&d, &g, buf, sizeof buf), 1);
	assert_string_equal(buf, "the satellites at 127.0.0.1:8360 received "
	    "no intact span: 3 reports held no span");
	d.reports = 0;
	assert_int_equal(ltb_satcounts_diagnose(&d, &g, buf, sizeof buf), 1);
	assert_string_equal(buf, "the satellites at 127.0.0.1:8360 received "
	    "no intact span: 3 requests, none of them a report");
}

static void
says_nothing_when_intact_spans_arrived(void **unused)
{
	struct ltb_satgroup g = group("127.0.0.1", 8360, 0);
	struct ltb_satcounts d = parsed(captured);
	char buf[64] = "x";

	assert_int_equal(ltb_satcounts_diagnose(&d, &g, buf, sizeof buf), 0);
	assert_string_equal(buf, "");
}

static void
a_short_buffer_is_cut_not_overrun(void **unused)
{
	struct ltb_satgroup g = group("127.0.0.1", 8360, 8361);
	struct ltb_satcounts d = parsed(zeros);
	char buf[32];

	memset(buf, 'z', sizeof buf);
	assert_int_equal(ltb_satcounts_diagnose(&d, &g, buf, 20), 1);
	assert_int_equal(strlen(buf), 19);
	assert_int_equal(buf[20], 'z');
	/* Every name at its longest still fits a 1 KiB line, cut. */
	d.connections = 1;
	d.requests = d.unknown_path_requests = 16;
	for (int i = 0; i < LTB_SATCOUNT_NAMES; i++) {
		char name[LTB_SATCOUNT_NAME_LEN + 1];

		memset(name, 'a' + i, LTB_SATCOUNT_NAME_LEN);
		name[LTB_SATCOUNT_NAME_LEN] = '\0';
		map_set(&d.unknown_paths, name, 1);
	}
	{
		char line[1024];

		assert_int_equal(ltb_satcounts_diagnose(&d, &g, line,
		    sizeof line), 1);
		assert_int_equal(strlen(line), sizeof line - 1);
		assert_null(strchr(line, '\n'));
	}
}

/* ---- against a real satellite ------------------------------------- */

static size_t
ignore(char *p, size_t size, size_t n, void *cls)
{
	return size * n;
}

static long
post_to(uint16_t port, const char *path)
{
	char url[128];
	long status = 0;
	CURL *c = curl_easy_init();

	assert_non_null(c);
	snprintf(url, sizeof url, "http://127.0.0.1:%u%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, "x");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ignore);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	return status;
}

/* Connect and hang up without a word. */
static void
connect_only(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
	    .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	close(fd);
}

/* The group, stopped by the teardown even when an assertion fails. */
static struct ltb_satgroup g;

static int
stop_group(void **unused)
{
	if (g.pid > 0)
		ltb_satgroup_stop(&g);
	return 0;
}

static void
counts(struct ltb_satcounts *c)
{
	char err[256];

	if (ltb_satgroup_counts(&g, c, err, sizeof err) < 0)
		fail_msg("%s", err);
}

static void
diagnoses_a_real_satellite_group(void **unused)
{
	const char *build = getenv("LTB_BUILD");
	struct ltb_satcounts before, after, d;
	char sat[512], err[256], line[1024], where[128], want[512];
	double end;

	snprintf(sat, sizeof sat, "%s/bin/ltb-satellite",
	    build != NULL ? build : "build");
	if (access(sat, X_OK) != 0)
		fail_msg("no %s: build it first", sat);
	if (ltb_satgroup_spawn(&g, sat, 2, NULL, err, sizeof err) < 0)
		fail_msg("%s", err);
	counts(&before);
	/* Nothing since: as a run whose client never found us. */
	counts(&after);
	ltb_satcounts_diff(&d, &after, &before);
	assert_int_equal(ltb_satcounts_diagnose(&d, &g, line, sizeof line), 1);
	ltb_satgroup_where(&g, where, sizeof where);
	snprintf(want, sizeof want, "no connection reached the satellites at "
	    "%s: is the client pointed at the right host and ports?", where);
	assert_string_equal(line, want);
	/* A Zipkin tracer, and one that only connects. */
	assert_int_equal(post_to(g.ports[0], "/api/v2/spans"), 404);
	assert_int_equal(post_to(g.ports[1], "/api/v2/spans"), 404);
	connect_only(g.ports[1]);
	end = ltb_mono_s() + 5;
	do {
		counts(&after);
		ltb_satcounts_diff(&d, &after, &before);
	} while (d.connections < 3 && ltb_mono_s() < end);
	ltb_satgroup_stop(&g);
	assert_int_equal(d.connections, 3);
	assert_int_equal(d.requests, 2);
	assert_int_equal(d.unknown_path_requests, 2);
	assert_int_equal(d.spans_received, 0);
	assert_int_equal(ltb_satcounts_diagnose(&d, &g, line, sizeof line), 1);
	snprintf(want, sizeof want, "the satellites at %s received no intact "
	    "span: 2 requests to paths no protocol serves (ltb serves POST "
	    "/api/v2/reports, POST /_rpc/v1/reports/binary, POST /v1/traces, "
	    "POST /api/v1/publish, POST /api/v0/reports): /api/v2/spans 2 "
	    "(Zipkin, which ltb does not serve)", where);
	assert_string_equal(line, want);
}

/* A port of 127.0.0.1 held by a listener of ours (*fd), or, with
 * keep 0, one that was free a moment ago. */
static uint16_t
loopback_port(int keep, int *fd)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof a;

	*fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(*fd >= 0);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(bind(*fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(*fd, 4), 0);
	assert_int_equal(getsockname(*fd, (struct sockaddr *)&a, &len), 0);
	if (!keep) {
		close(*fd);
		*fd = -1;
	}
	return ntohs(a.sin_port);
}

/* The ports wanted, or a busy one said and free ports instead, or not. */
static void
spawns_on_wanted_ports_or_falls_back(void **unused)
{
	const char *build = getenv("LTB_BUILD");
	char sat[512], err[512], busy[512], want_err[128];
	uint16_t want[2];
	int held, none;

	snprintf(sat, sizeof sat, "%s/bin/ltb-satellite",
	    build != NULL ? build : "build");
	if (access(sat, X_OK) != 0)
		fail_msg("no %s: build it first", sat);
	want[0] = loopback_port(1, &held);
	want[1] = 0;
	snprintf(want_err, sizeof want_err, "cannot bind 127.0.0.1:%u: "
	    "Address already in use", want[0]);
	/* An explicit list does not fall back. */
	assert_int_equal(ltb_satgroup_spawn_on(&g, sat, want, 2, 0, NULL,
	    busy, sizeof busy, err, sizeof err), -1);
	assert_string_equal(err, want_err);
	assert_int_equal(g.pid, 0);
	/* The default does, and says why. */
	assert_int_equal(ltb_satgroup_spawn_on(&g, sat, want, 2, 1, NULL,
	    busy, sizeof busy, err, sizeof err), 1);
	assert_string_equal(busy, want_err);
	assert_int_equal(g.nports, 2);
	assert_int_not_equal(g.ports[0], want[0]);
	assert_int_not_equal(g.ports[0], 0);
	ltb_satgroup_stop(&g);
	close(held);
	/* Free ones are taken. */
	want[0] = loopback_port(0, &none);
	want[1] = loopback_port(0, &none);
	assert_int_equal(ltb_satgroup_spawn_on(&g, sat, want, 2, 0, NULL,
	    busy, sizeof busy, err, sizeof err), 0);
	assert_string_equal(busy, "");
	assert_int_equal(g.nports, 2);
	assert_int_equal(g.ports[0], want[0]);
	assert_int_equal(g.ports[1], want[1]);
}

/* The host tracers are sent to, from an admin URL and a bind address. */
static const char *
host_of(const char *url, const char *bind)
{
	static char host[64];
	char err[256];

	if (ltb_satgroup_host(url, bind, host, sizeof host, err,
	    sizeof err) < 0)
		snprintf(host, sizeof host, "error");
	return host;
}

static void
host_is_the_bind_address_or_the_admin_urls(void **unused)
{
	assert_string_equal(host_of("http://127.0.0.1:8359", "127.0.0.1"),
	    "127.0.0.1");
	/* The ports' own address wins over how the admin port was reached. */
	assert_string_equal(host_of("http://127.0.0.1:8359", "127.0.0.2"),
	    "127.0.0.2");
	assert_string_equal(host_of("http://127.0.0.1:8359", "fd00::2"),
	    "fd00::2");
	/* On every address, or unsaid: the admin URL's host, unbracketed. */
	assert_string_equal(host_of("http://127.0.0.1:8359", "0.0.0.0"),
	    "127.0.0.1");
	assert_string_equal(host_of("http://[::1]:8359", "::"), "::1");
	assert_string_equal(host_of("http://[::1]:8359/", NULL), "::1");
	assert_string_equal(host_of("http://[::1]", NULL), "::1");
	assert_string_equal(host_of("http://localhost:8359", NULL),
	    "localhost");
	assert_string_equal(host_of("http://10.1.2.3", "not an address"),
	    "10.1.2.3");
	assert_string_equal(host_of("not a url", NULL), "error");
}

/* ---- the group's sockets from its records -------------------------- */

/* take_ports of the JSON text rec into g: its return. */
static int
take(struct ltb_satgroup *sg, const char *json)
{
	cJSON *rec = cJSON_Parse(json);
	int rc;

	assert_non_null(rec);
	memset(sg, 0xa5, sizeof *sg);
	rc = ltb_satgroup_take_ports(sg, rec);
	cJSON_Delete(rec);
	return rc;
}

static void
datagram_sockets_of_ready_and_stats_records(void **unused)
{
	struct ltb_satgroup sg;

	/* an older ready record: HTTP ports only, datagrams unknown */
	assert_int_equal(take(&sg, "{\"bind\":\"127.0.0.1\",\"ports\":[8360,"
	    "8361]}"), 0);
	assert_int_equal(sg.nports, 2);
	assert_int_equal(sg.nudp, 0);
	assert_string_equal(sg.unix_socket, "");
	assert_int_equal(sg.datagrams_known, 0);
	/* a ready record of --udp and --unix */
	assert_int_equal(take(&sg, "{\"ports\":[8360],\"udp_ports\":[9000,"
	    "9001],\"unix_socket\":\"/tmp/x.sock\"}"), 0);
	assert_int_equal(sg.nports, 1);
	assert_int_equal(sg.nudp, 2);
	assert_int_equal(sg.udp_ports[1], 9001);
	assert_string_equal(sg.unix_socket, "/tmp/x.sock");
	assert_int_equal(sg.datagrams_known, 1);
	assert_string_equal(sg.host, "127.0.0.1");
	/* none of them: known to be none */
	assert_int_equal(take(&sg, "{\"ports\":[8360],\"udp_ports\":[],"
	    "\"unix_socket\":null}"), 0);
	assert_int_equal(sg.datagrams_known, 1);
	assert_int_equal(sg.nudp, 0);
	assert_string_equal(sg.unix_socket, "");
	/* a stats record: per-port entries by transport, and only the HTTP
	 * ones are where tracers POST */
	assert_int_equal(take(&sg, "{\"ports\":[{\"transport\":\"http\","
	    "\"port\":8360},{\"port\":8361},{\"transport\":\"udp\","
	    "\"port\":9000},{\"transport\":\"unix_dgram\",\"port\":0,"
	    "\"path\":\"/tmp/s.sock\"},{\"transport\":\"tcp\",\"port\":"
	    "6379}]}"), 0);
	assert_int_equal(sg.nports, 2);
	assert_int_equal(sg.ports[1], 8361);
	assert_int_equal(sg.nudp, 1);
	assert_int_equal(sg.udp_ports[0], 9000);
	assert_string_equal(sg.unix_socket, "/tmp/s.sock");
	assert_int_equal(sg.datagrams_known, 1);
	/* broken ones */
	assert_int_equal(take(&sg, "{\"ports\":[8360],\"udp_ports\":[0]}"),
	    -1);
	assert_int_equal(take(&sg, "{\"ports\":[8360],\"udp_ports\":7}"),
	    -1);
	assert_int_equal(take(&sg, "{\"ports\":[8360],\"unix_socket\":3}"),
	    -1);
	assert_int_equal(take(&sg, "{\"ports\":[{\"transport\":\"udp\","
	    "\"port\":9000}]}"), -1);	/* no HTTP port at all */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_a_captured_stats_record),
		cmocka_unit_test(refuses_what_is_not_a_stats_record),
		cmocka_unit_test(keeps_names_bounded_and_safe),
		cmocka_unit_test(diff_is_after_minus_before_name_by_name),
		cmocka_unit_test(diff_after_a_reset_is_what_came_since),
		cmocka_unit_test(intact_is_never_negative),
		cmocka_unit_test(
		    refused_counts_are_read_and_zero_from_an_older_satellite),
		cmocka_unit_test(
		    intact_leaves_out_what_was_refused_and_never_got_through),
		cmocka_unit_test(map_json_writes_every_name),
		cmocka_unit_test(where_names_host_and_ports),
		cmocka_unit_test(host_is_the_bind_address_or_the_admin_urls),
		cmocka_unit_test(diagnoses_no_connection),
		cmocka_unit_test(diagnoses_connections_without_a_request),
		cmocka_unit_test(diagnoses_failed_tls_handshakes),
		cmocka_unit_test(diagnoses_paths_no_protocol_serves),
		cmocka_unit_test(names_the_transports_it_knows),
		cmocka_unit_test(diagnoses_rejected_reports_by_reason),
		cmocka_unit_test(diagnoses_spans_all_broken_or_twice),
		cmocka_unit_test(diagnoses_empty_reports_and_other_requests),
		cmocka_unit_test(says_nothing_when_intact_spans_arrived),
		cmocka_unit_test(a_short_buffer_is_cut_not_overrun),
		cmocka_unit_test(datagram_sockets_of_ready_and_stats_records),
		cmocka_unit_test(
		    socket_drops_are_read_diffed_and_zero_from_an_older_satellite),
		cmocka_unit_test_teardown(diagnoses_a_real_satellite_group,
		    stop_group),
		cmocka_unit_test_teardown(spawns_on_wanted_ports_or_falls_back,
		    stop_group),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
