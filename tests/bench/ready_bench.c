/*
 * ready_bench: how long ltb-satellite takes from exec to its ready line.
 *
 *   ready_bench SATELLITE [RUNS]
 *
 * Starts the satellite RUNS times (default 20) on eight ephemeral ports,
 * times from fork to the end of the ready line on its stdout, stops it with
 * SIGTERM, and prints one JSON line with the median and the slowest start.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/ltb_clock.h"
#include "core/ltb_stats.h"

/* One start: milliseconds to the ready line, or -1. */
static double
time_one(const char *satellite)
{
	char buf[4096];
	double t0, t = -1;
	size_t len = 0;
	ssize_t n;
	pid_t pid;
	int fd[2], status;

	if (pipe(fd) < 0)
		return -1;
	t0 = (double)ltb_mono_ns() / 1e6;
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		dup2(fd[1], 1);
		close(fd[0]);
		close(fd[1]);
		execl(satellite, satellite, "--ports", "0,0,0,0,0,0,0,0",
		    "--admin-port", "0", (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	while (len < sizeof buf &&
	    (n = read(fd[0], buf + len, sizeof buf - len)) > 0) {
		len += (size_t)n;
		if (memchr(buf, '\n', len) != NULL) {
			t = (double)ltb_mono_ns() / 1e6 - t0;
			break;
		}
	}
	kill(pid, SIGTERM);
	while (read(fd[0], buf, sizeof buf) > 0)
		;
	close(fd[0]);
	waitpid(pid, &status, 0);
	return t;
}

int
main(int argc, char **argv)
{
	int runs = argc > 2 ? atoi(argv[2]) : 20;
	double *ms;

	if (argc < 2 || runs < 1) {
		fprintf(stderr, "usage: ready_bench SATELLITE [RUNS]\n");
		return 2;
	}
	if ((ms = calloc((size_t)runs, sizeof *ms)) == NULL)
		return 3;
	for (int i = 0; i < runs; i++)
		if ((ms[i] = time_one(argv[1])) < 0) {
			fprintf(stderr, "ready_bench: %s gave no ready line\n",
			    argv[1]);
			return 1;
		}
	qsort(ms, (size_t)runs, sizeof *ms, ltb_cmp_double);
	printf("{\"type\":\"bench\",\"bench\":\"satellite_ready\",\"runs\":%d,"
	    "\"ports\":8,\"median_ms\":%.2f,\"max_ms\":%.2f,"
	    "\"target_ms\":50,\"meets\":%s}\n", runs, ms[runs / 2],
	    ms[runs - 1], ms[runs - 1] < 50 ? "true" : "false");
	free(ms);
	return 0;
}
