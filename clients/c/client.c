/*
 * client.c: ltb's built-in reference client, ltb-client-c.
 *
 * It follows the client contract (ltb-client(7)): GET the control message
 * from LTB_CONTROL_URL once (default http://127.0.0.1:8024/control; any
 * URL libcurl reads, file:// included), then generate exactly Repeat spans
 * the way the original clients did: chains of up to 6 nested spans, a
 * client request calling a server calling a database, each span a ChildOf
 * the one before, each doing Work floating-point multiplications with
 * NumTags tags and NumLogs logs. Sleep ns of sleep debt accrue per span;
 * whenever the debt exceeds SleepInterval the client sleeps SleepInterval
 * ns and pays that much back. With Trace the spans go through ltb_tracer
 * to the satellites; without, through its NoOp tracer, the same calls, so
 * the two runs differ by tracing alone. The tracer speaks the message's
 * Protocol (LightStep or OTLP), over https when Tls, verifying the
 * satellites' certificate only when TlsCaFile names a CA.
 *
 * With Trace and PlantedNsPerSpan N > 0 each span also burns N ns of CPU
 * on this thread, between its start and its finish (plant.c): a known
 * cost beside the tracer's, the ground truth ltb checks its own figures
 * against. NoOp runs plant nothing.
 *
 * stdout: one JSON line at the end,
 *   {"type":"client","v":1,"client":"c","trace":B,"spans_sent":N,
 *    "dropped":D,"reports_ok":R,"reports_failed":F,
 *    "tracer":"ltb-tracer lightstep 0.9","planted_ns":P,
 *    "planted_ns_measured":M}
 * where spans_sent is the spans generated (Repeat) and dropped those the
 * tracer lost: buffer full, failed reports, and with NoFlush whatever was
 * still buffered at the end. tracer names the tracer, the protocol it
 * spoke and its version ("noop" without Trace); planted_ns is what each
 * span planted (0 in NoOp runs) and planted_ns_measured, there when
 * something was, the mean CPU ns a span's planting took, as timed.
 * Human messages go to stderr.
 *
 * Exit: 0 done (drops are data, not failures); 2 the control message
 * cannot be fetched or is malformed; 3 system failure (the tracer cannot
 * start, stdout cannot be written).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "run/ltb_control_msg.h"
#include "core/ltb_clock.h"
#include "core/ltb_log.h"
#include "client/ltb_client_loop.h"
#include "client/ltb_tracer.h"
#include "plant.h"

#define FLUSH_TIMEOUT_MS 5000		/* > a POST's 2 s, twice */

/* A chain, outermost first: a client request served through a stack. */
static const char *const operations[LTB_SPANS_PER_CHAIN] = {
	"client/request", "server/handle", "auth/verify", "cache/lookup",
	"db/query", "db/read",
};

/* The first tags are what instrumented services set; more are numbered. */
static const char *const tag_keys[] = {
	"http.url", "http.method", "http.status_code", "component",
	"span.kind", "peer.hostname", "db.type", "user.id", "region", "error",
};
static const char *const tag_values[] = {
	"https://example.com/api/v1/resource/12345", "GET", "200",
	"net/http", "server", "db-03.internal", "postgresql", "u-00012345",
	"us-east-1", "false",
};
#define NTAGTAB (sizeof tag_keys / sizeof tag_keys[0])

static const char *const events[] = {
	"cache miss", "query started", "rows fetched: 42", "retrying",
	"connection acquired", "lock wait", "response written",
	"token validated", "payload decoded", "cache hit", "timeout set",
	"pool exhausted", "request parsed", "headers sent", "flush done",
};
#define NEVENTS (sizeof events / sizeof events[0])

struct run {
	struct ltb_tracer *t;
	const struct ltb_control *c;
	const char **keys, **values;	/* NumTags of each, outlive t */
	struct plant *plant;		/* PlantedNsPerSpan's */
};

/* One span of a chain, then the rest of the chain inside it. */
static void
chain(const struct run *r, const struct ltb_span_context *parent,
    unsigned depth, unsigned left)
{
	const struct ltb_control *c = r->c;
	struct ltb_span *s;
	unsigned i;

	s = ltb_span_start(r->t, operations[depth], parent);
	for (i = 0; i < c->num_tags; i++)
		ltb_span_set_tag(s, r->keys[i], r->values[i]);
	ltb_client_work(c->work);
	plant_span(r->plant);
	for (i = 0; i < c->num_logs; i++)
		ltb_span_log(s, "event", events[i % NEVENTS]);
	if (left > 1)
		chain(r, ltb_span_context(s), depth + 1, left - 1);
	ltb_span_finish(s);
}

/* Sleep, and tell the plant: the time is not CPU. */
static void
pause_ns(void *ctx, uint64_t ns)
{
	const struct run *r = ctx;
	uint64_t t;

	if (r->plant->ns == 0) {
		ltb_client_sleep_ns(ns);
		return;
	}
	t = ltb_mono_ns();
	ltb_client_sleep_ns(ns);
	plant_slept(r->plant, ltb_mono_ns() - t);
}

static void
generate(const struct run *r)
{
	const struct ltb_control *c = r->c;
	struct ltb_client_pace pace;
	uint64_t sent;
	unsigned k;

	ltb_client_pace_init(&pace, c, pause_ns, (void *)r);
	for (sent = 0; sent < c->repeat; sent += k) {
		k = c->repeat - sent < LTB_SPANS_PER_CHAIN ?
		    (unsigned)(c->repeat - sent) : LTB_SPANS_PER_CHAIN;
		chain(r, NULL, 0, k);
		ltb_client_pace_add(&pace, k);
	}
	ltb_client_pace_finish(&pace);
}

static struct ltb_tracer *
make_tracer(const struct ltb_control *c)
{
	struct ltb_tracer_config tc;
	struct ltb_tracer *t;
	char err[256];

	if (!c->trace) {
		if ((t = ltb_tracer_noop()) == NULL)
			ltb_die(LTB_EXIT_SYS, "cannot make the NoOp tracer: "
			    "out of memory");
		return t;
	}
	ltb_tracer_config_default(&tc);
	tc.host = c->satellite_host;
	tc.ports = c->satellite_ports;
	tc.nports = c->nports;
	tc.reporting_period_ms = c->reporting_period_ms;
	tc.max_buffered_spans = c->max_buffered_spans;
	tc.component_name = "ltb-client-c";
	tc.protocol = c->protocol == LTB_CONTROL_OTLP ? LTB_TRACER_OTLP :
	    LTB_TRACER_LIGHTSTEP;
	tc.tls = c->tls;
	tc.ca_file = c->tls_ca_file[0] != '\0' ? c->tls_ca_file : NULL;
	if ((t = ltb_tracer_new(&tc, err, sizeof err)) == NULL)
		ltb_die(LTB_EXIT_SYS, "cannot start the tracer: %s", err);
	return t;
}

/* The summary's name for the tracer: "ltb-tracer PROTOCOL VERSION". */
static const char *
tracer_name(const struct ltb_control *c, char *buf, size_t len)
{
	if (!c->trace)
		return "noop";
	snprintf(buf, len, "ltb-tracer %s %s",
	    ltb_control_protocol_names[c->protocol], LTB_TRACER_VERSION);
	return buf;
}

int
main(int argc, char **argv)
{
	struct ltb_control c;
	struct plant plant;
	struct ltb_tracer_stats st;
	struct run r;
	const char *url = getenv("LTB_CONTROL_URL");
	struct ltb_client_tags tags = { 0 };
	char err[1536], name[64];

	ltb_prog = "ltb-client-c";
	if (argc > 1)
		ltb_die(LTB_EXIT_USAGE, "usage: ltb-client-c (no arguments; "
		    "LTB_CONTROL_URL names the control message)");
	/* a reader that went away is a clean stop, seen as EPIPE below */
	signal(SIGPIPE, SIG_IGN);
	if (url == NULL || url[0] == '\0')
		url = LTB_CONTROL_URL_DEFAULT;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		ltb_die(LTB_EXIT_SYS, "cannot initialise libcurl");

	ltb_control_default(&c);
	if (ltb_client_fetch_control(url, &c, err, sizeof err) < 0)
		ltb_die(LTB_EXIT_USAGE, "%s", err);
	if (c.protocol != LTB_CONTROL_LIGHTSTEP &&
	    c.protocol != LTB_CONTROL_OTLP)
		ltb_die(LTB_EXIT_USAGE, "bad control message from %s: "
		    "Protocol %s is a metrics protocol: run the c-spectator "
		    "client for it", url, ltb_control_protocol_names[c.protocol]);
	if (ltb_client_tags_make(&tags, c.num_tags, tag_keys, tag_values,
	    NTAGTAB) < 0)
		ltb_die(LTB_EXIT_SYS, "out of memory");

	r.c = &c;
	r.t = make_tracer(&c);
	r.keys = tags.keys;
	r.values = tags.values;
	r.plant = &plant;
	/* after the tracer: its reporter thread runs when the spans do */
	if (plant_start(&plant, c.trace ? c.planted_ns : 0, err,
	    sizeof err) < 0)
		ltb_die(LTB_EXIT_SYS, "cannot plant PlantedNsPerSpan: %s", err);
	generate(&r);

	if (c.trace && !c.no_flush &&
	    ltb_tracer_flush(r.t, FLUSH_TIMEOUT_MS) < 0)
		ltb_warn("flush did not finish in %d ms: the rest is dropped",
		    FLUSH_TIMEOUT_MS);
	ltb_tracer_stop(r.t);
	ltb_tracer_stats(r.t, &st);
	if (st.reports_failed > 0)
		ltb_warn("%" PRIu64 " of %" PRIu64 " reports failed, the last: "
		    "%s", st.reports_failed, st.reports_failed + st.reports_ok,
		    st.last_error);
	ltb_tracer_free(r.t);
	ltb_client_tags_free(&tags);
	curl_global_cleanup();

	printf("{\"type\":\"client\",\"v\":1,\"client\":\"c\",\"trace\":%s,"
	    "\"spans_sent\":%" PRIu64 ",\"dropped\":%" PRIu64 ","
	    "\"reports_ok\":%" PRIu64 ",\"reports_failed\":%" PRIu64 ","
	    "\"tracer\":\"%s\",\"planted_ns\":%" PRIu64,
	    c.trace ? "true" : "false", c.repeat, st.spans_dropped,
	    st.reports_ok, st.reports_failed,
	    tracer_name(&c, name, sizeof name), plant.ns);
	if (plant.spans > 0)
		printf(",\"planted_ns_measured\":%.0f", plant_measured(&plant));
	printf("}\n");
	if (fflush(stdout) == EOF || ferror(stdout) || fclose(stdout) == EOF) {
		if (errno == EPIPE)
			return LTB_EXIT_OK;
		ltb_die(LTB_EXIT_SYS, "cannot write stdout: %s",
		    strerror(errno));
	}
	return LTB_EXIT_OK;
}
