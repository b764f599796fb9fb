// SPDX-License-Identifier: GPL-2.0
/*
 * KTRACER_IOC_BATCH: ops applied in order up to the first that fails,
 * done and error written back, and the batch's own errors, after which
 * nothing is applied and nothing is written back.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "kt_test.h"
#include "kt_ring.h"

#define SPAN_SLOTS	4
#define UNTOUCHED	77

FIXTURE(batch) {
	int fd;
	uint32_t span, gauge, counter, log;
	struct kt_rings rings;
	struct kt_recs recs;
	struct ktracer_op *ops;
};

FIXTURE_SETUP(batch)
{
	char name[48];

	self->fd = kt_open();
	ASSERT_LE(0, self->fd) TH_LOG("open: %s", strerror(-self->fd));
	ASSERT_RET(0, kt_set_enable(self->fd, 1));
	ASSERT_RET(0, kt_reset(self->fd));
	ASSERT_RET(0, kt_pin_cpu(0));
	self->span = kt_register_id(self->fd, KTRACER_KIND_SPAN, SPAN_SLOTS,
				 "batch.span");
	self->gauge = kt_register_id(self->fd, KTRACER_KIND_GAUGE, 0,
				  "batch.gauge");
	/* Its total starts at 0 in every test. */
	snprintf(name, sizeof(name), "batch.counter.%d", getpid());
	self->counter = kt_register_id(self->fd, KTRACER_KIND_COUNTER, 0, name);
	self->log = kt_register_id(self->fd, KTRACER_KIND_LOG, 0, "batch.log");
	ASSERT_NE(0, self->span);
	ASSERT_NE(0, self->gauge);
	ASSERT_NE(0, self->counter);
	ASSERT_NE(0, self->log);
	self->ops = calloc(KTRACER_BATCH_MAX + 1, sizeof(*self->ops));
	ASSERT_NE(NULL, self->ops);
	ASSERT_RET(0, kt_rings_map(self->fd, &self->rings));
}

FIXTURE_TEARDOWN(batch)
{
	free(self->ops);
	kt_recs_free(&self->recs);
	kt_rings_unmap(&self->rings);
	if (self->fd >= 0)
		close(self->fd);
}

#define COLLECT()	KT_COLLECT(&self->rings, &self->recs)
#define NREC		(self->recs.n)
#define REC(i)		(&self->recs.v[i].hdr)

/* A valid batch of @count ops at @ops, done and error preset. */
static void batch_init(struct ktracer_batch *b, void *ops, uint32_t count)
{
	memset(b, 0, sizeof(*b));
	b->size = sizeof(*b);
	b->ops = (uintptr_t)ops;
	b->count = count;
	b->op_size = sizeof(struct ktracer_op);
	b->done = UNTOUCHED;
	b->error = UNTOUCHED;
}

/* The 64 ops of all_applied: four of a kind in turn. */
static struct ktracer_op mixed_op(const FIXTURE_DATA(batch) *self,
				  unsigned int i)
{
	uint32_t slot = (i / 4) % SPAN_SLOTS;

	switch (i % 4) {
	case 0:
		return kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, i);
	case 1:
		return kt_mkop(KTRACER_OP_COUNT, self->counter, 0, 1);
	case 2:
		return kt_mkop(KTRACER_OP_START, self->span, slot, i);
	default:
		return kt_mkop(KTRACER_OP_STOP, self->span, slot, i);
	}
}

TEST_F(batch, all_applied)
{
	static const unsigned int types[] = {
		KTRACER_REC_GAUGE, KTRACER_REC_COUNT, KTRACER_REC_START,
		KTRACER_REC_STOP,
	};
	struct ktracer_batch b;
	unsigned int i;

	for (i = 0; i < 64; i++)
		self->ops[i] = mixed_op(self, i);
	batch_init(&b, self->ops, 64);
	ASSERT_EQ(0, ioctl(self->fd, KTRACER_IOC_BATCH, &b))
		TH_LOG("batch: %s", strerror(errno));
	EXPECT_EQ(64, b.done);
	EXPECT_EQ(0, b.error);
	EXPECT_EQ(KTRACER_BATCH_SIZE_VER0, b.size);

	COLLECT();
	ASSERT_EQ(64, NREC);
	for (i = 0; i < 64; i++) {
		const struct ktracer_record *r = REC(i);

		ASSERT_EQ(types[i % 4], r->type) TH_LOG("record %u", i);
		EXPECT_EQ(0, self->recs.v[i].cpu);
		if (i)
			EXPECT_LE(REC(i - 1)->ts, r->ts);
		switch (r->type) {
		case KTRACER_REC_GAUGE:
			EXPECT_EQ(i, r->arg);
			break;
		case KTRACER_REC_COUNT:
			EXPECT_EQ(1, r->arg);
			EXPECT_EQ(i / 4 + 1, r->extra);
			break;
		case KTRACER_REC_START:
			EXPECT_EQ(i, r->arg);
			EXPECT_EQ((i / 4) % SPAN_SLOTS, r->slot);
			break;
		case KTRACER_REC_STOP:
			EXPECT_EQ(i, r->arg);
			EXPECT_EQ((i / 4) % SPAN_SLOTS, r->slot);
			EXPECT_EQ(r->ts - REC(i - 1)->ts, r->extra);
			break;
		}
	}
}

/*
 * A block remembers the event its last op looked up: ops that alternate
 * between events, runs of ops on one event, a LOG between them (which
 * the general path takes) and a last op of the wrong kind on the event
 * just used are each recorded for their own event, or refused, as if
 * every op were looked up afresh.
 */
TEST_F(batch, remembered_event)
{
	static const char msg[] = "between";
	struct ktracer_batch b;
	struct ktracer_op *op = self->ops;
	uint32_t ev[100];
	unsigned int i, n = 0, slot;

#define PUT(e, o) do { ev[n] = (e); op[n] = (o); n++; } while (0)

	for (i = 0; i < 12; i++) {
		slot = i % SPAN_SLOTS;
		PUT(self->gauge, kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, n));
		PUT(self->counter,
		    kt_mkop(KTRACER_OP_COUNT, self->counter, 0, n));
		PUT(self->counter,
		    kt_mkop(KTRACER_OP_COUNT, self->counter, 0, n));
		PUT(self->span, kt_mkop(KTRACER_OP_START, self->span, slot, n));
		PUT(self->gauge, kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, n));
		PUT(self->span, kt_mkop(KTRACER_OP_STOP, self->span, slot, n));
		if (i == 5) {
			PUT(self->log, kt_mkop(KTRACER_OP_LOG, self->log, 0,
					       (uintptr_t)msg));
			op[n - 1].len = sizeof(msg) - 1;
		}
	}
	/* A START on the gauge the op before used: EINVAL, and the end. */
	PUT(self->gauge, kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, n));
	PUT(self->gauge, kt_mkop(KTRACER_OP_START, self->gauge, 0, n));
	PUT(self->gauge, kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, n));
#undef PUT
	batch_init(&b, op, n);
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_BATCH, &b));
	EXPECT_EQ(n - 2, b.done);
	EXPECT_EQ(-EINVAL, b.error);

	COLLECT();
	ASSERT_EQ(n - 2, NREC);
	for (i = 0; i < n - 2; i++) {
		const struct ktracer_record *r = REC(i);

		EXPECT_EQ(ev[i], r->event) TH_LOG("record %u", i);
		if (r->type == KTRACER_REC_LOG)
			continue;
		EXPECT_EQ(i, r->arg) TH_LOG("record %u", i);
		switch (op[i].op) {
		case KTRACER_OP_GAUGE:
			EXPECT_EQ(KTRACER_REC_GAUGE, r->type);
			break;
		case KTRACER_OP_COUNT:
			EXPECT_EQ(KTRACER_REC_COUNT, r->type);
			break;
		case KTRACER_OP_START:
			EXPECT_EQ(KTRACER_REC_START, r->type);
			EXPECT_EQ(op[i].slot, r->slot);
			break;
		case KTRACER_OP_STOP:
			EXPECT_EQ(KTRACER_REC_STOP, r->type);
			EXPECT_EQ(op[i].slot, r->slot);
			break;
		}
	}
	/* Every span that started stopped: all slots are closed. */
	for (slot = 0; slot < SPAN_SLOTS; slot++)
		ASSERT_OP_ERRNO(ENOENT, self->fd, KTRACER_OP_STOP, self->span,
				slot, 0);
}

TEST_F(batch, stops_at_failure)
{
	struct ktracer_batch b;
	struct ktracer_op *op = self->ops;
	unsigned int i;

	op[0] = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, 0);
	op[1] = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, 1);
	op[2] = kt_mkop(KTRACER_OP_START, self->span, 2, 2);
	op[3] = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, 3);
	op[4] = kt_mkop(KTRACER_OP_COUNT, self->counter, 0, 4);
	op[5] = kt_mkop(KTRACER_OP_STOP, self->span, 1, 5);	/* not open */
	op[6] = kt_mkop(KTRACER_OP_START, self->span, 3, 6);
	op[7] = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, 7);
	op[8] = kt_mkop(KTRACER_OP_STOP, self->span, 2, 8);
	op[9] = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, 9);
	batch_init(&b, op, 10);
	ASSERT_ERRNO(ENOENT, ioctl(self->fd, KTRACER_IOC_BATCH, &b));
	EXPECT_EQ(5, b.done);
	EXPECT_EQ(-ENOENT, b.error);

	COLLECT();
	ASSERT_EQ(5, NREC);
	for (i = 0; i < 5; i++)
		EXPECT_EQ(i, REC(i)->arg);
	EXPECT_EQ(KTRACER_REC_START, REC(2)->type);
	EXPECT_EQ(4, REC(4)->extra);

	/* Op 2 opened slot 2 and op 8 never closed it; op 6 never ran. */
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_STOP, self->span, 2, 0));
	ASSERT_OP_ERRNO(ENOENT, self->fd, KTRACER_OP_STOP, self->span, 3, 0);
}

/* Each op fails as it would alone; the ops before it stay applied. */
TEST_F(batch, op_errors)
{
	static const char msg[] = "batch";
	struct {
		int err;
		struct ktracer_op op;
	} bad[12];
	struct ktracer_batch b;
	struct ktracer_op *op = self->ops;
	unsigned int i, n = 0;
	uint64_t gauges = 0;

#define BAD(e, o) do { bad[n].err = (e); bad[n].op = (o); n++; } while (0)
	BAD(ENOENT, kt_mkop(KTRACER_OP_GAUGE, 0, 0, 0));
	BAD(ERANGE, kt_mkop(KTRACER_OP_START, self->span, SPAN_SLOTS, 0));
	BAD(EINVAL, kt_mkop(KTRACER_OP_START, self->gauge, 0, 0));
	BAD(EINVAL, kt_mkop(0, self->gauge, 0, 0));
	BAD(EINVAL, kt_mkop(KTRACER_OP_GAUGE, self->gauge, 1, 0));
	BAD(EMSGSIZE, kt_mkop(KTRACER_OP_LOG, self->log, 0, (uintptr_t)msg));
	BAD(EMSGSIZE, kt_mkop(KTRACER_OP_LOG, self->log, 0, (uintptr_t)msg));
	bad[n - 1].op.len = KTRACER_LOG_MAX + 1;
	BAD(EFAULT, kt_mkop(KTRACER_OP_LOG, self->log, 0, 0));
	bad[n - 1].op.len = 4;
	BAD(EINVAL, kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, 0));
	bad[n - 1].op.flags = 1;
	BAD(EINVAL, kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, 0));
	bad[n - 1].op.__reserved = 1;
	BAD(EINVAL, kt_mkop(KTRACER_OP_COUNT, self->counter, 0, 0));
	bad[n - 1].op.len = 1;
#undef BAD

	for (i = 0; i < n; i++) {
		op[0] = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, i);
		op[1] = bad[i].op;
		op[2] = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, 1000 + i);
		batch_init(&b, op, 3);
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->fd, KTRACER_IOC_BATCH, &b))
			TH_LOG("bad op %u accepted", i);
		EXPECT_EQ(bad[i].err, errno) TH_LOG("bad op %u: want %s, got %s",
						    i, strerror(bad[i].err),
						    strerror(errno));
		EXPECT_EQ(1, b.done);
		EXPECT_EQ(-bad[i].err, b.error);
		gauges++;
	}

	/* Slot state: a batch sees what its earlier ops did. */
	op[0] = kt_mkop(KTRACER_OP_START, self->span, 0, 0);
	op[1] = kt_mkop(KTRACER_OP_START, self->span, 0, 0);
	batch_init(&b, op, 2);
	ASSERT_ERRNO(EBUSY, ioctl(self->fd, KTRACER_IOC_BATCH, &b));
	EXPECT_EQ(1, b.done);
	EXPECT_EQ(-EBUSY, b.error);

	COLLECT();
	ASSERT_EQ(gauges + 1, NREC);
	for (i = 0; i < gauges; i++) {
		EXPECT_EQ(KTRACER_REC_GAUGE, REC(i)->type);
		EXPECT_EQ(i, REC(i)->arg);
	}
	EXPECT_EQ(KTRACER_REC_START, REC(gauges)->type);
}

TEST_F(batch, count_einval)
{
	struct ktracer_batch b;
	unsigned int i;

	for (i = 0; i <= KTRACER_BATCH_MAX; i++)
		self->ops[i] = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, i);
	batch_init(&b, self->ops, 0);
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_BATCH, &b));
	EXPECT_EQ(UNTOUCHED, b.done);
	EXPECT_EQ(UNTOUCHED, b.error);
	batch_init(&b, self->ops, KTRACER_BATCH_MAX + 1);
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_BATCH, &b));
	EXPECT_EQ(UNTOUCHED, b.done);
	EXPECT_EQ(UNTOUCHED, b.error);
	batch_init(&b, self->ops, UINT32_MAX);
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_BATCH, &b));
	EXPECT_EQ(UNTOUCHED, b.done);
	COLLECT();
	EXPECT_EQ(0, NREC);
}

/* KTRACER_BATCH_MAX ops in one call. */
TEST_F(batch, count_max)
{
	uint32_t done = 0;
	int32_t error = UNTOUCHED;
	unsigned int i;

	for (i = 0; i < KTRACER_BATCH_MAX; i++)
		self->ops[i] = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, i);
	ASSERT_RET(0, kt_batch(self->fd, self->ops, KTRACER_BATCH_MAX, &done,
			       &error));
	EXPECT_EQ(KTRACER_BATCH_MAX, done);
	EXPECT_EQ(0, error);
	COLLECT();
	ASSERT_EQ(KTRACER_BATCH_MAX, NREC);
	for (i = 0; i < NREC; i++)
		ASSERT_EQ(i, REC(i)->arg);
}

TEST_F(batch, op_size_einval)
{
	static const uint32_t bad[] = { 0, 8, KTRACER_OP_SIZE_VER0 - 1,
					KTRACER_ARG_SIZE_MAX + 1 };
	struct ktracer_batch b;
	unsigned int i;

	self->ops[0] = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		batch_init(&b, self->ops, 1);
		b.op_size = bad[i];
		ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_BATCH, &b));
		EXPECT_EQ(UNTOUCHED, b.done);
		EXPECT_EQ(UNTOUCHED, b.error);
	}
	COLLECT();
	EXPECT_EQ(0, NREC);
}

TEST_F(batch, flags_size_einval)
{
	struct ktracer_batch b;

	self->ops[0] = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, 1);
	batch_init(&b, self->ops, 1);
	b.flags = 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_BATCH, &b));
	EXPECT_EQ(UNTOUCHED, b.done);
	EXPECT_EQ(UNTOUCHED, b.error);
	b.flags = 1u << 31;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_BATCH, &b));
	EXPECT_EQ(UNTOUCHED, b.done);
	batch_init(&b, self->ops, 1);
	b.size = KTRACER_BATCH_SIZE_VER0 - 8;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_BATCH, &b));
	EXPECT_EQ(UNTOUCHED, b.done);
	ASSERT_ERRNO(EFAULT, ioctl(self->fd, KTRACER_IOC_BATCH, NULL));
	COLLECT();
	EXPECT_EQ(0, NREC);
}

/*
 * done and error cannot be written back: EFAULT. The ops may have been
 * applied (the one exception to "a failed command changes nothing").
 */
TEST_F(batch, results_unwritable_efault)
{
	long ps = sysconf(_SC_PAGESIZE);
	struct ktracer_batch *b;

	b = mmap(NULL, ps, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, b);
	self->ops[0] = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, 1);
	batch_init(b, self->ops, 1);
	ASSERT_EQ(0, mprotect(b, ps, PROT_READ));
	ASSERT_ERRNO(EFAULT, ioctl(self->fd, KTRACER_IOC_BATCH, b));
	EXPECT_EQ(UNTOUCHED, b->done);
	munmap(b, ps);
	COLLECT();
	ASSERT_GE(1, NREC);
	if (NREC)
		EXPECT_EQ(1, REC(0)->arg);
}

/* An unreadable op 0 is op 0's failure: done 0 and error are written. */
TEST_F(batch, ops_unreadable_efault)
{
	struct ktracer_batch b;
	void *none;

	none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, none);
	batch_init(&b, NULL, 1);
	ASSERT_ERRNO(EFAULT, ioctl(self->fd, KTRACER_IOC_BATCH, &b));
	EXPECT_EQ(0, b.done);
	EXPECT_EQ(-EFAULT, b.error);
	batch_init(&b, none, 4);
	ASSERT_ERRNO(EFAULT, ioctl(self->fd, KTRACER_IOC_BATCH, &b));
	EXPECT_EQ(0, b.done);
	EXPECT_EQ(-EFAULT, b.error);
	batch_init(&b, (void *)(uintptr_t)0xffffffff81000000ULL, 4);
	ASSERT_ERRNO(EFAULT, ioctl(self->fd, KTRACER_IOC_BATCH, &b));
	EXPECT_EQ(0, b.done);
	EXPECT_EQ(-EFAULT, b.error);
	munmap(none, 4096);
	COLLECT();
	EXPECT_EQ(0, NREC);
}

/*
 * The ops array runs into a PROT_NONE page at op k, for k on both sides
 * of every 16-op chunk the kernel reads at a time and for each op_size:
 * op k starting right at the page or straddling it, ops 0..k-1 are
 * applied, done = k, error = -EFAULT, and nothing after.
 */
TEST_F(batch, fault_at_every_op)
{
	static const uint32_t sizes[] = { 40, 48, 64 };
	static const uint32_t at[] = { 0, 1, 2, 14, 15, 16, 17, 19, 20, 21,
				       31, 32, 33, 47, 48, 49 };
	long ps = sysconf(_SC_PAGESIZE);
	unsigned char *area, *base, op[64];
	unsigned int si, ai, straddle, i;
	struct ktracer_batch b;
	uint64_t tag = 0;

	area = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, area);
	ASSERT_EQ(0, mprotect(area + ps, ps, PROT_NONE));
	for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		uint32_t os = sizes[si];

		for (ai = 0; ai < sizeof(at) / sizeof(at[0]); ai++) {
			for (straddle = 0; straddle < 2; straddle++) {
				uint32_t k = at[ai];

				ASSERT_GE(ps, (long)((k + 1) * os));
				base = area + ps - k * os - straddle * os / 2;
				memset(area, 0, ps);
				tag += 1000;
				/* Ops 0..k-1, and what of op k is readable. */
				for (i = 0; i <= k; i++) {
					struct ktracer_op o;

					o = kt_mkop(KTRACER_OP_GAUGE,
						    self->gauge, 0, tag + i);
					o.size = os;
					memset(op, 0, sizeof(op));
					memcpy(op, &o, sizeof(o));
					memcpy(base + (size_t)i * os, op,
					       i < k ? os : straddle * os / 2);
				}
				batch_init(&b, base, k + 4);
				b.op_size = os;
				ASSERT_ERRNO(EFAULT, ioctl(self->fd,
							   KTRACER_IOC_BATCH, &b));
				EXPECT_EQ(k, b.done) TH_LOG("op_size %u, op %u, straddling %u",
							    os, k, straddle);
				EXPECT_EQ(-EFAULT, b.error);
				COLLECT();
				ASSERT_EQ(k, NREC) TH_LOG("op_size %u, op %u, straddling %u",
							  os, k, straddle);
				for (i = 0; i < k; i++)
					EXPECT_EQ(tag + i, REC(i)->arg);
			}
		}
	}
	munmap(area, 2 * ps);
}

/* Each op's size must equal op_size: the first that does not fails. */
TEST_F(batch, op_size_mismatch)
{
	struct ktracer_batch b;
	unsigned int i;

	for (i = 0; i < 4; i++)
		self->ops[i] = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, i);
	self->ops[2].size = sizeof(struct ktracer_op) + 8;
	batch_init(&b, self->ops, 4);
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_BATCH, &b));
	EXPECT_EQ(2, b.done);
	EXPECT_EQ(-EINVAL, b.error);

	self->ops[2].size = KTRACER_OP_SIZE_VER0 - 8;
	batch_init(&b, self->ops + 2, 2);
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_BATCH, &b));
	EXPECT_EQ(0, b.done);
	EXPECT_EQ(-EINVAL, b.error);

	COLLECT();
	ASSERT_EQ(2, NREC);
	EXPECT_EQ(0, REC(0)->arg);
	EXPECT_EQ(1, REC(1)->arg);
}

/* A newer caller's larger ops: fine while the bytes past ours are 0. */
TEST_F(batch, larger_op_size)
{
	struct big_op {
		struct ktracer_op op;
		uint64_t future;
	} big[3];
	struct ktracer_batch b;
	unsigned int i;

	memset(big, 0, sizeof(big));
	for (i = 0; i < 3; i++) {
		big[i].op = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, i);
		big[i].op.size = sizeof(big[i]);
	}
	batch_init(&b, big, 3);
	b.op_size = sizeof(big[0]);
	ASSERT_EQ(0, ioctl(self->fd, KTRACER_IOC_BATCH, &b))
		TH_LOG("batch: %s", strerror(errno));
	EXPECT_EQ(3, b.done);
	EXPECT_EQ(0, b.error);

	big[1].future = 1;
	batch_init(&b, big, 3);
	b.op_size = sizeof(big[0]);
	ASSERT_ERRNO(E2BIG, ioctl(self->fd, KTRACER_IOC_BATCH, &b));
	EXPECT_EQ(1, b.done);
	EXPECT_EQ(-E2BIG, b.error);

	/* At op 0 just the same: done and error are written. */
	batch_init(&b, &big[1], 2);
	b.op_size = sizeof(big[0]);
	ASSERT_ERRNO(E2BIG, ioctl(self->fd, KTRACER_IOC_BATCH, &b));
	EXPECT_EQ(0, b.done);
	EXPECT_EQ(-E2BIG, b.error);

	COLLECT();
	ASSERT_EQ(4, NREC);
	EXPECT_EQ(0, REC(0)->arg);
	EXPECT_EQ(1, REC(1)->arg);
	EXPECT_EQ(2, REC(2)->arg);
	EXPECT_EQ(0, REC(3)->arg);
}

/*
 * Caller-supplied ts: recorded as given, in the order of the ops (not
 * sorted), as long as none is older than the start of the previous OP or
 * BATCH call of this file, or in the future.
 */
TEST_F(batch, user_ts)
{
	uint64_t t0, t1, t2, t3;
	uint32_t done;
	int32_t error;

	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_GAUGE, self->gauge, 0, 0));
	t1 = kt_now();
	t2 = t1 + 1000;
	while (kt_now() <= t2)
		;
	self->ops[0] = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, 1);
	self->ops[0].ts = t2;
	self->ops[1] = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, 2);
	self->ops[1].ts = t1;	/* older than op 0: allowed */
	self->ops[2] = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, 3);
	ASSERT_RET(0, kt_batch(self->fd, self->ops, 3, &done, &error));
	EXPECT_EQ(3, done);

	/* t2 is older than the start of that batch. */
	self->ops[0] = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, 4);
	self->ops[1] = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, 5);
	self->ops[1].ts = t2;
	ASSERT_RET(-EINVAL, kt_batch(self->fd, self->ops, 2, &done, &error));
	EXPECT_EQ(1, done);
	EXPECT_EQ(-EINVAL, error);

	/* Older than the start of a previous OP. */
	t0 = kt_now();
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_GAUGE, self->gauge, 0, 6));
	self->ops[0] = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, 7);
	self->ops[0].ts = t0 - 1000000;
	ASSERT_RET(-EINVAL, kt_batch(self->fd, self->ops, 1, &done, &error));
	EXPECT_EQ(0, done);
	EXPECT_EQ(-EINVAL, error);

	/* In the future. */
	self->ops[0] = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, 8);
	self->ops[1] = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, 9);
	self->ops[1].ts = kt_now() + KT_NSEC_PER_SEC;
	ASSERT_RET(-EINVAL, kt_batch(self->fd, self->ops, 2, &done, &error));
	EXPECT_EQ(1, done);
	EXPECT_EQ(-EINVAL, error);

	/* A BATCH's start bounds the next OP's ts too. */
	t3 = kt_now();
	self->ops[0] = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, 10);
	ASSERT_RET(0, kt_batch(self->fd, self->ops, 1, &done, &error));
	self->ops[0] = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, 11);
	self->ops[0].ts = t3 - 1000000;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_OP, &self->ops[0]));

	COLLECT();
	ASSERT_EQ(8, NREC);
	EXPECT_EQ(0, REC(0)->arg);
	EXPECT_EQ(0, REC(0)->flags);
	EXPECT_EQ(1, REC(1)->arg);
	EXPECT_EQ(t2, REC(1)->ts);
	EXPECT_EQ(KTRACER_RECF_USER_TS, REC(1)->flags);
	EXPECT_EQ(2, REC(2)->arg);
	EXPECT_EQ(t1, REC(2)->ts);
	EXPECT_EQ(KTRACER_RECF_USER_TS, REC(2)->flags);
	EXPECT_EQ(3, REC(3)->arg);
	EXPECT_EQ(0, REC(3)->flags);
	EXPECT_LT(t2, REC(3)->ts);
	EXPECT_EQ(4, REC(4)->arg);
	EXPECT_EQ(6, REC(5)->arg);
	EXPECT_LE(t0, REC(5)->ts);
	EXPECT_EQ(8, REC(6)->arg);
	EXPECT_EQ(10, REC(7)->arg);
	EXPECT_LE(t3, REC(7)->ts);
}

/* One way for an OP or BATCH call to fail without applying anything. */
static int fail_call(FIXTURE_DATA(batch) *self, unsigned int how)
{
	struct ktracer_op op = kt_mkop(KTRACER_OP_STOP, self->span, 0, 0);
	struct ktracer_batch b;

	switch (how) {
	case 0:		/* OP: STOP on a slot that is not open */
		return kt_do(self->fd, &op);
	case 1:		/* OP: a LOG whose message cannot be read */
		op = kt_mkop(KTRACER_OP_LOG, self->log, 0, 8);
		op.len = 4;
		return kt_do(self->fd, &op);
	case 2:		/* BATCH: op 0 fails with ENOENT */
		self->ops[0] = op;
		self->ops[1] = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, 0);
		return kt_batch(self->fd, self->ops, 2, NULL, NULL);
	case 3:		/* BATCH: op 0 cannot be read */
		batch_init(&b, NULL, 2);
		return ioctl(self->fd, KTRACER_IOC_BATCH, &b) ? -errno : 0;
	default:	/* BATCH: refused as a whole */
		batch_init(&b, self->ops, 0);
		return ioctl(self->fd, KTRACER_IOC_BATCH, &b) ? -errno : 0;
	}
}

/*
 * A call that applies nothing, whatever its errno, leaves the bound
 * where it was: a ts taken before it, after the last call that applied
 * something, is still accepted.
 */
TEST_F(batch, failed_call_keeps_bound)
{
	static const int err[] = { ENOENT, EFAULT, ENOENT, EFAULT, EINVAL };
	struct ktracer_op op;
	unsigned int how;
	uint64_t t;

	for (how = 0; how < sizeof(err) / sizeof(err[0]); how++) {
		ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_GAUGE, self->gauge, 0,
				    0));
		t = kt_now();
		ASSERT_RET(-err[how], fail_call(self, how));
		op = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, how);
		op.ts = t;
		EXPECT_EQ(0, kt_do(self->fd, &op)) TH_LOG("failure %u", how);
	}
}

/* A call that applied an op, then failed, moves the bound to its start. */
TEST_F(batch, partly_applied_call_moves_bound)
{
	struct ktracer_op op;
	uint32_t done;
	uint64_t t;

	t = kt_now();
	self->ops[0] = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, 1);
	self->ops[1] = kt_mkop(KTRACER_OP_STOP, self->span, 0, 0);
	ASSERT_RET(-ENOENT, kt_batch(self->fd, self->ops, 2, &done, NULL));
	EXPECT_EQ(1, done);
	op = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, 2);
	op.ts = t;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_OP, &op));
	/* That EINVAL applied nothing either: the bound did not move. */
	op.ts = kt_now();
	ASSERT_RET(0, kt_do(self->fd, &op));
	COLLECT();
	ASSERT_EQ(2, NREC);
	EXPECT_EQ(1, REC(0)->arg);
	EXPECT_EQ(2, REC(1)->arg);
}

/*
 * Threads of one file race with user timestamps. A BATCH call is a ts 0
 * GAUGE, whose record tells when the call began, then a GAUGE with the
 * ts the thread read just before the call; an OP call is that second op
 * alone. A user ts may be refused (EINVAL) only because another call
 * that applied something began after that ts and no later than the
 * refused call itself: a bound in the refused call's future is the bug
 * of two threads raising the bound in the opposite order.
 */
#define RACE_THREADS	8
#define RACE_CALLS	400
#define RACE_ROUNDS	10

struct race_call {
	uint64_t t;		/* the user ts */
	uint64_t post;		/* kt_now() after the call returned */
	uint64_t start;		/* BATCH: its ts 0 record's ts */
	int err;
	uint32_t done;
	bool batch;
};

struct race {
	int fd;
	uint32_t gauge;
	unsigned int id;
	struct race_call call[RACE_CALLS];
};

/* Even values are a BATCH's ts 0 op, odd ones the user ts op. */
static uint64_t race_tag(unsigned int thread, unsigned int i)
{
	return ((uint64_t)thread * RACE_CALLS + i) * 2;
}

static void *race_thread(void *arg)
{
	struct race *r = arg;
	struct ktracer_op ops[2];
	struct race_call *c;
	unsigned int i;
	int32_t error;

	for (i = 0; i < RACE_CALLS; i++) {
		c = &r->call[i];
		c->batch = (i + r->id) % 2;
		ops[0] = kt_mkop(KTRACER_OP_GAUGE, r->gauge, 0,
				 race_tag(r->id, i));
		ops[1] = kt_mkop(KTRACER_OP_GAUGE, r->gauge, 0,
				 race_tag(r->id, i) + 1);
		c->t = ops[1].ts = kt_now();
		if (c->batch) {
			c->err = kt_batch(r->fd, ops, 2, &c->done, &error);
		} else {
			c->err = kt_do(r->fd, &ops[1]);
			c->done = !c->err;
		}
		c->post = kt_now();
	}
	return NULL;
}

/*
 * The kernel's clock and the vDSO's may differ by a hair: where a start
 * is known only from user-space clock reads, allow this much.
 */
#define RACE_SLACK	1000

/*
 * Whether thread @ti's call @i's refusal is explained: another call that
 * applied something began after its ts and no later than it did.
 */
static bool race_explained(struct race *rs, unsigned int ti, unsigned int i)
{
	const struct race_call *f = &rs[ti].call[i];
	uint64_t until = f->batch ? f->start : f->post + RACE_SLACK;
	unsigned int tj, j;

	for (tj = 0; tj < RACE_THREADS; tj++) {
		for (j = 0; j < RACE_CALLS; j++) {
			const struct race_call *c = &rs[tj].call[j];

			if ((tj == ti && j == i) || !c->done)
				continue;
			/* An OP's start is somewhere in [t, post]. */
			if (c->batch ? c->start > f->t && c->start <= until :
				       c->post + RACE_SLACK > f->t &&
				       c->t <= until + RACE_SLACK)
				return true;
		}
	}
	return false;
}

TEST_F(batch, threads_bound_never_ahead)
{
	static struct race rs[RACE_THREADS];
	pthread_t th[RACE_THREADS];
	unsigned int round, ti, i, refused = 0, applied = 0, spurious = 0;

	cpu_set_t all;

	/* Unpinned: the threads run on every CPU. */
	CPU_ZERO(&all);
	for (i = 0; i < (unsigned int)kt_nr_cpus(); i++)
		CPU_SET(i, &all);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(all), &all));
	for (round = 0; round < RACE_ROUNDS && !spurious; round++) {
		for (ti = 0; ti < RACE_THREADS; ti++) {
			rs[ti].fd = self->fd;
			rs[ti].gauge = self->gauge;
			rs[ti].id = ti;
			memset(rs[ti].call, 0, sizeof(rs[ti].call));
			ASSERT_EQ(0, pthread_create(&th[ti], NULL, race_thread,
						    &rs[ti]));
		}
		for (ti = 0; ti < RACE_THREADS; ti++)
			ASSERT_EQ(0, pthread_join(th[ti], NULL));
		COLLECT();
		for (i = 0; i < NREC; i++) {
			const struct ktracer_record *r = REC(i);
			uint64_t n = r->arg / 2;

			ASSERT_EQ(KTRACER_REC_GAUGE, r->type) TH_LOG("records lost?");
			ASSERT_GT(RACE_THREADS * RACE_CALLS, n);
			if (!(r->arg % 2))
				rs[n / RACE_CALLS].call[n % RACE_CALLS].start = r->ts;
		}
		for (ti = 0; ti < RACE_THREADS; ti++) {
			for (i = 0; i < RACE_CALLS; i++) {
				struct race_call *c = &rs[ti].call[i];

				if (c->batch)
					ASSERT_NE(0, c->start) TH_LOG("op 0 of a batch not recorded");
				if (!c->err) {
					applied++;
					continue;
				}
				ASSERT_EQ(-EINVAL, c->err);
				ASSERT_EQ(c->batch, c->done);
				refused++;
				if (!race_explained(rs, ti, i)) {
					spurious++;
					TH_LOG("round %u thread %u call %u (%s): ts %llu refused, began %llu",
					       round, ti, i, c->batch ? "BATCH" : "OP",
					       (unsigned long long)c->t,
					       (unsigned long long)c->start);
				}
			}
		}
	}
	TH_LOG("%u calls applied their user ts, %u refused, %u without cause",
	       applied, refused, spurious);
	EXPECT_EQ(0, spurious);
	EXPECT_LT(0, applied);
}

TEST_HARNESS_MAIN
