// SPDX-License-Identifier: GPL-2.0
/*
 * poll() and the writer on another CPU never miss each other: a reader
 * that starts waiting while a writer crosses its watermark is either told
 * at once or woken.
 *
 * The reader waits with epoll: epoll asks the file once, when the file is
 * added (the same ->poll() call, queueing on the wait queue and then
 * reading head and tail, as poll()'s first pass), and afterwards only
 * learns of data through a wake-up. So a wake-up lost in that window is
 * seen as an epoll_wait() that times out with unread data at the
 * watermark, where poll() would have found it by looking again at its
 * timeout.
 *
 * Wake-ups are edge-triggered: one per crossing of the watermark, none
 * while a woken reader has not consumed, and one again at the next
 * crossing once it has.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kt_test.h"
#include "kt_ring.h"

#define ROUNDS		3000
#define WAIT_MS		10000	/* only a lost wake-up waits this long */
#define DELAY_STEPS	64	/* writer delays swept over, round by round */
#define DELAY_UNIT	100	/* empty loop turns per step */

FIXTURE(wake) {
	int fd;
	const struct ktracer_state *st;
	struct kt_ring r;
};

struct writer {
	int fd;
	int cpu;
	uint32_t gauge;
	int go;			/* round the reader is waiting for */
	int done;		/* last round written */
	int err;
};

FIXTURE_SETUP(wake)
{
	self->st = MAP_FAILED;
	self->fd = kt_open();
	ASSERT_LE(0, self->fd) TH_LOG("open: %s", strerror(-self->fd));
	if (kt_nr_cpus() < 2)
		SKIP(return, "needs two CPUs");
	ASSERT_RET(0, kt_set_enable(self->fd, 1));
	ASSERT_RET(0, kt_reset(self->fd));
	self->st = kt_map_state(self->fd);
	ASSERT_NE(MAP_FAILED, self->st);
}

FIXTURE_TEARDOWN(wake)
{
	if (self->r.reader)
		self->r.reader->watermark = 0;
	kt_ring_unmap(&self->r);
	if (self->st != MAP_FAILED)
		kt_unmap_state(self->st);
	if (self->fd >= 0) {
		EXPECT_EQ(0, kt_restore_defaults(self->fd));
		close(self->fd);
	}
}

/*
 * Round i: wait until the reader starts waiting, a little longer each
 * round (so that the write lands before, in and after the reader's check),
 * then write one record: the one that reaches the watermark.
 */
static void *writer_thread(void *arg)
{
	struct writer *w = arg;
	volatile unsigned long spin;
	unsigned long turns;
	int i;

	w->err = kt_pin_cpu(w->cpu);
	for (i = 0; !w->err && i < ROUNDS; i++) {
		while (__atomic_load_n(&w->go, __ATOMIC_ACQUIRE) < i)
			;
		turns = (unsigned long)(i % DELAY_STEPS) * DELAY_UNIT;
		for (spin = 0; spin < turns; spin++)
			;
		w->err = kt_op(w->fd, KTRACER_OP_GAUGE, w->gauge, 0, i);
		__atomic_store_n(&w->done, i, __ATOMIC_RELEASE);
	}
	return NULL;
}

/* Each round: consume all, wait, and the one record written wakes us. */
TEST_F_TIMEOUT(wake, watermark_crossed, 600)
{
	struct writer w = { .fd = self->fd, .cpu = kt_nr_cpus() - 1,
			    .go = -1, .done = -1 };
	struct epoll_event ev = { .events = EPOLLIN };
	uint64_t unread;
	pthread_t th;
	int64_t id, n;
	int i, ep, ret;

	id = kt_register(self->fd, KTRACER_KIND_GAUGE, 0, "wake.gauge");
	ASSERT_LT(0, id);
	w.gauge = id;
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 && errno == ENOSYS)
		SKIP(return, "this kernel has no epoll (CONFIG_EPOLL)");
	ASSERT_LE(0, ep);
	close(ep);
	ASSERT_RET(0, kt_ring_map(self->fd, self->st, w.cpu, &self->r));
	/* One record reaches it; other CPUs keep data_size / 2. */
	self->r.reader->watermark = KT_REC_HDR;
	ASSERT_RET(0, kt_pin_cpu(0));
	ASSERT_EQ(0, pthread_create(&th, NULL, writer_thread, &w));

	for (i = 0; i < ROUNDS; i++) {
		ep = epoll_create1(EPOLL_CLOEXEC);
		ASSERT_LE(0, ep);
		__atomic_store_n(&w.go, i, __ATOMIC_RELEASE);
		/* The check that races with the writer. */
		ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->fd, &ev));
		ret = epoll_wait(ep, &ev, 1, WAIT_MS);
		close(ep);
		unread = kt_ring_unread(&self->r);
		ASSERT_EQ(1, ret) TH_LOG("round %d: epoll_wait %s with %llu bytes unread (watermark %u): %s",
					 i, ret ? "failed" : "timed out",
					 (unsigned long long)unread,
					 KT_REC_HDR,
					 ret ? strerror(errno) :
					 "the wake-up was lost");
		ASSERT_EQ(KT_REC_HDR, unread);
		while (__atomic_load_n(&w.done, __ATOMIC_ACQUIRE) < i)
			;
		n = kt_ring_consume(&self->r, NULL, NULL);
		ASSERT_EQ(1, n) TH_LOG("round %d", i);
	}
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(0, w.err);
	EXPECT_EQ(ROUNDS, self->r.reader->read);
	EXPECT_EQ(0, self->r.meta->lost);
}

#define OPS		2000	/* records written above the watermark */
#define OP_GAP_US	300	/* between them: a waiter could take each */
#define QUIET_MS	200	/* after the writer: no more wake-ups come */
#define CROSSINGS	300
#define BURST		4	/* records a crossing takes */

/* An epoll instance on the file, or -1 (errno ENOSYS: none here). */
static int wake_epoll(int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) {
		close(ep);
		return -1;
	}
	return ep;
}

struct counter {
	int ep;
	int writing;		/* the writer has not finished */
	int wakeups;
	int err;
};

/* Count epoll's events until the writer is done and none come after. */
static void *waiter_thread(void *arg)
{
	struct counter *c = arg;
	struct epoll_event ev;
	int ret;

	for (;;) {
		ret = epoll_wait(c->ep, &ev, 1, QUIET_MS);
		if (ret < 0) {
			c->err = errno;
			break;
		}
		if (ret > 0)
			c->wakeups++;
		else if (!__atomic_load_n(&c->writing, __ATOMIC_ACQUIRE))
			break;
	}
	return NULL;
}

/*
 * A waiter that never reads, edge-triggered: each wake-up is one event.
 * The writer crosses the watermark once; the rest of its records land
 * above it and wake nobody again. Its records are spaced out so that a
 * wake-up after each would reach the waiter as an event of its own.
 */
TEST_F_TIMEOUT(wake, one_per_crossing, 120)
{
	struct counter c = { .writing = 1 };
	int cpu = kt_nr_cpus() - 1, i;
	pthread_t th;
	int64_t id;

	id = kt_register(self->fd, KTRACER_KIND_GAUGE, 0, "wake.gauge");
	ASSERT_LT(0, id);
	ASSERT_RET(0, kt_ring_map(self->fd, self->st, cpu, &self->r));
	self->r.reader->watermark = KT_REC_HDR;
	ASSERT_LT(OPS * KT_REC_HDR, self->r.data_size) TH_LOG("all must fit");
	c.ep = wake_epoll(self->fd, EPOLLIN | EPOLLET);
	if (c.ep < 0 && errno == ENOSYS)
		SKIP(return, "this kernel has no epoll (CONFIG_EPOLL)");
	ASSERT_LE(0, c.ep);
	ASSERT_RET(0, kt_pin_cpu(0));
	ASSERT_EQ(0, pthread_create(&th, NULL, waiter_thread, &c));
	ASSERT_RET(0, kt_pin_cpu(cpu));
	for (i = 0; i < OPS; i++) {
		ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_GAUGE, id, 0, i));
		usleep(OP_GAP_US);
	}
	__atomic_store_n(&c.writing, 0, __ATOMIC_RELEASE);
	ASSERT_EQ(0, pthread_join(th, NULL));
	close(c.ep);
	EXPECT_EQ(0, c.err) TH_LOG("epoll_wait: %s", strerror(c.err));
	EXPECT_EQ(OPS * KT_REC_HDR, kt_ring_unread(&self->r));
	EXPECT_LE(1, c.wakeups) TH_LOG("the crossing woke nobody");
	EXPECT_GE(2, c.wakeups) TH_LOG("%d wake-ups for one crossing", c.wakeups);
	TH_LOG("%d ops above the watermark: %d wake-ups", OPS, c.wakeups);
}

struct burster {
	int fd;
	int cpu;
	uint32_t gauge;
	struct ktracer_reader *reader;
	int err;
};

/* BURST records, then wait until the reader consumed them; again. */
static void *burst_thread(void *arg)
{
	struct burster *w = arg;
	volatile unsigned long spin;
	unsigned long turns;
	int i, j;

	w->err = kt_pin_cpu(w->cpu);
	for (i = 0; !w->err && i < CROSSINGS; i++) {
		turns = (unsigned long)(i % DELAY_STEPS) * DELAY_UNIT;
		for (spin = 0; spin < turns; spin++)
			;
		for (j = 0; !w->err && j < BURST; j++)
			w->err = kt_op(w->fd, KTRACER_OP_GAUGE, w->gauge, 0, j);
		while (!w->err && __atomic_load_n(&w->reader->read,
					__ATOMIC_ACQUIRE) < (uint64_t)(i + 1) * BURST)
			;
	}
	return NULL;
}

/*
 * A reader that consumes after each wake-up is woken again at the next
 * crossing: edge-triggered, only the writers' wake-ups tell it of data.
 */
TEST_F_TIMEOUT(wake, woken_again_after_reading, 600)
{
	struct burster w = { .fd = self->fd, .cpu = kt_nr_cpus() - 1 };
	struct epoll_event ev;
	pthread_t th;
	int64_t id, n;
	int ep, i, ret;

	id = kt_register(self->fd, KTRACER_KIND_GAUGE, 0, "wake.gauge");
	ASSERT_LT(0, id);
	w.gauge = id;
	ASSERT_RET(0, kt_ring_map(self->fd, self->st, w.cpu, &self->r));
	w.reader = self->r.reader;
	self->r.reader->watermark = BURST * KT_REC_HDR;
	ep = wake_epoll(self->fd, EPOLLIN | EPOLLET);
	if (ep < 0 && errno == ENOSYS)
		SKIP(return, "this kernel has no epoll (CONFIG_EPOLL)");
	ASSERT_LE(0, ep);
	ASSERT_RET(0, kt_pin_cpu(0));
	ASSERT_EQ(0, pthread_create(&th, NULL, burst_thread, &w));

	for (i = 0; i < CROSSINGS; i++) {
		ret = epoll_wait(ep, &ev, 1, WAIT_MS);
		ASSERT_EQ(1, ret) TH_LOG("crossing %d: epoll_wait %s with %llu bytes unread",
					 i, ret ? "failed" : "timed out",
					 (unsigned long long)kt_ring_unread(&self->r));
		/* The crossing's record, the burst's last, is published. */
		ASSERT_LE(BURST * KT_REC_HDR, kt_ring_unread(&self->r));
		n = kt_ring_consume(&self->r, NULL, NULL);
		ASSERT_EQ(BURST, n) TH_LOG("crossing %d", i);
	}
	ASSERT_EQ(0, pthread_join(th, NULL));
	close(ep);
	EXPECT_EQ(0, w.err);
	EXPECT_EQ(CROSSINGS * BURST, self->r.reader->read);
	EXPECT_EQ(0, self->r.meta->lost);
}

TEST_HARNESS_MAIN
