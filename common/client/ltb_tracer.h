/*
 * ltb_tracer.h: a small reporting tracer that speaks the LightStep
 * collector protocol or OTLP/HTTP, over http or https: the tracer of the
 * built-in C client, in its own library (libltbclient.a).
 *
 * It is built the way production tracers are, so that what ltb measures
 * with it is a credible cost of tracing:
 *
 *  - the instrumented thread only records: a span takes a recycled record
 *    from the thread's own cache of them (refilled from the tracer's pool
 *    a batch at a time), its tags and logs are pointers to strings the
 *    caller provides, and finishing it takes a slot of a bounded buffer
 *    with one compare-and-swap. No lock, allocation, encoding or I/O
 *    happens there once the pool is warm. When the buffer holds
 *    max_buffered_spans the span is dropped and counted: the instrumented
 *    thread never waits for the reporter. Records in threads' caches are
 *    not finished spans: they do not change how many may wait.
 *  - a reporter thread wakes every reporting period, swaps the buffer for
 *    an empty one, encodes the spans (ltb_encode.h: the bytes protobuf-c
 *    would pack, into a buffer it reuses, so encoding does not allocate
 *    either) into a lightstep.collector.ReportRequest POSTed to
 *    http://HOST:PORT/api/v2/reports, or into an OTLP
 *    ExportTraceServiceRequest POSTed to http://HOST:PORT/v1/traces as
 *    application/x-protobuf, with libcurl, one kept-alive handle per
 *    satellite port, taking the ports in turn; https:// with tls. A
 *    report that fails (connection refused, timeout, a status other than
 *    200) is not retried: its spans are dropped and counted, as real
 *    tracers do.
 *  - in OTLP a span's 16-byte trace id is a random high half, drawn once
 *    per tracer, then the 64-bit trace id of its context; tags are string
 *    attributes, and each log an event named "log" holding one string
 *    attribute.
 *  - a NoOp tracer answers the same calls and records nothing, so a
 *    program's cost with and without tracing differs only by tracing.
 *
 * Accounting: every finished span is eventually either reported (in a
 * report answered 200) or dropped (buffer full, report failed, or still
 * buffered when the tracer stopped). After ltb_tracer_stop,
 * spans_finished == spans_reported + spans_dropped.
 *
 * Threads: any number of threads may start, tag, log and finish spans
 * concurrently, each span used by one thread at a time, in any number of
 * tracers (each thread keeps a cache per tracer it traces). ltb_tracer_flush,
 * _stats and _stop may be called from any thread; _free from one, once
 * every span has been finished and every thread has stopped calling into
 * the tracer (a thread may go on living, and tracing other tracers: the
 * records its cache held are freed with the tracer). A thread that exits
 * gives its cached records back to the tracer. While threads trace, a
 * stats snapshot may be a few spans apart between its counters.
 */
#ifndef LTB_TRACER_H
#define LTB_TRACER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define LTB_TRACER_VERSION "0.9"	/* what clients name it by */

/*
 * A transport other than HTTP, for tests and benchmarks: called on the
 * reporter thread with each encoded report (borrowed for the call).
 * Returns 0 if the report was accepted, -1 (with a reason in err) if its
 * spans are to be dropped.
 */
typedef int ltb_tracer_transport_fn(void *ctx, const uint8_t *body,
    size_t len, char *err, size_t errlen);

/* What reports speak. */
enum ltb_tracer_protocol {
	LTB_TRACER_LIGHTSTEP,		/* ReportRequest, /api/v2/reports */
	LTB_TRACER_OTLP			/* ExportTraceServiceRequest, /v1/traces */
};

struct ltb_tracer_config {
	const char *host;		/* satellite host ("127.0.0.1", "::1") */
	const uint16_t *ports;		/* satellite ports, used in turn */
	size_t nports;
	unsigned reporting_period_ms;	/* report every...; 0 is taken as 1 */
	size_t max_buffered_spans;	/* finished spans waiting; 0 drops all;
					 * at most 2^32 - 2 */
	unsigned timeout_ms;		/* bound on each POST, connect included */
	const char *access_token;	/* Auth.access_token and header */
	const char *component_name;	/* reporter tag lightstep.component_name,
					 * OTLP resource service.name */
	enum ltb_tracer_protocol protocol;
	int tls;			/* https: TLS to the satellites */
	const char *ca_file;		/* with tls: verify the satellites'
					 * certificate with this CA; NULL: do
					 * not verify it */
	ltb_tracer_transport_fn *transport;	/* NULL: HTTP to the ports */
	void *transport_ctx;
};

/* The defaults: 127.0.0.1, no ports, every 200 ms, 10000 spans, 2 s per
 * POST, token "ltb", component "ltb", LightStep over plain HTTP. */
void ltb_tracer_config_default(struct ltb_tracer_config *c);

struct ltb_tracer;
struct ltb_span;

/* A span's identity, what a child refers to. */
struct ltb_span_context {
	uint64_t trace_id;
	uint64_t span_id;
};

struct ltb_tracer_stats {
	uint64_t spans_started;
	uint64_t spans_finished;
	uint64_t spans_reported;	/* in reports answered 200 */
	uint64_t spans_dropped;		/* buffer full, report failed, or
					 * unreported when stopped */
	uint64_t reports_ok;
	uint64_t reports_failed;
	uint64_t bytes_sent;		/* report bodies answered 200 */
	char last_error[512];		/* why the last report failed, or "" */
};

/*
 * A reporting tracer; starts its reporter thread. Borrows c for the call
 * (copies what it keeps). NULL on failure with a reason in err ("no
 * satellite ports", "cannot start the reporter thread: ...").
 */
struct ltb_tracer *ltb_tracer_new(const struct ltb_tracer_config *c,
    char *err, size_t errlen);

/* A NoOp tracer: the same calls, nothing recorded, every stat 0. NULL
 * only if out of memory. */
struct ltb_tracer *ltb_tracer_noop(void);

/*
 * Start a span named operation, a ChildOf parent (NULL, or a context with
 * a zero trace_id: a new trace). Never NULL: if no record can be had the
 * span is inert and counted dropped. The tracer owns the span; the caller
 * holds it until ltb_span_finish.
 *
 * Strings (operation, tag and log keys and values) are borrowed: they
 * must stay valid until the span is reported or dropped, that is until
 * ltb_tracer_flush returns 0 or ltb_tracer_stop returns. String literals
 * and tables that outlive the tracer qualify; otherwise copy with
 * ltb_span_strdup. NULL keys or values are ignored.
 */
struct ltb_span *ltb_span_start(struct ltb_tracer *t, const char *operation,
    const struct ltb_span_context *parent);

/* The span's context, to start children with. Borrowed from the span. */
const struct ltb_span_context *ltb_span_context(const struct ltb_span *s);

/* Add a string tag. */
void ltb_span_set_tag(struct ltb_span *s, const char *key,
    const char *value);

/* Add a log, timestamped now, holding one string field. */
void ltb_span_log(struct ltb_span *s, const char *key, const char *value);

/* A copy of str that lives as long as the span's record (until reported
 * or dropped); NULL if out of memory or the span is inert. */
const char *ltb_span_strdup(struct ltb_span *s, const char *str);

/* Finish the span: timestamp its end and hand it to the reporter, or
 * drop it if the buffer is full or the tracer stopped. The caller must
 * not touch s afterwards. */
void ltb_span_finish(struct ltb_span *s);

/*
 * Report everything finished before the call now, and wait up to
 * timeout_ms for it to be sent or dropped. Returns 0 when it has been,
 * -1 with errno ETIMEDOUT if not in time. Failed reports still count as
 * handled: read the stats for drops.
 */
int ltb_tracer_flush(struct ltb_tracer *t, unsigned timeout_ms);

/* A snapshot of the counters. */
void ltb_tracer_stats(struct ltb_tracer *t, struct ltb_tracer_stats *st);

/* The CPU-time clock of the reporter thread, for benchmarks that charge
 * the tracer its whole cost. 0, or -1 for a NoOp or stopped tracer. */
int ltb_tracer_reporter_clock(struct ltb_tracer *t, clockid_t *clock);

/*
 * Stop reporting: let a report in flight finish (bounded by timeout_ms),
 * stop the reporter thread, and drop and count what is still buffered
 * (flush first to send it). Spans finished later are dropped. Idempotent.
 */
void ltb_tracer_stop(struct ltb_tracer *t);

/* Stop if needed and free everything. Every span must be finished, and
 * no thread may call into t any more (see Threads above). NULL is a
 * no-op. */
void ltb_tracer_free(struct ltb_tracer *t);

#endif
