// SPDX-License-Identifier: GPL-2.0
/*
 * Per-thread queues: rings in memory shared with a program, as io_uring's
 * submission ring is. A thread writes its ops into its own queue with
 * plain stores; the kernel drains the file's queues on FLUSH, every
 * interval from a delayed work, when a queue is adopted and when the file
 * is released, and applies their entries in ts order, each as an op of
 * KTRACER_IOC_OP on behalf of the queue's owner. The memory is the
 * kernel's: what a program queued outlives the program.
 *
 * Everything in the shared memory is untrusted: the kernel reads head,
 * dropped and each entry (with its inline bytes) once, into memory of its
 * own, and checks the copy. It keeps its own tail and counters and only
 * writes them out, so that nothing the program writes there is believed.
 * The protocol and its barriers, [Q1] to [Q4], are documented in
 * uapi/linux/ktracer.h.
 */

#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include "compat.h"
#include "ktracer.h"
#include "op.h"

#define KT_QENT		KTRACER_QENTRY_SIZE
/*
 * Records a drain reserves at once, in the time preemption is off. A
 * block is published as a whole: 128 of 48 bytes, 6 KiB, publish heads
 * at most three of OVERWRITE's 2 KiB chunks apart, so that it finds a
 * checkpoint to free up to (buffer.c's kt_ck_find()) rather than walk
 * the records.
 */
#define KT_DRAIN_BLOCK	128

/*
 * Queue id's mapping is at KT_QUEUE_BASE + (id - 1) * 4 MiB: far above
 * the buffers (which end below 2^39 bytes), and below 2^44 bytes, the
 * largest offset a 32-bit process's mmap2() can give.
 */
#define KT_QUEUE_BASE		BIT_ULL(43)
#define KT_QUEUE_WIN_SHIFT	22
static_assert(PAGE_SIZE + KTRACER_QUEUE_RING_MAX <= 1UL << KT_QUEUE_WIN_SHIFT);
static_assert(KT_QUEUE_BASE + ((u64)KTRACER_FILE_QUEUES_MAX << KT_QUEUE_WIN_SHIFT)
	      <= 1ULL << 44);
static_assert(sizeof(struct ktracer_qring) <= 4096);

struct kt_queue {
	struct ktracer_qring *qr;	/* the first page: shared */
	u8 *ring;			/* ring_size bytes of entries: shared */
	u32 id;
	u32 ring_size;
	unsigned long nr_pages;		/* of the mapping */
	struct pid *tgid;		/* the owner's process */
	/* KTRACER_QUEUE_TSC: the file's conversion; NULL: CLOCK_MONOTONIC */
	const struct kt_tsc *tsc;
	/* Under drain_lock: the owner, and the kernel's own copies. */
	struct kt_who who;
	u64 tail;
	u64 last_ts;
	u64 dropped;			/* "dropped" at the previous drain */
	u64 applied;
	u64 refused;
	s32 error;
	/* A drain's cursor: the entry at pos, cur, is size bytes. */
	u32 size;
	bool simple;			/* cur is kt_opcode_simple() */
	u64 pos;
	u64 end;			/* the head the drain found */
	struct ktracer_qentry cur;
};

struct kt_qset {
	struct kt_tracer *t;
	struct mutex create_lock;	/* creation, the interval */
	struct mutex drain_lock;	/* one drain at a time; the owners */
	struct delayed_work work;	/* the drain every interval */
	u32 interval_ms;
	u32 nr;				/* queues, ids 1..nr: see below */
	u64 opened;			/* the oldest ts of a first entry */
	struct kt_tsc tsc;		/* under drain_lock: TSC queues' anchor */
	struct kt_queue **q;		/* [id - 1], then the drain's heap */
};

/*
 * Queues live as long as the file: q[0..nr-1] only grows, each entry
 * written before nr counts it (kt_queue_create()'s release, which every
 * reader's acquire of nr pairs with).
 */
static u32 kt_qset_nr(struct kt_qset *qs)
{
	/* Pairs with the release in kt_queue_create(). */
	return smp_load_acquire(&qs->nr);
}

static void kt_drain_work(struct work_struct *work);

struct kt_qset *kt_qset_new(struct kt_tracer *t)
{
	struct kt_qset *qs = kzalloc(sizeof(*qs), GFP_KERNEL_ACCOUNT);

	if (!qs)
		return NULL;
	qs->t = t;
	mutex_init(&qs->create_lock);
	mutex_init(&qs->drain_lock);
	INIT_DELAYED_WORK(&qs->work, kt_drain_work);
	qs->interval_ms = KTRACER_QUEUE_INTERVAL_DEFAULT;
	qs->opened = ktime_get_ns();
	return qs;
}

static void kt_q_refuse(struct kt_queue *q, int err)
{
	q->refused++;
	q->error = err;
}

/* Bytes inline after entry @e: a LOG's message, a START's text. */
static u32 kt_qentry_bytes(const struct ktracer_qentry *e)
{
	u32 max = 0;

	if (e->op == KTRACER_OP_LOG)
		max = KTRACER_LOG_MAX;
	else if (e->op == KTRACER_OP_START && e->flags & KTRACER_OPF_TEXT)
		max = KTRACER_TEXT_MAX;
	return e->len <= max ? e->len : 0;
}

/*
 * Take the program's head: the entries in [tail, head) are this drain's.
 * A head that is not a multiple of an entry, behind the tail or more than
 * a ring ahead of it is refused, the queue left alone.
 */
static void kt_q_begin(struct kt_queue *q)
{
	/* [Q3]: the entries before the head; pairs with the program's [Q2]. */
	u64 head = smp_load_acquire(&q->qr->head);

	q->pos = q->tail;
	q->end = q->tail;
	if (head == q->tail)
		return;
	if (head & (KT_QENT - 1) || head < q->tail ||
	    head - q->tail > q->ring_size) {
		kt_q_refuse(q, -EINVAL);
		return;
	}
	q->end = head;
}

/*
 * Copy the next entry out of the ring into q->cur, skipping PADs. An
 * entry that runs past the head or the ring's end is refused and ends the
 * queue's drain: its tail moves to the head. Returns whether there is one.
 */
static __always_inline bool kt_q_next(struct kt_queue *q)
{
	u64 off, pad_end;
	bool has_bytes;

	while (q->pos < q->end) {
		off = q->pos & (q->ring_size - 1);
		memcpy(&q->cur, q->ring + off, sizeof(q->cur));
		if (q->cur.op) {
			/* In ns from here on: the merge, the rules, records. */
			if (q->tsc)
				q->cur.ts = kt_tsc_ns(q->tsc, q->cur.ts);
			/*
			 * An entry without bytes is whole wherever it is:
			 * pos, end and the ring's size are multiples of it.
			 */
			q->size = KT_QENT;
			has_bytes = kt_opcode_has_bytes(q->cur.op, q->cur.flags);
			q->simple = !has_bytes && q->cur.op != KTRACER_OP_CANCEL;
			if (likely(!has_bytes))
				return true;
			q->size += round_up(kt_qentry_bytes(&q->cur), KT_QENT);
			if (off + q->size <= q->ring_size &&
			    q->size <= q->end - q->pos)
				return true;
			break;
		}
		/* A PAD, all zero, skips to the ring's end. */
		pad_end = q->pos - off + q->ring_size;
		if (pad_end > q->end)
			break;
		if (memchr_inv(&q->cur, 0, sizeof(q->cur))) {
			kt_q_refuse(q, -EINVAL);
			q->pos += KT_QENT;
		} else {
			q->pos = pad_end;
		}
	}
	if (q->pos < q->end)
		kt_q_refuse(q, -EINVAL);
	q->pos = q->end;
	return false;
}

/* q->cur as an op of KTRACER_IOC_OP. */
static void kt_q_op(const struct kt_queue *q, struct ktracer_op *op)
{
	const struct ktracer_qentry *e = &q->cur;

	*op = (struct ktracer_op){
		.size = sizeof(*op), .op = e->op, .flags = e->flags,
		.event = e->event, .slot = e->slot, .value = e->value,
		.ts = e->ts, .len = e->len,
	};
}

/* q->cur was applied (@ret 0) or refused (-errno): the next one. */
static void kt_q_done(struct kt_queue *q, int ret)
{
	if (ret) {
		kt_q_refuse(q, ret);
	} else {
		q->applied++;
		q->last_ts = q->cur.ts;
	}
	q->pos += q->size;
}

/*
 * Apply q->cur as an op of the queue's owner, with the queue's rules on
 * ts: not 0, not in the future (@now), not older than its previous entry.
 * @bytes is room for its inline bytes, copied out of the ring once.
 */
static void kt_q_apply(struct kt_qset *qs, struct kt_queue *q, u64 now,
		       u8 *bytes)
{
	struct ktracer_op op;
	int ret = -EINVAL;

	kt_q_op(q, &op);
	memcpy(bytes, q->ring + ((q->pos + KT_QENT) & (q->ring_size - 1)),
	       kt_qentry_bytes(&q->cur));
	/* A LOG's message is inline: value has no meaning, and must be 0. */
	if (op.ts && !(op.op == KTRACER_OP_LOG && op.value))
		ret = kt_apply(qs->t, &op, q->last_ts, now, &q->who, bytes);
	kt_q_done(q, ret);
}

/*
 * Apply q->cur, a simple op (kt_opcode_simple()), into block @b; the same
 * rules as kt_q_apply().
 */
static void kt_q_apply_block(struct kt_qset *qs, struct kt_queue *q,
			     struct kt_block *b, u64 now)
{
	struct ktracer_op op kt_no_autoinit;	/* kt_q_op() fills it */
	int ret = -EINVAL;

	if (q->cur.ts) {
		kt_q_op(q, &op);
		ret = kt_block_op(qs->t, b, &op, q->last_ts, now, &q->who);
	}
	kt_q_done(q, ret);
}

/* Tell what the program dropped, and hand the space back to it. */
static void kt_q_end(struct kt_queue *q, u64 now)
{
	u64 dropped = READ_ONCE(q->qr->dropped);
	struct kt_rec d = {
		.type = KTRACER_REC_LOST, .ts = now, .pid = q->who.pid,
		.tid = q->who.tid, .arg = dropped - q->dropped,
	};

	if (dropped > q->dropped)
		kt_write(&d);
	q->dropped = dropped;
	q->tail = q->pos;
	WRITE_ONCE(q->qr->applied, q->applied);
	WRITE_ONCE(q->qr->refused, q->refused);
	WRITE_ONCE(q->qr->error, q->error);
	WRITE_ONCE(q->qr->last_ts, q->last_ts);
	/* [Q4]: done with the entries before it; pairs with the program's [Q1]. */
	smp_store_release(&q->qr->tail, q->tail);
}

/* The merge's order: ts, then queue id. */
static bool kt_q_before(const struct kt_queue *a, const struct kt_queue *b)
{
	return a->cur.ts < b->cur.ts ||
	       (a->cur.ts == b->cur.ts && a->id < b->id);
}

static void kt_heap_down(struct kt_queue **h, u32 n, u32 i)
{
	struct kt_queue *x = h[i];
	u32 c;

	while ((c = 2 * i + 1) < n) {
		if (c + 1 < n && kt_q_before(h[c + 1], h[c]))
			c++;
		if (!kt_q_before(h[c], x))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = x;
}

/*
 * The heap's top is done with its entry: its next one, or it leaves.
 * Returns the queues left.
 */
static __always_inline u32 kt_heap_next(struct kt_queue **h, u32 n)
{
	if (!kt_q_next(h[0]))
		h[0] = h[--n];
	if (n > 1)
		kt_heap_down(h, n, 0);
	return n;
}

/* Whether the drain takes @q's entry now: see kt_drain(). */
static bool kt_q_due(const struct kt_queue *q, u64 cut, u64 now)
{
	return q->cur.ts <= cut || q->cur.ts > now;
}

/*
 * Apply the run of due simple entries that begins at the heap's top, up
 * to KT_DRAIN_BLOCK of them, in one block; the heap's new size in *@n.
 * False, having applied nothing, if the block could not begin.
 */
static bool kt_drain_block(struct kt_qset *qs, struct kt_queue **heap,
			   u32 *n, u64 cut, u64 now)
{
	struct kt_queue *q = heap[0];
	struct kt_block b;
	bool begun;

	begun = kt_block_begin(&b, KT_DRAIN_BLOCK);
	while (begun) {
		kt_q_apply_block(qs, q, &b, now);
		if (*n == 1) {
			/* One queue: no merge, and heap[0] stays q. */
			if (!kt_q_next(q)) {
				*n = 0;
				break;
			}
		} else {
			*n = kt_heap_next(heap, *n);
			q = heap[0];
		}
		if (!b.left || !q->simple || !kt_q_due(q, cut, now))
			break;
	}
	kt_block_end(&b);
	return begun;
}

/*
 * Drain every queue: the entries published when it began, of all queues
 * merged by ts. Under drain_lock. Adds what it applied and refused to
 * *@applied and *@refused.
 *
 * Unless @all, it leaves for the next drain the entries newer than the
 * time it began (@cut, read before the heads): a START published in one
 * queue just after its head was read, whose STOP another thread queued
 * before the next head was read, has a ts after @cut, and so has the
 * STOP, so the STOP is never applied before its START. @all (the file's
 * release, an adoption: no more entries of the old thread will come)
 * takes everything published.
 */
static void kt_drain(struct kt_qset *qs, bool all, u64 *applied,
		     u64 *refused)
{
	u32 i, n = 0, nr = kt_qset_nr(qs);
	struct kt_queue **heap, *q;
	u8 bytes[KTRACER_LOG_MAX] kt_no_autoinit;	/* kt_q_apply() fills */
	u64 cut, now;

	static_assert(KTRACER_TEXT_MAX <= KTRACER_LOG_MAX);
	if (!nr)
		return;
	heap = qs->q + KTRACER_FILE_QUEUES_MAX;
	/* And the TSC queues' cut: see kt_tsc_cut(). */
	cut = kt_tsc_cut(&qs->tsc);
	for (i = 0; i < nr; i++) {
		q = qs->q[i];
		*applied -= q->applied;
		*refused -= q->refused;
		kt_q_begin(q);
	}
	/*
	 * After every head: nothing published before it is newer; nor is
	 * any TSC queue's entry newer than this anchor.
	 */
	now = kt_tsc_anchor(&qs->tsc);
	if (all)
		cut = U64_MAX;	/* every entry is due */
	for (i = 0; i < nr; i++)
		if (kt_q_next(qs->q[i]))
			heap[n++] = qs->q[i];
	for (i = n / 2; i-- > 0;)
		kt_heap_down(heap, n, i);
	/* The oldest left is newer than @cut: so are all the others. */
	while (n && kt_q_due(heap[0], cut, now)) {
		q = heap[0];
		/* Runs of simple entries go in blocks, one by one the others. */
		if (!q->simple ||
		    !kt_drain_block(qs, heap, &n, cut, now)) {
			kt_q_apply(qs, q, now, bytes);
			n = kt_heap_next(heap, n);
		}
		cond_resched();
	}
	for (i = 0; i < nr; i++) {
		q = qs->q[i];
		kt_q_end(q, now);
		*applied += q->applied;
		*refused += q->refused;
	}
}

static void kt_drain_work(struct work_struct *work)
{
	struct kt_qset *qs = container_of(to_delayed_work(work),
					  struct kt_qset, work);
	u64 applied = 0, refused = 0;

	/* A drain running now takes what this one would have. */
	if (mutex_trylock(&qs->drain_lock)) {
		kt_drain(qs, false, &applied, &refused);
		mutex_unlock(&qs->drain_lock);
	}
	queue_delayed_work(system_unbound_wq, &qs->work,
			   msecs_to_jiffies(READ_ONCE(qs->interval_ms)));
}

/* The file is released: no more drains on the interval, and a last one. */
void kt_qset_stop(struct kt_qset *qs)
{
	u64 applied = 0, refused = 0;

	/* Even as it queues itself again: the work is not queued after. */
	cancel_delayed_work_sync(&qs->work);
	mutex_lock(&qs->drain_lock);
	kt_drain(qs, true, &applied, &refused);
	mutex_unlock(&qs->drain_lock);
}

/* After kt_qset_stop(), with nothing mapped: the file is gone. */
void kt_qset_free(struct kt_qset *qs)
{
	u32 i, nr = kt_qset_nr(qs);
	struct kt_queue *q;

	for (i = 0; i < nr; i++) {
		q = qs->q[i];
		vfree(q->qr);
		put_pid(q->tgid);
		kfree(q);
	}
	kvfree(qs->q);
	kfree(qs);
}

static u64 kt_queue_offset(u32 id)
{
	return KT_QUEUE_BASE + ((u64)(id - 1) << KT_QUEUE_WIN_SHIFT);
}

static void kt_queue_report(const struct kt_queue *q, struct ktracer_queue *a)
{
	a->id = q->id;
	a->ring_size = q->ring_size;
	a->offset = kt_queue_offset(q->id);
	a->map_size = (u64)q->nr_pages << PAGE_SHIFT;
}

/*
 * A new queue for the calling thread. Its memory, a page and the ring, is
 * charged to the caller's memory cgroup, as the file's is.
 */
static int kt_queue_create(struct kt_qset *qs, struct ktracer_queue *a)
{
	struct kt_queue *q;
	int ret;

	if (a->id || a->ring_size < KTRACER_QUEUE_RING_MIN ||
	    a->ring_size > KTRACER_QUEUE_RING_MAX ||
	    !is_power_of_2(a->ring_size))
		return -EINVAL;
	mutex_lock(&qs->create_lock);
	ret = -ENOSPC;
	if (qs->nr == KTRACER_FILE_QUEUES_MAX)
		goto out;
	ret = -ENOMEM;
	if (!qs->q) {
		/* The queues by id, then room for a drain's heap of them. */
		qs->q = kvcalloc(2 * KTRACER_FILE_QUEUES_MAX, sizeof(*qs->q),
				 GFP_KERNEL_ACCOUNT);
		if (!qs->q)
			goto out;
	}
	q = kzalloc(sizeof(*q), GFP_KERNEL_ACCOUNT);
	if (!q)
		goto out;
	q->nr_pages = 1 + DIV_ROUND_UP(a->ring_size, PAGE_SIZE);
	q->qr = __vmalloc(q->nr_pages << PAGE_SHIFT,
			  GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!q->qr) {
		kfree(q);
		goto out;
	}
	q->ring = (u8 *)q->qr + PAGE_SIZE;
	q->id = qs->nr + 1;
	q->ring_size = a->ring_size;
	q->tgid = get_task_pid(current, PIDTYPE_TGID);
	kt_who_current(&q->who);
	q->last_ts = qs->opened;
	q->qr->magic = KTRACER_QUEUE_MAGIC;
	q->qr->id = q->id;
	q->qr->ring_size = q->ring_size;
	if (a->flags & KTRACER_QUEUE_TSC) {
		q->tsc = &qs->tsc;
		q->qr->clock = KTRACER_QCLOCK_TSC;
	}
	qs->q[qs->nr] = q;
	/* The queue before the count; pairs with kt_qset_nr(). */
	smp_store_release(&qs->nr, qs->nr + 1);
	if (q->id == 1)
		queue_delayed_work(system_unbound_wq, &qs->work,
				   msecs_to_jiffies(qs->interval_ms));
	kt_queue_report(q, a);
	ret = 0;
out:
	mutex_unlock(&qs->create_lock);
	return ret;
}

/* The queue @id, if it is of the calling thread's process. */
static struct kt_queue *kt_queue_mine(struct kt_qset *qs, u64 id, int *err)
{
	struct kt_queue *q;

	*err = -ENOENT;
	if (id < 1 || id > kt_qset_nr(qs))
		return NULL;
	q = qs->q[id - 1];
	*err = -EACCES;
	if (q->tgid != task_tgid(current))
		return NULL;
	*err = 0;
	return q;
}

/*
 * The calling thread takes over queue a->id of its own process: what the
 * queue holds is drained first, under its former owner's name.
 */
static int kt_queue_adopt(struct kt_qset *qs, struct ktracer_queue *a)
{
	u64 applied = 0, refused = 0;
	struct kt_queue *q;
	int ret;

	if (a->ring_size)
		return -EINVAL;
	q = kt_queue_mine(qs, a->id, &ret);
	if (!q)
		return ret;
	mutex_lock(&qs->drain_lock);
	kt_drain(qs, true, &applied, &refused);
	kt_who_current(&q->who);
	mutex_unlock(&qs->drain_lock);
	kt_queue_report(q, a);
	return 0;
}

long kt_ioc_queue(struct kt_qset *qs, void __user *uarg)
{
	struct ktracer_queue a;
	int ret;

	ret = kt_uarg_in(&a, sizeof(a), KTRACER_QUEUE_SIZE_VER0, uarg);
	if (ret)
		return ret;
	if (a.flags & ~(KTRACER_QUEUE_ADOPT | KTRACER_QUEUE_TSC))
		return -EINVAL;
	/* A queue keeps the clock it was created with. */
	if (a.flags == (KTRACER_QUEUE_ADOPT | KTRACER_QUEUE_TSC))
		return -EINVAL;
	if (a.flags & KTRACER_QUEUE_TSC && !kt_tsc_usable())
		return -EOPNOTSUPP;
	if (a.flags & KTRACER_QUEUE_ADOPT)
		ret = kt_queue_adopt(qs, &a);
	else
		ret = kt_queue_create(qs, &a);
	if (ret)
		return ret;
	return kt_uarg_out(uarg, &a, sizeof(a));
}

long kt_ioc_flush(struct kt_qset *qs, void __user *uarg)
{
	const u32 known = KTRACER_FLUSH_WAIT | KTRACER_FLUSH_INTERVAL;
	struct ktracer_flush f;
	int ret;

	ret = kt_uarg_in(&f, sizeof(f), KTRACER_FLUSH_SIZE_VER0, uarg);
	if (ret)
		return ret;
	if (f.flags & ~known)
		return -EINVAL;
	if (f.flags & KTRACER_FLUSH_INTERVAL ?
	    f.interval_ms < 1 || f.interval_ms > KTRACER_QUEUE_INTERVAL_MAX :
	    f.interval_ms)
		return -EINVAL;
	f.busy = 0;
	f.applied = 0;
	f.refused = 0;
	if (f.flags & KTRACER_FLUSH_WAIT) {
		if (mutex_lock_interruptible(&qs->drain_lock))
			return -EINTR;
	} else if (!mutex_trylock(&qs->drain_lock)) {
		f.busy = 1;
	}
	if (f.flags & KTRACER_FLUSH_INTERVAL) {
		mutex_lock(&qs->create_lock);
		WRITE_ONCE(qs->interval_ms, f.interval_ms);
		if (qs->nr)
			mod_delayed_work(system_unbound_wq, &qs->work,
					 msecs_to_jiffies(f.interval_ms));
		mutex_unlock(&qs->create_lock);
	}
	if (!f.busy) {
		kt_drain(qs, false, &f.applied, &f.refused);
		mutex_unlock(&qs->drain_lock);
	}
	return kt_uarg_out(uarg, &f, sizeof(f));
}

bool kt_queue_pgoff(unsigned long pgoff)
{
	return (u64)pgoff >= KT_QUEUE_BASE >> PAGE_SHIFT;
}

/* vm_private_data: the queue, which lives as long as the file. */
static vm_fault_t kt_queue_fault(struct vm_fault *vmf)
{
	struct kt_queue *q = vmf->vma->vm_private_data;

	return kt_fault_page(vmf, q->qr, q->nr_pages, vmf->pgoff -
			     (kt_queue_offset(q->id) >> PAGE_SHIFT));
}

static const struct vm_operations_struct kt_queue_vm_ops = {
	.fault	= kt_queue_fault,
};

/*
 * A queue maps whole, shared, into its owner's process only, and is not
 * copied into a child at fork() (VM_DONTCOPY; VM_IO keeps madvise()'s
 * MADV_DOFORK from clearing it, and keeps other processes from reaching
 * the pages through /proc/PID/mem), nor grown by mremap().
 */
int kt_queue_mmap(struct kt_qset *qs, struct vm_area_struct *vma)
{
	u64 off = (u64)vma->vm_pgoff << PAGE_SHIFT;
	struct kt_queue *q;
	u64 id;
	int ret;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	id = ((off - KT_QUEUE_BASE) >> KT_QUEUE_WIN_SHIFT) + 1;
	if (id > KTRACER_FILE_QUEUES_MAX || off != kt_queue_offset(id))
		return -EINVAL;
	q = kt_queue_mine(qs, id, &ret);
	if (!q)
		return ret == -ENOENT ? -EINVAL : ret;
	if (vma_pages(vma) != q->nr_pages)
		return -EINVAL;
	vm_flags_set(vma, VM_DONTCOPY | VM_DONTEXPAND | VM_IO);
	vma->vm_private_data = q;
	vma->vm_ops = &kt_queue_vm_ops;
	return 0;
}
