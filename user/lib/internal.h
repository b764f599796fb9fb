/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libktracer's insides, shared by its translation units and its unit
 * tests. Nothing here is part of the API: only what libktracer.h declares
 * is exported from libktracer.so (-fvisibility=hidden, libktracer.map).
 * Functions with external linkage carry the reserved prefix ktl_, for a
 * program that links libktracer.a.
 *
 * The synchronisation between a queue's owner and a flush
 * --------------------------------------------------------
 * The kernel refuses an op time-stamped before the start of its file's
 * previous BATCH call, so no op may be time-stamped while a flush is
 * between taking its snapshot of the queues and the end of its BATCH
 * call; and every op time-stamped before the snapshot must be in it. An
 * owner brackets the clock read and the append with q->busy, a flush
 * brackets its snapshot and call with t->flushing, and each checks the
 * other's flag after raising its own (Dekker's pattern, all four
 * accesses seq_cst):
 *
 *	owner (ktl_enter, append, ktl_leave)	flush (ktl_flush_locked)
 *	------------------------------------	------------------------
 *	[O1] store(q->busy, 1)			[F1] store(t->flushing, 1)
 *	[O2] if load(t->flushing):		[F2] while load(q->busy): wait
 *	       store(q->busy, 0), wait for	[F3] end = load_acquire(q->head)
 *	       the mutex, retry from O1		     submit [tail, end) of every
 *	     ts = clock_gettime()		     queue in one BATCH call
 *	     write ops[head]			[F4] store_release(q->tail, end)
 *	[O3] store_release(q->head, head + 1)	[F5] store_release(t->flushing, 0)
 *	[O4] store_release(q->busy, 0)
 *
 * In the single total order of seq_cst operations either O1 precedes F2,
 * and the flush waits until O4, whose release (read by F2's load) makes
 * the op visible to F3; or F2 precedes O1, so F1 precedes O2, the owner
 * sees the flush and takes no time until F5, which follows the BATCH
 * call's return. An op the owner appends after F5 is in the next flush,
 * its ts later than this flush's call. O3/F3 and F4/the owner's
 * load_acquire(q->tail) hand the ring's entries and message storage back
 * and forth as in any single-producer ring.
 */
#ifndef KTL_INTERNAL_H
#define KTL_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "libktracer.h"

#define KTL_EXPORT	__attribute__((visibility("default")))
#define ktl_likely(x)	__builtin_expect(!!(x), 1)
#define ktl_unlikely(x)	__builtin_expect(!!(x), 0)

/* Keeps what one side writes off the cache line the other one writes. */
#define KTL_CACHELINE	64

#define KTL_NSEC_PER_SEC	1000000000ULL

/* Bytes of message storage per op a queue holds, by default. */
#define KTL_LOG_BYTES_PER_OP	64

/* Largest options struct ktracer_open() reads, as the kernel's args. */
#define KTL_OPTIONS_SIZE_MAX	KTRACER_ARG_SIZE_MAX

/*
 * How the library reaches the kernel: ioctl(2) on the tracer's file, or
 * the unit tests' stand-in. Returns 0 or -errno.
 */
typedef int (*ktl_ioctl_fn)(struct ktracer *t, unsigned long cmd, void *arg);

/* struct ktracer_lib_options, checked, defaults applied. */
struct ktl_config {
	uint32_t flags;
	uint32_t max_queues;
	uint32_t queue_cap;	/* ops per queue: a power of two; 0 unbatched */
	uint32_t log_bytes;	/* message bytes per queue; 0 unbatched */
	const char *device;
};

/* An event this tracer declared, by id. */
struct ktl_event {
	_Atomic uint32_t kind;	/* 0 until declared; stored last (release) */
	uint32_t slots;
	/*
	 * Spans: the flushes' view of the kernel's slots of this file, a bit
	 * per slot, under t->lock. @open is the state after the last flush,
	 * @work the state the op being checked will find; @gen says which
	 * flush copied @open into @work (see flush.c).
	 */
	uint64_t *open;
	uint64_t *work;
	uint64_t gen;
};

struct ktracer_queue {
	/* Set by ktracer_queue_open(), read-only after. */
	struct ktracer *t;
	const uint32_t *enabled;	/* &t->state->enabled */
	const struct ktl_event *events;	/* t->events */
	struct ktracer_op *ops;		/* cap entries: the ring */
	char *msg;			/* log_bytes: the messages */
	uint32_t cap;			/* a power of two; 0 unbatched */
	uint32_t log_bytes;
	uint32_t index;			/* in t->queues */
	/* The owner's alone. */
	uint32_t msg_used;		/* bytes of msg that queued LOGs use */
	/* The owner writes, ktracer_get_stats() reads. */
	_Atomic uint64_t queued;
	_Atomic uint64_t applied;	/* unbatched */
	_Atomic uint64_t syscalls;	/* unbatched */
	/* The owner writes, a flush reads. */
	_Alignas(KTL_CACHELINE) _Atomic uint32_t head;
	_Atomic uint32_t busy;
	/* A flush writes, the owner reads. */
	_Alignas(KTL_CACHELINE) _Atomic uint32_t tail;
	uint32_t end;			/* the flush's snapshot of head */
};

/* A queue's ops a flush still has to merge, keyed by the first's ts. */
struct ktl_cursor {
	uint64_t ts;
	struct ktracer_queue *q;
	uint32_t pos;
};

struct ktracer {
	/* Set when the tracer opens, read-only after. */
	int fd;
	struct ktl_config cfg;
	const struct ktracer_state *state;
	size_t state_len;		/* bytes mapped; 0: not a mapping */
	ktl_ioctl_fn ioctl;
	void *ioctl_ctx;		/* the unit tests' */
	struct ktl_event *events;	/* [KTRACER_EVENT_ID_MAX + 1] */

	/* Flushes, queues[], declarations and stats: under lock. */
	pthread_mutex_t lock;
	struct ktracer_queue **queues;	/* [max_queues] */
	struct ktl_cursor *heap;	/* [max_queues] */
	struct ktracer_op *batch;	/* [KTRACER_BATCH_MAX] */
	uint32_t *touched;		/* span ids in work, this flush */
	uint32_t ntouched;
	uint64_t gen;			/* flushes begun, and rollbacks */
	struct ktracer_lib_stats stats;	/* of closed queues, and flushes */

	/* Read by every op: a line of its own. */
	_Alignas(KTL_CACHELINE) _Atomic uint32_t flushing;
};

/* The op of each opcode, the event kind it applies to. */
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

/* uint64_t words of a span's slot bitmap. */
static inline uint32_t ktl_slot_words(uint32_t slots)
{
	return (slots + 63) / 64;
}

/* tracer.c */
int ktl_config_init(struct ktl_config *cfg,
		    const struct ktracer_lib_options *opts);
uint32_t ktl_queue_capacity(uint32_t max_queues);
int ktl_tracer_new(const struct ktl_config *cfg, struct ktracer **tp);
int ktl_tracer_free(struct ktracer *t);
void ktl_fail_locked(struct ktracer *t, const struct ktracer_op *op,
		     int err, uint64_t count);

/* flush.c */
int ktl_flush_locked(struct ktracer *t);

/* queue.c */
void ktl_queue_free(struct ktracer_queue *q);

#endif /* KTL_INTERNAL_H */
