/*
 * ltb-sample: run a client once per control record and measure it.
 *
 * For each control record (from --plan, or built from the same flags as
 * `ltb-control plan`), serves the client its control message, runs it in
 * its own process group, samples the CPU and memory of its process tree,
 * reads the satellites' counts before and after, and writes one result
 * record. Without --satellites it starts its own ltb-satellite group and
 * stops it at the end. See common/run/ltb_run.h.
 *
 * TLS belongs to the satellites: one group serves every run, so when it
 * speaks TLS (--tls or --tls-ca, a plan record with Tls, or an https://
 * --satellites URL) the group we start is started with --tls, and every
 * run's client is told Tls, and to verify the certificate that group
 * wrote unless its record names a CA file.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "collector/ltb_script.h"
#include "run/ltb_calibrate.h"
#include "run/ltb_client_dir.h"
#include "run/ltb_control_server.h"
#include "core/ltb_clock.h"
#include "core/ltb_jsonl.h"
#include "core/ltb_log.h"
#include "core/ltb_parse.h"
#include "run/ltb_plan.h"
#include "core/ltb_proc.h"
#include "run/ltb_run.h"
#include "records/ltb_records.h"
#include "run/ltb_satellite_admin.h"

static const char usage[] =
"usage: ltb-sample --plan FILE|-  [options]\n"
"       ltb-sample (--client NAME | --client-cmd CMD) [plan flags] [options]\n"
"\n"
"Run a client program once per control record and write one result record\n"
"per run on stdout (JSON lines); progress on stderr.\n"
"\n"
"  -p, --plan FILE           control records to run (- for stdin), as\n"
"                            written by ltb-control plan\n"
"  -i, --interval S          sampling period in seconds (default 1)\n"
"      --no-timeout          wait for the client however long it takes\n"
"                            (default: kill it after twice the runtime,\n"
"                            and at least runtime + 5 s)\n"
"      --satellites URL      admin URL of a running ltb-satellite group\n"
"                            (default: start one, see --satellite-ports,\n"
"                            with --tls when runs report over TLS, clients\n"
"                            verifying its certificate); https://\n"
"                            says its ports speak TLS (its admin API is\n"
"                            still asked over http); every admin request\n"
"                            carries $LTB_ADMIN_TOKEN when set, for a\n"
"                            group started with --admin-token\n"
"      --satellite-ports LIST  the HTTP ports of the group we start, as\n"
"                            ltb-satellite -p (8361-8362,9000; 0 for a\n"
"                            free port); every one must bind (else exit 3).\n"
"                            Default 8360-8367, where the original\n"
"                            clients hard-code their satellites, or, with\n"
"                            one of them busy, 8 free ports and a warning\n"
"                            (a client hard-coding 127.0.0.1:8360 will\n"
"                            not reach them). Not with --satellites\n"
"      --satellite-down-at S take the satellites down S s into each run\n"
"      --satellite-up-at S   and bring them back at S s\n"
"      --satellite-script FILE  play FILE's script of answers (see\n"
"                            ltb-satellite --help: 429 with Retry-After,\n"
"                            5xx, hang-ups, delays) in each run, its times\n"
"                            from the fetch; each step is an event\n"
"      --control-port PORT   where clients fetch their control message\n"
"                            (default 8024; 0 for any free port; 8023\n"
"                            for the early clients that fetch\n"
"                            http://localhost:8023/control whatever\n"
"                            LTB_CONTROL_URL says)\n"
"      --fetch-timeout S     fail a client that has not fetched its control\n"
"                            message after S s (default 10)\n"
"      --target-cpu X        calibration target when planning (default 0.7)\n"
"      --calibration-runtime S  seconds per calibration run (default 3)\n"
"  -h, --help                this text\n"
"\n"
"Plan flags (without --plan; see ltb-control plan):\n"
LTB_PLAN_USAGE
"\n"
"A traced run's result says where every span went (\"accounting\"): sent =\n"
"intact + dropped, dropped being spans the satellites refused by script\n"
"and never got again (dropped_refused) and spans that never arrived.\n"
"Spans of a refused report did arrive: they are received, and a retry's\n"
"copies are duplicates (spans_retried once through), never new spans.\n"
"\n"
"A metrics client's runs (Protocol spectatord or atlas: --protocol, or its\n"
"clients/NAME/protocol file) count measurements (\"unit\":\"measurement\");\n"
"the group started for them also serves spectatord's datagrams (--udp, one\n"
"port per HTTP port, and --unix in a directory of ours), and each client\n"
"is told them (SatelliteUdpPorts, SatelliteUnixSocket); socket_drops counts\n"
"the datagrams lost at the satellites' sockets.\n"
"\n"
"An OSProfiler client's runs (Protocol osprofiler) count trace points\n"
"(\"unit\":\"trace point\": a start and its stop); the group started for them\n"
"also serves RESP (--resp, one port), and each client is told it\n"
"(SatelliteRespPorts).\n"
"\n"
"Exit: 0 every run succeeded; 1 a run failed (client crashed, hung, never\n"
"fetched its message: its result carries \"error\"); 2 usage or bad plan;\n"
"3 system failure (cannot bind, spawn, reach the satellites); 4 its\n"
"calibration was inconclusive (the machine too busy to converge); 130/143\n"
"interrupted. The last record is always a plan_end.\n";

#define NPORTS 8		/* HTTP ports of a group we start */
#define FIRST_PORT 8360		/* the original satellites' first port */

struct opts {
	const char *plan;
	struct ltb_plan_opts p;
	int planned;			/* plan flags given */
	double interval, down_at, up_at, fetch_timeout, target_cpu;
	double calibration_runtime;
	int no_timeout;
	const char *satellites;
	/* --satellite-ports: the HTTP ports of a group we start, and
	 * whether they were given (else 8360-8367, or free ones) */
	uint16_t sat_ports[LTB_CONTROL_MAX_PORTS];
	size_t nsat_ports;
	int sat_ports_given;
	uint16_t control_port;
	const char *script_path;	/* --satellite-script */
	struct ltb_script script;
	char *script_json;
};

static void
bad_usage(const char *msg)
{
	ltb_warn("%s", msg);
	fputs(usage, stderr);
	exit(LTB_EXIT_USAGE);
}

static double
seconds_arg(const char *flag, const char *arg)
{
	const char *why;
	uint64_t ns;
	char msg[256];

	if (ltb_parse_seconds(arg, &ns, &why) < 0) {
		snprintf(msg, sizeof msg, "bad %s '%s': %s", flag, arg, why);
		bad_usage(msg);
	}
	return (double)ns / 1e9;
}

/* --satellite-ports LIST, as ltb-satellite -p reads it. */
static void
sat_ports_arg(struct opts *o, const char *arg)
{
	const char *why;
	char msg[256];

	if (ltb_parse_ports(arg, o->sat_ports, LTB_CONTROL_MAX_PORTS,
	    &o->nsat_ports, &why) < 0) {
		snprintf(msg, sizeof msg, "bad --satellite-ports '%s': %s",
		    arg, why);
		bad_usage(msg);
	}
	o->sat_ports_given = 1;
}

static void
parse_args(int argc, char **argv, struct opts *o)
{
	enum { O_NO_TIMEOUT = 256, O_SATELLITES, O_DOWN, O_UP, O_CTL_PORT,
	    O_FETCH, O_TARGET, O_CAL_RUNTIME, O_SCRIPT, O_SAT_PORTS };
	static const struct option longopts[] = {
		{ "plan", required_argument, NULL, 'p' },
		{ "interval", required_argument, NULL, 'i' },
		{ "no-timeout", no_argument, NULL, O_NO_TIMEOUT },
		{ "satellites", required_argument, NULL, O_SATELLITES },
		{ "satellite-down-at", required_argument, NULL, O_DOWN },
		{ "satellite-up-at", required_argument, NULL, O_UP },
		{ "satellite-script", required_argument, NULL, O_SCRIPT },
		{ "satellite-ports", required_argument, NULL, O_SAT_PORTS },
		{ "control-port", required_argument, NULL, O_CTL_PORT },
		{ "fetch-timeout", required_argument, NULL, O_FETCH },
		{ "target-cpu", required_argument, NULL, O_TARGET },
		{ "calibration-runtime", required_argument, NULL,
		    O_CAL_RUNTIME },
		{ "help", no_argument, NULL, 'h' },
		LTB_PLAN_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	char err[512];
	const char *why;
	uint64_t v;
	int ch;

	while ((ch = getopt_long(argc, argv, "p:i:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			o->plan = optarg;
			break;
		case 'i':
			o->interval = seconds_arg("--interval", optarg);
			if (o->interval < 0.01)
				bad_usage("--interval: at least 0.01 s");
			break;
		case O_NO_TIMEOUT:
			o->no_timeout = 1;
			break;
		case O_SATELLITES:
			o->satellites = optarg;
			break;
		case O_DOWN:
			o->down_at = seconds_arg("--satellite-down-at", optarg);
			break;
		case O_UP:
			o->up_at = seconds_arg("--satellite-up-at", optarg);
			break;
		case O_SCRIPT:
			o->script_path = optarg;
			break;
		case O_SAT_PORTS:
			sat_ports_arg(o, optarg);
			break;
		case O_CTL_PORT:
			if (ltb_parse_uint(optarg, 0, 65535, &v, &why) < 0) {
				snprintf(err, sizeof err, "bad --control-port "
				    "'%s': %s", optarg, why);
				bad_usage(err);
			}
			o->control_port = (uint16_t)v;
			break;
		case O_FETCH:
			o->fetch_timeout = seconds_arg("--fetch-timeout",
			    optarg);
			break;
		case O_TARGET:
			if (ltb_parse_double(optarg, 0.05, 0.99,
			    &o->target_cpu, &why) < 0) {
				snprintf(err, sizeof err, "bad --target-cpu "
				    "'%s': %s (a CPU share from 0.05 to 0.99)",
				    optarg, why);
				bad_usage(err);
			}
			break;
		case O_CAL_RUNTIME:
			o->calibration_runtime = seconds_arg(
			    "--calibration-runtime", optarg);
			break;
		case 'h':
			fputs(usage, stdout);
			exit(LTB_EXIT_OK);
		case '?':
			fputs(usage, stderr);
			exit(LTB_EXIT_USAGE);
		default:
			o->planned = 1;
			if (ltb_plan_flag(&o->p, ch, optarg, argv, argc,
			    &optind, err, sizeof err) < 0)
				bad_usage(err);
		}
	}
	if (optind < argc) {
		snprintf(err, sizeof err, "unexpected argument '%s'",
		    argv[optind]);
		bad_usage(err);
	}
	if (o->plan != NULL && o->planned)
		bad_usage("--plan and plan flags do not mix: plan with "
		    "ltb-control plan, or give the flags here");
	if (o->plan == NULL && ltb_plan_check(&o->p, err, sizeof err) < 0)
		bad_usage(err);
	if (o->sat_ports_given && o->satellites != NULL)
		bad_usage("--satellite-ports chooses the ports of the group "
		    "ltb-sample starts; with --satellites the group is "
		    "already running: choose with its ltb-satellite -p");
	if (o->up_at >= 0 && (o->down_at < 0 || o->up_at <= o->down_at))
		bad_usage("--satellite-up-at needs an earlier "
		    "--satellite-down-at");
	/* A script that would be refused is refused now, before any run. */
	if (o->script_path != NULL &&
	    ltb_script_load(&o->script, o->script_path, &o->script_json, err,
	    sizeof err) < 0)
		ltb_die(LTB_EXIT_USAGE, "--satellite-script: %s", err);
}

/* Everything the tool holds, for one cleanup path. */
struct sample {
	struct opts o;
	struct ltb_ctlserver *ctl;
	struct ltb_satgroup sats;
	struct ltb_runner runner;
	int live;			/* stderr is a tty: one line rewritten */
	cJSON **plan;
	size_t nplan, cap;
	size_t runs, nfailed;		/* results written, failed ones */
	/* For the ETA (whole plan read before the first run, so its length
	 * and runtimes are known, from a pipe too): */
	double *runtime;		/* each run's, by plan index */
	double *overhead;		/* wall time - runtime of each run
					 * done without error */
	size_t nover;
	size_t cur;			/* run under way, from 1; 0 none
					 * (calibrating) */
	double cur_t0;			/* its start, ltb_mono_s */
	char privdir[64];		/* ours, for what a group we start
					 * writes; "" if none: */
	char cert[96];			/* a TLS group's certificate */
	char sock[96];			/* the unix socket of a group for
					 * metrics clients */
};

static void
plan_add(cJSON *rec, void *ctx)
{
	struct sample *s = ctx;
	cJSON **p;

	if (s->nplan == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		if ((p = realloc(s->plan, s->cap * sizeof *p)) == NULL)
			ltb_die(LTB_EXIT_SYS, "out of memory");
		s->plan = p;
	}
	s->plan[s->nplan++] = rec;
}

/* A control record into the plan (ctx); other records are skipped. */
static int
add_control(cJSON *rec, const char *name, unsigned long line, void *ctx,
    char *err, size_t errlen)
{
	struct ltb_control m;
	char why[512];

	if (strcmp(ltb_json_str(rec, "type", ""), "control") != 0) {
		cJSON_Delete(rec);
		return 0;
	}
	ltb_control_default(&m);
	if (ltb_control_from_json(&m, rec, why, sizeof why) < 0) {
		snprintf(err, errlen, "%s:%lu: bad control record: %s", name,
		    line, why);
		cJSON_Delete(rec);
		errno = EINVAL;
		return -1;
	}
	/* the plan's own fields: a "contract" we cannot start, above all */
	if (ltb_record_check(rec, why, sizeof why) < 0) {
		snprintf(err, errlen, "%s:%lu: bad control record: %s", name,
		    line, why);
		cJSON_Delete(rec);
		errno = EINVAL;
		return -1;
	}
	plan_add(rec, ctx);
	return 0;
}

/* Control records from a file: exit 2 naming the line of a bad one. */
static void
read_plan(struct sample *s)
{
	char err[1024];

	if (ltb_jsonl_read_path(s->o.plan, add_control, s, err,
	    sizeof err) < 0)
		ltb_die(LTB_EXIT_USAGE, "%s", err);
	if (s->nplan == 0)
		ltb_die(LTB_EXIT_USAGE, "no control records in %s: nothing to "
		    "run", strcmp(s->o.plan, "-") == 0 ? "stdin" : s->o.plan);
}

/*
 * Whether the satellites speak TLS: asked for by a flag or by any record
 * of the plan, or said by an https:// --satellites URL, which then names
 * the admin API by its plain http:// URL in admin_url.
 */
static int
satellites_tls(struct sample *s, char *admin_url, size_t len)
{
	const char *url = s->o.satellites;
	int tls = s->o.p.tls;

	for (size_t i = 0; i < s->nplan; i++)
		tls |= ltb_json_bool(s->plan[i], "Tls", 0);
	if (url != NULL && strncmp(url, "https://", 8) == 0) {
		snprintf(admin_url, len, "http://%s", url + 8);
		return 1;
	}
	if (url != NULL)
		snprintf(admin_url, len, "%s", url);
	return tls;
}

/*
 * Every run's client speaks what the satellites speak. A TLS group we
 * started wrote its certificate: clients are told to verify it, unless a
 * record names a CA file of its own, so what is measured is the TLS a
 * tracer really does.
 */
static void
tell_tls(struct sample *s, int tls)
{
	cJSON *ca;

	for (size_t i = 0; i < s->nplan; i++) {
		cJSON_DeleteItemFromObjectCaseSensitive(s->plan[i], "Tls");
		if (cJSON_AddBoolToObject(s->plan[i], "Tls", tls) == NULL)
			ltb_die(LTB_EXIT_SYS, "out of memory");
		ca = cJSON_GetObjectItemCaseSensitive(s->plan[i], "TlsCaFile");
		if (!tls || s->cert[0] == '\0' || cJSON_IsString(ca))
			continue;
		cJSON_DeleteItemFromObjectCaseSensitive(s->plan[i],
		    "TlsCaFile");
		if (cJSON_AddStringToObject(s->plan[i], "TlsCaFile",
		    s->cert) == NULL)
			ltb_die(LTB_EXIT_SYS, "out of memory");
	}
}

/* A directory of our own that cleanup removes, for what a group we
 * start writes: its certificate, its unix socket. */
static const char *
private_dir(struct sample *s, const char *what)
{
	const char *tmp = getenv("TMPDIR");

	if (s->privdir[0] != '\0')
		return s->privdir;
	snprintf(s->privdir, sizeof s->privdir, "%s/ltb-sample.XXXXXX",
	    tmp != NULL && *tmp != '\0' && strlen(tmp) < 32 ? tmp : "/tmp");
	if (mkdtemp(s->privdir) == NULL)
		ltb_die(LTB_EXIT_SYS, "cannot make a directory for the "
		    "satellites' %s: %s: %s", what, s->privdir,
		    strerror(errno));
	return s->privdir;
}

/* The arguments of a TLS group we start: --tls, and where to write its
 * certificate, after the n in args. */
static size_t
tls_args(struct sample *s, char **args, size_t n)
{
	snprintf(s->cert, sizeof s->cert, "%s/cert.pem",
	    private_dir(s, "certificate"));
	args[n++] = "--tls";
	args[n++] = "--cert-out";
	args[n++] = s->cert;
	args[n] = NULL;
	return n;
}

/* Whether any run's unit is unit ("measurement": a metrics protocol;
 * "trace point": OSProfiler): the plan's records, or the flags that make
 * the plan. */
static int
runs_count(const struct sample *s, const char *unit)
{
	char why[256];
	int p;

	if (s->o.plan == NULL)
		return strcmp(ltb_control_protocol_unit(s->o.p.protocol),
		    unit) == 0;
	for (size_t i = 0; i < s->nplan; i++) {
		p = ltb_control_protocol(ltb_json_str(s->plan[i], "Protocol",
		    "lightstep"), why, sizeof why);
		if (p >= 0 && strcmp(ltb_control_protocol_unit(p), unit) == 0)
			return 1;
	}
	return 0;
}

static int
metrics_runs(const struct sample *s)
{
	return runs_count(s, "measurement");
}

static int
osprofiler_runs(const struct sample *s)
{
	return runs_count(s, "trace point");
}

/* The arguments of a group we start for metrics clients: spectatord's
 * datagram sockets, as many UDP ports as HTTP ones and a unix socket
 * in our directory, after the n in args. Only then, so that a tracer's
 * runs start the satellites as they always did. */
static size_t
datagram_args(struct sample *s, size_t nports, char **args, size_t n)
{
	static char ports[LTB_CONTROL_MAX_PORTS * 2 + 1];
	char *dargs[5];

	snprintf(s->sock, sizeof s->sock, "%s/ltb-sat-%d.sock",
	    private_dir(s, "unix socket"), (int)getpid());
	ltb_satgroup_datagram_args(nports, s->sock, ports, dargs);
	for (size_t i = 0; dargs[i] != NULL; i++)
		args[n++] = dargs[i];
	args[n] = NULL;
	return n;
}

/* The arguments of a group we start for OSProfiler clients: one RESP
 * port (its redis driver connects to one), after the n in args. */
static size_t
resp_args(char **args, size_t n)
{
	static char ports[LTB_CONTROL_MAX_PORTS * 2 + 1];
	char *rargs[3];

	ltb_satgroup_resp_args(1, ports, rargs);
	for (size_t i = 0; rargs[i] != NULL; i++)
		args[n++] = rargs[i];
	args[n] = NULL;
	return n;
}

/* A group we start on free ports, its default ones busy: clients that
 * read SatellitePorts reach it, one that hard-codes 8360 does not. */
static void
warn_fallback(const struct sample *s, const char *busy)
{
	char where[256];

	ltb_satgroup_where(&s->sats, where, sizeof where);
	ltb_warn("warning: %s: the satellites listen on free ports instead "
	    "(%s); a client that hard-codes 127.0.0.1:%d (as the original "
	    "LightStep Benchmarks clients do) will not reach them: free "
	    "ports %d-%d, or choose with --satellite-ports", busy, where,
	    FIRST_PORT, FIRST_PORT, FIRST_PORT + NPORTS - 1);
}

/* Start our own group, as the runs need it: on --satellite-ports, else
 * on the original's 8360-8367 when they are free, else on free ports. */
static int
spawn_satellites(struct sample *s, int tls, char *err, size_t errlen)
{
	char satellite[1024], busy[1024], why[901], *args[16];
	size_t n = 0, nports = s->o.nsat_ports;
	int rc;

	if (!s->o.sat_ports_given)
		for (nports = 0; nports < NPORTS; nports++)
			s->o.sat_ports[nports] = (uint16_t)(FIRST_PORT +
			    nports);
	args[0] = NULL;
	ltb_sibling_tool("ltb-satellite", satellite, sizeof satellite);
	if (tls)
		n = tls_args(s, args, n);
	if (metrics_runs(s))
		n = datagram_args(s, nports, args, n);
	if (osprofiler_runs(s))
		n = resp_args(args, n);
	rc = ltb_satgroup_spawn_on(&s->sats, satellite, s->o.sat_ports,
	    nports, !s->o.sat_ports_given, args, busy, sizeof busy, err,
	    errlen);
	if (rc == 1)
		warn_fallback(s, busy);
	if (rc < 0 && s->o.sat_ports_given) {
		snprintf(why, sizeof why, "%.900s", err);
		snprintf(err, errlen, "--satellite-ports: %s", why);
	}
	return rc < 0 ? -1 : 0;
}

/* A running group that does not say where its datagram sockets are
 * leaves metrics clients without SatelliteUdpPorts: say so, once. */
static void
check_datagrams(struct sample *s)
{
	if (!metrics_runs(s) || s->sats.datagrams_known)
		return;
	ltb_warn("warning: the satellites at %s do not say which UDP ports "
	    "or unix socket they serve (no udp_ports or unix_socket in "
	    "their /stats: an ltb-satellite without --udp, or older): "
	    "metrics clients get SatelliteUdpPorts [] and "
	    "SatelliteUnixSocket null", s->sats.admin_url);
}

/* A running group without RESP ports leaves OSProfiler clients with
 * nowhere to send: say so, once. */
static void
check_resp(struct sample *s)
{
	if (!osprofiler_runs(s) || s->sats.nresp > 0)
		return;
	ltb_warn("warning: the satellites at %s serve no RESP port (no "
	    "resp_ports in their /stats: an ltb-satellite without --resp, "
	    "or older): OSProfiler clients get SatelliteRespPorts []",
	    s->sats.admin_url);
}

/* The plan from flags, calibrating the client first if need be. */
static int
make_plan(struct sample *s, char *err, size_t errlen)
{
	struct ltb_calibrate_opts co;
	struct ltb_calibration cal;
	const char *name = s->o.p.client ? s->o.p.client : "cmd";
	int rc;

	ltb_calibrate_default(&co);
	co.client = s->o.p.client;
	co.client_cmd = s->o.p.client_cmd;
	co.protocol = s->o.p.protocol;
	co.contract = s->o.p.contract;
	co.target_cpu = s->o.target_cpu;
	if (s->o.calibration_runtime > 0)
		co.runtime = s->o.calibration_runtime;
	/* An unregistered command has no stable name to cache under. */
	/* A calibration of the other contract measured another window. */
	if (co.client_cmd != NULL ||
	    ltb_calibration_load(name, co.target_cpu, &cal) < 0 ||
	    cal.contract != co.contract) {
		ltb_warn("calibrating %s to %.2f CPU%s", name, co.target_cpu,
		    co.client_cmd == NULL ? " (cached for next time)" :
		    " (a command is not cached)");
		if ((rc = ltb_calibrate(&s->runner, &co, &cal, err,
		    errlen)) < 0)
			return rc;
		if (co.client_cmd == NULL &&
		    ltb_calibration_save(&cal, err, errlen) < 0)
			ltb_warn("%s", err);
	}
	if (ltb_plan(&s->o.p, &cal, plan_add, s) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static void
setup_clients(struct sample *s)
{
	char dir[1024], err[1024];

	/* Each registered client's setup once, before any run. */
	for (size_t i = 0; i < s->nplan; i++) {
		const char *name = ltb_json_str(s->plan[i], "client", NULL);
		int seen = 0;

		if (name == NULL || ltb_json_str(s->plan[i], "client_cmd",
		    NULL) != NULL)
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(name, ltb_json_str(s->plan[j], "client",
			    "")) == 0;
		if (seen || ltb_client_dir(name, dir, sizeof dir, err,
		    sizeof err) < 0)
			continue;	/* a missing client fails its run */
		if (ltb_client_setup(dir, err, sizeof err) < 0)
			ltb_warn("client '%s': %s", name, err);
	}
}

/* The plan's ETA in words into buf, from run index next on (elapsed_s
 * into it); "" when there is no plan under way (calibrating). */
static void
plan_eta(const struct sample *s, size_t next, double elapsed_s, char *buf,
    size_t len)
{
	double eta;
	int lower;

	buf[0] = '\0';
	if (s->runtime == NULL || next > s->nplan)
		return;
	eta = ltb_eta_s(s->runtime + next, s->nplan - next, elapsed_s,
	    s->overhead, s->nover, &lower);
	ltb_eta_format(eta, lower, time(NULL), buf, len);
}

/* Progress from the runner and the calibration (ctx: the sample): each
 * sample rewrites one line, on a tty only, with the run's place in the
 * plan and its ETA; a client's output and the calibration's steps are
 * passed on whole. */
static void
show_progress(const struct ltb_progress_event *ev, void *ctx)
{
	const struct sample *s = ctx;
	char line[1536], eta[96], where[160] = "";

	if (ltb_progress_line(ev, line, sizeof line)) {
		if (ev->what != LTB_PROGRESS_SAMPLE)
			ltb_warn("%s", line);
		else if (s->live) {
			if (s->cur > 0) {
				plan_eta(s, s->cur - 1, ltb_mono_s() -
				    s->cur_t0, eta, sizeof eta);
				snprintf(where, sizeof where, "; run %zu/%zu%s"
				    "%s", s->cur, s->nplan, eta[0] ? ", " : "",
				    eta);
			}
			fprintf(stderr, "\r%s: %s%s   ", ltb_prog, line, where);
		}
	}
	if (ev->what == LTB_PROGRESS_CLIENT_OUTPUT)
		fwrite(ev->u.output.text, 1, ev->u.output.len, stderr);
}

static void
report(struct sample *s, size_t i, const cJSON *res)
{
	const char *e = ltb_json_str(res, "error", NULL);
	const cJSON *recv = cJSON_GetObjectItemCaseSensitive(res,
	    "spans_received");
	const cJSON *dropped = cJSON_GetObjectItemCaseSensitive(res,
	    "dropped");
	char spans[160] = "", eta[96];

	/* in the run's unit: spans, a metrics client's measurements, trace
	 * points */
	if (cJSON_IsNumber(recv) && cJSON_IsNumber(dropped))
		snprintf(spans, sizeof spans, ", %.0f/%.0f %s, %.0f "
		    "dropped", recv->valuedouble,
		    ltb_json_num(res, "spans_sent", 0),
		    ltb_unit_plural(ltb_unit(res)), dropped->valuedouble);
	else if (cJSON_IsNumber(recv))	/* more arrived than were sent */
		snprintf(spans, sizeof spans, ", %.0f/%.0f %s",
		    recv->valuedouble, ltb_json_num(res, "spans_sent", 0),
		    ltb_unit_plural(ltb_unit(res)));
	plan_eta(s, i + 1, 0, eta, sizeof eta);
	fprintf(stderr, "%s%s: run %zu/%zu: %s %s %g sps %g s trial %.0f: "
	    "cpu %.3f, %.2f s%s%s%s%s%s\n", s->live ? "\r" : "",
	    ltb_prog, i + 1, s->nplan, ltb_json_str(res, "client", "?"),
	    ltb_json_bool(res, "trace", 0) ? "traced" : "noop",
	    ltb_json_num(res, "target_sps", 0),
	    ltb_json_num(res, "runtime", 0), ltb_json_num(res, "trial", 0),
	    ltb_json_num(res, "cpu_usage", 0),
	    ltb_json_num(res, "clock_time", 0), spans, e ? ": FAILED: " : "",
	    e ? e : "", eta[0] ? "; " : "", eta);
}

static void
cleanup(struct sample *s)
{
	for (size_t i = 0; i < s->nplan; i++)
		cJSON_Delete(s->plan[i]);
	free(s->plan);
	free(s->runtime);
	free(s->overhead);
	free(s->o.script_json);
	if (ltb_satgroup_stop(&s->sats))
		ltb_warn("warning: the satellites did not stop within 5 s of "
		    "SIGTERM and were killed");
	ltb_ctlserver_stop(s->ctl);
	if (s->privdir[0] != '\0') {
		if (s->cert[0] != '\0')
			unlink(s->cert);
		/* the satellites remove it at exit; one killed would not */
		if (s->sock[0] != '\0')
			unlink(s->sock);
		rmdir(s->privdir);
	}
}

/*
 * The last record: how much of the plan ran. Written however the plan
 * ends (finished, a run failed, interrupted, a satellite gone, calibration
 * refused), so a reader downstream can tell a whole stream from one cut
 * short. why is NULL when the plan finished; the runs from index next on
 * are listed as missing.
 */
static void
plan_end(struct sample *s, size_t next, const char *why, int inconclusive)
{
	cJSON *rec = ltb_record_new("plan_end"), *missing;
	char what[256];

	if (rec == NULL)
		return;
	cJSON_AddNumberToObject(rec, "planned", (double)s->nplan);
	cJSON_AddNumberToObject(rec, "runs", (double)s->runs);
	cJSON_AddNumberToObject(rec, "failed", (double)s->nfailed);
	cJSON_AddBoolToObject(rec, "complete", why == NULL);
	if (why != NULL) {
		cJSON_AddStringToObject(rec, "why", why);
		if (inconclusive)
			cJSON_AddBoolToObject(rec, "inconclusive", 1);
		missing = cJSON_AddArrayToObject(rec, "missing");
		for (size_t i = next; missing != NULL && i < s->nplan; i++) {
			const cJSON *p = s->plan[i];

			snprintf(what, sizeof what, "%s %s %g sps trial %g",
			    ltb_json_str(p, "client", "?"),
			    ltb_json_bool(p, "Trace", 0) ? "traced" : "NoOp",
			    ltb_json_num(p, "target_sps", 0),
			    ltb_json_num(p, "trial", 0));
			cJSON_AddItemToArray(missing,
			    cJSON_CreateString(what));
		}
	}
	/* A reader that went away gets nothing more; that is not an error. */
	ltb_jsonl_write(stdout, rec);
	cJSON_Delete(rec);
}

static int
run_plan(struct sample *s)
{
	char err[1024], why[1100];
	cJSON *res;

	s->runtime = calloc(s->nplan, sizeof *s->runtime);
	s->overhead = calloc(s->nplan, sizeof *s->overhead);
	if (s->runtime == NULL || s->overhead == NULL) {
		/* without an ETA, not without the plan */
		free(s->runtime);
		s->runtime = NULL;
	} else
		for (size_t i = 0; i < s->nplan; i++)
			s->runtime[i] = ltb_json_num(s->plan[i], "runtime", 0);
	for (size_t i = 0; i < s->nplan; i++) {
		s->cur = i + 1;
		s->cur_t0 = ltb_mono_s();
		res = ltb_run(&s->runner, s->plan[i], err, sizeof err);
		s->cur = 0;
		/* A failed run (a client that crashed at once) says nothing
		 * of what the others cost beyond their runtime. */
		if (res != NULL && s->runtime != NULL &&
		    ltb_json_str(res, "error", NULL) == NULL)
			s->overhead[s->nover++] = ltb_mono_s() - s->cur_t0 -
			    s->runtime[i];
		if (res == NULL) {
			if (s->runner.interrupted) {
				snprintf(why, sizeof why, "interrupted by %s",
				    strsignal(s->runner.interrupted));
				plan_end(s, i, why, 0);
				return 128 + s->runner.interrupted;
			}
			ltb_warn("%s", err);
			plan_end(s, i, err, 0);
			return LTB_EXIT_SYS;
		}
		report(s, i, res);
		s->runs++;
		if (ltb_json_str(res, "error", NULL) != NULL)
			s->nfailed++;
		if (ltb_jsonl_write(stdout, res) < 0) {
			cJSON_Delete(res);
			/* The reader went away: a clean stop. */
			return errno == EPIPE ? LTB_EXIT_OK : LTB_EXIT_SYS;
		}
		cJSON_Delete(res);
	}
	plan_end(s, s->nplan, NULL, 0);
	return s->nfailed > 0 ? LTB_EXIT_FAIL : LTB_EXIT_OK;
}

int
main(int argc, char **argv)
{
	static struct sample s;
	char err[1024], why[1100], admin_url[1024];
	sigset_t mask;
	int rc, tls;

	ltb_prog = "ltb-sample";
	ltb_plan_default(&s.o.p);
	s.o.interval = 1;
	s.o.down_at = s.o.up_at = -1;
	s.o.fetch_timeout = 10;
	s.o.target_cpu = 0.7;
	s.o.control_port = 8024;
	parse_args(argc, argv, &s.o);

	/* Before any thread: the runner alone takes these, in sigtimedwait. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	ltb_proc_become_subreaper();
	curl_global_init(CURL_GLOBAL_DEFAULT);

	if (s.o.plan != NULL)
		read_plan(&s);
	s.ctl = ltb_ctlserver_start("127.0.0.1", s.o.control_port, err,
	    sizeof err);
	if (s.ctl == NULL)
		ltb_die(LTB_EXIT_SYS, "%s (--control-port 0 picks a free "
		    "port)", err);
	tls = satellites_tls(&s, admin_url, sizeof admin_url);
	s.o.p.tls = tls;
	if (s.o.satellites != NULL) {
		rc = ltb_satgroup_attach(&s.sats, admin_url, err, sizeof err);
		if (rc == 0) {
			check_datagrams(&s);
			check_resp(&s);
		}
	} else
		rc = spawn_satellites(&s, tls, err, sizeof err);
	if (rc < 0) {
		ltb_warn("%s", err);
		plan_end(&s, 0, err, 0);
		cleanup(&s);
		return LTB_EXIT_SYS;
	}
	ltb_runner_init(&s.runner);
	s.runner.ctl = s.ctl;
	s.runner.sats = &s.sats;
	s.runner.interval = s.o.interval;
	s.runner.no_timeout = s.o.no_timeout;
	s.runner.down_at = s.o.down_at;
	s.runner.up_at = s.o.up_at;
	if (s.o.script_json != NULL) {
		s.runner.script = &s.o.script;
		s.runner.script_json = s.o.script_json;
	}
	s.runner.fetch_timeout = s.o.fetch_timeout;
	s.live = isatty(2);
	s.runner.progress.fn = show_progress;
	s.runner.progress.ctx = &s;

	if (s.o.plan == NULL && (rc = make_plan(&s, err, sizeof err)) < 0) {
		if (s.runner.interrupted) {
			snprintf(why, sizeof why, "interrupted by %s while "
			    "calibrating", strsignal(s.runner.interrupted));
			plan_end(&s, 0, why, 0);
			cleanup(&s);
			return 128 + s.runner.interrupted;
		}
		ltb_warn("%s", err);
		snprintf(why, sizeof why, "calibration %s: %s",
		    rc == LTB_CALIBRATE_INCONCLUSIVE ? "inconclusive" :
		    "failed", err);
		plan_end(&s, 0, why, rc == LTB_CALIBRATE_INCONCLUSIVE);
		cleanup(&s);
		return rc == LTB_CALIBRATE_INCONCLUSIVE ?
		    LTB_EXIT_INCONCLUSIVE : LTB_EXIT_FAIL;
	}
	tell_tls(&s, tls);
	setup_clients(&s);
	rc = run_plan(&s);
	cleanup(&s);
	if (rc == LTB_EXIT_OK && (ferror(stdout) || fclose(stdout) != 0))
		rc = errno == EPIPE ? LTB_EXIT_OK : LTB_EXIT_SYS;
	curl_global_cleanup();
	return rc;
}
