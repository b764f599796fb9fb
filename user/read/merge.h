/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktracer-read: one FIFO of records per CPU, and their merge into one
 * stream in timestamp order.
 *
 * Records of one CPU come in reservation order, which is timestamp order
 * but for a few: a k-way merge of the CPUs' streams puts the whole in
 * order up to those. A record of CPU c is given out only once every other
 * CPU is known to have nothing older to give: its FIFO holds something
 * newer, or the kernel's buffer was found empty at a time later than the
 * record by at least the reorder window (the "frontier"). A record that
 * comes older than one already given out anyway (a program's own
 * timestamps, a writer slower than the window) is given out at once and
 * counted as late. Memory is the FIFOs, fixed: when a FIFO fills up while
 * the merge waits, the oldest records go out regardless.
 */
#ifndef KR_MERGE_H
#define KR_MERGE_H

#include <stdbool.h>

#include "record.h"

struct kr_fifo {
	unsigned char *buf;	/* 8-aligned */
	size_t cap;
	size_t rd, wr, end;	/* data: [rd, wr), or [rd, end) + [0, wr) */
	size_t used;
	/* Set by whoever fills it (kr_ring_pull). */
	bool drained;		/* the last fill took all its source had */
	uint64_t fill_ts;	/* ...as of this time (CLOCK_MONOTONIC ns) */
	uint64_t last_ts;	/* of the last record given out */
};

int kr_fifo_init(struct kr_fifo *q, size_t cap);
void kr_fifo_free(struct kr_fifo *q);

/*
 * Contiguous room at the write end, *@n bytes of it: at least KR_REC_MAX
 * plus a header, or 0 bytes when the FIFO is (nearly) full.
 */
unsigned char *kr_fifo_space(struct kr_fifo *q, size_t *n);
/* The first @n bytes of that room now hold whole, framed records. */
void kr_fifo_commit(struct kr_fifo *q, size_t n);

static inline const struct ktracer_record *kr_fifo_peek(const struct kr_fifo *q)
{
	return q->used ? (const struct ktracer_record *)(q->buf + q->rd) : NULL;
}

enum kr_merge_mode {
	KR_MERGE_SAFE,	/* only records nothing older can come before */
	KR_MERGE_ROOM,	/* the oldest, until no waiting FIFO is over half full */
	KR_MERGE_ALL	/* everything: the sources are done */
};

typedef void (*kr_rec_fn)(void *ctx, unsigned int cpu,
			  const struct ktracer_record *r);

/* A CPU in the merge's heap, with its oldest record's ts beside it. */
struct kr_head {
	uint64_t ts;
	unsigned int cpu;
};

struct kr_merge {
	unsigned int ncpu;
	struct kr_fifo *q;	/* q[cpu] */
	struct kr_head *heap;	/* CPUs with records, by their oldest ts */
	unsigned int nheap;
	uint64_t window;	/* reorder window, ns */
	uint64_t last_out;	/* ts of the newest record given out */
	uint64_t out, late;
};

/* @ncpu FIFOs of @fifo_bytes each, a reorder window of @window_ns. */
int kr_merge_init(struct kr_merge *m, unsigned int ncpu, size_t fifo_bytes,
		  uint64_t window_ns);
void kr_merge_free(struct kr_merge *m);
/* Give records to @fn in timestamp order, as @mode allows; how many. */
uint64_t kr_merge_run(struct kr_merge *m, enum kr_merge_mode mode,
		      kr_rec_fn fn, void *ctx);
/* Some FIFO waits on a source it could not drain: call with ROOM. */
bool kr_merge_crowded(const struct kr_merge *m);

#endif /* KR_MERGE_H */
