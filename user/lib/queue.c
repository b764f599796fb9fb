// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The ops, and each thread's entry and queue: what a thread calls on the
 * hot path.
 *
 * An op checks that tracing is on (one load), its event (one load of the
 * tracer's table), finds the calling thread's entry (the tracer's pthread
 * key), reads the clock (the queue's: rdtsc on x86-64 where the kernel
 * converts the TSC, else clock_gettime()) and writes one struct
 * ktracer_qentry, with its inline text, into the thread's queue, then
 * publishes the head with a release store: no lock, no atomic
 * read-modify-write, no system call.
 * The kernel drains the queue (uapi/linux/ktracer.h, "Queues"):
 *
 *	this thread (ktl_write)			the kernel (a drain)
 *	[Q1] tail = load_acquire(&q->tail)	[Q3] head = load_acquire(&q->head)
 *	     write entries in [head, tail +	     apply the entries in
 *	     ring_size)				     [tail, head)
 *	[Q2] store_release(&q->head, head')	[Q4] store_release(&q->tail, head)
 *
 * The thread keeps its own copy of the head, and of the tail as last
 * read: it reads the kernel's tail (a line the kernel writes) only when
 * the copy says the ring is 3/4 full. Past 3/4 it asks for a drain with
 * one KTRACER_IOC_FLUSH that does not wait (and no other before a
 * further quarter of the ring is written); a full ring drops the op,
 * counted in q->dropped, which the next drain reports in a LOST record.
 *
 * Regions' STOPs are never dropped: every op leaves room behind it for
 * one 32-byte STOP per region open on its thread (a 32-byte entry never
 * needs a PAD: positions are multiples of 32), so the STOP of a region
 * whose START was queued always fits.
 *
 * The first op of a thread, and every op of a child of fork(), takes the
 * slow path: claim an entry of the table (under the tracer's mutex, once
 * per thread), then create a queue or adopt the one an exited thread
 * left in the entry, and map it.
 */

#include <errno.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "queue.h"

__thread struct ktl_tls ktl_tls __attribute__((tls_model("initial-exec")));

/* The table ---------------------------------------------------------- */

int ktl_threads_init(struct ktracer *t)
{
	struct ktl_shared *sh;
	int err;

	/* A child of fork() reads zeros: no queue, not live. */
	sh = ktl_sys_alloc_wiped(sizeof(*sh), &err);
	if (!sh)
		return err;
	err = -pthread_key_create(&t->key, ktl_thread_exit);
	if (err) {
		ktl_sys_free(sh, sizeof(*sh));
		return err;
	}
	t->key_made = true;
	sh->live = 1;
	t->shared = sh;
	return 0;
}

bool ktl_threads_live(const struct ktracer *t)
{
	return t->shared && t->shared->live;
}

/*
 * Unmap every queue (none in a child: their pointers read 0 there) and
 * the table. The threads are done with the tracer; those still running
 * no longer reach their entries (the key is gone).
 */
void ktl_threads_fini(struct ktracer *t)
{
	struct ktl_thread *e;
	uint32_t i;

	if (t->key_made)
		pthread_key_delete(t->key);
	t->key_made = false;
	if (!t->shared)
		return;
	for (i = 0; i < t->nthreads && t->shared->live; i++) {
		e = &t->shared->threads[i];
		if (e->q || e->parked)
			t->sys.unmap(&t->sys, e->q ? e->q : e->parked,
				     e->map_size);
	}
	ktl_sys_free(t->shared, sizeof(*t->shared));
	t->shared = NULL;
}

/* Not the tracer of the last call: its key, and remember it. */
struct ktl_thread *ktl_me_slow(const struct ktracer *t)
{
	struct ktl_thread *e = pthread_getspecific(t->key);

	if (e) {
		ktl_tls.id = t->id;
		ktl_tls.e = e;
	}
	return e;
}

/* Give the calling thread an entry: one an exited thread left, or a new one. */
static int ktl_claim(struct ktracer *t, struct ktl_thread **ep)
{
	struct ktl_thread *e = NULL;
	int err;

	pthread_mutex_lock(&t->lock);
	if (t->free) {
		e = &t->shared->threads[t->free - 1];
		t->free = e->next_free;
	} else if (t->nthreads < KTL_THREADS_MAX) {
		e = &t->shared->threads[t->nthreads];
		e->index = t->nthreads++;
		e->t = t;
	}
	if (e) {
		e->next_free = 0;
		e->live = 1;
	}
	pthread_mutex_unlock(&t->lock);
	if (!e)
		return -ENOSPC;
	err = -pthread_setspecific(t->key, e);
	if (err) {
		ktl_thread_exit(e);
		return err;
	}
	ktl_tls.id = t->id;
	ktl_tls.e = e;
	*ep = e;
	return 0;
}

/*
 * The calling thread's entry, claimed on its first call; NULL and the
 * error in @err if it cannot have one: -ECHILD in a child of fork() (the
 * entry it had, or the table, reads as zeros).
 */
struct ktl_thread *ktl_thread_get(struct ktracer *t, int *err)
{
	struct ktl_thread *e = pthread_getspecific(t->key);

	*err = -ECHILD;
	if (e)
		return e->live ? e : NULL;
	if (!ktl_threads_live(t))
		return NULL;
	*err = ktl_claim(t, &e);
	return *err ? NULL : e;
}

/*
 * Where a queue's entries start in its mapping: after its first page. Its
 * clock must be the one asked for (@tsc: KTRACER_QUEUE_TSC).
 */
static int ktl_queue_use(struct ktl_thread *e, struct ktracer_qring *q,
			 const struct ktracer_queue *kq, bool tsc)
{
	uint32_t size = kq->ring_size;

	if (q->magic != KTRACER_QUEUE_MAGIC || q->ring_size != size ||
	    size < KTRACER_QUEUE_RING_MIN || (size & (size - 1)) ||
	    kq->map_size <= size ||
	    q->clock != (tsc ? KTRACER_QCLOCK_TSC : KTRACER_QCLOCK_MONOTONIC))
		return -EPROTO;
	e->tsc = tsc;
	e->ring = (char *)q + (kq->map_size - size);
	e->mask = size - 1;
	e->high = size - size / 4;
	e->map_size = kq->map_size;
	e->qid = kq->id;
	e->head = __atomic_load_n(&q->head, __ATOMIC_RELAXED);
	return 0;
}

/*
 * Create a queue: on x86-64 one of the TSC clock (an op then reads the
 * clock with rdtsc, not clock_gettime()), unless this tracer's kernel
 * refused one before. A kernel that cannot convert the TSC (EOPNOTSUPP)
 * or does not know the flag (EINVAL, before ABI minor 2) gets asked again
 * for a CLOCK_MONOTONIC queue, and is not asked for the TSC again.
 * Whether the queue is of the TSC in *@tsc.
 */
static int ktl_queue_create(struct ktracer *t, struct ktl_thread *e,
			    struct ktracer_queue *kq, bool *tsc)
{
	int err;

	*tsc = false;
#if defined(__x86_64__)
	if (!atomic_load_explicit(&t->no_tsc, memory_order_relaxed)) {
		err = ktl_sys_queue(&t->sys, KTRACER_QUEUE_TSC, 0, t->ring_size,
				    kq);
		if (err != -EINVAL && err != -EOPNOTSUPP) {
			*tsc = !err;
			return err;
		}
		atomic_store_explicit(&t->no_tsc, 1, memory_order_relaxed);
		ktl_inc(&e->syscalls, 1);
	}
#else
	(void)e;
#endif
	return ktl_sys_queue(&t->sys, 0, 0, t->ring_size, kq);
}

/*
 * Give @e's thread a queue: adopt the one an exited thread left in the
 * entry (the kernel drains it first: its entries keep their thread, and
 * the queue its clock), or create and map one.
 */
static int ktl_queue_setup(struct ktracer *t, struct ktl_thread *e)
{
	struct ktracer_queue kq;
	struct ktracer_qring *q;
	bool tsc;
	int err;

	ktl_inc(&e->syscalls, 1);
	if (e->parked) {
		err = ktl_sys_queue(&t->sys, KTRACER_QUEUE_ADOPT, e->qid, 0, &kq);
		if (err)
			return err;
		/* Its ring, mask and clock (e->tsc) are still the entry's. */
		q = e->parked;
		e->parked = NULL;
	} else {
		err = ktl_queue_create(t, e, &kq, &tsc);
		if (err)
			return err;
		q = t->sys.map(&t->sys, kq.map_size, kq.offset, &err);
		if (!q)
			return err;
		err = ktl_queue_use(e, q, &kq, tsc);
		if (err) {
			t->sys.unmap(&t->sys, q, kq.map_size);
			return err;
		}
	}
	/* [Q1] pairs with the kernel's [Q4]. */
	e->tail = __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE);
	e->flush_at = 0;
	ktl_room(e);
	e->q = q;
	return 0;
}

/* Writing ----------------------------------------------------------- */

/*
 * An entry would end past the limit: read the kernel's tail [Q1] (pairs
 * with its [Q4]: the kernel is done with the space before it). Whether
 * an entry ending at @end fits now.
 */
bool ktl_refresh(struct ktl_thread *e, uint64_t end)
{
	e->tail = __atomic_load_n(&e->q->tail, __ATOMIC_ACQUIRE);
	ktl_room(e);
	if (end <= e->limit)
		return true;
	__atomic_store_n(&e->q->dropped, e->q->dropped + 1, __ATOMIC_RELAXED);
	return false;
}

/*
 * The ring is 3/4 full by the copy of the tail: read the kernel's, and
 * if it is still that full ask for a drain, once per quarter ring.
 */
void ktl_nudge(struct ktl_thread *e, uint64_t end)
{
	(void)ktl_refresh(e, end);
	if (end <= e->tail + e->high || end < e->flush_at)
		return;
	e->flush_at = end + (e->mask + 1) / 4;
	ktl_inc(&e->syscalls, 1);
	/* Never waits: a drain running (busy) takes the rest next time. */
	(void)ktl_sys_flush(&e->t->sys, 0, 0);
	(void)ktl_refresh(e, end);
}

/*
 * ktl_write0() with @len bytes at @data inline after the entry, padded
 * to 32; a PAD before it if it would not fit before the ring's end.
 */
static int ktl_write(struct ktl_thread *e, uint16_t opcode, uint16_t flags,
		     uint32_t event, uint32_t slot, uint64_t value,
		     const void *data, uint32_t len)
{
	uint32_t size = e->mask + 1, off, need, pad = 0;
	struct ktracer_qentry *qe;
	uint64_t end, ts = 0;
	int err;

	if (!len)
		return ktl_write0_now(e, opcode, flags, event, slot, value);
	err = ktl_clock(e, &ts);
	if (ktl_unlikely(err))
		return err;
	off = e->head & e->mask;
	need = ktl_entry_bytes(len);
	if (off + need > size)
		pad = size - off;	/* an entry never wraps */
	end = e->head + pad + need;
	if (end > e->limit && !ktl_refresh(e, end))
		return 1;
	if (pad) {
		memset(e->ring + off, 0, KTRACER_QENTRY_SIZE);	/* PAD */
		off = 0;
	}
	qe = (struct ktracer_qentry *)(e->ring + off);
	ktl_entry(qe, opcode, flags, event, slot, len, value, ts);
	memcpy(qe + 1, data, len);
	memset((char *)(qe + 1) + len, 0, need - KTRACER_QENTRY_SIZE - len);
	ktl_publish(e, end);
	return 0;
}

/*
 * Unbatched: one KTRACER_IOC_OP call, the kernel's error at the call (0
 * or -errno), counted.
 */
static int ktl_call(struct ktracer *t, struct ktl_thread *e, uint16_t opcode,
		    uint16_t flags, uint32_t event, uint32_t slot,
		    uint64_t value, const void *data, uint32_t len)
{
	int err = ktl_sys_op(&t->sys, opcode, flags, event, slot, value, data,
			     len);

	ktl_inc(&e->calls, 1);
	ktl_inc(&e->syscalls, 1);
	if (ktl_unlikely(err)) {
		ktl_inc(&e->failed, 1);
		atomic_store_explicit(&e->error, err, memory_order_relaxed);
	}
	return err;
}

/*
 * One op on @e, the calling thread's claimed entry: a call (unbatched),
 * or a queue entry, setting up the queue first if the thread has none.
 * Returns as ktl_write().
 */
int ktl_put(struct ktracer *t, struct ktl_thread *e, uint16_t opcode,
	    uint16_t flags, uint32_t event, uint32_t slot, uint64_t value,
	    const void *data, uint32_t len)
{
	int err;

	if (t->flags & KTRACER_LIB_UNBATCHED)
		return ktl_call(t, e, opcode, flags, event, slot, value, data,
				len);
	if (!e->q) {
		err = ktl_queue_setup(t, e);
		if (err)
			return err;
	}
	return ktl_write(e, opcode, flags, event, slot, value, data, len);
}

/* The first op of a thread, an unbatched op, or an op in a child. */
static int __attribute__((noinline))
ktl_op_slow(struct ktracer *t, uint16_t opcode, uint16_t flags,
	    uint32_t event, uint32_t slot, uint64_t value, const void *data,
	    uint32_t len)
{
	int err;
	struct ktl_thread *e = ktl_thread_get(t, &err);

	if (e)
		err = ktl_put(t, e, opcode, flags, event, slot, value, data, len);
	return err < 0 ? err : 0;
}

/* An op, tracing on, its arguments checked. */
static int ktl_op(struct ktracer *t, uint16_t opcode, uint16_t flags,
		  uint32_t event, uint32_t slot, uint64_t value,
		  const void *data, uint32_t len)
{
	struct ktl_thread *e = ktl_me_queued(t);
	int err;

	if (ktl_unlikely(!e))
		return ktl_op_slow(t, opcode, flags, event, slot, value, data,
				   len);
	err = ktl_write(e, opcode, flags, event, slot, value, data, len);
	return err < 0 ? err : 0;
}

/* The ops ------------------------------------------------------------ */

/*
 * The ops without inline bytes: the exported function only tests that
 * tracing is on, and tail-calls its other half, so that the off path
 * saves no register and reads no clock.
 */
static inline __attribute__((always_inline)) int
ktl_op0(struct ktracer *t, uint16_t opcode, uint16_t flags, bool has_slot,
	uint32_t event, uint32_t slot, uint64_t value)
{
	struct ktl_thread *e;
	uint64_t ts = 0;
	int err;

	err = ktl_check(t, opcode, event, has_slot, slot);
	if (ktl_unlikely(err))
		return err;
	e = ktl_me_queued(t);
	if (ktl_unlikely(!e))
		return ktl_op_slow(t, opcode, flags, event, slot, value, NULL, 0);
	/* The queue's clock: the TSC, or CLOCK_MONOTONIC. */
	err = ktl_clock(e, &ts);
	if (ktl_unlikely(err))
		return err;
	/* Dropped (1) or queued: 0 either way. */
	(void)ktl_write0(e, ts, opcode, flags, event, slot, value);
	return 0;
}

#define KTL_NOINLINE	__attribute__((noinline))

static KTL_NOINLINE int ktl_start_on(struct ktracer *t, uint32_t event,
				     uint32_t slot, uint64_t arg)
{
	return ktl_op0(t, KTRACER_OP_START, 0, true, event, slot, arg);
}

static KTL_NOINLINE int ktl_stop_on(struct ktracer *t, uint32_t event,
				    uint32_t slot, uint64_t arg)
{
	return ktl_op0(t, KTRACER_OP_STOP, 0, true, event, slot, arg);
}

static KTL_NOINLINE int ktl_cancel_on(struct ktracer *t, uint32_t event,
				      uint16_t flags, uint32_t slot)
{
	return ktl_op0(t, KTRACER_OP_CANCEL, flags, !!flags, event, slot, 0);
}

static KTL_NOINLINE int ktl_gauge_on(struct ktracer *t, uint32_t event,
				     int64_t value)
{
	return ktl_op0(t, KTRACER_OP_GAUGE, 0, false, event, 0, (uint64_t)value);
}

static KTL_NOINLINE int ktl_count_on(struct ktracer *t, uint32_t event,
				     uint64_t n)
{
	return ktl_op0(t, KTRACER_OP_COUNT, 0, false, event, 0, n);
}

KTL_EXPORT int ktracer_start(struct ktracer *t, uint32_t event, uint32_t slot,
			     uint64_t arg)
{
	return ktl_off(t) ? 0 : ktl_start_on(t, event, slot, arg);
}

KTL_EXPORT int ktracer_stop(struct ktracer *t, uint32_t event, uint32_t slot,
			    uint64_t arg)
{
	return ktl_off(t) ? 0 : ktl_stop_on(t, event, slot, arg);
}

KTL_EXPORT int ktracer_cancel(struct ktracer *t, uint32_t event)
{
	return ktl_off(t) ? 0 : ktl_cancel_on(t, event, 0, 0);
}

KTL_EXPORT int ktracer_cancel_slot(struct ktracer *t, uint32_t event,
				   uint32_t slot)
{
	return ktl_off(t) ? 0 : ktl_cancel_on(t, event, KTRACER_OPF_SLOT, slot);
}

KTL_EXPORT int ktracer_gauge(struct ktracer *t, uint32_t event, int64_t value)
{
	return ktl_off(t) ? 0 : ktl_gauge_on(t, event, value);
}

KTL_EXPORT int ktracer_count(struct ktracer *t, uint32_t event, uint64_t n)
{
	return ktl_off(t) ? 0 : ktl_count_on(t, event, n);
}

KTL_EXPORT int ktracer_start_text(struct ktracer *t, uint32_t event,
				  uint32_t slot, uint64_t arg,
				  const void *text, size_t len)
{
	int err;

	if (ktl_off(t))
		return 0;
	err = ktl_check(t, KTRACER_OP_START, event, true, slot);
	if (ktl_unlikely(err))
		return err;
	if (!len)
		return ktl_op(t, KTRACER_OP_START, 0, event, slot, arg, NULL, 0);
	if (!text)
		return -EFAULT;
	if (len > KTRACER_TEXT_MAX)
		len = KTRACER_TEXT_MAX;
	return ktl_op(t, KTRACER_OP_START, KTRACER_OPF_TEXT, event, slot, arg,
		      text, (uint32_t)len);
}

KTL_EXPORT int ktracer_log(struct ktracer *t, uint32_t event, const void *msg,
			   size_t len)
{
	int err;

	if (ktl_off(t))
		return 0;
	err = ktl_check(t, KTRACER_OP_LOG, event, false, 0);
	if (ktl_unlikely(err))
		return err;
	if (len == 0 || len > KTRACER_LOG_MAX)
		return -EMSGSIZE;
	if (!msg)
		return -EFAULT;
	return ktl_op(t, KTRACER_OP_LOG, 0, event, 0, 0, msg, (uint32_t)len);
}

/* Threads leaving ----------------------------------------------------- */

/*
 * The key's destructor, on a thread that exits with an entry: cancel the
 * regions it left open (their STOP's room is kept, see above), then put
 * the entry and its queue on the free list for the next thread. Nothing
 * to do in a child of fork() (the entry reads as zeros).
 */
void ktl_thread_exit(void *arg)
{
	struct ktl_thread *e = arg;
	struct ktracer *t = e->t;
	uint32_t r;

	if (!e->live || !t)
		return;
	while (e->depth) {
		r = e->regions[--e->depth];
		e->limit += KTRACER_QENTRY_SIZE;	/* the room its STOP kept */
		if (!(r & KTL_RG_QUIET))
			(void)ktl_put(t, e, KTRACER_OP_CANCEL,
				      KTRACER_OPF_REGION | KTRACER_OPF_SLOT, r,
				      e->index, 0, NULL, 0);
	}
	if (e->q) {
		e->parked = e->q;
		e->q = NULL;
	}
	if (ktl_tls.e == e)
		ktl_tls.id = 0;	/* a later destructor's op claims anew */
	pthread_mutex_lock(&t->lock);
	e->live = 0;
	e->next_free = t->free;
	t->free = e->index + 1;
	pthread_mutex_unlock(&t->lock);
}

/* Stats ---------------------------------------------------------------- */

/* Add every entry's counters, and its queue's, to @st. Under t->lock. */
void ktl_threads_stats(struct ktracer *t, struct ktracer_lib_stats *st)
{
	const struct ktracer_qring *q;
	const struct ktl_thread *e;
	uint64_t head, tail;
	int32_t err;
	uint32_t i;

	for (i = 0; i < t->nthreads; i++) {
		e = &t->shared->threads[i];
		st->threads += e->live;
		st->syscalls += atomic_load_explicit(&e->syscalls, memory_order_relaxed);
		st->applied += atomic_load_explicit(&e->calls, memory_order_relaxed) -
			       atomic_load_explicit(&e->failed, memory_order_relaxed);
		st->refused += atomic_load_explicit(&e->failed, memory_order_relaxed);
		err = atomic_load_explicit(&e->error, memory_order_relaxed);
		/* A queue's pointer is its owner's: read the one the entry has. */
		q = __atomic_load_n(&e->q, __ATOMIC_RELAXED);
		if (!q)
			q = e->parked;
		if (q) {
			st->dropped += __atomic_load_n(&q->dropped, __ATOMIC_RELAXED);
			st->applied += __atomic_load_n(&q->applied, __ATOMIC_RELAXED);
			st->refused += __atomic_load_n(&q->refused, __ATOMIC_RELAXED);
			tail = __atomic_load_n(&q->tail, __ATOMIC_RELAXED);
			head = __atomic_load_n(&q->head, __ATOMIC_RELAXED);
			st->pending += head > tail ? head - tail : 0;
			if (!err)
				err = __atomic_load_n(&q->error, __ATOMIC_RELAXED);
		}
		if (err)
			st->last_error = err;
	}
}
