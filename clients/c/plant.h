/*
 * plant.h: the reference client's planted cost (PlantedNsPerSpan).
 *
 * A traced run can be told to burn N ns of CPU per span on the thread
 * that makes the spans, inside each span: a known cost beside the
 * tracer's, the ground truth ltb checks its own figures against. What is
 * planted is CPU time as rusage counts it (and so ltb-sample's
 * program_time): N x spans of it, whatever the machine's speed does
 * meanwhile (plant.c says how).
 *
 * One plant per thread, used by that thread only: plant_start on the
 * thread that will make the spans, then plant_span once in each span, and
 * plant_slept after each sleep between spans.
 */
#ifndef LTB_CLIENT_PLANT_H
#define LTB_CLIENT_PLANT_H

#include <stddef.h>
#include <stdint.h>

struct plant {
	uint64_t ns;			/* per span; 0: plant nothing */
	uint64_t spans;			/* spans planted so far */
	double spent_ns;		/* the CPU they took, as timed */
	/* plant.c's own */
	double ns_per_iter;		/* the loop's cost, recent burns */
	double reading_ns;		/* a monotonic clock reading's cost */
	double anchor_ns;		/* an anchor's cost (both clocks) */
	uint64_t anchor_cpu;		/* thread clock at the last anchor */
	uint64_t anchor_wall;		/* monotonic clock then */
	uint64_t since_anchor;		/* spans since */
	double slept_ns;		/* time slept since */
};

/*
 * Get p ready to plant ns per span (0: plant nothing, and plant_span does
 * nothing): time the clocks and the loop, for about 0.2 ms. Returns 0, or
 * -1 with the reason in err (the thread's CPU clock cannot be read).
 */
int plant_start(struct plant *p, uint64_t ns, char *err, size_t errlen);

/* Plant one span's cost. */
void plant_span(struct plant *p);

/* The thread slept wall_ns (measured around the sleep) since the last
 * span: not CPU time, and not the plant's. */
void plant_slept(struct plant *p, uint64_t wall_ns);

/* The mean CPU ns a span's planting took, as timed: about p->ns. NaN
 * before the first span. */
double plant_measured(const struct plant *p);

#endif
