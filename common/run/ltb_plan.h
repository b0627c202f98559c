/*
 * ltb_plan.h: calibrations and plans.
 *
 * A calibration says, for one client on one machine, how fast the client
 * does work (units of Work per CPU-second, NoOp tracer) and how much sleep
 * per unit of work makes it use the target CPU. A plan turns it, with span
 * rates, a runtime and trials, into control records: at rate sps each span
 * must take 1/sps seconds, of which work/work_per_second is work and
 * work * sleep_per_work_ns is sleep.
 */
#ifndef LTB_PLAN_H
#define LTB_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "run/ltb_client_dir.h"	/* LTB_CONTRACT_* */
#include "run/ltb_control_msg.h"

struct ltb_calibration {
	char client[128];
	double target_cpu;
	double sleep_per_work_ns;
	double work_per_second;
	double achieved_cpu;	/* measured with the result */
	int iterations;
	char host[128];
	char created[32];	/* ISO 8601, UTC */
	/* How the client was started (LTB_CONTRACT_*, ltb_client_dir.h);
	 * an argv client's start-up, measured by probes (runs of Repeat 0)
	 * and taken out of every run: CPU-s and s, < 0 when unknown. */
	int contract;
	double startup_cpu, startup_time;
};

/* A "calibration" record; NULL on allocation failure. */
cJSON *ltb_calibration_record(const struct ltb_calibration *c);
/* From a record; 0, or -1 with the missing or bad field in err. */
int ltb_calibration_from_json(struct ltb_calibration *c, const cJSON *rec,
    char *err, size_t errlen);

/* The cache file of a client's calibration on this host:
 * $LTB_CACHE_DIR, else $XDG_CACHE_HOME/ltb, else ~/.cache/ltb;
 * "calibration-CLIENT-TARGET-HOST.json". */
int ltb_calibration_path(const char *client, double target_cpu, char *buf,
    size_t len);
/* 0 and c filled if cached; -1 if not (or unreadable). */
int ltb_calibration_load(const char *client, double target_cpu,
    struct ltb_calibration *c);
/* 0, or -1 with a message in err. */
int ltb_calibration_save(const struct ltb_calibration *c, char *err,
    size_t errlen);

/* Work and Sleep (ns) per span that give rate sps at the calibrated CPU. */
void ltb_plan_span(const struct ltb_calibration *c, double sps,
    double *work, double *sleep_ns);

/* --trace: one run per (rate, trial), traced or NoOp; or a pair of runs,
 * a "base" and a "test" arm: NoOp and traced (both), or the same client
 * twice, traced (aa) or NoOp (aa-noop), for an A/A self-test. */
enum {
	LTB_TRACE_OFF = 0, LTB_TRACE_ON = 1, LTB_TRACE_BOTH = 2,
	LTB_TRACE_AA = 3, LTB_TRACE_AA_NOOP = 4
};

#define LTB_PLAN_MAX_RATES 64
#define LTB_PLAN_MAX_REPEAT 1000000000ULL	/* spans in one run, at most */
#define LTB_PLAN_MAX_SEED 9007199254740991ULL	/* 2^53 - 1: exact in JSON */
#define LTB_PLAN_MAX_PLANTED_NS 1000000000ULL	/* 1 s of CPU a span */

struct ltb_plan_opts {
	const char *client;		/* registry name, or NULL */
	const char *client_cmd;		/* or a command, or NULL */
	double sps[LTB_PLAN_MAX_RATES];
	size_t nsps;
	double runtime;			/* seconds */
	unsigned trials;
	int trace;			/* LTB_TRACE_* */
	uint64_t seed;			/* shuffles the rates' order */
	uint64_t planted_ns;		/* PlantedNsPerSpan of every run */
	const char *label;
	unsigned shard, shards;		/* this shard 0..shards-1 */
	unsigned num_tags, num_logs;
	unsigned reporting_period_ms, max_buffered_spans;
	unsigned pacing_ms;		/* SleepInterval, in ms */
	int no_flush;
	int protocol;			/* LTB_CONTROL_LIGHTSTEP, ... */
	int protocol_set;		/* --protocol given: the client's
					 * protocol file is not read */
	unsigned line_buffer_bytes;	/* LineBufferBytes, metrics clients */
	char meters[LTB_CONTROL_MAX_METERS + 1];	/* Meters, as letters */
	int tls;
	char tls_ca_file[LTB_CONTROL_PATH_MAX];	/* absolute, or "" */
	int contract;			/* LTB_CONTRACT_HTTP, ... */
	int contract_set;		/* --contract given: the client's
					 * contract file is not read */
};

/* Defaults: 500 sps, 10 s, 1 trial, traced, 10 tags, 15 logs, 200 ms,
 * 10000 spans, sleep paid every 100 ms, one shard, LightStep over plain HTTP (or what the client's
 * protocol file says: ltb_plan_check); for metrics clients no line buffer,
 * counters, timers and gauges. */
void ltb_plan_default(struct ltb_plan_opts *o);

/*
 * The control records of a plan, in run order. A (rate, trial) group g =
 * rate_index * trials + trial is a pair of runs, a "base" and a "test"
 * arm (--trace both: NoOp and traced; aa and aa-noop: the same client
 * twice), or with --trace on or off one run. The runs go in rounds by
 * trial: round t holds every rate's trial t, the rates in an order
 * shuffled by the seed (Fisher-Yates from SplitMix64, a new permutation
 * each round), so a drift in time is not mistaken for a rate's effect.
 * A pair's two runs are adjacent, base then test in the plan's even pairs
 * (counted 0, 1, ... in run order) and test then base in its odd ones:
 * ABBA, so a drift hits both arms alike.
 *
 * Records not in this shard are skipped: pair g, both its runs, belongs
 * to shard g % shards, and the ABBA order counts the pairs the shard
 * keeps, so each machine alternates. "index" numbers the runs of the
 * whole plan, across all shards. Every record carries "seed",
 * "planted_ns" (PlantedNsPerSpan too) and the calibration's
 * "work_per_second"; a paired run "pair" and "arm". An argv plan's records
 * say "contract": "argv" and, when the calibration is the same client's
 * by argv, carry its "startup_cpu" and "startup_time". The same options and
 * calibration give the same plan. emit takes ownership of each record.
 * Returns the number emitted, or -1 on allocation failure.
 */
long ltb_plan(const struct ltb_plan_opts *o, const struct ltb_calibration *c,
    void (*emit)(cJSON *rec, void *ctx), void *ctx);



/*
 * Plan flags, shared by `ltb-control plan` and `ltb-sample`, which take
 * the same ones. Add LTB_PLAN_LONGOPTS to a getopt_long table and pass the
 * returned codes to ltb_plan_flag. argv and next (&optind) let "--trace"
 * take an optional separate word (on, off, both, aa, aa-noop). Returns 0,
 * or -1 with a message in err.
 */
enum {
	LTB_OPT_CLIENT = 1000, LTB_OPT_CLIENT_CMD, LTB_OPT_SPS,
	LTB_OPT_RUNTIME, LTB_OPT_TRIALS, LTB_OPT_TRACE, LTB_OPT_LABEL,
	LTB_OPT_SHARD, LTB_OPT_NUM_TAGS, LTB_OPT_NUM_LOGS,
	LTB_OPT_REPORTING_PERIOD, LTB_OPT_MAX_BUFFERED, LTB_OPT_NO_FLUSH,
	LTB_OPT_PROTOCOL, LTB_OPT_TLS, LTB_OPT_TLS_CA, LTB_OPT_SEED,
	LTB_OPT_PLANTED_NS, LTB_OPT_LINE_BUFFER, LTB_OPT_METERS,
	LTB_OPT_CONTRACT, LTB_OPT_PACING
};

#define LTB_PLAN_LONGOPTS \
	{ "client", required_argument, NULL, LTB_OPT_CLIENT }, \
	{ "client-cmd", required_argument, NULL, LTB_OPT_CLIENT_CMD }, \
	{ "sps", required_argument, NULL, LTB_OPT_SPS }, \
	{ "runtime", required_argument, NULL, LTB_OPT_RUNTIME }, \
	{ "trials", required_argument, NULL, LTB_OPT_TRIALS }, \
	{ "trace", optional_argument, NULL, LTB_OPT_TRACE }, \
	{ "label", required_argument, NULL, LTB_OPT_LABEL }, \
	{ "shard", required_argument, NULL, LTB_OPT_SHARD }, \
	{ "num-tags", required_argument, NULL, LTB_OPT_NUM_TAGS }, \
	{ "num-logs", required_argument, NULL, LTB_OPT_NUM_LOGS }, \
	{ "reporting-period", required_argument, NULL, \
	    LTB_OPT_REPORTING_PERIOD }, \
	{ "max-buffered", required_argument, NULL, LTB_OPT_MAX_BUFFERED }, \
	{ "no-flush", no_argument, NULL, LTB_OPT_NO_FLUSH }, \
	{ "protocol", required_argument, NULL, LTB_OPT_PROTOCOL }, \
	{ "tls", no_argument, NULL, LTB_OPT_TLS }, \
	{ "tls-ca", required_argument, NULL, LTB_OPT_TLS_CA }, \
	{ "seed", required_argument, NULL, LTB_OPT_SEED }, \
	{ "planted-ns", required_argument, NULL, LTB_OPT_PLANTED_NS }, \
	{ "line-buffer", required_argument, NULL, LTB_OPT_LINE_BUFFER }, \
	{ "meters", required_argument, NULL, LTB_OPT_METERS }, \
	{ "contract", required_argument, NULL, LTB_OPT_CONTRACT }, \
	{ "pacing", required_argument, NULL, LTB_OPT_PACING }

/* The usage lines of those flags. */
#define LTB_PLAN_USAGE \
"      --client NAME        client from the registry (clients/NAME/run)\n" \
"      --client-cmd CMD     or any command, run with sh -c\n" \
"      --sps LIST           span rates, comma-separated (default 500)\n" \
"      --runtime S          seconds per run (default 10)\n" \
"      --trials N           runs per rate and tracer (default 1)\n" \
"      --trace [on|off|both|aa|aa-noop]  traced, NoOp, or pairs of runs:\n" \
"                           NoOp and traced (both), or for an A/A self-test\n" \
"                           traced twice (aa) or NoOp twice (aa-noop); a\n" \
"                           pair's runs are adjacent, its arms \"base\" and\n" \
"                           \"test\" ABBA: base first in every other pair\n" \
"                           (default on)\n" \
"      --seed N             orders the rates, shuffled anew each round of\n" \
"                           trials (default 1: the same plan each time)\n" \
"      --planted-ns N       the C client burns N ns of CPU a span in\n" \
"                           traced runs: a known cost (default 0)\n" \
"      --label TEXT         carried into every record\n" \
"      --shard I/N          this machine's share: rate-and-trial groups\n" \
"                           g with g % N == I (0 <= I < N); a pair's two\n" \
"                           runs stay together\n" \
"      --num-tags N, --num-logs N        per span (default 10, 15)\n" \
"      --reporting-period MS, --max-buffered N  tracer settings\n" \
"                           (default 200 ms, 10000 spans)\n" \
"      --pacing MS          clients pay their sleep every MS ms of it\n" \
"                           (SleepInterval; default 100, the original's):\n" \
"                           between, they run at full speed\n" \
"      --no-flush           clients do not flush at the end\n" \
"      --protocol NAME      what clients report with: lightstep, otlp\n" \
"                           (OTLP/HTTP protobuf, POST /v1/traces), or for\n" \
"                           metrics clients spectatord (lines over UDP or\n" \
"                           a unix socket) or atlas (POST /api/v1/publish),\n" \
"                           or osprofiler (its redis driver over RESP:\n" \
"                           trace points, a start and a stop each)\n" \
"                           (default: the client's clients/NAME/protocol\n" \
"                           file, else lightstep); a metrics protocol's\n" \
"                           runs count measurements, not spans, and --sps\n" \
"                           is measurements a second\n" \
"      --line-buffer BYTES  metrics clients gather lines into datagrams of\n" \
"                           up to BYTES (0, default: a datagram a line)\n" \
"      --meters LIST        meter types a metrics client updates in turn,\n" \
"                           comma-separated (default counter,timer,gauge;\n" \
"                           also monotonic_counter, distribution_summary,\n" \
"                           percentile_timer, max_gauge, age_gauge, ...)\n" \
"      --tls                tracers report over https, not verifying the\n" \
"                           satellites' certificate\n" \
"      --tls-ca FILE        over https, verifying it with the CA in FILE\n" \
"      --contract http|argv how clients are started: http, fetching their\n" \
"                           control message from LTB_CONTROL_URL, or argv,\n" \
"                           the original LightStep Benchmarks' flags after\n" \
"                           the command (ltb-client(7)), its start-up\n" \
"                           measured by runs of Repeat 0 and taken out\n" \
"                           (default: the client's clients/NAME/contract\n" \
"                           file, else http)\n"

int ltb_plan_flag(struct ltb_plan_opts *o, int code, const char *arg,
    char **argv, int argc, int *next, char *err, size_t errlen);

/* After the flags: a client must be named one way or the other; a
 * registered client without --protocol gets the protocol its
 * clients/NAME/protocol file names (ltb_client_protocol), and without
 * --contract the contract its clients/NAME/contract file names
 * (ltb_client_contract). */
int ltb_plan_check(struct ltb_plan_opts *o, char *err, size_t errlen);
#endif
