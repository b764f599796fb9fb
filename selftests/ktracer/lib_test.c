// SPDX-License-Identifier: GPL-2.0
/*
 * libktracer against the real module: threads recording regions (nested,
 * with texts), tasks handed between threads, gauges, counters and logs
 * through their own queues, read back from the buffers and matched one
 * to one with what was called: each record on the thread that called the
 * op, at the time of the call; ops the kernel refuses counted; unbatched
 * mode; a thread's regions cancelled when it exits and its queue adopted;
 * fork (the child gets ECHILD, its own tracer works); exit and abort
 * without ktracer_close(); the drain interval; and the disabled path,
 * which records nothing and makes no system call (ftrace's
 * raw_syscalls:sys_enter, filtered on the calling thread, is the witness).
 */
#define _GNU_SOURCE
#include <assert.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "kt_test.h"
#include "kt_ring.h"
#include "libktracer.h"

FIXTURE(lib) {
	int fd;			/* the test's own file: ENABLE, RESET, buffers */
	struct kt_rings rings;
	struct kt_recs recs;	/* this process's records, after COLLECT() */
	struct ktracer *t;
};

/*
 * How far a queued op's ts may be from the clock reads around its call:
 * 0 on CLOCK_MONOTONIC queues; where the kernel makes TSC queues (which
 * the library then uses, on x86-64) the conversion's error, the anchors'
 * own (tens of ns; more under emulation), against reads that may be as
 * close as that to the op's: 20 us.
 */
static uint64_t ts_slack(void)
{
	struct ktracer_queue q = {
		.size = sizeof(q), .flags = KTRACER_QUEUE_TSC,
		.ring_size = KTRACER_QUEUE_RING_MIN,
	};
	int fd, ret;

#if !defined(__x86_64__)
	return 0;
#endif
	fd = kt_open();
	if (fd < 0)
		return 0;
	ret = ioctl(fd, KTRACER_IOC_QUEUE, &q);
	close(fd);
	return ret ? 0 : 20000;
}

FIXTURE_SETUP(lib)
{
	self->t = NULL;
	memset(&self->recs, 0, sizeof(self->recs));
	self->fd = kt_open();
	ASSERT_LE(0, self->fd) TH_LOG("open: %s", strerror(-self->fd));
	ASSERT_RET(0, kt_set_enable(self->fd, 1));
	ASSERT_RET(0, kt_reset(self->fd));
	ASSERT_RET(0, kt_rings_map(self->fd, &self->rings));
}

FIXTURE_TEARDOWN(lib)
{
	ktracer_close(self->t);
	kt_recs_free(&self->recs);
	kt_rings_unmap(&self->rings);
	if (self->fd >= 0) {
		kt_set_enable(self->fd, 1);
		close(self->fd);
	}
}

static int cmp_ts(const void *a, const void *b)
{
	const struct kt_rec *x = a, *y = b;

	return x->hdr.ts < y->hdr.ts ? -1 : x->hdr.ts > y->hdr.ts;
}

/* Keep the records process @pid wrote, in ts order. */
static void keep_own(struct kt_recs *recs, pid_t pid)
{
	size_t i, n = 0;

	for (i = 0; i < recs->n; i++)
		if (recs->v[i].hdr.pid == (uint32_t)pid)
			recs->v[n++] = recs->v[i];
	recs->n = n;
	qsort(recs->v, n, sizeof(*recs->v), cmp_ts);
}

#define COLLECT_OF(pid) do {					\
	KT_COLLECT(&self->rings, &self->recs);			\
	keep_own(&self->recs, (pid));				\
} while (0)
#define COLLECT()	COLLECT_OF(getpid())
#define NREC		(self->recs.n)
#define REC(i)		(&self->recs.v[i].hdr)
#define MSG(i)		((const char *)self->recs.v[i].msg)

static int open_tracer(struct ktracer **t, uint32_t flags, uint32_t ring_size,
		       uint32_t interval_ms)
{
	struct ktracer_lib_options o;

	memset(&o, 0, sizeof(o));
	o.size = sizeof(o);
	o.flags = flags;
	o.ring_size = ring_size;
	o.interval_ms = interval_ms;
	return ktracer_open(t, &o);
}

/* An event's id, or 0 (never an id) if it cannot be declared. */
static uint32_t declare(struct ktracer *t, const char *name, uint32_t kind,
			uint32_t slots)
{
	uint32_t id = 0;

	return ktracer_declare(t, name, kind, slots, &id) ? 0 : id;
}

/* A per-process name: a counter's kernel total starts at 0. */
static uint32_t declare_counter(struct ktracer *t, const char *prefix)
{
	char name[KTRACER_NAME_MAX + 16];	/* too long: ENAMETOOLONG */

	snprintf(name, sizeof(name), "%s.%d", prefix, getpid());
	return declare(t, name, KTRACER_KIND_COUNTER, 0);
}

/* A tracer and one event of each kind. */
struct kit {
	struct ktracer *t;
	uint32_t region, task, gauge, counter, log;
};

#define KIT_SLOTS	8

/*
 * Open a tracer, declare "@prefix.region", ".task" (KIT_SLOTS slots),
 * ".gauge", ".count.PID" and ".log".
 */
static int kit_open(struct ktracer **t, uint32_t flags, const char *prefix,
		    struct kit *k)
{
	char name[KTRACER_NAME_MAX];
	int err = open_tracer(t, flags, 0, 0);

	if (err)
		return err;
	k->t = *t;
	snprintf(name, sizeof(name), "%s.region", prefix);
	k->region = declare(*t, name, KTRACER_KIND_SPAN, KIT_SLOTS);
	snprintf(name, sizeof(name), "%s.task", prefix);
	k->task = declare(*t, name, KTRACER_KIND_SPAN, KIT_SLOTS);
	snprintf(name, sizeof(name), "%s.gauge", prefix);
	k->gauge = declare(*t, name, KTRACER_KIND_GAUGE, 0);
	snprintf(name, sizeof(name), "%s.count", prefix);
	k->counter = declare_counter(*t, name);
	snprintf(name, sizeof(name), "%s.log", prefix);
	k->log = declare(*t, name, KTRACER_KIND_LOG, 0);
	if (!k->region || !k->task || !k->gauge || !k->counter || !k->log)
		return -EIO;
	return 0;
}

/* Threads ---------------------------------------------------------------- */

#define THREADS		4
#define ROUNDS		120	/* 4 x 1080 records: one CPU's buffer holds them */
#define OPS_PER_ROUND	9

/* One op a test called, and what its record must be. */
struct want {
	uint8_t type;		/* KTRACER_REC_* */
	uint8_t flags;		/* KTRACER_RECF_* besides USER_TS */
	uint32_t event, slot;
	uint64_t arg;		/* START, STOP, GAUGE, COUNT */
	char msg[40];		/* LOG; a START's text */
	uint64_t t0, t1;	/* kt_now() around the call */
	pid_t tid;		/* the calling thread */
	/* Its record: */
	int seen;
	uint64_t ts, extra;
	uint32_t rec_tid;
};

struct worker {
	const struct kit *k;
	unsigned int id;
	pthread_t thread;
	pid_t tid;
	struct want want[ROUNDS * OPS_PER_ROUND];
	unsigned int n;
	int err;		/* the first op that did not return 0 */
	/* The task this worker starts and the next one stops. */
	struct worker *next;
	unsigned int handed;	/* rounds whose task next may stop */
	unsigned int stopped;	/* rounds next stopped */
};

/* Call @call, time it, and note what it must record. */
#define RECORD(w, rtype, rflags, ev_, slot_, arg_, text, call) do {	\
	struct want *__w = &(w)->want[(w)->n++];			\
	assert((w)->n <= sizeof((w)->want) / sizeof((w)->want[0]));	\
	int __err;							\
	__w->type = (rtype);						\
	__w->flags = (rflags);						\
	__w->event = (ev_);						\
	__w->slot = (slot_);						\
	__w->arg = (arg_);						\
	__w->tid = kt_gettid();						\
	snprintf(__w->msg, sizeof(__w->msg), "%s", (text));		\
	__w->t0 = kt_now();						\
	__err = (call);							\
	__w->t1 = kt_now();						\
	if (__err && !(w)->err)						\
		(w)->err = __err;					\
} while (0)

/*
 * Per round: a region with a text around a nested region, a gauge, a
 * count and a log line (its buffer reused at once); a task started here
 * and stopped by the next worker, and the task the previous worker
 * started stopped here. Every op on the calling thread's own queue.
 */
static void *worker_run(void *arg)
{
	struct worker *w = arg, *prev = NULL;
	const struct kit *k = w->k;
	unsigned int r, id = w->id, slot;
	uint64_t tag;
	char msg[40];

	w->tid = kt_gettid();
	for (r = 0; r < ROUNDS; r++) {
		tag = (uint64_t)id << 32 | r << 8;
		snprintf(msg, sizeof(msg), "GET /w%u/r%u", id, r);
		RECORD(w, KTRACER_REC_START, KTRACER_RECF_REGION, k->region,
		       id, 0, msg, ktracer_region_begin(k->t, k->region, msg));
		RECORD(w, KTRACER_REC_START, KTRACER_RECF_REGION, k->task,
		       id, 0, "", ktracer_region_begin(k->t, k->task, NULL));
		RECORD(w, KTRACER_REC_GAUGE, 0, k->gauge, 0, tag | 1, "",
		       ktracer_gauge(k->t, k->gauge, (int64_t)(tag | 1)));
		RECORD(w, KTRACER_REC_STOP, KTRACER_RECF_REGION, k->task, id,
		       0, "", ktracer_region_end(k->t, k->task));
		RECORD(w, KTRACER_REC_COUNT, 0, k->counter, 0, id * 1000 + r + 1,
		       "", ktracer_count(k->t, k->counter, id * 1000 + r + 1));
		snprintf(msg, sizeof(msg), "worker %u round %u", id, r);
		RECORD(w, KTRACER_REC_LOG, 0, k->log, 0, 0, msg,
		       ktracer_log(k->t, k->log, msg, strlen(msg)));
		memset(msg, 'x', sizeof(msg));	/* the library has its copy */
		/* A task in slot THREADS + id, for the next worker to stop. */
		slot = THREADS + id;
		while (__atomic_load_n(&w->next->stopped, __ATOMIC_ACQUIRE) != r)
			;	/* the next worker stopped the one before */
		RECORD(w, KTRACER_REC_START, 0, k->task, slot, tag | 2, "",
		       ktracer_start(k->t, k->task, slot, tag | 2));
		__atomic_store_n(&w->handed, r + 1, __ATOMIC_RELEASE);
		RECORD(w, KTRACER_REC_STOP, KTRACER_RECF_REGION, k->region, id,
		       0, "", ktracer_region_end(k->t, k->region));
		/* The previous worker's task, this round's. */
		prev = w->id ? w - 1 : w + THREADS - 1;
		while (__atomic_load_n(&prev->handed, __ATOMIC_ACQUIRE) != r + 1)
			;
		slot = THREADS + prev->id;
		RECORD(w, KTRACER_REC_STOP, 0, k->task, slot,
		       (uint64_t)prev->id << 32 | r << 8 | 3, "",
		       ktracer_stop(k->t, k->task, slot,
				    (uint64_t)prev->id << 32 | r << 8 | 3));
		__atomic_store_n(&w->stopped, r + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

/*
 * The call @rec records, or NULL: records come in ts order, so the first
 * call not yet seen that fits. A region is the thread's: its call is the
 * next one of its thread (tid) with its event and type.
 */
static struct want *want_find(struct worker *w, unsigned int nw,
			      const struct kt_rec *rec)
{
	const struct ktracer_record *h = &rec->hdr;
	struct want *x;
	unsigned int i, j;

	for (i = 0; i < nw; i++) {
		for (j = 0; j < w[i].n; j++) {
			x = &w[i].want[j];
			if (x->seen || x->type != h->type || x->event != h->event)
				continue;
			if (x->flags & KTRACER_RECF_REGION) {
				if (x->tid != (pid_t)h->tid)
					continue;
			} else if (x->slot != h->slot ||
				   (h->type != KTRACER_REC_LOG && x->arg != h->arg)) {
				continue;
			}
			if ((h->type == KTRACER_REC_LOG || h->len) &&
			    (h->len != strlen(x->msg) ||
			     memcmp(x->msg, rec->msg, h->len)))
				continue;
			return x;
		}
	}
	return NULL;
}

/*
 * Four threads, each on its own queue, 1080 ops each; tasks handed
 * between them. Every record matches exactly one call, names the thread
 * that called it and has the time of that call.
 */
TEST_F(lib, threads)
{
	struct ktracer_lib_stats st;
	unsigned int i, j, nregion = 0, slot_of[THREADS] = { 0 };
	uint64_t total = 0, slack = ts_slack();
	struct worker *w;
	struct want *x;
	struct kit k;

	ASSERT_RET(0, kit_open(&self->t, 0, "lib.threads", &k));
	w = calloc(THREADS, sizeof(*w));
	ASSERT_NE(NULL, w);
	for (i = 0; i < THREADS; i++) {
		w[i].k = &k;
		w[i].id = i;
		w[i].next = &w[(i + 1) % THREADS];
	}
	for (i = 0; i < THREADS; i++)
		ASSERT_EQ(0, pthread_create(&w[i].thread, NULL, worker_run, &w[i]));
	for (i = 0; i < THREADS; i++) {
		pthread_join(w[i].thread, NULL);
		EXPECT_EQ(0, w[i].err) TH_LOG("thread %u: %s", i,
					      strerror(-w[i].err));
		total += w[i].n;
	}
	ASSERT_RET(0, ktracer_flush(self->t));
	ASSERT_RET(0, ktracer_get_stats(self->t, &st));
	EXPECT_EQ(total, st.applied);
	EXPECT_EQ(0, st.refused) TH_LOG("last error %s", strerror(-st.last_error));
	EXPECT_EQ(0, st.dropped);
	EXPECT_EQ(0, st.pending);
	EXPECT_EQ(0, st.threads);	/* all exited: their queues parked */

	COLLECT();
	ASSERT_EQ(total, NREC);
	for (i = 0; i < NREC; i++) {
		const struct kt_rec *rec = &self->recs.v[i];
		const struct ktracer_record *h = &rec->hdr;

		x = want_find(w, THREADS, rec);
		ASSERT_NE(NULL, x) TH_LOG("record %u: type %s event %u slot %u arg %#llx tid %u: no such call",
					  i, kt_rec_type_name(h->type),
					  h->event, h->slot,
					  (unsigned long long)h->arg, h->tid);
		x->seen++;
		x->ts = h->ts;
		x->extra = h->extra;
		x->rec_tid = h->tid;
		EXPECT_EQ(KTRACER_RECF_USER_TS | x->flags, h->flags);
		if (h->flags & KTRACER_RECF_REGION) {
			/* One slot per thread, the thread's alone. */
			for (j = 0; j < THREADS; j++) {
				if (w[j].tid == (pid_t)h->tid && !slot_of[j])
					slot_of[j] = h->slot + 1;
				if (w[j].tid == (pid_t)h->tid) {
					EXPECT_EQ(slot_of[j], h->slot + 1);
				} else if (slot_of[j]) {
					EXPECT_NE(slot_of[j], h->slot + 1);
				}
			}
			nregion++;
		}
	}
	/* Each call: one record, at the call's time, on the calling thread. */
	for (i = 0; i < THREADS; i++) {
		for (j = 0; j < w[i].n; j++) {
			x = &w[i].want[j];
			ASSERT_EQ(1, x->seen) TH_LOG("thread %u op %u (%s): no record",
						     i, j, kt_rec_type_name(x->type));
			EXPECT_EQ(x->tid, (pid_t)x->rec_tid)
				TH_LOG("thread %u op %u: on another thread", i, j);
			EXPECT_LE(x->t0, x->ts + slack)
				TH_LOG("thread %u op %u: before its call", i, j);
			EXPECT_GE(x->t1 + slack, x->ts)
				TH_LOG("thread %u op %u: after its call", i, j);
		}
	}
	EXPECT_EQ(THREADS * ROUNDS * 4, nregion);
	free(w);
}

/* A record carries its call's time, however much later the drain. */
TEST_F(lib, ts_is_call_time)
{
	uint64_t t0, t1, t2, t3, tf, slack = ts_slack();
	struct kit k;

	ASSERT_RET(0, kit_open(&self->t, 0, "lib.ts", &k));
	t0 = kt_now();
	ASSERT_RET(0, ktracer_start(k.t, k.task, 0, 1));
	t1 = kt_now();
	usleep(20000);
	t2 = kt_now();
	ASSERT_RET(0, ktracer_stop(k.t, k.task, 0, 2));
	ASSERT_RET(0, ktracer_gauge(k.t, k.gauge, -5));
	t3 = kt_now();
	usleep(20000);
	tf = kt_now();
	ASSERT_RET(0, ktracer_flush(self->t));

	COLLECT();
	ASSERT_EQ(3, NREC);
	EXPECT_EQ(KTRACER_REC_START, REC(0)->type);
	EXPECT_LE(t0, REC(0)->ts + slack);
	EXPECT_GE(t1 + slack, REC(0)->ts);
	EXPECT_EQ(KTRACER_REC_STOP, REC(1)->type);
	EXPECT_LE(t2, REC(1)->ts + slack);
	EXPECT_GE(t3 + slack, REC(1)->ts);
	EXPECT_EQ(REC(1)->ts - REC(0)->ts, REC(1)->extra);
	EXPECT_EQ(KTRACER_REC_GAUGE, REC(2)->type);
	EXPECT_EQ(-5, (int64_t)REC(2)->arg);
	EXPECT_GT(tf, REC(2)->ts + 10000000);	/* not the drain's time */
	EXPECT_EQ(KTRACER_RECF_USER_TS, REC(0)->flags);
	EXPECT_EQ((uint32_t)kt_gettid(), REC(0)->tid);
}

/*
 * A double START and a STOP of a closed slot return 0 at the call; the
 * kernel refuses them when it drains, counted, and applies the ops
 * around them. A CANCEL of one slot closes that slot only.
 */
TEST_F(lib, refused_and_cancel_slot)
{
	struct ktracer_lib_stats st;
	struct kit k;

	ASSERT_RET(0, kit_open(&self->t, 0, "lib.refused", &k));
	ASSERT_RET(0, ktracer_start(k.t, k.task, 0, 1));
	ASSERT_RET(0, ktracer_start(k.t, k.task, 0, 2));	/* EBUSY */
	ASSERT_RET(0, ktracer_start_text(k.t, k.task, 1, 3, "SELECT 1", 8));
	ASSERT_RET(0, ktracer_cancel_slot(k.t, k.task, 1));
	ASSERT_RET(0, ktracer_stop(k.t, k.task, 1, 4));	/* ENOENT */
	ASSERT_RET(0, ktracer_stop(k.t, k.task, 0, 5));
	ASSERT_RET(0, ktracer_flush(self->t));

	ASSERT_RET(0, ktracer_get_stats(self->t, &st));
	EXPECT_EQ(4, st.applied);
	EXPECT_EQ(2, st.refused);
	EXPECT_EQ(-ENOENT, st.last_error);
	EXPECT_EQ(0, st.pending);

	COLLECT();
	ASSERT_EQ(4, NREC);
	EXPECT_EQ(KTRACER_REC_START, REC(0)->type);
	EXPECT_EQ(1, REC(0)->arg);
	EXPECT_EQ(KTRACER_REC_START, REC(1)->type);
	EXPECT_EQ(8, REC(1)->len);
	EXPECT_STREQ("SELECT 1", MSG(1));
	EXPECT_EQ(KTRACER_REC_CANCEL, REC(2)->type);
	EXPECT_EQ(1, REC(2)->slot);
	EXPECT_EQ(KTRACER_REC_STOP, REC(3)->type);
	EXPECT_EQ(5, REC(3)->arg);
}

/* Unbatched: one KTRACER_IOC_OP per op, the kernel's error at the call. */
TEST_F(lib, unbatched)
{
	struct ktracer_lib_stats st;
	uint64_t t0, t1;
	struct kit k;

	ASSERT_RET(0, kit_open(&self->t, KTRACER_LIB_UNBATCHED, "lib.unbatched",
			       &k));
	t0 = kt_now();
	ASSERT_RET(0, ktracer_start(k.t, k.task, 0, 1));
	t1 = kt_now();
	ASSERT_RET(-EBUSY, ktracer_start(k.t, k.task, 0, 2));
	ASSERT_RET(-ENOENT, ktracer_stop(k.t, k.task, 1, 3));
	ASSERT_RET(0, ktracer_log(k.t, k.log, "unbatched", 9));
	ASSERT_RET(0, ktracer_region_begin(k.t, k.region, "r"));
	ASSERT_RET(0, ktracer_region_end(k.t, k.region));
	ASSERT_RET(0, ktracer_flush(self->t));

	ASSERT_RET(0, ktracer_get_stats(self->t, &st));
	EXPECT_EQ(6, st.syscalls);
	EXPECT_EQ(4, st.applied);
	EXPECT_EQ(2, st.refused);
	EXPECT_EQ(-ENOENT, st.last_error);

	COLLECT();
	ASSERT_EQ(4, NREC);
	EXPECT_EQ(KTRACER_REC_START, REC(0)->type);
	EXPECT_EQ(0, REC(0)->flags);	/* the kernel's time of the call */
	EXPECT_LE(t0, REC(0)->ts);
	EXPECT_GE(t1, REC(0)->ts);
	EXPECT_EQ(KTRACER_REC_LOG, REC(1)->type);
	EXPECT_STREQ("unbatched", MSG(1));
	EXPECT_EQ(KTRACER_RECF_REGION, REC(2)->flags);
	EXPECT_STREQ("r", MSG(2));
	EXPECT_EQ(KTRACER_RECF_REGION, REC(3)->flags);
	EXPECT_EQ((uint32_t)kt_gettid(), REC(3)->tid);
}

struct exiter {
	const struct kit *k;
	pid_t tid;
	int err;
};

/* Opens two regions, records a gauge, and exits with them open. */
static void *exiter_run(void *arg)
{
	struct exiter *x = arg;

	x->tid = kt_gettid();
	x->err = ktracer_region_begin(x->k->t, x->k->region, NULL);
	x->err |= ktracer_region_begin(x->k->t, x->k->task, NULL);
	x->err |= ktracer_gauge(x->k->t, x->k->gauge, x->tid);
	return NULL;
}

/*
 * A thread that exits with regions open has them cancelled, on its own
 * thread; the next thread adopts its queue (and region slot), and its
 * records name it.
 */
TEST_F(lib, thread_exit_adopt)
{
	struct exiter a = { 0 }, b = { 0 };
	pthread_t th;
	unsigned int i;
	struct kit k;

	ASSERT_RET(0, kit_open(&self->t, 0, "lib.exit", &k));
	a.k = b.k = &k;
	ASSERT_EQ(0, pthread_create(&th, NULL, exiter_run, &a));
	pthread_join(th, NULL);
	ASSERT_EQ(0, pthread_create(&th, NULL, exiter_run, &b));
	pthread_join(th, NULL);
	ASSERT_RET(0, a.err);
	ASSERT_RET(0, b.err);
	ASSERT_RET(0, ktracer_close(self->t));
	self->t = NULL;

	COLLECT();
	ASSERT_EQ(10, NREC);
	for (i = 0; i < 10; i++) {
		EXPECT_EQ((uint32_t)(i < 5 ? a.tid : b.tid), REC(i)->tid)
			TH_LOG("record %u", i);
		EXPECT_EQ(0, REC(i)->slot) TH_LOG("record %u: the thread's index", i);
	}
	EXPECT_EQ(KTRACER_REC_CANCEL, REC(3)->type);
	EXPECT_EQ(k.task, REC(3)->event);
	EXPECT_EQ(KTRACER_RECF_USER_TS | KTRACER_RECF_REGION, REC(3)->flags);
	EXPECT_EQ(KTRACER_REC_CANCEL, REC(4)->type);
	EXPECT_EQ(k.region, REC(4)->event);
	EXPECT_EQ(KTRACER_REC_CANCEL, REC(9)->type);
}

/* fork ------------------------------------------------------------------ */

/* The child: ECHILD on the parent's tracer, then a tracer of its own. */
static int child_run(struct kit *k)
{
	struct ktracer_lib_stats st;
	struct ktracer *t;
	uint32_t g;
	int bad = 0;

	bad |= ktracer_gauge(k->t, k->gauge, 2) != -ECHILD;
	bad |= ktracer_region_begin(k->t, k->region, NULL) != -ECHILD;
	bad |= ktracer_region_end(k->t, k->region) != -ECHILD;
	bad |= ktracer_flush(k->t) != -ECHILD;
	bad |= ktracer_get_stats(k->t, &st) != -ECHILD;
	bad |= ktracer_close(k->t) != 0;
	if (bad)
		return 1;
	if (open_tracer(&t, 0, 0, 0))
		return 2;
	g = declare(t, "lib.fork.child", KTRACER_KIND_GAUGE, 0);
	bad |= !g || ktracer_gauge(t, g, 3) != 0;
	bad |= ktracer_close(t) != 0;
	return bad ? 3 : 0;
}

/*
 * After fork() the child cannot write into the parent's queues: every
 * op on the parent's tracer returns ECHILD; a tracer of its own records
 * under its pid; the parent's queue goes on, its records unaffected.
 */
TEST_F(lib, fork)
{
	unsigned int i, child = 0;
	int status;
	pid_t pid;
	struct kit k;

	ASSERT_RET(0, kit_open(&self->t, 0, "lib.fork", &k));
	ASSERT_RET(0, ktracer_region_begin(k.t, k.region, NULL));
	ASSERT_RET(0, ktracer_gauge(k.t, k.gauge, 1));
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(child_run(&k));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child: status %#x", status);
	ASSERT_RET(0, ktracer_region_end(k.t, k.region));
	ASSERT_RET(0, ktracer_close(self->t));
	self->t = NULL;

	KT_COLLECT(&self->rings, &self->recs);
	for (i = 0; i < NREC; i++)
		if (REC(i)->pid == (uint32_t)pid) {
			child++;
			EXPECT_EQ(3, REC(i)->arg);
		}
	EXPECT_EQ(1, child);	/* the child's own tracer's gauge */
	keep_own(&self->recs, getpid());
	ASSERT_EQ(3, NREC);
	EXPECT_EQ(KTRACER_REC_GAUGE, REC(1)->type);
	EXPECT_EQ(1, REC(1)->arg);
	EXPECT_EQ(KTRACER_REC_STOP, REC(2)->type);
	EXPECT_EQ(REC(0)->slot, REC(2)->slot);
}

/* Exit, crash ---------------------------------------------------------- */

/* A child records, then leaves as @how says, without ktracer_close(). */
static void leave(const char *how)
{
	struct ktracer *t;
	uint32_t g;

	if (open_tracer(&t, 0, 0, KTRACER_QUEUE_INTERVAL_MAX))
		_exit(10);
	g = declare(t, "lib.leave", KTRACER_KIND_GAUGE, 0);
	if (!g || ktracer_gauge(t, g, 41) || ktracer_gauge(t, g, 42))
		_exit(11);
	if (!strcmp(how, "exit"))
		exit(0);
	if (!strcmp(how, "abort"))
		abort();
	raise(SIGKILL);
	_exit(12);
}

/*
 * What a program queued is in the buffers after it exits without
 * ktracer_close(), aborts, or is killed, with the interval drain far
 * away (60 s): the kernel drains as it releases the file.
 */
TEST_F(lib, exit_abort_kill)
{
	static const char *const hows[] = { "exit", "abort", "kill" };
	unsigned int i;
	int status;
	pid_t pid;

	for (i = 0; i < 3; i++) {
		fflush(NULL);
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0)
			leave(hows[i]);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_TRUE(i ? WIFSIGNALED(status) : WIFEXITED(status))
			TH_LOG("%s: status %#x", hows[i], status);
		COLLECT_OF(pid);
		ASSERT_EQ(2, NREC) TH_LOG("%s", hows[i]);
		EXPECT_EQ(41, REC(0)->arg);
		EXPECT_EQ(42, REC(1)->arg);
		EXPECT_EQ((uint32_t)pid, REC(1)->tid);
		EXPECT_EQ(KTRACER_RECF_USER_TS, REC(1)->flags);
	}
}

/*
 * The ops of a thread that goes idle reach the buffers within the drain
 * interval, with no call: polled for up to 2 s, 20 ms asked for.
 */
TEST_F(lib, interval)
{
	uint64_t t0, t1 = 0;
	uint32_t g;
	int i;

	ASSERT_RET(0, open_tracer(&self->t, 0, 0, 20));
	g = declare(self->t, "lib.interval", KTRACER_KIND_GAUGE, 0);
	ASSERT_NE(0, g);
	t0 = kt_now();
	ASSERT_RET(0, ktracer_gauge(self->t, g, 5));
	for (i = 0; i < 2000; i++) {
		COLLECT();
		if (NREC) {
			t1 = kt_now();
			break;
		}
		usleep(1000);
	}
	ASSERT_EQ(1, NREC);
	EXPECT_EQ(5, REC(0)->arg);
	TH_LOG("drained after %llu ms", (unsigned long long)(t1 - t0) / 1000000);
	EXPECT_GT(t0 + 1000000000ULL, t1);
}

/* Disabled ----------------------------------------------------------- */

/* Every op, valid or not, @n times: all return 0 while tracing is off. */
static int run_disabled_ops(const struct kit *d, unsigned int n)
{
	unsigned int i;
	int err = 0;

	for (i = 0; i < n; i++) {
		err |= ktracer_start(d->t, d->task, 0, i);
		err |= ktracer_start_text(d->t, d->task, 0, i, "x", 1);
		err |= ktracer_stop(d->t, d->task, 1, i);
		err |= ktracer_cancel(d->t, d->task);
		err |= ktracer_cancel_slot(d->t, d->task, 1);
		err |= ktracer_gauge(d->t, d->gauge, i);
		err |= ktracer_count(d->t, d->counter, 1);
		err |= ktracer_log(d->t, d->log, "off", 3);
		err |= ktracer_start(d->t, 0, KIT_SLOTS, 0);
		err |= ktracer_region_begin(d->t, d->region, "off");
		err |= ktracer_region_end(d->t, d->region);
	}
	return err;
}

/*
 * Tracing off, batched and unbatched: the ops return 0, queue nothing,
 * make no call (the library's count), and nothing reaches the buffers.
 */
TEST_F(lib, disabled)
{
	static const uint32_t modes[] = { 0, KTRACER_LIB_UNBATCHED };
	struct ktracer_lib_stats st;
	struct kit d;
	uint64_t written = 0;
	unsigned int m;
	int cpu;

	for (m = 0; m < 2; m++) {
		ASSERT_RET(0, kit_open(&self->t, modes[m], "lib.off", &d));
		ASSERT_EQ(1, ktracer_enabled(self->t));
		ASSERT_RET(0, kt_set_enable(self->fd, 0));
		EXPECT_EQ(0, ktracer_enabled(self->t));
		EXPECT_EQ(0, run_disabled_ops(&d, 1000));
		ASSERT_RET(0, ktracer_flush(self->t));
		ASSERT_RET(0, ktracer_get_stats(self->t, &st));
		EXPECT_EQ(0, st.applied);
		EXPECT_EQ(0, st.pending);
		EXPECT_EQ(0, st.syscalls);
		EXPECT_EQ(0, st.refused);

		/* On again: the ops do what they say. */
		ASSERT_RET(0, kt_set_enable(self->fd, 1));
		ASSERT_RET(0, ktracer_gauge(d.t, d.gauge, 7));
		ASSERT_RET(0, ktracer_close(self->t));
		self->t = NULL;
		COLLECT();
		ASSERT_EQ(1, NREC) TH_LOG("mode %u", m);
		EXPECT_EQ(KTRACER_REC_GAUGE, REC(0)->type);
		EXPECT_EQ(7, REC(0)->arg);
	}
	for (cpu = 0; cpu < self->rings.nr; cpu++)
		written += self->rings.ring[cpu].meta->written;
	EXPECT_EQ(2, written);
}

/*
 * ftrace's raw_syscalls:sys_enter, filtered on the calling thread: the
 * system calls it makes between two marker calls.
 */
#define MARK_BEGIN	SYS_getppid
#define MARK_END	SYS_getuid

static char tracefs[64];

static int tracefs_write(const char *file, const char *text)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", tracefs, file);
	return kt_write_text(path, text);
}

/* Opening "trace" with O_TRUNC empties the buffers. */
static int tracefs_clear(void)
{
	char path[160];
	int fd;

	snprintf(path, sizeof(path), "%s/trace", tracefs);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static int syscalls_watch(bool on)
{
	char filter[64];
	int err;

	if (!on) {
		err = tracefs_write("events/raw_syscalls/sys_enter/enable", "0");
		tracefs_write("events/raw_syscalls/sys_enter/filter", "0");
		return err;
	}
	snprintf(filter, sizeof(filter), "common_pid == %d", kt_gettid());
	err = tracefs_write("events/raw_syscalls/sys_enter/filter", filter);
	if (!err)
		err = tracefs_clear();
	if (!err)
		err = tracefs_write("events/raw_syscalls/sys_enter/enable", "1");
	return err;
}

/* sys_enter lines between the markers; -EBADMSG without both. */
static int syscalls_counted(void)
{
	char path[160], mark[32], *buf, *begin, *end, *p;
	int n = 0;

	snprintf(path, sizeof(path), "%s/trace", tracefs);
	buf = kt_read_file(path, NULL);
	if (!buf)
		return -errno;
	snprintf(mark, sizeof(mark), "sys_enter: NR %d ", MARK_BEGIN);
	begin = strstr(buf, mark);
	snprintf(mark, sizeof(mark), "sys_enter: NR %d ", MARK_END);
	end = begin ? strstr(begin, mark) : NULL;
	if (!end) {
		free(buf);
		return -EBADMSG;
	}
	/* Past the begin marker's own line, up to the end marker's. */
	for (p = strchr(begin, '\n'); p; p = strchr(p, '\n')) {
		p = strstr(p, "sys_enter:");
		if (!p || p >= end)
			break;
		n++;
	}
	free(buf);
	return n;
}

/* System calls @fn makes, per the witness; 0 or -errno from @fn. */
static int syscalls_of(int (*fn)(const struct kit *d, unsigned int n),
		       const struct kit *d, unsigned int n)
{
	int err = syscalls_watch(true), ret;

	if (err)
		return err;
	syscall(MARK_BEGIN);
	ret = fn(d, n);
	syscall(MARK_END);
	err = syscalls_watch(false);
	if (err || ret)
		return err ? err : -EIO;
	return syscalls_counted();
}

static int gauges(const struct kit *d, unsigned int n)
{
	unsigned int i;
	int err = 0;

	for (i = 0; i < n; i++)
		err |= ktracer_gauge(d->t, d->gauge, i);
	return err;
}

/*
 * The disabled path makes no system call at all (nor a clock read that
 * would fall back to one), batched or not. The witness is first shown
 * the calls unbatched ops make while tracing is on.
 */
TEST_F(lib, disabled_no_syscall)
{
	static const char *const dirs[] = { "/sys/kernel/tracing",
					    "/sys/kernel/debug/tracing" };
	struct kit d;
	char path[160];
	unsigned int i;
	int n;

	for (i = 0; i < 2 && !tracefs[0]; i++) {
		snprintf(path, sizeof(path), "%s/events/raw_syscalls/sys_enter",
			 dirs[i]);
		if (!access(path, F_OK))
			snprintf(tracefs, sizeof(tracefs), "%s", dirs[i]);
	}
	if (!tracefs[0])
		SKIP(return, "no raw_syscalls:sys_enter in tracefs");

	ASSERT_RET(0, kit_open(&self->t, KTRACER_LIB_UNBATCHED, "lib.off", &d));
	n = syscalls_of(gauges, &d, 10);
	EXPECT_LE(10, n) TH_LOG("unbatched, on: the witness saw %d calls", n);

	ASSERT_RET(0, kt_set_enable(self->fd, 0));
	n = syscalls_of(run_disabled_ops, &d, 1000);
	EXPECT_EQ(0, n) TH_LOG("unbatched, off: %d system calls", n);
	ASSERT_RET(0, ktracer_close(self->t));
	self->t = NULL;

	ASSERT_RET(0, kit_open(&self->t, 0, "lib.off", &d));
	n = syscalls_of(run_disabled_ops, &d, 1000);
	EXPECT_EQ(0, n) TH_LOG("batched, off: %d system calls", n);
}

TEST_HARNESS_MAIN
