/*
 * ltb_plan.c: calibration records, their cache, and plans; see ltb_plan.h.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run/ltb_control_msg.h"
#include "core/ltb_hash.h"
#include "core/ltb_jsonl.h"
#include "core/ltb_parse.h"
#include "run/ltb_plan.h"
#include "run/ltb_client_dir.h"

cJSON *
ltb_calibration_record(const struct ltb_calibration *c)
{
	cJSON *rec = ltb_record_new("calibration");

	if (rec == NULL)
		return NULL;
	cJSON_AddStringToObject(rec, "client", c->client);
	cJSON_AddNumberToObject(rec, "target_cpu", c->target_cpu);
	cJSON_AddNumberToObject(rec, "sleep_per_work_ns", c->sleep_per_work_ns);
	cJSON_AddNumberToObject(rec, "work_per_second", c->work_per_second);
	cJSON_AddNumberToObject(rec, "achieved_cpu", c->achieved_cpu);
	/* Rounded, so a record read back from the cache prints the same. */
	cJSON_AddNumberToObject(rec, "cpu_error",
	    round((c->achieved_cpu - c->target_cpu) * 1e6) / 1e6);
	cJSON_AddNumberToObject(rec, "iterations", c->iterations);
	cJSON_AddStringToObject(rec, "host", c->host);
	cJSON_AddStringToObject(rec, "created", c->created);
	cJSON_AddStringToObject(rec, "contract",
	    ltb_contract_name(c->contract));
	if (c->contract == LTB_CONTRACT_ARGV && c->startup_cpu >= 0 &&
	    c->startup_time >= 0) {
		cJSON_AddNumberToObject(rec, "startup_cpu", c->startup_cpu);
		cJSON_AddNumberToObject(rec, "startup_time", c->startup_time);
	}
	return rec;
}

int
ltb_calibration_from_json(struct ltb_calibration *c, const cJSON *rec,
    char *err, size_t errlen)
{
	static const char *const nums[] = { "target_cpu", "sleep_per_work_ns",
	    "work_per_second" };

	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < 3; i++)
		if (ltb_json_num(rec, nums[i], -1) <= 0) {
			snprintf(err, errlen, "calibration without a positive "
			    "\"%s\"", nums[i]);
			return -1;
		}
	snprintf(c->client, sizeof c->client, "%s",
	    ltb_json_str(rec, "client", ""));
	c->target_cpu = ltb_json_num(rec, "target_cpu", 0);
	c->sleep_per_work_ns = ltb_json_num(rec, "sleep_per_work_ns", 0);
	c->work_per_second = ltb_json_num(rec, "work_per_second", 0);
	c->achieved_cpu = ltb_json_num(rec, "achieved_cpu", 0);
	c->iterations = (int)ltb_json_num(rec, "iterations", 0);
	snprintf(c->host, sizeof c->host, "%s", ltb_json_str(rec, "host", ""));
	snprintf(c->created, sizeof c->created, "%s",
	    ltb_json_str(rec, "created", ""));
	/* Absent: http, as every calibration before contracts. */
	if ((c->contract = ltb_contract(ltb_json_str(rec, "contract",
	    "http"))) < 0) {
		snprintf(err, errlen, "calibration with \"contract\" neither "
		    "\"http\" nor \"argv\"");
		return -1;
	}
	c->startup_cpu = ltb_json_num(rec, "startup_cpu", -1);
	c->startup_time = ltb_json_num(rec, "startup_time", -1);
	if (c->startup_cpu < 0 || c->startup_time < 0)
		c->startup_cpu = c->startup_time = -1;
	return 0;
}

static int
cache_dir(char *buf, size_t len)
{
	const char *d;

	if ((d = getenv("LTB_CACHE_DIR")) != NULL && d[0] != '\0')
		snprintf(buf, len, "%s", d);
	else if ((d = getenv("XDG_CACHE_HOME")) != NULL && d[0] != '\0')
		snprintf(buf, len, "%s/ltb", d);
	else if ((d = getenv("HOME")) != NULL && d[0] != '\0')
		snprintf(buf, len, "%s/.cache/ltb", d);
	else
		return -1;
	return 0;
}

int
ltb_calibration_path(const char *client, double target_cpu, char *buf,
    size_t len)
{
	char dir[512], host[128] = "host";

	if (cache_dir(dir, sizeof dir) < 0)
		return -1;
	gethostname(host, sizeof host - 1);
	snprintf(buf, len, "%s/calibration-%s-%.2f-%s.json", dir, client,
	    target_cpu, host);
	return 0;
}

int
ltb_calibration_load(const char *client, double target_cpu,
    struct ltb_calibration *c)
{
	char path[1024], err[256], *line = NULL;
	size_t cap = 0;
	cJSON *rec;
	FILE *f;
	int rc = -1;

	if (ltb_calibration_path(client, target_cpu, path, sizeof path) < 0 ||
	    (f = fopen(path, "re")) == NULL)
		return -1;
	if (getline(&line, &cap, f) > 0 && (rec = cJSON_Parse(line)) != NULL) {
		rc = ltb_calibration_from_json(c, rec, err, sizeof err);
		cJSON_Delete(rec);
	}
	free(line);
	fclose(f);
	return rc;
}

static int
mkdirs(const char *path)
{
	char buf[1024];

	snprintf(buf, sizeof buf, "%s", path);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(buf, 0755) < 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	return mkdir(buf, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

int
ltb_calibration_save(const struct ltb_calibration *c, char *err,
    size_t errlen)
{
	char path[1024], dir[512], tmp[1100];
	cJSON *rec = NULL;
	FILE *f = NULL;

	if (ltb_calibration_path(c->client, c->target_cpu, path,
	    sizeof path) < 0 || cache_dir(dir, sizeof dir) < 0) {
		snprintf(err, errlen, "no cache directory: set HOME or "
		    "LTB_CACHE_DIR");
		return -1;
	}
	if (mkdirs(dir) < 0)
		goto fail;
	/* Write then rename, so a concurrent reader never sees half. */
	snprintf(tmp, sizeof tmp, "%s.%d", path, (int)getpid());
	if ((rec = ltb_calibration_record(c)) == NULL ||
	    (f = fopen(tmp, "we")) == NULL ||
	    ltb_jsonl_write(f, rec) < 0 || fclose(f) != 0) {
		f = NULL;
		unlink(tmp);
		goto fail;
	}
	f = NULL;
	if (rename(tmp, path) < 0)
		goto fail;
	cJSON_Delete(rec);
	return 0;
fail:
	snprintf(err, errlen, "cannot save the calibration in %s: %s", path,
	    strerror(errno));
	if (f != NULL)
		fclose(f);
	cJSON_Delete(rec);
	return -1;
}

void
ltb_plan_span(const struct ltb_calibration *c, double sps, double *work,
    double *sleep_ns)
{
	double per_work_s = 1.0 / c->work_per_second +
	    c->sleep_per_work_ns / 1e9;

	*work = floor(1.0 / (sps * per_work_s) + 0.5);
	*sleep_ns = floor(*work * c->sleep_per_work_ns + 0.5);
}

void
ltb_plan_default(struct ltb_plan_opts *o)
{
	memset(o, 0, sizeof *o);
	o->sps[0] = 500;
	o->nsps = 1;
	o->runtime = 10;
	o->trials = 1;
	o->trace = LTB_TRACE_ON;
	o->seed = 1;
	o->label = "";
	o->shards = 1;
	o->num_tags = 10;
	o->num_logs = 15;
	o->reporting_period_ms = 200;
	o->max_buffered_spans = 10000;
	o->pacing_ms = 100;
	o->protocol = LTB_CONTROL_LIGHTSTEP;
	snprintf(o->meters, sizeof o->meters, "%s", LTB_CONTROL_METERS_DEFAULT);
}

/* --tls-ca: a file clients can read, named so that they find it from
 * wherever they run. */
static int
take_ca_file(struct ltb_plan_opts *o, const char *arg, char *err,
    size_t errlen)
{
	char path[PATH_MAX];

	if (access(arg, R_OK) < 0 || realpath(arg, path) == NULL) {
		snprintf(err, errlen, "bad --tls-ca '%s': %s", arg,
		    strerror(errno));
		return -1;
	}
	if (strlen(path) >= sizeof o->tls_ca_file) {
		snprintf(err, errlen, "bad --tls-ca '%s': path longer than "
		    "%zu bytes", arg, sizeof o->tls_ca_file - 1);
		return -1;
	}
	snprintf(o->tls_ca_file, sizeof o->tls_ca_file, "%s", path);
	o->tls = 1;
	return 0;
}

/* Who a run is in its plan: where it runs, and its pair and arm. */
struct run_id {
	double sps;
	unsigned trial;
	int trace;
	long index;		/* in the whole plan, across shards */
	long pair;		/* the (rate, trial) group; -1: not paired */
	const char *arm;	/* "base" or "test"; NULL: not paired */
	int plants;		/* this run carries the plan's planted cost */
};

/* An argv run's record: its contract, and the client's start-up when
 * the calibration measured it for this very client and the run is NoOp,
 * as the calibration's probes were. Another client's start-up is not
 * its own, and a traced run's start-up holds the tracer's import and
 * set-up, which a NoOp probe never paid: taking the NoOp figure out
 * would charge them to the tracer's cost per span. The runner probes
 * those itself, tracer on. */
static void
add_argv_contract(const struct ltb_plan_opts *o,
    const struct ltb_calibration *c, int trace, cJSON *rec)
{
	const char *name = o->client ? o->client : "cmd";

	cJSON_AddStringToObject(rec, "contract", "argv");
	/* A command's calibration is named "cmd" whatever the command was:
	 * it cannot say it was this one's. */
	if (trace || o->client_cmd != NULL ||
	    c->contract != LTB_CONTRACT_ARGV || c->startup_cpu < 0 ||
	    c->startup_time < 0 || strcmp(c->client, name) != 0)
		return;
	cJSON_AddNumberToObject(rec, "startup_cpu", c->startup_cpu);
	cJSON_AddNumberToObject(rec, "startup_time", c->startup_time);
}

static cJSON *
control_record(const struct ltb_plan_opts *o, const struct ltb_calibration *c,
    const struct run_id *id)
{
	struct ltb_control m;
	double work, sleep_ns;
	cJSON *rec = ltb_record_new("control");

	if (rec == NULL)
		return NULL;
	ltb_control_default(&m);
	ltb_plan_span(c, id->sps, &work, &sleep_ns);
	m.trace = id->trace;
	m.work = (uint64_t)work;
	m.sleep_ns = (uint64_t)sleep_ns;
	m.repeat = (uint64_t)floor(id->sps * o->runtime + 0.5);
	m.no_flush = o->no_flush;
	m.num_tags = o->num_tags;
	m.num_logs = o->num_logs;
	m.reporting_period_ms = o->reporting_period_ms;
	m.max_buffered_spans = o->max_buffered_spans;
	m.sleep_interval_ns = (uint64_t)o->pacing_ms * 1000000u;
	m.protocol = o->protocol;
	m.line_buffer_bytes = o->line_buffer_bytes;
	memcpy(m.meters, o->meters, sizeof m.meters);
	m.tls = o->tls;
	/* The plant is the test arm's: a NoOp run plants nothing, and in an
	 * A/A plan the base arm runs without it, so that the pairs measure
	 * the planted cost itself with the drift of the machine cancelled. */
	m.planted_ns = id->plants ? o->planted_ns : 0;
	snprintf(m.tls_ca_file, sizeof m.tls_ca_file, "%s", o->tls_ca_file);
	if (o->client_cmd != NULL)
		cJSON_AddStringToObject(rec, "client_cmd", o->client_cmd);
	cJSON_AddStringToObject(rec, "client", o->client ? o->client : "cmd");
	cJSON_AddNumberToObject(rec, "target_sps", id->sps);
	cJSON_AddNumberToObject(rec, "runtime", o->runtime);
	cJSON_AddNumberToObject(rec, "trial", id->trial);
	cJSON_AddStringToObject(rec, "label", o->label);
	cJSON_AddNumberToObject(rec, "index", (double)id->index);
	if (id->arm != NULL) {
		cJSON_AddNumberToObject(rec, "pair", (double)id->pair);
		cJSON_AddStringToObject(rec, "arm", id->arm);
	}
	cJSON_AddNumberToObject(rec, "seed", (double)o->seed);
	cJSON_AddNumberToObject(rec, "planted_ns", (double)m.planted_ns);
	cJSON_AddNumberToObject(rec, "target_cpu", c->target_cpu);
	cJSON_AddNumberToObject(rec, "work_per_second", c->work_per_second);
	if (o->contract == LTB_CONTRACT_ARGV)
		add_argv_contract(o, c, id->trace, rec);
	if (ltb_control_to_json(&m, rec) < 0) {
		cJSON_Delete(rec);
		return NULL;
	}
	/* The satellites are known only when the plan runs. */
	cJSON_DeleteItemFromObjectCaseSensitive(rec, "SatelliteHost");
	cJSON_DeleteItemFromObjectCaseSensitive(rec, "SatellitePorts");
	return rec;
}

/* The Trace of a plan's base and test arms; 0 when it has one run per
 * (rate, trial), whose Trace is then *base. */
static int
arms(int trace, int *base, int *test)
{
	switch (trace) {
	case LTB_TRACE_BOTH:
		*base = 0;
		*test = 1;
		return 1;
	case LTB_TRACE_AA:
		*base = *test = 1;
		return 1;
	case LTB_TRACE_AA_NOOP:
		*base = *test = 0;
		return 1;
	}
	*base = *test = trace == LTB_TRACE_ON;
	return 0;
}

/* A new order of the rate indices 0..n-1: Fisher-Yates, drawing from the
 * seed's SplitMix64 sequence at *state. */
static void
shuffle(size_t *perm, size_t n, uint64_t *state)
{
	for (size_t i = 0; i < n; i++)
		perm[i] = i;
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(ltb_splitmix64(state) % i), x = perm[i - 1];

		perm[i - 1] = perm[j];
		perm[j] = x;
	}
}

long
ltb_plan(const struct ltb_plan_opts *o, const struct ltb_calibration *c,
    void (*emit)(cJSON *rec, void *ctx), void *ctx)
{
	size_t perm[LTB_PLAN_MAX_RATES];
	uint64_t state = o->seed;
	int base, test, paired = arms(o->trace, &base, &test);
	long runs = paired ? 2 : 1, group = 0, k = 0, emitted = 0;

	for (unsigned t = 0; t < o->trials; t++) {
		shuffle(perm, o->nsps, &state);
		for (size_t j = 0; j < o->nsps; j++, group++) {
			/* A pair's two runs share a shard: their difference
			 * is only fair on one machine. */
			unsigned long g = perm[j] * o->trials + t;

			if (o->shards > 1 && g % o->shards != o->shard)
				continue;
			for (long i = 0; i < runs; i++) {
				/* ABBA over the pairs this machine runs: base
				 * first in even ones, test first in odd ones,
				 * so a drift in time hits both arms alike. */
				int is_test = paired && (k % 2 == 0) == (i == 1);
				struct run_id id = {
					.sps = o->sps[perm[j]], .trial = t,
					.trace = is_test ? test : base,
					.index = group * runs + i,
					.pair = paired ? (long)g : -1,
					.arm = !paired ? NULL :
					    is_test ? "test" : "base",
					/* unpaired plans plant in every traced
					 * run; paired ones in the test arm */
					.plants = paired ? is_test :
					    (is_test ? test : base),
				};
				cJSON *rec = control_record(o, c, &id);

				if (rec == NULL)
					return -1;
				emit(rec, ctx);
				emitted++;
			}
			k++;
		}
	}
	return emitted;
}

static int
parse_rates(struct ltb_plan_opts *o, const char *s, char *err, size_t errlen)
{
	char *end;

	o->nsps = 0;
	for (;;) {
		double v = strtod(s, &end);

		if (end == s || !(v > 0) || !isfinite(v) ||
		    o->nsps == LTB_PLAN_MAX_RATES) {
			snprintf(err, errlen, "bad --sps: expected positive "
			    "rates separated by commas, at most %d",
			    LTB_PLAN_MAX_RATES);
			return -1;
		}
		o->sps[o->nsps++] = v;
		if (*end == '\0')
			return 0;
		if (*end != ',')
			break;
		s = end + 1;
	}
	snprintf(err, errlen, "bad --sps: expected positive rates separated "
	    "by commas");
	return -1;
}

static int
parse_count(const char *flag, const char *s, unsigned min, unsigned max,
    unsigned *out, char *err, size_t errlen)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (end == s || *end != '\0' || v < min || v > max || s[0] == '-') {
		snprintf(err, errlen, "bad %s '%s': expected a whole number "
		    "from %u to %u", flag, s, min, max);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static int
parse_u64(const char *flag, const char *s, uint64_t max, uint64_t *out,
    char *err, size_t errlen)
{
	const char *why;

	if (ltb_parse_uint(s, 0, max, out, &why) < 0) {
		snprintf(err, errlen, "bad %s '%s': %s (a whole number from 0 "
		    "to %llu)", flag, s, why, (unsigned long long)max);
		return -1;
	}
	return 0;
}

/* --meters: names, comma-separated, into letters. */
static int
parse_meters(struct ltb_plan_opts *o, const char *arg, char *err,
    size_t errlen)
{
	char name[64], letters[sizeof o->meters];
	const char *p = arg, *end;
	size_t n = 0, len;

	for (;;) {
		end = strchr(p, ',');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (len == 0 || len >= sizeof name ||
		    n == LTB_CONTROL_MAX_METERS)
			goto bad;
		memcpy(name, p, len);
		name[len] = '\0';
		if ((letters[n++] = ltb_control_meter_letter(name)) == 0) {
			snprintf(err, errlen, "bad --meters '%s': '%s' is no "
			    "meter type (counter, monotonic_counter, "
			    "monotonic_counter_uint, distribution_summary, "
			    "percentile_distribution_summary, timer, "
			    "percentile_timer, gauge, max_gauge, age_gauge, "
			    "monotonic_sampled)", arg, name);
			return -1;
		}
		if (end == NULL)
			break;
		p = end + 1;
	}
	letters[n] = '\0';
	memcpy(o->meters, letters, n + 1);
	return 0;
bad:
	snprintf(err, errlen, "bad --meters '%s': 1 to %d meter types "
	    "separated by commas", arg, LTB_CONTROL_MAX_METERS);
	return -1;
}

/* LTB_TRACE_* by its --trace word, or -1 (the words in the enum's
 * order). */
static int
trace_mode(const char *s)
{
	static const char *const words[] = { "off", "on", "both", "aa",
	    "aa-noop" };

	for (int i = 0; i < (int)(sizeof words / sizeof words[0]); i++)
		if (strcmp(s, words[i]) == 0)
			return i;
	return -1;
}

int
ltb_plan_flag(struct ltb_plan_opts *o, int code, const char *arg,
    char **argv, int argc, int *next, char *err, size_t errlen)
{
	char *end;
	unsigned i, n;

	switch (code) {
	case LTB_OPT_CLIENT:
		o->client = arg;
		return 0;
	case LTB_OPT_CLIENT_CMD:
		o->client_cmd = arg;
		return 0;
	case LTB_OPT_SPS:
		return parse_rates(o, arg, err, errlen);
	case LTB_OPT_RUNTIME:
		o->runtime = strtod(arg, &end);
		if (end == arg || *end != '\0' || !(o->runtime > 0) ||
		    o->runtime > 86400) {
			snprintf(err, errlen, "bad --runtime '%s': expected "
			    "seconds, more than 0", arg);
			return -1;
		}
		return 0;
	case LTB_OPT_TRIALS:
		return parse_count("--trials", arg, 1, 10000, &o->trials, err,
		    errlen);
	case LTB_OPT_TRACE:
		/* "--trace", "--trace=both" and "--trace both" all work. */
		if (arg == NULL && *next < argc &&
		    trace_mode(argv[*next]) >= 0)
			arg = argv[(*next)++];
		if (arg == NULL)
			o->trace = LTB_TRACE_ON;
		else if ((o->trace = trace_mode(arg)) < 0) {
			snprintf(err, errlen, "bad --trace '%s': use on, off, "
			    "both, aa or aa-noop", arg);
			return -1;
		}
		return 0;
	case LTB_OPT_SEED:
		return parse_u64("--seed", arg, LTB_PLAN_MAX_SEED, &o->seed,
		    err, errlen);
	case LTB_OPT_PLANTED_NS:
		return parse_u64("--planted-ns", arg, LTB_PLAN_MAX_PLANTED_NS,
		    &o->planted_ns, err, errlen);
	case LTB_OPT_LABEL:
		o->label = arg;
		return 0;
	case LTB_OPT_SHARD:
		if (sscanf(arg, "%u/%u", &i, &n) != 2 || n == 0 || i >= n) {
			snprintf(err, errlen, "bad --shard '%s': expected I/N "
			    "with 0 <= I < N", arg);
			return -1;
		}
		o->shard = i;
		o->shards = n;
		return 0;
	case LTB_OPT_NUM_TAGS:
		return parse_count("--num-tags", arg, 0, 1000, &o->num_tags,
		    err, errlen);
	case LTB_OPT_NUM_LOGS:
		return parse_count("--num-logs", arg, 0, 1000, &o->num_logs,
		    err, errlen);
	case LTB_OPT_REPORTING_PERIOD:
		return parse_count("--reporting-period", arg, 1, 3600000,
		    &o->reporting_period_ms, err, errlen);
	case LTB_OPT_MAX_BUFFERED:
		return parse_count("--max-buffered", arg, 1, 100000000,
		    &o->max_buffered_spans, err, errlen);
	case LTB_OPT_PACING:
		return parse_count("--pacing", arg, 1, 60000, &o->pacing_ms,
		    err, errlen);
	case LTB_OPT_NO_FLUSH:
		o->no_flush = 1;
		return 0;
	case LTB_OPT_PROTOCOL: {
		char why[256];
		int p = ltb_control_protocol(arg, why, sizeof why);

		if (p < 0) {
			snprintf(err, errlen, "bad --protocol: %s", why);
			return -1;
		}
		o->protocol = p;
		o->protocol_set = 1;
		return 0;
	}
	case LTB_OPT_LINE_BUFFER:
		return parse_count("--line-buffer", arg, 0,
		    LTB_CONTROL_LINE_BUFFER_MAX, &o->line_buffer_bytes, err,
		    errlen);
	case LTB_OPT_METERS:
		return parse_meters(o, arg, err, errlen);
	case LTB_OPT_TLS:
		o->tls = 1;
		return 0;
	case LTB_OPT_TLS_CA:
		return take_ca_file(o, arg, err, errlen);
	case LTB_OPT_CONTRACT:
		if ((o->contract = ltb_contract(arg)) < 0) {
			snprintf(err, errlen, "bad --contract '%s': use http "
			    "or argv", arg);
			return -1;
		}
		o->contract_set = 1;
		return 0;
	}
	snprintf(err, errlen, "unknown plan flag");
	return -1;
}

int
ltb_plan_check(struct ltb_plan_opts *o, char *err, size_t errlen)
{
	char dir[1024];
	size_t i;

	if ((o->client == NULL) == (o->client_cmd == NULL)) {
		snprintf(err, errlen, "name a client: --client NAME or "
		    "--client-cmd CMD (one of them)");
		return -1;
	}
	/* A client that is not there is a usage error, before any work. */
	if (o->client != NULL && o->client_cmd == NULL &&
	    ltb_client_dir(o->client, dir, sizeof dir, err, errlen) < 0)
		return -1;
	/* What it speaks, unless told: a file beside its run. */
	if (o->client != NULL && o->client_cmd == NULL && !o->protocol_set &&
	    ltb_client_protocol(dir, &o->protocol, err, errlen) < 0)
		return -1;
	/* How it is started, unless told: a file beside its run too. */
	if (o->client != NULL && o->client_cmd == NULL && !o->contract_set &&
	    ltb_client_contract(dir, &o->contract, err, errlen) < 0)
		return -1;
	/* A run of no span measures nothing; one of 10^10 never ends. */
	for (i = 0; i < o->nsps; i++) {
		double repeat = floor(o->sps[i] * o->runtime + 0.5);

		if (repeat < 1) {
			snprintf(err, errlen, "--sps %g for --runtime %g s "
			    "plans no span a run: raise the rate or the "
			    "runtime", o->sps[i], o->runtime);
			return -1;
		}
		if (repeat > LTB_PLAN_MAX_REPEAT) {
			snprintf(err, errlen, "--sps %g for --runtime %g s "
			    "plans %.3g spans a run, more than %.0e: lower the "
			    "rate or the runtime", o->sps[i], o->runtime,
			    repeat, (double)LTB_PLAN_MAX_REPEAT);
			return -1;
		}
	}
	return 0;
}
