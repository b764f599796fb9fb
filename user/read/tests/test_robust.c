// SPDX-License-Identifier: GPL-2.0
/*
 * Robustness: buffers that hold garbage, records corrupted or cut, and
 * absurd counters never crash the reader (the tests run under ASan and
 * UBSan); what it cannot read is skipped and counted, and the trace it
 * writes stays valid.
 */

#include <stdlib.h>

#include "tests.h"

static uint64_t ku_skipped(const struct ku_pipe *p)
{
	const struct kr_model_stats *ms = kr_model_stats(p->model);
	uint64_t n = 0;
	unsigned int i, c;

	for (i = 1; i < KR_BAD__NR; i++) {
		n += ms->skipped[i];
		for (c = 0; c < p->ncpu; c++)
			n += p->fr[c].ring.st.skipped[i];
	}
	return n;
}

void robust_garbage_buffers(void)
{
	struct ku_pipe p;
	struct ku_pipe_cfg cfg = { .ncpu = 2, .ring_size = 8192 };
	uint64_t seed = 7, i, round;
	const char *doc;

	ku_pipe_init(&p, &cfg);
	for (round = 0; round < 200; round++) {
		/* the data is noise, and head says some of it is records */
		for (i = 0; i < p.fr[0].size / 8; i++) {
			uint64_t v = ku_rand(&seed);

			/* now and then a size that frames */
			if (i % 6 == 0 && v % 3)
				v = (v & ~0xffffull) | (v % 40) * 8;
			memcpy(p.fr[0].data + i * 8, &v, 8);
		}
		p.fr[0].head = p.fr[0].reader->tail +
			       ku_rand(&seed) % (p.fr[0].size + 1);
		if (round % 3 == 0)
			p.fr[0].head &= ~7ull;
		fake_publish(&p.fr[0]);
		ku_put(&p, 1, KTRACER_REC_GAUGE, 20, 1000 + round, 1, 1, 0,
		       round, 0);
		p.now += 100;
		ku_pipe_read(&p);
		/* whatever happened, the reader moved on */
		CHECK_EQ(p.fr[0].reader->tail, p.fr[0].meta->head);
	}
	doc = ku_pipe_end(&p);
	CHECK(ku_json_valid("robust_garbage", doc, strlen(doc)));
	CHECK(p.fr[0].ring.st.resyncs > 0);
	CHECK(ku_skipped(&p) > 0);
	/* CPU 1's records all came through */
	CHECK_EQ(p.fr[1].ring.st.records, 200);
	ku_pipe_free(&p);
}

/* A stream of every kind of record, with every byte open to damage. */
static void ku_stream(struct ku_pipe *p, uint64_t *seed, uint64_t ts,
		      unsigned int n)
{
	static const char msg[] = "comm or message";
	struct ktracer_block b = { .dev = 8 << 20, .sector = 1, .bytes = 512 };
	unsigned int i, cpu;
	uint32_t ev;

	for (i = 0; i < n; i++) {
		cpu = (unsigned int)(ku_rand(seed) % p->ncpu);
		ev = (uint32_t)(ku_rand(seed) % 26);
		ts += ku_rand(seed) % 1000;
		switch (ku_rand(seed) % 8) {
		case 0:
			ku_put_msg(p, cpu, KTRACER_REC_LOG, 0, 23, ts, 1, 2, 0,
				   0, 0, msg, (uint32_t)(ku_rand(seed) % 16));
			break;
		case 1:
			ku_put_msg(p, cpu, (uint8_t)(KTRACER_REC_START +
						     ku_rand(seed) % 2),
				   KTRACER_RECF_KERNEL, ev % 10, ts, 3, 4,
				   (uint32_t)(ku_rand(seed) % 4), ku_rand(seed) % 12,
				   ku_rand(seed) % 5000, msg, 6);
			break;
		case 2:
			ku_put_msg(p, cpu, (uint8_t)(KTRACER_REC_START +
						     ku_rand(seed) % 2),
				   KTRACER_RECF_KERNEL, KTRACER_KEV_BLOCK, ts, 3,
				   4, (uint32_t)(ku_rand(seed) % 300), 0,
				   ku_rand(seed) % 5000, &b, sizeof(b));
			break;
		default:
			ku_put(p, cpu, (uint8_t)(KTRACER_REC_START +
						 ku_rand(seed) % 5),
			       20 + (ev % 6), ts, 5 + (uint32_t)(ku_rand(seed) % 3),
			       6, (uint32_t)(ku_rand(seed) % 3),
			       ku_rand(seed), ku_rand(seed) % 3000);
		}
	}
}

void robust_mutated_records(void)
{
	struct ku_pipe p;
	struct ku_pipe_cfg cfg = { .ncpu = 3, .ring_size = 16384 };
	uint64_t seed = 99, round, i, pos, tail, head;
	unsigned int cpu, k;
	const char *doc;

	ku_pipe_init(&p, &cfg);
	for (round = 0; round < 300; round++) {
		ku_stream(&p, &seed, 1000000 * (round + 1), 60);
		/* damage a few bytes of what is unread */
		for (k = 0; k < 4; k++) {
			cpu = (unsigned int)(ku_rand(&seed) % p.ncpu);
			tail = p.fr[cpu].reader->tail;
			head = p.fr[cpu].meta->head;
			if (head == tail)
				continue;
			pos = tail + ku_rand(&seed) % (head - tail);
			i = pos & (p.fr[cpu].size - 1);
			switch (ku_rand(&seed) % 4) {
			case 0:
				p.fr[cpu].data[i] = (unsigned char)ku_rand(&seed);
				break;
			case 1:	/* a size, on a record boundary or not */
				p.fr[cpu].data[i & ~7ull] =
					(unsigned char)(ku_rand(&seed) % 64 * 8);
				break;
			default:
				p.fr[cpu].data[i] ^= (unsigned char)(1u << (ku_rand(&seed) % 8));
			}
		}
		p.now += 1000000;
		ku_pipe_read(&p);
	}
	doc = ku_pipe_end(&p);
	CHECK(ku_json_valid("robust_mutated", doc, strlen(doc)));
	CHECK(kr_model_stats(p.model)->records > 10000);
	for (cpu = 0; cpu < p.ncpu; cpu++)
		CHECK_EQ(p.fr[cpu].reader->tail, p.fr[cpu].meta->head);
	printf("# mutated: %llu records in, %llu left out, %llu resyncs\n",
	       (unsigned long long)kr_model_stats(p.model)->records,
	       (unsigned long long)ku_skipped(&p),
	       (unsigned long long)(p.fr[0].ring.st.resyncs +
				    p.fr[1].ring.st.resyncs +
				    p.fr[2].ring.st.resyncs));
	ku_pipe_free(&p);
}

/* Write raw bytes as CPU @cpu's next records, as a broken kernel might. */
static void ku_raw(struct ku_pipe *p, unsigned int cpu, const void *rec,
		   size_t len)
{
	struct fake_ring *f = &p->fr[cpu];

	memcpy(f->data + (f->head & (f->size - 1)), rec, len);
	f->head += (len + 7) & ~7ull;
	fake_publish(f);
}

void robust_absurd_counters(void)
{
	struct ku_pipe p;
	struct ku_pipe_cfg cfg = { .ncpu = 2, .metrics = true };
	struct ktracer_record r;
	unsigned char big[KR_REC_HDR + 300] = { 0 };
	const char *doc;
	uint16_t size;

	ku_pipe_init(&p, &cfg);
	/* LOST counts that add up past 2^64 */
	r = fake_rec(KTRACER_REC_LOST, 0, 100, 0, 0, 0, UINT64_MAX, 0);
	r.size = KR_REC_HDR;
	ku_raw(&p, 0, &r, sizeof(r));
	ku_raw(&p, 0, &r, sizeof(r));
	/* a STOP whose duration is longer than the clock has run */
	ku_put(&p, 0, KTRACER_REC_STOP, 20, 200, 1, 1, 0, 0, UINT64_MAX);
	/* a counter total and a gauge at the ends of their ranges */
	ku_put(&p, 0, KTRACER_REC_COUNT, 21, 300, 1, 1, 0, UINT64_MAX, UINT64_MAX);
	ku_put(&p, 0, KTRACER_REC_COUNT, 21, 301, 1, 1, 0, UINT64_MAX, UINT64_MAX);
	ku_put(&p, 0, KTRACER_REC_GAUGE, 22, 302, 1, 1, 0, 1ull << 63, 0);
	/* slots, events and types no kernel writes */
	ku_put(&p, 0, KTRACER_REC_START, 20, 400, 1, 1, UINT32_MAX, 0, 0);
	ku_put_msg(&p, 0, KTRACER_REC_START, KTRACER_RECF_KERNEL,
		   KTRACER_KEV_IRQ, 401, 1, 1, 999999, 0, 0, NULL, 0);
	ku_put(&p, 0, KTRACER_REC_START, 5000, 402, 1, 1, 0, 0, 0);
	ku_put(&p, 0, 99, 20, 403, 1, 1, 0, 0, 0);
	ku_put_msg(&p, 0, KTRACER_REC_GAUGE, KTRACER_RECF_KERNEL,
		   KTRACER_KEV_EXIT, 404, 1, 1, 0, 0, 0, NULL, 0);
	/* a len the size cannot hold; a record longer than any */
	r = fake_rec(KTRACER_REC_LOG, 23, 500, 1, 1, 0, 0, 0);
	r.size = KR_REC_HDR + 8;
	r.len = 4000;
	memcpy(big, &r, sizeof(r));
	ku_raw(&p, 1, big, KR_REC_HDR + 8);
	r.len = 3;
	size = KR_REC_HDR + 296;
	r.size = size;
	memcpy(big, &r, sizeof(r));
	ku_raw(&p, 1, big, size);
	/* a huge PAD, then a good record after it */
	r = fake_rec(KTRACER_REC_PAD, 0, 0, 0, 0, 0, 0, 0);
	r.size = 4096;
	ku_raw(&p, 1, &r, sizeof(r));
	p.fr[1].head += 4096 - 48;
	fake_publish(&p.fr[1]);
	ku_put(&p, 1, KTRACER_REC_GAUGE, 22, 600, 1, 1, 0, 42, 0);
	doc = ku_pipe_end(&p);
	CHECK(ku_json_valid("robust_absurd", doc, strlen(doc)));
	CHECK_EQ(kr_model_stats(p.model)->lost, UINT64_MAX);
	CHECK_HAS(doc, "\"name\":\"[lost 18446744073709551615 events]\"");
	CHECK_HAS(doc, "\"value\":18446744073709551615");
	CHECK_HAS(doc, "\"value\":-9223372036854775808");
	CHECK_HAS(doc, "\"value\":42");
	CHECK_EQ(kr_model_stats(p.model)->skipped[KR_BAD_SLOT], 2);
	CHECK_EQ(kr_model_stats(p.model)->skipped[KR_BAD_KIND], 1);
	CHECK_EQ(p.fr[0].ring.st.skipped[KR_BAD_EVENT], 1);
	CHECK_EQ(p.fr[0].ring.st.skipped[KR_BAD_TYPE], 1);
	CHECK_EQ(p.fr[1].ring.st.skipped[KR_BAD_LEN], 2);
	CHECK_EQ(p.fr[1].ring.st.resyncs, 0);
	CHECK_HAS(ku_buf_str(&p.dgrams), "kt.event_21:18446744073709551615|c");
	CHECK_HAS(ku_buf_str(&p.dgrams), "kt.reader.lost:18446744073709551615|c");
	ku_pipe_free(&p);
}
