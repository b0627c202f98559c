/*
 * ltb_proc.h: starting client programs and measuring what they use.
 *
 * Nothing we start may outlive us, even when we are killed with SIGKILL.
 * Every child is started with PR_SET_PDEATHSIG (SIGTERM when its parent
 * dies), but that reaches only direct children; so a client runs under a
 * keeper (ltb_proc_spawn_kept), a small forked process of ours between us
 * and the client. The keeper is a child subreaper, so the descendants
 * that double-fork or setsid away come back to it; when the client exits,
 * or the keeper gets SIGTERM (from us, or from our death), it kills the
 * client's process group and every descendant left, reaps them all, and
 * exits as the client did. wait4 on the keeper thus counts the CPU of the
 * client's whole tree. ltb_proc_tree_sample reads that tree from /proc.
 *
 * PR_SET_PDEATHSIG fires when the thread that forked exits, not the
 * process: spawn from the main thread.
 */
#ifndef LTB_PROC_H
#define LTB_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

/* Make the calling process the reaper of its orphaned descendants. */
int ltb_proc_become_subreaper(void);

/*
 * Start argv (argv[0] looked up in PATH) in a new process group, with the
 * extra environment entries env ("NAME=value", NULL-ended; may be NULL),
 * stdin from /dev/null, stdout to out_fd (-1: our stderr), stderr to ours.
 * Returns the pid (= the group id), or -1 with errno (exec failures of the
 * child are reported through err: "exec clients/c/run: Permission denied").
 * Blocked signals are unblocked in the child. The child gets SIGTERM when
 * the calling thread dies (checked after the fork: if we are already gone
 * it exits at once).
 */
pid_t ltb_proc_spawn(char *const argv[], char *const env[], int out_fd,
    char *err, size_t errlen);

/*
 * The same, with a keeper between us and argv (see the top of this file).
 * Returns the keeper's pid: wait for it (its status is the client's: the
 * same exit code, or death by the same signal; its rusage covers the
 * client's whole tree), and SIGTERM it to stop the client early. The
 * keeper is in a process group of its own, the client in another. -1 as
 * ltb_proc_spawn, exec failures reported the same way.
 */
pid_t ltb_proc_spawn_kept(char *const argv[], char *const env[], int out_fd,
    char *err, size_t errlen);

/* SIGTERM a keeper and wait for it (SIGKILL after timeout s, which
 * should never be needed); its status and rusage, and in *self_cpu the
 * keeper's own CPU, not its client's (may be NULL). 0, or -1 if it was
 * not our child. */
int ltb_proc_stop_kept(pid_t keeper, double timeout, int *status,
    struct rusage *ru, double *self_cpu);

/* Reap an exited keeper without blocking: 1 with status, rusage and the
 * keeper's own CPU filled when it had exited, 0 when it is still running,
 * -1 if it is not our child. */
int ltb_proc_reap_kept(pid_t keeper, int *status, struct rusage *ru,
    double *self_cpu);

/* What a process tree uses right now. */
struct ltb_proc_sample {
	double cpu_s;		/* user + system CPU of the live processes */
	uint64_t rss;		/* resident bytes, summed */
	int nprocs;		/* live processes in the tree */
};

/*
 * The client tree under a keeper: every live descendant of keeper, not
 * the keeper itself (its memory is a copy of ours, not the client's).
 * cpu_s is all the tree has used so far: the descendants' own CPU and
 * that of their reaped children, and the CPU of those the keeper reaped
 * (so it does not drop when a process exits); rss and nprocs count the
 * live descendants with memory (not zombies). Reads all of /proc. 0, or -1 if the keeper is gone or
 * /proc cannot be read.
 */
int ltb_proc_tree_sample(pid_t keeper, struct ltb_proc_sample *s);

/* CPU seconds (user + system) one process has used; -1 if gone. */
double ltb_proc_cpu(pid_t pid);

/* Seconds of CPU the host has spent busy and in steal since boot, summed
 * over all CPUs (from /proc/stat); for noise figures. */
int ltb_proc_host_cpu(double *busy_s, double *steal_s);

/* The 1-minute load average, or -1. */
double ltb_proc_loadavg(void);

#endif
