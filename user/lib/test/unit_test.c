// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libktracer's host unit tests: no kernel module needed. A stand-in for
 * /dev/ktracer (struct fake) applies REGISTER, OP and BATCH with the
 * kernel's rules, the time-stamp rule included (an op older than the
 * start of the previous call, or in the future, is EINVAL), and logs what
 * it applied; the tests drive the library's real code against it, from
 * one thread and from many. Built with ASan+UBSan and with TSan by
 * `make -C user/lib test`. Prints TAP.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

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

/* A counter of struct ktracer_lib_stats is @want. */
#define CHECK_STAT(st, field, want)					\
	CHECK((st).field == (want), #field " %llu, want %llu",		\
	      (unsigned long long)(st).field, (unsigned long long)(want))

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
 * Wait for the clock to move on: ops of several queues with the same ts
 * go queue by queue, whatever order they were called in.
 */
static void tick(void)
{
	uint64_t t0 = now_ns();

	while (now_ns() == t0)
		;
}

/* The stand-in kernel --------------------------------------------------- */

#define FAKE_EVENTS	64

struct applied {
	struct ktracer_op op;	/* ts: as applied (the call's start if 0) */
	char msg[KTRACER_LOG_MAX];
	pthread_t caller;
};

struct fake {
	pthread_mutex_t lock;
	uint64_t last_call;	/* start of the previous OP or BATCH call */
	uint32_t nevents;
	struct {
		char name[KTRACER_NAME_MAX];
		uint32_t kind, slots;
		uint64_t *start;	/* spans: START time per slot, 0 closed */
	} ev[FAKE_EVENTS + 1];
	struct applied *log;
	size_t nlog, caplog;
	uint32_t ops, batches, registers, max_batch;
	/* Refuse the op at this index of the next batch; -1: none. */
	int fail_at, fail_err;
	/* Fail the next batch as a whole, writing nothing back. */
	int fail_whole;
};

static void fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	f->last_call = now_ns();
	f->fail_at = -1;
}

static void fake_fini(struct fake *f)
{
	uint32_t i;

	for (i = 1; i <= f->nevents; i++)
		free(f->ev[i].start);
	free(f->log);
	pthread_mutex_destroy(&f->lock);
}

static int fake_register(struct fake *f, struct ktracer_register *r)
{
	uint32_t i;

	f->registers++;
	if (r->kind < KTRACER_KIND_SPAN || r->kind > KTRACER_KIND_LOG ||
	    (r->kind == KTRACER_KIND_SPAN ?
	     r->slots < 1 || r->slots > KTRACER_SLOTS_MAX : r->slots != 0))
		return -EINVAL;
	if (!memchr(r->name, 0, sizeof(r->name)))
		return -ENAMETOOLONG;
	if (!r->name[0])
		return -EINVAL;
	for (i = 1; i <= f->nevents; i++) {
		if (strcmp(f->ev[i].name, r->name))
			continue;
		if (f->ev[i].kind != r->kind || f->ev[i].slots != r->slots)
			return -EEXIST;
		r->id = i;
		return 0;
	}
	if (f->nevents == FAKE_EVENTS)
		return -ENOSPC;
	i = ++f->nevents;
	strcpy(f->ev[i].name, r->name);
	f->ev[i].kind = r->kind;
	f->ev[i].slots = r->slots;
	if (r->kind == KTRACER_KIND_SPAN)
		f->ev[i].start = calloc(r->slots, sizeof(uint64_t));
	r->id = i;
	return 0;
}

/* One op, with the kernel's checks, in its order. */
static int fake_apply(struct fake *f, const struct ktracer_op *in,
		      uint64_t bound, uint64_t now)
{
	struct applied a;
	uint64_t ts = in->ts ? in->ts : now;
	uint32_t i;

	if (in->size != sizeof(*in) || in->op < KTRACER_OP_START ||
	    in->op > KTRACER_OP_LOG || in->flags || in->__reserved)
		return -EINVAL;
	if (in->event == 0 || in->event > f->nevents)
		return -ENOENT;
	if (f->ev[in->event].kind != ktl_op_kind(in->op))
		return -EINVAL;
	if (in->len && in->op != KTRACER_OP_LOG)
		return -EINVAL;
	if (in->op == KTRACER_OP_START || in->op == KTRACER_OP_STOP) {
		if (in->slot >= f->ev[in->event].slots)
			return -ERANGE;
	} else if (in->slot) {
		return -EINVAL;
	}
	if (in->ts && (in->ts > now || in->ts < bound))
		return -EINVAL;

	memset(&a, 0, sizeof(a));
	a.op = *in;
	a.op.ts = ts;
	a.caller = pthread_self();
	switch (in->op) {
	case KTRACER_OP_START:
		if (f->ev[in->event].start[in->slot])
			return -EBUSY;
		f->ev[in->event].start[in->slot] = ts;
		break;
	case KTRACER_OP_STOP:
		if (!f->ev[in->event].start[in->slot])
			return -ENOENT;
		f->ev[in->event].start[in->slot] = 0;
		break;
	case KTRACER_OP_CANCEL:
		for (i = 0; i < f->ev[in->event].slots; i++)
			f->ev[in->event].start[i] = 0;
		break;
	case KTRACER_OP_LOG:
		if (in->len == 0 || in->len > KTRACER_LOG_MAX)
			return -EMSGSIZE;
		if (!in->value)
			return -EFAULT;
		memcpy(a.msg, (const void *)(uintptr_t)in->value, in->len);
		break;
	}
	if (f->nlog == f->caplog) {
		f->caplog = f->caplog ? 2 * f->caplog : 1024;
		f->log = realloc(f->log, f->caplog * sizeof(*f->log));
		if (!f->log)
			abort();
	}
	f->log[f->nlog++] = a;
	return 0;
}

/* The previous call's start, as the kernel's kt_call_begin(). */
static uint64_t fake_call_begin(struct fake *f, uint64_t *now)
{
	uint64_t bound = f->last_call;

	*now = now_ns();
	f->last_call = *now;
	return bound;
}

static int fake_batch(struct fake *f, struct ktracer_batch *b)
{
	const struct ktracer_op *ops = (const void *)(uintptr_t)b->ops;
	uint64_t bound, now;
	uint32_t i;
	int err = 0;

	f->batches++;
	if (b->size != sizeof(*b) || b->flags || b->count == 0 ||
	    b->count > KTRACER_BATCH_MAX || b->op_size != sizeof(*ops))
		return -EINVAL;
	if (b->count > f->max_batch)
		f->max_batch = b->count;
	bound = fake_call_begin(f, &now);
	if (f->fail_whole) {
		f->fail_whole = 0;
		return -EFAULT;
	}
	for (i = 0; i < b->count && !err; i++) {
		if ((int)i == f->fail_at) {
			err = f->fail_err;
			f->fail_at = -1;
		} else {
			err = fake_apply(f, &ops[i], bound, now);
		}
	}
	b->done = err ? i - 1 : i;
	b->error = err;
	return err;
}

static int fake_ioctl(struct ktracer *t, unsigned long cmd, void *arg)
{
	struct fake *f = t->ioctl_ctx;
	uint64_t bound, now;
	int err;

	pthread_mutex_lock(&f->lock);
	switch (cmd) {
	case KTRACER_IOC_REGISTER:
		err = fake_register(f, arg);
		break;
	case KTRACER_IOC_OP:
		f->ops++;
		bound = fake_call_begin(f, &now);
		err = fake_apply(f, arg, bound, now);
		break;
	case KTRACER_IOC_BATCH:
		err = fake_batch(f, arg);
		break;
	default:
		err = -ENOTTY;
	}
	pthread_mutex_unlock(&f->lock);
	return err;
}

/* A tracer on the stand-in, tracing on, its events, a queue. */
struct rig {
	struct fake f;
	struct ktracer_state state;
	struct ktracer *t;
	struct ktracer_queue *q;	/* the first queue */
	uint32_t span, gauge, counter, log;
};

#define RIG_SLOTS	130	/* three words of slot bits */

static int rig_open(struct rig *r, uint32_t flags, uint32_t max_queues,
		    uint32_t log_bytes)
{
	struct ktracer_lib_options o;
	struct ktl_config cfg;
	int err;

	memset(&o, 0, sizeof(o));
	o.size = sizeof(o);
	o.flags = flags;
	o.max_queues = max_queues;
	o.log_bytes = log_bytes;
	fake_init(&r->f);
	memset(&r->state, 0, sizeof(r->state));
	r->state.magic = KTRACER_STATE_MAGIC;
	r->state.enabled = 1;
	err = ktl_config_init(&cfg, &o);
	if (!err)
		err = ktl_tracer_new(&cfg, &r->t);
	if (err)
		return err;
	r->t->state = &r->state;
	r->t->ioctl = fake_ioctl;
	r->t->ioctl_ctx = &r->f;
	err = ktracer_declare(r->t, "span", KTRACER_KIND_SPAN, RIG_SLOTS,
			      &r->span);
	if (!err)
		err = ktracer_declare(r->t, "gauge", KTRACER_KIND_GAUGE, 0,
				      &r->gauge);
	if (!err)
		err = ktracer_declare(r->t, "counter", KTRACER_KIND_COUNTER, 0,
				      &r->counter);
	if (!err)
		err = ktracer_declare(r->t, "log", KTRACER_KIND_LOG, 0, &r->log);
	if (!err)
		err = ktracer_queue_open(r->t, &r->q);
	return err;
}

static void rig_close(struct rig *r)
{
	if (r->t)
		ktracer_close(r->t);
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

/* Tests ------------------------------------------------------------------ */

static void test_capacity(void)
{
	uint32_t m, cap;

	CHECK(ktl_queue_capacity(0) == 0, "no queues");
	CHECK(ktl_queue_capacity(KTRACER_BATCH_MAX + 1) == 0, "too many");
	CHECK(ktl_queue_capacity(1) == KTRACER_BATCH_MAX, "one queue");
	CHECK(ktl_queue_capacity(64) == 64, "the default");
	CHECK(ktl_queue_capacity(3) == 1024, "4096 / 3 = 1365 -> 1024");
	CHECK(ktl_queue_capacity(65) == 32, "4096 / 65 = 63 -> 32");
	CHECK(ktl_queue_capacity(KTRACER_BATCH_MAX) == 1, "one op each");
	for (m = 1; m <= KTRACER_BATCH_MAX; m++) {
		cap = ktl_queue_capacity(m);
		/* Every queue full still fits one batch... */
		CHECK((uint64_t)cap * m <= KTRACER_BATCH_MAX, "m=%u cap=%u", m, cap);
		/* ...a ring index is a mask... */
		CHECK(cap && !(cap & (cap - 1)), "m=%u cap=%u", m, cap);
		/* ...and no more is given up than that takes. */
		CHECK((uint64_t)cap * 2 * m > KTRACER_BATCH_MAX, "m=%u cap=%u", m, cap);
	}
}

static void test_options(void)
{
	struct {
		struct ktracer_lib_options o;
		uint64_t future[2];
	} big;
	struct ktracer_lib_options o;
	struct ktl_config c;

	CHECK_RET(0, ktl_config_init(&c, NULL));
	CHECK(c.max_queues == 64 && c.queue_cap == 64 && c.flags == 0,
	      "defaults: %u queues of %u", c.max_queues, c.queue_cap);
	CHECK(c.log_bytes == 64 * KTL_LOG_BYTES_PER_OP, "log_bytes %u", c.log_bytes);
	CHECK(!strcmp(c.device, KTRACER_DEVICE), "device %s", c.device);

	memset(&o, 0, sizeof(o));
	o.size = sizeof(o);
	CHECK_RET(0, ktl_config_init(&c, &o));
	CHECK(c.queue_cap == 64, "zeroes are the defaults");
	CHECK(sizeof(o) == KTRACER_LIB_OPTIONS_SIZE_VER0, "size %zu", sizeof(o));
	o.size = KTRACER_LIB_OPTIONS_SIZE_VER0 - 1;
	CHECK_RET(-EINVAL, ktl_config_init(&c, &o));
	o.size = 0;
	CHECK_RET(-EINVAL, ktl_config_init(&c, &o));
	o.size = KTL_OPTIONS_SIZE_MAX + 1;
	CHECK_RET(-EINVAL, ktl_config_init(&c, &o));

	/* A newer caller's larger struct: fine while the rest is zero. */
	memset(&big, 0, sizeof(big));
	big.o.size = sizeof(big);
	big.o.max_queues = 2;
	CHECK_RET(0, ktl_config_init(&c, &big.o));
	CHECK(c.max_queues == 2 && c.queue_cap == 2048, "cap %u", c.queue_cap);
	big.future[1] = 1;
	CHECK_RET(-E2BIG, ktl_config_init(&c, &big.o));

	o.size = sizeof(o);
	o.flags = 2;
	CHECK_RET(-EINVAL, ktl_config_init(&c, &o));
	o.flags = KTRACER_LIB_UNBATCHED;
	CHECK_RET(0, ktl_config_init(&c, &o));
	CHECK(c.queue_cap == 0 && c.log_bytes == 0, "unbatched: no storage");
	o.flags = 0;
	o.max_queues = KTRACER_BATCH_MAX + 1;
	CHECK_RET(-EINVAL, ktl_config_init(&c, &o));
	o.max_queues = KTRACER_BATCH_MAX;
	CHECK_RET(0, ktl_config_init(&c, &o));
	CHECK(c.queue_cap == 1 && c.log_bytes == KTRACER_LOG_MAX,
	      "cap %u log_bytes %u: room for one message at least",
	      c.queue_cap, c.log_bytes);
	o.log_bytes = KTRACER_LOG_MAX - 1;
	CHECK_RET(-EINVAL, ktl_config_init(&c, &o));
	o.log_bytes = KTRACER_LIB_LOG_BYTES_MAX + 1;
	CHECK_RET(-EINVAL, ktl_config_init(&c, &o));
	o.log_bytes = KTRACER_LOG_MAX;
	o.device = "/dev/elsewhere";
	CHECK_RET(0, ktl_config_init(&c, &o));
	CHECK(c.log_bytes == KTRACER_LOG_MAX, "log_bytes %u", c.log_bytes);
	CHECK(!strcmp(c.device, "/dev/elsewhere"), "device %s", c.device);
}

/* What can be checked without a tracer, and opening what is no device. */
static void test_null_and_open(void)
{
	struct ktracer_lib_options o;
	struct ktracer_lib_stats st;
	struct ktracer_queue *q = (void *)1;
	struct ktracer *t = (void *)1;
	uint32_t id = 7;

	memset(&o, 0, sizeof(o));
	o.size = sizeof(o);
	CHECK_RET(-EINVAL, ktracer_open(NULL, NULL));
	o.device = "/nonexistent/ktracer";
	CHECK_RET(-ENOENT, ktracer_open(&t, &o));
	CHECK(t == NULL, "*tp on failure");
	o.device = "/dev/null";		/* a device, but no VERSION */
	t = (void *)1;
	CHECK_RET(-ENOTTY, ktracer_open(&t, &o));
	CHECK(t == NULL, "*tp on failure");
	o.flags = 8;
	t = (void *)1;
	CHECK_RET(-EINVAL, ktracer_open(&t, &o));
	CHECK(t == NULL, "*tp on failure");

	CHECK_RET(0, ktracer_close(NULL));
	CHECK_RET(-EINVAL, ktracer_declare(NULL, "x", KTRACER_KIND_LOG, 0, &id));
	CHECK(id == 7, "id untouched");
	CHECK_RET(-EINVAL, ktracer_queue_open(NULL, &q));
	CHECK(q == NULL, "*qp on failure");
	CHECK_RET(0, ktracer_queue_close(NULL));
	CHECK_RET(-EINVAL, ktracer_flush(NULL));
	CHECK_RET(-EINVAL, ktracer_get_stats(NULL, &st));
	CHECK(ktracer_enabled(NULL) == 0, "no tracer: off");

	/* A NULL queue is "not tracing": every op does nothing. */
	CHECK_RET(0, ktracer_start(NULL, 1, 0, 0));
	CHECK_RET(0, ktracer_stop(NULL, 1, 0, 0));
	CHECK_RET(0, ktracer_cancel(NULL, 1));
	CHECK_RET(0, ktracer_gauge(NULL, 1, 0));
	CHECK_RET(0, ktracer_count(NULL, 1, 0));
	CHECK_RET(0, ktracer_log(NULL, 1, NULL, 0));
}

static void test_declare(void)
{
	struct rig r;
	uint32_t id = 0, again = 0;
	char name[KTRACER_NAME_MAX + 1];

	REQUIRE(rig_open(&r, 0, 0, 0) == 0, "rig");
	CHECK(r.span == 1 && r.gauge == 2 && r.counter == 3 && r.log == 4,
	      "ids %u %u %u %u", r.span, r.gauge, r.counter, r.log);
	CHECK_RET(0, ktracer_declare(r.t, "gauge", KTRACER_KIND_GAUGE, 0, &id));
	CHECK(id == r.gauge, "the same name, the same id: %u", id);
	CHECK_RET(-EEXIST, ktracer_declare(r.t, "gauge", KTRACER_KIND_COUNTER,
					   0, &again));
	CHECK_RET(-EINVAL, ktracer_declare(r.t, "s", KTRACER_KIND_SPAN, 0, &again));
	CHECK_RET(-EINVAL, ktracer_declare(r.t, "s", 9, 0, &again));
	CHECK_RET(-EINVAL, ktracer_declare(r.t, NULL, KTRACER_KIND_LOG, 0, &id));
	CHECK_RET(-EINVAL, ktracer_declare(r.t, "s", KTRACER_KIND_LOG, 0, NULL));
	memset(name, 'n', sizeof(name));
	name[KTRACER_NAME_MAX - 1] = '\0';
	CHECK_RET(0, ktracer_declare(r.t, name, KTRACER_KIND_LOG, 0, &id));
	name[KTRACER_NAME_MAX - 1] = 'n';
	name[KTRACER_NAME_MAX] = '\0';
	CHECK_RET(-ENAMETOOLONG, ktracer_declare(r.t, name, KTRACER_KIND_LOG,
						 0, &again));
	CHECK(again == 0, "id untouched on failure");
	rig_close(&r);
}

/* Errors found at the call: returned, nothing queued, nothing counted. */
static void test_arguments(void)
{
	static const char msg[KTRACER_LOG_MAX + 1] = "message";
	struct ktracer_lib_stats st;
	struct ktracer_queue *q;
	struct rig r;

	REQUIRE(rig_open(&r, 0, 0, 0) == 0, "rig");
	q = r.q;
	CHECK_RET(-ENOENT, ktracer_start(q, 0, 0, 0));
	CHECK_RET(-ENOENT, ktracer_start(q, KTRACER_EVENT_ID_MAX + 1, 0, 0));
	CHECK_RET(-ENOENT, ktracer_start(q, UINT32_MAX, 0, 0));
	CHECK_RET(-ENOENT, ktracer_start(q, 5, 0, 0));	/* not declared */
	CHECK_RET(-EINVAL, ktracer_start(q, r.gauge, 0, 0));
	CHECK_RET(-EINVAL, ktracer_stop(q, r.log, 0, 0));
	CHECK_RET(-EINVAL, ktracer_cancel(q, r.counter));
	CHECK_RET(-EINVAL, ktracer_gauge(q, r.span, 0));
	CHECK_RET(-EINVAL, ktracer_count(q, r.gauge, 0));
	CHECK_RET(-EINVAL, ktracer_log(q, r.gauge, msg, 1));
	CHECK_RET(-ERANGE, ktracer_start(q, r.span, RIG_SLOTS, 0));
	CHECK_RET(-ERANGE, ktracer_stop(q, r.span, UINT32_MAX, 0));
	CHECK_RET(-EMSGSIZE, ktracer_log(q, r.log, msg, 0));
	CHECK_RET(-EMSGSIZE, ktracer_log(q, r.log, msg, KTRACER_LOG_MAX + 1));
	CHECK_RET(-EMSGSIZE, ktracer_log(q, r.log, msg, SIZE_MAX));
	CHECK_RET(-EFAULT, ktracer_log(q, r.log, NULL, 4));
	/* The kernel's order: the event first, then the message. */
	CHECK_RET(-ENOENT, ktracer_log(q, 0, NULL, 0));
	st = rig_stats(&r);
	CHECK_STAT(st, queued, 0);
	CHECK_STAT(st, pending, 0);
	CHECK_STAT(st, failed, 0);
	CHECK_RET(0, ktracer_flush(r.t));
	CHECK(r.f.batches == 0, "nothing to flush: no call");
	/* Valid: the last slot, the longest message. */
	CHECK_RET(0, ktracer_start(q, r.span, RIG_SLOTS - 1, 0));
	CHECK_RET(0, ktracer_log(q, r.log, msg, KTRACER_LOG_MAX));
	CHECK_RET(0, ktracer_queue_close(q));
	CHECK(r.f.batches == 1 && r.f.nlog == 2, "batches %u applied %zu",
	      r.f.batches, r.f.nlog);
	rig_close(&r);
}

/* Tracing off: every op returns 0 and does nothing, invalid ones too. */
static void test_disabled(void)
{
	struct ktracer_lib_stats st;
	struct ktracer_queue *q;
	struct rig r;
	int i;

	REQUIRE(rig_open(&r, 0, 0, 0) == 0, "rig");
	q = r.q;
	CHECK(ktracer_enabled(r.t) == 1, "on");
	r.state.enabled = 0;
	CHECK(ktracer_enabled(r.t) == 0, "off");
	for (i = 0; i < 1000; i++) {
		CHECK_RET(0, ktracer_start(q, r.span, 0, i));
		CHECK_RET(0, ktracer_start(q, r.span, 0, i));
		CHECK_RET(0, ktracer_stop(q, r.span, 1, i));
		CHECK_RET(0, ktracer_cancel(q, r.span));
		CHECK_RET(0, ktracer_gauge(q, r.gauge, i));
		CHECK_RET(0, ktracer_count(q, r.counter, i));
		CHECK_RET(0, ktracer_log(q, r.log, "off", 3));
		CHECK_RET(0, ktracer_start(q, 0, RIG_SLOTS, 0));
		CHECK_RET(0, ktracer_log(q, r.log, NULL, 0));
	}
	st = rig_stats(&r);
	CHECK_STAT(st, queued, 0);
	CHECK_STAT(st, pending, 0);
	CHECK_STAT(st, syscalls, 0);
	CHECK_RET(0, ktracer_flush(r.t));
	CHECK(r.f.batches == 0 && r.f.ops == 0, "no call");

	/* Back on: the ops do what they say. */
	r.state.enabled = 1;
	CHECK_RET(0, ktracer_stop(q, r.span, 0, 0));
	CHECK_RET(-ENOENT, ktracer_flush(r.t));
	rig_close(&r);
}

/*
 * The ring: ops wait until the queue is full, then the op that finds it
 * full flushes; each op keeps the time of its call.
 */
static void test_ring(void)
{
	enum { N = 64 * 3 + 5 };
	uint64_t before[N], after[N];
	struct ktracer_lib_stats st;
	struct ktracer_queue *q;
	struct rig r;
	size_t i;

	REQUIRE(rig_open(&r, 0, 0, 0) == 0, "rig");
	q = r.q;
	REQUIRE(q->cap == 64, "cap %u", q->cap);
	for (i = 0; i < N; i++) {
		before[i] = now_ns();
		CHECK_RET(0, ktracer_gauge(q, r.gauge, (int64_t)i - 100));
		after[i] = now_ns();
		CHECK(r.f.batches == i / 64, "op %zu: %u batches", i, r.f.batches);
	}
	st = rig_stats(&r);
	CHECK_STAT(st, queued, N);
	CHECK_STAT(st, pending, N % 64);
	CHECK_STAT(st, applied, N - N % 64);
	CHECK_STAT(st, batches, 3);
	CHECK_STAT(st, syscalls, 3);
	CHECK_RET(0, ktracer_flush(r.t));
	CHECK(r.f.max_batch == 64, "largest batch %u", r.f.max_batch);
	REQUIRE(r.f.nlog == N, "applied %zu", r.f.nlog);
	for (i = 0; i < N; i++) {
		const struct ktracer_op *op = &r.f.log[i].op;

		CHECK((int64_t)op->value == (int64_t)i - 100, "op %zu", i);
		CHECK(op->ts >= before[i] && op->ts <= after[i],
		      "op %zu: ts %llu outside its call [%llu, %llu]", i,
		      (unsigned long long)op->ts, (unsigned long long)before[i],
		      (unsigned long long)after[i]);
	}
	st = rig_stats(&r);
	CHECK_STAT(st, pending, 0);
	CHECK_STAT(st, applied, N);
	CHECK_STAT(st, failed, 0);
	rig_close(&r);
}

/*
 * Messages are copied into the queue's storage; storage that cannot take
 * the next message makes a flush, after which it is all free again.
 */
static void test_messages(void)
{
	char buf[KTRACER_LOG_MAX];
	struct ktracer_queue *q;
	struct rig r;
	size_t i;

	REQUIRE(rig_open(&r, 0, 0, 300) == 0, "rig");
	q = r.q;
	memset(buf, 'a', sizeof(buf));
	buf[10] = '\0';		/* any bytes: a NUL too */
	CHECK_RET(0, ktracer_log(q, r.log, buf, 200));
	memset(buf, 'b', sizeof(buf));	/* the caller reuses its buffer */
	CHECK_RET(0, ktracer_log(q, r.log, buf, 100));
	CHECK(r.f.batches == 0 && q->msg_used == 300, "300 bytes fit: %u",
	      q->msg_used);
	memset(buf, 'c', sizeof(buf));
	CHECK_RET(0, ktracer_log(q, r.log, buf, 1));
	CHECK(r.f.batches == 1, "the 301st byte flushes: %u", r.f.batches);
	CHECK(q->msg_used == 1, "storage free again: %u", q->msg_used);
	CHECK_RET(0, ktracer_gauge(q, r.gauge, 5));	/* no message */
	CHECK_RET(0, ktracer_flush(r.t));
	REQUIRE(r.f.nlog == 4, "applied %zu", r.f.nlog);
	CHECK(r.f.log[0].op.len == 200 && r.f.log[0].msg[0] == 'a' &&
	      r.f.log[0].msg[10] == '\0' && r.f.log[0].msg[199] == 'a',
	      "first message");
	for (i = 0; i < 100; i++)
		CHECK(r.f.log[1].msg[i] == 'b', "second message byte %zu", i);
	CHECK(r.f.log[1].op.len == 100, "len %u", r.f.log[1].op.len);
	CHECK(r.f.log[2].op.len == 1 && r.f.log[2].msg[0] == 'c', "third");
	CHECK(r.f.log[3].op.op == KTRACER_OP_GAUGE, "gauge");
	rig_close(&r);
}

/*
 * Two queues, one flush: one batch, in time-stamp order, so that a STOP
 * on one queue follows the START on another that came first.
 */
static void test_merge(void)
{
	struct ktracer_queue *q[3];
	struct rig r;
	size_t i;

	REQUIRE(rig_open(&r, 0, 4, 0) == 0, "rig");
	q[0] = r.q;
	for (i = 1; i < 3; i++)
		REQUIRE(ktracer_queue_open(r.t, &q[i]) == 0, "queue %zu", i);
	for (i = 0; i < 90; i++) {
		tick();
		CHECK_RET(0, ktracer_count(q[i % 3 == 2 ? 0 : i % 3 + 1],
					   r.counter, i));
	}
	/* Started on the last queue, stopped on the first. */
	CHECK_RET(0, ktracer_start(q[2], r.span, 3, 0));
	tick();
	CHECK_RET(0, ktracer_stop(q[0], r.span, 3, 0));
	CHECK_RET(0, ktracer_flush(r.t));
	CHECK(r.f.batches == 1, "one batch: %u", r.f.batches);
	REQUIRE(r.f.nlog == 92, "applied %zu", r.f.nlog);
	for (i = 0; i < 90; i++)
		CHECK(r.f.log[i].op.value == i, "op %zu is %llu", i,
		      (unsigned long long)r.f.log[i].op.value);
	for (i = 1; i < r.f.nlog; i++)
		CHECK(r.f.log[i - 1].op.ts <= r.f.log[i].op.ts, "op %zu", i);
	CHECK(r.f.log[90].op.op == KTRACER_OP_START &&
	      r.f.log[91].op.op == KTRACER_OP_STOP, "START, then STOP");
	CHECK(rig_stats(&r).failed == 0, "nothing failed");
	rig_close(&r);
}

static void check_last(struct rig *r, int err, uint16_t op, uint32_t slot,
		       uint64_t failed)
{
	struct ktracer_lib_stats st = rig_stats(r);

	CHECK_STAT(st, failed, failed);
	CHECK(st.last_error == err, "last_error %d, want %d", st.last_error, err);
	CHECK(st.last_op == op, "last_op %u, want %u", st.last_op, op);
	CHECK(st.last_event == r->span, "last_event %u", st.last_event);
	CHECK(st.last_slot == slot, "last_slot %u, want %u", st.last_slot, slot);
	CHECK(st.last_ts != 0, "last_ts");
}

/*
 * EBUSY and ENOENT come from the flush: the op is left out, counted, and
 * the ops around it applied. The slot state carries over to the next
 * flush as the kernel's does.
 */
static void test_slot_errors(void)
{
	struct ktracer_queue *q;
	struct rig r;

	REQUIRE(rig_open(&r, 0, 0, 0) == 0, "rig");
	q = r.q;
	CHECK_RET(0, ktracer_start(q, r.span, 0, 1));
	CHECK_RET(0, ktracer_start(q, r.span, 0, 2));	/* EBUSY */
	CHECK_RET(0, ktracer_gauge(q, r.gauge, 3));
	CHECK_RET(0, ktracer_stop(q, r.span, 129, 4));	/* ENOENT */
	CHECK_RET(0, ktracer_start(q, r.span, 129, 5));
	CHECK_RET(0, ktracer_stop(q, r.span, 0, 6));
	CHECK_RET(-EBUSY, ktracer_flush(r.t));
	check_last(&r, -ENOENT, KTRACER_OP_STOP, 129, 2);
	REQUIRE(r.f.nlog == 4, "applied %zu", r.f.nlog);
	CHECK(r.f.log[0].op.value == 1 && r.f.log[1].op.value == 3 &&
	      r.f.log[2].op.value == 5 && r.f.log[3].op.value == 6,
	      "the ops around the failures");

	/* Slot 129 is open, slot 0 closed, as in the kernel. */
	CHECK_RET(0, ktracer_start(q, r.span, 129, 7));	/* EBUSY */
	CHECK_RET(0, ktracer_stop(q, r.span, 0, 8));	/* ENOENT */
	CHECK_RET(-EBUSY, ktracer_flush(r.t));
	check_last(&r, -ENOENT, KTRACER_OP_STOP, 0, 4);

	/* CANCEL closes every slot. */
	CHECK_RET(0, ktracer_start(q, r.span, 64, 9));
	CHECK_RET(0, ktracer_cancel(q, r.span));
	CHECK_RET(0, ktracer_start(q, r.span, 129, 10));
	CHECK_RET(0, ktracer_start(q, r.span, 64, 11));
	CHECK_RET(0, ktracer_stop(q, r.span, 64, 12));
	CHECK_RET(0, ktracer_flush(r.t));
	CHECK(rig_stats(&r).failed == 4, "no more failures");
	CHECK(r.f.nlog == 9, "applied %zu", r.f.nlog);
	rig_close(&r);
}

/*
 * The kernel refusing an op after all: it and the ops after it in the
 * batch fail; the slot state is what the kernel applied.
 */
static void test_kernel_refuses(void)
{
	struct ktracer_lib_stats st;
	struct ktracer_queue *q;
	struct rig r;

	REQUIRE(rig_open(&r, 0, 0, 0) == 0, "rig");
	q = r.q;
	CHECK_RET(0, ktracer_start(q, r.span, 0, 0));
	CHECK_RET(0, ktracer_start(q, r.span, 1, 0));
	CHECK_RET(0, ktracer_stop(q, r.span, 0, 0));
	CHECK_RET(0, ktracer_gauge(q, r.gauge, 0));
	r.f.fail_at = 1;
	r.f.fail_err = -EINVAL;
	CHECK_RET(-EINVAL, ktracer_flush(r.t));
	check_last(&r, -EINVAL, KTRACER_OP_START, 1, 3);
	st = rig_stats(&r);
	CHECK_STAT(st, applied, 1);
	CHECK_STAT(st, pending, 0);
	/* The kernel has slot 0 open, slot 1 closed. */
	CHECK_RET(0, ktracer_stop(q, r.span, 1, 0));	/* ENOENT */
	CHECK_RET(0, ktracer_stop(q, r.span, 0, 0));
	CHECK_RET(-ENOENT, ktracer_flush(r.t));
	check_last(&r, -ENOENT, KTRACER_OP_STOP, 1, 4);

	/* A precheck failure before the kernel's comes first. */
	CHECK_RET(0, ktracer_stop(q, r.span, 2, 0));	/* ENOENT */
	CHECK_RET(0, ktracer_start(q, r.span, 2, 0));
	CHECK_RET(0, ktracer_start(q, r.span, 3, 0));
	r.f.fail_at = 1;
	r.f.fail_err = -EFAULT;
	CHECK_RET(-ENOENT, ktracer_flush(r.t));
	check_last(&r, -EFAULT, KTRACER_OP_START, 3, 6);
	/* The batch as a whole fails, nothing written back. */
	CHECK_RET(0, ktracer_start(q, r.span, 3, 0));
	CHECK_RET(0, ktracer_gauge(q, r.gauge, 0));
	r.f.fail_whole = 1;
	CHECK_RET(-EFAULT, ktracer_flush(r.t));
	check_last(&r, -EFAULT, KTRACER_OP_START, 3, 8);
	/* Slot 2 open, slot 3 never was. */
	CHECK_RET(0, ktracer_stop(q, r.span, 2, 0));
	CHECK_RET(0, ktracer_start(q, r.span, 3, 0));
	CHECK_RET(0, ktracer_flush(r.t));
	CHECK(rig_stats(&r).failed == 8, "no more failures");
	rig_close(&r);
}

/* Unbatched: one OP call per op, its error at the call. */
static void test_unbatched(void)
{
	struct ktracer_lib_stats st;
	struct ktracer_queue *q;
	struct rig r;
	char buf[8] = "abc";

	REQUIRE(rig_open(&r, KTRACER_LIB_UNBATCHED, 0, 0) == 0, "rig");
	q = r.q;
	CHECK(q->cap == 0 && q->ops == NULL && q->msg == NULL, "no storage");
	CHECK_RET(0, ktracer_start(q, r.span, 0, 1));
	CHECK_RET(-EBUSY, ktracer_start(q, r.span, 0, 2));
	CHECK_RET(-ENOENT, ktracer_stop(q, r.span, 1, 3));
	CHECK_RET(0, ktracer_stop(q, r.span, 0, 4));
	CHECK_RET(0, ktracer_log(q, r.log, buf, 3));
	CHECK_RET(-ERANGE, ktracer_start(q, r.span, RIG_SLOTS, 0));
	CHECK(r.f.ops == 5, "OP calls %u", r.f.ops);
	CHECK_RET(0, ktracer_flush(r.t));
	CHECK(r.f.batches == 0, "no batch");
	st = rig_stats(&r);
	CHECK_STAT(st, queued, 5);
	CHECK_STAT(st, applied, 3);
	CHECK_STAT(st, failed, 2);
	CHECK_STAT(st, syscalls, 5);
	CHECK_STAT(st, batches, 0);
	CHECK(st.last_error == -ENOENT && st.last_op == KTRACER_OP_STOP &&
	      st.last_slot == 1 && st.last_ts == 0, "last %d", st.last_error);
	REQUIRE(r.f.nlog == 3, "applied %zu", r.f.nlog);
	CHECK(!strcmp(r.f.log[2].msg, "abc"), "message");
	CHECK_RET(0, ktracer_queue_close(q));
	st = rig_stats(&r);
	/* Kept after the queue closed. */
	CHECK_STAT(st, queued, 5);
	CHECK_STAT(st, syscalls, 5);
	rig_close(&r);
}

/* max_queues queues at most; closing one makes room; close flushes. */
static void test_queues(void)
{
	struct ktracer_queue *q[3];
	struct ktracer_lib_stats st;
	struct rig r;

	REQUIRE(rig_open(&r, 0, 2, 0) == 0, "rig");
	q[0] = r.q;
	CHECK_RET(0, ktracer_queue_open(r.t, &q[1]));
	q[2] = (void *)1;
	CHECK_RET(-ENOSPC, ktracer_queue_open(r.t, &q[2]));
	CHECK(q[2] == NULL, "*qp on failure");
	CHECK(q[0]->cap == 2048, "cap %u", q[0]->cap);
	CHECK_RET(0, ktracer_gauge(q[0], r.gauge, 1));
	CHECK_RET(0, ktracer_gauge(q[1], r.gauge, 2));
	CHECK_RET(0, ktracer_queue_close(q[0]));
	CHECK(r.f.nlog == 2, "closing a queue flushes them all: %zu", r.f.nlog);
	CHECK_RET(0, ktracer_queue_open(r.t, &q[2]));
	CHECK_RET(0, ktracer_gauge(q[2], r.gauge, 3));
	CHECK_RET(0, ktracer_gauge(q[1], r.gauge, 4));
	st = rig_stats(&r);
	CHECK_STAT(st, queued, 4);
	CHECK_STAT(st, pending, 2);
	/* Close flushes, and frees the queues still open. */
	CHECK_RET(0, ktracer_close(r.t));
	r.t = NULL;
	CHECK(r.f.nlog == 4, "applied %zu", r.f.nlog);
	rig_close(&r);
}

/* Threads ---------------------------------------------------------------- */

#define THREADS		8
#define THREAD_OPS	6000

struct worker {
	struct rig *r;
	unsigned int id;
	pthread_t thread;
	int errors;
};

/*
 * Each thread: spans on its own slots (nested), gauges, counts and logs
 * tagged with its id and a sequence number, and now and then a flush of
 * its own, while the others keep queuing.
 */
static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct rig *r = w->r;
	struct ktracer_queue *q;
	uint64_t tag;
	char msg[32];
	unsigned int i, slot = w->id * 2;
	int n;

	if (ktracer_queue_open(r->t, &q)) {
		w->errors++;
		return NULL;
	}
	for (i = 0; i < THREAD_OPS / 6; i++) {
		tag = (uint64_t)w->id << 32 | i;
		w->errors += !!ktracer_start(q, r->span, slot, tag);
		w->errors += !!ktracer_start(q, r->span, slot + 1, tag);
		w->errors += !!ktracer_stop(q, r->span, slot + 1, tag);
		w->errors += !!ktracer_gauge(q, r->gauge, (int64_t)tag);
		n = snprintf(msg, sizeof(msg), "%u:%u", w->id, i);
		w->errors += !!ktracer_log(q, r->log, msg, (size_t)n);
		w->errors += !!ktracer_stop(q, r->span, slot, tag);
		if (i % 97 == 0)
			w->errors += !!ktracer_flush(r->t);
	}
	w->errors += !!ktracer_queue_close(q);
	return NULL;
}

/*
 * Many threads, queues and flushes at once against the stand-in's
 * time-stamp rule: every op applied once, none refused, each thread's in
 * its order, all in time-stamp order.
 */
static void test_threads(void)
{
	struct worker w[THREADS];
	uint32_t next[THREADS], id, seq;
	struct ktracer_lib_stats st;
	struct rig r;
	size_t i;

	REQUIRE(rig_open(&r, 0, THREADS * 2, 1024) == 0, "rig");
	for (i = 0; i < THREADS; i++) {
		w[i].r = &r;
		w[i].id = i;
		w[i].errors = 0;
		REQUIRE(pthread_create(&w[i].thread, NULL, worker_run, &w[i]) == 0,
			"thread %zu", i);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(w[i].thread, NULL);
		CHECK(w[i].errors == 0, "thread %zu: %d errors", i, w[i].errors);
	}
	st = rig_stats(&r);
	CHECK(st.failed == 0, "failed %llu: last %d op %u",
	      (unsigned long long)st.failed, st.last_error, st.last_op);
	CHECK_STAT(st, queued, THREADS * THREAD_OPS);
	CHECK_STAT(st, applied, THREADS * THREAD_OPS);
	CHECK_STAT(st, pending, 0);
	CHECK(r.f.max_batch <= KTRACER_BATCH_MAX, "largest batch %u",
	      r.f.max_batch);
	REQUIRE(r.f.nlog == THREADS * THREAD_OPS, "applied %zu", r.f.nlog);
	memset(next, 0, sizeof(next));
	for (i = 0; i < r.f.nlog; i++) {
		const struct applied *a = &r.f.log[i];

		if (i)
			CHECK(r.f.log[i - 1].op.ts <= a->op.ts, "op %zu", i);
		if (a->op.op != KTRACER_OP_GAUGE)
			continue;
		id = a->op.value >> 32;
		seq = (uint32_t)a->op.value;
		REQUIRE(id < THREADS, "gauge %llx", (unsigned long long)a->op.value);
		CHECK(seq == next[id], "thread %u: gauge %u, want %u", id, seq,
		      next[id]);
		next[id] = seq + 1;
	}
	rig_close(&r);
}

/* One thread starts a span, another stops it, turn by turn. */
struct handoff {
	struct rig *r;
	_Atomic unsigned int turn;
	int errors;
};

#define HANDOFFS	3000

static void *handoff_stopper(void *arg)
{
	struct handoff *h = arg;
	struct ktracer_queue *q;
	unsigned int i;

	if (ktracer_queue_open(h->r->t, &q)) {
		h->errors++;
		return NULL;
	}
	for (i = 0; i < HANDOFFS; i++) {
		while (atomic_load(&h->turn) != 2 * i + 1)
			;
		h->errors += !!ktracer_stop(q, h->r->span, i % 3, i);
		atomic_store(&h->turn, 2 * i + 2);
	}
	ktracer_queue_close(q);
	return NULL;
}

static void test_handoff(void)
{
	struct ktracer_queue *q;
	struct handoff h;
	pthread_t stopper;
	unsigned int i;
	struct rig r;

	REQUIRE(rig_open(&r, 0, 4, 0) == 0, "rig");
	memset(&h, 0, sizeof(h));
	h.r = &r;
	atomic_init(&h.turn, 0);
	q = r.q;
	REQUIRE(pthread_create(&stopper, NULL, handoff_stopper, &h) == 0, "thread");
	for (i = 0; i < HANDOFFS; i++) {
		while (atomic_load(&h.turn) != 2 * i)
			;
		h.errors += !!ktracer_start(q, r.span, i % 3, i);
		atomic_store(&h.turn, 2 * i + 1);
	}
	pthread_join(stopper, NULL);
	CHECK_RET(0, ktracer_queue_close(q));
	CHECK(h.errors == 0, "%d errors", h.errors);
	CHECK(rig_stats(&r).failed == 0, "failed %llu",
	      (unsigned long long)rig_stats(&r).failed);
	CHECK(r.f.nlog == 2 * HANDOFFS, "applied %zu", r.f.nlog);
	rig_close(&r);
}

static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
	{ "queue capacity: a power of two, all queues in one batch", test_capacity },
	{ "options: defaults, sizes, flags, ranges", test_options },
	{ "NULL tracer and queue; opening what is no ktracer", test_null_and_open },
	{ "declare: ids, errors", test_declare },
	{ "ops: errors found at the call, nothing queued", test_arguments },
	{ "tracing off: ops return 0, queue nothing, call nothing", test_disabled },
	{ "ring: full queue flushes, ts is the call's", test_ring },
	{ "log messages: copied, storage full flushes", test_messages },
	{ "merge: every queue in one batch, in ts order", test_merge },
	{ "EBUSY, ENOENT at the flush, the rest applied", test_slot_errors },
	{ "the kernel refusing a batch's op", test_kernel_refuses },
	{ "unbatched: one OP call per op, errors at the call", test_unbatched },
	{ "queues: max_queues, close flushes", test_queues },
	{ "threads: concurrent queues and flushes, the ts rule", test_threads },
	{ "threads: START on one, STOP on another", test_handoff },
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
