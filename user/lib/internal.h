/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libktracer's insides, shared by its translation units and its unit
 * tests. Nothing here is part of the API: only what libktracer.h declares
 * is exported from libktracer.so (-fvisibility=hidden, libktracer.map).
 * Functions with external linkage carry the reserved prefix ktl_, for a
 * program that links libktracer.a.
 *
 * Layers, each using only those below it:
 *
 *	tracer.c	ktracer_open/close/declare/flush/get_stats
 *	region.c	ktracer_region_begin/end: the thread's region stack
 *	queue.c		the ops; each thread's entry and queue, its ring
 *	sys.c		the kernel: ioctl(2), mmap(2) of queues
 *
 * Each thread that records gets an entry (struct ktl_thread) of its
 * tracer's table on its first op, found again through the tracer's
 * pthread key, and a kernel queue (KTRACER_IOC_QUEUE) mapped into it. The
 * table is private anonymous memory marked MADV_WIPEONFORK: a child of
 * fork() reads it as zeros, so an op in the child finds no queue and, on
 * the slow path, a table that is not "live": -ECHILD, without a system
 * call and without a test on the fast path.
 */
#ifndef KTL_INTERNAL_H
#define KTL_INTERNAL_H

#include <pthread.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libktracer.h"

#define KTL_EXPORT	__attribute__((visibility("default")))
#define ktl_likely(x)	__builtin_expect(!!(x), 1)
#define ktl_unlikely(x)	__builtin_expect(!!(x), 0)

#define KTL_CACHELINE		64
#define KTL_NSEC_PER_SEC	1000000000ULL

/* Largest options struct ktracer_open() reads, as the kernel's args. */
#define KTL_OPTIONS_SIZE_MAX	KTRACER_ARG_SIZE_MAX

/* Threads that use one tracer at once: one kernel queue each. */
#define KTL_THREADS_MAX		KTRACER_FILE_QUEUES_MAX

/*
 * A declared event, in one word of t->events[id]: its kind in the low
 * byte, its slots above (a span's count; 0 otherwise). 0: not declared.
 */
#define KTL_EV_KIND_MASK	0xffU
#define KTL_EV_SLOTS_SHIFT	8

/*
 * How the library reaches the kernel: the real system calls, or the unit
 * tests' stand-in. ioctl returns 0 or -errno; map returns the mapping or
 * NULL with -errno in *err.
 */
struct ktl_sys {
	int fd;
	int (*ioctl)(const struct ktl_sys *sys, unsigned long cmd, void *arg);
	void *(*map)(const struct ktl_sys *sys, size_t len, uint64_t offset,
		     int *err);
	void (*unmap)(const struct ktl_sys *sys, void *addr, size_t len);
	void *ctx;		/* the unit tests' */
};

/*
 * A region open on a thread: its event, and KTL_RG_QUIET if its START
 * was not queued (tracing was off, or the queue full), so that its end
 * queues no STOP either.
 */
#define KTL_RG_QUIET		0x80000000U

/*
 * One thread's entry in its tracer's table. Only its thread touches it,
 * but for the counters ktracer_get_stats() reads (relaxed atomics) and
 * the free list (under t->lock, once the thread is gone).
 */
struct ktl_thread {
	/* The fast path's: q is NULL until the thread owns its queue. */
	struct ktracer_qring *q;
	char *ring;			/* q's entries */
	uint64_t head;			/* q->head, as this thread wrote it */
	uint64_t limit;			/* no entry may end past it: see ktl_room() */
	uint64_t nudge_at;		/* an entry ending past it: ktl_nudge() */
	uint32_t mask;			/* ring_size - 1 */
	uint32_t depth;			/* regions open */
	uint32_t index;			/* in the table: the regions' slot */
	uint32_t high;			/* ring_size * 3 / 4: FLUSH past it */
	uint32_t tsc;			/* 1: q's clock is the TSC (x86-64) */
	uint64_t tail;			/* q->tail, as last read */
	uint64_t flush_at;		/* no FLUSH before head reaches it */

	/* The slow path's. */
	struct ktracer *t;
	uint32_t live;			/* 1 while a thread holds it */
	uint32_t qid;			/* the kernel's id of the queue */
	uint32_t next_free;		/* free list: index + 1, 0 ends it */
	uint32_t __pad;
	struct ktracer_qring *parked;	/* the queue, while nobody owns it */
	size_t map_size;
	_Atomic uint64_t syscalls;	/* OP, FLUSH, QUEUE calls of ops */
	_Atomic uint64_t calls;		/* unbatched: OP calls */
	_Atomic uint64_t failed;	/* unbatched: OP calls refused */
	_Atomic int32_t error;		/* unbatched: the latest refusal */

	uint32_t regions[KTRACER_LIB_REGION_DEPTH];
};

/* The table, in MADV_WIPEONFORK memory. */
struct ktl_shared {
	uint32_t live;			/* 1; 0 in a child of fork() */
	_Alignas(KTL_CACHELINE) struct ktl_thread threads[KTL_THREADS_MAX];
};

struct ktracer {
	/* Set when the tracer opens, read-only after. */
	uint64_t id;			/* random, never 0: see struct ktl_tls */
	const uint32_t *enabled;	/* &state->enabled */
	_Atomic uint32_t *events;	/* [KTRACER_EVENT_ID_MAX + 1] */
	pthread_key_t key;		/* the calling thread's struct ktl_thread */
	bool key_made;
	uint32_t flags;			/* KTRACER_LIB_* */
	uint32_t ring_size;
	uint32_t interval_ms;
	/* 1 once the kernel refused a TSC queue: CLOCK_MONOTONIC ones only. */
	_Atomic uint32_t no_tsc;
	const char *device;
	struct ktl_sys sys;
	const struct ktracer_state *state;
	size_t state_len;		/* bytes mapped; 0: not a mapping */
	struct ktl_shared *shared;	/* the table */

	/* Claiming and freeing entries: under lock. */
	pthread_mutex_t lock;
	uint32_t nthreads;		/* entries ever handed out */
	uint32_t free;			/* free list: index + 1, 0 empty */
};

/* The event kind each opcode applies to. */
static inline uint32_t ktl_op_kind(uint16_t op)
{
	switch (op) {
	case KTRACER_OP_START:
	case KTRACER_OP_STOP:
	case KTRACER_OP_CANCEL:
		return KTRACER_KIND_SPAN;
	case KTRACER_OP_GAUGE:
		return KTRACER_KIND_GAUGE;
	case KTRACER_OP_COUNT:
		return KTRACER_KIND_COUNTER;
	case KTRACER_OP_LOG:
		return KTRACER_KIND_LOG;
	default:
		return 0;
	}
}

/* Bytes a queue entry with @len inline bytes takes. */
static inline uint32_t ktl_entry_bytes(uint32_t len)
{
	return KTRACER_QENTRY_SIZE +
	       ((len + KTRACER_QENTRY_SIZE - 1) & ~(uint32_t)(KTRACER_QENTRY_SIZE - 1));
}

/*
 * Whether @opcode can be made on @event (and its @slot, for the ops that
 * have one): 0, or the error the kernel would refuse it with. The kind's
 * acquire load pairs with ktracer_declare()'s release: a thread that sees
 * an id declared sees its slots.
 */
static inline int ktl_check(const struct ktracer *t, uint16_t opcode,
			    uint32_t event, bool has_slot, uint32_t slot)
{
	uint32_t w;

	if (ktl_unlikely(event == 0 || event > KTRACER_EVENT_ID_MAX))
		return -ENOENT;
	w = atomic_load_explicit(&t->events[event], memory_order_acquire);
	if (ktl_unlikely((w & KTL_EV_KIND_MASK) != ktl_op_kind(opcode)))
		return w ? -EINVAL : -ENOENT;
	if (has_slot && ktl_unlikely(slot >= w >> KTL_EV_SLOTS_SHIFT))
		return -ERANGE;
	return 0;
}

/*
 * Where @e's entries may end, from the tail as last read and the regions
 * open: the ring's size past the tail, less room for one 32-byte STOP per
 * region open (so that a region's end always fits); and where an op asks
 * for a drain (3/4 full, once per quarter ring). Called whenever the tail
 * copy or the depth changes.
 */
static inline void ktl_room(struct ktl_thread *e)
{
	uint64_t nudge = e->tail + e->high;

	e->limit = e->tail + e->mask + 1 - (uint64_t)e->depth * KTRACER_QENTRY_SIZE;
	e->nudge_at = nudge > e->flush_at ? nudge : e->flush_at;
}

/* sys.c */
void ktl_sys_init(struct ktl_sys *sys);
int ktl_sys_open(struct ktl_sys *sys, const char *device);
int ktl_sys_close(struct ktl_sys *sys);
const void *ktl_sys_map_state(const struct ktl_sys *sys, size_t len, int *err);
void *ktl_sys_alloc_wiped(size_t len, int *err);
void ktl_sys_free(void *addr, size_t len);
uint64_t ktl_sys_random(void);
int ktl_sys_flush(const struct ktl_sys *sys, uint32_t flags,
		  uint32_t interval_ms);
int ktl_sys_op(const struct ktl_sys *sys, uint16_t opcode, uint16_t flags,
	       uint32_t event, uint32_t slot, uint64_t value, const void *data,
	       uint32_t len);
int ktl_sys_queue(const struct ktl_sys *sys, uint32_t flags, uint32_t id,
		  uint32_t ring_size, struct ktracer_queue *out);

/* tracer.c */
int ktl_options(struct ktracer *t, const struct ktracer_lib_options *opts);
int ktl_tracer_new(const struct ktracer_lib_options *opts, struct ktracer **tp);
int ktl_tracer_free(struct ktracer *t);

/* queue.c */
int ktl_threads_init(struct ktracer *t);
void ktl_threads_fini(struct ktracer *t);
bool ktl_threads_live(const struct ktracer *t);
void ktl_thread_exit(void *arg);
struct ktl_thread *ktl_thread_get(struct ktracer *t, int *err);
int ktl_put(struct ktracer *t, struct ktl_thread *e, uint16_t opcode,
	    uint16_t flags, uint32_t event, uint32_t slot, uint64_t value,
	    const void *data, uint32_t len);
void ktl_threads_stats(struct ktracer *t, struct ktracer_lib_stats *st);

#endif /* KTL_INTERNAL_H */
