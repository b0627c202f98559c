/*
 * ltb_proc.h: starting client programs and measuring what they use.
 *
 * A client runs in a process group of its own, so the whole tree it
 * starts (a shell script exec-ing node, a tracer's helper process) can be
 * sampled and killed as one. The caller should be a child subreaper
 * (ltb_proc_become_subreaper) so that descendants the client leaves behind
 * come back to it to be reaped and accounted, never orphaned.
 */
#ifndef LTB_PROC_H
#define LTB_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Make the calling process the reaper of its orphaned descendants. */
int ltb_proc_become_subreaper(void);

/*
 * Start argv (argv[0] looked up in PATH) in a new process group, with the
 * extra environment entries env ("NAME=value", NULL-ended; may be NULL),
 * stdin from /dev/null, stdout to out_fd (-1: our stderr), stderr to ours.
 * Returns the pid (= the group id), or -1 with errno (exec failures of the
 * child are reported through err: "exec clients/c/run: Permission denied").
 * Blocked signals are unblocked in the child.
 */
pid_t ltb_proc_spawn(char *const argv[], char *const env[], int out_fd,
    char *err, size_t errlen);

/* What a process tree uses right now. */
struct ltb_proc_sample {
	double cpu_s;		/* user + system CPU of the live processes */
	uint64_t rss;		/* resident bytes, summed */
	int nprocs;		/* processes in the group */
};

/* Sum over the live processes of group pgid (reads all of /proc). 0, or
 * -1 if /proc cannot be read. */
int ltb_proc_sample_group(pid_t pgid, struct ltb_proc_sample *s);

/*
 * The same for frequent sampling: a full scan of /proc costs about a
 * millisecond, too much ten times a second, so the group's members are
 * remembered and /proc is scanned again only every rescan seconds, or
 * when a member has gone. A process born in between is seen at the next
 * scan. Zero-initialise, set pgid.
 */
#define LTB_PROC_MAX_MEMBERS 256
struct ltb_proc_group {
	pid_t pgid;
	pid_t pids[LTB_PROC_MAX_MEMBERS];
	size_t n;
	double scanned;		/* ltb_now() of the last scan, 0: never */
};
int ltb_proc_group_sample(struct ltb_proc_group *g, double rescan,
    struct ltb_proc_sample *s);

/* CPU seconds (user + system) one process has used; -1 if gone. */
double ltb_proc_cpu(pid_t pid);

/* SIGKILL the whole group, then reap everything of ours that exited,
 * without blocking. */
void ltb_proc_kill_group(pid_t pgid);

/* Seconds of CPU the host has spent busy and in steal since boot, summed
 * over all CPUs (from /proc/stat); for noise figures. */
int ltb_proc_host_cpu(double *busy_s, double *steal_s);

/* The 1-minute load average, or -1. */
double ltb_proc_loadavg(void);

/* Monotonic seconds. */
double ltb_now(void);

#endif
