// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libktracer's host unit tests: no kernel module needed. A stand-in for
 * /dev/ktracer (fake.c) implements the queues in memory and drains them
 * with the ABI's checks; the tests drive the library's real code against
 * it, from one thread and from many, with a drain running concurrently,
 * and across fork(). Built with ASan+UBSan and with TSan by
 * `make -C user/lib test`. Prints TAP.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sched.h>
#include <unistd.h>
#include <sys/wait.h>

#include "internal.h"
#include "fake.h"

/* Harness ---------------------------------------------------------------- */

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static int failed_checks;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		failed_checks++;					\
		fprintf(stderr, "# %s:%d: %s: ", __FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
	}								\
} while (0)

/* @call, returning 0 or -errno, returned exactly @want. */
#define CHECK_RET(want, call) do {					\
	int __ret = (call);						\
	CHECK(__ret == (want), "%s: want %d (%s), got %d (%s)", #call,	\
	      (want), strerror(-(want)), __ret, strerror(-__ret));	\
} while (0)

#define CHECK_EQ(want, got) do {					\
	unsigned long long __w = (want), __g = (got);			\
	CHECK(__w == __g, "want %llu, got %llu", __w, __g);		\
} while (0)

/* Abort the test (not the program) when the rest cannot run. */
#define REQUIRE(cond, ...) do {						\
	bool __ok = (cond);						\
	CHECK(__ok, __VA_ARGS__);					\
	if (!__ok)							\
		return;							\
} while (0)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * KTL_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/*
 * QUEUE calls a tracer's first queue takes on the stand-in as it starts
 * (a kernel of ABI minor 1): on x86-64 the library asks for a TSC queue
 * first, is refused (EINVAL), and asks for a CLOCK_MONOTONIC one.
 */
#if defined(__x86_64__)
#define FIRST_QUEUE_CALLS	2
#else
#define FIRST_QUEUE_CALLS	1
#endif

/* A tracer on the stand-in ----------------------------------------------- */

struct rig {
	struct fake f;
	struct ktracer_state state;
	struct ktracer *t;
	uint32_t span, task, gauge, counter, log;
};

#define RIG_SLOTS	8

static int rig_open_opts(struct rig *r, const struct ktracer_lib_options *o)
{
	int err;

	fake_init(&r->f);
	err = ktl_tracer_new(o, &r->t);
	if (err)
		return err;
	fake_attach(&r->f, r->t, &r->state);
	err = ktracer_declare(r->t, "span", KTRACER_KIND_SPAN, RIG_SLOTS,
			      &r->span);
	if (!err)
		err = ktracer_declare(r->t, "task", KTRACER_KIND_SPAN, RIG_SLOTS,
				      &r->task);
	if (!err)
		err = ktracer_declare(r->t, "gauge", KTRACER_KIND_GAUGE, 0,
				      &r->gauge);
	if (!err)
		err = ktracer_declare(r->t, "counter", KTRACER_KIND_COUNTER, 0,
				      &r->counter);
	if (!err)
		err = ktracer_declare(r->t, "log", KTRACER_KIND_LOG, 0, &r->log);
	return err;
}

static int rig_open(struct rig *r, uint32_t flags, uint32_t ring_size)
{
	struct ktracer_lib_options o;

	memset(&o, 0, sizeof(o));
	o.size = sizeof(o);
	o.flags = flags;
	o.ring_size = ring_size;
	return rig_open_opts(r, &o);
}

/*
 * rig_open(), with @tsc: the stand-in makes TSC queues (x86-64), whose
 * ops take the fast paths that make no call (queue.h's ktl_fast()).
 */
static int rig_open_clock(struct rig *r, uint32_t flags, uint32_t ring_size,
			  bool tsc)
{
	int err = rig_open(r, flags, ring_size);

	if (!err && tsc)
		r->f.tsc_error = 0;
	return err;
}

static void rig_close(struct rig *r)
{
	if (r->t)
		CHECK_RET(0, ktracer_close(r->t));
	r->t = NULL;
	fake_fini(&r->f);
}

static struct ktracer_lib_stats rig_stats(struct rig *r)
{
	struct ktracer_lib_stats st;

	memset(&st, 0xa5, sizeof(st));
	CHECK_RET(0, ktracer_get_stats(r->t, &st));
	return st;
}

/* The calling thread's entry and queue. */
static struct ktl_thread *rig_me(struct rig *r)
{
	return pthread_getspecific(r->t->key);
}

/* Run @fn(@arg) on a thread of its own, and wait for it. */
static void on_thread(void *(*fn)(void *), void *arg)
{
	pthread_t th;

	if (pthread_create(&th, NULL, fn, arg)) {
		CHECK(0, "pthread_create");
		return;
	}
	pthread_join(th, NULL);
}

/* Tests ------------------------------------------------------------------ */

static void test_options(void)
{
	struct ktracer_lib_options o;
	struct {
		struct ktracer_lib_options o;
		uint64_t more;
	} big;
	struct rig r;

	memset(&o, 0, sizeof(o));
	o.size = sizeof(o);
	REQUIRE(rig_open_opts(&r, &o) == 0, "defaults");
	CHECK_EQ(KTRACER_LIB_RING_DEFAULT, r.t->ring_size);
	CHECK_EQ(0, r.t->interval_ms);
	CHECK(!strcmp(r.t->device, KTRACER_DEVICE), "device %s", r.t->device);
	rig_close(&r);
	REQUIRE(rig_open_opts(&r, NULL) == 0, "NULL options");
	CHECK_EQ(KTRACER_LIB_RING_DEFAULT, r.t->ring_size);
	rig_close(&r);

	o.size = KTRACER_LIB_OPTIONS_SIZE_VER0 - 1;
	CHECK_RET(-EINVAL, ktl_tracer_new(&o, &r.t));
	CHECK(r.t == NULL, "no tracer on error");
	o.size = KTL_OPTIONS_SIZE_MAX + 1;
	CHECK_RET(-EINVAL, ktl_tracer_new(&o, &r.t));
	o.size = sizeof(o);
	o.flags = 0x2;
	CHECK_RET(-EINVAL, ktl_tracer_new(&o, &r.t));
	o.flags = 0;
	o.ring_size = KTRACER_QUEUE_RING_MIN / 2;
	CHECK_RET(-EINVAL, ktl_tracer_new(&o, &r.t));
	o.ring_size = KTRACER_QUEUE_RING_MAX * 2;
	CHECK_RET(-EINVAL, ktl_tracer_new(&o, &r.t));
	o.ring_size = KTRACER_QUEUE_RING_MIN + 32;
	CHECK_RET(-EINVAL, ktl_tracer_new(&o, &r.t));
	o.ring_size = 0;
	o.interval_ms = KTRACER_QUEUE_INTERVAL_MAX + 1;
	CHECK_RET(-EINVAL, ktl_tracer_new(&o, &r.t));

	/* A newer caller's struct: fine while its extra bytes are 0. */
	memset(&big, 0, sizeof(big));
	big.o.size = sizeof(big);
	big.o.ring_size = KTRACER_QUEUE_RING_MIN;
	big.o.interval_ms = 5;
	REQUIRE(ktl_tracer_new(&big.o, &r.t) == 0, "bigger struct");
	CHECK_EQ(KTRACER_QUEUE_RING_MIN, r.t->ring_size);
	CHECK_EQ(5, r.t->interval_ms);
	ktl_tracer_free(r.t);
	big.more = 1;
	CHECK_RET(-E2BIG, ktl_tracer_new(&big.o, &r.t));
}

static void test_open(void)
{
	struct ktracer_lib_options o;
	struct ktracer_lib_stats st;
	struct ktracer *t = (void *)1;
	uint32_t id = 7;

	/* NULL: the ops do nothing, the rest is EINVAL. */
	CHECK_RET(0, ktracer_start(NULL, 1, 0, 0));
	CHECK_RET(0, ktracer_start_text(NULL, 1, 0, 0, "x", 1));
	CHECK_RET(0, ktracer_stop(NULL, 1, 0, 0));
	CHECK_RET(0, ktracer_cancel(NULL, 1));
	CHECK_RET(0, ktracer_cancel_slot(NULL, 1, 0));
	CHECK_RET(0, ktracer_gauge(NULL, 1, 0));
	CHECK_RET(0, ktracer_count(NULL, 1, 0));
	CHECK_RET(0, ktracer_log(NULL, 1, "x", 1));
	CHECK_RET(0, ktracer_region_begin(NULL, 1, NULL));
	CHECK_RET(0, ktracer_region_end(NULL, 1));
	CHECK_RET(0, ktracer_close(NULL));
	CHECK_RET(0, ktracer_enabled(NULL));
	CHECK_RET(-EINVAL, ktracer_flush(NULL));
	CHECK_RET(-EINVAL, ktracer_get_stats(NULL, &st));
	CHECK_RET(-EINVAL, ktracer_declare(NULL, "x", KTRACER_KIND_LOG, 0, &id));
	CHECK_EQ(0, id);
	CHECK_RET(-EINVAL, ktracer_open(NULL, NULL));

	/* No such device; a device that is not ktracer. */
	memset(&o, 0, sizeof(o));
	o.size = sizeof(o);
	o.device = "/nonexistent/ktracer";
	CHECK_RET(-ENOENT, ktracer_open(&t, &o));
	CHECK(t == NULL, "no tracer");
	o.device = "/dev/null";
	CHECK_RET(-ENOTTY, ktracer_open(&t, &o));
	CHECK(t == NULL, "no tracer");
}

static void test_declare(void)
{
	struct rig r;
	uint32_t id = 99, id2;
	char name[KTRACER_NAME_MAX + 1];

	REQUIRE(rig_open(&r, 0, 0) == 0, "rig");
	CHECK(r.span && r.task && r.gauge && r.counter && r.log, "ids");
	CHECK_RET(0, ktracer_declare(r.t, "gauge", KTRACER_KIND_GAUGE, 0, &id));
	CHECK_EQ(r.gauge, id);
	CHECK_RET(-EEXIST, ktracer_declare(r.t, "gauge", KTRACER_KIND_LOG, 0, &id));
	CHECK_EQ(0, id);
	CHECK_RET(-EINVAL, ktracer_declare(r.t, "", KTRACER_KIND_LOG, 0, &id));
	CHECK_RET(-EINVAL, ktracer_declare(r.t, "x", 9, 0, &id));
	CHECK_RET(-EINVAL, ktracer_declare(r.t, NULL, KTRACER_KIND_LOG, 0, &id));
	CHECK_RET(-EINVAL, ktracer_declare(r.t, "x", KTRACER_KIND_LOG, 0, NULL));
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	CHECK_RET(-ENAMETOOLONG, ktracer_declare(r.t, name, KTRACER_KIND_LOG, 0, &id));

	/* Slots 0: the default; another count resizes (the file's own). */
	CHECK_RET(0, ktracer_declare(r.t, "dflt", KTRACER_KIND_SPAN, 0, &id));
	CHECK_EQ(KTRACER_LIB_SLOTS_DEFAULT, r.f.ev[id].slots);
	CHECK_RET(0, ktracer_start(r.t, id, KTRACER_LIB_SLOTS_DEFAULT - 1, 0));
	CHECK_RET(-ERANGE, ktracer_start(r.t, id, KTRACER_LIB_SLOTS_DEFAULT, 0));
	CHECK_RET(0, ktracer_declare(r.t, "span", KTRACER_KIND_SPAN, 2, &id2));
	CHECK_EQ(r.span, id2);
	CHECK_RET(-ERANGE, ktracer_start(r.t, r.span, 2, 0));
	CHECK_RET(0, ktracer_start(r.t, r.span, 1, 0));
	rig_close(&r);
}

/* Every op with a bad argument: its error, and nothing queued. */
static void test_arguments(void)
{
	struct rig r;

	REQUIRE(rig_open(&r, 0, 0) == 0, "rig");
	CHECK_RET(-ENOENT, ktracer_start(r.t, 0, 0, 0));
	CHECK_RET(-ENOENT, ktracer_start(r.t, KTRACER_EVENT_ID_MAX + 1, 0, 0));
	CHECK_RET(-ENOENT, ktracer_gauge(r.t, 40, 0));	/* not declared */
	CHECK_RET(-EINVAL, ktracer_start(r.t, r.gauge, 0, 0));
	CHECK_RET(-EINVAL, ktracer_gauge(r.t, r.span, 0));
	CHECK_RET(-EINVAL, ktracer_count(r.t, r.log, 0));
	CHECK_RET(-EINVAL, ktracer_log(r.t, r.counter, "x", 1));
	CHECK_RET(-EINVAL, ktracer_cancel(r.t, r.log));
	CHECK_RET(-ERANGE, ktracer_start(r.t, r.span, RIG_SLOTS, 0));
	CHECK_RET(-ERANGE, ktracer_stop(r.t, r.span, RIG_SLOTS, 0));
	CHECK_RET(-ERANGE, ktracer_cancel_slot(r.t, r.span, RIG_SLOTS));
	CHECK_RET(-ERANGE, ktracer_start_text(r.t, r.span, RIG_SLOTS, 0, "x", 1));
	CHECK_RET(-EMSGSIZE, ktracer_log(r.t, r.log, "x", 0));
	CHECK_RET(-EMSGSIZE, ktracer_log(r.t, r.log, "x", KTRACER_LOG_MAX + 1));
	CHECK_RET(-EFAULT, ktracer_log(r.t, r.log, NULL, 1));
	CHECK_RET(-EFAULT, ktracer_start_text(r.t, r.span, 0, 0, NULL, 1));
	CHECK_RET(-EINVAL, ktracer_region_begin(r.t, r.gauge, NULL));
	CHECK_RET(-ENOENT, ktracer_region_begin(r.t, 40, NULL));
	/* Nothing queued, no queue even: checked before the thread's entry. */
	CHECK_EQ(0, r.f.creates);
	CHECK_EQ(0, rig_stats(&r).pending);
	rig_close(&r);
}

/* One region each, LIFO, while tracing is off: all return 0, quietly. */
static int run_ops(struct rig *r, unsigned int n)
{
	unsigned int i;
	int err = 0;

	for (i = 0; i < n; i++) {
		err |= ktracer_start(r->t, r->task, 0, i);
		err |= ktracer_start_text(r->t, r->task, 0, i, "t", 1);
		err |= ktracer_stop(r->t, r->task, 1, i);
		err |= ktracer_cancel(r->t, r->task);
		err |= ktracer_cancel_slot(r->t, r->task, 3);
		err |= ktracer_gauge(r->t, r->gauge, i);
		err |= ktracer_count(r->t, r->counter, 1);
		err |= ktracer_log(r->t, r->log, "off", 3);
		err |= ktracer_start(r->t, 0, RIG_SLOTS, 0);	/* not checked */
	}
	return err;
}

static void test_disabled(void)
{
	struct rig r;

	REQUIRE(rig_open(&r, 0, 0) == 0, "rig");
	r.state.enabled = 0;
	CHECK_EQ(0, ktracer_enabled(r.t));
	CHECK_RET(0, run_ops(&r, 100));
	CHECK_EQ(0, rig_me(&r) != NULL);	/* not even an entry */
	/* Regions keep their nesting, quietly, without a system call. */
	CHECK_RET(0, ktracer_region_begin(r.t, r.span, "a"));
	CHECK_RET(0, ktracer_region_begin(r.t, r.task, NULL));
	CHECK_RET(-EINVAL, ktracer_region_end(r.t, r.span));
	CHECK_RET(0, ktracer_region_end(r.t, r.task));
	r.state.enabled = 1;
	CHECK_RET(0, ktracer_region_begin(r.t, r.task, NULL));	/* recorded */
	r.state.enabled = 0;
	CHECK_RET(0, ktracer_region_end(r.t, r.task));	/* its STOP too */
	CHECK_RET(0, ktracer_region_end(r.t, r.span));	/* begun off: none */
	CHECK_RET(-ENOENT, ktracer_region_end(r.t, r.span));
	CHECK_EQ(1, r.f.creates);
	CHECK_EQ(FIRST_QUEUE_CALLS, r.f.ioctls - r.f.registers);	/* QUEUE only */
	fake_drain(&r.f);
	CHECK_EQ(2, r.f.nlog);
	CHECK_EQ(KTRACER_OP_START, r.f.log[0].op);
	CHECK_EQ(KTRACER_OP_STOP, r.f.log[1].op);
	CHECK_EQ(KTRACER_OPF_REGION, r.f.log[1].flags);
	r.state.enabled = 1;
	CHECK_EQ(1, ktracer_enabled(r.t));
	rig_close(&r);
}

/*
 * One op, one 32-byte entry: its members, the time of its call, the
 * head published; the drain applies it on the calling thread.
 */
static void test_entry(void)
{
	struct ktracer_qentry *e;
	struct ktl_thread *me;
	struct rig r;
	uint64_t t0, t1;

	REQUIRE(rig_open(&r, 0, 0) == 0, "rig");
	t0 = now_ns();
	CHECK_RET(0, ktracer_start(r.t, r.task, 3, 0x1234));
	t1 = now_ns();
	me = rig_me(&r);
	REQUIRE(me && me->q, "a queue");
	CHECK_EQ(1, r.f.creates);
	CHECK_EQ(KTRACER_LIB_RING_DEFAULT, me->q->ring_size);
	CHECK_EQ(32, __atomic_load_n(&me->q->head, __ATOMIC_ACQUIRE));
	e = (struct ktracer_qentry *)me->ring;
	CHECK_EQ(KTRACER_OP_START, e->op);
	CHECK_EQ(0, e->flags);
	CHECK_EQ(r.task, e->event);
	CHECK_EQ(3, e->slot);
	CHECK_EQ(0, e->len);
	CHECK_EQ(0x1234, e->value);
	CHECK(e->ts >= t0 && e->ts <= t1, "ts %llu not in [%llu, %llu]",
	      (unsigned long long)e->ts, (unsigned long long)t0,
	      (unsigned long long)t1);
	CHECK_RET(0, ktracer_gauge(r.t, r.gauge, -5));
	CHECK_RET(0, ktracer_count(r.t, r.counter, 9));
	CHECK_RET(0, ktracer_stop(r.t, r.task, 3, 7));
	CHECK_EQ(128, me->head);
	CHECK_EQ(4 * 32, rig_stats(&r).pending);
	CHECK_RET(0, ktracer_flush(r.t));
	CHECK_EQ(1, r.f.flushes_wait);
	REQUIRE(r.f.nlog == 4, "4 records, got %zu", r.f.nlog);
	CHECK_EQ(KTRACER_OP_GAUGE, r.f.log[1].op);
	CHECK_EQ((uint64_t)-5, r.f.log[1].value);
	CHECK_EQ(9, r.f.log[2].value);
	CHECK_EQ(fake_tid(), r.f.log[3].tid);
	CHECK_EQ(128, me->q->tail);
	CHECK_EQ(4, rig_stats(&r).applied);
	CHECK_EQ(0, rig_stats(&r).pending);
	CHECK_EQ(1, rig_stats(&r).threads);
	rig_close(&r);
}

/*
 * Texts and messages go inline, padded to 32; an entry that would not
 * fit before the ring's end is preceded by a PAD, and the drain takes
 * every one of them in order across many wraps.
 */
static void test_inline_and_wrap(void)
{
	char text[KTRACER_LOG_MAX + 8];
	struct ktl_thread *me;
	unsigned int i, len, pads = 0;
	uint64_t before;
	struct rig r;
	size_t n;

	for (i = 0; i < sizeof(text); i++)
		text[i] = (char)('a' + i % 26);
	REQUIRE(rig_open(&r, 0, KTRACER_QUEUE_RING_MIN) == 0, "rig");
	for (i = 0; i < 600; i++) {
		len = 1 + (i * 37) % KTRACER_LOG_MAX;
		me = rig_me(&r);
		before = me ? me->head : 0;
		CHECK_RET(0, ktracer_log(r.t, r.log, text + i % 7, len));
		me = rig_me(&r);
		REQUIRE(me && me->q, "queue");
		if (me->head - before != ktl_entry_bytes(len)) {
			CHECK_EQ((before | (KTRACER_QUEUE_RING_MIN - 1)) + 1 +
				 ktl_entry_bytes(len), me->head);
			pads++;
		}
		if (i % 5 == 0)
			fake_drain(&r.f);
	}
	CHECK(pads > 10, "only %u PADs", pads);
	/* A START's text, cut at KTRACER_TEXT_MAX; len 0 is no text. */
	CHECK_RET(0, ktracer_start_text(r.t, r.task, 0, 1, text, KTRACER_TEXT_MAX + 50));
	CHECK_RET(0, ktracer_start_text(r.t, r.task, 1, 2, text, 0));
	CHECK_RET(0, ktracer_start_text(r.t, r.task, 2, 3, "GET /", 5));
	CHECK_RET(0, ktracer_flush(r.t));
	CHECK_EQ(0, rig_stats(&r).refused);
	CHECK_EQ(0, r.f.refused);
	REQUIRE(r.f.nlog == 603, "603 records, got %zu", r.f.nlog);
	for (i = 0; i < 600; i++) {
		len = 1 + (i * 37) % KTRACER_LOG_MAX;
		CHECK_EQ(len, r.f.log[i].len);
		CHECK(!memcmp(r.f.log[i].text, text + i % 7, len), "log %u", i);
	}
	n = 600;
	CHECK_EQ(KTRACER_OPF_TEXT, r.f.log[n].flags);
	CHECK_EQ(KTRACER_TEXT_MAX, r.f.log[n].len);
	CHECK(!memcmp(r.f.log[n].text, text, KTRACER_TEXT_MAX), "text");
	CHECK_EQ(0, r.f.log[n + 1].flags);
	CHECK_EQ(0, r.f.log[n + 1].len);
	CHECK_EQ(5, r.f.log[n + 2].len);
	CHECK(!memcmp(r.f.log[n + 2].text, "GET /", 5), "text");
	rig_close(&r);
}

/*
 * No drain comes (a drain stuck elsewhere): past 3/4 an op asks for one
 * with a FLUSH that does not wait, once per quarter; a full queue drops
 * the op, returns 0, counts it; the next drain reports it (LOST) and the
 * queue takes ops again.
 */
static void test_full(void)
{
	unsigned int i, cap = KTRACER_QUEUE_RING_MIN / KTRACER_QENTRY_SIZE;
	struct ktracer_lib_stats st;
	struct ktl_thread *me;
	struct rig r;

	REQUIRE(rig_open(&r, 0, KTRACER_QUEUE_RING_MIN) == 0, "rig");
	r.f.stuck = true;
	for (i = 0; i < cap * 3 / 4; i++)
		CHECK_RET(0, ktracer_gauge(r.t, r.gauge, i));
	CHECK_EQ(0, r.f.flushes_nowait);
	CHECK_RET(0, ktracer_gauge(r.t, r.gauge, i++));
	CHECK_EQ(1, r.f.flushes_nowait);
	CHECK_EQ(1, r.f.busy);
	for (; i < cap; i++)
		CHECK_RET(0, ktracer_gauge(r.t, r.gauge, i));
	CHECK_EQ(1, r.f.flushes_nowait);	/* not again this quarter */
	me = rig_me(&r);
	CHECK_EQ(KTRACER_QUEUE_RING_MIN, me->head);
	for (i = 0; i < 10; i++)
		CHECK_RET(0, ktracer_gauge(r.t, r.gauge, 1000 + i));
	CHECK_EQ(10, me->q->dropped);
	st = rig_stats(&r);
	CHECK_EQ(0, st.applied);
	CHECK_EQ(10, st.dropped);
	CHECK_EQ(KTRACER_QUEUE_RING_MIN, st.pending);
	CHECK_EQ(1, st.syscalls - FIRST_QUEUE_CALLS);	/* the QUEUE, and one FLUSH */

	r.f.stuck = false;
	fake_drain(&r.f);
	CHECK_EQ(cap + 1, r.f.nlog);
	CHECK_EQ(1, fake_count(&r.f, 0));
	CHECK_EQ(0, r.f.log[cap].op);	/* LOST, after the ops */
	CHECK_EQ(10, r.f.log[cap].value);
	CHECK_EQ(fake_tid(), r.f.log[cap].tid);
	CHECK_RET(0, ktracer_gauge(r.t, r.gauge, 5));
	CHECK_RET(0, ktracer_flush(r.t));
	CHECK_EQ(cap + 2, r.f.nlog);
	CHECK_EQ(5, r.f.log[cap + 1].value);
	rig_close(&r);
}

static void *flusher_run(void *arg)
{
	struct rig *r = arg;

	CHECK_RET(0, ktracer_flush(r->t));
	return NULL;
}

/*
 * A drain that does not end (its lock held here) and a thread waiting
 * in ktracer_flush() for it: this thread's ops still all return, the
 * full queue dropping what does not fit, its FLUSH at 3/4 told "busy";
 * once the drain ends, the flush applies what was queued.
 */
static void test_no_wait(void)
{
	unsigned int i, cap = KTRACER_QUEUE_RING_MIN / KTRACER_QENTRY_SIZE;
	struct ktracer_lib_stats st;
	pthread_t th;
	struct rig r;

	REQUIRE(rig_open(&r, 0, KTRACER_QUEUE_RING_MIN) == 0, "rig");
	CHECK_RET(0, ktracer_gauge(r.t, r.gauge, 0));	/* the queue */
	pthread_mutex_lock(&r.f.drain);
	REQUIRE(!pthread_create(&th, NULL, flusher_run, &r), "flusher");
	for (i = 1; i < 2 * cap; i++)
		CHECK_RET(0, ktracer_gauge(r.t, r.gauge, i));
	st = rig_stats(&r);
	CHECK_EQ(cap, st.dropped);
	CHECK_EQ(0, st.applied);
	CHECK_EQ(1, r.f.busy);
	pthread_mutex_unlock(&r.f.drain);
	pthread_join(th, NULL);
	CHECK_EQ(1, r.f.flushes_wait);
	st = rig_stats(&r);
	CHECK_EQ(cap, st.applied);
	CHECK_EQ(0, st.pending);
	rig_close(&r);
}

/* Regions ---------------------------------------------------------------- */

/* The records of @thread, in order. */
static size_t recs_of(struct fake *f, int tid, struct fake_rec *out,
		      size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < f->nlog; i++)
		if (f->log[i].tid == tid && n < max)
			out[n++] = f->log[i];
	return n;
}

static void regions(bool tsc)
{
	struct fake_rec recs[8];
	struct ktl_thread *me;
	uint32_t ev[KTRACER_LIB_REGION_DEPTH + 1], i;
	char name[16];
	struct rig r;

	REQUIRE(rig_open_clock(&r, 0, 0, tsc) == 0, "rig");
	CHECK_RET(-ENOENT, ktracer_region_end(r.t, r.span));	/* no entry */
	CHECK_RET(0, ktracer_region_begin(r.t, r.span, "GET /x"));
	CHECK_EQ(tsc, rig_me(&r)->tsc);
	CHECK_RET(0, ktracer_region_begin(r.t, r.task, NULL));
	CHECK_RET(-EBUSY, ktracer_region_begin(r.t, r.span, NULL));
	CHECK_RET(-EINVAL, ktracer_region_end(r.t, r.span));	/* not innermost */
	CHECK_RET(-ENOENT, ktracer_region_end(r.t, r.gauge));
	CHECK_RET(0, ktracer_region_end(r.t, r.task));
	CHECK_RET(0, ktracer_region_end(r.t, r.span));
	CHECK_RET(-ENOENT, ktracer_region_end(r.t, r.span));
	me = rig_me(&r);
	CHECK_EQ(0, me->index);
	CHECK_EQ(0, me->depth);
	CHECK_RET(0, ktracer_flush(r.t));
	REQUIRE(recs_of(&r.f, fake_tid(), recs, 8) == 4, "4 records");
	CHECK_EQ(KTRACER_OP_START, recs[0].op);
	CHECK_EQ(KTRACER_OPF_REGION | KTRACER_OPF_TEXT, recs[0].flags);
	CHECK_EQ(6, recs[0].len);
	CHECK(!memcmp(recs[0].text, "GET /x", 6), "text");
	CHECK_EQ(r.task, recs[1].event);
	CHECK_EQ(KTRACER_OPF_REGION, recs[1].flags);
	CHECK_EQ(KTRACER_OP_STOP, recs[2].op);
	CHECK_EQ(r.task, recs[2].event);
	CHECK_EQ(KTRACER_OP_STOP, recs[3].op);
	CHECK_EQ(r.span, recs[3].event);
	CHECK_EQ(0, recs[3].slot);

	/* KTRACER_LIB_REGION_DEPTH open at most. */
	for (i = 0; i <= KTRACER_LIB_REGION_DEPTH; i++) {
		snprintf(name, sizeof(name), "deep.%u", i);
		REQUIRE(!ktracer_declare(r.t, name, KTRACER_KIND_SPAN, 1, &ev[i]),
			"declare");
	}
	for (i = 0; i < KTRACER_LIB_REGION_DEPTH; i++)
		CHECK_RET(0, ktracer_region_begin(r.t, ev[i], NULL));
	CHECK_RET(-ENOSPC, ktracer_region_begin(r.t, ev[i], NULL));
	while (i--)
		CHECK_RET(0, ktracer_region_end(r.t, ev[i]));
	CHECK_RET(0, ktracer_flush(r.t));
	CHECK_EQ(0, rig_stats(&r).refused);
	rig_close(&r);
}

static void test_regions(void)
{
	regions(false);
}

static void test_regions_tsc(void)
{
#if defined(__x86_64__)
	regions(true);
#endif
}

/* The scoped form: every way out of the block ends the region. */
static int scoped(struct rig *r, int how)
{
	KTRACER_REGION(r->t, r->span);
	{
		KTRACER_REGION_TEXT(r->t, r->task, "inner");
		if (how == 0)
			return 1;
	}
	return 2;
}

static void test_scoped(void)
{
	struct rig r;

	REQUIRE(rig_open(&r, 0, 0) == 0, "rig");
	CHECK_EQ(1, scoped(&r, 0));
	CHECK_EQ(2, scoped(&r, 1));
	CHECK_EQ(0, rig_me(&r)->depth);
	CHECK_RET(0, ktracer_flush(r.t));
	REQUIRE(r.f.nlog == 8, "8 records, got %zu", r.f.nlog);
	CHECK_EQ(r.task, r.f.log[1].event);
	CHECK_EQ(5, r.f.log[1].len);
	CHECK_EQ(KTRACER_OP_STOP, r.f.log[2].op);
	CHECK_EQ(r.task, r.f.log[2].event);
	CHECK_EQ(KTRACER_OP_STOP, r.f.log[3].op);
	CHECK_EQ(r.span, r.f.log[3].event);
	CHECK_EQ(0, rig_stats(&r).refused);
	rig_close(&r);
}

/*
 * A full queue never drops a region's end: each op keeps room for the
 * STOPs of the regions open. A region whose begin was dropped ends
 * quietly.
 */
static void region_room(bool tsc)
{
	unsigned int i, cap = KTRACER_QUEUE_RING_MIN / KTRACER_QENTRY_SIZE;
	struct ktl_thread *me;
	uint64_t head;
	struct rig r;

	REQUIRE(rig_open_clock(&r, 0, KTRACER_QUEUE_RING_MIN, tsc) == 0, "rig");
	r.f.stuck = true;
	CHECK_RET(0, ktracer_region_begin(r.t, r.span, NULL));
	CHECK_EQ(tsc, rig_me(&r)->tsc);
	CHECK_RET(0, ktracer_region_begin(r.t, r.task, NULL));
	for (i = 0; i < cap; i++)
		CHECK_RET(0, ktracer_gauge(r.t, r.gauge, i));
	me = rig_me(&r);
	/* 2 begins, cap - 4 gauges, room for 2 STOPs. */
	CHECK_EQ(KTRACER_QUEUE_RING_MIN - 2 * 32, me->head);
	CHECK_EQ(4, me->q->dropped);
	CHECK_RET(0, ktracer_region_begin(r.t, r.counter + 100, NULL) == -ENOENT ? 0 : -1);
	CHECK_RET(0, ktracer_region_begin(r.t, r.log + 0, NULL) == -EINVAL ? 0 : -1);
	CHECK_RET(0, ktracer_region_end(r.t, r.task));
	CHECK_RET(0, ktracer_region_end(r.t, r.span));
	CHECK_EQ(KTRACER_QUEUE_RING_MIN, me->head);
	CHECK_EQ(4, me->q->dropped);
	/* Full: a begin is dropped, its end too, quietly. */
	CHECK_RET(0, ktracer_region_begin(r.t, r.span, NULL));
	CHECK_EQ(5, me->q->dropped);
	CHECK_RET(0, ktracer_region_end(r.t, r.span));
	CHECK_EQ(5, me->q->dropped);
	r.f.stuck = false;
	CHECK_RET(0, ktracer_flush(r.t));
	CHECK_EQ(0, rig_stats(&r).refused);
	CHECK_EQ(2, fake_count(&r.f, KTRACER_OP_STOP));
	CHECK_EQ(1, fake_count(&r.f, 0));

	/* Room for one entry: a begin, which needs two (its STOP's), is dropped. */
	r.f.stuck = true;
	for (i = 0; i < cap - 1; i++)
		CHECK_RET(0, ktracer_gauge(r.t, r.gauge, i));
	head = me->head;
	CHECK_EQ(5, me->q->dropped);
	CHECK_RET(0, ktracer_region_begin(r.t, r.span, NULL));
	CHECK_EQ(head, me->head);
	CHECK_EQ(6, me->q->dropped);
	CHECK_RET(0, ktracer_region_end(r.t, r.span));
	CHECK_EQ(head, me->head);
	CHECK_EQ(6, me->q->dropped);
	r.f.stuck = false;
	CHECK_RET(0, ktracer_flush(r.t));
	CHECK_EQ(2, fake_count(&r.f, KTRACER_OP_STOP));
	rig_close(&r);
}

static void test_region_room(void)
{
	region_room(false);
}

static void test_region_room_tsc(void)
{
#if defined(__x86_64__)
	region_room(true);
#endif
}

struct exiter {
	struct rig *r;
	uint32_t index;
	struct ktracer_qring *q;
	int tid;
	int err;
};

/* A thread that opens regions, leaves two open and exits. */
static void *exiter_run(void *arg)
{
	struct exiter *x = arg;
	struct ktl_thread *me;

	x->tid = fake_tid();
	x->err = ktracer_region_begin(x->r->t, x->r->span, NULL);
	x->err |= ktracer_region_begin(x->r->t, x->r->task, NULL);
	x->err |= ktracer_gauge(x->r->t, x->r->gauge, 1);
	me = rig_me(x->r);
	x->index = me ? me->index : ~0u;
	x->q = me ? me->q : NULL;
	return NULL;
}

/*
 * A thread exits with regions open: they are cancelled (innermost
 * first, one slot each), and the next thread takes its index and adopts
 * its queue; records keep their threads.
 */
static void test_thread_exit(void)
{
	struct exiter a = { 0 }, b = { 0 };
	struct ktracer_lib_stats st;
	struct fake_rec recs[8];
	struct rig r;

	REQUIRE(rig_open(&r, 0, 0) == 0, "rig");
	CHECK_RET(0, ktracer_gauge(r.t, r.gauge, 0));	/* index 0: main */
	a.r = b.r = &r;
	on_thread(exiter_run, &a);
	CHECK_RET(0, a.err);
	CHECK_EQ(1, a.index);
	CHECK_EQ(0, rig_stats(&r).threads - 1);	/* a's entry is free */
	on_thread(exiter_run, &b);
	CHECK_RET(0, b.err);
	CHECK_EQ(1, b.index);
	CHECK(a.q == b.q, "the same queue");
	CHECK_EQ(2, r.f.creates);
	CHECK_EQ(1, r.f.adopts);
	CHECK_RET(0, ktracer_flush(r.t));
	st = rig_stats(&r);
	CHECK_EQ(0, st.refused);
	CHECK_EQ(1 + 2 * 5, st.applied);
	CHECK_EQ(11, r.f.nlog);
	/* a's five records, then b's: the adoption drained a's first. */
	REQUIRE(r.f.nlog == 11, "records");
	CHECK_EQ(KTRACER_OP_CANCEL, r.f.log[4].op);
	CHECK_EQ(r.task, r.f.log[4].event);
	CHECK_EQ(KTRACER_OPF_REGION | KTRACER_OPF_SLOT, r.f.log[4].flags);
	CHECK_EQ(1, r.f.log[4].slot);
	CHECK_EQ(KTRACER_OP_CANCEL, r.f.log[5].op);
	CHECK_EQ(r.span, r.f.log[5].event);
	CHECK_EQ(a.tid, r.f.log[5].tid);
	CHECK_EQ(b.tid, r.f.log[6].tid);
	CHECK_EQ(5, recs_of(&r.f, b.tid, recs, 8));
	rig_close(&r);
}

/* ERANGE: a region's slot is its thread's index. */
static void *range_run(void *arg)
{
	struct exiter *x = arg;
	uint32_t one;

	x->err = ktracer_declare(x->r->t, "one", KTRACER_KIND_SPAN, 1, &one);
	if (!x->err)
		x->err = ktracer_region_begin(x->r->t, one, NULL);
	return NULL;
}

static void *hold_run(void *arg)
{
	struct exiter *x = arg;

	/* A region on thread 1, while the main thread holds index 0. */
	x->err = ktracer_region_begin(x->r->t, x->r->span, NULL);
	x->index = rig_me(x->r)->index;
	range_run(x);
	return NULL;
}

static void test_region_range(void)
{
	struct exiter x = { 0 };
	struct rig r;

	REQUIRE(rig_open(&r, 0, 0) == 0, "rig");
	CHECK_RET(0, ktracer_gauge(r.t, r.gauge, 0));
	x.r = &r;
	on_thread(hold_run, &x);
	CHECK_EQ(1, x.index);
	CHECK_RET(-ERANGE, x.err);
	rig_close(&r);
}

/* Tasks, cancel ------------------------------------------------------------ */

static void test_cancel(void)
{
	struct rig r;

	REQUIRE(rig_open(&r, 0, 0) == 0, "rig");
	CHECK_RET(0, ktracer_start(r.t, r.task, 1, 0));
	CHECK_RET(0, ktracer_start(r.t, r.task, 2, 0));
	CHECK_RET(0, ktracer_start(r.t, r.task, 3, 0));
	CHECK_RET(0, ktracer_cancel_slot(r.t, r.task, 2));
	CHECK_RET(0, ktracer_stop(r.t, r.task, 1, 0));
	CHECK_RET(0, ktracer_cancel_slot(r.t, r.task, 2));	/* ENOENT */
	CHECK_RET(0, ktracer_stop(r.t, r.task, 2, 0));	/* ENOENT */
	CHECK_RET(0, ktracer_cancel(r.t, r.task));
	CHECK_RET(0, ktracer_start(r.t, r.task, 3, 0));
	CHECK_RET(0, ktracer_start(r.t, r.task, 3, 0));	/* EBUSY */
	CHECK_RET(0, ktracer_flush(r.t));
	CHECK_EQ(7, rig_stats(&r).applied);
	CHECK_EQ(3, rig_stats(&r).refused);
	CHECK_EQ(-EBUSY, rig_stats(&r).last_error);
	CHECK_EQ(KTRACER_OPF_SLOT, r.f.log[3].flags);
	CHECK_EQ(2, r.f.log[3].slot);
	CHECK_EQ(KTRACER_OP_CANCEL, r.f.log[5].op);
	CHECK_EQ(0, r.f.log[5].flags);
	rig_close(&r);
}

/* Unbatched: one OP call per op, the kernel's errors at the call. */
static void test_unbatched(void)
{
	struct ktracer_lib_stats st;
	struct rig r;

	REQUIRE(rig_open(&r, KTRACER_LIB_UNBATCHED, 0) == 0, "rig");
	CHECK_RET(0, ktracer_start_text(r.t, r.task, 0, 1, "abc", 3));
	CHECK_RET(-EBUSY, ktracer_start(r.t, r.task, 0, 2));
	CHECK_RET(-ENOENT, ktracer_stop(r.t, r.task, 1, 3));
	CHECK_RET(-ENOENT, ktracer_cancel_slot(r.t, r.task, 1));
	CHECK_RET(0, ktracer_log(r.t, r.log, "unbatched", 9));
	CHECK_RET(0, ktracer_region_begin(r.t, r.span, "r"));
	CHECK_RET(0, ktracer_region_end(r.t, r.span));
	CHECK_RET(0, ktracer_flush(r.t));
	CHECK_EQ(0, r.f.creates);
	CHECK_EQ(0, r.f.flushes_wait);
	st = rig_stats(&r);
	CHECK_EQ(7, st.syscalls);
	CHECK_EQ(4, st.applied);
	CHECK_EQ(3, st.refused);
	CHECK_EQ(-ENOENT, st.last_error);
	REQUIRE(r.f.nlog == 4, "4 records");
	CHECK_EQ(3, r.f.log[0].len);
	CHECK(!memcmp(r.f.log[0].text, "abc", 3), "text");
	CHECK(!memcmp(r.f.log[1].text, "unbatched", 9), "msg");
	CHECK_EQ(KTRACER_OPF_REGION | KTRACER_OPF_TEXT, r.f.log[2].flags);
	CHECK_EQ(KTRACER_OPF_REGION, r.f.log[3].flags);
	rig_close(&r);
}

/* Threads ---------------------------------------------------------------- */

#define THREADS		6
#define THREAD_ROUNDS	3000

struct worker {
	struct rig *r;
	int tid;
	unsigned int id;
	int err;
};

/* Regions, a task, a gauge, a log: while a drainer drains, and stalls. */
static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct ktracer *t = w->r->t;
	char msg[32];
	unsigned int i;
	int n;

	w->tid = fake_tid();
	for (i = 0; i < THREAD_ROUNDS; i++) {
		w->err |= ktracer_region_begin(t, w->r->span, "req");
		w->err |= ktracer_start(t, w->r->task, w->id, i);
		w->err |= ktracer_gauge(t, w->r->gauge, (int64_t)w->id << 32 | i);
		n = snprintf(msg, sizeof(msg), "worker %u op %u", w->id, i);
		w->err |= ktracer_log(t, w->r->log, msg, (size_t)n);
		w->err |= ktracer_stop(t, w->r->task, w->id, i);
		w->err |= ktracer_region_end(t, w->r->span);
		if (i % 16 == 0)
			sched_yield();	/* let the drainer run, now and then */
	}
	return NULL;
}

struct drainer {
	struct rig *r;
	int stop;
	unsigned int rounds;
};

static void *drainer_run(void *arg)
{
	struct drainer *d = arg;

	while (!__atomic_load_n(&d->stop, __ATOMIC_ACQUIRE)) {
		CHECK_RET(0, ktracer_flush(d->r->t));
		d->rounds++;
	}
	return NULL;
}

/*
 * Threads record while another drains without pause: every op they did
 * not drop is applied once, on their own thread, in their order; the
 * ops of one thread never wait for another's.
 */
static void test_threads(void)
{
	struct worker w[THREADS];
	struct drainer d = { 0 };
	struct ktracer_lib_stats st;
	pthread_t th[THREADS], dt;
	uint64_t last[THREADS] = { 0 }, gauges[THREADS] = { 0 };
	unsigned int i, j;
	long regions = 0;
	uint64_t queued;
	struct rig r;

	REQUIRE(rig_open(&r, 0, KTRACER_QUEUE_RING_MIN * 4) == 0, "rig");
	d.r = &r;
	REQUIRE(!pthread_create(&dt, NULL, drainer_run, &d), "drainer");
	for (i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .r = &r, .id = i };
		REQUIRE(!pthread_create(&th[i], NULL, worker_run, &w[i]), "thread");
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		CHECK_RET(0, w[i].err);
	}
	__atomic_store_n(&d.stop, 1, __ATOMIC_RELEASE);
	pthread_join(dt, NULL);
	CHECK_RET(0, ktracer_flush(r.t));

	st = rig_stats(&r);
	/*
	 * A task's dropped STOP leaves its slot open (the next START is
	 * refused, EBUSY), a dropped START its STOP without one (ENOENT):
	 * at most one refusal per drop, and none without.
	 */
	CHECK(st.refused <= st.dropped, "%llu refused, %llu dropped",
	      (unsigned long long)st.refused, (unsigned long long)st.dropped);
	CHECK(!st.refused || st.last_error == -EBUSY || st.last_error == -ENOENT,
	      "error %d", st.last_error);
	CHECK_EQ(0, st.pending);
	/* A region whose begin was dropped drops its end quietly. */
	queued = st.applied + st.refused;
	CHECK(queued + st.dropped <= THREADS * THREAD_ROUNDS * 6 &&
	      queued + st.dropped >= THREADS * THREAD_ROUNDS * 5,
	      "%llu queued, %llu dropped", (unsigned long long)queued,
	      (unsigned long long)st.dropped);
	CHECK_EQ(st.applied + fake_count(&r.f, 0), r.f.nlog);
	/* Every region begun in the trace ends in it: its room was kept. */
	for (i = 0; i < r.f.nlog; i++) {
		if (r.f.log[i].flags & KTRACER_OPF_REGION)
			regions += r.f.log[i].op == KTRACER_OP_START ? 1 : -1;
	}
	CHECK_EQ(0, regions);
	/* Each record on its thread, ts in order; gauges in order. */
	for (i = 0; i < r.f.nlog; i++) {
		const struct fake_rec *rec = &r.f.log[i];

		for (j = 0; j < THREADS; j++)
			if (rec->tid == w[j].tid)
				break;
		REQUIRE(j < THREADS, "record %u: no worker's", i);
		if (rec->op == 0)
			continue;
		CHECK(rec->ts >= last[j], "record %u goes back in time", i);
		last[j] = rec->ts;
		if (rec->op == KTRACER_OP_GAUGE) {
			CHECK_EQ(j, rec->value >> 32);
			CHECK(!gauges[j] || (rec->value & 0xffffffff) >= gauges[j],
			      "gauge order");
			gauges[j] = rec->value & 0xffffffff;
		}
		if (rec->op == KTRACER_OP_LOG)
			CHECK(!strncmp(rec->text, "worker ", 7), "log text");
	}
	printf("# %u drains; %llu ops applied, %llu dropped, %llu refused (%d), %llu pending\n", d.rounds,
	       (unsigned long long)st.applied, (unsigned long long)st.dropped,
	       (unsigned long long)r.f.refused, r.f.last_error, (unsigned long long)st.pending);
	rig_close(&r);
}

/* A task started on one thread and stopped on another. */
#define HANDOFFS	2000

static void *stopper_run(void *arg)
{
	struct worker *w = arg;
	unsigned int i;

	for (i = 0; i < HANDOFFS; i++) {
		while (!__atomic_load_n(&w->id, __ATOMIC_ACQUIRE))
			;
		w->err |= ktracer_stop(w->r->t, w->r->task, 0, i);
		__atomic_store_n(&w->id, 0, __ATOMIC_RELEASE);
	}
	return NULL;
}

/* @tsc_error: the stand-in's answer to a TSC queue (0: made). */
static void handoff(int tsc_error)
{
	struct worker w = { 0 };
	struct drainer d = { 0 };
	pthread_t th, dt;
	unsigned int i;
	struct rig r;

	REQUIRE(rig_open(&r, 0, 0) == 0, "rig");
	r.f.tsc_error = tsc_error;
	w.r = d.r = &r;
	REQUIRE(!pthread_create(&dt, NULL, drainer_run, &d), "drainer");
	REQUIRE(!pthread_create(&th, NULL, stopper_run, &w), "thread");
	for (i = 0; i < HANDOFFS; i++) {
		CHECK_RET(0, ktracer_start(r.t, r.task, 0, i));
		__atomic_store_n(&w.id, 1, __ATOMIC_RELEASE);
		while (__atomic_load_n(&w.id, __ATOMIC_ACQUIRE))
			;
	}
	pthread_join(th, NULL);
	__atomic_store_n(&d.stop, 1, __ATOMIC_RELEASE);
	pthread_join(dt, NULL);
	CHECK_RET(0, w.err);
	CHECK_RET(0, ktracer_flush(r.t));
	CHECK_EQ(2 * HANDOFFS, rig_stats(&r).applied);
	CHECK_EQ(0, rig_stats(&r).refused);
	rig_close(&r);
}

static void test_handoff(void)
{
	handoff(-EINVAL);
}

/*
 * The same with TSC queues (x86-64): a STOP converted from the TSC is
 * never applied before its START, however close they are.
 */
static void test_handoff_tsc(void)
{
#if defined(__x86_64__)
	handoff(0);
#endif
}

/* The TSC clock ---------------------------------------------------------- */

#if defined(__x86_64__)
static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("lfence\n\trdtsc" : "=a" (lo), "=d" (hi) : : "memory");
	return (uint64_t)hi << 32 | lo;
}

/* Flush until @n ops are applied or refused (one may wait a drain). */
static void flush_until(struct rig *r, uint64_t n)
{
	struct ktracer_lib_stats st;
	int i;

	for (i = 0; i < 10; i++) {
		CHECK_RET(0, ktracer_flush(r->t));
		st = rig_stats(r);
		if (st.applied + st.refused >= n)
			break;
	}
}

/*
 * How far a converted ts may be from the clock reads around its op: the
 * stand-in's anchors (rdtsc, then clock_gettime()) may be a preemption
 * apart on a loaded host under the sanitizers. A TSC value left
 * unconverted would be off by orders of magnitude more.
 */
#define TSC_TOL_NS	(20 * 1000 * 1000ULL)
#endif

/*
 * A kernel that converts the TSC: the thread's queue is of the TSC clock,
 * the library stamps entries with rdtsc (one QUEUE call), and what the
 * kernel records is in ns, at the calls' time, in order; a thread that
 * exits leaves its queue, TSC clock and all, to the next one.
 */
static void test_tsc(void)
{
#if defined(__x86_64__)
	struct exiter a = { 0 }, b = { 0 };
	const struct ktracer_qentry *e;
	struct ktl_thread *me;
	uint64_t t0, t1, c0, c1, prev = 0;
	struct rig r;
	size_t i;

	REQUIRE(rig_open(&r, 0, 0) == 0, "rig");
	r.f.tsc_error = 0;
	t0 = now_ns();
	c0 = rdtsc();
	CHECK_RET(0, ktracer_start(r.t, r.task, 1, 10));
	CHECK_RET(0, ktracer_gauge(r.t, r.gauge, 2));
	CHECK_RET(0, ktracer_log(r.t, r.log, "tsc", 3));
	CHECK_RET(0, ktracer_region_begin(r.t, r.span, "text"));
	CHECK_RET(0, ktracer_region_end(r.t, r.span));
	CHECK_RET(0, ktracer_stop(r.t, r.task, 1, 11));
	c1 = rdtsc();
	t1 = now_ns();
	me = rig_me(&r);
	REQUIRE(me && me->q, "a queue");
	CHECK_EQ(1, me->tsc);
	CHECK_EQ(KTRACER_QCLOCK_TSC, me->q->clock);
	CHECK_EQ(1, r.f.creates);
	CHECK_EQ(1, r.f.ioctls - r.f.registers);	/* one QUEUE */
	e = (const struct ktracer_qentry *)me->ring;
	CHECK(e->ts >= c0 && e->ts <= c1, "entry ts %llu not the TSC [%llu, %llu]",
	      (unsigned long long)e->ts, (unsigned long long)c0,
	      (unsigned long long)c1);
	flush_until(&r, 6);
	REQUIRE(r.f.nlog == 6, "6 records, got %zu", r.f.nlog);
	CHECK_EQ(0, rig_stats(&r).refused);
	for (i = 0; i < r.f.nlog; i++) {
		CHECK(r.f.log[i].ts + TSC_TOL_NS >= t0 &&
		      r.f.log[i].ts <= t1 + TSC_TOL_NS,
		      "record %zu: ts %llu not near [%llu, %llu]", i,
		      (unsigned long long)r.f.log[i].ts, (unsigned long long)t0,
		      (unsigned long long)t1);
		CHECK(r.f.log[i].ts >= prev, "record %zu goes back in time", i);
		prev = r.f.log[i].ts;
	}
	CHECK_EQ(KTRACER_OP_START, r.f.log[0].op);
	CHECK_EQ(KTRACER_OP_LOG, r.f.log[2].op);
	CHECK_EQ(KTRACER_OP_STOP, r.f.log[5].op);

	/* Other threads: a TSC queue each, adopted with its clock. */
	a.r = b.r = &r;
	on_thread(exiter_run, &a);
	on_thread(exiter_run, &b);
	CHECK_RET(0, a.err);
	CHECK_RET(0, b.err);
	CHECK(a.q == b.q, "the same queue");
	CHECK_EQ(1, r.f.queues[2].tsc);
	CHECK_EQ(2, r.f.creates);
	CHECK_EQ(1, r.f.adopts);
	CHECK_EQ(1, r.t->shared->threads[1].tsc);
	flush_until(&r, 6 + 2 * 5);
	CHECK_EQ(6 + 2 * 5, rig_stats(&r).applied);
	CHECK_EQ(0, rig_stats(&r).refused);
	rig_close(&r);
#endif
}

/*
 * A kernel of ABI minor 1 (EINVAL: an unknown flag), or one that cannot
 * convert this machine's TSC (EOPNOTSUPP): the library asks once per
 * tracer, then makes CLOCK_MONOTONIC queues, and everything is recorded.
 */
static void tsc_fallback(int err)
{
	struct exiter a = { 0 };
	struct ktl_thread *me;
	uint64_t t0, t1;
	struct rig r;
	size_t i;

	REQUIRE(rig_open(&r, 0, 0) == 0, "rig");
	r.f.tsc_error = err;
	t0 = now_ns();
	CHECK_RET(0, ktracer_start(r.t, r.task, 1, 10));
	CHECK_RET(0, ktracer_stop(r.t, r.task, 1, 11));
	t1 = now_ns();
	me = rig_me(&r);
	REQUIRE(me && me->q, "a queue");
	CHECK_EQ(0, me->tsc);
	CHECK_EQ(KTRACER_QCLOCK_MONOTONIC, me->q->clock);
	CHECK_EQ(FIRST_QUEUE_CALLS, r.f.ioctls - r.f.registers);
	CHECK_EQ(FIRST_QUEUE_CALLS, rig_stats(&r).syscalls);
	/* Another thread is not asked again. */
	a.r = &r;
	on_thread(exiter_run, &a);
	CHECK_RET(0, a.err);
	CHECK_EQ(FIRST_QUEUE_CALLS + 1, r.f.ioctls - r.f.registers);
	CHECK_EQ(2, r.f.creates);
	CHECK_EQ(0, r.f.queues[2].tsc);
	CHECK_RET(0, ktracer_flush(r.t));
	CHECK_EQ(2 + 5, rig_stats(&r).applied);
	CHECK_EQ(0, rig_stats(&r).refused);
	REQUIRE(r.f.nlog == 7, "7 records, got %zu", r.f.nlog);
	for (i = 0; i < 2; i++)
		CHECK(r.f.log[i].ts >= t0 && r.f.log[i].ts <= t1,
		      "record %zu: ts %llu not in [%llu, %llu]", i,
		      (unsigned long long)r.f.log[i].ts, (unsigned long long)t0,
		      (unsigned long long)t1);
	rig_close(&r);
}

static void test_tsc_fallback(void)
{
	tsc_fallback(-EINVAL);
	tsc_fallback(-EOPNOTSUPP);
}

/* A TSC queue whose page says CLOCK_MONOTONIC: EPROTO, nothing queued. */
static void test_tsc_eproto(void)
{
#if defined(__x86_64__)
	struct rig r;

	REQUIRE(rig_open(&r, 0, 0) == 0, "rig");
	r.f.tsc_error = 0;
	r.f.tsc_lie = true;
	CHECK_RET(-EPROTO, ktracer_gauge(r.t, r.gauge, 1));
	CHECK(!rig_me(&r) || !rig_me(&r)->q, "no queue");
	CHECK_RET(0, ktracer_flush(r.t));
	CHECK_EQ(0, r.f.nlog);
	rig_close(&r);
#endif
}

/* fork ------------------------------------------------------------------- */

/* In the child: the parent's tracer is refused, a new one works. */
static int child_run(struct rig *r)
{
	struct ktracer_lib_stats st;
	struct rig c;
	uint32_t id;
	int bad = 0;

	bad |= ktracer_gauge(r->t, r->gauge, 1) != -ECHILD;
	bad |= ktracer_start(r->t, r->task, 0, 0) != -ECHILD;
	bad |= ktracer_log(r->t, r->log, "x", 1) != -ECHILD;
	bad |= ktracer_region_begin(r->t, r->span, NULL) != -ECHILD;
	bad |= ktracer_region_end(r->t, r->span) != -ECHILD;
	bad |= ktracer_flush(r->t) != -ECHILD;
	bad |= ktracer_get_stats(r->t, &st) != -ECHILD;
	bad |= ktracer_declare(r->t, "x", KTRACER_KIND_LOG, 0, &id) != -ECHILD;
	bad |= rig_me(r) == NULL || rig_me(r)->q != NULL;	/* wiped */
	/* Tracing off: still 0, as everywhere. */
	r->state.enabled = 0;
	bad |= ktracer_gauge(r->t, r->gauge, 1) != 0;
	bad |= ktracer_close(r->t) != 0;
	if (bad)
		return 1;
	/* A tracer of its own. */
	if (rig_open(&c, 0, 0))
		return 2;
	bad |= ktracer_gauge(c.t, c.gauge, 7) != 0;
	bad |= ktracer_region_begin(c.t, c.span, NULL) != 0;
	bad |= ktracer_region_end(c.t, c.span) != 0;
	bad |= ktracer_flush(c.t) != 0;
	bad |= c.f.nlog != 3;
	bad |= ktracer_close(c.t) != 0;
	return bad ? 3 : 0;
}

static void test_fork(void)
{
	struct ktl_thread *me;
	uint64_t head;
	struct rig r;
	int status;
	pid_t pid;

	REQUIRE(rig_open(&r, 0, 0) == 0, "rig");
	CHECK_RET(0, ktracer_region_begin(r.t, r.span, NULL));
	CHECK_RET(0, ktracer_gauge(r.t, r.gauge, 1));
	me = rig_me(&r);
	head = me->head;
	fflush(NULL);
	pid = fork();
	REQUIRE(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0)
		_exit(child_run(&r));
	REQUIRE(waitpid(pid, &status, 0) == pid, "waitpid");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "child: status %#x", status);
	/* The parent's queue: as it was, and in use. */
	CHECK_EQ(head, me->head);
	CHECK_EQ(head, __atomic_load_n(&me->q->head, __ATOMIC_ACQUIRE));
	CHECK_RET(0, ktracer_gauge(r.t, r.gauge, 2));
	CHECK_RET(0, ktracer_region_end(r.t, r.span));
	CHECK_RET(0, ktracer_flush(r.t));
	CHECK_EQ(4, r.f.nlog);
	CHECK_EQ(0, rig_stats(&r).refused);
	rig_close(&r);
}

/* A thread's first op fails to get a queue: an error, and a retry works. */
static void test_queue_error(void)
{
	struct rig r;

	REQUIRE(rig_open(&r, 0, 0) == 0, "rig");
	r.f.queue_error = -ENOMEM;
	CHECK_RET(-ENOMEM, ktracer_gauge(r.t, r.gauge, 1));
	CHECK_RET(-ENOMEM, ktracer_region_begin(r.t, r.span, NULL));
	CHECK_RET(-ENOENT, ktracer_region_end(r.t, r.span));
	r.f.queue_error = 0;
	CHECK_RET(0, ktracer_gauge(r.t, r.gauge, 2));
	CHECK_RET(0, ktracer_flush(r.t));
	CHECK_EQ(1, r.f.nlog);
	CHECK_EQ(2, r.f.log[0].value);
	rig_close(&r);
}

static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
	{ "options: defaults, sizes, flags, ranges", test_options },
	{ "NULL tracer; opening what is no ktracer", test_open },
	{ "declare: ids, errors, default and per-file slot counts", test_declare },
	{ "ops: errors found at the call, nothing queued", test_arguments },
	{ "tracing off: ops return 0, nothing queued, regions nest", test_disabled },
	{ "one op, one 32-byte entry at the call's time, its thread", test_entry },
	{ "inline texts and messages; PAD at the ring's end", test_inline_and_wrap },
	{ "full queue: FLUSH at 3/4 without waiting, drops, LOST", test_full },
	{ "a drain that does not end: ops still return, none waits", test_no_wait },
	{ "regions: slots, nesting, LIFO errors, depth", test_regions },
	{ "regions on a TSC queue (no-call path): the same", test_regions_tsc },
	{ "KTRACER_REGION: every way out of the block ends it", test_scoped },
	{ "regions' ends are never dropped", test_region_room },
	{ "regions' ends are never dropped, TSC queue", test_region_room_tsc },
	{ "thread exit: regions cancelled, queue adopted", test_thread_exit },
	{ "regions: ERANGE past the event's slots", test_region_range },
	{ "tasks: cancel one slot, cancel all", test_cancel },
	{ "unbatched: one OP call per op, errors at the call", test_unbatched },
	{ "threads: ops while a drain runs, each on its thread", test_threads },
	{ "threads: task START on one, STOP on another", test_handoff },
	{ "fork: the child gets ECHILD, a tracer of its own works", test_fork },
	{ "a thread's first op without a queue: error, then retry", test_queue_error },
	{ "TSC queues: entries stamped with rdtsc, records in ns, in order", test_tsc },
	{ "TSC refused (EINVAL, EOPNOTSUPP): CLOCK_MONOTONIC queues", test_tsc_fallback },
	{ "a TSC queue that says another clock: EPROTO", test_tsc_eproto },
	{ "TSC queues: task START on one thread, STOP on another", test_handoff_tsc },
};

/* unit_test [N]: all the tests, or test N alone. */
int main(int argc, char **argv)
{
	size_t i, n = ARRAY_SIZE(tests);
	size_t only = argc > 1 ? strtoul(argv[1], NULL, 10) : 0;
	int before, failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n1..%zu\n", only ? 1 : n);
	for (i = 0; i < n; i++) {
		if (only && i + 1 != only)
			continue;
		before = failed_checks;
		tests[i].fn();
		if (failed_checks == before) {
			printf("ok %zu %s\n", i + 1, tests[i].name);
		} else {
			printf("not ok %zu %s\n", i + 1, tests[i].name);
			failed++;
		}
	}
	printf("# %zu passed, %d failed\n", (only ? 1 : n) - failed, failed);
	return failed ? 1 : 0;
}
