/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktracer-read: the reader's side of the head/tail protocol of
 * uapi/linux/ktracer.h, for one CPU's buffer: what the kernel published
 * is copied into that CPU's FIFO and consumed.
 *
 * The three areas of a buffer (reader page, meta page, data) are plain
 * pointers here, so the same code runs on a real mapping and on buffers
 * a test or a benchmark builds in memory and writes as the kernel would.
 */
#ifndef KR_RING_H
#define KR_RING_H

#include <stdio.h>

#include "merge.h"

struct kr_ring_stats {
	uint64_t records;	/* consumed, counted in reader->read */
	uint64_t pads, losts;
	uint64_t lost;		/* sum of the LOST records' counts */
	uint64_t overwritten;	/* freed unread while read (OVERWRITE) */
	uint64_t retries;	/* copies dropped: the kernel moved the tail */
	uint64_t resyncs;	/* times the stream could not be followed */
	uint64_t resync_bytes;	/* ...and the bytes skipped then */
	uint64_t skipped[KR_BAD__NR];	/* framed records left out, by why */
};

struct kr_ring {
	unsigned int cpu;
	uint64_t data_size;			/* a power of two */
	struct ktracer_reader *reader;		/* the one page we write */
	const struct ktracer_meta *meta;
	const unsigned char *data;
	uint64_t overwritten_seen;		/* meta->overwritten, last look */
	uint64_t lost_base;			/* meta->lost when we began */
	FILE *log;				/* NULL: say nothing */
	unsigned int reports;			/* messages written to log */
	struct kr_ring_stats st;
};

void kr_ring_init(struct kr_ring *r, unsigned int cpu,
		  struct ktracer_reader *reader,
		  const struct ktracer_meta *meta, const unsigned char *data,
		  uint64_t data_size);

/*
 * Consume what the kernel has published into @q, as much as @q has room
 * for; @now is the time (CLOCK_MONOTONIC ns) taken before the call. Sets
 * q->drained and q->fill_ts. Records that cannot be read are skipped and
 * counted, never given out: the stream goes on from the next readable
 * point. Returns the bytes consumed.
 */
uint64_t kr_ring_pull(struct kr_ring *r, struct kr_fifo *q, uint64_t now);

/*
 * The trace ends: records the kernel counted as dropped (meta lost) or
 * freed unread (meta overwritten) that no LOST record of the stream told,
 * because nothing was written after them, are told now by a LOST of the
 * reader's own in @q at @ts, and counted in r->st. Call once the last
 * pull is done and the merge has emptied @q (it needs one header's room).
 */
void kr_ring_finish(struct kr_ring *r, struct kr_fifo *q, uint64_t ts);

/* Unread bytes of the buffer ([R1] head minus tail). */
uint64_t kr_ring_unread(const struct kr_ring *r);

#endif /* KR_RING_H */
