/*
 * ltb_proc.c: client processes, their keeper, their trees and the host's
 * CPU; see ltb_proc.h. Everything is read from /proc: per-process stat for
 * CPU, parent and group, statm for resident memory, and the keeper's
 * task/TID/children for the children it must kill.
 *
 * Our callers have threads (the control server's, libcurl's), so between
 * fork and exec, and in the keeper, which never execs, only
 * async-signal-safe calls are made: no malloc, no stdio, no locks.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/ltb_clock.h"
#include "core/ltb_proc.h"

extern char **environ;

int
ltb_proc_become_subreaper(void)
{
	return prctl(PR_SET_CHILD_SUBREAPER, 1UL, 0, 0, 0);
}

/* environ with env's entries added, replacing those of the same name. The
 * array is the caller's to free; its strings are borrowed. */
static char **
merge_env(char *const env[])
{
	size_t n = 0, k = 0, i, j;
	char **out;

	while (environ[n] != NULL)
		n++;
	while (env != NULL && env[k] != NULL)
		k++;
	if ((out = calloc(n + k + 1, sizeof *out)) == NULL)
		return NULL;
	for (i = 0, j = 0; i < n; i++) {
		size_t len = strcspn(environ[i], "=");
		int replaced = 0;

		for (size_t e = 0; e < k; e++)
			if (strncmp(env[e], environ[i], len) == 0 &&
			    env[e][len] == '=')
				replaced = 1;
		if (!replaced)
			out[j++] = environ[i];
	}
	for (i = 0; i < k; i++)
		out[j++] = env[i];
	return out;
}

/* What a child that could not start writes to the exec pipe. */
struct start_error {
	int forked;		/* 0: exec failed; 1: the keeper's fork did */
	int errnum;
};

static void
report_start_error(int fd, int forked)
{
	struct start_error e = { forked, errno };

	(void)!write(fd, &e, sizeof e);
}

/* In a child, before anything else: die with the forking thread of
 * parent, and if it is already gone (it died before the prctl) go now. */
static void
die_with(pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) < 0 ||
	    getppid() != parent)
		_exit(127);
}

/* In a child about to exec: default signals, none blocked. */
static void
child_signals(void)
{
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* stdin from /dev/null, stdout to out_fd (-1: our stderr). */
static void
child_stdio(int out_fd)
{
	int devnull = open("/dev/null", O_RDONLY);

	if (devnull > 0) {
		dup2(devnull, 0);
		close(devnull);
	}
	dup2(out_fd >= 0 ? out_fd : 2, 1);
}

/* The parent's half: wait for the exec (the pipe closes) or its error. */
static pid_t
await_exec(pid_t pid, int pfd[2], const char *what, char *err,
    size_t errlen)
{
	struct start_error e;
	ssize_t n;

	close(pfd[1]);
	pfd[1] = -1;
	while ((n = read(pfd[0], &e, sizeof e)) < 0 && errno == EINTR)
		;
	close(pfd[0]);
	pfd[0] = -1;
	if (n == (ssize_t)sizeof e) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		if (e.forked)
			snprintf(err, errlen, "cannot fork for %s: %s", what,
			    strerror(e.errnum));
		else
			snprintf(err, errlen, "exec %s: %s", what,
			    strerror(e.errnum));
		errno = e.errnum;
		return -1;
	}
	return pid;
}

/* --- the keeper ---------------------------------------------------------
 * Everything below up to ltb_proc_spawn_kept runs in the keeper: a fork of
 * a threaded process that never execs, so async-signal-safe calls only. */

static volatile sig_atomic_t keeper_stop;

static void
keeper_on_stop(int sig)
{
	(void)sig;
	keeper_stop = 1;
}

static void
keeper_on_child(int sig)
{
	(void)sig;
}

/* v in decimal, written backwards ending at end; returns its start. */
static char *
keeper_utoa(char *end, unsigned long v)
{
	*--end = '\0';
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return end;
}

/* SIGKILL every child of the keeper, and the process group of each that
 * leads one (a child that called setsid takes its own tree along). The
 * keeper has a single thread, so its children are all in one file. */
static void
keeper_kill_children(void)
{
	static char buf[16384];
	char path[64], num[24];
	unsigned long v = 0;
	int fd, digits = 0;
	ssize_t n;

	strcpy(path, "/proc/self/task/");
	strcat(path, keeper_utoa(num + sizeof num, (unsigned long)getpid()));
	strcat(path, "/children");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;		/* no CONFIG_PROC_CHILDREN: groups only */
	while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] >= '0' && buf[i] <= '9') {
				v = v * 10 + (unsigned long)(buf[i] - '0');
				digits = 1;
				continue;
			}
			if (digits && v > 0) {
				kill((pid_t)v, SIGKILL);
				kill(-(pid_t)v, SIGKILL);
			}
			v = 0;
			digits = 0;
		}
	if (digits && v > 0) {
		kill((pid_t)v, SIGKILL);
		kill(-(pid_t)v, SIGKILL);
	}
	close(fd);
}

/* Exit as status says the client did: the same code, or by the same
 * signal (without a core dump of the keeper). */
static void
keeper_exit_as(int status)
{
	struct rlimit nocore = { 0, 0 };
	struct sigaction sa;
	sigset_t m;
	int sig;

	if (WIFEXITED(status))
		_exit(WEXITSTATUS(status));
	sig = WIFSIGNALED(status) ? WTERMSIG(status) : SIGKILL;
	setrlimit(RLIMIT_CORE, &nocore);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
	sigemptyset(&m);
	sigaddset(&m, sig);
	sigprocmask(SIG_UNBLOCK, &m, NULL);
	kill(getpid(), sig);
	_exit(128 + sig);
}

static void
keeper(char *const argv[], char *const envp[], int out_fd, int efd,
    pid_t parent)
{
	const struct timespec pause = { 0, 2000000 };
	struct sigaction sa;
	sigset_t block, waiting;
	int status = 0, st, have = 0;
	pid_t client, p, keeper_pid = getpid();

	/* Signals first, so a SIGTERM from our parent's death (or from the
	 * parent itself) is handled, never lost, from the prctl on. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &waiting);
	sigdelset(&waiting, SIGTERM);
	sigdelset(&waiting, SIGINT);
	sigdelset(&waiting, SIGHUP);
	sigdelset(&waiting, SIGCHLD);
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = keeper_on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = keeper_on_child;
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	die_with(parent);
	/* Our own group: a terminal's ^C goes to our parent, which decides. */
	setpgid(0, 0);
	prctl(PR_SET_CHILD_SUBREAPER, 1UL, 0, 0, 0);
	child_stdio(out_fd);
	/* Nothing else of our parent's (listening sockets, pipes) stays
	 * open here: the keeper may outlive it by a moment. */
	close_range(3, (unsigned)efd - 1, 0);
	close_range((unsigned)efd + 1, ~0U, 0);

	if ((client = fork()) < 0) {
		report_start_error(efd, 1);
		_exit(127);
	}
	if (client == 0) {
		/* Should the keeper itself be killed with SIGKILL, the
		 * client goes too. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 ||
		    getppid() != keeper_pid)
			_exit(127);
		setpgid(0, 0);
		child_signals();
		execvpe(argv[0], argv, (char **)envp);
		report_start_error(efd, 0);
		_exit(127);
	}
	setpgid(client, client);
	close(efd);

	/* Until the client exits or we are told to stop. SIGCHLD and the
	 * stop signals are blocked outside sigsuspend, so none is missed
	 * between the check and the wait. */
	for (;;) {
		while ((p = waitpid(-1, &st, WNOHANG)) > 0)
			if (p == client) {
				status = st;
				have = 1;
			}
		if (have || keeper_stop)
			break;
		sigsuspend(&waiting);
	}
	/* Then kill what is left until nothing is: the client's group, our
	 * children, and what comes back to us as their parents die. */
	for (;;) {
		kill(-client, SIGKILL);
		keeper_kill_children();
		while ((p = waitpid(-1, &st, WNOHANG)) > 0)
			if (p == client && !have) {
				status = st;
				have = 1;
			}
		if (p < 0 && errno == ECHILD)
			break;
		nanosleep(&pause, NULL);
	}
	keeper_exit_as(have ? status : W_EXITCODE(0, SIGKILL));
}

/*
 * Fork argv's process: the plain child (its own group, PDEATHSIG, then
 * exec), or with kept the keeper, which starts argv itself. Either way an
 * exec error comes back through the pipe.
 */
static pid_t
spawn(char *const argv[], char *const env[], int out_fd, int kept,
    char *err, size_t errlen)
{
	char **envp = NULL;
	int pfd[2] = { -1, -1 };
	pid_t pid, parent = getpid();

	if ((envp = merge_env(env)) == NULL || pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "cannot start %s: %s", argv[0],
		    strerror(errno));
		goto fail;
	}
	if ((pid = fork()) < 0) {
		snprintf(err, errlen, "cannot fork for %s: %s", argv[0],
		    strerror(errno));
		goto fail;
	}
	if (pid == 0 && kept) {
		close(pfd[0]);
		keeper(argv, envp, out_fd, pfd[1], parent);
		_exit(127);
	}
	if (pid == 0) {
		/* Only async-signal-safe calls from here to exec. */
		die_with(parent);
		setpgid(0, 0);
		child_signals();
		child_stdio(out_fd);
		execvpe(argv[0], argv, envp);
		report_start_error(pfd[1], 0);
		_exit(127);
	}
	/* Also from the parent, so the group exists before we signal it. */
	setpgid(pid, pid);
	pid = await_exec(pid, pfd, argv[0], err, errlen);
	free(envp);
	return pid;
fail:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	free(envp);
	return -1;
}

pid_t
ltb_proc_spawn(char *const argv[], char *const env[], int out_fd, char *err,
    size_t errlen)
{
	return spawn(argv, env, out_fd, 0, err, errlen);
}

pid_t
ltb_proc_spawn_kept(char *const argv[], char *const env[], int out_fd,
    char *err, size_t errlen)
{
	return spawn(argv, env, out_fd, 1, err, errlen);
}

/* The keeper's own CPU, read while it is a zombie, then reap it. */
static int
reap_exited(pid_t keeper_pid, int *status, struct rusage *ru,
    double *self_cpu)
{
	double self = ltb_proc_cpu(keeper_pid);

	if (self_cpu != NULL)
		*self_cpu = self > 0 ? self : 0;
	while (wait4(keeper_pid, status, 0, ru) < 0)
		if (errno != EINTR)
			return -1;
	return 1;
}

int
ltb_proc_reap_kept(pid_t keeper_pid, int *status, struct rusage *ru,
    double *self_cpu)
{
	siginfo_t si;

	memset(&si, 0, sizeof si);
	if (waitid(P_PID, (id_t)keeper_pid, &si, WEXITED | WNOHANG |
	    WNOWAIT) < 0)
		return -1;
	if (si.si_pid != keeper_pid)
		return 0;
	return reap_exited(keeper_pid, status, ru, self_cpu);
}

int
ltb_proc_stop_kept(pid_t keeper_pid, double timeout, int *status,
    struct rusage *ru, double *self_cpu)
{
	double end = ltb_mono_s() + timeout;
	int rc;

	kill(keeper_pid, SIGTERM);
	while ((rc = ltb_proc_reap_kept(keeper_pid, status, ru,
	    self_cpu)) == 0) {
		if (ltb_mono_s() > end) {
			kill(keeper_pid, SIGKILL);
			end = ltb_mono_s() + 3600;
		}
		usleep(2000);
	}
	return rc < 0 ? -1 : 0;
}

/* A process's parent, its own CPU and that of its reaped children. */
struct pinfo {
	pid_t pid, ppid;
	double cpu, ccpu;
	char state;		/* R, S, ..., Z for a zombie */
	int in;			/* in the tree */
};

static int
read_pinfo(pid_t pid, struct pinfo *pi)
{
	char path[64], buf[1024], *p;
	unsigned long utime, stime;
	long cutime, cstime;
	double hz = (double)sysconf(_SC_CLK_TCK);
	int fd, ppid;
	ssize_t n;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* The command name may hold spaces and parens: skip past the last
	 * ')'. */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	if (sscanf(p + 2, "%c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu "
	    "%ld %ld", &pi->state, &ppid, &utime, &stime, &cutime,
	    &cstime) != 6)
		return -1;
	pi->pid = pid;
	pi->ppid = ppid;
	pi->cpu = (double)(utime + stime) / hz;
	pi->ccpu = (double)(cutime + cstime) / hz;
	pi->in = 0;
	return 0;
}

static int
pinfo_cmp(const void *a, const void *b)
{
	pid_t x = ((const struct pinfo *)a)->pid;
	pid_t y = ((const struct pinfo *)b)->pid;

	return x < y ? -1 : x > y;
}

static uint64_t
read_rss(pid_t pid)
{
	char path[64], buf[128];
	unsigned long size, resident;
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%lu %lu", &size, &resident) != 2)
		return 0;
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

int
ltb_proc_tree_sample(pid_t keeper_pid, struct ltb_proc_sample *s)
{
	struct pinfo *all = NULL, *k, key, *t;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int changed, rc = -1;
	DIR *d;

	memset(s, 0, sizeof *s);
	if ((d = opendir("/proc")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		pid_t pid = (pid_t)atoi(de->d_name);

		if (pid <= 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 512;
			if ((t = realloc(all, cap * sizeof *all)) == NULL)
				goto out;
			all = t;
		}
		if (read_pinfo(pid, &all[n]) == 0)
			n++;
	}
	qsort(all, n, sizeof *all, pinfo_cmp);
	key.pid = keeper_pid;
	if (n == 0 || (k = bsearch(&key, all, n, sizeof *all,
	    pinfo_cmp)) == NULL)
		goto out;
	/* Mark the descendants, a generation a pass: trees are shallow. */
	k->in = 1;
	do {
		changed = 0;
		for (size_t i = 0; i < n; i++) {
			struct pinfo *par;

			if (all[i].in)
				continue;
			key.pid = all[i].ppid;
			par = bsearch(&key, all, n, sizeof *all, pinfo_cmp);
			if (par != NULL && par->in) {
				all[i].in = 1;
				changed = 1;
			}
		}
	} while (changed);
	s->cpu_s = k->ccpu;
	for (size_t i = 0; i < n; i++) {
		uint64_t rss;

		if (!all[i].in || &all[i] == k)
			continue;
		s->cpu_s += all[i].cpu + all[i].ccpu;
		/* An exited process not yet reaped (a zombie), or one whose
		 * memory is already gone, uses none: counting it would make a
		 * sample taken as the client exits read as the tree's memory
		 * falling to nothing. Its CPU still counts. */
		if (all[i].state == 'Z' || all[i].state == 'X' ||
		    all[i].state == 'x' || (rss = read_rss(all[i].pid)) == 0)
			continue;
		s->rss += rss;
		s->nprocs++;
	}
	rc = 0;
out:
	closedir(d);
	free(all);
	return rc;
}

double
ltb_proc_cpu(pid_t pid)
{
	struct pinfo pi;

	return read_pinfo(pid, &pi) < 0 ? -1 : pi.cpu;
}

int
ltb_proc_host_cpu(double *busy_s, double *steal_s)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "re");
	double hz = (double)sysconf(_SC_CLK_TCK);
	int n;

	if (f == NULL)
		return -1;
	/* cpu user nice system idle iowait irq softirq steal */
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
	    &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n != 8)
		return -1;
	*busy_s = (double)(v[0] + v[1] + v[2] + v[5] + v[6]) / hz;
	*steal_s = (double)v[7] / hz;
	return 0;
}

double
ltb_proc_loadavg(void)
{
	FILE *f = fopen("/proc/loadavg", "re");
	double l = -1;

	if (f == NULL)
		return -1;
	if (fscanf(f, "%lf", &l) != 1)
		l = -1;
	fclose(f);
	return l;
}
