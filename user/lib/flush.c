// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The flush: every queue's ops, merged in time-stamp order, in one
 * KTRACER_IOC_BATCH call (see "Time stamps" in libktracer.h and the
 * owner/flush protocol in internal.h).
 *
 * The kernel stops a batch at the first op it refuses, and the ops after
 * it cannot be submitted again with their time. So before the call the
 * flush applies each op to its own copy of the kernel's slot state of the
 * file, and leaves out the ops the kernel would refuse: START on an open
 * slot (EBUSY), STOP on a closed one (ENOENT). The copy is exact because
 * every op on the file goes through a flush: a span event's @open bits
 * are the kernel's slots after the last flush. A flush works on @work,
 * copied from @open when the flush first touches the event, and makes it
 * the new @open once the kernel has applied the batch. Should the kernel
 * refuse an op after all, the ops it applied are replayed on a fresh copy.
 */

#include <errno.h>
#include <sched.h>
#include <string.h>

#include "internal.h"

/* The slot bits the op being checked finds: a copy of @open. */
static uint64_t *ktl_slots_work(struct ktracer *t, uint32_t id)
{
	struct ktl_event *ev = &t->events[id];

	if (ev->gen != t->gen) {
		memcpy(ev->work, ev->open,
		       ktl_slot_words(ev->slots) * sizeof(uint64_t));
		ev->gen = t->gen;
		t->touched[t->ntouched++] = id;
	}
	return ev->work;
}

/*
 * Apply @op to the slot state the kernel will have when it gets to it:
 * 0, or the error the kernel would refuse @op with (and nothing changes).
 */
static int ktl_slots_apply(struct ktracer *t, const struct ktracer_op *op)
{
	uint64_t *bits, bit;

	switch (op->op) {
	case KTRACER_OP_START:
	case KTRACER_OP_STOP:
		bits = ktl_slots_work(t, op->event) + op->slot / 64;
		bit = 1ULL << (op->slot % 64);
		if (op->op == KTRACER_OP_START) {
			if (*bits & bit)
				return -EBUSY;
			*bits |= bit;
		} else {
			if (!(*bits & bit))
				return -ENOENT;
			*bits &= ~bit;
		}
		return 0;
	case KTRACER_OP_CANCEL:
		bits = ktl_slots_work(t, op->event);
		memset(bits, 0, ktl_slot_words(t->events[op->event].slots) *
				sizeof(uint64_t));
		return 0;
	default:
		return 0;
	}
}

/* The kernel applied what @work says: make it @open. */
static void ktl_slots_commit(struct ktracer *t)
{
	struct ktl_event *ev;
	uint64_t *bits;
	uint32_t i;

	for (i = 0; i < t->ntouched; i++) {
		ev = &t->events[t->touched[i]];
		bits = ev->open;
		ev->open = ev->work;
		ev->work = bits;
	}
	t->ntouched = 0;
	t->gen++;	/* every @work is stale now */
}

/* The kernel applied ops[0..@done) only: start @work again from those. */
static void ktl_slots_replay(struct ktracer *t, const struct ktracer_op *ops,
			     uint32_t done)
{
	uint32_t i;

	t->ntouched = 0;
	t->gen++;
	for (i = 0; i < done; i++)
		/* Each passed the check on this state before: it passes. */
		(void)ktl_slots_apply(t, &ops[i]);
}

/* Whether cursor @a's next op goes before @b's: by ts, then by queue. */
static bool ktl_before(const struct ktl_cursor *a, const struct ktl_cursor *b)
{
	if (a->ts != b->ts)
		return a->ts < b->ts;
	return a->q->index < b->q->index;
}

static void ktl_heap_down(struct ktl_cursor *h, uint32_t n, uint32_t i)
{
	struct ktl_cursor c = h[i];
	uint32_t child;

	while ((child = 2 * i + 1) < n) {
		if (child + 1 < n && ktl_before(&h[child + 1], &h[child]))
			child++;
		if (!ktl_before(&h[child], &c))
			break;
		h[i] = h[child];
		i = child;
	}
	h[i] = c;
}

static void ktl_heap_up(struct ktl_cursor *h, uint32_t i)
{
	struct ktl_cursor c = h[i];

	while (i && ktl_before(&c, &h[(i - 1) / 2])) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = c;
}

static const struct ktracer_op *ktl_cursor_op(const struct ktl_cursor *c)
{
	return &c->q->ops[c->pos & (c->q->cap - 1)];
}

/* [F2] Wait until @q's owner is not between taking a time and queuing. */
static void ktl_wait_idle(const struct ktracer_queue *q)
{
	unsigned int spins = 0;

	while (atomic_load_explicit(&q->busy, memory_order_seq_cst))
		if (++spins % 64 == 0)
			sched_yield();	/* the owner may have been preempted */
}

/*
 * Stop the queues ([F1], [F2]) and take every queue's ops ([F3]) into the
 * heap. Returns how many queues have ops.
 */
static uint32_t ktl_snapshot(struct ktracer *t)
{
	struct ktracer_queue *q;
	uint32_t i, n = 0, tail;

	atomic_store_explicit(&t->flushing, 1, memory_order_seq_cst);
	for (i = 0; i < t->cfg.max_queues; i++) {
		q = t->queues[i];
		if (!q)
			continue;
		ktl_wait_idle(q);
		q->end = atomic_load_explicit(&q->head, memory_order_acquire);
		tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
		if (tail == q->end)
			continue;
		t->heap[n].q = q;
		t->heap[n].pos = tail;
		t->heap[n].ts = ktl_cursor_op(&t->heap[n])->ts;
		ktl_heap_up(t->heap, n);
		n++;
	}
	return n;
}

/* Hand the queues their space back ([F4]) and let ops run again ([F5]). */
static void ktl_release(struct ktracer *t)
{
	struct ktracer_queue *q;
	uint32_t i;

	for (i = 0; i < t->cfg.max_queues; i++) {
		q = t->queues[i];
		if (q)
			atomic_store_explicit(&q->tail, q->end,
					      memory_order_release);
	}
	atomic_store_explicit(&t->flushing, 0, memory_order_release);
}

/* One BATCH call of t->batch[0..@n): how many ops the kernel applied. */
static int ktl_submit(struct ktracer *t, uint32_t n, uint32_t *done)
{
	struct ktracer_batch b;
	int err;

	memset(&b, 0, sizeof(b));
	b.size = sizeof(b);
	b.ops = (uintptr_t)t->batch;
	b.count = n;
	b.op_size = sizeof(struct ktracer_op);
	err = t->ioctl(t, KTRACER_IOC_BATCH, &b);
	t->stats.batches++;
	t->stats.syscalls++;
	/* An invalid batch writes nothing back: done stays 0. */
	*done = !err ? n : b.done < n ? b.done : 0;
	t->stats.applied += *done;
	return err;
}

int ktl_flush_locked(struct ktracer *t)
{
	struct ktl_cursor *h = t->heap;
	const struct ktracer_op *op;
	uint32_t nh, n = 0, done, first_at = 0;
	int err, first = 0;

	if (t->cfg.flags & KTRACER_LIB_UNBATCHED)
		return 0;
	nh = ktl_snapshot(t);

	/* Merge; leave out what the kernel would refuse, in order. */
	while (nh) {
		op = ktl_cursor_op(&h[0]);
		err = ktl_slots_apply(t, op);
		if (err) {
			ktl_fail_locked(t, op, err, 1);
			if (!first) {
				first = err;
				first_at = n;
			}
		} else {
			t->batch[n++] = *op;
		}
		if (++h[0].pos == h[0].q->end)
			h[0] = h[--nh];
		else
			h[0].ts = ktl_cursor_op(&h[0])->ts;
		ktl_heap_down(h, nh, 0);
	}

	if (n) {
		err = ktl_submit(t, n, &done);
		if (done < n) {
			/* ops[done] failed; those after it were not tried. */
			ktl_fail_locked(t, &t->batch[done], err ? err : -EIO,
					n - done);
			if (!first || first_at > done)
				first = err ? err : -EIO;
			ktl_slots_replay(t, t->batch, done);
		}
	}
	ktl_slots_commit(t);
	ktl_release(t);
	return first;
}
