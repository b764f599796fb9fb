// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Queues and the ops: what a thread calls on the hot path. An op checks
 * tracing is on (one load), its arguments against the events the tracer
 * declared, then takes the time and appends to its thread's ring, with
 * no lock and no allocation (see the owner/flush protocol in internal.h);
 * or, unbatched, makes one KTRACER_IOC_OP call.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

void ktl_queue_free(struct ktracer_queue *q)
{
	free(q->ops);
	free(q->msg);
	free(q);
}

KTL_EXPORT int ktracer_queue_open(struct ktracer *t, struct ktracer_queue **qp)
{
	struct ktracer_queue *q;
	size_t size = (sizeof(*q) + KTL_CACHELINE - 1) & ~(size_t)(KTL_CACHELINE - 1);
	uint32_t i;

	if (qp)
		*qp = NULL;
	if (!t || !qp)
		return -EINVAL;
	q = aligned_alloc(KTL_CACHELINE, size);
	if (!q)
		return -ENOMEM;
	memset(q, 0, sizeof(*q));
	q->t = t;
	q->enabled = &t->state->enabled;
	q->events = t->events;
	q->cap = t->cfg.queue_cap;
	q->log_bytes = t->cfg.log_bytes;
	atomic_init(&q->queued, 0);
	atomic_init(&q->applied, 0);
	atomic_init(&q->syscalls, 0);
	atomic_init(&q->head, 0);
	atomic_init(&q->busy, 0);
	atomic_init(&q->tail, 0);
	if (q->cap) {
		q->ops = calloc(q->cap, sizeof(*q->ops));
		q->msg = malloc(q->log_bytes);
		if (!q->ops || !q->msg) {
			ktl_queue_free(q);
			return -ENOMEM;
		}
	}

	pthread_mutex_lock(&t->lock);
	for (i = 0; i < t->cfg.max_queues && t->queues[i]; i++)
		;
	if (i < t->cfg.max_queues) {
		q->index = i;
		t->queues[i] = q;
	}
	pthread_mutex_unlock(&t->lock);
	if (i == t->cfg.max_queues) {
		ktl_queue_free(q);
		return -ENOSPC;
	}
	*qp = q;
	return 0;
}

KTL_EXPORT int ktracer_queue_close(struct ktracer_queue *q)
{
	struct ktracer *t;
	int err;

	if (!q)
		return 0;
	t = q->t;
	pthread_mutex_lock(&t->lock);
	err = ktl_flush_locked(t);
	t->queues[q->index] = NULL;
	t->stats.queued += atomic_load_explicit(&q->queued, memory_order_relaxed);
	t->stats.applied += atomic_load_explicit(&q->applied, memory_order_relaxed);
	t->stats.syscalls += atomic_load_explicit(&q->syscalls, memory_order_relaxed);
	pthread_mutex_unlock(&t->lock);
	ktl_queue_free(q);
	return err;
}

/* Tracing is off, or there is no tracer: the ops' first and only test. */
static inline bool ktl_off(const struct ktracer_queue *q)
{
	return ktl_unlikely(!q) ||
	       !__atomic_load_n(q->enabled, __ATOMIC_RELAXED);
}

/* A counter only its owner writes: no read-modify-write needed. */
static inline void ktl_inc(_Atomic uint64_t *c)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

/* Whether @op on @event's @slot can be queued: 0, or why not. */
static int ktl_check(const struct ktracer_queue *q, uint16_t op,
		     uint32_t event, uint32_t slot)
{
	const struct ktl_event *ev;
	uint32_t kind;

	if (event == 0 || event > KTRACER_EVENT_ID_MAX)
		return -ENOENT;
	ev = &q->events[event];
	/* Pairs with the release in ktl_event_set(): slots are there. */
	kind = atomic_load_explicit(&ev->kind, memory_order_acquire);
	if (!kind)
		return -ENOENT;
	if (kind != ktl_op_kind(op))
		return -EINVAL;
	if ((op == KTRACER_OP_START || op == KTRACER_OP_STOP) &&
	    slot >= ev->slots)
		return -ERANGE;
	return 0;
}

static inline int ktl_now(uint64_t *ns)
{
	struct timespec ts;

	if (ktl_unlikely(clock_gettime(CLOCK_MONOTONIC, &ts)))
		return errno > 0 ? -errno : -EINVAL;
	*ns = (uint64_t)ts.tv_sec * KTL_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
	return 0;
}

/* An op as the ABI has it: every member but those given is 0. */
static inline void ktl_op_init(struct ktracer_op *op, uint16_t opcode,
			       uint32_t event, uint32_t slot, uint64_t value,
			       uint64_t ts, uint32_t len)
{
	memset(op, 0, sizeof(*op));
	op->size = sizeof(*op);
	op->op = opcode;
	op->event = event;
	op->slot = slot;
	op->value = value;
	op->ts = ts;
	op->len = len;
}

/* [O1], [O2]: mark the queue busy, unless a flush runs; then wait. */
static void ktl_enter(struct ktracer_queue *q)
{
	struct ktracer *t = q->t;

	for (;;) {
		atomic_store_explicit(&q->busy, 1, memory_order_seq_cst);
		if (!atomic_load_explicit(&t->flushing, memory_order_seq_cst))
			return;
		atomic_store_explicit(&q->busy, 0, memory_order_release);
		/* The flush holds the mutex until its BATCH call returned. */
		pthread_mutex_lock(&t->lock);
		pthread_mutex_unlock(&t->lock);
	}
}

/* [O4] */
static void ktl_leave(struct ktracer_queue *q)
{
	atomic_store_explicit(&q->busy, 0, memory_order_release);
}

/*
 * Enter the queue with room for one op and @len message bytes, flushing
 * first if need be. Returns the head.
 */
static uint32_t ktl_reserve(struct ktracer_queue *q, uint32_t len)
{
	uint32_t head, tail;

	for (;;) {
		ktl_enter(q);
		head = atomic_load_explicit(&q->head, memory_order_relaxed);
		/* Pairs with the flush's release of the tail, [F4]. */
		tail = atomic_load_explicit(&q->tail, memory_order_acquire);
		if (head == tail)
			q->msg_used = 0;	/* no flush reads a message now */
		if (head - tail < q->cap && len <= q->log_bytes - q->msg_used)
			return head;
		ktl_leave(q);
		/*
		 * Full: a flush empties every queue, this one too. Its errors
		 * are other ops', in the stats.
		 */
		(void)ktracer_flush(q->t);
	}
}

/* Take the time, queue the op. */
static int ktl_queue_op(struct ktracer_queue *q, uint16_t opcode,
			uint32_t event, uint32_t slot, uint64_t value,
			const void *msg, uint32_t len)
{
	struct ktracer_op *op;
	uint64_t ts = 0;
	uint32_t head;
	int err;

	head = ktl_reserve(q, len);
	err = ktl_now(&ts);
	if (ktl_unlikely(err)) {
		ktl_leave(q);
		return err;
	}
	if (len) {
		memcpy(q->msg + q->msg_used, msg, len);
		value = (uintptr_t)(q->msg + q->msg_used);
		q->msg_used += len;
	}
	op = &q->ops[head & (q->cap - 1)];
	ktl_op_init(op, opcode, event, slot, value, ts, len);
	/* [O3] pairs with the flush's acquire of the head, [F3]. */
	atomic_store_explicit(&q->head, head + 1, memory_order_release);
	ktl_leave(q);
	ktl_inc(&q->queued);
	return 0;
}

/* Unbatched: one KTRACER_IOC_OP call, its time the call's start. */
static int ktl_call_op(struct ktracer_queue *q, uint16_t opcode,
		       uint32_t event, uint32_t slot, uint64_t value,
		       const void *msg, uint32_t len)
{
	struct ktracer *t = q->t;
	struct ktracer_op op;
	int err;

	ktl_op_init(&op, opcode, event, slot, len ? (uintptr_t)msg : value, 0,
		    len);
	err = t->ioctl(t, KTRACER_IOC_OP, &op);
	ktl_inc(&q->syscalls);
	ktl_inc(&q->queued);
	if (ktl_likely(!err)) {
		ktl_inc(&q->applied);
		return 0;
	}
	pthread_mutex_lock(&t->lock);
	ktl_fail_locked(t, &op, err, 1);
	pthread_mutex_unlock(&t->lock);
	return err;
}

/*
 * Check an op as the kernel would (the event, then a LOG's message), then
 * queue it or make the call. Tracing is on.
 */
static int ktl_op(struct ktracer_queue *q, uint16_t opcode, uint32_t event,
		  uint32_t slot, uint64_t value, const void *msg, size_t len)
{
	int err = ktl_check(q, opcode, event, slot);

	if (ktl_unlikely(err))
		return err;
	if (opcode == KTRACER_OP_LOG) {
		if (len == 0 || len > KTRACER_LOG_MAX)
			return -EMSGSIZE;
		if (!msg)
			return -EFAULT;
	}
	if (!q->cap)
		return ktl_call_op(q, opcode, event, slot, value, msg,
				   (uint32_t)len);
	return ktl_queue_op(q, opcode, event, slot, value, msg, (uint32_t)len);
}

KTL_EXPORT int ktracer_start(struct ktracer_queue *q, uint32_t event,
			     uint32_t slot, uint64_t arg)
{
	if (ktl_off(q))
		return 0;
	return ktl_op(q, KTRACER_OP_START, event, slot, arg, NULL, 0);
}

KTL_EXPORT int ktracer_stop(struct ktracer_queue *q, uint32_t event,
			    uint32_t slot, uint64_t arg)
{
	if (ktl_off(q))
		return 0;
	return ktl_op(q, KTRACER_OP_STOP, event, slot, arg, NULL, 0);
}

KTL_EXPORT int ktracer_cancel(struct ktracer_queue *q, uint32_t event)
{
	if (ktl_off(q))
		return 0;
	return ktl_op(q, KTRACER_OP_CANCEL, event, 0, 0, NULL, 0);
}

KTL_EXPORT int ktracer_gauge(struct ktracer_queue *q, uint32_t event,
			     int64_t value)
{
	if (ktl_off(q))
		return 0;
	return ktl_op(q, KTRACER_OP_GAUGE, event, 0, (uint64_t)value, NULL, 0);
}

KTL_EXPORT int ktracer_count(struct ktracer_queue *q, uint32_t event,
			     uint64_t n)
{
	if (ktl_off(q))
		return 0;
	return ktl_op(q, KTRACER_OP_COUNT, event, 0, n, NULL, 0);
}

KTL_EXPORT int ktracer_log(struct ktracer_queue *q, uint32_t event,
			   const void *msg, size_t len)
{
	if (ktl_off(q))
		return 0;
	return ktl_op(q, KTRACER_OP_LOG, event, 0, 0, msg, len);
}
