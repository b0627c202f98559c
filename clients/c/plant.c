/*
 * plant.c: burning a known CPU cost per span, and getting it right.
 *
 * A span plants its N ns by running a loop of dependent multiplications.
 * A loop count fixed in advance does not make N x spans of CPU time on a
 * shared VM, for three reasons, all measured on ltb's 2-core VM:
 *
 *  - the loop's speed drifts: a busy sibling core moved its cost per
 *    iteration by 20% within one run, and by half between runs;
 *  - CPU time is more than the loop's undisturbed time: interrupts and
 *    hypervisor exits that land in a burn are charged to the thread
 *    (1.5% of a bare loop's CPU, 4-5% inside the client), and they are
 *    the plant's cost as much as the loop is: without the plant the
 *    thread would not have been running to be charged them;
 *  - the thread's CPU clock, the one that counts what rusage counts, is
 *    a system call: 0.6 us a reading, and around a short burn 0.2-0.6 us
 *    more than back to back. Timing one span in 256 with it read the loop
 *    5-10% dearer than it is and planted 4% too little; the medians of
 *    the same timings on the monotonic clock miss the interrupts, and
 *    planted 5% too much.
 *
 * So every burn is timed on the monotonic clock (no system call: 25-30 ns
 * a reading) and counts for its whole time, the readings' own cost in,
 * but for any time the thread was off the CPU meanwhile: the thread clock
 * is read with the monotonic one (an anchor) every ANCHOR_EVERY spans,
 * and a burn much longer than expected reads them again and is not
 * counted for the time the thread did not run since the last anchor
 * (the sleeps the client reports aside). Each span burns what brings the
 * total to N x spans, so the error of one span, an interrupt's cost say,
 * is paid back by the next instead of adding up. The loop's cost per
 * iteration, which turns ns into iterations, is timed before the run on
 * the thread clock (a burn and one twice as long: the readings' cost
 * cancels in the difference) and follows the burns' timings after.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/ltb_clock.h"
#include "plant.h"

#define ANCHOR_EVERY 64		/* spans between two anchors */
#define CALIBRATE_NS 10000	/* the shorter burn timed before the run */
#define LEARN 16		/* a burn's weight in the loop's cost: 1/16 */
#define SAMPLES 9		/* timings a calibrated figure is the median of */
#define MIN_NS_PER_ITER 0.1	/* no CPU multiplies faster: noise must not
				 * make a burn enormous */

static volatile double sink;

/* n multiplications in a chain. Not inlined: the loop timed before the
 * run is the one every span runs. */
static __attribute__((noinline)) void
burn(uint64_t n)
{
	double x = 1.0;
	uint64_t i;

	for (i = 0; i < n; i++)
		x *= 1.000000001;
	sink = x;
}

/* This thread's CPU time, ns (plant_start checked that it reads). */
static uint64_t
thread_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
		return 0;
	return ltb_ns_of(&ts);
}

/* The CPU ns n iterations took, the thread clock's readings in. */
static uint64_t
cpu_burn(uint64_t n)
{
	uint64_t t0 = thread_ns();

	burn(n);
	return thread_ns() - t0;
}

/* The median of v[0..n-1], n <= SAMPLES; v is sorted. */
static double
median(double *v, size_t n)
{
	double x;
	size_t i, j;

	for (i = 1; i < n; i++) {
		for (x = v[i], j = i; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Read both clocks together: a new anchor; now is the monotonic clock
 * just read, the anchor's cost is counted from it. Returns that cost,
 * and learns a reading's cost on the way (where the spans take theirs,
 * after the tracer's code: 5-20 ns dearer than back to back). */
static double
anchor(struct plant *p, uint64_t now)
{
	uint64_t w = ltb_mono_ns();
	double cost;

	p->reading_ns += ((double)(w - now) - p->reading_ns) / LEARN;
	p->anchor_cpu = thread_ns();
	p->anchor_wall = ltb_mono_ns();
	p->since_anchor = 0;
	p->slept_ns = 0;
	cost = (double)(p->anchor_wall - now);
	/* a deschedule in the middle is not the anchor's cost */
	if (p->anchor_ns > 0 && cost > 4 * p->anchor_ns)
		cost = 4 * p->anchor_ns;
	return cost;
}

/* How long the thread was off the CPU since the last anchor, sleeps
 * aside; a new anchor, its cost counted. */
static double
off_cpu(struct plant *p, uint64_t now)
{
	uint64_t cpu = p->anchor_cpu, wall = p->anchor_wall;
	double slept = p->slept_ns, off;

	p->spent_ns += anchor(p, now);
	off = (double)(p->anchor_wall - wall) -
	    (double)(p->anchor_cpu - cpu) - slept;
	return off > 0 ? off : 0;
}

int
plant_start(struct plant *p, uint64_t ns, char *err, size_t errlen)
{
	struct timespec ts;
	double v[SAMPLES];
	uint64_t n, a, b, t;
	size_t i;

	memset(p, 0, sizeof *p);
	p->ns = ns;
	if (ns == 0)
		return 0;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0) {
		snprintf(err, errlen, "cannot read the thread's CPU clock: %s",
		    strerror(errno));
		return -1;
	}
	for (i = 0; i < SAMPLES; i++) {
		t = ltb_mono_ns();
		v[i] = (double)(ltb_mono_ns() - t);
	}
	p->reading_ns = median(v, SAMPLES);
	/* a burn long enough for the thread clock, the loop warm on the way */
	for (n = 256; cpu_burn(n) < CALIBRATE_NS && n < UINT64_C(1) << 40;
	    n *= 2)
		;
	for (i = 0; i < 3; i++) {
		a = cpu_burn(n);
		b = cpu_burn(2 * n);
		v[i] = b > a ? (double)(b - a) / (double)n : 0;
	}
	p->ns_per_iter = fmax(median(v, 3), MIN_NS_PER_ITER);
	for (i = 0; i < SAMPLES; i++)
		v[i] = anchor(p, ltb_mono_ns());
	p->anchor_ns = median(v, SAMPLES);
	return 0;
}

/*
 * The span's plant. Its timing runs from the first reading to the last,
 * this code and an anchor when one is due in; what it misses is half of
 * each reading, one reading's cost in all. The loop's cost per iteration
 * is learnt with this code's share in, which is what a burn of n
 * iterations comes to.
 */
void
plant_span(struct plant *p)
{
	uint64_t t0, t1, n;
	double want, d, expect, fixed = 0;
	int anchored;

	if (p->ns == 0)
		return;
	t0 = ltb_mono_ns();
	if ((anchored = p->since_anchor >= ANCHOR_EVERY))
		fixed = anchor(p, t0);
	/* what brings the total to N x spans */
	want = (double)p->ns * (double)(p->spans + 1) - p->spent_ns -
	    p->reading_ns - fixed;
	want = fmin(fmax(want, 0), 4.0 * (double)p->ns);
	n = (uint64_t)(want / p->ns_per_iter + 0.5);
	burn(n);
	t1 = ltb_mono_ns();
	d = (double)(t1 - t0);
	expect = fixed + (double)n * p->ns_per_iter;
	if (d > 1.25 * expect + 1000)
		d -= fmin(off_cpu(p, t1), d - expect);
	else if (n >= 64 && !anchored)
		p->ns_per_iter = fmax(p->ns_per_iter +
		    (d / (double)n - p->ns_per_iter) / LEARN,
		    MIN_NS_PER_ITER);
	p->spent_ns += d + p->reading_ns;
	p->spans++;
	p->since_anchor++;
}

void
plant_slept(struct plant *p, uint64_t wall_ns)
{
	if (p->ns > 0)
		p->slept_ns += (double)wall_ns;
}

double
plant_measured(const struct plant *p)
{
	return p->spans > 0 ? p->spent_ns / (double)p->spans : NAN;
}
