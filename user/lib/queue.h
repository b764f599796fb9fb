/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The ops' fast path, inline, for queue.c and region.c: find the calling
 * thread's entry, take the time, write a 32-byte entry and publish it.
 * See queue.c for the protocol with the kernel.
 */
#ifndef KTL_QUEUE_H
#define KTL_QUEUE_H

#include <errno.h>
#include <time.h>

#include "internal.h"

/*
 * The calling thread's entry of the tracer it used last, so that an op
 * finds its entry with two loads and a compare, not a call. Keyed by the
 * tracer's random id, not its address: a tracer opened where a closed
 * one was does not find the closed one's entry. Initial-exec: an access
 * is a load relative to the thread pointer.
 */
struct ktl_tls {
	uint64_t id;
	struct ktl_thread *e;
};

extern __thread struct ktl_tls ktl_tls
	__attribute__((tls_model("initial-exec"), visibility("hidden")));

struct ktl_thread *ktl_me_slow(const struct ktracer *t);
bool ktl_refresh(struct ktl_thread *e, uint64_t end);
void ktl_nudge(struct ktl_thread *e, uint64_t end);

/* The calling thread's entry, or NULL if it has none yet. */
static inline struct ktl_thread *ktl_me(const struct ktracer *t)
{
	if (ktl_likely(ktl_tls.id == t->id))
		return ktl_tls.e;
	return ktl_me_slow(t);
}

/*
 * The calling thread's entry if it has its queue (the fast path); NULL
 * if not, or if the tracer is not the one of its last call.
 */
static inline struct ktl_thread *ktl_me_queued(const struct ktracer *t)
{
	struct ktl_thread *e = ktl_tls.e;

	/* The id matches only while e is the thread's entry: not NULL. */
	if (ktl_likely(ktl_tls.id == t->id) && ktl_likely(e->q))
		return e;
	return NULL;
}

/* A counter only its owner writes: no read-modify-write needed. */
static inline void ktl_inc(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

/* Tracing is off, or there is no tracer: the ops' first test. */
static inline bool ktl_off(const struct ktracer *t)
{
	return ktl_unlikely(!t) || !__atomic_load_n(t->enabled, __ATOMIC_RELAXED);
}

/* [Q2] Publish the entries up to @end (pairs with the kernel's [Q3]). */
static inline void ktl_set_head(struct ktl_thread *e, uint64_t end)
{
	__atomic_store_n(&e->q->head, end, __ATOMIC_RELEASE);
	e->head = end;
}

/* ktl_set_head(), and a nudge if the ring is filling up. */
static inline void ktl_publish(struct ktl_thread *e, uint64_t end)
{
	ktl_set_head(e, end);
	if (ktl_unlikely(end > e->nudge_at))
		ktl_nudge(e, end);
}

static inline int ktl_now(uint64_t *ns)
{
	struct timespec ts;

	if (ktl_unlikely(clock_gettime(CLOCK_MONOTONIC, &ts)))
		return -errno;
	*ns = (uint64_t)ts.tv_sec * KTL_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
	return 0;
}

#if defined(__x86_64__)
/*
 * The TSC, for a queue of clock KTRACER_QCLOCK_TSC (uapi/linux/ktracer.h,
 * "The TSC clock"). rdtsc is not ordered with the instructions before
 * it: lfence makes it wait for them, so that an op is not stamped before
 * what the program did first. The kernel converts it to ns. Never 0 in
 * practice (it counts from the machine's reset).
 */
static inline uint64_t ktl_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("lfence\n\trdtsc" : "=a" (lo), "=d" (hi) : : "memory");
	return (uint64_t)hi << 32 | lo;
}
#endif

/* The time for an entry of @e's queue, in the queue's clock. */
static inline int ktl_clock(const struct ktl_thread *e, uint64_t *ts)
{
#if defined(__x86_64__)
	if (ktl_likely(e->tsc)) {
		*ts = ktl_rdtsc();
		return 0;
	}
#endif
	return ktl_now(ts);
}

/* Fill in the entry at @qe. */
static inline void ktl_entry(struct ktracer_qentry *qe, uint16_t opcode,
			     uint16_t flags, uint32_t event, uint32_t slot,
			     uint32_t len, uint64_t value, uint64_t ts)
{
	qe->op = opcode;
	qe->flags = flags;
	qe->event = event;
	qe->slot = slot;
	qe->len = len;
	qe->value = value;
	qe->ts = ts;
}

/*
 * The 32-byte entry of an op without inline bytes at @head, @e's head,
 * not yet published: the head after it.
 */
static inline uint64_t ktl_put0(struct ktl_thread *e, uint64_t head,
				uint64_t ts, uint16_t opcode, uint16_t flags,
				uint32_t event, uint32_t slot, uint64_t value)
{
	struct ktracer_qentry *qe;

	qe = (struct ktracer_qentry *)(e->ring + (head & e->mask));
	ktl_entry(qe, opcode, flags, event, slot, 0, value, ts);
	return head + KTRACER_QENTRY_SIZE;
}

/*
 * Queue one op without inline bytes, that happened at @ts: one 32-byte
 * entry, which never needs a PAD (positions are multiples of 32).
 * Returns 0, or 1 if the queue was full (the op is dropped and counted).
 */
static inline __attribute__((always_inline)) int
ktl_write0(struct ktl_thread *e, uint64_t ts, uint16_t opcode, uint16_t flags,
	   uint32_t event, uint32_t slot, uint64_t value)
{
	uint64_t end = e->head + KTRACER_QENTRY_SIZE;

	if (ktl_unlikely(end > e->limit) && !ktl_refresh(e, end))
		return 1;
	ktl_publish(e, ktl_put0(e, e->head, ts, opcode, flags, event, slot,
				value));
	return 0;
}

/*
 * Whether an entry without bytes can be written now with loads and
 * stores alone: a TSC queue (the clock is an instruction, not a call),
 * room for the entry and @keep bytes more below the limit as it stands
 * (the kernel's tail not read again), and no nudge due. A fast path that
 * takes ktl_write0_fast() when this says so makes no call, and needs no
 * stack frame; its general path does the rest.
 */
static inline bool ktl_fast(const struct ktl_thread *e, uint64_t keep)
{
#if defined(__x86_64__)
	uint64_t end = e->head + KTRACER_QENTRY_SIZE;

	return ktl_likely(e->tsc) && ktl_likely(end + keep <= e->limit) &&
	       ktl_likely(end <= e->nudge_at);
#else
	(void)e;
	(void)keep;
	return false;
#endif
}

/*
 * ktl_write0_now(), once ktl_fast() said yes: the TSC, the entry, and its
 * publication without the nudge, which is not due.
 */
static inline __attribute__((always_inline)) void
ktl_write0_fast(struct ktl_thread *e, uint16_t opcode, uint16_t flags,
		uint32_t event, uint32_t slot)
{
	uint64_t head = e->head;	/* ktl_rdtsc() clobbers memory */
#if defined(__x86_64__)
	uint64_t ts = ktl_rdtsc();
#else
	uint64_t ts = 0;	/* never: ktl_fast() says no */
#endif

	ktl_set_head(e, ktl_put0(e, head, ts, opcode, flags, event, slot, 0));
}

/* ktl_write0(), now. Returns as it, or -errno. */
static inline __attribute__((always_inline)) int
ktl_write0_now(struct ktl_thread *e, uint16_t opcode, uint16_t flags,
	       uint32_t event, uint32_t slot, uint64_t value)
{
	uint64_t ts = 0;
	int err = ktl_clock(e, &ts);

	if (ktl_unlikely(err))
		return err;
	return ktl_write0(e, ts, opcode, flags, event, slot, value);
}

#endif /* KTL_QUEUE_H */
