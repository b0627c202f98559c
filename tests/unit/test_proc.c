/*
 * test_proc.c: the process-tree sampler (ltb_proc_tree_sample) against
 * real processes under a real keeper.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/ltb_clock.h"
#include "core/ltb_proc.h"

/* Sample until nprocs reads want (at most 5 s): the tree takes a moment
 * to start. */
static int
sample_until(pid_t keeper, int want, struct ltb_proc_sample *s)
{
	uint64_t end = ltb_mono_ns() + 5000000000u;

	do {
		if (ltb_proc_tree_sample(keeper, s) == 0 && s->nprocs == want)
			return 0;
		usleep(20000);
	} while (ltb_mono_ns() < end);
	return -1;
}

/* A client whose child has exited but is never reaped: the zombie is in
 * the tree and uses no memory; a sample counts the live process alone,
 * with its memory, and never reads the tree as empty of memory. */
static void
a_zombie_is_not_a_live_process(void **unused)
{
	char *const argv[] = { "sh", "-c", "sleep 0 & exec sleep 3", NULL };
	char *const env[] = { "PATH=/usr/bin:/bin", NULL };
	struct ltb_proc_sample s;
	char err[256];
	pid_t keeper;
	int status;

	keeper = ltb_proc_spawn_kept(argv, env, -1, err, sizeof err);
	assert_true(keeper > 0);
	/* Let the child exit: then the tree is sleep 3 and a zombie. */
	usleep(300000);
	assert_int_equal(sample_until(keeper, 1, &s), 0);
	assert_int_equal(s.nprocs, 1);
	assert_true(s.rss > 100000);
	assert_int_equal(ltb_proc_stop_kept(keeper, 5, &status, NULL, NULL),
	    0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_zombie_is_not_a_live_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
