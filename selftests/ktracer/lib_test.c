// SPDX-License-Identifier: GPL-2.0
/*
 * libktracer against the real module: threads queuing spans (nested, in
 * several slots), a cancel, gauges, counters and logs, read back from the
 * buffers after ktracer_close() and matched one to one with what was
 * called, each record's time the time of its call; EBUSY and ENOENT at
 * the flush; unbatched mode; the queue limits; and the disabled path,
 * which records nothing and makes no system call (ftrace's
 * raw_syscalls:sys_enter, filtered on the calling thread, is the witness).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

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

/* Keep the records this process wrote; drop PAD's and others'. */
static void keep_own(struct kt_recs *recs)
{
	size_t i, n = 0;

	for (i = 0; i < recs->n; i++)
		if (recs->v[i].hdr.type != KTRACER_REC_LOST &&
		    recs->v[i].hdr.pid == (uint32_t)getpid())
			recs->v[n++] = recs->v[i];
	recs->n = n;
}

#define COLLECT() do {						\
	KT_COLLECT(&self->rings, &self->recs);			\
	keep_own(&self->recs);					\
} while (0)
#define NREC		(self->recs.n)
#define REC(i)		(&self->recs.v[i].hdr)

static int open_tracer(struct ktracer **t, uint32_t flags, uint32_t max_queues)
{
	struct ktracer_lib_options o;

	memset(&o, 0, sizeof(o));
	o.size = sizeof(o);
	o.flags = flags;
	o.max_queues = max_queues;
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

/* A tracer's queue and one event of each kind. */
struct kit {
	struct ktracer_queue *q;
	uint32_t span, gauge, counter, log;
};

#define KIT_SLOTS	2

/*
 * Open a tracer, declare "@prefix.span" (KIT_SLOTS slots), ".gauge",
 * ".count.PID" and ".log", and open a queue.
 */
static int kit_open(struct ktracer **t, uint32_t flags, uint32_t max_queues,
		    const char *prefix, struct kit *k)
{
	char name[KTRACER_NAME_MAX];
	int err = open_tracer(t, flags, max_queues);

	if (err)
		return err;
	snprintf(name, sizeof(name), "%s.span", prefix);
	k->span = declare(*t, name, KTRACER_KIND_SPAN, KIT_SLOTS);
	snprintf(name, sizeof(name), "%s.gauge", prefix);
	k->gauge = declare(*t, name, KTRACER_KIND_GAUGE, 0);
	snprintf(name, sizeof(name), "%s.count", prefix);
	k->counter = declare_counter(*t, name);
	snprintf(name, sizeof(name), "%s.log", prefix);
	k->log = declare(*t, name, KTRACER_KIND_LOG, 0);
	if (!k->span || !k->gauge || !k->counter || !k->log)
		return -EIO;
	return ktracer_queue_open(*t, &k->q);
}

/* Threads ---------------------------------------------------------------- */

#define THREADS		4
#define ROUNDS		40
#define OPS_PER_ROUND	9

/* One op a test called, and what its record must be. */
struct want {
	uint8_t type;		/* KTRACER_REC_* */
	uint32_t event, slot;
	uint64_t arg;		/* START, STOP, GAUGE, COUNT */
	char msg[32];		/* LOG */
	uint64_t t0, t1;	/* kt_now() around the call */
	const struct want *start;	/* STOP, CANCEL: the START it ends */
	/* Its record: */
	int seen;
	uint8_t flags;
	uint64_t ts, extra;
};

struct events {
	uint32_t outer, request, cancel, gauge, counter, log, left_open;
};

struct worker {
	struct ktracer *t;
	const struct events *ev;
	unsigned int id;
	pthread_t thread;
	struct want want[ROUNDS * OPS_PER_ROUND + 1];
	unsigned int n;
	int err;		/* the first op that did not return 0 */
};

/*
 * Call @call, time it, and note what it must record; a STOP names the
 * op that STARTed its slot, @back ops before it.
 */
#define RECORD(w, rtype, ev_, slot_, arg_, back, call) do {		\
	struct want *__w = &(w)->want[(w)->n++];			\
	int __err;							\
	__w->type = (rtype);						\
	__w->event = (ev_);						\
	__w->slot = (slot_);						\
	__w->arg = (arg_);						\
	__w->start = (back) ? __w - (back) : NULL;			\
	__w->t0 = kt_now();						\
	__err = (call);							\
	__w->t1 = kt_now();						\
	if (__err && !(w)->err)						\
		(w)->err = __err;					\
} while (0)

/*
 * Per round: an outer span around two request spans in slots of their
 * own, the second open across a gauge, a count and a log line; the
 * log's buffer is reused at once. Before the rounds, a slot of the
 * cancel event, left open for the main thread's CANCEL.
 */
static void *worker_run(void *arg)
{
	struct worker *w = arg;
	const struct events *ev = w->ev;
	struct ktracer_queue *q;
	unsigned int r, id = w->id;
	uint64_t tag;
	char msg[32];
	int n;

	w->err = ktracer_queue_open(w->t, &q);
	if (w->err)
		return NULL;
	RECORD(w, KTRACER_REC_START, ev->cancel, id, id, 0,
	       ktracer_start(q, ev->cancel, id, id));
	for (r = 0; r < ROUNDS; r++) {
		tag = (uint64_t)id << 32 | r << 8;
		RECORD(w, KTRACER_REC_START, ev->outer, id, tag, 0,
		       ktracer_start(q, ev->outer, id, tag));
		RECORD(w, KTRACER_REC_START, ev->request, 2 * id, tag | 1, 0,
		       ktracer_start(q, ev->request, 2 * id, tag | 1));
		RECORD(w, KTRACER_REC_STOP, ev->request, 2 * id, tag | 2, 1,
		       ktracer_stop(q, ev->request, 2 * id, tag | 2));
		RECORD(w, KTRACER_REC_START, ev->request, 2 * id + 1, tag | 3, 0,
		       ktracer_start(q, ev->request, 2 * id + 1, tag | 3));
		RECORD(w, KTRACER_REC_GAUGE, ev->gauge, 0, tag | 4, 0,
		       ktracer_gauge(q, ev->gauge, (int64_t)(tag | 4)));
		RECORD(w, KTRACER_REC_COUNT, ev->counter, 0, id * 1000 + r + 1, 0,
		       ktracer_count(q, ev->counter, id * 1000 + r + 1));
		n = snprintf(msg, sizeof(msg), "worker %u round %u", id, r);
		memcpy(w->want[w->n].msg, msg, n + 1);
		RECORD(w, KTRACER_REC_LOG, ev->log, 0, 0, 0,
		       ktracer_log(q, ev->log, msg, n));
		memset(msg, 'x', sizeof(msg));	/* the library has its copy */
		RECORD(w, KTRACER_REC_STOP, ev->request, 2 * id + 1, tag | 5, 4,
		       ktracer_stop(q, ev->request, 2 * id + 1, tag | 5));
		RECORD(w, KTRACER_REC_STOP, ev->outer, id, tag | 6, 8,
		       ktracer_stop(q, ev->outer, id, tag | 6));
	}
	n = ktracer_queue_close(q);
	if (n && !w->err)
		w->err = n;
	return NULL;
}

/* The op @rec records, or NULL. */
static struct want *want_find(struct worker *w, unsigned int nw,
			      struct want *cancel, unsigned int ncancel,
			      const struct kt_rec *rec)
{
	const struct ktracer_record *h = &rec->hdr;
	struct want *x;
	unsigned int i, j;

	if (h->type == KTRACER_REC_CANCEL) {
		for (j = 0; j < ncancel; j++)
			if (cancel[j].event == h->event &&
			    cancel[j].slot == h->slot)
				return &cancel[j];
		return NULL;
	}
	for (i = 0; i < nw; i++) {
		for (j = 0; j < w[i].n; j++) {
			x = &w[i].want[j];
			if (x->type != h->type || x->event != h->event)
				continue;
			if (h->type == KTRACER_REC_LOG ?
			    !strcmp(x->msg, (const char *)rec->msg) :
			    x->arg == h->arg && x->slot == h->slot)
				return x;
		}
	}
	return NULL;
}

/* COUNT records in the order the kernel added them: by total after. */
static int cmp_total(const void *a, const void *b)
{
	const struct want *x = *(const struct want *const *)a;
	const struct want *y = *(const struct want *const *)b;

	return x->extra < y->extra ? -1 : x->extra > y->extra;
}

/*
 * Four threads, each with its queue, 361 ops each, flushing as their
 * queues fill while the others queue; then a CANCEL, a span left open,
 * and ktracer_close(). Every record matches exactly one call, at the
 * time of that call.
 */
TEST_F(lib, threads)
{
	struct want cancel[THREADS + 1], *counts[THREADS * ROUNDS], *x;
	unsigned int i, j, ncount = 0, nstart = 0, nstop = 0;
	struct ktracer_lib_stats st;
	struct ktracer_queue *q;
	uint64_t total = 0, queued = 0, left_open_ts = 0;
	struct worker *w;
	struct events ev;

	ASSERT_RET(0, open_tracer(&self->t, 0, 0));
	ev.outer = declare(self->t, "lib.outer", KTRACER_KIND_SPAN, THREADS);
	ev.request = declare(self->t, "lib.request", KTRACER_KIND_SPAN,
			     2 * THREADS);
	ev.cancel = declare(self->t, "lib.cancel", KTRACER_KIND_SPAN, THREADS);
	ev.gauge = declare(self->t, "lib.gauge", KTRACER_KIND_GAUGE, 0);
	ev.counter = declare_counter(self->t, "lib.count");
	ev.log = declare(self->t, "lib.log", KTRACER_KIND_LOG, 0);
	ev.left_open = declare(self->t, "lib.left_open", KTRACER_KIND_SPAN, 1);
	ASSERT_NE(0, ev.outer);
	ASSERT_NE(0, ev.request);
	ASSERT_NE(0, ev.cancel);
	ASSERT_NE(0, ev.gauge);
	ASSERT_NE(0, ev.counter);
	ASSERT_NE(0, ev.log);
	ASSERT_NE(0, ev.left_open);

	w = calloc(THREADS, sizeof(*w));
	ASSERT_NE(NULL, w);
	for (i = 0; i < THREADS; i++) {
		w[i].t = self->t;
		w[i].ev = &ev;
		w[i].id = i;
		ASSERT_EQ(0, pthread_create(&w[i].thread, NULL, worker_run, &w[i]));
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(w[i].thread, NULL);
		EXPECT_EQ(0, w[i].err) TH_LOG("thread %u: %s", i,
					      strerror(-w[i].err));
		queued += w[i].n;
	}

	/* The CANCEL closes the slot each thread left open... */
	ASSERT_RET(0, ktracer_queue_open(self->t, &q));
	memset(cancel, 0, sizeof(cancel));
	cancel[0].t0 = kt_now();
	ASSERT_RET(0, ktracer_cancel(q, ev.cancel));
	cancel[0].t1 = kt_now();
	for (i = 0; i < THREADS; i++) {
		cancel[i].t0 = cancel[0].t0;
		cancel[i].t1 = cancel[0].t1;
		cancel[i].type = KTRACER_REC_CANCEL;
		cancel[i].event = ev.cancel;
		cancel[i].slot = i;
		cancel[i].start = &w[i].want[0];
	}
	/* ...and closing the file this one. */
	ASSERT_RET(0, ktracer_start(q, ev.left_open, 0, 99));
	cancel[THREADS].type = KTRACER_REC_CANCEL;
	cancel[THREADS].event = ev.left_open;
	queued += 2;

	ASSERT_RET(0, ktracer_get_stats(self->t, &st));
	EXPECT_EQ(queued, st.queued);
	EXPECT_EQ(0, st.failed) TH_LOG("last error %s, op %u event %u slot %u",
				       strerror(-st.last_error), st.last_op,
				       st.last_event, st.last_slot);
	EXPECT_LT(0, st.batches);	/* queues filled up on the way */
	cancel[THREADS].t0 = kt_now();
	ASSERT_RET(0, ktracer_close(self->t));
	cancel[THREADS].t1 = kt_now();
	self->t = NULL;

	COLLECT();
	/* Each op one record, but the CANCEL one per thread; the close one. */
	ASSERT_EQ(queued + THREADS, NREC);
	for (i = 0; i < NREC; i++) {
		const struct kt_rec *rec = &self->recs.v[i];
		const struct ktracer_record *h = &rec->hdr;

		if (h->event == ev.left_open && h->type == KTRACER_REC_START) {
			EXPECT_EQ(99, h->arg);
			left_open_ts = h->ts;
			continue;
		}
		x = want_find(w, THREADS, cancel, THREADS + 1, rec);
		ASSERT_NE(NULL, x) TH_LOG("record %u: type %s event %u slot %u arg %#llx: no such call",
					  i, kt_rec_type_name(h->type),
					  h->event, h->slot,
					  (unsigned long long)h->arg);
		EXPECT_EQ(0, x->seen) TH_LOG("record %u: twice", i);
		x->seen++;
		x->flags = h->flags;
		x->ts = h->ts;
		x->extra = h->extra;
		nstart += h->type == KTRACER_REC_START;
		nstop += h->type == KTRACER_REC_STOP;
		if (h->type == KTRACER_REC_COUNT) {
			ASSERT_GT(THREADS * ROUNDS, ncount);
			counts[ncount++] = x;
		}
	}
	EXPECT_EQ(THREADS * (1 + 3 * ROUNDS), nstart);
	EXPECT_EQ(THREADS * 3 * ROUNDS, nstop);

	/* Each call: one record, at the call's time, ts from the library. */
	for (i = 0; i < THREADS; i++) {
		for (j = 0; j < w[i].n; j++) {
			x = &w[i].want[j];
			ASSERT_EQ(1, x->seen) TH_LOG("thread %u op %u (%s): no record",
						     i, j, kt_rec_type_name(x->type));
			EXPECT_EQ(KTRACER_RECF_USER_TS, x->flags);
			EXPECT_LE(x->t0, x->ts) TH_LOG("thread %u op %u: before its call", i, j);
			EXPECT_GE(x->t1, x->ts) TH_LOG("thread %u op %u: after its call", i, j);
			if (x->type == KTRACER_REC_STOP)
				EXPECT_EQ(x->ts - x->start->ts, x->extra)
					TH_LOG("thread %u op %u: duration", i, j);
		}
	}
	for (i = 0; i <= THREADS; i++) {
		x = &cancel[i];
		ASSERT_EQ(1, x->seen) TH_LOG("CANCEL %u: no record", i);
		EXPECT_LE(x->t0, x->ts) TH_LOG("CANCEL %u: before its call", i);
		EXPECT_GE(x->t1, x->ts) TH_LOG("CANCEL %u: after its call", i);
		if (i < THREADS) {
			EXPECT_EQ(KTRACER_RECF_USER_TS, x->flags);
			EXPECT_EQ(x->ts - x->start->ts, x->extra);
		} else {
			/* The kernel's, when the file closed: its own time. */
			EXPECT_EQ(KTRACER_RECF_CLOSE, x->flags);
			EXPECT_EQ(x->ts - left_open_ts, x->extra);
		}
	}

	/* The counter's total went up by each COUNT's amount, once. */
	ASSERT_EQ(THREADS * ROUNDS, ncount);
	qsort(counts, ncount, sizeof(counts[0]), cmp_total);
	for (i = 0; i < ncount; i++) {
		total += counts[i]->arg;
		EXPECT_EQ(total, counts[i]->extra) TH_LOG("COUNT %u", i);
	}
	free(w);
}

/* A record carries its call's time, however much later the flush. */
TEST_F(lib, ts_is_call_time)
{
	uint64_t t0, t1, t2, t3, tf;
	struct kit k;

	ASSERT_RET(0, kit_open(&self->t, 0, 0, "lib.ts", &k));
	t0 = kt_now();
	ASSERT_RET(0, ktracer_start(k.q, k.span, 0, 1));
	t1 = kt_now();
	usleep(20000);
	t2 = kt_now();
	ASSERT_RET(0, ktracer_stop(k.q, k.span, 0, 2));
	ASSERT_RET(0, ktracer_gauge(k.q, k.gauge, -5));
	t3 = kt_now();
	usleep(20000);
	tf = kt_now();
	ASSERT_RET(0, ktracer_flush(self->t));

	COLLECT();
	ASSERT_EQ(3, NREC);
	EXPECT_EQ(KTRACER_REC_START, REC(0)->type);
	EXPECT_LE(t0, REC(0)->ts);
	EXPECT_GE(t1, REC(0)->ts);
	EXPECT_EQ(KTRACER_REC_STOP, REC(1)->type);
	EXPECT_LE(t2, REC(1)->ts);
	EXPECT_GE(t3, REC(1)->ts);
	EXPECT_EQ(REC(1)->ts - REC(0)->ts, REC(1)->extra);
	EXPECT_EQ(KTRACER_REC_GAUGE, REC(2)->type);
	EXPECT_EQ(-5, (int64_t)REC(2)->arg);
	EXPECT_LE(REC(1)->ts, REC(2)->ts);
	EXPECT_GE(t3, REC(2)->ts);
	EXPECT_GT(tf, REC(2)->ts + 10000000);	/* not the flush's time */
	EXPECT_EQ(KTRACER_RECF_USER_TS, REC(0)->flags);
	EXPECT_EQ(KTRACER_RECF_USER_TS, REC(2)->flags);
}

/*
 * A double START and a STOP of a closed slot return 0 at the call; the
 * flush leaves them out, returns the first error, counts both, and
 * applies the ops around them.
 */
TEST_F(lib, ebusy_at_flush)
{
	struct ktracer_lib_stats st;
	struct kit k;

	ASSERT_RET(0, kit_open(&self->t, 0, 0, "lib.busy", &k));
	ASSERT_RET(0, ktracer_start(k.q, k.span, 0, 1));
	ASSERT_RET(0, ktracer_start(k.q, k.span, 0, 2));	/* EBUSY */
	ASSERT_RET(0, ktracer_gauge(k.q, k.gauge, 3));
	ASSERT_RET(0, ktracer_stop(k.q, k.span, 1, 4));	/* ENOENT */
	ASSERT_RET(0, ktracer_stop(k.q, k.span, 0, 5));
	ASSERT_RET(-EBUSY, ktracer_flush(self->t));

	ASSERT_RET(0, ktracer_get_stats(self->t, &st));
	EXPECT_EQ(5, st.queued);
	EXPECT_EQ(3, st.applied);
	EXPECT_EQ(2, st.failed);
	EXPECT_EQ(0, st.pending);
	EXPECT_EQ(1, st.batches);
	EXPECT_EQ(-ENOENT, st.last_error);
	EXPECT_EQ(KTRACER_OP_STOP, st.last_op);
	EXPECT_EQ(k.span, st.last_event);
	EXPECT_EQ(1, st.last_slot);
	EXPECT_NE(0, st.last_ts);

	COLLECT();
	ASSERT_EQ(3, NREC);
	EXPECT_EQ(KTRACER_REC_START, REC(0)->type);
	EXPECT_EQ(1, REC(0)->arg);
	EXPECT_EQ(KTRACER_REC_GAUGE, REC(1)->type);
	EXPECT_EQ(3, REC(1)->arg);
	EXPECT_EQ(KTRACER_REC_STOP, REC(2)->type);
	EXPECT_EQ(5, REC(2)->arg);

	/* The kernel's slots are as the flush thought: slot 0 closed. */
	ASSERT_RET(0, ktracer_start(k.q, k.span, 0, 6));
	ASSERT_RET(0, ktracer_flush(self->t));
	ASSERT_RET(0, ktracer_get_stats(self->t, &st));
	EXPECT_EQ(2, st.failed);
	EXPECT_EQ(4, st.applied);
}

/* Unbatched: one KTRACER_IOC_OP per op, the kernel's error at the call. */
TEST_F(lib, unbatched)
{
	struct ktracer_lib_stats st;
	uint64_t t0, t1;
	struct kit k;

	ASSERT_RET(0, kit_open(&self->t, KTRACER_LIB_UNBATCHED, 0,
			       "lib.unbatched", &k));
	t0 = kt_now();
	ASSERT_RET(0, ktracer_start(k.q, k.span, 0, 1));
	t1 = kt_now();
	ASSERT_RET(-EBUSY, ktracer_start(k.q, k.span, 0, 2));
	ASSERT_RET(-ENOENT, ktracer_stop(k.q, k.span, 1, 3));
	ASSERT_RET(0, ktracer_log(k.q, k.log, "unbatched", 9));
	ASSERT_RET(0, ktracer_flush(self->t));

	ASSERT_RET(0, ktracer_get_stats(self->t, &st));
	EXPECT_EQ(4, st.syscalls);
	EXPECT_EQ(0, st.batches);
	EXPECT_EQ(2, st.applied);
	EXPECT_EQ(2, st.failed);
	EXPECT_EQ(-ENOENT, st.last_error);
	EXPECT_EQ(KTRACER_OP_STOP, st.last_op);
	EXPECT_EQ(1, st.last_slot);

	COLLECT();
	ASSERT_EQ(2, NREC);
	EXPECT_EQ(KTRACER_REC_START, REC(0)->type);
	EXPECT_EQ(1, REC(0)->arg);
	EXPECT_EQ(0, REC(0)->flags);	/* the kernel's time of the call */
	EXPECT_LE(t0, REC(0)->ts);
	EXPECT_GE(t1, REC(0)->ts);
	EXPECT_EQ(KTRACER_REC_LOG, REC(1)->type);
	EXPECT_STREQ("unbatched", (const char *)self->recs.v[1].msg);
}

/*
 * max_queues 2: two queues of 2048 ops. The 2049th op flushes. An id
 * another tracer declared is not this one's.
 */
TEST_F(lib, queue_limits)
{
	struct ktracer_queue *q, *q2, *q3 = (void *)1;
	struct ktracer_lib_stats st;
	struct ktracer *other;
	unsigned char *seen;
	unsigned int i;
	uint32_t mine;
	struct kit k;

	ASSERT_RET(0, kit_open(&self->t, 0, 2, "lib.limits", &k));
	q = k.q;
	ASSERT_RET(0, ktracer_queue_open(self->t, &q2));
	ASSERT_RET(-ENOSPC, ktracer_queue_open(self->t, &q3));
	EXPECT_EQ(NULL, q3);
	for (i = 0; i < 2048; i++)
		ASSERT_RET(0, ktracer_gauge(q, k.gauge, i));
	ASSERT_RET(0, ktracer_get_stats(self->t, &st));
	EXPECT_EQ(0, st.batches);
	EXPECT_EQ(2048, st.pending);
	ASSERT_RET(0, ktracer_gauge(q, k.gauge, i));
	ASSERT_RET(0, ktracer_get_stats(self->t, &st));
	EXPECT_EQ(1, st.batches);
	EXPECT_EQ(1, st.pending);
	EXPECT_EQ(2048, st.applied);

	/* An event another tracer declared: ENOENT, as from the kernel. */
	ASSERT_RET(0, open_tracer(&other, 0, 0));
	mine = declare(other, "lib.limits.other", KTRACER_KIND_GAUGE, 0);
	ASSERT_NE(0, mine);
	ASSERT_RET(-ENOENT, ktracer_gauge(q2, mine, 0));
	ASSERT_RET(0, ktracer_close(other));
	ASSERT_RET(-EINVAL, ktracer_start(q2, k.gauge, 0, 0));
	ASSERT_RET(0, ktracer_queue_close(q2));
	ASSERT_RET(0, ktracer_queue_close(q));

	/* Each value once (two batches: maybe on two CPUs, in any order). */
	COLLECT();
	ASSERT_EQ(2049, NREC);
	seen = calloc(NREC, 1);
	ASSERT_NE(NULL, seen);
	for (i = 0; i < NREC; i++) {
		ASSERT_GT(2049, REC(i)->arg);
		EXPECT_EQ(0, seen[REC(i)->arg]++);
	}
	free(seen);
}

/* Disabled ----------------------------------------------------------- */

/* Every op, valid or not, @n times: all return 0 while tracing is off. */
static int run_disabled_ops(const struct kit *d, unsigned int n)
{
	unsigned int i;
	int err = 0;

	for (i = 0; i < n; i++) {
		err |= ktracer_start(d->q, d->span, 0, i);
		err |= ktracer_start(d->q, d->span, 0, i);
		err |= ktracer_stop(d->q, d->span, 1, i);
		err |= ktracer_cancel(d->q, d->span);
		err |= ktracer_gauge(d->q, d->gauge, i);
		err |= ktracer_count(d->q, d->counter, 1);
		err |= ktracer_log(d->q, d->log, "off", 3);
		err |= ktracer_start(d->q, 0, KIT_SLOTS, 0);
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
		ASSERT_RET(0, kit_open(&self->t, modes[m], 0, "lib.off", &d));
		ASSERT_EQ(1, ktracer_enabled(self->t));
		ASSERT_RET(0, kt_set_enable(self->fd, 0));
		EXPECT_EQ(0, ktracer_enabled(self->t));
		EXPECT_EQ(0, run_disabled_ops(&d, 1000));
		ASSERT_RET(0, ktracer_flush(self->t));
		ASSERT_RET(0, ktracer_get_stats(self->t, &st));
		EXPECT_EQ(0, st.queued);
		EXPECT_EQ(0, st.pending);
		EXPECT_EQ(0, st.syscalls);
		EXPECT_EQ(0, st.failed);

		/* On again: the ops do what they say. */
		ASSERT_RET(0, kt_set_enable(self->fd, 1));
		ASSERT_RET(0, ktracer_gauge(d.q, d.gauge, 7));
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
		err |= ktracer_gauge(d->q, d->gauge, i);
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

	ASSERT_RET(0, kit_open(&self->t, KTRACER_LIB_UNBATCHED, 0, "lib.off", &d));
	n = syscalls_of(gauges, &d, 10);
	EXPECT_LE(10, n) TH_LOG("unbatched, on: the witness saw %d calls", n);

	ASSERT_RET(0, kt_set_enable(self->fd, 0));
	n = syscalls_of(run_disabled_ops, &d, 1000);
	EXPECT_EQ(0, n) TH_LOG("unbatched, off: %d system calls", n);
	ASSERT_RET(0, ktracer_close(self->t));
	self->t = NULL;

	ASSERT_RET(0, kit_open(&self->t, 0, 0, "lib.off", &d));
	n = syscalls_of(run_disabled_ops, &d, 1000);
	EXPECT_EQ(0, n) TH_LOG("batched, off: %d system calls", n);
}

TEST_HARNESS_MAIN
