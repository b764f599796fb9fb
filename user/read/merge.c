// SPDX-License-Identifier: GPL-2.0
/* ktracer-read: the per-CPU FIFOs and their k-way merge. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "merge.h"

/* Room a fill needs at least: one record, and a LOST the reader adds. */
#define KR_FILL_MIN	(KR_REC_MAX + KR_REC_HDR)
/* A FIFO holds the largest PAD a record's 16-bit size can describe. */
#define KR_FIFO_MIN	(128u << 10)

int kr_fifo_init(struct kr_fifo *q, size_t cap)
{
	memset(q, 0, sizeof(*q));
	cap &= ~(size_t)7;
	if (cap < KR_FIFO_MIN)
		cap = KR_FIFO_MIN;
	q->buf = aligned_alloc(8, cap);
	if (!q->buf) {
		errno = ENOMEM;
		return -1;
	}
	q->cap = cap;
	q->end = cap;
	return 0;
}

void kr_fifo_free(struct kr_fifo *q)
{
	free(q->buf);
	memset(q, 0, sizeof(*q));
}

unsigned char *kr_fifo_space(struct kr_fifo *q, size_t *n)
{
	if (!q->used) {
		q->rd = q->wr = 0;
		q->end = q->cap;
	}
	if (q->wr > q->rd || !q->used) {
		/* Not wrapped: room at the end, else start again at 0. */
		if (q->cap - q->wr < KR_FILL_MIN && q->rd >= KR_FILL_MIN) {
			q->end = q->wr;
			q->wr = 0;
		}
	}
	*n = (q->wr < q->rd || (q->used && q->wr == q->rd)) ?
	     q->rd - q->wr : q->cap - q->wr;
	if (*n < KR_FILL_MIN)
		*n = 0;
	return q->buf + q->wr;
}

/* Step over PAD records, so that the FIFO starts with a real one. */
static void kr_fifo_skip_pads(struct kr_fifo *q)
{
	const struct ktracer_record *r;

	while ((r = kr_fifo_peek(q)) && r->type == KTRACER_REC_PAD) {
		q->rd += r->size;
		q->used -= r->size;
		if (!q->used) {
			q->rd = q->wr = 0;
			q->end = q->cap;
		} else if (q->rd == q->end) {
			q->rd = 0;
			q->end = q->cap;
		}
	}
}

void kr_fifo_commit(struct kr_fifo *q, size_t n)
{
	q->wr += n;
	q->used += n;
	kr_fifo_skip_pads(q);
}

static inline void kr_fifo_pop(struct kr_fifo *q, uint32_t size)
{
	q->rd += size;
	q->used -= size;
	if (!q->used) {
		q->rd = q->wr = 0;
		q->end = q->cap;
		return;
	}
	if (q->rd == q->end) {
		q->rd = 0;
		q->end = q->cap;
	}
	if (((const struct ktracer_record *)(q->buf + q->rd))->type ==
	    KTRACER_REC_PAD)
		kr_fifo_skip_pads(q);
}

int kr_merge_init(struct kr_merge *m, unsigned int ncpu, size_t fifo_bytes,
		  uint64_t window_ns)
{
	unsigned int i;

	memset(m, 0, sizeof(*m));
	m->q = calloc(ncpu ? ncpu : 1, sizeof(*m->q));
	m->heap = calloc(ncpu ? ncpu : 1, sizeof(*m->heap));
	if (!m->q || !m->heap)
		goto err;
	m->ncpu = ncpu;
	m->window = window_ns;
	for (i = 0; i < ncpu; i++)
		if (kr_fifo_init(&m->q[i], fifo_bytes))
			goto err;
	return 0;
err:
	kr_merge_free(m);
	errno = ENOMEM;
	return -1;
}

void kr_merge_free(struct kr_merge *m)
{
	unsigned int i;

	for (i = 0; m->q && i < m->ncpu; i++)
		kr_fifo_free(&m->q[i]);
	free(m->q);
	free(m->heap);
	memset(m, 0, sizeof(*m));
}

/* Oldest first; between equals, the lower CPU. */
static inline bool kr_before(const struct kr_head *a, const struct kr_head *b)
{
	return a->ts < b->ts || (a->ts == b->ts && a->cpu < b->cpu);
}

static inline void kr_sift_down(struct kr_merge *m, unsigned int i)
{
	struct kr_head *h = m->heap, x = h[i];
	unsigned int n = m->nheap, c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && kr_before(&h[c + 1], &h[c]))
			c++;
		if (!kr_before(&h[c], &x))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = x;
}

/* Up to when CPU @cpu, its FIFO empty, can have nothing more. */
static uint64_t kr_frontier(const struct kr_merge *m, unsigned int cpu)
{
	const struct kr_fifo *q = &m->q[cpu];

	if (!q->drained)
		return q->last_ts;
	return q->fill_ts > m->window ? q->fill_ts - m->window : 0;
}

bool kr_merge_crowded(const struct kr_merge *m)
{
	unsigned int i;

	for (i = 0; i < m->ncpu; i++)
		if (!m->q[i].drained && m->q[i].used > m->q[i].cap / 2)
			return true;
	return false;
}

uint64_t kr_merge_run(struct kr_merge *m, enum kr_merge_mode mode,
		      kr_rec_fn fn, void *ctx)
{
	uint64_t limit = UINT64_MAX, n = 0, f;
	const struct ktracer_record *r;
	struct kr_fifo *q;
	unsigned int i, cpu;

	m->nheap = 0;
	for (i = 0; i < m->ncpu; i++) {
		if (m->q[i].used) {
			m->heap[m->nheap].cpu = i;
			m->heap[m->nheap++].ts = kr_fifo_peek(&m->q[i])->ts;
		} else if (mode == KR_MERGE_SAFE && (f = kr_frontier(m, i)) < limit)
			limit = f;
	}
	for (i = m->nheap / 2; i-- > 0;)
		kr_sift_down(m, i);

	while (m->nheap) {
		if (mode == KR_MERGE_SAFE && m->heap[0].ts > limit)
			break;
		cpu = m->heap[0].cpu;
		q = &m->q[cpu];
		r = kr_fifo_peek(q);
		if (mode == KR_MERGE_ROOM && !(n & 255) && !kr_merge_crowded(m))
			break;
		fn(ctx, cpu, r);
		n++;
		if (r->ts < m->last_out)
			m->late++;
		else
			m->last_out = r->ts;
		q->last_ts = r->ts;
		kr_fifo_pop(q, r->size);
		if (q->used) {
			/*
			 * Still the oldest (a run of one CPU): the sift's
			 * first two compares find it so and stop there.
			 */
			m->heap[0].ts = kr_fifo_peek(q)->ts;
			kr_sift_down(m, 0);
			continue;
		}
		m->heap[0] = m->heap[--m->nheap];
		if (m->nheap)
			kr_sift_down(m, 0);
		if (mode == KR_MERGE_SAFE && (f = kr_frontier(m, cpu)) < limit)
			limit = f;
	}
	m->out += n;
	return n;
}
