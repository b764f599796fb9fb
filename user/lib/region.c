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

KTL_EXPORT int ktracer_region_begin(struct ktracer *t, uint32_t event,
				    const char *text)
{
	struct ktl_thread *e;
	uint32_t len;
	int err;

	if (!t)
		return 0;
	err = ktl_check(t, KTRACER_OP_START, event, false, 0);
	if (ktl_unlikely(err))
		return err;
	e = ktl_me(t);
	if (ktl_unlikely(!e || !e->live)) {
		e = ktl_thread_get(t, &err);
		if (!e)
			return err;
	}
	/* The slot is the thread's: in range? (The kind was checked.) */
	if (ktl_unlikely(e->index >= atomic_load_explicit(&t->events[event],
			 memory_order_relaxed) >> KTL_EV_SLOTS_SHIFT))
		return -ERANGE;
	if (ktl_unlikely(e->depth == KTRACER_LIB_REGION_DEPTH))
		return -ENOSPC;
	if (ktl_unlikely(ktl_region_find(e, event) >= 0))
		return -EBUSY;

	/* Tracing off: the region is open, quietly; its end records nothing. */
	if (!__atomic_load_n(t->enabled, __ATOMIC_RELAXED)) {
		e->regions[e->depth++] = event | KTL_RG_QUIET;
		e->limit -= KTRACER_QENTRY_SIZE;
		return 0;
	}
	/* Counted before the START: it keeps room for its own STOP. */
	e->regions[e->depth++] = event;
	e->limit -= KTRACER_QENTRY_SIZE;
	if (ktl_likely(e->q && !text)) {
		err = ktl_write0_now(e, KTRACER_OP_START, KTRACER_OPF_REGION, event,
				     e->index, 0);
	} else {
		len = text ? (uint32_t)strnlen(text, KTRACER_TEXT_MAX) : 0;
		err = ktl_put(t, e, KTRACER_OP_START,
			      KTRACER_OPF_REGION | (len ? KTRACER_OPF_TEXT : 0),
			      event, e->index, 0, text, len);
	}
	if (ktl_unlikely(err < 0)) {
		e->depth--;
		e->limit += KTRACER_QENTRY_SIZE;
		return err;
	}
	if (err)	/* dropped: the queue was full */
		e->regions[e->depth - 1] |= KTL_RG_QUIET;
	return 0;
}

KTL_EXPORT int ktracer_region_end(struct ktracer *t, uint32_t event)
{
	struct ktl_thread *e;
	uint32_t top;
	int err;

	if (!t)
		return 0;
	e = ktl_me(t);
	if (ktl_unlikely(!e || !e->live)) {
		if (e || !ktl_threads_live(t))
			return -ECHILD;
		return -ENOENT;
	}
	if (ktl_unlikely(!e->depth))
		return -ENOENT;
	top = e->regions[e->depth - 1];
	if (ktl_unlikely((top & ~KTL_RG_QUIET) != event))
		return ktl_region_find(e, event) < 0 ? -ENOENT : -EINVAL;
	e->depth--;
	e->limit += KTRACER_QENTRY_SIZE;	/* the room its STOP kept */
	if (top & KTL_RG_QUIET)
		return 0;
	/* Its room was kept: never dropped (queue.c). */
	if (ktl_likely(e->q))
		err = ktl_write0_now(e, KTRACER_OP_STOP, KTRACER_OPF_REGION, event,
				     e->index, 0);
	else
		err = ktl_put(t, e, KTRACER_OP_STOP, KTRACER_OPF_REGION, event,
			      e->index, 0, NULL, 0);
	return err < 0 ? err : 0;
}
