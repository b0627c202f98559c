/*
 * ltb_control_msg.h: the control message, what a client program is told to do.
 *
 * A client GETs it once from LTB_CONTROL_URL. The first six fields are the
 * original LightStep Benchmarks protocol and keep its meaning: generate
 * Repeat spans; inside each, Work floating-point multiplications; add
 * Sleep ns of sleep debt per span and sleep SleepInterval ns whenever the
 * debt exceeds it; flush at the end unless NoFlush; a NoOp tracer when
 * Trace is false. The rest configure a production-like tracer: how many
 * tags and logs a span carries, where and how often it reports, and how:
 * Protocol (what it speaks: "lightstep", the default, or "otlp"), Tls
 * (https instead of http) and TlsCaFile (the CA file a client verifies
 * the satellites' certificate with; null: it does not verify, as fits
 * satellites that make their own certificate at start).
 *
 * A metrics client (Protocol "spectatord" or "atlas") makes Repeat
 * measurements instead of spans: meter updates of the types Meters names,
 * in turn, each meter with NumTags tags. spectatord's line protocol goes
 * to SatelliteUdpPorts (on SatelliteHost) or SatelliteUnixSocket (a unix
 * datagram socket's path); LineBufferBytes > 0 gathers lines into
 * datagrams of up to that many bytes, flushed when full and every
 * ReportingPeriodMs (0: a datagram per line, as spectator-py's default).
 * Atlas publish goes over HTTP to SatellitePorts.
 *
 * An OSProfiler client (Protocol "osprofiler") makes Repeat trace points
 * (a start and a stop message each) in chains of six, and sends them with
 * OSProfiler's redis driver to SatelliteRespPorts (RESP over TCP, on
 * SatelliteHost).
 */
#ifndef LTB_CONTROL_MSG_H
#define LTB_CONTROL_MSG_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define LTB_CONTROL_URL_DEFAULT "http://127.0.0.1:8024/control"
#define LTB_CONTROL_MAX_PORTS 64
#define LTB_SPANS_PER_CHAIN 6	/* client, server, db spans nest in 6s */
#define LTB_CONTROL_PATH_MAX 1024	/* TlsCaFile, bytes with the NUL */

/* Protocol: what a tracer reports with. */
enum {
	LTB_CONTROL_LIGHTSTEP,		/* "lightstep": POST /api/v2/reports */
	LTB_CONTROL_OTLP,		/* "otlp": POST /v1/traces, protobuf */
	LTB_CONTROL_SPECTATORD,		/* "spectatord": lines over UDP or a
					 * unix datagram socket */
	LTB_CONTROL_ATLAS,		/* "atlas": POST /api/v1/publish, JSON */
	LTB_CONTROL_OSPROFILER,		/* "osprofiler": its redis driver's
					 * LPUSHes over RESP */
	LTB_CONTROL_NPROTOCOLS
};

/* Their names, by value. */
extern const char *const ltb_control_protocol_names[LTB_CONTROL_NPROTOCOLS];

/* What a protocol's client makes, as a result record's "unit" says it:
 * "span", "measurement" or "trace point" (ltb_records.h; its words for
 * people are ltb_unit_word's). */
const char *ltb_control_protocol_unit(int protocol);

/* Meters: meter types a metrics client updates in turn, by the letter
 * of spectatord's protocol; names in the message. */
#define LTB_CONTROL_MAX_METERS 8
#define LTB_CONTROL_METERS_DEFAULT "ctg"	/* counter, timer, gauge */
/* The letter of a meter type's name ("counter": 'c'), or 0. */
char ltb_control_meter_letter(const char *name);
/* The name of a letter, or NULL. */
const char *ltb_control_meter_name(char letter);
#define LTB_CONTROL_UNIX_MAX 108	/* sun_path, with the NUL */
#define LTB_CONTROL_LINE_BUFFER_MAX 65536	/* a datagram's bytes */

/* The protocol called name, or -1 if none is: then err says so, naming
 * the known ones ("unknown protocol 'zipkin' (known: lightstep, otlp)"). */
int ltb_control_protocol(const char *name, char *err, size_t errlen);

struct ltb_control {
	int trace;			/* Trace */
	uint64_t sleep_ns;		/* Sleep, per span */
	uint64_t sleep_interval_ns;	/* SleepInterval */
	uint64_t work;			/* Work, multiplications per span */
	uint64_t repeat;		/* Repeat, spans in all */
	int no_flush;			/* NoFlush */
	unsigned num_tags;		/* NumTags per span */
	unsigned num_logs;		/* NumLogs per span */
	char satellite_host[64];	/* SatelliteHost */
	uint16_t satellite_ports[LTB_CONTROL_MAX_PORTS]; /* SatellitePorts */
	size_t nports;
	unsigned reporting_period_ms;	/* ReportingPeriodMs */
	unsigned max_buffered_spans;	/* MaxBufferedSpans */
	int protocol;			/* Protocol, LTB_CONTROL_* */
	int tls;			/* Tls */
	char tls_ca_file[LTB_CONTROL_PATH_MAX];	/* TlsCaFile; "": null */
	/* PlantedNsPerSpan: CPU the reference C client burns per span in
	 * traced runs, a known cost: ltb's ground truth for its accuracy */
	uint64_t planted_ns;
	/* metrics clients (Protocol spectatord, atlas) */
	uint16_t satellite_udp_ports[LTB_CONTROL_MAX_PORTS]; /* SatelliteUdpPorts */
	size_t nudp;
	char satellite_unix[LTB_CONTROL_UNIX_MAX];	/* SatelliteUnixSocket;
							 * "": null */
	unsigned line_buffer_bytes;	/* LineBufferBytes, 0: a line each */
	char meters[LTB_CONTROL_MAX_METERS + 1];	/* Meters, as letters */
	/* OSProfiler clients (Protocol osprofiler): RESP ports */
	uint16_t satellite_resp_ports[LTB_CONTROL_MAX_PORTS];
	size_t nresp;			/* SatelliteRespPorts */
};

/* The defaults: NoOp, no work, 10 tags, 15 logs, 127.0.0.1:8360-8367,
 * report every 200 ms, buffer 10000 spans, SleepInterval 100 ms,
 * LightStep over plain HTTP; for metrics: no UDP port, no unix socket, no
 * line buffer, counters, timers and gauges; no RESP port. */
void ltb_control_default(struct ltb_control *c);

/*
 * Read a control message from JSON text. Absent keys keep what c held
 * (call ltb_control_default first). Returns 0, or -1 with a reason in err
 * ("Repeat: not a non-negative integer").
 */
int ltb_control_parse(struct ltb_control *c, const char *json, size_t len,
    char *err, size_t errlen);

/* The same from a parsed object (a "control" record carries these keys). */
int ltb_control_from_json(struct ltb_control *c, const cJSON *obj,
    char *err, size_t errlen);

/* Add the message's keys to obj (the wire form). Returns 0, -1 on
 * allocation failure. */
int ltb_control_to_json(const struct ltb_control *c, cJSON *obj);

#endif
