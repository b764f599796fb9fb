// SPDX-License-Identifier: GPL-2.0
/*
 * The buffers' accounting, in DISCARD and OVERWRITE mode: every record a
 * CPU tries to write is read, lost or overwritten, exactly once, in order,
 *
 *	written == reader->read + lost + overwritten + records in [tail, head)
 *
 * with writers on every CPU and a reader consuming at the same time, when
 * one CPU overflows a small buffer with nobody reading, and when the
 * reader hands the kernel a tail it cannot use.
 */
#define _GNU_SOURCE
#include <stdint.h>

#include "kselftest_harness.h"
#include "kt_test.h"
#include "kt_ring.h"
#include "kt_seq.h"

#define NR_OPS		12000	/* per CPU: 576 KiB of records or more */
#define FLOOD		5000	/* records into an 8 KiB buffer */

/*
 * race: writers on every CPU and a reader at once. With the default
 * buffer the reader mostly keeps up; with the smallest one it does not,
 * and records are lost (DISCARD) or overwritten under its feet (OVERWRITE).
 */
FIXTURE(race) {
	int fd;
	int nr;
	struct kt_rings rings;
};

FIXTURE_VARIANT(race) {
	uint32_t mode;
	uint64_t buffer_size;
};

FIXTURE_VARIANT_ADD(race, discard) {
	.mode = KTRACER_MODE_DISCARD,
	.buffer_size = KT_DEFAULT_BUFFER,
};

FIXTURE_VARIANT_ADD(race, overwrite) {
	.mode = KTRACER_MODE_OVERWRITE,
	.buffer_size = KT_DEFAULT_BUFFER,
};

FIXTURE_VARIANT_ADD(race, discard_small) {
	.mode = KTRACER_MODE_DISCARD,
	.buffer_size = KTRACER_BUFFER_MIN,
};

FIXTURE_VARIANT_ADD(race, overwrite_small) {
	.mode = KTRACER_MODE_OVERWRITE,
	.buffer_size = KTRACER_BUFFER_MIN,
};

/* acct: one CPU at a time, nobody reading meanwhile. */
FIXTURE(acct) {
	int fd;
	int nr;
	struct kt_rings rings;
};

FIXTURE_VARIANT(acct) {
	uint32_t mode;
};

FIXTURE_VARIANT_ADD(acct, discard) {
	.mode = KTRACER_MODE_DISCARD,
};

FIXTURE_VARIANT_ADD(acct, overwrite) {
	.mode = KTRACER_MODE_OVERWRITE,
};

/* Empty buffers of @buffer_size in @mode; *fd and *nr set. */
static void setup(struct __test_metadata *_metadata, int *fd, int *nr,
		  uint32_t mode, uint64_t buffer_size)
{
	*fd = kt_open();
	ASSERT_LE(0, *fd) TH_LOG("open: %s", strerror(-*fd));
	ASSERT_RET(0, kt_set_enable(*fd, 1));
	/* A new size empties the buffers and zeroes the counters. */
	ASSERT_RET(0, kt_config(*fd, KTRACER_CONFIG_MODE |
				KTRACER_CONFIG_BUFFER_SIZE, mode,
				buffer_size));
	ASSERT_RET(0, kt_reset(*fd));
	*nr = kt_nr_cpus();
	ASSERT_GE(KT_MAX_CPUS, *nr);
}

static void teardown(struct __test_metadata *_metadata, int fd,
		     struct kt_rings *rings)
{
	kt_rings_unmap(rings);
	if (fd >= 0) {
		EXPECT_EQ(0, kt_restore_defaults(fd));
		close(fd);
	}
}

FIXTURE_SETUP(race)
{
	setup(_metadata, &self->fd, &self->nr, variant->mode,
	      variant->buffer_size);
}

FIXTURE_TEARDOWN(race)
{
	teardown(_metadata, self->fd, &self->rings);
}

FIXTURE_SETUP(acct)
{
	setup(_metadata, &self->fd, &self->nr, variant->mode,
	      KT_DEFAULT_BUFFER);
}

FIXTURE_TEARDOWN(acct)
{
	teardown(_metadata, self->fd, &self->rings);
}

/* debugfs' stats show what the meta and reader pages do. */
static void check_stats(struct __test_metadata *_metadata,
			const struct kt_rings *rs)
{
	struct kt_stats st[KT_MAX_CPUS];
	int cpu;

	ASSERT_RET(0, kt_stats_read(st, rs->nr));
	for (cpu = 0; cpu < rs->nr; cpu++) {
		const struct kt_ring *r = &rs->ring[cpu];

		EXPECT_EQ(r->meta->written, st[cpu].written);
		EXPECT_EQ(r->meta->bytes, st[cpu].bytes);
		EXPECT_EQ(r->meta->lost, st[cpu].lost);
		EXPECT_EQ(r->meta->overwritten, st[cpu].overwritten);
		EXPECT_EQ(r->reader->read, st[cpu].read);
		EXPECT_EQ(0, st[cpu].unread);
		EXPECT_EQ(r->meta->tail_resets, st[cpu].tail_resets);
		EXPECT_TRUE(kt_stats_balanced(&st[cpu]));
	}
}

/*
 * One writer per CPU and a reader, all at once; then every record
 * accounted for, on every CPU.
 */
TEST_F_TIMEOUT(race, concurrent, 240)
{
	struct kt_writer w[KT_MAX_CPUS];
	struct kt_reader rd;
	pthread_t wt[KT_MAX_CPUS], rt;
	struct kt_seq_run *run;
	int cpu;

	run = calloc(1, sizeof(*run));
	ASSERT_NE(NULL, run);
	run->discard = variant->mode == KTRACER_MODE_DISCARD;
	memset(w, 0, sizeof(w));
	for (cpu = 0; cpu < self->nr; cpu++) {
		w[cpu].fd = self->fd;
		w[cpu].cpu = cpu;
		w[cpu].n = NR_OPS;
		ASSERT_RET(0, kt_writer_events(self->fd, "acct", cpu,
					       &w[cpu].gauge, &w[cpu].log));
		run->cpu[cpu].gauge = w[cpu].gauge;
		run->cpu[cpu].log = w[cpu].log;
		run->cpu[cpu].last = -1;
	}
	ASSERT_RET(0, kt_rings_map(self->fd, &self->rings));
	ASSERT_EQ(self->nr, self->rings.nr);

	memset(&rd, 0, sizeof(rd));
	rd.rings = &self->rings;
	rd.fn = kt_seq_check;
	rd.ctx = run;
	ASSERT_EQ(0, pthread_create(&rt, NULL, kt_reader_thread, &rd));
	for (cpu = 0; cpu < self->nr; cpu++)
		ASSERT_EQ(0, pthread_create(&wt[cpu], NULL, kt_writer_thread,
					    &w[cpu]));
	for (cpu = 0; cpu < self->nr; cpu++)
		ASSERT_EQ(0, pthread_join(wt[cpu], NULL));
	__atomic_store_n(&rd.stop, true, __ATOMIC_RELEASE);
	ASSERT_EQ(0, pthread_join(rt, NULL));

	for (cpu = 0; cpu < self->nr; cpu++)
		ASSERT_EQ(0, w[cpu].err) TH_LOG("writer %d, op %u: %s", cpu,
						w[cpu].done,
						strerror(-w[cpu].err));
	for (cpu = 0; cpu < self->nr; cpu++)
		if (run->cpu[cpu].err[0])
			TH_LOG("cpu %d: %s", cpu, run->cpu[cpu].err);
	ASSERT_EQ(0, rd.err) TH_LOG("reader: %s", strerror(-rd.err));

	for (cpu = 0; cpu < self->nr; cpu++) {
		const struct kt_ring *r = &self->rings.ring[cpu];
		const struct ktracer_meta *m = r->meta;
		const struct kt_seq_cpu *c = &run->cpu[cpu];
		uint64_t trailing = NR_OPS - 1 - c->last;

		TH_LOG("cpu %d: written %llu read %llu lost %llu overwritten %llu (LOST records %llu, copies dropped %llu, pads %llu)",
		       cpu, (unsigned long long)m->written,
		       (unsigned long long)r->reader->read,
		       (unsigned long long)m->lost,
		       (unsigned long long)m->overwritten,
		       (unsigned long long)r->losts,
		       (unsigned long long)r->retries,
		       (unsigned long long)r->pads);
		/* Drained. */
		EXPECT_EQ(m->head, r->reader->tail);
		/* Every op of the CPU's writer was one record written. */
		EXPECT_EQ(NR_OPS, m->written);
		/* The identity. */
		EXPECT_EQ(m->written, r->reader->read + m->lost +
				      m->overwritten);
		/* read counts exactly what this reader consumed. */
		EXPECT_EQ(r->records, r->reader->read);
		EXPECT_EQ(c->seen, r->records);
		EXPECT_EQ(0, m->tail_resets);
		EXPECT_EQ(0, c->bad_gaps) TH_LOG("cpu %d: %llu gaps without their LOST record or overwrite",
						 cpu,
						 (unsigned long long)c->bad_gaps);
		if (variant->mode == KTRACER_MODE_DISCARD) {
			EXPECT_EQ(0, m->overwritten);
			/* Missing numbers are the lost ones. */
			EXPECT_EQ(m->lost, c->gaps + trailing);
			/* All reported but those dropped after the last. */
			EXPECT_EQ(c->gaps + c->lost_since, c->lost_reported);
			EXPECT_LE(c->lost_since, trailing);
		} else {
			/*
			 * Only programs write, and one reader: OVERWRITE
			 * loses nothing ("The buffers" in the header).
			 */
			EXPECT_EQ(0, m->lost);
			EXPECT_EQ(0, r->losts);
			/* The newest record is never overwritten. */
			EXPECT_EQ(NR_OPS - 1, c->last);
			EXPECT_EQ(m->overwritten, c->gaps);
		}
	}
	check_stats(_metadata, &self->rings);
	free(run);
}

/*
 * Ops @first.. (@n of them) in batches of up to 64 on the calling thread:
 * kt_seq_op()'s GAUGEs and LOGs, or, with @log 0, GAUGEs of the values
 * @first...
 */
static int batches(int fd, uint32_t gauge, uint32_t log, unsigned int first,
		   unsigned int n)
{
	static char msgs[KT_SEQ_BATCH_MAX][KTRACER_LOG_MAX];
	struct ktracer_op ops[KT_SEQ_BATCH_MAX];
	unsigned int i, k;
	uint32_t done;
	int err;

	for (i = 0; i < n; i += k) {
		for (k = 0; k < KT_SEQ_BATCH_MAX && i + k < n; k++)
			ops[k] = log ? kt_seq_op(gauge, log, first + i + k,
						 msgs[k]) :
				       kt_mkop(KTRACER_OP_GAUGE, gauge, 0,
					       first + i + k);
		err = kt_batch(fd, ops, k, &done, NULL);
		if (err)
			return err;
		if (done != k)
			return -EIO;
	}
	return 0;
}

/* @n GAUGE values from @first, in batches. */
static int flood(int fd, uint32_t gauge, unsigned int first, unsigned int n)
{
	return batches(fd, gauge, 0, first, n);
}

/*
 * FLOOD records into an 8 KiB buffer with nobody reading: DISCARD keeps
 * the first ones, OVERWRITE the last ones, and either counts the rest.
 */
TEST_F_TIMEOUT(acct, overflow, 120)
{
	const int cpu = self->nr - 1;
	struct kt_recs recs = { 0 };
	const struct ktracer_meta *m;
	const struct kt_ring *r;
	uint32_t gauge, log;
	uint64_t first, kept, i, n;

	ASSERT_RET(0, kt_config(self->fd, KTRACER_CONFIG_BUFFER_SIZE, 0,
				KTRACER_BUFFER_MIN));
	ASSERT_RET(0, kt_writer_events(self->fd, "acct", cpu, &gauge, &log));
	ASSERT_RET(0, kt_pin_cpu(cpu));
	ASSERT_RET(0, flood(self->fd, gauge, 0, FLOOD));

	ASSERT_RET(0, kt_rings_map(self->fd, &self->rings));
	ASSERT_EQ(KTRACER_BUFFER_MIN, self->rings.state->data_size);
	r = &self->rings.ring[cpu];
	m = r->meta;
	EXPECT_EQ(FLOOD, m->written);
	EXPECT_EQ(0, r->reader->read);
	EXPECT_EQ(0, m->tail_resets);
	EXPECT_GE(KTRACER_BUFFER_MIN, m->head - r->reader->tail);

	KT_COLLECT(&self->rings, &recs);
	kept = recs.n;
	ASSERT_LT(0, kept);
	ASSERT_GT(FLOOD, kept);
	/* A full buffer: at least half of it is records. */
	EXPECT_LE(KTRACER_BUFFER_MIN / 2 / KT_REC_HDR, kept);
	EXPECT_EQ(FLOOD, kept + m->lost + m->overwritten);
	EXPECT_EQ(kept, r->reader->read);
	first = recs.v[0].hdr.arg;
	for (i = 0; i < kept; i++) {
		ASSERT_EQ(KTRACER_REC_GAUGE, recs.v[i].hdr.type)
			TH_LOG("record %llu", (unsigned long long)i);
		ASSERT_EQ(cpu, recs.v[i].cpu);
		ASSERT_EQ(first + i, recs.v[i].hdr.arg);
	}

	if (variant->mode == KTRACER_MODE_DISCARD) {
		uint64_t lost = m->lost;

		/* The first ones, and no room was ever found again. */
		EXPECT_EQ(0, first);
		EXPECT_EQ(FLOOD - kept, lost);
		EXPECT_EQ(0, m->overwritten);
		EXPECT_EQ(0, r->losts);

		/* Room now: the next record is preceded by the LOST one. */
		ASSERT_RET(0, flood(self->fd, gauge, FLOOD, 1));
		KT_COLLECT(&self->rings, &recs);
		ASSERT_EQ(2, recs.n);
		EXPECT_EQ(KTRACER_REC_LOST, recs.v[0].hdr.type);
		EXPECT_EQ(lost, recs.v[0].hdr.arg);
		EXPECT_EQ(0, recs.v[0].hdr.event);
		EXPECT_EQ(KTRACER_REC_GAUGE, recs.v[1].hdr.type);
		EXPECT_EQ(FLOOD, recs.v[1].hdr.arg);
		EXPECT_LE(recs.v[0].hdr.ts, recs.v[1].hdr.ts);
		/* lost counts on; LOST records count nowhere. */
		EXPECT_EQ(lost, m->lost);
		EXPECT_EQ(FLOOD + 1, m->written);
		EXPECT_EQ(kept + 1, r->reader->read);
	} else {
		/* The last ones; the rest freed unread. */
		EXPECT_EQ(FLOOD - 1, recs.v[kept - 1].hdr.arg);
		EXPECT_EQ(FLOOD - kept, m->overwritten);
		EXPECT_EQ(first, m->overwritten);
		EXPECT_EQ(0, m->lost);
		EXPECT_EQ(0, r->losts);
	}
	EXPECT_EQ(m->written, r->reader->read + m->lost + m->overwritten);
	EXPECT_EQ(m->head, r->reader->tail);
	if (variant->mode == KTRACER_MODE_OVERWRITE) {
		/*
		 * Twice a buffer of single records: the last ones fill it
		 * but the margin freed ahead of a record (an eighth of this
		 * buffer), the record that needed it and a PAD at its end.
		 */
		n = 2 * KTRACER_BUFFER_MIN / KT_REC_HDR;
		for (i = 0; i < n; i++)
			ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_GAUGE, gauge,
					    0, i));
		KT_COLLECT(&self->rings, &recs);
		EXPECT_LE(KTRACER_BUFFER_MIN - KTRACER_BUFFER_MIN / 8 -
			  2 * KT_REC_HDR, recs.n * KT_REC_HDR);
		ASSERT_LT(0, recs.n);
		EXPECT_EQ(n - 1, recs.v[recs.n - 1].hdr.arg);
		EXPECT_EQ(m->written, r->reader->read + m->lost +
				      m->overwritten);
	}
	check_stats(_metadata, &self->rings);
	kt_recs_free(&recs);
}

/* kt_seq_check(), stopping the reader after @left records. */
struct partial {
	struct kt_seq_run *run;
	unsigned int left;
};

static int partial_check(void *ctx, const struct kt_rec *rec)
{
	struct partial *p = ctx;
	int ret = kt_seq_check(p->run, rec);

	if (ret)
		return ret;
	return --p->left ? 0 : 1;
}

/*
 * Records of many sizes (kt_seq_op()'s GAUGEs and LOGs), one op a call
 * and in batches (blocks of records published at once, across several
 * of OVERWRITE's checkpoint chunks), through the smallest buffer a
 * hundred times over, read now and then part of the way. OVERWRITE
 * frees from two kinds of tail: the ones the reader left
 * on records of its choosing (the kernel walks and counts the records
 * it frees) and the ones it left itself (it counts them from its
 * checkpoints). After every round each record written is read, lost,
 * overwritten or unread; at the end the records read are in order and
 * every one missing is one that lost or overwritten counts.
 */
TEST_F_TIMEOUT(acct, partial_reads, 120)
{
	const int cpu = self->nr - 1;
	struct kt_seq_run *run = calloc(1, sizeof(*run));
	struct partial p = { .run = run };
	const struct ktracer_meta *m;
	struct kt_seq_cpu *c;
	unsigned int i = 0, round, k, n;
	struct kt_ring *r;
	int64_t unread;

	ASSERT_NE(NULL, run);
	c = &run->cpu[cpu];
	run->discard = variant->mode == KTRACER_MODE_DISCARD;
	c->last = -1;
	ASSERT_RET(0, kt_config(self->fd, KTRACER_CONFIG_BUFFER_SIZE, 0,
				KTRACER_BUFFER_MIN));
	ASSERT_RET(0, kt_writer_events(self->fd, "acct", cpu, &c->gauge,
				       &c->log));
	ASSERT_RET(0, kt_pin_cpu(cpu));
	ASSERT_RET(0, kt_rings_map(self->fd, &self->rings));
	r = &self->rings.ring[cpu];
	m = r->meta;

	for (round = 0; round < 300; round++) {
		n = 1 + round * 37 % 97;
		if (round % 2) {
			/* In batches: blocks of records published at once. */
			ASSERT_RET(0, batches(self->fd, c->gauge, c->log, i,
					      n));
			i += n;
		} else {
			for (k = n; k; k--, i++)
				ASSERT_RET(0, kt_seq_write(self->fd, c->gauge,
							   c->log, i));
		}
		if (round % 3 == 0) {
			p.left = 1 + round * 13 % 50;
			ASSERT_LE(0, kt_ring_consume(r, partial_check, &p))
				TH_LOG("round %u: %s", round, c->err);
		}
		unread = kt_ring_count_unread(r);
		ASSERT_LE(0, unread) TH_LOG("round %u", round);
		ASSERT_EQ(m->written, r->reader->read + m->lost +
				      m->overwritten + unread)
			TH_LOG("round %u: written %llu read %llu lost %llu overwritten %llu unread %lld",
			       round, (unsigned long long)m->written,
			       (unsigned long long)r->reader->read,
			       (unsigned long long)m->lost,
			       (unsigned long long)m->overwritten,
			       (long long)unread);
	}
	/*
	 * All of it, then one more record: DISCARD tells the last records
	 * it dropped in the LOST record before it, once it finds room.
	 */
	ASSERT_LE(0, kt_ring_consume(r, kt_seq_check, run)) TH_LOG("%s", c->err);
	ASSERT_RET(0, kt_seq_write(self->fd, c->gauge, c->log, i++));
	ASSERT_LE(0, kt_ring_consume(r, kt_seq_check, run)) TH_LOG("%s", c->err);
	EXPECT_EQ(i, m->written);
	EXPECT_EQ(i - 1, c->last);
	EXPECT_EQ(i, c->seen + c->gaps);
	EXPECT_EQ(0, c->bad_gaps);
	if (variant->mode == KTRACER_MODE_OVERWRITE) {
		EXPECT_LT(0, m->overwritten);
		EXPECT_EQ(c->gaps, m->overwritten);
		EXPECT_EQ(0, m->lost);
	} else {
		EXPECT_LT(0, m->lost);
		EXPECT_EQ(c->gaps, m->lost);
		EXPECT_EQ(0, m->overwritten);
	}
	check_stats(_metadata, &self->rings);
	free(run);
}

/*
 * A tail the kernel cannot make sense of: DISCARD drops new records once
 * they no longer fit before the last tail it read (it reads the tail
 * again only then), OVERWRITE moves the tail to head and counts a
 * tail_reset. Either way the buffer keeps working once the reader is
 * sane again.
 */
TEST_F(acct, corrupt_tail)
{
	const int cpu = self->nr - 1;
	struct kt_recs recs = { 0 };
	const struct ktracer_meta *m;
	struct kt_ring *r;
	uint32_t gauge, log;
	uint64_t head, bad[2], lost, n, max;
	int i;

	ASSERT_RET(0, kt_writer_events(self->fd, "acct", cpu, &gauge, &log));
	ASSERT_RET(0, kt_pin_cpu(cpu));
	ASSERT_RET(0, kt_rings_map(self->fd, &self->rings));
	r = &self->rings.ring[cpu];
	m = r->meta;

	for (i = 0; i < 2; i++) {
		ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_GAUGE, gauge, 0,
				    10 * i));
		KT_COLLECT(&self->rings, &recs);
		ASSERT_EQ(1, recs.n);
		head = m->head;
		ASSERT_EQ(head, r->reader->tail);

		bad[0] = head + 3;	/* not a multiple of 8 */
		bad[1] = head + 8;	/* ahead of head */
		__atomic_store_n(&r->reader->tail, bad[i], __ATOMIC_RELEASE);
		if (variant->mode == KTRACER_MODE_DISCARD) {
			/*
			 * Written while they fit after the last good tail,
			 * then one dropped: never past a full buffer.
			 */
			lost = m->lost;
			max = r->data_size / KT_REC_HDR + 1;
			for (n = 0; m->lost == lost && n < max; n++)
				ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_GAUGE,
						    gauge, 0, 10 * i + 1));
			EXPECT_EQ(lost + 1, m->lost) TH_LOG("%llu written",
							    (unsigned long long)n);
			EXPECT_LT(head, m->head);
			EXPECT_GE(head + r->data_size, m->head);
			EXPECT_EQ(bad[i], r->reader->tail);
			EXPECT_EQ(0, m->tail_resets);
			__atomic_store_n(&r->reader->tail, head,
					 __ATOMIC_RELEASE);
			KT_COLLECT(&self->rings, &recs);
			EXPECT_EQ(n - 1, recs.n);
		} else {
			ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_GAUGE, gauge,
					    0, 10 * i + 1));
			/* Tail moved to head, then the record written. */
			EXPECT_EQ(i + 1, m->tail_resets);
			EXPECT_EQ(head, r->reader->tail);
			EXPECT_EQ(head + KT_REC_HDR, m->head);
		}
		ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_GAUGE, gauge, 0,
				    10 * i + 2));
		KT_COLLECT(&self->rings, &recs);
		if (variant->mode == KTRACER_MODE_DISCARD) {
			/* The dropped record, reported or not; then ours. */
			ASSERT_LE(1, recs.n);
			EXPECT_EQ(10 * i + 2, recs.v[recs.n - 1].hdr.arg);
			EXPECT_EQ(KTRACER_REC_GAUGE,
				  recs.v[recs.n - 1].hdr.type);
			if (recs.n == 2) {
				EXPECT_EQ(KTRACER_REC_LOST,
					  recs.v[0].hdr.type);
				EXPECT_EQ(1, recs.v[0].hdr.arg);
			} else {
				EXPECT_EQ(1, recs.n);
			}
		} else {
			ASSERT_EQ(2, recs.n);
			EXPECT_EQ(10 * i + 1, recs.v[0].hdr.arg);
			EXPECT_EQ(10 * i + 2, recs.v[1].hdr.arg);
		}
		EXPECT_EQ(m->written, r->reader->read + m->lost +
				      m->overwritten);
	}
	check_stats(_metadata, &self->rings);
	kt_recs_free(&recs);
}

TEST_HARNESS_MAIN
