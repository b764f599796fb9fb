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
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/mman.h>

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

TEST_HARNESS_MAIN
