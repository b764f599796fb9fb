// SPDX-License-Identifier: GPL-2.0
/* ktracer-read: the stages wired together (see pipeline.h). */

#include "pipeline.h"

/* Rounds of one cycle: each consumes up to KR_PULL_MAX of every CPU. */
#define KR_CYCLE_ROUNDS	64

static uint64_t kr_sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

static void kr_out_origin(void *ctx, uint64_t t0)
{
	kr_json_origin(((struct kr_outputs *)ctx)->json, t0);
}

static void kr_out_event(void *ctx, const struct kr_ev *ev)
{
	kr_json_event(((struct kr_outputs *)ctx)->json, ev);
}

static void kr_out_span(void *ctx, uint32_t id, const struct kr_evname *n,
			uint32_t pid, uint64_t dur)
{
	kr_statsd_span(((struct kr_outputs *)ctx)->statsd, id, n->name, n->len,
		       pid, dur);
}

static void kr_out_gauge(void *ctx, uint32_t id, const struct kr_evname *n,
			 uint32_t pid, int64_t value)
{
	kr_statsd_gauge(((struct kr_outputs *)ctx)->statsd, id, n->name,
			n->len, pid, value);
}

static void kr_out_count(void *ctx, uint32_t id, const struct kr_evname *n,
			 uint32_t pid, uint64_t add)
{
	kr_statsd_count(((struct kr_outputs *)ctx)->statsd, id, n->name,
			n->len, pid, add);
}

struct kr_sink kr_outputs_sink(struct kr_outputs *o)
{
	struct kr_sink sink = { .ctx = o };

	if (o->json) {
		sink.origin = kr_out_origin;
		sink.event = kr_out_event;
		sink.json = o->json;
	}
	if (o->statsd) {
		sink.span = kr_out_span;
		sink.gauge = kr_out_gauge;
		sink.count = kr_out_count;
	}
	return sink;
}

void kr_read_cycle(struct kr_ring *const *rings, unsigned int ncpu,
		   struct kr_merge *merge, struct kr_model *model,
		   uint64_t now, bool final)
{
	unsigned int cpu, round;
	bool drained;

	for (round = 0; round < KR_CYCLE_ROUNDS; round++) {
		drained = true;
		for (cpu = 0; cpu < ncpu; cpu++) {
			kr_ring_pull(rings[cpu], &merge->q[cpu], now);
			drained &= merge->q[cpu].drained;
		}
		kr_merge_run(merge, final ? KR_MERGE_ALL : KR_MERGE_SAFE,
			     kr_model_rec_fn, model);
		if (drained)
			break;
		if (kr_merge_crowded(merge))
			kr_merge_run(merge, KR_MERGE_ROOM, kr_model_rec_fn,
				     model);
	}
	if (!final)
		return;
	kr_merge_run(merge, KR_MERGE_ALL, kr_model_rec_fn, model);
	/*
	 * Losses no LOST record followed: on their CPU's track, at the last
	 * time seen (in order with what went out, so never counted late).
	 */
	for (cpu = 0; cpu < ncpu; cpu++)
		kr_ring_finish(rings[cpu], &merge->q[cpu],
			       merge->last_out ? merge->last_out : now);
	kr_merge_run(merge, KR_MERGE_ALL, kr_model_rec_fn, model);
}

void kr_read_totals(struct kr_ring *const *rings, unsigned int ncpu,
		    uint64_t *read, uint64_t *lost)
{
	const struct kr_ring_stats *st;
	unsigned int cpu;

	*read = *lost = 0;
	for (cpu = 0; cpu < ncpu; cpu++) {
		st = &rings[cpu]->st;
		*read += st->records;
		*lost = kr_sat_add(*lost, kr_sat_add(st->lost, st->overwritten));
	}
}
