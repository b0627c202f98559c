/*
 * ltb_run.c: one benchmark run; see ltb_run.h.
 *
 * The client runs under a keeper (ltb_proc_spawn_kept), which kills and
 * reaps its whole tree when it exits, or when we, or our death, stop it.
 * The loop waits in sigtimedwait for the next of: a sample tick, a
 * satellite event, the fetch deadline, the timeout, the keeper's exit
 * (SIGCHLD) or an interrupt.
 *
 * The measurement window runs from the client's fetch of its control
 * message to its exit: the control server's fetch hook takes the tree's
 * CPU and the time at the fetch, and what came before is the client's
 * start-up (startup_cpu, startup_time), left out of program_time,
 * clock_time and cpu_usage, so a tracer is not charged for an
 * interpreter's start. Totals come from wait4's rusage of the keeper (the
 * client and every descendant, all reaped by the keeper), less the
 * keeper's own CPU; the samples in between come from /proc, for the lists,
 * and start at the fetch too.
 *
 * An argv client (the original's contract) fetches nothing: it is started
 * with the original controller's flags, and its window is the whole
 * process less its start-up, measured apart by runs of --repeat 0
 * (ltb_run_startup) or by the calibration: the window is made to open that
 * long after the spawn, with that much CPU already spent, and the rest of
 * the runner does not tell the two contracts apart.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run/ltb_client_dir.h"
#include "core/ltb_clock.h"
#include "run/ltb_control_msg.h"
#include "core/ltb_jsonl.h"
#include "core/ltb_proc.h"
#include "core/ltb_stats.h"
#include "run/ltb_run.h"
#include "records/ltb_records.h"

#define SETTLE_POLL 0.05	/* s between satellite count reads */
#define SETTLE_STABLE 4		/* equal reads that mean settled */
#define SETTLE_MAX 5.0		/* s at most */
#define FETCH_POLL 0.05		/* s between looks for the fetch */
#define KEEPER_GRACE 10.0	/* s for a keeper to end its tree */

/* Between the runner and the control server's thread, which runs the
 * fetch hook: the keeper's pid, the fetch's time and start-up CPU. One run
 * at a time, so one lock. */
static pthread_mutex_t fetch_lock = PTHREAD_MUTEX_INITIALIZER;

/* What one run gathers. */
struct run {
	struct ltb_runner *r;
	const cJSON *rec;
	int argv;			/* the argv contract */
	int probe;			/* a start-up probe: the whole process */
	const char *startup_from;	/* argv: "calibration", "probe" or
					 * "none" (its probe failed) */
	char flags[8][24];		/* argv: the flags' values */
	char *sh_cmd;			/* argv --client-cmd: CMD "$@" */
	struct ltb_control msg;
	char client[128];
	char cmd_err[512];
	pid_t pid;			/* the keeper's */
	int reaped;			/* the keeper was waited for */
	int out_fd;			/* the client's stdout, a temp file */
	double t0, t_end, deadline, fetch_deadline;
	int fetched;			/* the window has started */
	double t_fetch, startup_cpu;	/* at the fetch (fetch_lock) */
	double keeper_cpu;		/* the keeper's own, not the client's */
	double window_cpu, window_time, startup_time;
	double next_sample, last_sample_t, last_sample_cpu;
	cJSON *cpu_list, *memory_list, *events;
	uint64_t memory_max, memory_last;
	int down_done, up_done;
	int script_posted;		/* 1 posted, -1 refused */
	double t_script;		/* when the satellites took it */
	size_t script_next;		/* the next step to record */
	int status;			/* from wait4 */
	struct rusage ru;
	const char *error;		/* why the run failed, or NULL */
	char error_buf[1024];
	double host_busy0, host_steal0, self_cpu0, sat_cpu0;
	struct ltb_satcounts before;	/* the satellites' counts at start */
	struct ltb_satcounts got;	/* what arrived during the run */
};

void
ltb_runner_init(struct ltb_runner *r)
{
	memset(r, 0, sizeof *r);
	r->interval = 1.0;
	r->down_at = -1;
	r->up_at = -1;
	r->fetch_timeout = 10.0;
	ltb_host_read(&r->host);
}

static double
rusage_cpu(const struct rusage *ru)
{
	return (double)ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6 +
	    (double)ru->ru_stime.tv_sec + ru->ru_stime.tv_usec / 1e6;
}

static double
self_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return rusage_cpu(&ru);
}

static void
fail_run(struct run *x, const char *fmt, const char *arg)
{
	if (x->error != NULL)
		return;
	snprintf(x->error_buf, sizeof x->error_buf, fmt, arg);
	x->error = x->error_buf;
}

/* Where event times and satellite schedules count from: the fetch once
 * it happened. */
static double
window_start(const struct run *x)
{
	return x->fetched ? x->t_fetch : x->t0;
}

static void
add_event(struct run *x, const char *what)
{
	cJSON *e = cJSON_CreateObject();

	if (e == NULL)
		return;
	cJSON_AddNumberToObject(e, "t", round((ltb_mono_s() - window_start(x)) *
	    1000) / 1000);
	cJSON_AddStringToObject(e, "event", what);
	cJSON_AddItemToArray(x->events, e);
}

/* A script's step i as an event, at its start: {"t": ..., "event":
 * "script_step", "step": i, "for_s": ..., "answer": "429 Retry-After 2"}.
 * The graphs draw it as a stretch of time. */
static void
step_event(struct run *x, size_t i)
{
	const struct ltb_script_step *st = &x->r->script->step[i];
	cJSON *e = cJSON_CreateObject();
	char what[96];

	if (e == NULL)
		return;
	ltb_script_step_describe(st, what, sizeof what);
	cJSON_AddNumberToObject(e, "t", round((x->t_script + st->at_s -
	    window_start(x)) * 1000) / 1000);
	cJSON_AddStringToObject(e, "event", "script_step");
	cJSON_AddNumberToObject(e, "step", (double)i);
	cJSON_AddNumberToObject(e, "for_s", st->for_s);
	cJSON_AddStringToObject(e, "answer", what);
	cJSON_AddItemToArray(x->events, e);
}

/* Post the script as the window opens; its clock starts on the
 * satellites when they take it, between our asking and their answer. */
static void
post_script(struct run *x)
{
	struct ltb_runner *r = x->r;
	double t = ltb_mono_s();
	char err[512];

	if (ltb_satgroup_script(r->sats, r->script_json, err,
	    sizeof err) < 0) {
		x->script_posted = -1;
		fail_run(x, "cannot give the satellites their script: %s", err);
		return;
	}
	x->script_posted = 1;
	x->t_script = (t + ltb_mono_s()) / 2;
}

/* The original controller's flags, in its order and spelling, after
 * argv[k]: booleans 0 or 1, times in ns. */
static void
original_flags(struct run *x, char **argv, int k)
{
	static const char *const names[8] = { "--trace", "--sleep",
	    "--sleep_interval", "--work", "--repeat", "--no_flush",
	    "--num_tags", "--num_logs" };
	const struct ltb_control *m = &x->msg;
	unsigned long long v[8] = { m->trace ? 1 : 0, m->sleep_ns,
	    m->sleep_interval_ns, m->work, m->repeat, m->no_flush ? 1 : 0,
	    m->num_tags, m->num_logs };

	for (int i = 0; i < 8; i++) {
		snprintf(x->flags[i], sizeof x->flags[i], "%llu", v[i]);
		argv[k++] = (char *)names[i];
		argv[k++] = x->flags[i];
	}
	argv[k] = NULL;
}

/* The argv that starts the client: clients/NAME/run or sh -c CMD; for
 * the argv contract, with the original's flags after it (sh -c 'CMD
 * "$@"' ltb-client FLAGS..., so the flags follow CMD). argv holds
 * CLIENT_ARGV_MAX. */
#define CLIENT_ARGV_MAX 24
static int
client_argv(struct run *x, char *run_path, size_t len, char **argv,
    char *err, size_t errlen)
{
	const char *cmd = ltb_json_str(x->rec, "client_cmd", NULL);
	char dir[1024];
	size_t n;

	if (cmd != NULL) {
		argv[0] = "/bin/sh";
		argv[1] = "-c";
		argv[2] = (char *)cmd;
		argv[3] = NULL;
		if (!x->argv)
			return 0;
		n = strlen(cmd) + sizeof " \"$@\"";
		if ((x->sh_cmd = malloc(n)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		snprintf(x->sh_cmd, n, "%s \"$@\"", cmd);
		argv[2] = x->sh_cmd;
		argv[3] = "ltb-client";
		original_flags(x, argv, 4);
		return 0;
	}
	if (ltb_client_dir(x->client, dir, sizeof dir, err, errlen) < 0)
		return -1;
	snprintf(run_path, len, "%s/run", dir);
	argv[0] = run_path;
	argv[1] = NULL;
	if (x->argv)
		original_flags(x, argv, 1);
	return 0;
}

/* The message the client fetches: the record's control fields, with the
 * satellites filled in: their host and HTTP ports, their datagram
 * sockets and their RESP ports (none unless the group serves them). */
static char *
control_json(struct run *x)
{
	struct ltb_satgroup *g = x->r->sats;
	cJSON *o = cJSON_CreateObject();
	char *s;

	if (g != NULL) {
		snprintf(x->msg.satellite_host, sizeof x->msg.satellite_host,
		    "%s", g->host);
		x->msg.nports = g->nports;
		memcpy(x->msg.satellite_ports, g->ports,
		    g->nports * sizeof g->ports[0]);
		/* where a metrics client sends its datagrams */
		x->msg.nudp = g->nudp;
		memcpy(x->msg.satellite_udp_ports, g->udp_ports,
		    g->nudp * sizeof g->udp_ports[0]);
		memcpy(x->msg.satellite_unix, g->unix_socket,
		    sizeof x->msg.satellite_unix);
		/* where an OSProfiler client's redis driver connects */
		x->msg.nresp = g->nresp;
		memcpy(x->msg.satellite_resp_ports, g->resp_ports,
		    g->nresp * sizeof g->resp_ports[0]);
	}
	if (o == NULL || ltb_control_to_json(&x->msg, o) < 0) {
		cJSON_Delete(o);
		return NULL;
	}
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

/* The control server's fetch hook: the tree's CPU at the fetch. */
static void
on_fetch(void *arg, double t)
{
	struct run *x = arg;
	struct ltb_proc_sample s;

	pthread_mutex_lock(&fetch_lock);
	x->t_fetch = t;
	if (x->pid > 0 && ltb_proc_tree_sample(x->pid, &s) == 0)
		x->startup_cpu = s.cpu_s;
	pthread_mutex_unlock(&fetch_lock);
}

/* The window opens at the fetch: samples, the timeout and the satellite
 * events count from it. 1 once fetched. */
static int
check_fetch(struct run *x)
{
	struct ltb_runner *r = x->r;
	double runtime = ltb_json_num(x->rec, "runtime", 0), now;

	if (x->fetched)
		return 1;
	if (ltb_ctlserver_fetches(r->ctl, NULL, NULL, 0) == 0)
		return 0;
	pthread_mutex_lock(&fetch_lock);
	x->fetched = 1;
	pthread_mutex_unlock(&fetch_lock);
	now = ltb_mono_s();
	x->fetch_deadline = 0;
	x->last_sample_t = x->t_fetch;
	x->last_sample_cpu = x->startup_cpu;
	x->next_sample = x->t_fetch + r->interval;
	if (x->next_sample < now)
		x->next_sample = now + r->interval;
	if (!r->no_timeout)
		x->deadline = x->t_fetch + fmax(2 * runtime, runtime + 5);
	return 1;
}

static void
sample(struct run *x)
{
	struct ltb_proc_sample s;
	double now = ltb_mono_s(), dt = now - x->last_sample_t;

	if (ltb_proc_tree_sample(x->pid, &s) < 0 || s.nprocs == 0)
		return;
	if (dt > 0) {
		double cpu = (s.cpu_s - x->last_sample_cpu) / dt;

		cJSON_AddItemToArray(x->cpu_list,
		    cJSON_CreateNumber(round(cpu * 10000) / 10000));
	}
	cJSON_AddItemToArray(x->memory_list, cJSON_CreateNumber((double)s.rss));
	x->memory_last = s.rss;
	if (s.rss > x->memory_max)
		x->memory_max = s.rss;
	x->last_sample_t = now;
	x->last_sample_cpu = s.cpu_s;
}

/* Satellite events due by now. */
static void
drive_satellites(struct run *x)
{
	struct ltb_runner *r = x->r;
	double t = ltb_mono_s() - x->t_fetch;
	char err[512];

	if (r->sats == NULL || !x->fetched)
		return;
	if (!x->down_done && r->down_at >= 0 && t >= r->down_at) {
		x->down_done = 1;
		if (ltb_satgroup_post(r->sats, "down", err, sizeof err) < 0)
			fail_run(x, "cannot take the satellites down: %s", err);
		else
			add_event(x, "satellite_down");
	}
	if (!x->up_done && r->up_at >= 0 && t >= r->up_at) {
		x->up_done = 1;
		if (ltb_satgroup_post(r->sats, "up", err, sizeof err) < 0)
			fail_run(x, "cannot bring the satellites up: %s", err);
		else
			add_event(x, "satellite_up");
	}
	if (r->script != NULL && x->script_posted == 0)
		post_script(x);
	while (x->script_posted == 1 && x->script_next < r->script->n &&
	    ltb_mono_s() >= x->t_script +
	    r->script->step[x->script_next].at_s)
		step_event(x, x->script_next++);
}

static double
next_wakeup(struct run *x)
{
	struct ltb_runner *r = x->r;
	double t = x->next_sample;

	if (x->deadline > 0 && x->deadline < t)
		t = x->deadline;
	if (x->fetch_deadline > 0 && x->fetch_deadline < t)
		t = x->fetch_deadline;
	if (!x->fetched)
		return t;
	if (!x->down_done && r->down_at >= 0 && x->t_fetch + r->down_at < t)
		t = x->t_fetch + r->down_at;
	if (!x->up_done && r->up_at >= 0 && x->t_fetch + r->up_at < t)
		t = x->t_fetch + r->up_at;
	if (x->script_posted == 1 && x->script_next < r->script->n &&
	    x->t_script + r->script->step[x->script_next].at_s < t)
		t = x->t_script + r->script->step[x->script_next].at_s;
	return t;
}

/* An argv run's window opens as its start-up ends: that long after the
 * spawn, that much CPU spent (a probe's at once, with none). Samples go
 * on from the spawn; the timeout counts from the window's start. */
static void
open_argv_window(struct run *x)
{
	struct ltb_runner *r = x->r;
	double runtime = ltb_json_num(x->rec, "runtime", 0);

	x->fetched = 1;
	x->fetch_deadline = 0;
	x->t_fetch = x->t0 + x->startup_time;
	x->last_sample_t = x->t0;
	x->last_sample_cpu = 0;
	x->next_sample = x->t0 + r->interval;
	if (!r->no_timeout)
		x->deadline = x->t_fetch + fmax(2 * runtime, runtime + 5);
}

/* Stop the keeper if it still runs (it kills and reaps the client's
 * tree), take the kernel's totals, and split them at the fetch into
 * start-up and window. */
static void
reap_group(struct run *x)
{
	double total;

	if (!x->reaped) {
		if (x->t_end == 0)
			x->t_end = ltb_mono_s();
		if (ltb_proc_stop_kept(x->pid, KEEPER_GRACE, &x->status,
		    &x->ru, &x->keeper_cpu) == 0)
			x->reaped = 1;
	}
	ltb_ctlserver_on_fetch(x->r->ctl, NULL, NULL);
	total = rusage_cpu(&x->ru) - x->keeper_cpu;
	if (total < 0)
		total = 0;
	if (x->fetched) {
		x->startup_time = x->t_fetch - x->t0;
		x->window_time = x->t_end - x->t_fetch;
		x->window_cpu = total - x->startup_cpu;
		if (x->window_cpu < 0)
			x->window_cpu = 0;
		/* an argv run shorter than its start-up: said by ltb_run */
		if (x->window_time < 0)
			x->window_time = 0;
	} else {
		/* Nothing was measured: it was all start-up. */
		x->startup_time = x->t_end - x->t0;
		x->startup_cpu = total;
	}
}

/* The figures so far, to the tool's progress callback. */
static void
progress(struct run *x)
{
	struct ltb_progress_event ev = {
		.what = LTB_PROGRESS_SAMPLE,
		.client = x->client,
	};

	ev.u.sample.rec = x->rec;
	ev.u.sample.trace = x->msg.trace;
	ev.u.sample.target_sps = ltb_json_num(x->rec, "target_sps", 0);
	ev.u.sample.done_s = ltb_mono_s() - window_start(x);
	ev.u.sample.runtime_s = ltb_json_num(x->rec, "runtime", 0);
	ev.u.sample.cpu = x->fetched && x->last_sample_t > x->t_fetch ?
	    (x->last_sample_cpu - x->startup_cpu) /
	    (x->last_sample_t - x->t_fetch) : 0;
	ev.u.sample.rss = x->memory_last;
	ltb_progress_say(&x->r->progress, &ev);
}

/* Wait for the client to exit, sampling. 0 when it exited or the run
 * failed; -1 when interrupted. */
static int
watch(struct run *x)
{
	struct ltb_runner *r = x->r;
	sigset_t mask;
	siginfo_t si;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	x->last_sample_t = x->t0;
	x->next_sample = x->t0 + FETCH_POLL;
	x->fetch_deadline = x->t0 + r->fetch_timeout;
	if (x->argv)
		open_argv_window(x);
	for (;;) {
		double now = ltb_mono_s(), wake = next_wakeup(x);
		double dt = wake - now;
		struct timespec ts;
		int sig;

		if (ltb_proc_reap_kept(x->pid, &x->status, &x->ru,
		    &x->keeper_cpu) == 1) {
			x->t_end = ltb_mono_s();
			x->reaped = 1;
			/* Exiting, even with status 0, without ever asking
			 * what to do measured nothing. */
			if (!check_fetch(x))
				fail_run(x, "the client never fetched its "
				    "control message from %s",
				    ltb_ctlserver_url(r->ctl));
			return 0;
		}
		if (dt > 0) {
			ts.tv_sec = (time_t)dt;
			ts.tv_nsec = (long)((dt - (double)ts.tv_sec) * 1e9);
			sig = sigtimedwait(&mask, &si, &ts);
			if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
				r->interrupted = sig;
				return -1;
			}
			if (sig == SIGCHLD)
				continue;
		}
		now = ltb_mono_s();
		if (!check_fetch(x)) {
			if (now >= x->fetch_deadline) {
				fail_run(x, "the client never fetched its "
				    "control message from %s",
				    ltb_ctlserver_url(r->ctl));
				break;
			}
			x->next_sample = now + FETCH_POLL;
			continue;
		}
		if (now >= x->next_sample) {
			sample(x);
			progress(x);
			x->next_sample += r->interval;
			if (x->next_sample < now)
				x->next_sample = now + r->interval;
		}
		drive_satellites(x);
		if (x->deadline > 0 && now >= x->deadline) {
			char secs[32];

			snprintf(secs, sizeof secs, "%.1f",
			    x->deadline - x->t_fetch);
			fail_run(x, "the client did not finish in %s s "
			    "(timeout: twice the runtime, at least runtime + "
			    "5 s; --no-timeout to wait)", secs);
			break;
		}
	}
	/* Failed: stop it (the keeper kills its tree), and take what the
	 * kernel says it used. */
	x->t_end = ltb_mono_s();
	reap_group(x);
	return 0;
}

/* Read the satellites' counts until their spans stop moving: reports
 * still in flight when the client exited are counted as they land. The
 * last read is the counts the run keeps. */
static int
settled_counts(struct run *x, struct ltb_satcounts *c, char *err,
    size_t errlen)
{
	double end = ltb_mono_s() + SETTLE_MAX;
	uint64_t last = UINT64_MAX;
	int stable = 0;

	for (;;) {
		if (ltb_satgroup_counts(x->r->sats, c, err, errlen) < 0)
			return -1;
		stable = c->spans_received == last ? stable + 1 : 0;
		last = c->spans_received;
		if (stable >= SETTLE_STABLE || ltb_mono_s() > end)
			return 0;
		usleep((useconds_t)(SETTLE_POLL * 1e6));
	}
}

/*
 * The client's stdout, read bounded: its last {"type":"client",...} line
 * is its summary, and of the rest only the last TAIL_MAX bytes go to the
 * progress callback (a chatty client must not flood a CI log or our
 * memory), with the count of what was left out. A line longer than
 * LINE_MAX is no summary. A summary that does not parse, or claims what
 * cannot be, fails the run: its figures would be believed otherwise.
 */
#define LINE_MAX_ 65536
#define TAIL_MAX 4096

struct outread {
	char line[LINE_MAX_];
	size_t len;
	int overlong;
	char tail[TAIL_MAX];
	size_t tail_len;
	uint64_t skipped;	/* bytes of output not passed on */
	cJSON *summary;
};

static void
tail_add(struct outread *o, const char *p, size_t n)
{
	if (n >= TAIL_MAX) {
		o->skipped += o->tail_len + (n - TAIL_MAX);
		memcpy(o->tail, p + (n - TAIL_MAX), TAIL_MAX);
		o->tail_len = TAIL_MAX;
		return;
	}
	if (o->tail_len + n > TAIL_MAX) {
		size_t drop = o->tail_len + n - TAIL_MAX;

		o->skipped += drop;
		memmove(o->tail, o->tail + drop, o->tail_len - drop);
		o->tail_len -= drop;
	}
	memcpy(o->tail + o->tail_len, p, n);
	o->tail_len += n;
}

static void
line_done(struct run *x, struct outread *o)
{
	cJSON *j;

	if (o->overlong) {
		o->skipped += o->len;
		o->len = 0;
		o->overlong = 0;
		return;
	}
	o->line[o->len] = '\0';
	j = o->line[0] == '{' ? cJSON_Parse(o->line) : NULL;
	if (j != NULL && strcmp(ltb_json_str(j, "type", ""), "client") == 0) {
		cJSON_Delete(o->summary);
		o->summary = j;
	} else {
		/* Meant as a summary, but not one we can read. */
		if (j == NULL && strstr(o->line, "\"type\"") != NULL &&
		    strstr(o->line, "\"client\"") != NULL)
			fail_run(x, "the client's summary line is not valid "
			    "JSON: %.80s", o->line);
		cJSON_Delete(j);
		o->line[o->len] = '\n';
		tail_add(o, o->line, o->len + 1);
	}
	o->len = 0;
}

static cJSON *
client_summary(struct run *x)
{
	struct outread *o;
	char buf[8192];
	cJSON *summary;
	ssize_t n;

	if (x->out_fd < 0 || lseek(x->out_fd, 0, SEEK_SET) < 0 ||
	    (o = calloc(1, sizeof *o)) == NULL)
		return NULL;
	while ((n = read(x->out_fd, buf, sizeof buf)) > 0 ||
	    (n < 0 && errno == EINTR)) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				line_done(x, o);
			} else if (o->len < LINE_MAX_ - 2) {
				o->line[o->len++] = buf[i];
			} else {
				o->overlong = 1;
				o->skipped++;
			}
		}
	}
	if (o->len > 0 || o->overlong)
		line_done(x, o);
	if (o->tail_len > 0 || o->skipped > 0) {
		struct ltb_progress_event ev = {
			.what = LTB_PROGRESS_CLIENT_OUTPUT,
			.client = x->client,
		};

		ev.u.output.text = o->tail;
		ev.u.output.len = o->tail_len;
		ev.u.output.skipped = o->skipped;
		ltb_progress_say(&x->r->progress, &ev);
	}
	summary = o->summary;
	free(o);
	return summary;
}

/* What the client says it sent, if it says so and it can be true. The
 * run fails on a claim that cannot: a negative or fractional count, or
 * more than the Repeat it was asked for. */
static double
spans_claimed(struct run *x, const cJSON *summary)
{
	const cJSON *sent = cJSON_GetObjectItemCaseSensitive(summary,
	    "spans_sent");
	const cJSON *dropped = cJSON_GetObjectItemCaseSensitive(summary,
	    "dropped");
	char what[96];

	if (summary == NULL)
		return NAN;
	if (!cJSON_IsNumber(sent) || !isfinite(sent->valuedouble) ||
	    sent->valuedouble < 0 ||
	    sent->valuedouble != floor(sent->valuedouble)) {
		char *s = sent ? cJSON_PrintUnformatted(sent) : NULL;

		snprintf(what, sizeof what, "%.60s", s ? s : "missing");
		free(s);
		fail_run(x, "the client's summary has spans_sent %s: not a "
		    "count of spans", what);
		return NAN;
	}
	if (dropped != NULL && (!cJSON_IsNumber(dropped) ||
	    dropped->valuedouble < 0 ||
	    dropped->valuedouble != floor(dropped->valuedouble))) {
		fail_run(x, "the client's summary has a \"dropped\" that is "
		    "not a count of spans%s", "");
		return NAN;
	}
	if (sent->valuedouble > (double)x->msg.repeat) {
		snprintf(what, sizeof what, "%.0f, more than the Repeat of "
		    "%.0f", sent->valuedouble, (double)x->msg.repeat);
		fail_run(x, "the client says it sent %s it was asked for",
		    what);
		return NAN;
	}
	return sent->valuedouble;
}

static void
exit_error(struct run *x)
{
	char what[64];

	if (x->error != NULL)
		return;
	if (WIFSIGNALED(x->status)) {
		snprintf(what, sizeof what, "%s", strsignal(WTERMSIG(x->status)));
		fail_run(x, "the client was killed by a signal: %s", what);
	} else if (WIFEXITED(x->status) && WEXITSTATUS(x->status) != 0) {
		snprintf(what, sizeof what, "%d", WEXITSTATUS(x->status));
		fail_run(x, "the client exited with status %s", what);
	}
}

static int
exit_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

/* An argv client is told no satellite: it writes where the original's
 * clients wrote. Say so, and where ours listen. */
static void
argv_unreached(struct run *x, double sent)
{
	char where[256] = "127.0.0.1:no port", why[640];

	if (x->r->sats != NULL)
		ltb_satgroup_where(x->r->sats, where, sizeof where);
	snprintf(why, sizeof why, "none of the %.0f spans arrived: an argv "
	    "client is not told where the satellites are, and writes where "
	    "the original's clients did, 127.0.0.1:8360-8367; ours listen on "
	    "%s (run it with satellites there, or make it write where they "
	    "are)", sent, where);
	fail_run(x, "%s", why);
}

/* The span counts of a traced run: everything that arrived, as the
 * original counted, what arrived broken or twice, and dropped as what did
 * not arrive intact and once. */
static void
add_span_counts(struct run *x, cJSON *rec, double sent)
{
	const struct ltb_satcounts *d = &x->got;
	char why[768], where[256];

	cJSON_AddNumberToObject(rec, "spans_received",
	    (double)d->spans_received);
	cJSON_AddNumberToObject(rec, "spans_duplicate",
	    (double)d->spans_duplicate);
	cJSON_AddNumberToObject(rec, "spans_invalid",
	    (double)d->spans_invalid);
	ltb_satcount_map_json(rec, "invalid_by_reason",
	    &d->invalid_by_reason);
	cJSON_AddNumberToObject(rec, "reports_rejected",
	    (double)d->reports_rejected);
	cJSON_AddNumberToObject(rec, "spans_refused",
	    (double)d->spans_refused);
	cJSON_AddNumberToObject(rec, "spans_retried",
	    (double)d->spans_retried);
	cJSON_AddNumberToObject(rec, "spans_intact",
	    (double)ltb_satcounts_intact(d));
	if ((double)ltb_satcounts_intact(d) > sent) {
		/* Not a negative drop: spans that are not the run's. */
		cJSON_AddNullToObject(rec, "dropped");
		ltb_satgroup_where(x->r->sats, where, sizeof where);
		snprintf(why, sizeof why, "%llu %s arrived intact but the "
		    "client sent %.0f: another program reports to the "
		    "satellites at %s (give the run ports of its own: "
		    "ltb-sample --satellite-ports), or the client makes more "
		    "than it says (more than Repeat, or a summary that "
		    "undercounts)", (unsigned long long)ltb_satcounts_intact(d),
		    ltb_unit_plural(ltb_control_protocol_unit(x->msg.protocol)),
		    sent, where);
		fail_run(x, "%s", why);
	} else
		cJSON_AddNumberToObject(rec, "dropped",
		    sent - (double)ltb_satcounts_intact(d));
	cJSON_AddNumberToObject(rec, "dropped_refused",
	    (double)ltb_satcounts_refused_only(d));
	/* A metrics client's datagrams: a burst the satellites could not
	 * read in time is lost at their sockets, not "never sent". */
	if (strcmp(ltb_control_protocol_unit(x->msg.protocol),
	    "measurement") == 0)
		cJSON_AddNumberToObject(rec, "socket_drops",
		    (double)d->socket_drops);
	/* A traced run that reached no satellite measured no tracer: say
	 * what the satellites did see. */
	if (d->spans_received == 0 && sent > 0 && x->argv)
		argv_unreached(x, sent);
	else if (d->spans_received == 0 && sent > 0 &&
	    ltb_satcounts_diagnose(d, x->r->sats, why, sizeof why))
		fail_run(x, "%s", why);
}

/*
 * Where every span went, in one line a person can check: each span sent
 * arrived intact and once (taken, perhaps on a retry after a refusal), or
 * is dropped: it arrived only in refused messages, or never arrived. A
 * duplicate is a second copy of a span, never a second span. When the
 * client counts its own drops, the two counts are set side by side, and
 * a difference is said rather than hidden.
 */
static void
add_accounting(struct run *x, cJSON *rec, double sent, double tracer)
{
	const struct ltb_satcounts *d = &x->got;
	double intact = (double)ltb_satcounts_intact(d);
	double refused = (double)ltb_satcounts_refused_only(d);
	double invalid = (double)d->spans_invalid;
	double dropped = sent - intact, never = dropped - refused - invalid;
	char line[640], inv[48] = "", sock[96] = "";
	int n;

	if (invalid > 0)
		snprintf(inv, sizeof inv, "%.0f invalid, ", invalid);
	/* the kernel's count is of datagrams, which may hold several */
	if (d->socket_drops > 0)
		snprintf(sock, sizeof sock, "; %llu datagram%s lost at the "
		    "satellites' sockets, their buffers full",
		    (unsigned long long)d->socket_drops,
		    d->socket_drops == 1 ? "" : "s");
	n = snprintf(line, sizeof line, "%.0f sent = %.0f intact + %.0f "
	    "dropped (%.0f refused by the satellites and never through, %s"
	    "%.0f never arrived%s)", sent, intact, dropped, refused, inv,
	    never, sock);
	if (d->spans_retried > 0 && n > 0 && (size_t)n < sizeof line)
		n += snprintf(line + n, sizeof line - (size_t)n, "; %llu of the "
		    "intact through on a retry after a refusal",
		    (unsigned long long)d->spans_retried);
	if (d->spans_duplicate > 0 && n > 0 && (size_t)n < sizeof line)
		n += snprintf(line + n, sizeof line - (size_t)n, "; %llu "
		    "duplicate copies, not counted as %s",
		    (unsigned long long)d->spans_duplicate,
		    ltb_unit_plural(ltb_control_protocol_unit(
		    x->msg.protocol)));
	if (!isnan(tracer) && n > 0 && (size_t)n < sizeof line)
		snprintf(line + n, sizeof line - (size_t)n, tracer == dropped ?
		    "; the client counted the same %.0f dropped" :
		    "; the client counted %.0f dropped, %.0f apart from the "
		    "satellites' count", tracer, fabs(tracer - dropped));
	cJSON_AddStringToObject(rec, "accounting", line);
}

/* What the plan said of this run: its pair and arm, the seed, the CPU
 * planted per span; each only when the control record has it. */
static void
add_plan_identity(struct run *x, cJSON *rec)
{
	static const char *const keys[] = { "pair", "arm", "seed",
	    "planted_ns" };
	const cJSON *v;

	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if ((v = cJSON_GetObjectItemCaseSensitive(x->rec,
		    keys[i])) != NULL)
			cJSON_AddItemToObject(rec, keys[i],
			    cJSON_Duplicate(v, 1));
}

/* The client's measure of the CPU it planted a span, when it gives one;
 * one that cannot be a mean of nanoseconds fails the run. */
static void
add_planted_measured(struct run *x, cJSON *rec, const cJSON *summary)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(summary,
	    "planted_ns_measured");
	char *s;

	if (m == NULL)
		return;
	if (!cJSON_IsNumber(m) || !isfinite(m->valuedouble) ||
	    m->valuedouble < 0) {
		s = cJSON_PrintUnformatted(m);
		fail_run(x, "the client's summary has planted_ns_measured "
		    "%.60s: not a mean of nanoseconds", s ? s : "?");
		free(s);
		return;
	}
	cJSON_AddNumberToObject(rec, "planted_ns_measured", m->valuedouble);
}

/* A string, or null when there is none. */
static void
add_str_or_null(cJSON *o, const char *key, const char *s)
{
	if (s != NULL && s[0] != '\0')
		cJSON_AddStringToObject(o, key, s);
	else
		cJSON_AddNullToObject(o, key);
}

/*
 * What the run was measured on and with: the host (read once by
 * ltb_runner_init), the calibration's work rate from the plan, the
 * client, and the tracer its summary line names ("NAME VERSION", "noop"
 * in NoOp runs), cut to a sane length.
 */
static void
add_fingerprint(struct run *x, cJSON *rec, const cJSON *summary)
{
	const struct ltb_host *h = &x->r->host;
	const cJSON *wps = cJSON_GetObjectItemCaseSensitive(x->rec,
	    "work_per_second");
	cJSON *f = cJSON_AddObjectToObject(rec, "fingerprint");
	const char *name = ltb_json_str(summary, "tracer", "");
	char tracer[256];
	size_t n;

	if (f == NULL)
		return;
	add_str_or_null(f, "cpu_model", h->cpu_model);
	cJSON_AddNumberToObject(f, "cores", (double)h->cores);
	cJSON_AddStringToObject(f, "kernel", h->kernel[0] != '\0' ?
	    h->kernel : "unknown");
	if (cJSON_IsNumber(wps) && isfinite(wps->valuedouble) &&
	    wps->valuedouble >= 0)
		cJSON_AddNumberToObject(f, "work_per_second",
		    wps->valuedouble);
	else
		cJSON_AddNullToObject(f, "work_per_second");
	cJSON_AddStringToObject(f, "client", x->client);
	/* Cut short, it ends before the character the cut would split. */
	if ((n = strlen(name)) >= sizeof tracer) {
		n = sizeof tracer - 1;
		while (n > 0 && ((unsigned char)name[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(tracer, name, n);
	tracer[n] = '\0';
	add_str_or_null(f, "tracer", tracer);
}

static cJSON *
result_record(struct run *x, cJSON *summary, int have_spans)
{
	double clock = x->window_time;
	double program = x->window_cpu;
	double claimed = spans_claimed(x, summary);
	double sent = isnan(claimed) ? (double)x->msg.repeat : claimed;
	double busy, steal, other;
	uint64_t peak;
	cJSON *rec = ltb_record_new("result"), *noise;
	const char *keys[] = { "label", NULL };

	if (rec == NULL)
		return NULL;
	cJSON_AddStringToObject(rec, "client", x->client);
	cJSON_AddBoolToObject(rec, "trace", x->msg.trace);
	cJSON_AddNumberToObject(rec, "target_sps",
	    ltb_json_num(x->rec, "target_sps", 0));
	cJSON_AddNumberToObject(rec, "runtime",
	    ltb_json_num(x->rec, "runtime", 0));
	cJSON_AddNumberToObject(rec, "trial", ltb_json_num(x->rec, "trial", 0));
	for (size_t i = 0; keys[i] != NULL; i++)
		cJSON_AddStringToObject(rec, keys[i],
		    ltb_json_str(x->rec, keys[i], ""));
	add_plan_identity(x, rec);
	add_planted_measured(x, rec, summary);
	/* what spans_* count: a metrics client's are measurements */
	cJSON_AddStringToObject(rec, "unit",
	    ltb_control_protocol_unit(x->msg.protocol));
	cJSON_AddNumberToObject(rec, "spans_sent", sent);
	cJSON_AddStringToObject(rec, "spans_sent_from", isnan(claimed) ?
	    "plan" : "client");
	if (x->msg.trace && have_spans) {
		add_span_counts(x, rec, sent);
	} else {
		cJSON_AddNullToObject(rec, "spans_received");
		cJSON_AddNullToObject(rec, "dropped");
	}
	cJSON_AddNumberToObject(rec, "program_time", round(program * 1e4) / 1e4);
	cJSON_AddNumberToObject(rec, "clock_time", round(clock * 1e4) / 1e4);
	cJSON_AddNumberToObject(rec, "cpu_usage", clock > 0 ?
	    round(program / clock * 1e4) / 1e4 : 0);
	cJSON_AddNumberToObject(rec, "sps", clock > 0 ?
	    round(sent / clock * 100) / 100 : 0);
	cJSON_AddNumberToObject(rec, "startup_cpu",
	    round(x->startup_cpu * 1e4) / 1e4);
	cJSON_AddNumberToObject(rec, "startup_time",
	    round(x->startup_time * 1e4) / 1e4);
	cJSON_AddStringToObject(rec, "contract", x->argv ? "argv" : "http");
	if (x->startup_from != NULL)
		cJSON_AddStringToObject(rec, "startup_from", x->startup_from);
	/* The kernel's peak covers what sampling missed: a run shorter than
	 * one interval has no sample, and its peak is its last memory. */
	peak = (uint64_t)x->ru.ru_maxrss * 1024;
	if (peak > x->memory_max)
		x->memory_max = peak;
	if (cJSON_GetArraySize(x->memory_list) == 0)
		x->memory_last = peak;
	cJSON_AddNumberToObject(rec, "memory_last", (double)x->memory_last);
	cJSON_AddNumberToObject(rec, "memory_max", (double)x->memory_max);
	cJSON_AddItemToObject(rec, "cpu_list", x->cpu_list);
	cJSON_AddItemToObject(rec, "memory_list", x->memory_list);
	cJSON_AddItemToObject(rec, "events", x->events);
	x->cpu_list = x->memory_list = x->events = NULL;
	cJSON_AddNumberToObject(rec, "exit_status", exit_status(x->status));
	if (!isnan(claimed))
		cJSON_AddNumberToObject(rec, "tracer_dropped",
		    ltb_json_num(summary, "dropped", 0));
	/* No sum to show when more arrived than were sent: the error says
	 * why. */
	if (x->msg.trace && have_spans &&
	    (double)ltb_satcounts_intact(&x->got) <= sent)
		add_accounting(x, rec, sent, isnan(claimed) ||
		    cJSON_GetObjectItemCaseSensitive(summary, "dropped") ==
		    NULL ? NAN : ltb_json_num(summary, "dropped", 0));
	/* What tells a reader the machine was busy with something else. */
	noise = cJSON_AddObjectToObject(rec, "noise");
	if (noise != NULL && ltb_proc_host_cpu(&busy, &steal) == 0) {
		double sat = x->r->sats && x->r->sats->pid > 0 ?
		    ltb_proc_cpu(x->r->sats->pid) - x->sat_cpu0 : 0;

		other = (busy - x->host_busy0) - program - x->startup_cpu -
		    (self_cpu() - x->self_cpu0) - (sat > 0 ? sat : 0);
		cJSON_AddNumberToObject(noise, "steal_s",
		    round((steal - x->host_steal0) * 100) / 100);
		cJSON_AddNumberToObject(noise, "other_cpu_s",
		    round((other > 0 ? other : 0) * 100) / 100);
		cJSON_AddNumberToObject(noise, "satellite_cpu_s",
		    round((sat > 0 ? sat : 0) * 100) / 100);
		cJSON_AddNumberToObject(noise, "loadavg", ltb_proc_loadavg());
	}
	add_fingerprint(x, rec, summary);
	if (x->error != NULL)
		cJSON_AddStringToObject(rec, "error", x->error);
	return rec;
}

static int
start_client(struct run *x, char *err, size_t errlen)
{
	struct ltb_runner *r = x->r;
	char run_path[1200], *argv[CLIENT_ARGV_MAX], env_url[300], *env[2];
	char *json = control_json(x);
	FILE *out;

	if (json == NULL || ltb_ctlserver_set(r->ctl, json) < 0) {
		free(json);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	free(json);
	if (client_argv(x, run_path, sizeof run_path, argv, x->cmd_err,
	    sizeof x->cmd_err) < 0) {
		fail_run(x, "%s", x->cmd_err);
		return 0;
	}
	snprintf(env_url, sizeof env_url, "LTB_CONTROL_URL=%s",
	    ltb_ctlserver_url(r->ctl));
	env[0] = env_url;
	env[1] = NULL;
	if ((out = tmpfile()) == NULL) {
		snprintf(err, errlen, "cannot make a temporary file: %s",
		    strerror(errno));
		return -1;
	}
	x->out_fd = dup(fileno(out));
	fclose(out);
	/* The hook is set before the client can fetch; it waits on the lock
	 * until the keeper's pid is known. An argv client's fetch, should it
	 * make one, opens nothing. */
	if (!x->argv)
		ltb_ctlserver_on_fetch(r->ctl, on_fetch, x);
	pthread_mutex_lock(&fetch_lock);
	x->t0 = ltb_mono_s();
	x->pid = ltb_proc_spawn_kept(argv, env, x->out_fd, x->cmd_err,
	    sizeof x->cmd_err);
	if (x->pid < 0)
		x->pid = 0;
	pthread_mutex_unlock(&fetch_lock);
	if (x->pid == 0) {
		ltb_ctlserver_on_fetch(r->ctl, NULL, NULL);
		fail_run(x, "cannot start the client: %s", x->cmd_err);
	}
	return 0;
}

/* The key of a client's start-up in the runner's cache. */
static const char *
startup_key(const cJSON *rec)
{
	const char *cmd = ltb_json_str(rec, "client_cmd", NULL);

	return cmd != NULL ? cmd : ltb_json_str(rec, "client", "cmd");
}

/* A line for the person watching, through the tool's progress. */
static void __attribute__((format(printf, 2, 3)))
note(struct run *x, const char *fmt, ...)
{
	struct ltb_progress_event ev = {
		.what = LTB_PROGRESS_NOTE,
		.client = x->client,
	};
	char line[1400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	ev.u.note = line;
	ltb_progress_say(&x->r->progress, &ev);
}

/* An argv run's start-up, before anything of the run is taken: the
 * record's (the calibration's), else the runner's probes of this client
 * and trace, made now if need be. 0 (when the probes failed, none is
 * taken out: startup_from "none"); -1 with a message in err on a system
 * failure. */
static int
argv_startup(struct run *x, char *err, size_t errlen)
{
	struct ltb_runner *r = x->r;
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(x->rec,
	    "startup_cpu");
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(x->rec,
	    "startup_time");
	const char *key = startup_key(x->rec);
	struct ltb_startup *st;
	char why[1024];
	int rc;

	if (cJSON_IsNumber(c) && cJSON_IsNumber(t) && c->valuedouble >= 0 &&
	    t->valuedouble >= 0) {
		x->startup_cpu = c->valuedouble;
		x->startup_time = t->valuedouble;
		x->startup_from = "calibration";
		return 0;
	}
	x->startup_from = "probe";
	for (size_t i = 0; i < r->nstartup; i++) {
		st = &r->startup[i];
		if (st->trace == x->msg.trace && strcmp(st->key, key) == 0) {
			x->startup_cpu = st->cpu;
			x->startup_time = st->time;
			if (st->none)
				x->startup_from = "none";
			return 0;
		}
	}
	note(x, "measuring the start-up of %s (%s): %d runs of --repeat 0",
	    x->client, x->msg.trace ? "traced" : "NoOp", LTB_RUN_PROBES);
	rc = ltb_run_startup(r, x->rec, &x->startup_cpu, &x->startup_time,
	    why, sizeof why);
	if (rc < 0) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	if (rc > 0) {
		/* A client that refuses --repeat 0 (the original JS client
		 * throws) is still measured, start-up and all, and the result
		 * says so: both arms pay the same start-up. */
		x->startup_cpu = x->startup_time = 0;
		x->startup_from = "none";
		note(x, "%s: its start-up is left in its window (startup_from "
		    "\"none\"); a calibration of the client, or a record with "
		    "startup_cpu and startup_time, takes it out", why);
	}
	/* Kept for the plan's next runs; a full cache probes again. */
	if (r->nstartup < LTB_RUN_STARTUPS) {
		st = &r->startup[r->nstartup++];
		snprintf(st->key, sizeof st->key, "%s", key);
		st->trace = x->msg.trace;
		st->cpu = x->startup_cpu;
		st->time = x->startup_time;
		st->none = rc > 0;
	}
	return 0;
}

/* An argv run that ended within its start-up measured nothing of it. */
static void
check_outlasted(struct run *x)
{
	char why[512];

	if (!x->argv || x->probe || x->r->calibrating || x->pid <= 0 ||
	    x->window_time > 0)
		return;
	snprintf(why, sizeof why, "the run lasted %.3f s, no longer than the "
	    "client's start-up of %.3f s (by %s, a run of --repeat 0): it "
	    "measured nothing; raise the runtime (or the rate) so that the run "
	    "outlasts its start-up", x->t_end - x->t0, x->startup_time,
	    x->startup_from);
	fail_run(x, "%s", why);
}

static cJSON *run_one(struct ltb_runner *r, const cJSON *rec, int probe,
    char *err, size_t errlen);

cJSON *
ltb_run(struct ltb_runner *r, const cJSON *rec, char *err, size_t errlen)
{
	return run_one(r, rec, 0, err, errlen);
}

int
ltb_run_startup(struct ltb_runner *r, const cJSON *rec, double *cpu,
    double *time, char *err, size_t errlen)
{
	double cpus[LTB_RUN_PROBES], times[LTB_RUN_PROBES];
	cJSON *probe = cJSON_Duplicate(rec, 1), *res;
	const char *e;
	int rc = -1;

	/* Repeat may be absent (its default): set, not replaced. */
	if (probe != NULL)
		cJSON_DeleteItemFromObjectCaseSensitive(probe, "Repeat");
	if (probe == NULL || cJSON_AddNumberToObject(probe, "Repeat",
	    0) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (int i = 0; i < LTB_RUN_PROBES; i++) {
		if ((res = run_one(r, probe, 1, err, errlen)) == NULL)
			goto out;
		if ((e = ltb_json_str(res, "error", NULL)) != NULL) {
			snprintf(err, errlen, "cannot measure the client's "
			    "start-up: its run of --repeat 0 failed: %s", e);
			cJSON_Delete(res);
			rc = 1;
			goto out;
		}
		cpus[i] = ltb_json_num(res, "program_time", 0);
		times[i] = ltb_json_num(res, "clock_time", 0);
		cJSON_Delete(res);
	}
	/* The median of each, for noise: one slow start is not the rule. */
	*cpu = ltb_median(cpus, LTB_RUN_PROBES);
	*time = ltb_median(times, LTB_RUN_PROBES);
	rc = 0;
out:
	cJSON_Delete(probe);
	return rc;
}

static cJSON *
run_one(struct ltb_runner *r, const cJSON *rec, int probe, char *err,
    size_t errlen)
{
	struct run x = { .r = r, .rec = rec, .out_fd = -1, .probe = probe };
	cJSON *summary = NULL, *result = NULL;
	int have_spans = 0;
	char why[512];
	const char *contract = ltb_json_str(rec, "contract", "http");

	snprintf(x.client, sizeof x.client, "%s",
	    ltb_json_str(rec, "client", "cmd"));
	ltb_control_default(&x.msg);
	if (ltb_control_from_json(&x.msg, rec, err, errlen) < 0)
		return NULL;
	if (ltb_contract(contract) < 0) {
		snprintf(err, errlen, "bad control record: \"contract\" "
		    "\"%.40s\" is neither \"http\" nor \"argv\"", contract);
		return NULL;
	}
	x.argv = ltb_contract(contract) == LTB_CONTRACT_ARGV;
	if (x.argv && !probe && argv_startup(&x, err, errlen) < 0)
		return NULL;
	x.cpu_list = cJSON_CreateArray();
	x.memory_list = cJSON_CreateArray();
	x.events = cJSON_CreateArray();
	if (x.cpu_list == NULL || x.memory_list == NULL || x.events == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (r->sats != NULL && ltb_satgroup_counts(r->sats, &x.before, err,
	    errlen) < 0)
		goto out;
	ltb_proc_host_cpu(&x.host_busy0, &x.host_steal0);
	x.self_cpu0 = self_cpu();
	if (r->sats != NULL && r->sats->pid > 0)
		x.sat_cpu0 = ltb_proc_cpu(r->sats->pid);
	/* A start-up that could not be measured fails the run unstarted. */
	if (x.error == NULL && start_client(&x, err, errlen) < 0)
		goto out;
	if (x.pid > 0) {
		if (watch(&x) < 0) {
			reap_group(&x);
			if (x.script_posted == 1)
				ltb_satgroup_script(r->sats, "[]", why,
				    sizeof why);
			snprintf(err, errlen, "interrupted by %s",
			    strsignal(r->interrupted));
			goto out;
		}
		reap_group(&x);
		exit_error(&x);
		check_outlasted(&x);
		summary = client_summary(&x);
		/* The client is gone: what comes now is not its run's. */
		if (x.script_posted == 1 && ltb_satgroup_script(r->sats, "[]",
		    err, errlen) < 0)
			goto out;
	} else {
		x.t_end = x.t0 = ltb_mono_s();
	}
	if (r->sats != NULL && x.msg.trace && x.pid > 0) {
		if (settled_counts(&x, &x.got, err, errlen) < 0)
			goto out;
		ltb_satcounts_diff(&x.got, &x.got, &x.before);
		have_spans = 1;
	}
	/* Leave the satellites up for the next run. */
	if (r->sats != NULL && x.down_done && !x.up_done &&
	    ltb_satgroup_post(r->sats, "up", err, errlen) < 0)
		goto out;
	result = result_record(&x, summary, have_spans);
	if (result == NULL)
		snprintf(err, errlen, "out of memory");
	else if (ltb_record_check(result, why, sizeof why) < 0) {
		/* Our own bug: say so rather than write what readers refuse. */
		snprintf(err, errlen, "internal error: the result record "
		    "breaks its schema: %s", why);
		cJSON_Delete(result);
		result = NULL;
	}
out:
	cJSON_Delete(summary);
	cJSON_Delete(x.cpu_list);
	cJSON_Delete(x.memory_list);
	cJSON_Delete(x.events);
	if (x.out_fd >= 0)
		close(x.out_fd);
	free(x.sh_cmd);
	return result;
}
