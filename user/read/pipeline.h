/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktracer-read: the stages wired together, as the command, the tests and
 * the benchmark all run them: every CPU's ring consumed into its FIFO,
 * the FIFOs merged into the model, the model's events and metrics handed
 * to the Chrome writer and the StatsD aggregator (either may be absent).
 */
#ifndef KR_PIPELINE_H
#define KR_PIPELINE_H

#include "json.h"
#include "model.h"
#include "ring.h"
#include "statsd.h"

struct kr_outputs {
	struct kr_json *json;		/* NULL: no trace */
	struct kr_statsd *statsd;	/* NULL: no metrics */
};

/* The model's sink for @o: hooks for the outputs @o has, ctx @o. */
struct kr_sink kr_outputs_sink(struct kr_outputs *o);

/*
 * Consume the @ncpu rings into the merge's FIFOs and give the model what
 * the merge allows, until the rings are drained (or a bound on rounds);
 * @now is CLOCK_MONOTONIC before the call; @final: the sources are done,
 * give out everything, and tell records dropped after a CPU's last record
 * (kr_ring_finish) as a LOST on that CPU at the last time given out.
 */
void kr_read_cycle(struct kr_ring *const *rings, unsigned int ncpu,
		   struct kr_merge *merge, struct kr_model *model,
		   uint64_t now, bool final);

/* What the rings consumed so far: records, and records told lost. */
void kr_read_totals(struct kr_ring *const *rings, unsigned int ncpu,
		    uint64_t *read, uint64_t *lost);

#endif /* KR_PIPELINE_H */
