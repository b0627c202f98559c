/*
 * burn: use SECONDS of CPU, then exit 0 (or exec the command that follows).
 *
 * The tests' stand-in for a client's start-up cost (an interpreter, a JVM,
 * a tracer module loading): `burn 0.5 clients/c/run` costs half a CPU-second
 * before the C client starts and fetches its control message, so the runner
 * must leave it out of the measurement window.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double
cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	double secs, x = 1.0;
	char *end;

	if (argc < 2 || (secs = strtod(argv[1], &end)) < 0 || end == argv[1] ||
	    *end != '\0') {
		fprintf(stderr, "usage: burn SECONDS [COMMAND [ARG...]]\n");
		return 2;
	}
	while (cpu_now() < secs)
		for (int i = 0; i < 10000; i++)
			x *= 1.0000001;
	/* Used, so the loop is not optimised away. */
	if (x < 0)
		puts("");
	if (argc > 2) {
		execvp(argv[2], argv + 2);
		fprintf(stderr, "burn: exec %s: %s\n", argv[2], strerror(errno));
		return 127;
	}
	return 0;
}
