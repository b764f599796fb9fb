/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktracer: declarations shared between the module's files.
 */
#ifndef _KTRACER_H
#define _KTRACER_H

#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/compiler.h>
#include <linux/irq_work.h>
#include <linux/math64.h>
#include <linux/mm_types.h>
#include <linux/rcupdate.h>
#include <linux/wait.h>
#include <asm/local.h>
#include <asm/local64.h>
#include <uapi/linux/ktracer.h>

struct file;
struct poll_table_struct;
struct vm_area_struct;

/*
 * buffer.c: the state page (page 0 of the mmap space), which keeps
 * whether anything is recorded: read inline by every kernel event.
 */
extern struct ktracer_state *kt_state;

static inline bool kt_is_enabled(void)
{
	return READ_ONCE(kt_state->enabled);
}

void kt_set_enabled(bool on);

/* uarg.c: size-first ioctl arguments (see uapi/linux/ktracer.h). */
int kt_uarg_in(void *dst, size_t ksize, size_t minsize,
	       const void __user *uarg);
int kt_uarg_out(void __user *uarg, void *src, size_t ksize);
int kt_copy_words_in(void *dst, const void __user *src, size_t size);

/*
 * buffer.c: the per-CPU buffers.
 *
 * A checkpoint: a head the outermost writer published, and how many
 * records (not PAD or LOST) lie before it in the CPU's stream, which is
 * written - lost at that moment. OVERWRITE frees up to a checkpoint and
 * counts what it freed as the difference of two, instead of walking
 * every record it frees (kt_overwrite()).
 */
struct kt_ck {
	u64 pos;
	u64 count;
};

struct kt_cpu_buf {
	void *area;			/* reader page, meta page, data */
	struct ktracer_reader *reader;	/* user-writable: never trusted */
	struct ktracer_meta *meta;
	u8 *data;
	u64 mask;			/* data_size - 1 */
	local64_t head;			/* reserved up to here */
	local_t nest;			/* writers in progress on this CPU */
	local64_t written;
	local64_t bytes;
	local64_t lost;
	local64_t lost_pending;		/* lost, not yet told by a LOST record */
	local64_t overwritten;
	local64_t tail_resets;
	/*
	 * Writer-private, touched by this CPU's outermost writer only (and
	 * wake_at lowered by poll(), with a cmpxchg): see buffer.c.
	 */
	u64 tail_cache;			/* DISCARD: a tail the reader passed */
	u64 wake_at;			/* look for waiters at this head */
	u64 wake_set;			/* wake_at as the writer last set it */
	u64 wake_next;			/* the crossing it computed last */
	u64 woken_tail;			/* the tail at the last wake-up */
	bool meta_dirty;		/* lost, overwritten, tail_resets moved */
	u64 ck_at;			/* checkpoint the first head past this */
	u64 ow_tail;			/* OVERWRITE: the tail we last set */
	u64 ow_count;			/* if a checkpoint's: its count */
	struct kt_ck *ck;		/* one per 1 << ck_shift bytes of data */
	u64 ck_mask;			/* their number - 1 */
	unsigned int ck_shift;
	struct irq_work wake;
};

struct kt_buffers {
	u64 data_size;
	unsigned int cpu_pages;
	unsigned int nr_cpus;
	struct kt_cpu_buf cpu[];
};

extern struct kt_buffers __rcu *kt_bufs;
extern wait_queue_head_t kt_wait;

/*
 * A position the kernel can use as the tail: 8-aligned, not ahead of
 * @head, not more than a buffer behind it. The reader's page, where the
 * tail lives, is user-writable: check before use.
 */
static inline bool kt_tail_valid(const struct kt_cpu_buf *cb, u64 tail,
				 u64 head)
{
	return !(tail & 7) && tail <= head && head - tail <= cb->mask + 1;
}

/*
 * The record rule, one for every reader of the buffers in the module.
 * @r is the record at @pos, or a copy of its bytes up to a header's or
 * the data's end; its size, read once, goes to *@size. A record in a
 * walk to @end (a head) is 8-aligned, ends by @end and by the end of the
 * data, and is a header at least, its message inside it; only a PAD that
 * runs to the end of the data may be shorter. Bytes that break the rule
 * are not a record (a corrupt tail points into a message, say): a walk
 * stops there. Nothing past the record is read.
 */
static inline bool kt_rec_ok(const struct kt_cpu_buf *cb, u64 pos, u64 end,
			     const struct ktracer_record *r,
			     unsigned int *size)
{
	u64 off = pos & cb->mask;
	u32 n = READ_ONCE(r->size);

	*size = n;
	if (!n || n & 7 || pos >= end || n > end - pos ||
	    off + n > cb->mask + 1)
		return false;
	if (n < sizeof(*r))
		return READ_ONCE(r->type) == KTRACER_REC_PAD &&
		       off + n == cb->mask + 1;
	return READ_ONCE(r->len) <= n - sizeof(*r);
}

/*
 * The record at position @pos, in a walk to @end, its size in *@size;
 * NULL if it breaks the record rule. Never points outside the data.
 */
static inline struct ktracer_record *kt_rec_at(const struct kt_cpu_buf *cb,
					       u64 pos, u64 end,
					       unsigned int *size)
{
	struct ktracer_record *r = (void *)(cb->data + (pos & cb->mask));

	return kt_rec_ok(cb, pos, end, r, size) ? r : NULL;
}

/* Whether a record counts in the accounting: PAD and LOST do not. */
static inline bool kt_rec_counts(const struct ktracer_record *r)
{
	return r->type != KTRACER_REC_PAD && r->type != KTRACER_REC_LOST;
}

/* A record being written; see kt_buf_reserve(). */
struct kt_wctx {
	struct kt_cpu_buf *cb;
	u64 end;			/* head after the reservation */
};

/*
 * The writer's fast path, inline in every source: kt_begin(), kt_claim()
 * and kt_buf_reserve(); kt_buf_commit() below. The rest is buffer.c's.
 */
/* Deeper than task, softirq, hardirq and NMI: something is wrong. */
#define KT_NEST_MAX	8

void kt_fill_pad(void *p, unsigned int size);
bool kt_discard_room(struct kt_cpu_buf *cb, u64 head, u64 new);
u64 kt_claim_overwrite(struct kt_cpu_buf *cb, unsigned int need);
struct ktracer_record *kt_buf_reserve_rest(struct kt_wctx *w,
					   unsigned int size, u64 ts);
struct ktracer_record *kt_buf_drop(struct kt_cpu_buf *cb, u64 lost);

/*
 * Where a claim of @need bytes at @head ends: after the bytes left
 * before the end of the data, if @need does not fit there (they become a
 * PAD record), and @need.
 */
static __always_inline u64 kt_claim_end(const struct kt_cpu_buf *cb,
					u64 head, unsigned int need)
{
	u64 off = head & cb->mask;

	if (unlikely(off + need > cb->mask + 1))
		return head + (cb->mask + 1 - off) + need;
	return head + need;
}

/*
 * The claim [head, @end) took the bytes before the end of the data (it
 * ends @need bytes from the start): make them a PAD record.
 */
static __always_inline void kt_claim_pad(struct kt_cpu_buf *cb, u64 head,
					 u64 end, unsigned int need)
{
	if (unlikely(end - need != head))
		kt_fill_pad(cb->data + (head & cb->mask), end - need - head);
}

/*
 * OVERWRITE: does [head, @new) fit after the reader's tail, which is no
 * further than @head behind (else it makes no sense) and a multiple of 8?
 * [K1]: read with acquire, which orders this record's data writes after
 * it; pairs with the reader's [R3]. Read per record, as perf's writer
 * reads data_tail: a tail it cannot use is seen at the next record.
 */
static __always_inline bool kt_overwrite_fits(struct kt_cpu_buf *cb,
					      u64 head, u64 new)
{
	u64 tail = smp_load_acquire(&cb->reader->tail);	/* [K1] */

	return !(tail & 7) && head - tail <= cb->mask + 1 &&
	       new - tail <= cb->mask + 1;
}

/*
 * Claim @need bytes on this CPU, after a PAD record to the end of the
 * data if they do not fit before it: returns the new head (the claim's
 * end, @need bytes after the start of its space), 0 if there is no room.
 * A nested writer that claims space meanwhile makes us retry after it.
 * DISCARD checks the room against cb->tail_cache, a tail the reader has
 * already passed, and reads the reader's page only when that says no
 * (kt_discard_room()). OVERWRITE reads the reader's tail and, when there
 * is no room after it, frees the oldest records out of line, beyond what
 * this record needs (KT_OVERWRITE_AHEAD): the records that follow fit.
 */
static __always_inline u64 kt_claim(struct kt_cpu_buf *cb, unsigned int need)
{
	bool overwrite = READ_ONCE(kt_state->mode) == KTRACER_MODE_OVERWRITE;
	u64 head, new;

	do {
		head = local64_read(&cb->head);
		new = kt_claim_end(cb, head, need);
		if (unlikely(overwrite)) {
			if (unlikely(!kt_overwrite_fits(cb, head, new)))
				return kt_claim_overwrite(cb, need);
		} else if (unlikely(new - READ_ONCE(cb->tail_cache) >
				    cb->mask + 1) &&
			   !kt_discard_room(cb, head, new)) {
			return 0;
		}
	} while (unlikely(local64_cmpxchg(&cb->head, head, new) != head));
	kt_claim_pad(cb, head, new, need);
	return new;
}

/* Begin a write on this CPU's buffer; kt_buf_commit() ends it. */
static __always_inline struct kt_cpu_buf *kt_begin(struct kt_wctx *w)
{
	struct kt_buffers *b = rcu_dereference_sched(kt_bufs);
	struct kt_cpu_buf *cb = &b->cpu[smp_processor_id()];

	w->cb = cb;
	local_inc(&cb->nest);
	barrier();
	return cb;
}

/*
 * Reserve @size bytes (a multiple of 8) for one record on this CPU.
 * Called with preemption disabled; returns NULL if the record was dropped
 * (counted), else the record to fill, to be finished by kt_buf_commit().
 * Writes a LOST record first if records were dropped since the last one,
 * with @ts, the time of the record that follows it (kt_buf_reserve_rest()).
 */
static __always_inline struct ktracer_record *
kt_buf_reserve(struct kt_wctx *w, unsigned int size, u64 ts)
{
	struct kt_cpu_buf *cb = kt_begin(w);

	local64_inc(&cb->written);
	if (unlikely(local_read(&cb->nest) > KT_NEST_MAX ||
		     local64_read(&cb->lost_pending)))
		return kt_buf_reserve_rest(w, size, ts);
	w->end = kt_claim(cb, size);
	if (unlikely(!w->end))
		return kt_buf_drop(cb, 0);
	local64_add(size, &cb->bytes);
	return (struct ktracer_record *)(cb->data + ((w->end - size) & cb->mask));
}

struct ktracer_record *kt_buf_reserve_block(struct kt_wctx *w,
					    unsigned int size,
					    unsigned int nrec);
void kt_buf_shrink(struct kt_wctx *w, void *unused, unsigned int size,
		   unsigned int nrec);
void kt_buf_uncount(struct kt_wctx *w);
void kt_publish(struct kt_cpu_buf *cb);

/*
 * The outermost writer, done with @head: ends its write. False if an
 * interrupt that came after we read head published nothing (nor the
 * counters of a record it dropped): the write goes on, to publish again.
 */
static __always_inline bool kt_publish_done(struct kt_cpu_buf *cb, u64 head)
{
	barrier();
	local_set(&cb->nest, 0);
	barrier();
	if (likely(head == local64_read(&cb->head) &&
		   !READ_ONCE(cb->meta_dirty)))
		return true;
	local_set(&cb->nest, 1);
	return false;
}

/*
 * Finish the write begun by kt_buf_reserve() or kt_buf_reserve_block():
 * the outermost writer publishes head and counters. Inline, the common
 * case: the outermost writer, no loss to tell, below wake_at (which is
 * also the next checkpoint's boundary, if that comes first), no
 * interrupt meanwhile. Anything else is kt_publish()'s, which publishes
 * (again) from the start.
 */
static __always_inline void kt_buf_commit(struct kt_wctx *w)
{
	struct kt_cpu_buf *cb = w->cb;
	struct ktracer_meta *meta = cb->meta;
	u64 head;

	if (unlikely(local_read(&cb->nest) > 1 || READ_ONCE(cb->meta_dirty)))
		goto slow;
	head = local64_read(&cb->head);
	WRITE_ONCE(meta->written, local64_read(&cb->written));
	WRITE_ONCE(meta->bytes, local64_read(&cb->bytes));
	/* [K2]: the records and counters before the head; pairs with [R1]. */
	smp_store_release(&meta->head, head);
	if (likely(head < READ_ONCE(cb->wake_at) && kt_publish_done(cb, head)))
		return;
slow:
	kt_publish(cb);
}

int kt_buf_init(u64 data_size);
void kt_buf_exit(void);
int kt_buf_resize(u64 data_size);
int kt_buf_reset(void);
int kt_buf_set_mode(u32 mode);
u32 kt_buf_mode(void);
u64 kt_buf_data_size(void);
u64 kt_buf_count(struct kt_cpu_buf *cb, u64 from, u64 to);
int kt_buf_mmap(struct file *file, struct vm_area_struct *vma);
struct vm_fault;
vm_fault_t kt_fault_page(struct vm_fault *vmf, void *area,
			 unsigned long nr_pages, unsigned long index);
__poll_t kt_buf_poll(struct file *file, struct poll_table_struct *wait);

/* events.c: the table of event names. */
struct kt_event {
	char name[KTRACER_NAME_MAX];
	u32 kind;
	u32 slots;
	u32 id;
	kuid_t owner;			/* who registered it */
	atomic64_t total;		/* counters: saturating sum */
	u32 users;			/* open files that registered it */
	struct hlist_node hnode;	/* by (owner, name) */
	struct list_head idle;		/* while no file uses it */
	struct rcu_head rcu;
};

int kt_events_init(void);
void kt_events_exit(void);
int kt_event_register(kuid_t owner, const char *name, u32 kind, u32 slots,
		      struct kt_event **evp);
void kt_event_put(struct kt_event *ev);
long kt_ioc_names(void __user *uarg);
struct kt_event *kt_event_get(u32 id);
const char *kt_event_name(u32 id);
struct xarray *kt_event_xa(void);
const char *kt_kind_name(u32 kind);

/* tracer.c: one open file, its slots, and the operations. */
struct kt_tracer;
struct kt_qset;

/* The thread a record names: global (initial pid namespace) ids. */
struct kt_who {
	u32 pid;
	u32 tid;
};

void kt_who_current(struct kt_who *who);
struct kt_tracer *kt_tracer_new(const struct file *file);
void kt_tracer_free(struct kt_tracer *t);
struct kt_qset *kt_tracer_qset(struct kt_tracer *t);
long kt_ioc_register(struct kt_tracer *t, void __user *uarg);
long kt_ioc_op(struct kt_tracer *t, void __user *uarg);
long kt_ioc_batch(struct kt_tracer *t, void __user *uarg);
int kt_apply(struct kt_tracer *t, const struct ktracer_op *op, u64 bound,
	     u64 now, const struct kt_who *who, const void *kbytes);

/* Whether op @code, @flags carries bytes: a LOG's message, START's text. */
static inline bool kt_opcode_has_bytes(u32 code, u32 flags)
{
	return code == KTRACER_OP_LOG ||
	       (code == KTRACER_OP_START && flags & KTRACER_OPF_TEXT);
}

static inline bool kt_op_has_bytes(const struct ktracer_op *op)
{
	return kt_opcode_has_bytes(op->op, op->flags);
}

/*
 * Whether op @code with @flags writes exactly one record of a header
 * only, if it is applied: what a block takes. CANCEL writes any number of
 * records, LOG and a START with text a long one; unknown ops are refused
 * by a block as by kt_apply().
 */
static inline bool kt_opcode_simple(u32 code, u32 flags)
{
	return code != KTRACER_OP_CANCEL && !kt_opcode_has_bytes(code, flags);
}

/*
 * clock.c: queues' TSC clock (KTRACER_QUEUE_TSC). A file's conversion
 * state, under its drain_lock: a drain's two anchors (its cut, and once
 * the heads are read), the rates it converts with, and the earlier
 * anchor the older entries' rate was measured from.
 */
struct kt_tsc {
	u64 cut_tsc;			/* the cut: the TSC... */
	u64 cut_ns;			/* ...and CLOCK_MONOTONIC then */
	u64 tsc;			/* after the heads */
	u64 ns;
	u64 max;			/* the oldest age before the cut */
	u64 mult;			/* before the cut: ns = age * mult >> 32 */
	u64 new_mult;			/* after it */
	u64 ref_tsc;			/* the reference anchor */
	u64 ref_ns;
};

void kt_clock_init(void);
bool kt_tsc_usable(void);
u64 kt_tsc_cut(struct kt_tsc *c);
u64 kt_tsc_anchor(struct kt_tsc *c);

/* Rates are ns per cycle in 32.32 fixed point: exact to 2^-32 ns. */
#define KT_TSC_SHIFT	32

/* @a * @mul >> KT_TSC_SHIFT, in 128 bits. */
static __always_inline u64 kt_tsc_mul(u64 a, u64 mul)
{
#ifdef CONFIG_X86_64
	/* What gcc makes of mul_u64_u64_shr() spills the product's halves. */
	asm ("mulq %1; shrdq $32, %%rdx, %%rax" : "+a" (a) : "rm" (mul)
	     : "rdx", "cc");
	return a;
#else
	return mul_u64_u64_shr(a, mul, KT_TSC_SHIFT);
#endif
}

/*
 * An entry's @tsc in CLOCK_MONOTONIC ns by the anchors of @c; 0 (which
 * the queue's rules refuse) for a tsc after the anchors or one too old,
 * 0 included (c->max is below the cut's tsc).
 */
static inline u64 kt_tsc_ns(const struct kt_tsc *c, u64 tsc)
{
	u64 age;

	if (tsc > c->cut_tsc) {
		if (tsc > c->tsc)
			return 0;
		return c->ns - kt_tsc_mul(c->tsc - tsc, c->new_mult);
	}
	age = c->cut_tsc - tsc;
	if (age > c->max)
		return 0;
	return c->cut_ns - kt_tsc_mul(age, c->mult);
}

/* queue.c: the file's queues, drained into the buffers. */
struct kt_qset *kt_qset_new(struct kt_tracer *t);
void kt_qset_stop(struct kt_qset *qs);
void kt_qset_free(struct kt_qset *qs);
long kt_ioc_queue(struct kt_qset *qs, void __user *uarg);
long kt_ioc_flush(struct kt_qset *qs, void __user *uarg);
bool kt_queue_pgoff(unsigned long pgoff);
int kt_queue_mmap(struct kt_qset *qs, struct vm_area_struct *vma);

/* record.c: what a record says, and writing it. */
struct kt_rec {
	u8 type;			/* enum ktracer_record_type */
	u8 flags;			/* KTRACER_RECF_* */
	u32 event;
	u32 pid;
	u32 tid;
	u32 slot;
	u32 len;			/* bytes at @msg (kernel memory) */
	u64 ts;
	u64 arg;
	u64 extra;
	const void *msg;
};

/*
 * For a variable of a hot path that is written whole before it is read
 * (a kt_rec that kt_fill() copies field by field): spare it the clearing
 * a kernel built with CONFIG_INIT_STACK_ALL_ZERO gives every local.
 */
#if __has_attribute(__uninitialized__)
#define kt_no_autoinit	__attribute__((__uninitialized__))
#else
#define kt_no_autoinit
#endif

/* Every field of the header, so that no byte of it is left stale. */
static __always_inline void kt_fill(struct ktracer_record *r,
				    const struct kt_rec *d, unsigned int size)
{
	r->size = size;
	r->type = d->type;
	r->flags = d->flags;
	r->event = d->event;
	r->ts = d->ts;
	r->pid = d->pid;
	r->tid = d->tid;
	r->slot = d->slot;
	r->len = d->len;
	r->arg = d->arg;
	r->extra = d->extra;
}

void kt_write(const struct kt_rec *d);

/* kevents.c: records from the kernel's tracepoints. */
struct seq_file;
int kt_kev_init(void);
void kt_kev_exit(void);
u32 kt_kev_available(void);
long kt_ioc_kevents(void __user *uarg);
void kt_kev_show(struct seq_file *m);
int kt_kev_write(char *buf);

/* dev.c: the /dev/ktracer misc device. */
int kt_dev_init(void);
void kt_dev_exit(void);

/* debugfs.c: /sys/kernel/debug/ktracer/. */
void kt_debugfs_init(void);
void kt_debugfs_exit(void);

/* debugfs.c: a debugfs read of other processes' data, for the privileged. */
ssize_t kt_seq_read(struct file *file, char __user *ubuf, size_t count,
		    loff_t *ppos);

/* text.c: the records as text, for debugfs "trace". */
extern const struct file_operations kt_trace_fops;

#endif /* _KTRACER_H */
