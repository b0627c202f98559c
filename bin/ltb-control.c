/*
 * ltb-control: the controller: calibration, plans, and serving one control
 * message by hand.
 *
 *   ltb-control calibrate   measure and cache a client's calibration
 *   ltb-control plan        write control records for ltb-sample
 *   ltb-control serve       serve one control message to a client started
 *                           by hand, and say what it fetched
 *
 * See common/run/ltb_calibrate.h, common/run/ltb_plan.h, common/run/ltb_control_server.h.
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

#include "run/ltb_calibrate.h"
#include "run/ltb_client_dir.h"
#include "core/ltb_clock.h"
#include "run/ltb_control_msg.h"
#include "run/ltb_control_server.h"
#include "core/ltb_jsonl.h"
#include "core/ltb_log.h"
#include "core/ltb_parse.h"
#include "run/ltb_plan.h"
#include "core/ltb_proc.h"
#include "run/ltb_run.h"
#include "run/ltb_satellite_admin.h"

static const char usage[] =
"usage: ltb-control calibrate (--client NAME | --client-cmd CMD)\n"
"                             [--target-cpu X] [--sps N] [--runtime S]\n"
"                             [--force] [--control-port PORT]\n"
"                             [--contract http|argv]\n"
"       ltb-control plan (--client NAME | --client-cmd CMD) [plan flags]\n"
"                        [--target-cpu X] [--calibration FILE]\n"
"       ltb-control serve [--control-port PORT] [--timeout S]\n"
"                         [--plan FILE|- | message flags]\n"
"\n"
"calibrate  Find the sleep per unit of work that makes the client use the\n"
"           target CPU with the NoOp tracer, and its work rate; print a\n"
"           calibration record and cache it per client and host (in\n"
"           $LTB_CACHE_DIR, else ~/.cache/ltb). --force measures again.\n"
"           --sps and --runtime set the calibration runs (500, 3 s).\n"
"plan       Write control records (JSON lines) for ltb-sample: one per\n"
"           rate, trial and arm, in rounds by trial, the rates shuffled\n"
"           by --seed, from the cached calibration (measured now if there\n"
"           is none) or --calibration FILE.\n"
"serve      Serve one control message at /control and wait for a client\n"
"           to fetch it; print a \"fetched\" record. The message is the\n"
"           first control record of --plan, or built from --trace,\n"
"           --repeat N, --work N, --sleep NS, --sleep-interval NS,\n"
"           --satellite-ports LIST, --protocol NAME, --line-buffer BYTES,\n"
"           --meters LIST, --tls, --tls-ca FILE (default: the defaults of\n"
"           ltb_control).\n"
"           A client's default protocol is the one line of its\n"
"           clients/NAME/protocol file (lightstep when it has none);\n"
"           calibrate and plan tell it that unless --protocol says\n"
"           otherwise.\n"
"\n"
"  --target-cpu X        the NoOp client's CPU to calibrate to (0.7)\n"
"  --control-port PORT   where clients fetch the message (default 8024;\n"
"                        0: any free port, printed on stderr)\n"
"  --timeout S           serve: give up after S s (default 60)\n"
"  -h, --help            this text\n"
"\n"
"Plan flags:\n"
LTB_PLAN_USAGE
"\n"
"Exit: 0 done; 1 calibration or a calibration run failed, or serve timed\n"
"out; 2 usage or bad input; 3 system failure (cannot bind, spawn);\n"
"4 calibration inconclusive: it did not converge on a busy machine.\n";

enum { CMD_CALIBRATE, CMD_PLAN, CMD_SERVE };

struct opts {
	int cmd;
	struct ltb_plan_opts p;
	struct ltb_calibrate_opts cal;
	const char *calibration;	/* plan: a calibration file */
	const char *plan;		/* serve: control records */
	int force;
	uint16_t control_port;
	double timeout;
	struct ltb_control msg;		/* serve: built from flags */
	int msg_flags;
	double sps_arg, runtime_arg;
};

static void
bad_usage(const char *msg)
{
	ltb_warn("%s", msg);
	fputs(usage, stderr);
	exit(LTB_EXIT_USAGE);
}

static uint64_t
count_arg(const char *flag, const char *arg, uint64_t max)
{
	const char *why;
	char msg[256];
	uint64_t v;

	if (ltb_parse_uint(arg, 0, max, &v, &why) < 0) {
		snprintf(msg, sizeof msg, "bad %s '%s': %s", flag, arg, why);
		bad_usage(msg);
	}
	return v;
}

static double
number_arg(const char *flag, const char *arg, double min, double max,
    const char *what)
{
	const char *why;
	char msg[512];
	double v;

	if (ltb_parse_double(arg, min, max, &v, &why) < 0) {
		snprintf(msg, sizeof msg, "bad %s '%s': %s (%s)", flag, arg,
		    why, what);
		bad_usage(msg);
	}
	return v;
}

static double
seconds_arg(const char *flag, const char *arg)
{
	const char *why;
	char msg[256];
	uint64_t ns;

	if (ltb_parse_seconds(arg, &ns, &why) < 0 || ns == 0) {
		snprintf(msg, sizeof msg, "bad %s '%s': %s", flag, arg,
		    ns == 0 ? "must be more than 0" : why);
		bad_usage(msg);
	}
	return (double)ns / 1e9;
}

/* serve's message flags. */
static void
message_flag(struct opts *o, int ch, const char *arg)
{
	enum { O_REPEAT = 300, O_WORK, O_SLEEP, O_SLEEP_INTERVAL, O_SAT_PORTS };
	uint16_t ports[LTB_MAX_PORTS];
	const char *why;
	char msg[256];
	size_t n;

	o->msg_flags = 1;
	switch (ch) {
	case O_REPEAT:
		o->msg.repeat = count_arg("--repeat", arg, UINT32_MAX);
		break;
	case O_WORK:
		o->msg.work = count_arg("--work", arg, UINT32_MAX);
		break;
	case O_SLEEP:
		o->msg.sleep_ns = count_arg("--sleep", arg, UINT32_MAX);
		break;
	case O_SLEEP_INTERVAL:
		o->msg.sleep_interval_ns = count_arg("--sleep-interval", arg,
		    UINT32_MAX);
		break;
	case O_SAT_PORTS:
		if (ltb_parse_ports(arg, ports, LTB_MAX_PORTS, &n, &why) < 0 ||
		    n > LTB_CONTROL_MAX_PORTS) {
			snprintf(msg, sizeof msg, "bad --satellite-ports '%s': "
			    "%s", arg, why ? why : "too many");
			bad_usage(msg);
		}
		memcpy(o->msg.satellite_ports, ports, n * sizeof ports[0]);
		o->msg.nports = n;
		break;
	}
}

static void
parse_args(int argc, char **argv, struct opts *o)
{
	enum { O_TARGET = 256, O_FORCE, O_CTL_PORT, O_TIMEOUT, O_CALIBRATION,
	    O_PLAN, O_CAL_SPS, O_REPEAT = 300, O_WORK, O_SLEEP,
	    O_SLEEP_INTERVAL, O_SAT_PORTS };
	static const struct option longopts[] = {
		{ "target-cpu", required_argument, NULL, O_TARGET },
		{ "force", no_argument, NULL, O_FORCE },
		{ "control-port", required_argument, NULL, O_CTL_PORT },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "calibration", required_argument, NULL, O_CALIBRATION },
		{ "plan", required_argument, NULL, O_PLAN },
		{ "repeat", required_argument, NULL, O_REPEAT },
		{ "work", required_argument, NULL, O_WORK },
		{ "sleep", required_argument, NULL, O_SLEEP },
		{ "sleep-interval", required_argument, NULL, O_SLEEP_INTERVAL },
		{ "satellite-ports", required_argument, NULL, O_SAT_PORTS },
		{ "help", no_argument, NULL, 'h' },
		LTB_PLAN_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	char err[512];
	int ch, trace_seen = 0, wire_seen = 0;

	if (argc < 2)
		bad_usage("name a command: calibrate, plan or serve");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fputs(usage, stdout);
		exit(LTB_EXIT_OK);
	}
	if (strcmp(argv[1], "calibrate") == 0)
		o->cmd = CMD_CALIBRATE;
	else if (strcmp(argv[1], "plan") == 0)
		o->cmd = CMD_PLAN;
	else if (strcmp(argv[1], "serve") == 0)
		o->cmd = CMD_SERVE;
	else {
		snprintf(err, sizeof err, "unknown command '%s': use "
		    "calibrate, plan or serve", argv[1]);
		bad_usage(err);
	}
	optind = 2;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case O_TARGET:
			o->cal.target_cpu = number_arg("--target-cpu", optarg,
			    0.05, 0.99, "a CPU share from 0.05 to 0.99");
			break;
		case O_FORCE:
			o->force = 1;
			break;
		case O_CTL_PORT:
			o->control_port = (uint16_t)count_arg("--control-port",
			    optarg, 65535);
			break;
		case O_TIMEOUT:
			o->timeout = seconds_arg("--timeout", optarg);
			break;
		case O_CALIBRATION:
			o->calibration = optarg;
			break;
		case O_PLAN:
			o->plan = optarg;
			break;
		case O_REPEAT: case O_WORK: case O_SLEEP:
		case O_SLEEP_INTERVAL: case O_SAT_PORTS:
			if (o->cmd != CMD_SERVE)
				bad_usage("--repeat, --work, --sleep, "
				    "--sleep-interval and --satellite-ports "
				    "are for serve");
			message_flag(o, ch, optarg);
			break;
		case LTB_OPT_SPS:
			/* calibrate takes one rate for its runs */
			if (o->cmd == CMD_CALIBRATE) {
				o->cal.sps = number_arg("--sps", optarg, 1,
				    1e7, "spans a second, from 1 to 1e7");
				break;
			}
			goto plan_flag;
		case LTB_OPT_RUNTIME:
			if (o->cmd == CMD_CALIBRATE) {
				o->cal.runtime = seconds_arg("--runtime",
				    optarg);
				break;
			}
			goto plan_flag;
		case 'h':
			fputs(usage, stdout);
			exit(LTB_EXIT_OK);
		case '?':
			fputs(usage, stderr);
			exit(LTB_EXIT_USAGE);
		default:
plan_flag:
			if (ch == LTB_OPT_TRACE)
				trace_seen = 1;
			if (ch == LTB_OPT_PROTOCOL || ch == LTB_OPT_TLS ||
			    ch == LTB_OPT_TLS_CA || ch == LTB_OPT_LINE_BUFFER ||
			    ch == LTB_OPT_METERS)
				wire_seen = 1;
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
	if (o->cmd == CMD_SERVE) {
		if (trace_seen) {
			o->msg_flags = 1;
			/* serve's message is one run: a traced one unless
			 * --trace says NoOp (off, or NoOp in both arms) */
			o->msg.trace = o->p.trace != LTB_TRACE_OFF &&
			    o->p.trace != LTB_TRACE_AA_NOOP;
		}
		/* how the client reports: a message flag for serve too */
		if (wire_seen) {
			o->msg_flags = 1;
			o->msg.protocol = o->p.protocol;
			o->msg.line_buffer_bytes = o->p.line_buffer_bytes;
			memcpy(o->msg.meters, o->p.meters,
			    sizeof o->msg.meters);
			o->msg.tls = o->p.tls;
			memcpy(o->msg.tls_ca_file, o->p.tls_ca_file,
			    sizeof o->msg.tls_ca_file);
		}
		if (o->plan != NULL && o->msg_flags)
			bad_usage("serve: --plan or message flags, not both");
		return;
	}
	if (ltb_plan_check(&o->p, err, sizeof err) < 0)
		bad_usage(err);
	o->cal.client = o->p.client;
	o->cal.client_cmd = o->p.client_cmd;
	o->cal.protocol = o->p.protocol;
	o->cal.contract = o->p.contract;
}

/* Progress from the calibration and its runs: its steps and a client's
 * output are passed on; the runs' samples are not shown. */
static void
show_progress(const struct ltb_progress_event *ev, void *ctx)
{
	char line[1536];

	if (ev->what == LTB_PROGRESS_SAMPLE)
		return;
	if (ltb_progress_line(ev, line, sizeof line))
		ltb_warn("%s", line);
	if (ev->what == LTB_PROGRESS_CLIENT_OUTPUT)
		fwrite(ev->u.output.text, 1, ev->u.output.len, stderr);
}

/* Satellites are not needed to calibrate (NoOp runs), but the runner
 * reads them; none are started. */
static int
start_runner(struct opts *o, struct ltb_runner *r, struct ltb_ctlserver **ctl)
{
	char err[512];

	*ctl = ltb_ctlserver_start("127.0.0.1", o->control_port, err,
	    sizeof err);
	if (*ctl == NULL) {
		ltb_warn("%s (--control-port 0 picks a free port)", err);
		return -1;
	}
	ltb_runner_init(r);
	r->ctl = *ctl;
	r->progress.fn = show_progress;
	return 0;
}

/* The calibration: cached, or measured now (and cached). */
static int
get_calibration(struct opts *o, struct ltb_calibration *cal, int *status)
{
	const char *name = o->p.client ? o->p.client : "cmd";
	struct ltb_ctlserver *ctl;
	struct ltb_runner r;
	char err[1024];
	int rc;

	/* A calibration of the other contract measured another window. */
	if (!o->force && o->p.client_cmd == NULL &&
	    ltb_calibration_load(name, o->cal.target_cpu, cal) == 0 &&
	    cal->contract == o->cal.contract)
		return 0;
	if (start_runner(o, &r, &ctl) < 0) {
		*status = LTB_EXIT_SYS;
		return -1;
	}
	rc = ltb_calibrate(&r, &o->cal, cal, err, sizeof err);
	ltb_ctlserver_stop(ctl);
	if (rc < 0) {
		ltb_warn("%s", err);
		*status = r.interrupted ? 128 + r.interrupted :
		    rc == LTB_CALIBRATE_INCONCLUSIVE ? LTB_EXIT_INCONCLUSIVE :
		    LTB_EXIT_FAIL;
		return -1;
	}
	if (o->p.client_cmd == NULL && ltb_calibration_save(cal, err,
	    sizeof err) < 0)
		ltb_warn("%s", err);
	return 0;
}

static int
print(cJSON *rec)
{
	int rc = rec ? ltb_jsonl_write(stdout, rec) : -1;

	cJSON_Delete(rec);
	return rc;
}

static int
cmd_calibrate(struct opts *o)
{
	struct ltb_calibration cal;
	int status = LTB_EXIT_OK;

	if (get_calibration(o, &cal, &status) < 0)
		return status;
	fprintf(stderr, "%s: %s: %.3f CPU for %.2f (%+.3f), %.4g work/s\n",
	    ltb_prog, cal.client, cal.achieved_cpu, cal.target_cpu,
	    cal.achieved_cpu - cal.target_cpu, cal.work_per_second);
	return print(ltb_calibration_record(&cal)) < 0 ? LTB_EXIT_SYS :
	    LTB_EXIT_OK;
}

static void
emit(cJSON *rec, void *ctx)
{
	int *failed = ctx;

	if (ltb_jsonl_write(stdout, rec) < 0)
		*failed = 1;
	cJSON_Delete(rec);
}

/* The first record of a type in a file, with where it was. */
struct first {
	const char *type;
	cJSON *rec;
	const char *name;
	unsigned long line;
};

static int
take_first(cJSON *rec, const char *name, unsigned long line, void *ctx,
    char *err, size_t errlen)
{
	struct first *f = ctx;

	if (strcmp(ltb_json_str(rec, "type", ""), f->type) != 0) {
		cJSON_Delete(rec);
		return 0;
	}
	f->rec = rec;
	f->name = name;
	f->line = line;
	return 1;
}

/* The caller owns f->rec; dies when there is none or the file is bad. */
static void
first_record(const char *path, const char *type, struct first *f)
{
	char err[1024];

	f->type = type;
	f->rec = NULL;
	if (ltb_jsonl_read_path(path, take_first, f, err, sizeof err) < 0)
		ltb_die(LTB_EXIT_USAGE, "%s", err);
	if (f->rec == NULL)
		ltb_die(LTB_EXIT_USAGE, "no %s record in %s", type,
		    strcmp(path, "-") == 0 ? "stdin" : path);
}

static void
load_calibration_file(const char *path, struct ltb_calibration *cal)
{
	struct first f;
	char err[512];

	first_record(path, "calibration", &f);
	if (ltb_calibration_from_json(cal, f.rec, err, sizeof err) < 0)
		ltb_die(LTB_EXIT_USAGE, "%s:%lu: %s", f.name, f.line, err);
	cJSON_Delete(f.rec);
}

static int
cmd_plan(struct opts *o)
{
	struct ltb_calibration cal;
	int status = LTB_EXIT_OK, failed = 0;

	if (o->calibration != NULL)
		load_calibration_file(o->calibration, &cal);
	else if (get_calibration(o, &cal, &status) < 0)
		return status;
	if (ltb_plan(&o->p, &cal, emit, &failed) < 0)
		ltb_die(LTB_EXIT_SYS, "out of memory");
	if (failed)
		return errno == EPIPE ? LTB_EXIT_OK : LTB_EXIT_SYS;
	return LTB_EXIT_OK;
}

/* serve's message: the first control record of --plan, or the flags. */
static char *
serve_message(struct opts *o)
{
	struct first f;
	cJSON *msg;
	char err[512], *s;

	if (o->plan == NULL) {
		msg = cJSON_CreateObject();
		if (msg == NULL || ltb_control_to_json(&o->msg, msg) < 0)
			ltb_die(LTB_EXIT_SYS, "out of memory");
		s = cJSON_PrintUnformatted(msg);
		cJSON_Delete(msg);
		return s;
	}
	first_record(o->plan, "control", &f);
	if (ltb_control_from_json(&o->msg, f.rec, err, sizeof err) < 0)
		ltb_die(LTB_EXIT_USAGE, "%s:%lu: %s", f.name, f.line, err);
	cJSON_Delete(f.rec);
	o->plan = NULL;
	return serve_message(o);
}

static int
cmd_serve(struct opts *o)
{
	struct ltb_ctlserver *ctl;
	double end, first;
	char err[512], peer[64], *json = serve_message(o);
	sigset_t mask;
	cJSON *rec, *msg;
	int rc = LTB_EXIT_OK;

	if (json == NULL)
		ltb_die(LTB_EXIT_SYS, "out of memory");
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if ((ctl = ltb_ctlserver_start("127.0.0.1", o->control_port, err,
	    sizeof err)) == NULL) {
		free(json);
		ltb_die(LTB_EXIT_SYS, "%s", err);
	}
	ltb_ctlserver_set(ctl, json);
	fprintf(stderr, "%s: serving at %s; start the client with "
	    "LTB_CONTROL_URL=%s\n", ltb_prog, ltb_ctlserver_url(ctl),
	    ltb_ctlserver_url(ctl));
	end = ltb_mono_s() + (o->timeout > 0 ? o->timeout : 60);
	for (;;) {
		struct timespec ts = { 0, 20000000 };

		if (ltb_ctlserver_fetches(ctl, &first, peer, sizeof peer) > 0)
			break;
		if (sigtimedwait(&mask, NULL, &ts) > 0) {
			rc = 130;
			goto out;
		}
		if (ltb_mono_s() > end) {
			ltb_warn("no client fetched the control message from "
			    "%s", ltb_ctlserver_url(ctl));
			rc = LTB_EXIT_FAIL;
			goto out;
		}
	}
	rec = ltb_record_new("fetched");
	msg = cJSON_Parse(json);
	if (rec == NULL || msg == NULL)
		ltb_die(LTB_EXIT_SYS, "out of memory");
	cJSON_AddStringToObject(rec, "url", ltb_ctlserver_url(ctl));
	cJSON_AddStringToObject(rec, "peer", peer);
	cJSON_AddItemToObject(rec, "message", msg);
	if (print(rec) < 0)
		rc = LTB_EXIT_SYS;
out:
	free(json);
	ltb_ctlserver_stop(ctl);
	return rc;
}

int
main(int argc, char **argv)
{
	static struct opts o;
	sigset_t mask;

	ltb_prog = "ltb-control";
	ltb_plan_default(&o.p);
	ltb_calibrate_default(&o.cal);
	ltb_control_default(&o.msg);
	o.control_port = 8024;
	parse_args(argc, argv, &o);
	signal(SIGPIPE, SIG_IGN);
	if (o.cmd == CMD_SERVE)
		return cmd_serve(&o);

	/* Calibration runs clients: the runner's signals, as in ltb-sample. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	ltb_proc_become_subreaper();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return o.cmd == CMD_CALIBRATE ? cmd_calibrate(&o) : cmd_plan(&o);
}
