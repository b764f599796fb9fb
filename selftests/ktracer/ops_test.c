// SPDX-License-Identifier: GPL-2.0
/*
 * KTRACER_IOC_OP: what each op records, the slot state it keeps, the
 * caller's timestamps, and every error the header lists for an op.
 *
 * Each test starts from empty buffers (KTRACER_IOC_RESET), runs pinned to
 * one CPU, and reads back what was recorded through the mmap protocol.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "kt_test.h"
#include "kt_ring.h"

#define SPAN_SLOTS 4

FIXTURE(ops) {
	int fd;
	int cpu;
	uint32_t span, gauge, counter, log;
	struct kt_rings rings;
	struct kt_recs recs;
};

FIXTURE_SETUP(ops)
{
	self->fd = kt_open_fresh_pinned(&self->cpu);
	ASSERT_LE(0, self->fd) TH_LOG("fresh start: %s", strerror(-self->fd));
	self->span = kt_register_id(self->fd, KTRACER_KIND_SPAN, SPAN_SLOTS,
				 "ops.span");
	self->gauge = kt_register_id(self->fd, KTRACER_KIND_GAUGE, 0,
				  "ops.gauge");
	self->counter = kt_register_id(self->fd, KTRACER_KIND_COUNTER, 0,
				    "ops.counter");
	self->log = kt_register_id(self->fd, KTRACER_KIND_LOG, 0, "ops.log");
	ASSERT_NE(0, self->span);
	ASSERT_NE(0, self->gauge);
	ASSERT_NE(0, self->counter);
	ASSERT_NE(0, self->log);
	ASSERT_RET(0, kt_rings_map(self->fd, &self->rings));
}

FIXTURE_TEARDOWN(ops)
{
	kt_recs_free(&self->recs);
	kt_rings_unmap(&self->rings);
	if (self->fd >= 0) {
		EXPECT_EQ(0, kt_set_enable(self->fd, 1));
		close(self->fd);
	}
}

/* Consume everything recorded so far, on every CPU, into self->recs. */
#define COLLECT() KT_COLLECT(&self->rings, &self->recs)

#define NREC	(self->recs.n)
#define REC(i)	(&self->recs.v[i].hdr)

/* Index of the first record of @type for @event (any slot if ~0), or -1. */
static int find_rec(const struct kt_recs *rs, unsigned int type,
		    uint32_t event, uint32_t slot)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (rs->v[i].hdr.type == type && rs->v[i].hdr.event == event &&
		    (slot == ~0u || rs->v[i].hdr.slot == slot))
			return i;
	return -1;
}

static int count_type(const struct kt_recs *rs, unsigned int type)
{
	size_t i;
	int n = 0;

	for (i = 0; i < rs->n; i++)
		n += rs->v[i].hdr.type == type;
	return n;
}

TEST_F(ops, start_twice_ebusy)
{
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_START, self->span, 0, 1));
	ASSERT_OP_ERRNO(EBUSY, self->fd, KTRACER_OP_START, self->span, 0, 2);
	COLLECT();
	ASSERT_EQ(1, NREC);
	EXPECT_EQ(KTRACER_REC_START, REC(0)->type);
	EXPECT_EQ(self->span, REC(0)->event);
	EXPECT_EQ(0, REC(0)->slot);
	EXPECT_EQ(1, REC(0)->arg);

	/* The refused START left the slot as it was: open. */
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_STOP, self->span, 0, 3));
	COLLECT();
	ASSERT_EQ(1, NREC);
	EXPECT_EQ(KTRACER_REC_STOP, REC(0)->type);
	EXPECT_EQ(3, REC(0)->arg);
}

TEST_F(ops, stop_not_open_enoent)
{
	ASSERT_OP_ERRNO(ENOENT, self->fd, KTRACER_OP_STOP, self->span, 1, 0);
	/* Open, closed: not open again. */
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_START, self->span, 1, 0));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_STOP, self->span, 1, 0));
	ASSERT_OP_ERRNO(ENOENT, self->fd, KTRACER_OP_STOP, self->span, 1, 0);
	COLLECT();
	ASSERT_EQ(2, NREC);
	EXPECT_EQ(KTRACER_REC_START, REC(0)->type);
	EXPECT_EQ(KTRACER_REC_STOP, REC(1)->type);
}

TEST_F(ops, slot_out_of_range)
{
	ASSERT_OP_ERRNO(ERANGE, self->fd, KTRACER_OP_START, self->span,
			SPAN_SLOTS, 0);
	ASSERT_OP_ERRNO(ERANGE, self->fd, KTRACER_OP_START, self->span,
			UINT32_MAX, 0);
	ASSERT_OP_ERRNO(ERANGE, self->fd, KTRACER_OP_STOP, self->span,
			SPAN_SLOTS, 0);
	/* The last slot is in range. */
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_START, self->span,
			    SPAN_SLOTS - 1, 0));
	COLLECT();
	ASSERT_EQ(1, NREC);
	EXPECT_EQ(SPAN_SLOTS - 1, REC(0)->slot);
}

TEST_F(ops, unknown_id_enoent)
{
	struct kt_event_line *v;
	uint32_t max = 0;
	int i, n;

	n = kt_events_read(&v);
	ASSERT_LT(0, n);
	for (i = 0; i < n; i++)
		if (v[i].id > max)
			max = v[i].id;
	free(v);

	ASSERT_OP_ERRNO(ENOENT, self->fd, KTRACER_OP_GAUGE, 0, 0, 0);
	ASSERT_OP_ERRNO(ENOENT, self->fd, KTRACER_OP_GAUGE, max + 1, 0, 0);
	ASSERT_OP_ERRNO(ENOENT, self->fd, KTRACER_OP_START, max + 1, 0, 0);
	ASSERT_OP_ERRNO(ENOENT, self->fd, KTRACER_OP_COUNT, UINT32_MAX, 0, 1);
	COLLECT();
	EXPECT_EQ(0, NREC);
}

/* An id is usable only on files that registered it themselves. */
TEST_F(ops, not_registered_here_enoent)
{
	int64_t span, gauge;
	int fd2;

	fd2 = kt_open();
	ASSERT_LE(0, fd2);
	gauge = kt_register(fd2, KTRACER_KIND_GAUGE, 0, "ops.foreign.gauge");
	span = kt_register(fd2, KTRACER_KIND_SPAN, 2, "ops.foreign.span");
	ASSERT_LT(0, gauge);
	ASSERT_LT(0, span);
	ASSERT_RET(0, kt_op(fd2, KTRACER_OP_GAUGE, gauge, 0, 1));

	ASSERT_OP_ERRNO(ENOENT, self->fd, KTRACER_OP_GAUGE, gauge, 0, 2);
	ASSERT_OP_ERRNO(ENOENT, self->fd, KTRACER_OP_START, span, 0, 0);
	ASSERT_OP_ERRNO(ENOENT, self->fd, KTRACER_OP_CANCEL, span, 0, 0);

	/* Registered here too, it works. */
	ASSERT_EQ(gauge, kt_register(self->fd, KTRACER_KIND_GAUGE, 0,
				     "ops.foreign.gauge"));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_GAUGE, gauge, 0, 3));
	close(fd2);

	COLLECT();
	ASSERT_EQ(2, NREC);
	EXPECT_EQ(1, REC(0)->arg);
	EXPECT_EQ(3, REC(1)->arg);
}

TEST_F(ops, kind_mismatch_einval)
{
	const struct {
		uint16_t op;
		uint32_t event;
	} bad[] = {
		{ KTRACER_OP_START, self->gauge },
		{ KTRACER_OP_STOP, self->counter },
		{ KTRACER_OP_CANCEL, self->log },
		{ KTRACER_OP_GAUGE, self->span },
		{ KTRACER_OP_GAUGE, self->counter },
		{ KTRACER_OP_COUNT, self->gauge },
		{ KTRACER_OP_COUNT, self->span },
		{ KTRACER_OP_LOG, self->counter },
		{ KTRACER_OP_LOG, self->span },
	};
	static const char msg[] = "kind";
	struct ktracer_op op;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		op = kt_mkop(bad[i].op, bad[i].event, 0, 0);
		if (bad[i].op == KTRACER_OP_LOG) {
			op.value = (uintptr_t)msg;
			op.len = 4;
		}
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->fd, KTRACER_IOC_OP, &op))
			TH_LOG("op %u on event %u accepted", bad[i].op,
			       bad[i].event);
		EXPECT_EQ(EINVAL, errno) TH_LOG("op %u on event %u: %s",
						bad[i].op, bad[i].event,
						strerror(errno));
	}
	COLLECT();
	EXPECT_EQ(0, NREC);
}

TEST_F(ops, unknown_op_einval)
{
	ASSERT_OP_ERRNO(EINVAL, self->fd, 0, self->gauge, 0, 0);
	ASSERT_OP_ERRNO(EINVAL, self->fd, 7, self->gauge, 0, 0);
	ASSERT_OP_ERRNO(EINVAL, self->fd, 7, self->span, 0, 0);
	ASSERT_OP_ERRNO(EINVAL, self->fd, 0xffff, self->counter, 0, 0);
	COLLECT();
	EXPECT_EQ(0, NREC);
}

TEST_F(ops, flags_reserved_einval)
{
	struct ktracer_op op;

	op = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, 1);
	op.flags = 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_OP, &op));
	op.flags = 0x8000;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_OP, &op));
	op.flags = 0;
	op.__reserved = 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_OP, &op));
	op = kt_mkop(KTRACER_OP_START, self->span, 0, 1);
	op.__reserved = 0x80000000u;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_OP, &op));
	COLLECT();
	EXPECT_EQ(0, NREC);
	/* The refused START did not open the slot. */
	ASSERT_OP_ERRNO(ENOENT, self->fd, KTRACER_OP_STOP, self->span, 0, 0);
}

TEST_F(ops, wrong_size)
{
	struct {
		struct ktracer_op op;
		uint64_t future;
	} big;
	struct ktracer_op op;

	op = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, 1);
	op.size = KTRACER_OP_SIZE_VER0 - 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_OP, &op));
	op.size = 0;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_OP, &op));
	op.size = KTRACER_ARG_SIZE_MAX + 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_OP, &op));
	ASSERT_ERRNO(EFAULT, ioctl(self->fd, KTRACER_IOC_OP, NULL));

	/* A larger struct from a newer caller: fine while its tail is 0. */
	memset(&big, 0, sizeof(big));
	big.op = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, 2);
	big.op.size = sizeof(big);
	big.future = 1;
	ASSERT_ERRNO(E2BIG, ioctl(self->fd, KTRACER_IOC_OP, &big));
	big.future = 0;
	ASSERT_EQ(0, ioctl(self->fd, KTRACER_IOC_OP, &big));
	COLLECT();
	ASSERT_EQ(1, NREC);
	EXPECT_EQ(2, REC(0)->arg);
}

/* Only START and STOP take a slot. */
TEST_F(ops, slot_where_none_einval)
{
	static const char msg[] = "slot";
	struct ktracer_op op;

	ASSERT_OP_ERRNO(EINVAL, self->fd, KTRACER_OP_GAUGE, self->gauge, 1, 0);
	ASSERT_OP_ERRNO(EINVAL, self->fd, KTRACER_OP_COUNT, self->counter, 1,
			1);
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_START, self->span, 1, 0));
	ASSERT_OP_ERRNO(EINVAL, self->fd, KTRACER_OP_CANCEL, self->span, 1, 0);
	op = kt_mkop(KTRACER_OP_LOG, self->log, 1, (uintptr_t)msg);
	op.len = 4;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_OP, &op));
	COLLECT();
	ASSERT_EQ(1, NREC);
	EXPECT_EQ(KTRACER_REC_START, REC(0)->type);
	/* The refused CANCEL left slot 1 open. */
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_STOP, self->span, 1, 0));
}

/* Only LOG takes a len. */
TEST_F(ops, len_where_none_einval)
{
	static const struct {
		uint16_t op;
		uint32_t slot;
	} bad[] = {
		{ KTRACER_OP_START, 0 }, { KTRACER_OP_STOP, 2 },
		{ KTRACER_OP_CANCEL, 0 }, { KTRACER_OP_GAUGE, 0 },
		{ KTRACER_OP_COUNT, 0 },
	};
	struct ktracer_op op;
	uint32_t event;
	unsigned int i;

	/* Slot 2 open, so that only len can make the STOP fail. */
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_START, self->span, 2, 0));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		event = bad[i].op == KTRACER_OP_GAUGE ? self->gauge :
			bad[i].op == KTRACER_OP_COUNT ? self->counter :
			self->span;
		op = kt_mkop(bad[i].op, event, bad[i].slot, 1);
		op.len = 1;
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->fd, KTRACER_IOC_OP, &op))
			TH_LOG("op %u with len accepted", bad[i].op);
		EXPECT_EQ(EINVAL, errno) TH_LOG("op %u: %s", bad[i].op,
						strerror(errno));
	}
	COLLECT();
	ASSERT_EQ(1, NREC);
	/* Slot 0 was not opened, slot 2 not closed. */
	ASSERT_OP_ERRNO(ENOENT, self->fd, KTRACER_OP_STOP, self->span, 0, 0);
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_STOP, self->span, 2, 0));
}

/* STOP: extra is the time since the START, from the records' own ts. */
TEST_F(ops, stop_duration)
{
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_START, self->span, 2, 11));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_START, self->span, 3, 33));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_STOP, self->span, 2, 22));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_STOP, self->span, 3, 44));
	COLLECT();
	ASSERT_EQ(4, NREC);
	EXPECT_EQ(KTRACER_REC_START, REC(0)->type);
	EXPECT_EQ(2, REC(0)->slot);
	EXPECT_EQ(11, REC(0)->arg);
	EXPECT_EQ(KTRACER_REC_START, REC(1)->type);
	EXPECT_EQ(3, REC(1)->slot);
	EXPECT_EQ(33, REC(1)->arg);
	EXPECT_EQ(KTRACER_REC_STOP, REC(2)->type);
	EXPECT_EQ(2, REC(2)->slot);
	EXPECT_EQ(22, REC(2)->arg);
	EXPECT_EQ(KTRACER_REC_STOP, REC(3)->type);
	EXPECT_EQ(3, REC(3)->slot);
	EXPECT_EQ(44, REC(3)->arg);
	ASSERT_LE(REC(0)->ts, REC(2)->ts);
	EXPECT_EQ(REC(2)->ts - REC(0)->ts, REC(2)->extra);
	EXPECT_EQ(REC(3)->ts - REC(1)->ts, REC(3)->extra);
}

TEST_F(ops, cancel_closes_all)
{
	static const uint32_t open[] = { 0, 2, 3 };
	uint64_t start_ts[SPAN_SLOTS] = { 0 };
	unsigned int seen = 0, i;
	const struct ktracer_record *r;

	/* Nothing open: CANCEL succeeds and records nothing. */
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_CANCEL, self->span, 0, 0));
	COLLECT();
	ASSERT_EQ(0, NREC);

	for (i = 0; i < 3; i++)
		ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_START, self->span,
				    open[i], 100 + open[i]));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_CANCEL, self->span, 0, 0));
	COLLECT();
	ASSERT_EQ(6, NREC);
	for (i = 0; i < 3; i++) {
		r = REC(i);
		ASSERT_EQ(KTRACER_REC_START, r->type);
		ASSERT_EQ(open[i], r->slot);
		start_ts[r->slot] = r->ts;
	}
	/* One CANCEL per open slot, in any order. */
	for (i = 3; i < 6; i++) {
		r = REC(i);
		ASSERT_EQ(KTRACER_REC_CANCEL, r->type);
		EXPECT_EQ(self->span, r->event);
		EXPECT_EQ(0, r->flags);
		ASSERT_GT(SPAN_SLOTS, r->slot);
		ASSERT_EQ(0, seen & (1u << r->slot)) TH_LOG("slot %u twice",
							    r->slot);
		seen |= 1u << r->slot;
		ASSERT_NE(0, start_ts[r->slot]) TH_LOG("slot %u was not open",
						       r->slot);
		EXPECT_EQ(r->ts - start_ts[r->slot], r->extra);
	}
	EXPECT_EQ((1u << 0) | (1u << 2) | (1u << 3), seen);

	/* All closed now; each can be opened again. */
	for (i = 0; i < 3; i++)
		ASSERT_OP_ERRNO(ENOENT, self->fd, KTRACER_OP_STOP, self->span,
				open[i], 0);
	ASSERT_OP_ERRNO(ENOENT, self->fd, KTRACER_OP_STOP, self->span, 1, 0);
	for (i = 0; i < 3; i++)
		ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_START, self->span,
				    open[i], 0));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_CANCEL, self->span, 0, 0));
	COLLECT();
	EXPECT_EQ(3, count_type(&self->recs, KTRACER_REC_START));
	EXPECT_EQ(3, count_type(&self->recs, KTRACER_REC_CANCEL));
}

/* Closing a file with open slots cancels them, flagged CLOSE. */
TEST_F(ops, close_cancels_open_slots)
{
	uint64_t start1, start3;
	const struct ktracer_record *c1, *c3;
	int64_t span;
	int fd2, i;

	fd2 = kt_open();
	ASSERT_LE(0, fd2);
	span = kt_register(fd2, KTRACER_KIND_SPAN, SPAN_SLOTS, "ops.span");
	ASSERT_EQ(self->span, span);
	/* The same slot of the same event, on this file: not fd2's. */
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_START, self->span, 1, 7));
	ASSERT_RET(0, kt_op(fd2, KTRACER_OP_START, span, 1, 1));
	ASSERT_RET(0, kt_op(fd2, KTRACER_OP_START, span, 3, 3));
	ASSERT_EQ(0, close(fd2));

	COLLECT();
	ASSERT_EQ(5, NREC);
	/* The three STARTs, in order, in this CPU's buffer. */
	i = find_rec(&self->recs, KTRACER_REC_START, span, 1);
	ASSERT_LE(0, i);
	ASSERT_GE(NREC, i + 3);
	EXPECT_EQ(7, REC(i)->arg);
	ASSERT_EQ(KTRACER_REC_START, REC(i + 1)->type);
	ASSERT_EQ(1, REC(i + 1)->slot);
	ASSERT_EQ(1, REC(i + 1)->arg);
	start1 = REC(i + 1)->ts;
	ASSERT_EQ(KTRACER_REC_START, REC(i + 2)->type);
	ASSERT_EQ(3, REC(i + 2)->slot);
	start3 = REC(i + 2)->ts;

	ASSERT_EQ(2, count_type(&self->recs, KTRACER_REC_CANCEL));
	i = find_rec(&self->recs, KTRACER_REC_CANCEL, span, 1);
	ASSERT_LE(0, i);
	c1 = REC(i);
	i = find_rec(&self->recs, KTRACER_REC_CANCEL, span, 3);
	ASSERT_LE(0, i);
	c3 = REC(i);
	EXPECT_EQ(KTRACER_RECF_CLOSE, c1->flags);
	EXPECT_EQ(KTRACER_RECF_CLOSE, c3->flags);
	EXPECT_EQ(c1->ts - start1, c1->extra);
	EXPECT_EQ(c3->ts - start3, c3->extra);

	/* This file's slot 1 is still open. */
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_STOP, self->span, 1, 0));
}

/* Two files never see each other's slots. */
TEST_F(ops, slots_per_file)
{
	int fd2;

	fd2 = kt_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(self->span, kt_register(fd2, KTRACER_KIND_SPAN, SPAN_SLOTS,
					  "ops.span"));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_START, self->span, 0, 0));
	ASSERT_RET(0, kt_op(fd2, KTRACER_OP_START, self->span, 0, 0));
	ASSERT_RET(0, kt_op(fd2, KTRACER_OP_STOP, self->span, 0, 0));
	ASSERT_OP_ERRNO(ENOENT, fd2, KTRACER_OP_STOP, self->span, 0, 0);
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_STOP, self->span, 0, 0));
	ASSERT_OP_ERRNO(ENOENT, self->fd, KTRACER_OP_STOP, self->span, 0, 0);
	close(fd2);
	COLLECT();
	EXPECT_EQ(4, NREC);
	EXPECT_EQ(0, count_type(&self->recs, KTRACER_REC_CANCEL));
}

TEST_F(ops, gauge_signed)
{
	static const int64_t val[] = { -5, -123456789012LL, INT64_MIN,
				       INT64_MAX, 0, 42 };
	unsigned int i;

	for (i = 0; i < sizeof(val) / sizeof(val[0]); i++)
		ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_GAUGE, self->gauge, 0,
				    (uint64_t)val[i]));
	COLLECT();
	ASSERT_EQ(sizeof(val) / sizeof(val[0]), NREC);
	for (i = 0; i < NREC; i++) {
		EXPECT_EQ(KTRACER_REC_GAUGE, REC(i)->type);
		EXPECT_EQ(self->gauge, REC(i)->event);
		EXPECT_EQ(val[i], (int64_t)REC(i)->arg);
	}
}

TEST_F(ops, count_total)
{
	char name[48];
	int64_t id;

	/* A name of its own: the total starts at 0. */
	snprintf(name, sizeof(name), "ops.count.total.%d", getpid());
	id = kt_register(self->fd, KTRACER_KIND_COUNTER, 0, name);
	ASSERT_LT(0, id);
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_COUNT, id, 0, 3));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_COUNT, id, 0, 4));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_COUNT, id, 0, 1000000));
	COLLECT();
	ASSERT_EQ(3, NREC);
	EXPECT_EQ(KTRACER_REC_COUNT, REC(0)->type);
	EXPECT_EQ(3, REC(0)->arg);
	EXPECT_EQ(3, REC(0)->extra);
	EXPECT_EQ(4, REC(1)->arg);
	EXPECT_EQ(7, REC(1)->extra);
	EXPECT_EQ(1000000, REC(2)->arg);
	EXPECT_EQ(1000007, REC(2)->extra);
}

TEST_F(ops, count_saturates)
{
	char name[48];
	int64_t id;

	snprintf(name, sizeof(name), "ops.count.saturate.%d", getpid());
	id = kt_register(self->fd, KTRACER_KIND_COUNTER, 0, name);
	ASSERT_LT(0, id);
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_COUNT, id, 0, UINT64_MAX - 1));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_COUNT, id, 0, UINT64_MAX - 1));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_COUNT, id, 0, 5));
	COLLECT();
	ASSERT_EQ(3, NREC);
	EXPECT_EQ(UINT64_MAX - 1, REC(0)->arg);
	EXPECT_EQ(UINT64_MAX - 1, REC(0)->extra);
	EXPECT_EQ(UINT64_MAX - 1, REC(1)->arg);
	EXPECT_EQ(UINT64_MAX, REC(1)->extra);
	EXPECT_EQ(5, REC(2)->arg);
	EXPECT_EQ(UINT64_MAX, REC(2)->extra);
}

/* Any bytes, any length 1..KTRACER_LOG_MAX, padded with zeros. */
TEST_F(ops, log_roundtrip)
{
	static const uint32_t lens[] = { 1, 7, 8, 13, 255, KTRACER_LOG_MAX };
	unsigned char msg[KTRACER_LOG_MAX];
	const struct kt_rec *rec;
	unsigned int i, j;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (j = 0; j < lens[i]; j++)
			msg[j] = (unsigned char)(j * 37 + i + 1);
		msg[0] = i == 3 ? 0 : msg[0];	/* a NUL is just a byte */
		ASSERT_RET(0, kt_log(self->fd, self->log, msg, lens[i]));
	}
	COLLECT();
	ASSERT_EQ(sizeof(lens) / sizeof(lens[0]), NREC);
	for (i = 0; i < NREC; i++) {
		rec = &self->recs.v[i];
		EXPECT_EQ(KTRACER_REC_LOG, rec->hdr.type);
		EXPECT_EQ(self->log, rec->hdr.event);
		ASSERT_EQ(lens[i], rec->hdr.len);
		EXPECT_EQ(KT_REC_HDR + ((lens[i] + 7) & ~7u), rec->hdr.size);
		for (j = 0; j < lens[i]; j++)
			msg[j] = (unsigned char)(j * 37 + i + 1);
		msg[0] = i == 3 ? 0 : msg[0];
		EXPECT_EQ(0, memcmp(msg, rec->msg, lens[i]))
			TH_LOG("message %u differs", i);
	}
}

TEST_F(ops, log_len_emsgsize)
{
	static const char msg[KTRACER_LOG_MAX + 8] = "too long";
	struct ktracer_op op;

	op = kt_mkop(KTRACER_OP_LOG, self->log, 0, (uintptr_t)msg);
	op.len = 0;
	ASSERT_ERRNO(EMSGSIZE, ioctl(self->fd, KTRACER_IOC_OP, &op));
	op.len = KTRACER_LOG_MAX + 1;
	ASSERT_ERRNO(EMSGSIZE, ioctl(self->fd, KTRACER_IOC_OP, &op));
	op.len = UINT32_MAX;
	ASSERT_ERRNO(EMSGSIZE, ioctl(self->fd, KTRACER_IOC_OP, &op));
	COLLECT();
	EXPECT_EQ(0, NREC);
}

TEST_F(ops, log_unreadable_efault)
{
	long ps = sysconf(_SC_PAGESIZE);
	struct ktracer_op op;
	char *p;

	/* A readable page, then one that is not. */
	p = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 'x', ps);
	ASSERT_EQ(0, mprotect(p + ps, ps, PROT_NONE));

	op = kt_mkop(KTRACER_OP_LOG, self->log, 0, 0);
	op.len = 4;
	ASSERT_ERRNO(EFAULT, ioctl(self->fd, KTRACER_IOC_OP, &op));
	op.value = (uintptr_t)(p + ps);
	ASSERT_ERRNO(EFAULT, ioctl(self->fd, KTRACER_IOC_OP, &op));
	/* The message starts readable and runs into the hole. */
	op.value = (uintptr_t)(p + ps - 8);
	op.len = 16;
	ASSERT_ERRNO(EFAULT, ioctl(self->fd, KTRACER_IOC_OP, &op));
	/* A kernel address. */
	op.value = 0xffffffff81000000ULL;
	ASSERT_ERRNO(EFAULT, ioctl(self->fd, KTRACER_IOC_OP, &op));
	/* Ending exactly at the hole is fine. */
	op.value = (uintptr_t)(p + ps - 16);
	ASSERT_EQ(0, ioctl(self->fd, KTRACER_IOC_OP, &op));
	munmap(p, 2 * ps);

	COLLECT();
	ASSERT_EQ(1, NREC);
	EXPECT_EQ(16, REC(0)->len);
	EXPECT_EQ(0, memcmp(self->recs.v[0].msg, "xxxxxxxxxxxxxxxx", 16));
}

struct thread_op {
	int fd;
	uint32_t gauge;
	pid_t tid;
	int ret;
};

static void *gauge_thread(void *arg)
{
	struct thread_op *t = arg;

	t->tid = kt_gettid();
	t->ret = kt_op(t->fd, KTRACER_OP_GAUGE, t->gauge, 0, 2);
	return NULL;
}

/* pid, tid, ts and the buffer of the CPU the op ran on. */
TEST_F(ops, record_identity)
{
	int nr = kt_nr_cpus(), cpu, i;
	uint64_t before[64], after[64];
	struct thread_op t = { .fd = self->fd, .gauge = self->gauge };
	pthread_t th;

	ASSERT_GE(64, nr);
	for (cpu = 0; cpu < nr; cpu++) {
		ASSERT_RET(0, kt_pin_cpu(cpu));
		before[cpu] = kt_now();
		ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_GAUGE, self->gauge, 0,
				    cpu));
		after[cpu] = kt_now();
	}
	COLLECT();
	ASSERT_EQ(nr, NREC);
	for (i = 0; i < nr; i++) {
		const struct kt_rec *rec = &self->recs.v[i];

		cpu = rec->hdr.arg;
		ASSERT_GT(nr, cpu);
		EXPECT_EQ(cpu, rec->cpu) TH_LOG("op on CPU %d recorded in CPU %d's buffer",
						cpu, rec->cpu);
		EXPECT_EQ(KTRACER_REC_GAUGE, rec->hdr.type);
		EXPECT_EQ(KT_REC_HDR, rec->hdr.size);
		EXPECT_EQ(0, rec->hdr.flags);
		EXPECT_EQ(self->gauge, rec->hdr.event);
		EXPECT_EQ(0, rec->hdr.len);
		EXPECT_EQ((uint32_t)getpid(), rec->hdr.pid);
		EXPECT_EQ((uint32_t)kt_gettid(), rec->hdr.tid);
		EXPECT_LE(before[cpu], rec->hdr.ts);
		EXPECT_GE(after[cpu], rec->hdr.ts);
	}

	/* Another thread of this process: same pid, its own tid. */
	ASSERT_EQ(0, pthread_create(&th, NULL, gauge_thread, &t));
	ASSERT_EQ(0, pthread_join(th, NULL));
	ASSERT_EQ(0, t.ret);
	ASSERT_NE(kt_gettid(), t.tid);
	COLLECT();
	ASSERT_EQ(1, NREC);
	EXPECT_EQ((uint32_t)getpid(), REC(0)->pid);
	EXPECT_EQ((uint32_t)t.tid, REC(0)->tid);
}

/* A ts taken after the previous call is recorded as given. */
TEST_F(ops, user_ts)
{
	struct ktracer_op op;
	uint64_t t1, t2;

	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_START, self->span, 0, 1));
	t1 = kt_now();
	op = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, 9);
	op.ts = t1;
	ASSERT_RET(0, kt_do(self->fd, &op));
	op = kt_mkop(KTRACER_OP_STOP, self->span, 0, 2);
	op.ts = kt_now();
	t2 = op.ts;
	ASSERT_RET(0, kt_do(self->fd, &op));

	COLLECT();
	ASSERT_EQ(3, NREC);
	EXPECT_EQ(0, REC(0)->flags);
	EXPECT_LE(REC(0)->ts, t1);
	EXPECT_EQ(KTRACER_REC_GAUGE, REC(1)->type);
	EXPECT_EQ(t1, REC(1)->ts);
	EXPECT_EQ(KTRACER_RECF_USER_TS, REC(1)->flags);
	EXPECT_EQ(KTRACER_REC_STOP, REC(2)->type);
	EXPECT_EQ(t2, REC(2)->ts);
	EXPECT_EQ(KTRACER_RECF_USER_TS, REC(2)->flags);
	EXPECT_EQ(t2 - REC(0)->ts, REC(2)->extra);
}

TEST_F(ops, user_ts_future_einval)
{
	struct ktracer_op op;

	op = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, 1);
	op.ts = kt_now() + KT_NSEC_PER_SEC;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_OP, &op));
	op.ts = UINT64_MAX;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_OP, &op));
	op = kt_mkop(KTRACER_OP_START, self->span, 0, 1);
	op.ts = kt_now() + KT_NSEC_PER_SEC;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_OP, &op));
	COLLECT();
	EXPECT_EQ(0, NREC);
	/* The refused START did not open the slot. */
	ASSERT_OP_ERRNO(ENOENT, self->fd, KTRACER_OP_STOP, self->span, 0, 0);
}

/* No ts older than the start of this file's previous OP or BATCH call. */
TEST_F(ops, user_ts_past_einval)
{
	struct ktracer_op op;
	int64_t gauge2;
	uint64_t t0;
	int fd2;

	t0 = kt_now();
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_GAUGE, self->gauge, 0, 1));
	op = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, 2);
	op.ts = t0 - 1000000;	/* 1 ms before the previous call began */
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_OP, &op));
	op.ts = 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_OP, &op));
	op = kt_mkop(KTRACER_OP_START, self->span, 0, 2);
	op.ts = t0 - 1000000;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_OP, &op));
	/* The refused START did not open the slot. */
	ASSERT_OP_ERRNO(ENOENT, self->fd, KTRACER_OP_STOP, self->span, 0, 0);

	/* The previous call is this file's: another file has its own. */
	fd2 = kt_open();
	ASSERT_LE(0, fd2);
	gauge2 = kt_register(fd2, KTRACER_KIND_GAUGE, 0, "ops.gauge");
	ASSERT_EQ(self->gauge, gauge2);
	ASSERT_RET(0, kt_op(fd2, KTRACER_OP_GAUGE, gauge2, 0, 3));
	t0 = kt_now();
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_GAUGE, self->gauge, 0, 4));
	op = kt_mkop(KTRACER_OP_GAUGE, gauge2, 0, 5);
	op.ts = t0;
	EXPECT_EQ(0, kt_do(fd2, &op));
	close(fd2);
	op = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, 6);
	op.ts = t0;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_OP, &op));

	COLLECT();
	ASSERT_EQ(4, NREC);
	EXPECT_EQ(1, REC(0)->arg);
	EXPECT_EQ(3, REC(1)->arg);
	EXPECT_EQ(4, REC(2)->arg);
	EXPECT_EQ(5, REC(3)->arg);
	EXPECT_EQ(t0, REC(3)->ts);
	EXPECT_EQ(KTRACER_RECF_USER_TS, REC(3)->flags);
}

/* Off: ops succeed and keep slot state, nothing is recorded. */
TEST_F(ops, disabled)
{
	const struct ktracer_state *st = self->rings.state;
	uint64_t written = 0;
	int cpu;

	ASSERT_EQ(1, st->enabled);
	ASSERT_RET(0, kt_set_enable(self->fd, 0));
	EXPECT_EQ(0, __atomic_load_n(&st->enabled, __ATOMIC_ACQUIRE));

	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_START, self->span, 0, 1));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_STOP, self->span, 0, 2));
	ASSERT_OP_ERRNO(ENOENT, self->fd, KTRACER_OP_STOP, self->span, 0, 0);
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_START, self->span, 0, 3));
	ASSERT_OP_ERRNO(EBUSY, self->fd, KTRACER_OP_START, self->span, 0, 4);
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_GAUGE, self->gauge, 0, 5));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_COUNT, self->counter, 0, 6));
	ASSERT_RET(0, kt_log(self->fd, self->log, "off", 3));
	/* Errors are still errors. */
	ASSERT_OP_ERRNO(ERANGE, self->fd, KTRACER_OP_START, self->span,
			SPAN_SLOTS, 0);
	COLLECT();
	EXPECT_EQ(0, NREC);
	for (cpu = 0; cpu < self->rings.nr; cpu++)
		written += self->rings.ring[cpu].meta->written;
	EXPECT_EQ(0, written);

	ASSERT_RET(0, kt_set_enable(self->fd, 1));
	EXPECT_EQ(1, __atomic_load_n(&st->enabled, __ATOMIC_ACQUIRE));
	/* The STOP finds the START made while off. */
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_STOP, self->span, 0, 7));
	COLLECT();
	ASSERT_EQ(1, NREC);
	EXPECT_EQ(KTRACER_REC_STOP, REC(0)->type);
	EXPECT_EQ(7, REC(0)->arg);
}

/* An op with flags @flags; a START with text @text of @len bytes. */
static struct ktracer_op flagged(uint16_t opcode, uint32_t event,
				 uint32_t slot, uint16_t flags,
				 const void *text, uint32_t len)
{
	struct ktracer_op op = kt_mkop(opcode, event, slot, 0);

	op.flags = flags;
	op.text = (uintptr_t)text;
	op.len = len;
	return op;
}

/* Each op flag on the ops it is allowed on, and nowhere else. */
TEST_F(ops, op_flags_where)
{
	static const char t[] = "text";
	static const struct {
		uint16_t op, flags;
		int err;
	} c[] = {
		{ KTRACER_OP_GAUGE, KTRACER_OPF_REGION, EINVAL },
		{ KTRACER_OP_COUNT, KTRACER_OPF_REGION, EINVAL },
		{ KTRACER_OP_LOG, KTRACER_OPF_REGION, EINVAL },
		{ KTRACER_OP_START, KTRACER_OPF_SLOT, EINVAL },
		{ KTRACER_OP_STOP, KTRACER_OPF_SLOT, EINVAL },
		{ KTRACER_OP_GAUGE, KTRACER_OPF_SLOT, EINVAL },
		{ KTRACER_OP_STOP, KTRACER_OPF_TEXT, EINVAL },
		{ KTRACER_OP_CANCEL, KTRACER_OPF_TEXT, EINVAL },
		{ KTRACER_OP_LOG, KTRACER_OPF_TEXT, EINVAL },
		{ KTRACER_OP_GAUGE, KTRACER_OPF_TEXT, EINVAL },
		{ KTRACER_OP_START, 0x8, EINVAL },
		{ KTRACER_OP_START, KTRACER_OPF_REGION | KTRACER_OPF_TEXT, 0 },
		{ KTRACER_OP_STOP, KTRACER_OPF_REGION, 0 },
		{ KTRACER_OP_START, KTRACER_OPF_REGION, 0 },
		{ KTRACER_OP_CANCEL, KTRACER_OPF_REGION | KTRACER_OPF_SLOT, 0 },
	};
	struct ktracer_op op;
	uint32_t event;
	unsigned int i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		event = c[i].op == KTRACER_OP_GAUGE ? self->gauge :
			c[i].op == KTRACER_OP_COUNT ? self->counter :
			c[i].op == KTRACER_OP_LOG ? self->log : self->span;
		op = flagged(c[i].op, event, 1, c[i].flags,
			     c[i].flags & KTRACER_OPF_TEXT ? t : NULL,
			     c[i].flags & KTRACER_OPF_TEXT ? 4 : 0);
		if (c[i].op == KTRACER_OP_LOG) {
			op.value = (uintptr_t)t;
			op.len = 4;
		}
		if (!(c[i].flags & KTRACER_OPF_SLOT) &&
		    c[i].op != KTRACER_OP_START && c[i].op != KTRACER_OP_STOP)
			op.slot = 0;
		errno = 0;
		EXPECT_EQ(c[i].err ? -1 : 0, ioctl(self->fd, KTRACER_IOC_OP, &op))
			TH_LOG("case %u", i);
		EXPECT_EQ(c[i].err, c[i].err ? errno : 0) TH_LOG("case %u: %s",
							     i, strerror(errno));
	}
	/* REGION on each of a span's records. */
	COLLECT();
	ASSERT_EQ(4, NREC);
	for (i = 0; i < NREC; i++)
		EXPECT_EQ(KTRACER_RECF_REGION, REC(i)->flags & KTRACER_RECF_REGION);
	EXPECT_EQ(KTRACER_REC_START, REC(0)->type);
	EXPECT_EQ(4, REC(0)->len);
	EXPECT_EQ(KTRACER_REC_STOP, REC(1)->type);
	EXPECT_EQ(KTRACER_REC_START, REC(2)->type);
	EXPECT_EQ(KTRACER_REC_CANCEL, REC(3)->type);
	/* Without it, none. */
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_START, self->span, 0, 0));
	COLLECT();
	ASSERT_EQ(1, NREC);
	EXPECT_EQ(0, REC(0)->flags & KTRACER_RECF_REGION);
}

/* CANCEL with KTRACER_OPF_SLOT closes that slot only. */
TEST_F(ops, cancel_one_slot)
{
	struct ktracer_op op;
	int i;

	for (i = 0; i < 3; i++)
		ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_START, self->span, i, i));
	op = flagged(KTRACER_OP_CANCEL, self->span, 1, KTRACER_OPF_SLOT, NULL, 0);
	ASSERT_EQ(0, ioctl(self->fd, KTRACER_IOC_OP, &op));
	ASSERT_ERRNO(ENOENT, ioctl(self->fd, KTRACER_IOC_OP, &op));
	op.slot = 3;	/* never opened */
	ASSERT_ERRNO(ENOENT, ioctl(self->fd, KTRACER_IOC_OP, &op));
	op.slot = SPAN_SLOTS;
	ASSERT_ERRNO(ERANGE, ioctl(self->fd, KTRACER_IOC_OP, &op));
	COLLECT();
	ASSERT_EQ(4, NREC);
	EXPECT_EQ(KTRACER_REC_CANCEL, REC(3)->type);
	EXPECT_EQ(1, REC(3)->slot);
	EXPECT_EQ(REC(3)->ts - REC(1)->ts, REC(3)->extra);
	/* Slots 0 and 2 are still open. */
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_STOP, self->span, 0, 0));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_STOP, self->span, 2, 0));
	ASSERT_OP_ERRNO(ENOENT, self->fd, KTRACER_OP_STOP, self->span, 1, 0);
}

/* A START's text: 1..KTRACER_TEXT_MAX bytes, after the record's header. */
TEST_F(ops, start_text)
{
	static const uint32_t good[] = { 1, 64, KTRACER_TEXT_MAX };
	char text[KTRACER_TEXT_MAX + 8];
	struct ktracer_op op;
	unsigned int i;

	for (i = 0; i < sizeof(text); i++)
		text[i] = 'a' + i % 26;
	op = flagged(KTRACER_OP_START, self->span, 0, KTRACER_OPF_TEXT, text, 0);
	ASSERT_ERRNO(EMSGSIZE, ioctl(self->fd, KTRACER_IOC_OP, &op));
	op.len = KTRACER_TEXT_MAX + 1;
	ASSERT_ERRNO(EMSGSIZE, ioctl(self->fd, KTRACER_IOC_OP, &op));
	op.len = 4;
	op.text = 0;
	ASSERT_ERRNO(EFAULT, ioctl(self->fd, KTRACER_IOC_OP, &op));
	op.text = 0xffffffff81000000ULL;
	ASSERT_ERRNO(EFAULT, ioctl(self->fd, KTRACER_IOC_OP, &op));
	/* No text without the flag; no flag in a struct without "text". */
	op = flagged(KTRACER_OP_START, self->span, 0, 0, text, 0);
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_OP, &op));
	op = flagged(KTRACER_OP_START, self->span, 0, KTRACER_OPF_TEXT, NULL, 4);
	op.size = KTRACER_OP_SIZE_VER0;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_OP, &op));
	COLLECT();
	ASSERT_EQ(0, NREC);
	/* None of them opened slot 0. */
	ASSERT_OP_ERRNO(ENOENT, self->fd, KTRACER_OP_STOP, self->span, 0, 0);

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		op = flagged(KTRACER_OP_START, self->span, i, KTRACER_OPF_TEXT,
			     text, good[i]);
		ASSERT_EQ(0, ioctl(self->fd, KTRACER_IOC_OP, &op));
	}
	COLLECT();
	ASSERT_EQ(3, NREC);
	for (i = 0; i < NREC; i++) {
		EXPECT_EQ(KTRACER_REC_START, REC(i)->type);
		ASSERT_EQ(good[i], REC(i)->len);
		EXPECT_EQ(KT_REC_HDR + ((good[i] + 7) & ~7u), REC(i)->size);
		EXPECT_EQ(0, memcmp(text, self->recs.v[i].msg, good[i]));
	}
}

/* BATCH: TEXT in ops of the first size (no "text") is EINVAL. */
TEST_F(ops, batch_text_ver0)
{
	struct ktracer_batch b;
	struct ktracer_op op = flagged(KTRACER_OP_START, self->span, 0,
				       KTRACER_OPF_TEXT, NULL, 0);
	static const char t[] = "batched";

	memset(&b, 0, sizeof(b));
	b.size = sizeof(b);
	b.ops = (uintptr_t)&op;
	b.count = 1;
	b.op_size = KTRACER_OP_SIZE_VER0;
	op.size = KTRACER_OP_SIZE_VER0;
	op.len = 4;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_BATCH, &b));
	EXPECT_EQ(0, b.done);
	EXPECT_EQ(-EINVAL, b.error);
	/* With op_size 48 it is a START with text. */
	op.size = sizeof(op);
	op.text = (uintptr_t)t;
	op.len = sizeof(t) - 1;
	b.op_size = sizeof(op);
	ASSERT_EQ(0, ioctl(self->fd, KTRACER_IOC_BATCH, &b));
	EXPECT_EQ(1, b.done);
	COLLECT();
	ASSERT_EQ(1, NREC);
	EXPECT_EQ(sizeof(t) - 1, REC(0)->len);
	EXPECT_STREQ(t, (const char *)self->recs.v[0].msg);
}

/* OP's number of the first header (its struct 40 bytes) is still OP. */
TEST_F(ops, ver0_number)
{
	struct ktracer_op op = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, 9);

	op.size = KTRACER_OP_SIZE_VER0;
	ASSERT_EQ(0, ioctl(self->fd, _IOW(KTRACER_IOC_MAGIC, 0x03,
					  char[KTRACER_OP_SIZE_VER0]), &op));
	COLLECT();
	ASSERT_EQ(1, NREC);
	EXPECT_EQ(9, REC(0)->arg);
}

/* debugfs "trace" shows a region and a START's text. */
TEST_F(ops, trace_text_region)
{
	static const char t[] = "GET /index.html";
	struct ktracer_op op = flagged(KTRACER_OP_START, self->span, 2,
				       KTRACER_OPF_REGION | KTRACER_OPF_TEXT,
				       t, sizeof(t) - 1);
	char *text, want[128];

	ASSERT_EQ(0, ioctl(self->fd, KTRACER_IOC_OP, &op));
	text = kt_read_file(KT_DEBUGFS "/trace", NULL);
	if (!text)
		SKIP(return, "no %s/trace", KT_DEBUGFS);
	snprintf(want, sizeof(want), "ops.span start slot=2 arg=0 region text=\"%s\"\n",
		 t);
	EXPECT_NE(NULL, strstr(text, want)) TH_LOG("no '%s' in:\n%s", want, text);
	free(text);
}

TEST_HARNESS_MAIN
