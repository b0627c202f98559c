/*
 * ltb_proc.c: client processes, their trees and the host's CPU; see
 * ltb_proc.h. Everything is read from /proc: per-process stat for CPU and
 * group, statm for resident memory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/ltb_proc.h"

extern char **environ;

int
ltb_proc_become_subreaper(void)
{
	return prctl(PR_SET_CHILD_SUBREAPER, 1UL, 0, 0, 0);
}

double
ltb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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

pid_t
ltb_proc_spawn(char *const argv[], char *const env[], int out_fd, char *err,
    size_t errlen)
{
	char **envp = NULL;
	int pfd[2] = { -1, -1 }, child_errno = 0, devnull;
	sigset_t none;
	ssize_t n;
	pid_t pid;

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
	if (pid == 0) {
		/* Only async-signal-safe calls from here to exec. */
		setpgid(0, 0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if ((devnull = open("/dev/null", O_RDONLY)) >= 0)
			dup2(devnull, 0);
		if (out_fd >= 0)
			dup2(out_fd, 1);
		else
			dup2(2, 1);
		execvpe(argv[0], argv, envp);
		child_errno = errno;
		(void)!write(pfd[1], &child_errno, sizeof child_errno);
		_exit(127);
	}
	/* Also from the parent, so the group exists before we signal it. */
	setpgid(pid, pid);
	close(pfd[1]);
	pfd[1] = -1;
	while ((n = read(pfd[0], &child_errno, sizeof child_errno)) < 0 &&
	    errno == EINTR)
		;
	close(pfd[0]);
	free(envp);
	if (n == (ssize_t)sizeof child_errno) {
		waitpid(pid, NULL, 0);
		snprintf(err, errlen, "exec %s: %s", argv[0],
		    strerror(child_errno));
		errno = child_errno;
		return -1;
	}
	return pid;
fail:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	free(envp);
	return -1;
}

/* Fields of /proc/PID/stat after the command name: state is field 3. */
static int
read_stat(pid_t pid, pid_t *pgrp, double *cpu_s)
{
	char path[64], buf[1024], *p;
	unsigned long utime, stime;
	int fd, pg;
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
	if (sscanf(p + 2, "%*c %*d %d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &pg, &utime, &stime) != 3)
		return -1;
	*pgrp = pg;
	*cpu_s = (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
	return 0;
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

/* Scan /proc for the members of g->pgid, summing them into s. */
static int
scan_group(struct ltb_proc_group *g, struct ltb_proc_sample *s)
{
	struct dirent *de;
	DIR *d;

	memset(s, 0, sizeof *s);
	g->n = 0;
	if ((d = opendir("/proc")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		pid_t pid = (pid_t)atoi(de->d_name), pg;
		double cpu;

		if (pid <= 0 || read_stat(pid, &pg, &cpu) < 0 ||
		    pg != g->pgid)
			continue;
		s->cpu_s += cpu;
		s->rss += read_rss(pid);
		s->nprocs++;
		if (g->n < LTB_PROC_MAX_MEMBERS)
			g->pids[g->n++] = pid;
	}
	closedir(d);
	g->scanned = ltb_now();
	return 0;
}

int
ltb_proc_sample_group(pid_t pgid, struct ltb_proc_sample *s)
{
	struct ltb_proc_group g = { .pgid = pgid };

	return scan_group(&g, s);
}

int
ltb_proc_group_sample(struct ltb_proc_group *g, double rescan,
    struct ltb_proc_sample *s)
{
	if (g->scanned == 0 || ltb_now() - g->scanned >= rescan)
		return scan_group(g, s);
	memset(s, 0, sizeof *s);
	for (size_t i = 0; i < g->n; i++) {
		double cpu;
		pid_t pg;

		/* A member gone, or its pid reused: start over. */
		if (read_stat(g->pids[i], &pg, &cpu) < 0 || pg != g->pgid)
			return scan_group(g, s);
		s->cpu_s += cpu;
		s->rss += read_rss(g->pids[i]);
		s->nprocs++;
	}
	return 0;
}

double
ltb_proc_cpu(pid_t pid)
{
	double cpu;
	pid_t pg;

	return read_stat(pid, &pg, &cpu) < 0 ? -1 : cpu;
}

void
ltb_proc_kill_group(pid_t pgid)
{
	if (pgid > 0)
		kill(-pgid, SIGKILL);
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
