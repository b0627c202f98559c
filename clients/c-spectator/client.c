/*
 * client.c: ltb's reference metrics client, ltb-client-c-spectator.
 *
 * It follows the client contract (ltb-client(7)) for a metrics library: GET
 * the control message from LTB_CONTROL_URL once (default
 * http://127.0.0.1:8024/control; any URL libcurl reads), then make
 * exactly Repeat measurements: each does Work floating-point
 * multiplications, adds Sleep ns of sleep debt (slept in SleepInterval
 * pieces, as clients/c does: common/client/ltb_client_loop.c) and updates
 * one meter, the meter types Meters names taken in turn, each meter with
 * NumTags tags. The meters write spectatord's line protocol through
 * ltb_meter (common/client/ltb_meter.h) to SatelliteHost:
 * SatelliteUdpPorts[0] when that list is not empty, else to the unix
 * datagram socket SatelliteUnixSocket; LineBufferBytes > 0 gathers lines
 * into datagrams of that size, flushed when full and every
 * ReportingPeriodMs, and at the end unless NoFlush. Without Trace the
 * meters are NoOp: the same calls, nothing written.
 *
 * Protocol must be "spectatord". Values: a counter adds 1, a monotonic
 * counter says its running total, a timer records a few hundred µs in
 * seconds, gauges and distribution summaries a value that moves with the
 * count, an age gauge 0 (now), a monotonic sampled its total at the
 * current time in ms.
 *
 * stdout: one JSON line at the end,
 *   {"type":"client","v":1,"client":"c-spectator","trace":B,
 *    "unit":"measurement","spans_sent":N,"dropped":D,
 *    "tracer":"ltb-meter spectatord udp 0.1","lines_written":L,
 *    "datagrams_sent":G,"datagrams_failed":F,"lines_failed":LF,
 *    "lines_unsent":U,"send_errors":{"ECONNREFUSED":n,...}}
 * spans_sent is the measurements made (Repeat); dropped the lines that
 * send() refused (lines_failed) and those NoFlush left unsent. tracer is
 * "noop" without Trace. Human messages go to stderr.
 *
 * Exit: 0 done (drops are data); 2 the control message cannot be fetched,
 * is malformed, names another Protocol or no place to send to; 3 system
 * failure (the socket cannot be made or connected, stdout unwritable).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "run/ltb_control_msg.h"
#include "core/ltb_clock.h"
#include "core/ltb_log.h"
#include "client/ltb_client_loop.h"
#include "client/ltb_meter.h"

/* The first tags are what services tag their meters with; more are
 * numbered. */
static const char *const tag_keys[] = {
	"nf.app", "nf.cluster", "nf.asg", "nf.region", "nf.zone", "path",
	"method", "status", "country", "device",
};
static const char *const tag_values[] = {
	"api", "api-prod", "api-prod-v042", "us-east-1", "us-east-1c",
	"v1_play", "GET", "200", "us", "tv",
};
#define NTAGTAB (sizeof tag_keys / sizeof tag_keys[0])

struct run {
	const struct ltb_control *c;
	struct ltb_meter *meters[LTB_CONTROL_MAX_METERS];
	size_t nmeters;
	uint64_t count[LTB_CONTROL_MAX_METERS];	/* updates of each */
};

/* Where the message says to send, or die naming what is missing. */
static void
config_of(const struct ltb_control *c, const char *url,
    struct ltb_meter_config *mc)
{
	ltb_meter_config_default(mc);
	mc->line_buffer_bytes = c->line_buffer_bytes;
	mc->flush_period_ms = c->reporting_period_ms;
	mc->no_flush = c->no_flush;
	if (!c->trace) {
		mc->transport = LTB_METER_NOOP;
	} else if (c->nudp > 0) {
		mc->transport = LTB_METER_UDP;
		mc->host = c->satellite_host;
		mc->port = c->satellite_udp_ports[0];
	} else if (c->satellite_unix[0] != '\0') {
		mc->transport = LTB_METER_UNIX;
		mc->unix_path = c->satellite_unix;
	} else {
		ltb_die(LTB_EXIT_USAGE, "bad control message from %s: "
		    "SatelliteUdpPorts is empty and SatelliteUnixSocket null: "
		    "nowhere to send spectatord lines", url);
	}
}

/* A meter name for a type: "ltb.counter", "ltb.timer"... */
static void
make_meters(struct run *r, struct ltb_meter_writer *w, const char **keys,
    const char **values)
{
	const struct ltb_control *c = r->c;
	char name[64], err[256];

	for (r->nmeters = 0; c->meters[r->nmeters] != '\0'; r->nmeters++) {
		char type = c->meters[r->nmeters];

		snprintf(name, sizeof name, "ltb.%s",
		    ltb_control_meter_name(type));
		r->meters[r->nmeters] = ltb_meter_new(w, type, name,
		    c->num_tags, keys, values, err, sizeof err);
		if (r->meters[r->nmeters] == NULL)
			ltb_die(LTB_EXIT_SYS, "cannot make meter %s: %s", name,
			    err);
	}
}

/* Measurement i: an update of meter i mod nmeters. */
static void
measure(struct run *r, uint64_t i)
{
	size_t k = (size_t)(i % r->nmeters);
	struct ltb_meter *m = r->meters[k];
	uint64_t n = ++r->count[k];

	switch (r->c->meters[k]) {
	case 'c':
		ltb_meter_update(m, 1);
		break;
	case 'C':
		ltb_meter_update(m, (double)n);
		break;
	case 'U':
		ltb_meter_update_u64(m, n);
		break;
	case 't':
	case 'T':
		ltb_meter_update(m, 0.000125 * (double)(1 + n % 8));
		break;
	case 'A':
		ltb_meter_update(m, 0);
		break;
	case 'X':
		ltb_meter_update_at(m, ltb_real_ns() / 1000000u, (double)n);
		break;
	default:		/* d D g m */
		ltb_meter_update(m, (double)(n % 1000));
		break;
	}
}

static void
generate(struct run *r)
{
	const struct ltb_control *c = r->c;
	struct ltb_client_pace pace;
	uint64_t i;

	ltb_client_pace_init(&pace, c, NULL, NULL);
	for (i = 0; i < c->repeat; i++) {
		ltb_client_work(c->work);
		measure(r, i);
		ltb_client_pace_add(&pace, 1);
	}
	ltb_client_pace_finish(&pace);
}

static void
print_errors(const struct ltb_meter_stats *st)
{
	char buf[16];
	int first = 1;

	printf(",\"send_errors\":{");
	for (int e = 0; e < LTB_METER_NERRNO; e++) {
		if (st->lines_failed_by_errno[e] == 0)
			continue;
		printf("%s\"%s\":%" PRIu64, first ? "" : ",",
		    ltb_meter_errno_name(e, buf, sizeof buf),
		    st->lines_failed_by_errno[e]);
		first = 0;
	}
	printf("}");
}

static void
summary(const struct ltb_control *c, struct ltb_meter_writer *w,
    const struct ltb_meter_stats *st)
{
	printf("{\"type\":\"client\",\"v\":1,\"client\":\"c-spectator\","
	    "\"trace\":%s,\"unit\":\"measurement\",\"spans_sent\":%" PRIu64
	    ",\"dropped\":%" PRIu64 ",", c->trace ? "true" : "false",
	    c->repeat, st->lines_failed + st->lines_unsent);
	if (c->trace)
		printf("\"tracer\":\"ltb-meter spectatord %s %s\",",
		    ltb_meter_writer_transport(w), LTB_METER_VERSION);
	else
		printf("\"tracer\":\"noop\",");
	printf("\"line_buffer_bytes\":%u,\"lines_written\":%" PRIu64
	    ",\"datagrams_sent\":%" PRIu64 ",\"datagrams_failed\":%" PRIu64
	    ",\"lines_failed\":%" PRIu64 ",\"lines_unsent\":%" PRIu64,
	    c->line_buffer_bytes, st->lines, st->datagrams,
	    st->datagrams_failed, st->lines_failed, st->lines_unsent);
	print_errors(st);
	printf("}\n");
}

int
main(int argc, char **argv)
{
	struct ltb_control c;
	struct ltb_meter_config mc;
	struct ltb_meter_writer *w;
	struct ltb_meter_stats st;
	struct run r;
	const char *url = getenv("LTB_CONTROL_URL");
	struct ltb_client_tags tags = { 0 };
	char err[1536];

	ltb_prog = "ltb-client-c-spectator";
	if (argc > 1 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		printf("usage: ltb-client-c-spectator (no arguments; "
		    "LTB_CONTROL_URL names the control message)\n");
		return LTB_EXIT_OK;
	}
	if (argc > 1)
		ltb_die(LTB_EXIT_USAGE, "usage: ltb-client-c-spectator (no "
		    "arguments; LTB_CONTROL_URL names the control message)");
	signal(SIGPIPE, SIG_IGN);
	if (url == NULL || url[0] == '\0')
		url = LTB_CONTROL_URL_DEFAULT;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		ltb_die(LTB_EXIT_SYS, "cannot initialise libcurl");

	ltb_control_default(&c);
	if (ltb_client_fetch_control(url, &c, err, sizeof err) < 0)
		ltb_die(LTB_EXIT_USAGE, "%s", err);
	if (c.protocol != LTB_CONTROL_SPECTATORD)
		ltb_die(LTB_EXIT_USAGE, "bad control message from %s: "
		    "Protocol %s: this client speaks spectatord only", url,
		    ltb_control_protocol_names[c.protocol]);
	config_of(&c, url, &mc);
	if (ltb_client_tags_make(&tags, c.num_tags, tag_keys, tag_values,
	    NTAGTAB) < 0)
		ltb_die(LTB_EXIT_SYS, "out of memory");
	if ((w = ltb_meter_writer_new(&mc, err, sizeof err)) == NULL)
		ltb_die(LTB_EXIT_SYS, "cannot start the meter writer: %s", err);
	memset(&r, 0, sizeof r);
	r.c = &c;
	make_meters(&r, w, tags.keys, tags.values);
	generate(&r);

	ltb_meter_writer_close(w);
	ltb_meter_writer_stats(w, &st);
	if (st.lines_failed > 0)
		ltb_warn("send() refused %" PRIu64 " of %" PRIu64 " lines",
		    st.lines_failed, st.lines);
	summary(&c, w, &st);
	ltb_meter_writer_free(w);
	ltb_client_tags_free(&tags);
	curl_global_cleanup();
	if (fflush(stdout) == EOF || ferror(stdout) || fclose(stdout) == EOF) {
		if (errno == EPIPE)
			return LTB_EXIT_OK;
		ltb_die(LTB_EXIT_SYS, "cannot write stdout: %s",
		    strerror(errno));
	}
	return LTB_EXIT_OK;
}
