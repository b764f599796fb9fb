// SPDX-License-Identifier: GPL-2.0
/*
 * Per-thread queues (KTRACER_IOC_QUEUE, KTRACER_IOC_FLUSH, their mmap):
 * every error with its errno; records name the queue's owner whoever
 * drains it; queues are merged by ts; the kernel drains on its own within
 * the interval, and when the file is released, so that what a program
 * queued before exit(), abort(), SIGSEGV or SIGKILL is recorded; fork()
 * gives the child nothing of its parent's queues; untrusted heads,
 * entries and timestamps are refused, and the rest applied; a thread
 * blocked in the kernel holds up nobody's queue.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <linux/userfaultfd.h>

#include "kselftest_harness.h"
#include "kt_test.h"
#include "kt_ring.h"
#include "kt_queue.h"

#define QRING	KTRACER_QUEUE_RING_MIN
#define NSLOTS	8
#define DEADLINE_NS	(10 * KT_NSEC_PER_SEC)

FIXTURE(queue) {
	int fd;
	int cpu;
	uint32_t span, log, gauge;
	struct kt_rings rings;
	struct kt_recs recs;
};

FIXTURE_SETUP(queue)
{
	self->fd = kt_open_fresh_pinned(&self->cpu);
	ASSERT_LE(0, self->fd) TH_LOG("fresh start: %s", strerror(-self->fd));
	self->span = kt_register_id(self->fd, KTRACER_KIND_SPAN, NSLOTS,
				    "queue.span");
	self->log = kt_register_id(self->fd, KTRACER_KIND_LOG, 0, "queue.log");
	self->gauge = kt_register_id(self->fd, KTRACER_KIND_GAUGE, 0,
				     "queue.gauge");
	ASSERT_NE(0, self->span);
	ASSERT_NE(0, self->log);
	ASSERT_NE(0, self->gauge);
	ASSERT_RET(0, kt_rings_map(self->fd, &self->rings));
	/* Drains only when a test asks, unless it sets an interval. */
	ASSERT_RET(0, kt_flush(self->fd, KTRACER_FLUSH_INTERVAL,
			       KTRACER_QUEUE_INTERVAL_MAX, NULL));
}

FIXTURE_TEARDOWN(queue)
{
	kt_recs_free(&self->recs);
	kt_rings_unmap(&self->rings);
	if (self->fd >= 0)
		close(self->fd);
}

#define COLLECT() KT_COLLECT(&self->rings, &self->recs)
#define NREC	(self->recs.n)
#define REC(i)	(&self->recs.v[i].hdr)

/* Records of @type for @event (LOST: event 0), in ts order of arrival. */
static int count_recs(const struct kt_recs *rs, unsigned int type,
		      uint32_t event)
{
	size_t i;
	int n = 0;

	for (i = 0; i < rs->n; i++)
		n += rs->v[i].hdr.type == type && rs->v[i].hdr.event == event;
	return n;
}

static const struct ktracer_record *find_rec(const struct kt_recs *rs,
					     unsigned int type, uint32_t event,
					     uint64_t arg)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (rs->v[i].hdr.type == type && rs->v[i].hdr.event == event &&
		    rs->v[i].hdr.arg == arg)
			return &rs->v[i].hdr;
	return NULL;
}

/* A GAUGE entry of @value at @ts: the simplest entry that records. */
static int put_gauge(struct kt_q *q, uint32_t gauge, uint64_t value,
		     uint64_t ts)
{
	return kt_q_put(q, KTRACER_OP_GAUGE, 0, gauge, 0, value, ts, NULL, 0);
}

/*
 * Poll the buffers until @want records of @type for @event were consumed
 * in all (into @recs), or a generous deadline passes. The count.
 */
static int wait_recs(struct kt_rings *rings, struct kt_recs *recs,
		     unsigned int type, uint32_t event, int want)
{
	uint64_t end = kt_now() + DEADLINE_NS;
	struct timespec ms = { .tv_nsec = 1000000 };
	int n;

	for (;;) {
		if (kt_collect(rings, recs) < 0)
			return -1;
		n = count_recs(recs, type, event);
		if (n >= want || kt_now() > end)
			return n;
		nanosleep(&ms, NULL);
	}
}

TEST_F(queue, create_errors)
{
	struct ktracer_queue a;
	unsigned char big[sizeof(a) + 8];

	/* Every bad ring size. */
	static const uint32_t bad[] = { 0, 1, QRING / 2, QRING * 3,
					KTRACER_QUEUE_RING_MAX * 2, UINT32_MAX };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ASSERT_EQ(-EINVAL, kt_queue_ioc(self->fd, 0, 0, bad[i], NULL))
			TH_LOG("ring_size %u", bad[i]);
	ASSERT_RET(-EINVAL, kt_queue_ioc(self->fd, 0x4, 0, QRING, NULL));
	ASSERT_RET(-EINVAL, kt_queue_ioc(self->fd, 0x80000000, 0, QRING, NULL));
	/* id is adopt's: 0 on create. */
	ASSERT_RET(-EINVAL, kt_queue_ioc(self->fd, 0, 1, QRING, NULL));
	/* The struct's own rules. */
	memset(&a, 0, sizeof(a));
	a.size = KTRACER_QUEUE_SIZE_VER0 - 8;
	a.ring_size = QRING;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_QUEUE, &a));
	memset(big, 0, sizeof(big));
	a.size = sizeof(big);
	memcpy(big, &a, sizeof(a));
	big[sizeof(big) - 1] = 1;
	ASSERT_ERRNO(E2BIG, ioctl(self->fd, KTRACER_IOC_QUEUE, big));
	ASSERT_ERRNO(EFAULT, ioctl(self->fd, KTRACER_IOC_QUEUE, (void *)8));
	/* None of them made a queue: the first one is id 1. */
	ASSERT_RET(0, kt_queue_ioc(self->fd, 0, 0, QRING, &a));
	EXPECT_EQ(1, a.id);
	EXPECT_EQ(QRING, a.ring_size);
	EXPECT_EQ(QRING + sysconf(_SC_PAGESIZE), a.map_size);
	EXPECT_EQ(sizeof(a), a.size);
	ASSERT_RET(0, kt_queue_ioc(self->fd, 0, 0, KTRACER_QUEUE_RING_MAX, &a));
	EXPECT_EQ(2, a.id);
	EXPECT_EQ(KTRACER_QUEUE_RING_MAX, a.ring_size);
}

TEST_F(queue, adopt_errors)
{
	struct ktracer_queue a;

	ASSERT_RET(-ENOENT, kt_queue_ioc(self->fd, KTRACER_QUEUE_ADOPT, 1, 0,
					 NULL));
	ASSERT_RET(0, kt_queue_ioc(self->fd, 0, 0, QRING, &a));
	ASSERT_RET(-EINVAL, kt_queue_ioc(self->fd, KTRACER_QUEUE_ADOPT, 1,
					 QRING, NULL));
	ASSERT_RET(-ENOENT, kt_queue_ioc(self->fd, KTRACER_QUEUE_ADOPT, 0, 0,
					 NULL));
	ASSERT_RET(-ENOENT, kt_queue_ioc(self->fd, KTRACER_QUEUE_ADOPT, 2, 0,
					 NULL));
	ASSERT_RET(0, kt_queue_ioc(self->fd, KTRACER_QUEUE_ADOPT, 1, 0, &a));
	EXPECT_EQ(1, a.id);
	EXPECT_EQ(QRING, a.ring_size);
}

TEST(queues_max)
{
	struct ktracer_queue a;
	int fd = kt_open(), i;

	ASSERT_LE(0, fd);
	for (i = 1; i <= KTRACER_FILE_QUEUES_MAX; i++) {
		ASSERT_RET(0, kt_queue_ioc(fd, 0, 0, QRING, &a));
		ASSERT_EQ(i, a.id);
	}
	ASSERT_RET(-ENOSPC, kt_queue_ioc(fd, 0, 0, QRING, NULL));
	/* Another file has its own. */
	i = kt_open();
	ASSERT_LE(0, i);
	ASSERT_RET(0, kt_queue_ioc(i, 0, 0, QRING, &a));
	EXPECT_EQ(1, a.id);
	close(i);
	close(fd);
}

TEST_F(queue, mmap_errors)
{
	long ps = sysconf(_SC_PAGESIZE);
	struct kt_q q;
	void *p;

	ASSERT_RET(0, kt_queue_ioc(self->fd, 0, 0, QRING, &q.info));
	p = mmap(NULL, q.info.map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		 self->fd, q.info.offset);
	ASSERT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, q.info.map_size - ps, PROT_READ | PROT_WRITE,
		 MAP_SHARED, self->fd, q.info.offset);
	ASSERT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, q.info.map_size + ps, PROT_READ | PROT_WRITE,
		 MAP_SHARED, self->fd, q.info.offset);
	ASSERT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, q.info.map_size - ps, PROT_READ | PROT_WRITE,
		 MAP_SHARED, self->fd, q.info.offset + ps);
	ASSERT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	/* The next queue's window: no queue there yet. */
	p = mmap(NULL, q.info.map_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, q.info.offset + (4 << 20));
	ASSERT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);

	ASSERT_RET(0, kt_q_map(self->fd, &q));
	EXPECT_EQ(KTRACER_QUEUE_MAGIC, q.qr->magic);
	EXPECT_EQ(q.info.id, q.qr->id);
	EXPECT_EQ(QRING, q.qr->ring_size);
	/* Never into a child, never larger. */
	if (madvise(q.qr, q.info.map_size, MADV_DOFORK) && errno == ENOSYS)
		TH_LOG("no madvise() in this kernel: MADV_DOFORK not tried");
	else
		ASSERT_ERRNO(EINVAL, madvise(q.qr, q.info.map_size,
					     MADV_DOFORK));
	EXPECT_EQ(MAP_FAILED, mremap(q.qr, q.info.map_size,
				     q.info.map_size + ps, MREMAP_MAYMOVE));
	/* Mapped twice: the same memory. */
	p = mmap(NULL, q.info.map_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, q.info.offset);
	ASSERT_NE(MAP_FAILED, p);
	q.qr->dropped = 7;
	EXPECT_EQ(7, ((struct ktracer_qring *)p)->dropped);
	munmap(p, q.info.map_size);
	kt_q_unmap(&q);
}

/* What a child of another process may do with its parent's queue. */
static int other_process(int fd, const struct kt_q *q)
{
	struct ktracer_flush f;
	void *p;

	if (!msync((void *)q->qr, q->info.map_size, MS_ASYNC) ||
	    errno != ENOMEM)
		return 10;	/* the parent's mapping is here */
	p = mmap(NULL, q->info.map_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, q->info.offset);
	if (p != MAP_FAILED || errno != EACCES)
		return 11;
	if (kt_queue_ioc(fd, KTRACER_QUEUE_ADOPT, q->info.id, 0, NULL) !=
	    -EACCES)
		return 12;
	/* Drains the parent's queue: under the parent's names. */
	if (kt_flush(fd, 0, 0, &f) || f.busy || f.applied != 1)
		return 13;
	return 0;
}

/*
 * fork(): the child has nothing mapped where its parent's queue is, can
 * neither map nor adopt it (no forged thread), and what it drains is
 * recorded as the parent's.
 */
TEST_F(queue, fork_child)
{
	const struct ktracer_record *r;
	struct kt_q q;
	int status;
	pid_t pid;

	ASSERT_RET(0, kt_q_create(self->fd, QRING, &q));
	ASSERT_RET(0, put_gauge(&q, self->gauge, 1, kt_now()));
	kt_q_publish(&q);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(other_process(self->fd, &q));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status))
		TH_LOG("10: mapped in the child, 11: mmap, 12: adopt, 13: flush");
	/* A grandchild writing there dies of SIGSEGV. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		q.qr->head = 0;
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(SIGSEGV, WTERMSIG(status));

	/* The parent's queue goes on. */
	ASSERT_RET(0, put_gauge(&q, self->gauge, 2, kt_now()));
	kt_q_publish(&q);
	ASSERT_RET(0, kt_flush(self->fd, 0, 0, NULL));
	EXPECT_EQ(2, q.qr->applied);
	EXPECT_EQ(0, q.qr->refused);
	COLLECT();
	ASSERT_EQ(2, count_recs(&self->recs, KTRACER_REC_GAUGE, self->gauge));
	r = find_rec(&self->recs, KTRACER_REC_GAUGE, self->gauge, 1);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(getpid(), r->pid);
	EXPECT_EQ(kt_gettid(), r->tid);
	r = find_rec(&self->recs, KTRACER_REC_GAUGE, self->gauge, 2);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(kt_gettid(), r->tid);
	kt_q_unmap(&q);
}

TEST_F(queue, flush_errors)
{
	struct ktracer_flush f;

	ASSERT_RET(-EINVAL, kt_flush(self->fd, 0x4, 0, NULL));
	ASSERT_RET(-EINVAL, kt_flush(self->fd, 0, 10, NULL));
	ASSERT_RET(-EINVAL, kt_flush(self->fd, KTRACER_FLUSH_INTERVAL, 0, NULL));
	ASSERT_RET(-EINVAL, kt_flush(self->fd, KTRACER_FLUSH_INTERVAL,
				     KTRACER_QUEUE_INTERVAL_MAX + 1, NULL));
	memset(&f, 0, sizeof(f));
	f.size = KTRACER_FLUSH_SIZE_VER0 - 8;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_FLUSH, &f));
	ASSERT_ERRNO(EFAULT, ioctl(self->fd, KTRACER_IOC_FLUSH, (void *)8));
	/* No queue: nothing to do, and no error. */
	ASSERT_RET(0, kt_flush(self->fd, KTRACER_FLUSH_WAIT |
				KTRACER_FLUSH_INTERVAL,
			       KTRACER_QUEUE_INTERVAL_MAX, &f));
	EXPECT_EQ(0, f.busy);
	EXPECT_EQ(0, f.applied);
	EXPECT_EQ(0, f.refused);
}

/* Threads, each with its own queue, and the records they get. */
#define NTHREADS	4
#define PER_THREAD	16

struct qthread {
	int fd;
	uint32_t span, log;
	int idx;
	pid_t tid;
	int err;
	struct kt_q q;
};

static void *queue_thread(void *arg)
{
	struct qthread *t = arg;
	char msg[40];
	int i, n;

	t->tid = kt_gettid();
	t->err = kt_q_create(t->fd, QRING, &t->q);
	if (t->err)
		return NULL;
	for (i = 0; i < PER_THREAD && !t->err; i++) {
		t->err = kt_q_put(&t->q, KTRACER_OP_START, 0, t->span, t->idx,
				  i, kt_now(), NULL, 0);
		n = snprintf(msg, sizeof(msg), "thread %d op %d", t->idx, i);
		if (!t->err)
			t->err = kt_q_put(&t->q, KTRACER_OP_LOG, 0, t->log, 0,
					  0, kt_now(), msg, n);
		if (!t->err)
			t->err = kt_q_put(&t->q, KTRACER_OP_STOP, 0, t->span,
					  t->idx, i, kt_now(), NULL, 0);
	}
	kt_q_publish(&t->q);
	return NULL;
}

/*
 * Records name the thread that queued the op, not the one that drained
 * it (this thread, here), with the op's own ts.
 */
TEST_F(queue, threads_own_tid)
{
	struct qthread t[NTHREADS];
	struct ktracer_flush f;
	const struct kt_rec *rec;
	int i, seen[NTHREADS] = { 0 }, th, op;
	size_t k;

	for (i = 0; i < NTHREADS; i++) {
		memset(&t[i], 0, sizeof(t[i]));
		t[i].fd = self->fd;
		t[i].span = self->span;
		t[i].log = self->log;
		t[i].idx = i;
	}
	{
		pthread_t th_id[NTHREADS];

		for (i = 0; i < NTHREADS; i++)
			ASSERT_EQ(0, pthread_create(&th_id[i], NULL,
						    queue_thread, &t[i]));
		for (i = 0; i < NTHREADS; i++)
			ASSERT_EQ(0, pthread_join(th_id[i], NULL));
	}
	for (i = 0; i < NTHREADS; i++)
		ASSERT_RET(0, t[i].err);
	ASSERT_RET(0, kt_flush(self->fd, KTRACER_FLUSH_WAIT, 0, &f));
	EXPECT_EQ(0, f.busy);
	EXPECT_EQ(NTHREADS * PER_THREAD * 3, f.applied);
	EXPECT_EQ(0, f.refused);
	COLLECT();
	ASSERT_EQ(NTHREADS * PER_THREAD * 3, NREC);
	for (k = 0; k < NREC; k++) {
		rec = &self->recs.v[k];
		EXPECT_EQ(getpid(), rec->hdr.pid);
		EXPECT_TRUE(rec->hdr.flags & KTRACER_RECF_USER_TS);
		if (rec->hdr.type != KTRACER_REC_LOG)
			continue;
		ASSERT_EQ(2, sscanf((const char *)rec->msg, "thread %d op %d",
				    &th, &op));
		ASSERT_LE(0, th);
		ASSERT_GT(NTHREADS, th);
		EXPECT_EQ(t[th].tid, rec->hdr.tid)
			TH_LOG("'%s' named thread %u", rec->msg, rec->hdr.tid);
		seen[th]++;
	}
	for (k = 0; k < NREC; k++) {
		rec = &self->recs.v[k];
		if (rec->hdr.type == KTRACER_REC_LOG)
			continue;
		EXPECT_EQ(t[rec->hdr.slot].tid, rec->hdr.tid);
	}
	for (i = 0; i < NTHREADS; i++) {
		EXPECT_EQ(PER_THREAD, seen[i]);
		EXPECT_EQ(PER_THREAD * 3, t[i].q.qr->applied);
		EXPECT_EQ(t[i].q.head, t[i].q.qr->tail);
		kt_q_unmap(&t[i].q);
	}
}

struct one_op {
	int fd;
	uint16_t op;
	uint32_t event, slot;
	uint64_t ts;
	pid_t tid;
	struct kt_q q;
	int err;
};

static void *one_op_thread(void *arg)
{
	struct one_op *o = arg;

	o->tid = kt_gettid();
	o->err = kt_q_create(o->fd, QRING, &o->q);
	if (!o->err)
		o->err = kt_q_put(&o->q, o->op, 0, o->event, o->slot, 0, o->ts,
				  NULL, 0);
	if (!o->err)
		kt_q_publish(&o->q);
	return NULL;
}

static int run_one_op(struct one_op *o)
{
	pthread_t th;

	if (pthread_create(&th, NULL, one_op_thread, o) ||
	    pthread_join(th, NULL))
		return -1;
	return o->err;
}

/*
 * A task started on one thread and stopped on another, both in one
 * drain: START first, by ts, though the STOP's queue has the lower id.
 */
TEST_F(queue, merge_by_ts)
{
	uint64_t t0 = kt_now();
	struct one_op stop = {
		.fd = self->fd, .op = KTRACER_OP_STOP, .event = self->span,
		.slot = 3, .ts = t0 + 1000,
	};
	struct one_op start = {
		.fd = self->fd, .op = KTRACER_OP_START, .event = self->span,
		.slot = 3, .ts = t0,
	};
	struct ktracer_flush f;
	const struct ktracer_record *r;

	ASSERT_RET(0, run_one_op(&stop));
	ASSERT_RET(0, run_one_op(&start));
	ASSERT_LT(stop.q.info.id, start.q.info.id);
	ASSERT_RET(0, kt_flush(self->fd, 0, 0, &f));
	EXPECT_EQ(2, f.applied);
	EXPECT_EQ(0, f.refused);
	COLLECT();
	ASSERT_EQ(2, NREC);
	r = REC(0)->type == KTRACER_REC_START ? REC(0) : REC(1);
	EXPECT_EQ(KTRACER_REC_START, r->type);
	EXPECT_EQ(start.tid, r->tid);
	EXPECT_EQ(t0, r->ts);
	r = REC(0)->type == KTRACER_REC_STOP ? REC(0) : REC(1);
	EXPECT_EQ(KTRACER_REC_STOP, r->type);
	EXPECT_EQ(stop.tid, r->tid);
	EXPECT_EQ(t0 + 1000, r->ts);
	EXPECT_EQ(1000, r->extra);
	kt_q_unmap(&stop.q);
	kt_q_unmap(&start.q);
}

/* With nobody calling anything, entries reach the buffers on the interval. */
TEST_F(queue, interval_drain)
{
	struct kt_q q;
	uint64_t ts;

	ASSERT_RET(0, kt_q_create(self->fd, QRING, &q));
	ASSERT_RET(0, kt_flush(self->fd, KTRACER_FLUSH_INTERVAL, 20, NULL));
	ts = kt_now();
	ASSERT_RET(0, put_gauge(&q, self->gauge, 42, ts));
	kt_q_publish(&q);
	ASSERT_EQ(1, wait_recs(&self->rings, &self->recs, KTRACER_REC_GAUGE,
			       self->gauge, 1));
	ASSERT_EQ(1, NREC);
	EXPECT_EQ(42, REC(0)->arg);
	EXPECT_EQ(ts, REC(0)->ts);
	EXPECT_EQ(kt_gettid(), REC(0)->tid);
	EXPECT_EQ(q.head, __atomic_load_n(&q.qr->tail, __ATOMIC_ACQUIRE));
	/* Again: the drain comes back on its own. */
	kt_recs_free(&self->recs);
	ASSERT_RET(0, put_gauge(&q, self->gauge, 43, kt_now()));
	kt_q_publish(&q);
	ASSERT_EQ(1, wait_recs(&self->rings, &self->recs, KTRACER_REC_GAUGE,
			       self->gauge, 1));
	EXPECT_EQ(43, REC(0)->arg);
	kt_q_unmap(&q);
}

/*
 * The file is released, and its queues drained, only once the last
 * descriptor is closed and the last mapping unmapped.
 */
TEST_F(queue, release_drains)
{
	int fd = kt_open();
	struct kt_q q;

	ASSERT_LE(0, fd);
	ASSERT_NE(0, kt_register_id(fd, KTRACER_KIND_GAUGE, 0, "queue.gauge"));
	ASSERT_RET(0, kt_q_create(fd, QRING, &q));
	/* No drain on the interval while this test looks. */
	ASSERT_RET(0, kt_flush(fd, KTRACER_FLUSH_INTERVAL,
			       KTRACER_QUEUE_INTERVAL_MAX, NULL));
	close(fd);
	ASSERT_RET(0, put_gauge(&q, self->gauge, 5, kt_now()));
	kt_q_publish(&q);
	COLLECT();
	EXPECT_EQ(0, NREC);
	kt_q_unmap(&q);
	COLLECT();
	ASSERT_EQ(1, NREC);
	EXPECT_EQ(5, REC(0)->arg);
	EXPECT_EQ(kt_gettid(), REC(0)->tid);
}

/* How a child leaves, with entries queued and never flushed. */
enum { END_EXIT, END_ABORT, END_SEGV, END_KILL };

#define CHILD_OPS	24

/*
 * The child: a file and a queue of its own, entries written with plain
 * stores, published, then the end @how. Tells the parent the ts of its
 * first entry and its tid through @pfd.
 */
static void queue_and_die(int how, int pfd)
{
	struct rlimit no_core = { 0, 0 };
	volatile int *volatile nowhere = NULL;
	uint64_t msg[2];
	uint32_t gauge, span;
	struct kt_q q;
	int fd, i;

	setrlimit(RLIMIT_CORE, &no_core);
	fd = kt_open();
	if (fd < 0)
		_exit(20);
	gauge = kt_register_id(fd, KTRACER_KIND_GAUGE, 0, "queue.gauge");
	span = kt_register_id(fd, KTRACER_KIND_SPAN, NSLOTS, "queue.span");
	if (!gauge || !span || kt_q_create(fd, QRING, &q))
		_exit(21);
	/* Only what the end itself drains. */
	if (kt_flush(fd, KTRACER_FLUSH_INTERVAL, KTRACER_QUEUE_INTERVAL_MAX,
		     NULL))
		_exit(22);
	msg[0] = kt_now();
	msg[1] = kt_gettid();
	for (i = 0; i < CHILD_OPS; i++)
		if (put_gauge(&q, gauge, i, msg[0] + i))
			_exit(23);
	/* And a span left open: cancelled after the drain. */
	if (kt_q_put(&q, KTRACER_OP_START, 0, span, 1, 0, msg[0] + i, NULL, 0))
		_exit(24);
	kt_q_publish(&q);
	if (write(pfd, msg, sizeof(msg)) != sizeof(msg))
		_exit(25);
	switch (how) {
	case END_EXIT:
		exit(0);
	case END_ABORT:
		abort();
	case END_SEGV:
		*nowhere = 0;
		break;
	case END_KILL:
		for (;;)
			pause();
	}
	_exit(26);
}

static void child_end(struct __test_metadata *_metadata,
		      FIXTURE_DATA(queue) *self, int how, int sig)
{
	const struct ktracer_record *r;
	uint64_t msg[2];
	int pfd[2], status, i, n;
	pid_t pid;

	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(pfd[0]);
		queue_and_die(how, pfd[1]);
	}
	close(pfd[1]);
	ASSERT_EQ(sizeof(msg), read(pfd[0], msg, sizeof(msg)));
	close(pfd[0]);
	if (how == END_KILL)
		ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	if (sig) {
		ASSERT_TRUE(WIFSIGNALED(status));
		EXPECT_EQ(sig, WTERMSIG(status));
	} else {
		ASSERT_TRUE(WIFEXITED(status));
		ASSERT_EQ(0, WEXITSTATUS(status));
	}
	/* The CANCEL of the open span is the last record of the release. */
	ASSERT_EQ(1, wait_recs(&self->rings, &self->recs, KTRACER_REC_CANCEL,
			       self->span, 1));
	n = count_recs(&self->recs, KTRACER_REC_GAUGE, self->gauge);
	ASSERT_EQ(CHILD_OPS, n);
	for (i = 0; i < CHILD_OPS; i++) {
		r = find_rec(&self->recs, KTRACER_REC_GAUGE, self->gauge, i);
		ASSERT_NE(NULL, r) TH_LOG("entry %d", i);
		EXPECT_EQ(msg[0] + i, r->ts);
		EXPECT_EQ(pid, r->pid);
		EXPECT_EQ(msg[1], r->tid);
		EXPECT_TRUE(r->flags & KTRACER_RECF_USER_TS);
	}
	r = find_rec(&self->recs, KTRACER_REC_START, self->span, 0);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(msg[0] + CHILD_OPS, r->ts);
	EXPECT_EQ(1, r->slot);
	EXPECT_EQ(msg[1], r->tid);
}

TEST_F(queue, exit_without_close)
{
	child_end(_metadata, self, END_EXIT, 0);
}

TEST_F(queue, abort)
{
	child_end(_metadata, self, END_ABORT, SIGABRT);
}

TEST_F(queue, sigsegv)
{
	child_end(_metadata, self, END_SEGV, SIGSEGV);
}

TEST_F(queue, sigkill)
{
	child_end(_metadata, self, END_KILL, SIGKILL);
}

/* A full queue drops, counted by the program, told by a LOST record. */
TEST_F(queue, full_queue_lost)
{
	const int cap = QRING / KTRACER_QENTRY_SIZE;
	const struct ktracer_record *r;
	struct ktracer_flush f;
	struct kt_q q;
	uint64_t ts = kt_now();
	int i;

	ASSERT_RET(0, kt_q_create(self->fd, QRING, &q));
	for (i = 0; i < cap; i++)
		ASSERT_RET(0, put_gauge(&q, self->gauge, i, ts));
	for (i = 0; i < 5; i++)
		ASSERT_RET(-ENOSPC, put_gauge(&q, self->gauge, 1000 + i, ts));
	kt_q_publish(&q);
	EXPECT_EQ(5, q.qr->dropped);
	ASSERT_RET(0, kt_flush(self->fd, KTRACER_FLUSH_WAIT, 0, &f));
	EXPECT_EQ(cap, f.applied);
	COLLECT();
	EXPECT_EQ(cap, count_recs(&self->recs, KTRACER_REC_GAUGE, self->gauge));
	ASSERT_EQ(1, count_recs(&self->recs, KTRACER_REC_LOST, 0));
	r = find_rec(&self->recs, KTRACER_REC_LOST, 0, 5);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(getpid(), r->pid);
	EXPECT_EQ(kt_gettid(), r->tid);

	/* Room again, wrapping round the ring; then 3 more dropped. */
	for (i = 0; i < cap; i++)
		ASSERT_RET(0, put_gauge(&q, self->gauge, i, ts));
	for (i = 0; i < 3; i++)
		ASSERT_RET(-ENOSPC, put_gauge(&q, self->gauge, 1000 + i, ts));
	kt_q_publish(&q);
	ASSERT_RET(0, kt_flush(self->fd, 0, 0, &f));
	EXPECT_EQ(cap, f.applied);
	COLLECT();
	EXPECT_EQ(cap, count_recs(&self->recs, KTRACER_REC_GAUGE, self->gauge));
	ASSERT_EQ(1, count_recs(&self->recs, KTRACER_REC_LOST, 0));
	EXPECT_NE(NULL, find_rec(&self->recs, KTRACER_REC_LOST, 0, 3));
	/* No growth, no record. */
	ASSERT_RET(0, kt_flush(self->fd, 0, 0, &f));
	COLLECT();
	EXPECT_EQ(0, NREC);
	/* LOST records count nowhere: written == read, per CPU. */
	for (i = 0; i < self->rings.nr; i++)
		EXPECT_EQ(self->rings.ring[i].records,
			  self->rings.ring[i].meta->written) TH_LOG("cpu %d", i);
	kt_q_unmap(&q);
}

/* A head the kernel cannot believe: the queue is refused as a whole. */
TEST_F(queue, corrupt_head)
{
	struct ktracer_flush f;
	struct kt_q q;
	uint64_t good, ts = kt_now();

	ASSERT_RET(0, kt_q_create(self->fd, QRING, &q));
	ASSERT_RET(0, put_gauge(&q, self->gauge, 1, ts));
	kt_q_publish(&q);
	ASSERT_RET(0, kt_flush(self->fd, 0, 0, &f));
	ASSERT_EQ(1, f.applied);
	COLLECT();
	ASSERT_EQ(KTRACER_QENTRY_SIZE, q.qr->tail);
	ASSERT_RET(0, put_gauge(&q, self->gauge, 2, ts));
	ASSERT_RET(0, put_gauge(&q, self->gauge, 3, ts));
	good = q.head;

	/* The kernel's own fields, overwritten: not believed either. */
	q.qr->tail = 12345;
	q.qr->applied = 99;
	{
		static const int64_t bad[] = {
			8,				/* not % 32 */
			-KTRACER_QENTRY_SIZE,		/* behind tail */
			QRING + KTRACER_QENTRY_SIZE,	/* > a ring ahead */
		};
		uint64_t base = KTRACER_QENTRY_SIZE;
		unsigned int i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			__atomic_store_n(&q.qr->head, base + bad[i],
					 __ATOMIC_RELEASE);
			ASSERT_RET(0, kt_flush(self->fd, 0, 0, &f));
			EXPECT_EQ(0, f.applied);
			EXPECT_EQ(1, f.refused);
			EXPECT_EQ(-EINVAL, q.qr->error);
			EXPECT_EQ(i + 1, q.qr->refused);
			EXPECT_EQ(1, q.qr->applied);
			EXPECT_EQ(KTRACER_QENTRY_SIZE, q.qr->tail);
		}
	}
	COLLECT();
	EXPECT_EQ(0, NREC);
	/* Fixed: applied. */
	__atomic_store_n(&q.qr->head, good, __ATOMIC_RELEASE);
	ASSERT_RET(0, kt_flush(self->fd, 0, 0, &f));
	EXPECT_EQ(2, f.applied);
	EXPECT_EQ(0, f.refused);
	EXPECT_EQ(good, q.qr->tail);
	COLLECT();
	EXPECT_EQ(2, NREC);
	kt_q_unmap(&q);
}

/*
 * Entries and their ts: each refused alone, with its errno, the others
 * applied; an entry past the head ends the queue's drain.
 */
TEST_F(queue, bad_entries)
{
	const uint64_t ts = kt_now();
	struct ktracer_flush f;
	static const char msg[] = "a message of more than 32 bytes, inline";
	struct kt_q q;

	ASSERT_RET(0, kt_q_create(self->fd, QRING, &q));
	/* Older than the file's opening. */
	ASSERT_RET(0, put_gauge(&q, self->gauge, 1, 1));
	ASSERT_RET(0, put_gauge(&q, self->gauge, 2, ts));
	ASSERT_RET(0, put_gauge(&q, self->gauge, 3, 0));
	ASSERT_RET(0, put_gauge(&q, self->gauge, 4, ts + 100 * KT_NSEC_PER_SEC));
	ASSERT_RET(0, put_gauge(&q, self->gauge, 5, ts - 1));	/* backwards */
	ASSERT_RET(0, put_gauge(&q, self->gauge, 6, ts));	/* equal: fine */
	/* An op error: no such event. */
	ASSERT_RET(0, kt_q_put(&q, KTRACER_OP_GAUGE, 0, 0, 0, 7, ts, NULL, 0));
	/* A LOG's value must be 0: its message is inline. */
	ASSERT_RET(0, kt_q_put(&q, KTRACER_OP_LOG, 0, self->log, 0, 1, ts, msg,
			       sizeof(msg)));
	ASSERT_RET(0, kt_q_put(&q, KTRACER_OP_LOG, 0, self->log, 0, 0, ts, msg,
			       sizeof(msg)));
	/* STOP of a slot not open. */
	ASSERT_RET(0, kt_q_put(&q, KTRACER_OP_STOP, 0, self->span, 0, 0, ts,
			       NULL, 0));
	ASSERT_RET(0, put_gauge(&q, self->gauge, 8, ts + 1));
	kt_q_publish(&q);
	ASSERT_RET(0, kt_flush(self->fd, 0, 0, &f));
	EXPECT_EQ(4, f.applied);
	EXPECT_EQ(7, f.refused);
	EXPECT_EQ(-ENOENT, q.qr->error);
	EXPECT_EQ(ts + 1, q.qr->last_ts);
	COLLECT();
	ASSERT_EQ(4, NREC);
	EXPECT_NE(NULL, find_rec(&self->recs, KTRACER_REC_GAUGE, self->gauge, 2));
	EXPECT_NE(NULL, find_rec(&self->recs, KTRACER_REC_GAUGE, self->gauge, 6));
	EXPECT_NE(NULL, find_rec(&self->recs, KTRACER_REC_GAUGE, self->gauge, 8));
	ASSERT_EQ(1, count_recs(&self->recs, KTRACER_REC_LOG, self->log));
	EXPECT_EQ(sizeof(msg), self->recs.v[2].hdr.len);
	EXPECT_STREQ(msg, (const char *)self->recs.v[2].msg);

	/* An entry whose message runs past the head. */
	ASSERT_RET(0, put_gauge(&q, self->gauge, 9, ts + 2));
	ASSERT_RET(0, kt_q_put(&q, KTRACER_OP_LOG, 0, self->log, 0, 0, ts + 2,
			       msg, sizeof(msg)));
	__atomic_store_n(&q.qr->head, q.head - KTRACER_QENTRY_SIZE,
			 __ATOMIC_RELEASE);
	ASSERT_RET(0, kt_flush(self->fd, 0, 0, &f));
	EXPECT_EQ(1, f.applied);
	EXPECT_EQ(1, f.refused);
	EXPECT_EQ(-EINVAL, q.qr->error);
	EXPECT_EQ(q.head - KTRACER_QENTRY_SIZE, q.qr->tail);
	COLLECT();
	ASSERT_EQ(1, NREC);
	EXPECT_EQ(9, REC(0)->arg);
	kt_q_unmap(&q);
}

/*
 * The TSC clock (KTRACER_QUEUE_TSC). Where the kernel cannot convert this
 * machine's TSC the tests that need it skip, saying why: whether
 * /proc/cpuinfo has the flags the kernel requires.
 */
static bool cpu_flag(const char *flag)
{
	char line[4096], word[64];
	bool found = false;
	FILE *f = fopen("/proc/cpuinfo", "r");

	if (!f)
		return false;
	snprintf(word, sizeof(word), " %s ", flag);
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		line[strcspn(line, "\n")] = ' ';
		found = strstr(line, word) != NULL;
		break;
	}
	fclose(f);
	return found;
}

/* Why the kernel may have refused a TSC queue, for a SKIP's message. */
/* Whether ktracer was loaded with trust_tsc=1. */
static bool tsc_trusted(void)
{
	char v[8];

	return !kt_read_text("/sys/module/ktracer/parameters/trust_tsc", v,
			     sizeof(v)) && v[0] == 'Y';
}

static const char *tsc_why(void)
{
	if (!KT_HAVE_TSC)
		return "not x86";
	if (tsc_trusted())
		return "trust_tsc=1, but the TSC is marked unstable, or of unknown frequency";
	if (!cpu_flag("constant_tsc"))
		return cpu_flag("nonstop_tsc") ? "no constant_tsc in /proc/cpuinfo" :
		       "no constant_tsc nor nonstop_tsc in /proc/cpuinfo";
	if (!cpu_flag("nonstop_tsc"))
		return "no nonstop_tsc in /proc/cpuinfo";
	return "the TSC is marked unstable, or of unknown frequency";
}

#define TSC_QUEUE(q)							\
	do {								\
		int _r = kt_q_create_flags(self->fd, KTRACER_QUEUE_TSC,	\
					   QRING, (q));			\
		if (_r == -EOPNOTSUPP)					\
			SKIP(return, "no TSC queues on this machine (EOPNOTSUPP): %s", \
			     tsc_why());				\
		ASSERT_RET(0, _r);					\
	} while (0)

/* Flush until the drains have taken @n entries of @q, or 10 tries. */
static int flush_all(int fd, const struct kt_q *q, uint64_t n)
{
	int i, ret = 0;

	for (i = 0; i < 10 && !ret; i++) {
		if (q->qr->applied + q->qr->refused >= n)
			break;
		ret = kt_flush(fd, KTRACER_FLUSH_WAIT, 0, NULL);
	}
	return ret;
}

/*
 * EOPNOTSUPP exactly where the header says: not x86, or no constant_tsc
 * or nonstop_tsc unless loaded with trust_tsc=1 (the other reasons, an
 * unstable TSC or no tsc_khz, are not visible from here: then EOPNOTSUPP
 * is allowed too).
 */
TEST_F(queue, tsc_flag_matches_cpu)
{
	bool trusted = tsc_trusted(), can = KT_HAVE_TSC &&
		((cpu_flag("constant_tsc") && cpu_flag("nonstop_tsc")) ||
		 trusted);
	struct kt_q q;
	int ret;

	ret = kt_q_create_flags(self->fd, KTRACER_QUEUE_TSC, QRING, &q);
	TH_LOG("TSC queue: %s (%s)", ret ? strerror(-ret) : "created",
	       ret ? tsc_why() : trusted ? "trust_tsc=1" :
	       "constant_tsc nonstop_tsc");
	if (!can) {
		ASSERT_RET(-EOPNOTSUPP, ret);
		return;
	}
	if (ret == -EOPNOTSUPP)
		return;
	ASSERT_RET(0, ret);
	EXPECT_EQ(KTRACER_QCLOCK_TSC, q.qr->clock);
	kt_q_unmap(&q);
}

/*
 * The flag's own errors, wherever TSC queues are supported or not: with
 * ADOPT (a queue keeps its clock), with unknown bits. A plain queue's
 * clock is CLOCK_MONOTONIC.
 */
TEST_F(queue, tsc_adopt_flag_einval)
{
	struct kt_q q;

	ASSERT_RET(0, kt_q_create(self->fd, QRING, &q));
	EXPECT_EQ(KTRACER_QCLOCK_MONOTONIC, q.qr->clock);
	ASSERT_RET(-EINVAL, kt_queue_ioc(self->fd, KTRACER_QUEUE_ADOPT |
					 KTRACER_QUEUE_TSC, q.info.id, 0,
					 NULL));
	ASSERT_RET(-EINVAL, kt_queue_ioc(self->fd, KTRACER_QUEUE_TSC | 0x4, 0,
					 QRING, NULL));
	ASSERT_RET(-EINVAL, kt_queue_ioc(self->fd, KTRACER_QUEUE_TSC |
					 0x80000000, 0, QRING, NULL));
	ASSERT_RET(-EINVAL, kt_queue_ioc(self->fd, KTRACER_QUEUE_ADOPT |
					 KTRACER_QUEUE_TSC | 0x4, q.info.id,
					 0, NULL));
	/* None of them made a queue, nor changed the one there is. */
	ASSERT_RET(0, kt_queue_ioc(self->fd, KTRACER_QUEUE_ADOPT, q.info.id, 0,
				   NULL));
	EXPECT_EQ(KTRACER_QCLOCK_MONOTONIC, q.qr->clock);
	ASSERT_RET(-ENOENT, kt_queue_ioc(self->fd, KTRACER_QUEUE_ADOPT, 2, 0,
					 NULL));
	kt_q_unmap(&q);
}

/*
 * TSC queue entries come out in CLOCK_MONOTONIC ns: each within 20 us of
 * the CLOCK_MONOTONIC reads around the rdtsc that stamped it. The
 * conversion's error is far below that: the anchor's pair is read within
 * about 100 ns on hardware (a few us under emulation), and its rate,
 * tsc_khz, is wrong by some ppm, a few ns over the test's 100 us or so;
 * 20 us leaves room for emulation, not for a wrong rate or offset (a 1%
 * rate error is already 1 us per 100 us of age; any real offset, us).
 */
#define TSC_PAIRS	8
#define TSC_TOL_NS	20000

TEST_F(queue, tsc_queue_converts)
{
	uint64_t t0, t1, prev = 0;
	const struct ktracer_record *r;
	struct kt_q q;
	int i;

	TSC_QUEUE(&q);
	EXPECT_EQ(KTRACER_QCLOCK_TSC, q.qr->clock);
	t0 = kt_now();
	for (i = 0; i < TSC_PAIRS; i++) {
		ASSERT_RET(0, kt_q_put(&q, KTRACER_OP_START, 0, self->span, i,
				       i, kt_rdtsc(), NULL, 0));
		ASSERT_RET(0, kt_q_put(&q, KTRACER_OP_STOP, 0, self->span, i,
				       i, kt_rdtsc(), NULL, 0));
	}
	t1 = kt_now();
	kt_q_publish(&q);
	/*
	 * A drain leaves entries newer than its start for the next one:
	 * one converted a little late could wait for a second drain.
	 */
	ASSERT_RET(0, flush_all(self->fd, &q, 2 * TSC_PAIRS));
	EXPECT_EQ(2 * TSC_PAIRS, q.qr->applied);
	EXPECT_EQ(0, q.qr->refused);
	EXPECT_EQ(0, q.qr->error);
	COLLECT();
	ASSERT_EQ(2 * TSC_PAIRS, NREC);
	TH_LOG("t0 %llu, t1 - t0 %llu ns, first at t0 + %lld ns, last at t1 + %lld ns",
	       (unsigned long long)t0, (unsigned long long)(t1 - t0),
	       (long long)(REC(0)->ts - t0),
	       (long long)(REC(NREC - 1)->ts - t1));
	for (i = 0; i < (int)NREC; i++) {
		r = REC(i);
		EXPECT_EQ(i % 2 ? KTRACER_REC_STOP : KTRACER_REC_START, r->type);
		EXPECT_EQ(i / 2, r->slot);
		EXPECT_LE(t0 - TSC_TOL_NS, r->ts)
			TH_LOG("record %d: %lld ns before t0", i,
			       (long long)(t0 - r->ts));
		EXPECT_GE(t1 + TSC_TOL_NS, r->ts)
			TH_LOG("record %d: %lld ns after t1", i,
			       (long long)(r->ts - t1));
		EXPECT_LE(prev, r->ts);
		prev = r->ts;
	}
	EXPECT_EQ(REC(NREC - 1)->ts, q.qr->last_ts);
	kt_q_unmap(&q);
}

/*
 * A tsc in the future (the program's TSC plus 10^12 cycles, minutes
 * ahead), 0, or older than anything the kernel can convert (1) is
 * refused with EINVAL; the entries around them in the same drain are
 * applied.
 */
TEST_F(queue, tsc_future_refused)
{
	struct kt_q q;

	TSC_QUEUE(&q);
	ASSERT_RET(0, put_gauge(&q, self->gauge, 1, kt_rdtsc()));
	ASSERT_RET(0, put_gauge(&q, self->gauge, 2, kt_rdtsc() + 1000000000000ULL));
	ASSERT_RET(0, put_gauge(&q, self->gauge, 3, kt_rdtsc()));
	ASSERT_RET(0, put_gauge(&q, self->gauge, 4, 0));
	ASSERT_RET(0, put_gauge(&q, self->gauge, 5, 1));
	ASSERT_RET(0, put_gauge(&q, self->gauge, 6, kt_rdtsc()));
	kt_q_publish(&q);
	ASSERT_RET(0, flush_all(self->fd, &q, 6));
	EXPECT_EQ(3, q.qr->applied);
	EXPECT_EQ(3, q.qr->refused);
	EXPECT_EQ(-EINVAL, q.qr->error);
	COLLECT();
	ASSERT_EQ(3, NREC);
	EXPECT_EQ(1, REC(0)->arg);
	EXPECT_EQ(3, REC(1)->arg);
	EXPECT_EQ(6, REC(2)->arg);
	EXPECT_LE(REC(0)->ts, REC(1)->ts);
	EXPECT_LE(REC(1)->ts, REC(2)->ts);
	EXPECT_GE(kt_now(), REC(2)->ts);
	kt_q_unmap(&q);
}

/* A thread that adopts a queue: what was queued keeps its thread. */
TEST_F(queue, adopt)
{
	struct one_op first = {
		.fd = self->fd, .op = KTRACER_OP_GAUGE, .event = self->gauge,
		.ts = kt_now(),
	};
	struct ktracer_queue a;
	struct kt_q q;

	ASSERT_RET(0, run_one_op(&first));	/* its thread is gone */
	ASSERT_RET(0, kt_queue_ioc(self->fd, KTRACER_QUEUE_ADOPT,
				   first.q.info.id, 0, &a));
	memset(&q, 0, sizeof(q));
	q.info = a;
	ASSERT_RET(0, kt_q_map(self->fd, &q));
	EXPECT_EQ(q.head, first.q.head);
	EXPECT_EQ(q.qr->tail, q.head);	/* drained by the adoption */
	ASSERT_RET(0, put_gauge(&q, self->gauge, 7, kt_now()));
	kt_q_publish(&q);
	ASSERT_RET(0, kt_flush(self->fd, 0, 0, NULL));
	COLLECT();
	ASSERT_EQ(2, NREC);
	EXPECT_EQ(0, REC(0)->arg);
	EXPECT_EQ(first.tid, REC(0)->tid);
	EXPECT_EQ(7, REC(1)->arg);
	EXPECT_EQ(kt_gettid(), REC(1)->tid);
	kt_q_unmap(&q);
	kt_q_unmap(&first.q);
}

/*
 * A BATCH whose ops sit on a userfaultfd page sleeps in the kernel until
 * the fault is resolved. Meanwhile another thread fills its queue, drops
 * when it is full, and flushes: nothing of it waits for the BATCH.
 */
struct blocked {
	int fd;
	struct ktracer_op *ops;
	uint32_t count;
	int ret;
	struct ktracer_batch b;
};

static void *batch_thread(void *arg)
{
	struct blocked *bl = arg;

	memset(&bl->b, 0, sizeof(bl->b));
	bl->b.size = sizeof(bl->b);
	bl->b.ops = (uintptr_t)bl->ops;
	bl->b.count = bl->count;
	bl->b.op_size = sizeof(*bl->ops);
	bl->ret = ioctl(bl->fd, KTRACER_IOC_BATCH, &bl->b) ? -errno : 0;
	return NULL;
}

TEST_F(queue, blocked_call)
{
	long ps = sysconf(_SC_PAGESIZE);
	const int cap = QRING / KTRACER_QENTRY_SIZE;
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;
	struct uffdio_copy copy;
	struct uffd_msg fault;
	struct pollfd pfd;
	struct ktracer_flush f;
	struct ktracer_op *src;
	struct blocked bl = { .fd = self->fd, .count = 4 };
	uint64_t applied = 0, dropped = 0;
	pthread_t th;
	struct kt_q q;
	void *page;
	int uffd, i, round;

	uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0)
		SKIP(return, "userfaultfd: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_API, &api));
	page = mmap(NULL, ps, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, page);
	reg.range.start = (uintptr_t)page;
	reg.range.len = ps;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_REGISTER, &reg));
	src = aligned_alloc(ps, ps);
	ASSERT_NE(NULL, src);
	for (i = 0; i < 4; i++)
		src[i] = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, 100 + i);

	bl.ops = page;
	ASSERT_EQ(0, pthread_create(&th, NULL, batch_thread, &bl));
	/* The BATCH is in the kernel, asleep on the fault. */
	pfd.fd = uffd;
	pfd.events = POLLIN;
	ASSERT_EQ(1, poll(&pfd, 1, 10000));
	ASSERT_EQ(sizeof(fault), read(uffd, &fault, sizeof(fault)));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, fault.event);

	ASSERT_RET(0, kt_q_create(self->fd, QRING, &q));
	for (round = 0; round < 3; round++) {
		for (i = 0; i < cap + 2; i++)
			dropped += put_gauge(&q, self->gauge, round, kt_now())
				   == -ENOSPC;
		kt_q_publish(&q);
		ASSERT_RET(0, kt_flush(self->fd, 0, 0, &f));
		/* Not busy: a drain does not wait for anyone's call. */
		if (!f.busy)
			applied += f.applied;
		/* The op calls too. */
		ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_GAUGE, self->gauge, 0,
				    50 + round));
	}
	EXPECT_EQ(0, bl.ret);
	EXPECT_EQ(0, bl.b.done);	/* still asleep */
	EXPECT_EQ(6, dropped);
	ASSERT_RET(0, kt_flush(self->fd, KTRACER_FLUSH_WAIT, 0, &f));
	applied += f.applied;
	EXPECT_EQ(3 * cap, applied);

	/* Resolve the fault: the BATCH goes on and applies everything. */
	copy.dst = (uintptr_t)page;
	copy.src = (uintptr_t)src;
	copy.len = ps;
	copy.mode = 0;
	copy.copy = 0;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_COPY, &copy));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(0, bl.ret);
	EXPECT_EQ(4, bl.b.done);
	COLLECT();
	EXPECT_EQ(3 * cap + 3 + 4,
		  count_recs(&self->recs, KTRACER_REC_GAUGE, self->gauge));
	EXPECT_EQ(3, count_recs(&self->recs, KTRACER_REC_LOST, 0));
	for (i = 0; i < 4; i++)
		EXPECT_NE(NULL, find_rec(&self->recs, KTRACER_REC_GAUGE,
					 self->gauge, 100 + i));
	kt_q_unmap(&q);
	munmap(page, ps);
	free(src);
	close(uffd);
}

/*
 * A FLUSH that waits for a running drain (KTRACER_FLUSH_WAIT) returns
 * EINTR when a signal comes meanwhile, and loses nothing: the running
 * drain applies every entry, and the interrupted call applied none. The
 * drain is made long (EINTR_QUEUES full rings), and the waiter is
 * signalled only once it sleeps in the ioctl while the drain is still
 * busy (all threads share one CPU: the waiter sleeps on the drain's
 * lock, it cannot spin on it); if the drain ended first anyway, the
 * round is tried again.
 */
#define EINTR_QUEUES	8
#define EINTR_ROUNDS	5

struct flusher {
	int fd;
	pid_t tid;
	int state;		/* 1: about to call, 2: returned */
	int ret;
	struct ktracer_flush f;
};

static void *flusher_thread(void *arg)
{
	struct flusher *fl = arg;

	fl->tid = kt_gettid();
	__atomic_store_n(&fl->state, 1, __ATOMIC_RELEASE);
	fl->ret = kt_flush(fl->fd, KTRACER_FLUSH_WAIT, 0, &fl->f);
	__atomic_store_n(&fl->state, 2, __ATOMIC_RELEASE);
	return NULL;
}

/* The state letter of thread @tid ('?' if unknown). */
static char thread_state(pid_t tid)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	if (kt_read_text(path, buf, sizeof(buf)))
		return '?';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

static void on_sigusr1(int sig)
{
	(void)sig;
}

TEST_F(queue, flush_wait_eintr)
{
	const int cap = KTRACER_QUEUE_RING_MAX / KTRACER_QENTRY_SIZE;
	struct sigaction sa = { .sa_handler = on_sigusr1 };	/* no SA_RESTART */
	struct kt_q q[EINTR_QUEUES];
	struct flusher drain, waiter;
	pthread_t dt, wt;
	uint64_t queued = 0, applied = 0;
	struct timespec ms = { .tv_nsec = 1000000 };
	int i, j, round, interrupted = 0;
	struct ktracer_flush f;

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	for (i = 0; i < EINTR_QUEUES; i++)
		ASSERT_RET(0, kt_q_create(self->fd, KTRACER_QUEUE_RING_MAX,
					  &q[i]));
	for (round = 0; round < EINTR_ROUNDS && !interrupted; round++) {
		for (i = 0; i < EINTR_QUEUES; i++) {
			for (j = 0; j < cap; j++)
				ASSERT_RET(0, put_gauge(&q[i], self->gauge, j,
							kt_now()));
			kt_q_publish(&q[i]);
			queued += cap;
		}
		drain = (struct flusher){ .fd = self->fd };
		waiter = (struct flusher){ .fd = self->fd };
		ASSERT_EQ(0, pthread_create(&dt, NULL, flusher_thread, &drain));
		while (__atomic_load_n(&drain.state, __ATOMIC_ACQUIRE) != 1)
			sched_yield();
		/*
		 * Until the drain holds the lock (busy), or is done. A FLUSH
		 * of ours that finds the lock free drains instead: counted.
		 */
		do {
			nanosleep(&ms, NULL);
			ASSERT_RET(0, kt_flush(self->fd, 0, 0, &f));
			applied += f.applied;
		} while (!f.busy &&
			 __atomic_load_n(&drain.state, __ATOMIC_ACQUIRE) != 2);
		if (f.busy) {
			ASSERT_EQ(0, pthread_create(&wt, NULL, flusher_thread,
						    &waiter));
			while (__atomic_load_n(&waiter.state,
					       __ATOMIC_ACQUIRE) != 1 ||
			       thread_state(waiter.tid) != 'S')
				if (__atomic_load_n(&waiter.state,
						    __ATOMIC_ACQUIRE) == 2)
					break;
			/* Asleep in FLUSH: signal it, unless it returned. */
			pthread_kill(wt, SIGUSR1);
			ASSERT_EQ(0, pthread_join(wt, NULL));
		}
		ASSERT_EQ(0, pthread_join(dt, NULL));
		ASSERT_RET(0, drain.ret);
		applied += drain.f.applied;
		EXPECT_EQ(0, drain.f.refused);
		TH_LOG("round %d: drain applied %llu; waiter %s", round,
		       (unsigned long long)drain.f.applied,
		       !f.busy ? "not started (the drain ended first)" :
		       waiter.ret == -EINTR ? "EINTR" : strerror(-waiter.ret));
		if (!f.busy)
			continue;
		if (waiter.ret == -EINTR) {
			interrupted = 1;
			/* Interrupted before it drained: it took nothing. */
			EXPECT_EQ(0, waiter.f.applied);
		} else {
			ASSERT_RET(0, waiter.ret);
			applied += waiter.f.applied;
		}
	}
	EXPECT_TRUE(interrupted) TH_LOG("no FLUSH was interrupted in %d rounds",
					EINTR_ROUNDS);
	/* Nothing lost: what is left drains now, every entry applied. */
	ASSERT_RET(0, kt_flush(self->fd, KTRACER_FLUSH_WAIT, 0, &f));
	applied += f.applied;
	EXPECT_EQ(queued, applied);
	for (i = 0; i < EINTR_QUEUES; i++) {
		EXPECT_EQ(0, q[i].qr->refused);
		EXPECT_EQ(q[i].qr->head, q[i].qr->tail);
		kt_q_unmap(&q[i]);
	}
	signal(SIGUSR1, SIG_DFL);
}

TEST_HARNESS_MAIN
