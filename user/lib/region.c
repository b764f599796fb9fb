// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Regions: spans of the calling thread, nested, in the slot the library
 * gives them. Each thread keeps a stack of the regions it has open in its
 * entry (queue.c); a region's slot is the thread's index in the tracer's
 * table.
 *
 * Why that slot is the region's alone: an index belongs to one thread
 * from its first call until its key destructor has run, and two regions
 * of one event are never open on one thread at once (EBUSY), so no two
 * open regions of an event share a slot. An index passes to another
 * thread only through the free list, after its previous thread queued a
 * CANCEL of each region it left open, and the next thread adopts the
 * queue before it queues anything: the kernel drains the queue at the
 * adoption, so the CANCELs are applied before any START of the new
 * thread is even written. Tasks (ktracer_start()) use slots the program
 * picks; a program keeps the events it uses for regions and for tasks
 * apart.
 */

#include <errno.h>
#include <string.h>

#include "internal.h"
#include "queue.h"

/* Where @event is on @e's region stack, innermost first; -1 if not. */
static int ktl_region_find(const struct ktl_thread *e, uint32_t event)
{
	uint32_t i;

	for (i = e->depth; i-- > 0;)
		if ((e->regions[i] & ~KTL_RG_QUIET) == event)
			return (int)i;
	return -1;
}

/*
 * Open a region of @event (whose table word is @w) on @e: its slot in
 * range, not open already, room on the stack. Counted before its START
 * is queued: the START keeps room for its own STOP.
 */
static inline int ktl_region_push(struct ktl_thread *e, uint32_t event,
				  uint32_t w, uint32_t quiet)
{
	if (ktl_unlikely(e->index >= w >> KTL_EV_SLOTS_SHIFT))
		return -ERANGE;
	if (ktl_unlikely(e->depth == KTRACER_LIB_REGION_DEPTH))
		return -ENOSPC;
	if (ktl_unlikely(ktl_region_find(e, event) >= 0))
		return -EBUSY;
	e->regions[e->depth++] = event | quiet;
	e->limit -= KTRACER_QENTRY_SIZE;
	return 0;
}

/* Close @e's innermost region, which must be of @event: its word, or -errno. */
static inline int64_t ktl_region_pop(struct ktl_thread *e, uint32_t event)
{
	uint32_t top;

	if (ktl_unlikely(!e->depth))
		return -ENOENT;
	top = e->regions[e->depth - 1];
	if (ktl_unlikely((top & ~KTL_RG_QUIET) != event))
		return ktl_region_find(e, event) < 0 ? -ENOENT : -EINVAL;
	e->depth--;
	e->limit += KTRACER_QENTRY_SIZE;	/* the room its STOP kept */
	return top;
}

/*
 * The START of the region just pushed was queued (@err 0), dropped (1:
 * the region stays open, quietly) or failed (-errno: it is not open).
 */
static inline int ktl_region_started(struct ktl_thread *e, uint32_t event,
				     int err)
{
	if (ktl_unlikely(err < 0)) {
		(void)ktl_region_pop(e, event);
		return err;
	}
	if (ktl_unlikely(err))
		e->regions[e->depth - 1] |= KTL_RG_QUIET;
	return 0;
}

/*
 * ktracer_region_begin() but for a thread with a queue, tracing on and
 * no text: a thread's first call, a text, tracing off, unbatched mode, a
 * child of fork().
 */
static int __attribute__((noinline))
ktl_region_begin_slow(struct ktracer *t, uint32_t event, uint32_t w,
		      const char *text)
{
	bool on = __atomic_load_n(t->enabled, __ATOMIC_RELAXED);
	struct ktl_thread *e = ktl_me(t);
	uint32_t len;
	int err;

	if (!e || !e->live) {
		e = ktl_thread_get(t, &err);
		if (!e)
			return err;
	}
	/* Tracing off: the region is open, quietly; its end records nothing. */
	err = ktl_region_push(e, event, w, on ? 0 : KTL_RG_QUIET);
	if (err || !on)
		return err;
	len = text ? (uint32_t)strnlen(text, KTRACER_TEXT_MAX) : 0;
	err = ktl_put(t, e, KTRACER_OP_START,
		      KTRACER_OPF_REGION | (len ? KTRACER_OPF_TEXT : 0), event,
		      e->index, 0, text, len);
	return ktl_region_started(e, event, err);
}

/*
 * ktracer_region_begin() for a thread with a queue, tracing on and no
 * text, when ktl_fast() says no: the clock is a call, the limit must be
 * read again or a nudge is due.
 */
static int __attribute__((noinline))
ktl_region_begin_queued(struct ktl_thread *e, uint32_t event, uint32_t w)
{
	int err = ktl_region_push(e, event, w, 0);

	if (ktl_unlikely(err))
		return err;
	err = ktl_write0_now(e, KTRACER_OP_START, KTRACER_OPF_REGION, event,
			     e->index, 0);
	return ktl_region_started(e, event, err);
}

KTL_EXPORT int ktracer_region_begin(struct ktracer *t, uint32_t event,
				    const char *text)
{
	struct ktl_thread *e;
	uint32_t w;
	int err;

	if (!t)
		return 0;
	if (ktl_unlikely(event - 1 >= KTRACER_EVENT_ID_MAX))
		return -ENOENT;
	/* Pairs with ktracer_declare()'s release: the slots are there. */
	w = atomic_load_explicit(&t->events[event], memory_order_acquire);
	if (ktl_unlikely((w & KTL_EV_KIND_MASK) != KTRACER_KIND_SPAN))
		return w ? -EINVAL : -ENOENT;
	e = ktl_me_queued(t);
	if (ktl_unlikely(!e) || text ||
	    ktl_unlikely(!__atomic_load_n(t->enabled, __ATOMIC_RELAXED)))
		return ktl_region_begin_slow(t, event, w, text);
	/* Room for the START and for the STOP it keeps room for. */
	if (ktl_unlikely(!ktl_fast(e, KTRACER_QENTRY_SIZE)))
		return ktl_region_begin_queued(e, event, w);
	err = ktl_region_push(e, event, w, 0);
	if (ktl_likely(!err))
		ktl_write0_fast(e, KTRACER_OP_START, KTRACER_OPF_REGION, event,
				e->index);
	return err;
}

/*
 * The STOP of @e's region of @event, just closed, when ktl_fast() says
 * no. Its room was kept: never dropped.
 */
static int __attribute__((noinline))
ktl_region_stop(struct ktl_thread *e, uint32_t event)
{
	int err = ktl_write0_now(e, KTRACER_OP_STOP, KTRACER_OPF_REGION,
				 event, e->index, 0);

	return err < 0 ? err : 0;
}

/* ktracer_region_end() but for a thread with a queue. */
static int __attribute__((noinline))
ktl_region_end_slow(struct ktracer *t, uint32_t event)
{
	struct ktl_thread *e = ktl_me(t);
	int64_t top;
	int err;

	if (!e || !e->live)
		return e || !ktl_threads_live(t) ? -ECHILD : -ENOENT;
	top = ktl_region_pop(e, event);
	if (top < 0 || (top & KTL_RG_QUIET))
		return top < 0 ? (int)top : 0;
	err = ktl_put(t, e, KTRACER_OP_STOP, KTRACER_OPF_REGION, event,
		      e->index, 0, NULL, 0);
	return err < 0 ? err : 0;
}

KTL_EXPORT int ktracer_region_end(struct ktracer *t, uint32_t event)
{
	struct ktl_thread *e;
	int64_t top;

	if (!t)
		return 0;
	e = ktl_me_queued(t);
	if (ktl_unlikely(!e))
		return ktl_region_end_slow(t, event);
	top = ktl_region_pop(e, event);
	if (ktl_unlikely(top < 0))
		return (int)top;
	if (top & KTL_RG_QUIET)
		return 0;
	if (ktl_likely(ktl_fast(e, 0))) {
		ktl_write0_fast(e, KTRACER_OP_STOP, KTRACER_OPF_REGION, event,
				e->index);
		return 0;
	}
	return ktl_region_stop(e, event);
}
