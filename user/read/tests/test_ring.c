// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of the reader's side of the head/tail protocol (ring.c) against
 * buffers written in memory as the kernel writes them (fake_ring.h).
 */

#include <pthread.h>
#include <stdlib.h>

#include "tests.h"

/* Take every record out of @q, checking it is the next of a sequence. */
struct ku_seq {
	uint64_t next;		/* arg expected next */
	uint64_t records, losts, lost, gaps, bad;
	uint64_t back;		/* records older than one read before */
};

static void ku_seq_fn(void *ctx, unsigned int cpu, const struct ktracer_record *r)
{
	struct ku_seq *s = ctx;

	(void)cpu;
	if (r->type == KTRACER_REC_LOST) {
		s->losts++;
		s->lost += r->arg;
		return;
	}
	/* Each record says who it is: arg a sequence, extra arg * 3 + 1. */
	if (r->extra != r->arg * 3 + 1 || r->event != 20)
		s->bad++;
	if (r->arg != s->next)
		s->gaps++;
	if (s->records && r->arg < s->next)
		s->back++;
	s->next = r->arg + 1;
	s->records++;
}

static bool ku_seq_write(struct fake_ring *f, uint64_t i, uint32_t len)
{
	static const char msg[KTRACER_LOG_MAX] = "message";
	struct ktracer_record h = fake_rec(len ? KTRACER_REC_LOG :
					   KTRACER_REC_GAUGE, 20, 1000 + i, 1,
					   1, 0, i, i * 3 + 1);

	return fake_write(f, &h, msg, len, true);
}

void ring_discard_wrap(void)
{
	uint32_t mode = KTRACER_MODE_DISCARD;
	struct fake_ring f;
	struct kr_merge m;
	struct ku_seq s = { 0 };
	uint64_t i, written = 0;

	CHECK(!fake_init(&f, 0, 8192, &mode));
	CHECK(!kr_merge_init(&m, 1, 1 << 17, 0));
	/* Sizes that make records straddle the end: PADs, wraps. */
	for (i = 0; i < 20000; i++) {
		CHECK(ku_seq_write(&f, i, (uint32_t)(i * 37 % 200)));
		written++;
		if (i % 13 == 0) {
			kr_ring_pull(&f.ring, &m.q[0], 5000 + i);
			kr_merge_run(&m, KR_MERGE_ALL, ku_seq_fn, &s);
		}
	}
	kr_ring_pull(&f.ring, &m.q[0], 1 << 30);
	CHECK(m.q[0].drained);
	kr_merge_run(&m, KR_MERGE_ALL, ku_seq_fn, &s);
	CHECK_EQ(s.records, written);
	CHECK_EQ(s.gaps, 0);
	CHECK_EQ(s.bad, 0);
	CHECK_EQ(f.reader->read, written);
	CHECK_EQ(f.reader->tail, f.meta->head);
	CHECK(f.ring.st.pads > 0);
	CHECK_EQ(f.ring.st.resyncs, 0);
	CHECK_EQ(f.meta->written, f.reader->read + f.meta->lost);
	kr_merge_free(&m);
	fake_free(&f);
}

void ring_discard_lost(void)
{
	uint32_t mode = KTRACER_MODE_DISCARD;
	struct fake_ring f;
	struct kr_merge m;
	struct ku_seq s = { 0 };
	uint64_t i, dropped = 0;

	CHECK(!fake_init(&f, 0, 8192, &mode));
	CHECK(!kr_merge_init(&m, 1, 1 << 17, 0));
	for (i = 0; i < 5000; i++) {
		if (!ku_seq_write(&f, i, 0))
			dropped++;
		if (i % 1000 == 999) {
			kr_ring_pull(&f.ring, &m.q[0], 5000 + i);
			kr_merge_run(&m, KR_MERGE_ALL, ku_seq_fn, &s);
		}
	}
	kr_ring_pull(&f.ring, &m.q[0], 1 << 30);
	kr_merge_run(&m, KR_MERGE_ALL, ku_seq_fn, &s);
	CHECK(dropped > 0);
	CHECK_EQ(f.meta->lost, dropped);
	/* The last drop is told by the next record, which never came. */
	CHECK_EQ(s.lost + f.lost_pending, dropped);
	CHECK_EQ(s.lost, f.ring.st.lost);
	CHECK(s.gaps > 0 && s.gaps == s.losts);
	CHECK_EQ(s.bad, 0);
	CHECK_EQ(f.meta->written, f.reader->read + f.meta->lost);
	kr_merge_free(&m);
	fake_free(&f);
}

struct ku_writer {
	struct fake_ring *f;
	uint64_t n;
	volatile int done;
};

static void *ku_writer_thread(void *arg)
{
	struct ku_writer *w = arg;
	uint64_t i;

	for (i = 0; i < w->n; i++)
		ku_seq_write(w->f, i, (uint32_t)(i % 5 ? 0 : 24 + i % 64));
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

void ring_overwrite_concurrent(void)
{
	uint32_t mode = KTRACER_MODE_OVERWRITE;
	struct fake_ring f;
	struct kr_merge m;
	struct ku_seq s = { 0 };
	struct ku_writer w = { .n = 300000 };
	pthread_t t;
	uint64_t pulls = 0;

	CHECK(!fake_init(&f, 0, 8192, &mode));
	CHECK(!kr_merge_init(&m, 1, 1 << 17, 0));
	w.f = &f;
	CHECK(!pthread_create(&t, NULL, ku_writer_thread, &w));
	while (!__atomic_load_n(&w.done, __ATOMIC_ACQUIRE)) {
		kr_ring_pull(&f.ring, &m.q[0], 0);
		kr_merge_run(&m, KR_MERGE_ALL, ku_seq_fn, &s);
		pulls++;
	}
	pthread_join(t, NULL);
	kr_ring_pull(&f.ring, &m.q[0], 0);
	kr_merge_run(&m, KR_MERGE_ALL, ku_seq_fn, &s);
	/* A flight recorder frees records under the copy: none torn. */
	CHECK_EQ(s.bad, 0);
	CHECK_EQ(s.back, 0);
	CHECK(s.records > 0);
	/* Every record was read once or freed unread, and told as such. */
	CHECK_EQ(s.records + f.meta->overwritten, w.n);
	CHECK_EQ(s.lost, f.meta->overwritten);
	CHECK_EQ(f.reader->read, s.records);
	CHECK_EQ(f.ring.st.resyncs, 0);
	printf("# overwrite: %llu read, %llu overwritten, %llu retries, %llu pulls\n",
	       (unsigned long long)s.records,
	       (unsigned long long)f.meta->overwritten,
	       (unsigned long long)f.ring.st.retries,
	       (unsigned long long)pulls);
	kr_merge_free(&m);
	fake_free(&f);
}

void ring_fifo_smaller_than_buffer(void)
{
	struct ku_pipe p;
	struct ku_pipe_cfg cfg = { .ncpu = 2, .ring_size = 1 << 20,
				   .fifo_size = 1 };	/* the least it takes */
	uint64_t i;
	const char *doc;

	ku_pipe_init(&p, &cfg);
	/* Far more than one FIFO holds, on one CPU; the other stays idle. */
	for (i = 0; i < 15000; i++)
		CHECK(ku_put(&p, 0, KTRACER_REC_GAUGE, 20, 1000 + i, 7, 7, 0,
			     i, 0));
	ku_pipe_read(&p);
	CHECK(p.fr[0].reader->tail == p.fr[0].meta->head);
	/* the last window's worth waits for time to pass */
	CHECK_EQ(kr_model_stats(p.model)->records, 14001);
	p.now += 1000;
	ku_pipe_read(&p);
	CHECK_EQ(kr_model_stats(p.model)->records, 15000);
	doc = ku_pipe_end(&p);
	CHECK_EQ(ku_count(doc, "\"ph\":\"C\""), 15000);
	CHECK(ku_json_valid("ring_fifo_small", doc, strlen(doc)));
	ku_pipe_free(&p);
}

void ring_corrupt_tail(void)
{
	struct ku_pipe p;
	struct ku_pipe_cfg cfg = { .ncpu = 1 };
	const char *doc;

	ku_pipe_init(&p, &cfg);
	CHECK(ku_put(&p, 0, KTRACER_REC_GAUGE, 20, 1000, 7, 7, 0, 1, 0));
	CHECK(ku_put(&p, 0, KTRACER_REC_GAUGE, 20, 1001, 7, 7, 0, 2, 0));
	/* A tail the reader page should never hold. */
	p.fr[0].reader->tail = 12;
	ku_pipe_read(&p);
	CHECK_EQ(p.fr[0].ring.st.resyncs, 1);
	CHECK_EQ(p.fr[0].reader->tail, p.fr[0].meta->head);
	CHECK(ku_put(&p, 0, KTRACER_REC_GAUGE, 20, 1002, 7, 7, 0, 3, 0));
	doc = ku_pipe_end(&p);
	CHECK_HAS(doc, "[skipped ");
	CHECK_HAS(doc, "\"value\":3");
	CHECK(ku_json_valid("ring_corrupt_tail", doc, strlen(doc)));
	ku_pipe_free(&p);
}
