// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel events: probes on the kernel's own tracepoints write records into
 * the per-CPU buffers, beside the programs' records and on the same clock.
 * What each record says is in uapi/linux/ktracer.h, "Kernel events".
 *
 * The tracepoints are not exported to modules, so they are looked up by
 * name with for_each_kernel_tracepoint(), as samples/ftrace's
 * trace_custom_sched.c does, and a source is switched on by attaching its
 * probes with tracepoint_probe_register(). Switching off detaches them and
 * waits with tracepoint_synchronize_unregister() before returning, so that
 * nothing a probe might still be using is reset or freed under it.
 *
 * The spans on a CPU (running task, IRQ, softirq) keep their open START
 * in per-CPU state, touched only on that CPU by the probes of one source:
 * sched_switch runs with interrupts off, IRQ handlers do not nest, and
 * softirqs do not nest either. Block requests are matched issue to
 * completion in a small table without a lock (see struct kt_inflight):
 * an entry is claimed with a cmpxchg and freed only after its STOP is
 * written, so that an entry's STOP is before the next START in it.
 */

#include <linux/interrupt.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/tracepoint.h>
#include <linux/uaccess.h>

/* The kernel's declarations of the tracepoints, to check the probes. */
#include <trace/events/irq.h>
#include <trace/events/sched.h>
#include <trace/events/syscalls.h>
#ifdef CONFIG_BLOCK
#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/hash.h>
#include <trace/events/block.h>
#endif

#include "compat.h"
#include "ktracer.h"

static_assert(TASK_COMM_LEN == KTRACER_COMM_MAX);

#define KT_IRQ_NAME_MAX	32	/* bytes of a handler's name recorded */

/* In kt_sources_on, never reported: the follow probe is attached. */
#define KT_SRC_FOLLOW	0x80000000u

struct kt_kcpu {
	u64 run_start;			/* sched.running: START's ts */
	u64 irq_start;
	u64 softirq_start;
	u32 run_tid;
	u32 irq;
	u32 softirq;
	bool run_open;
	bool irq_open;
	bool softirq_open;
};

static DEFINE_PER_CPU(struct kt_kcpu, kt_kcpu);

/*
 * The pid filter: NULL selects every process. It holds the processes'
 * struct pids, found in the pid namespace of the task that set it: a
 * process is told from another by its struct pid, never by a number a
 * later process may be given once it has exited.
 *
 * A filter that follows (KTRACER_KEVENTS_FOLLOW) is allocated with room
 * for KTRACER_FOLLOW_MAX processes, and the fork probe, in atomic
 * context, appends the processes its processes create: under @lock, the
 * entry first, then @n with a release that pairs with the acquire of
 * every reader of @n (kt_pids_has(), kt_kev_show()), so a reader that
 * sees a count sees the entries it covers. Entries are never removed or
 * changed: the filter is replaced as a whole.
 */
struct kt_pids {
	struct rcu_head rcu;
	raw_spinlock_t lock;		/* appending */
	u32 n;				/* entries published */
	u32 cap;			/* entries allocated */
	bool follow;
	u64 full;			/* processes not followed: no room */
	struct pid *pid[];
};

static struct kt_pids __rcu *kt_filter;
static DEFINE_MUTEX(kt_kev_lock);	/* sources on, the filter */
static u32 kt_sources_on;

static atomic64_t kt_block_unmatched = ATOMIC64_INIT(0);
static atomic64_t kt_block_table_full = ATOMIC64_INIT(0);
static atomic64_t kt_block_replaced = ATOMIC64_INIT(0);

/*
 * Whether @t's process is selected; called with preemption disabled.
 * Its struct pid is only compared, never followed: the filter holds a
 * reference on each of its own, so none is freed and reused for another
 * process while a probe may see the filter (kt_pids_free_rcu()).
 */
static bool kt_pids_has(struct kt_pids *f, struct task_struct *t)
{
	/* NULL once the process is gone: no filter entry is NULL. */
	struct pid *tgid = READ_ONCE(t->signal->pids[PIDTYPE_TGID]);
	/* Pairs with the release in kt_probe_follow(). */
	u32 n = smp_load_acquire(&f->n), i;

	for (i = 0; i < n; i++)
		if (f->pid[i] == tgid)
			return true;
	return false;
}

static bool kt_selected(struct task_struct *t, bool need_filter)
{
	struct kt_pids *f = rcu_dereference_sched(kt_filter);

	if (!f)
		return !need_filter;
	return kt_pids_has(f, t);
}

/* A record about task @t from a kernel source; the caller adds the rest. */
static __always_inline void kt_krec(struct kt_rec *d, u32 ev, u8 type,
				    struct task_struct *t, u64 ts)
{
	*d = (struct kt_rec){
		.type = type, .flags = KTRACER_RECF_KERNEL, .event = ev,
		.ts = ts, .pid = t->tgid, .tid = t->pid,
	};
}

/* A copy of @t's comm; returns its length, without the NUL. */
static u32 kt_comm(struct task_struct *t, char *buf)
{
	memcpy(buf, t->comm, KTRACER_COMM_MAX);
	return strnlen(buf, KTRACER_COMM_MAX);
}

/* Bytes of little-endian @x before its first NUL; 8 if it has none. */
static __always_inline u32 kt_word_len(u64 x)
{
	u64 z = (x - 0x0101010101010101ULL) & ~x & 0x8080808080808080ULL;

	/* Borrows only make bits above the first NUL: the lowest is right. */
	return z ? __ffs64(z) / 8 : 8;
}

/*
 * A record of @type about task @t at @now, written in place: @len bytes
 * of message from @msg, zero-padded to 8, or none; @slot, @arg, @extra.
 * Preemption is disabled here: kernels whose system call tracepoints may
 * fault call their probes preemptible.
 */
static __always_inline void kt_put_task(u32 ev, u8 type, struct task_struct *t,
					u64 now, u32 slot, u64 arg, u64 extra,
					const void *msg, u32 len)
{
	u32 size = sizeof(struct ktracer_record) + ALIGN(len, 8);
	struct kt_rec d kt_no_autoinit;
	struct ktracer_record *r;
	struct kt_wctx w;
	u64 *m;

	preempt_disable_notrace();
	r = kt_buf_reserve(&w, size, now);
	if (r) {
		kt_krec(&d, ev, type, t, now);
		d.slot = slot;
		d.len = len;
		d.arg = arg;
		d.extra = extra;
		kt_fill(r, &d, size);
		if (len) {
			m = (u64 *)(r + 1);
			m[ALIGN(len, 8) / 8 - 1] = 0;	/* the padding */
			memcpy(m, msg, len);
		}
		kt_buf_commit(&w);
	}
	preempt_enable_notrace();
}

/*
 * An instant about @t, its comm for message, written in place: the comm
 * read as two words, its length found and the bytes after it cleared in
 * them, for the zero padding every message has.
 */
static_assert(2 * sizeof(u64) == KTRACER_COMM_MAX);

static void kt_instant(u32 ev, struct task_struct *t, u64 arg, u64 extra)
{
	u64 word[2];
	u32 len;

	if (IS_ENABLED(CONFIG_CPU_BIG_ENDIAN)) {
		char comm[KTRACER_COMM_MAX] kt_no_autoinit;
		struct kt_rec d kt_no_autoinit;

		kt_krec(&d, ev, KTRACER_REC_LOG, t, ktime_get_mono_fast_ns());
		d.arg = arg;
		d.extra = extra;
		d.msg = comm;
		d.len = kt_comm(t, comm);
		kt_write(&d);
		return;
	}
	if (!kt_is_enabled())
		return;
	memcpy(word, t->comm, sizeof(word));
	len = kt_word_len(word[0]);
	if (len < 8) {
		word[0] &= len ? ~0ULL >> (64 - 8 * len) : 0;
	} else {
		len += kt_word_len(word[1]);
		if (len < 16)
			word[1] &= len > 8 ? ~0ULL >> (128 - 8 * len) : 0;
	}
	kt_put_task(ev, KTRACER_REC_LOG, t, ktime_get_mono_fast_ns(), 0, arg,
		    extra, word, len);
}

/* ---- SCHED ---------------------------------------------------------- */

/*
 * The SWITCH record (uapi/linux/ktracer.h): prev's STOP and next's START
 * in one, written in place, its comm copied as is (no length to find).
 * sched_switch runs with interrupts off: no preempt_disable() of our own.
 */
static void kt_write_switch(struct task_struct *prev, struct task_struct *next,
			    unsigned int prev_state, u32 cpu, u64 now, u64 ran)
{
	struct kt_rec d kt_no_autoinit;
	struct ktracer_switch *s;
	struct ktracer_record *r;
	struct kt_wctx w;

	if (!kt_is_enabled())
		return;
	r = kt_buf_reserve(&w, sizeof(*r) + sizeof(*s), now);
	if (!r)
		return;
	kt_krec(&d, KTRACER_KEV_RUNNING, KTRACER_REC_SWITCH, next, now);
	d.slot = cpu;
	d.len = sizeof(*s);
	d.arg = (u64)prev->tgid << 32 | (u32)prev->pid;
	d.extra = ran;
	kt_fill(r, &d, sizeof(*r) + sizeof(*s));
	s = (struct ktracer_switch *)(r + 1);
	s->prev_state = prev_state;
	s->next_prio = next->prio;
	memcpy(s->next_comm, next->comm, sizeof(s->next_comm));
	kt_buf_commit(&w);
}

/*
 * The idle task is not recorded: a CPU with no sched.running span open is
 * idle, or running a task the filter leaves out. A switch between two
 * recorded tasks is one SWITCH record; with one side recorded, its STOP
 * or START alone.
 */
static void kt_probe_switch(void *data, bool preempt,
			    struct task_struct *prev,
			    struct task_struct *next,
			    unsigned int prev_state)
{
	struct kt_kcpu *c = this_cpu_ptr(&kt_kcpu);
	bool stop = c->run_open && c->run_tid == prev->pid;
	bool start = next->pid && kt_selected(next, false);
	char comm[KTRACER_COMM_MAX] kt_no_autoinit;
	struct kt_rec d kt_no_autoinit;
	u64 now, ran;
	u32 cpu;

	c->run_open = start;
	if (!stop && !start)
		return;
	cpu = smp_processor_id();
	now = ktime_get_mono_fast_ns();
	ran = now - c->run_start;
	if (start) {
		c->run_start = now;
		c->run_tid = next->pid;
	}
	if (stop && start) {
		kt_write_switch(prev, next, prev_state, cpu, now, ran);
		return;
	}
	if (stop) {
		kt_krec(&d, KTRACER_KEV_RUNNING, KTRACER_REC_STOP, prev, now);
		d.slot = cpu;
		d.arg = prev_state;
		d.extra = ran;
		kt_write(&d);
		return;
	}
	kt_krec(&d, KTRACER_KEV_RUNNING, KTRACER_REC_START, next, now);
	d.slot = cpu;
	d.arg = next->prio;
	d.msg = comm;
	d.len = kt_comm(next, comm);
	kt_write(&d);
}

/*
 * sched_waking runs in the waker (sched_wakeup may run on the woken
 * task's CPU, in its idle task), before the woken task's CPU is chosen.
 */
static void kt_probe_wakeup(void *data, struct task_struct *p)
{
	if (kt_selected(p, false))
		kt_instant(KTRACER_KEV_WAKEUP, p, current->pid, task_cpu(p));
}

/* ---- TASK ----------------------------------------------------------- */

static void kt_probe_fork(void *data, struct task_struct *parent,
			  struct task_struct *child)
{
	if (kt_selected(parent, false))
		kt_instant(KTRACER_KEV_FORK, child, parent->pid, parent->tgid);
}

static void kt_probe_exec(void *data, struct task_struct *p, pid_t old_pid,
			  struct linux_binprm *bprm)
{
	if (kt_selected(p, false))
		kt_instant(KTRACER_KEV_EXEC, p, old_pid, 0);
}

static void kt_probe_exit(void *data, KT_SCHED_EXIT_PARAMS)
{
	if (kt_selected(p, false))
		kt_instant(KTRACER_KEV_EXIT, p, p->exit_code, 0);
}

/*
 * Following: a process a selected process creates joins the filter here,
 * in kernel_clone() before the child is first woken, so that none of its
 * records is missed. Threads are selected already (the filter holds their
 * process). Attached while the filter follows, whatever TASK is.
 */
static void kt_probe_follow(void *data, struct task_struct *parent,
			    struct task_struct *child)
{
	struct kt_pids *f = rcu_dereference_sched(kt_filter);
	unsigned long flags;
	u32 n;

	if (!f || !f->follow || !thread_group_leader(child) ||
	    !kt_pids_has(f, parent))
		return;
	raw_spin_lock_irqsave(&f->lock, flags);
	n = f->n;
	if (n < f->cap) {
		/* The filter's reference, put when it is freed. */
		f->pid[n] = get_pid(task_tgid(child));
		/* Pairs with the acquire in kt_pids_has() and kt_kev_show(). */
		smp_store_release(&f->n, n + 1);
	} else {
		WRITE_ONCE(f->full, f->full + 1);
	}
	raw_spin_unlock_irqrestore(&f->lock, flags);
}

/* ---- IRQ, SOFTIRQ --------------------------------------------------- */

/*
 * Open a span on this CPU, its START written in place (@len bytes of the
 * string @msg for message): @start and @open are the source's state.
 */
static __always_inline void kt_cpu_start(u32 ev, u64 arg, const char *msg,
					 u32 len, u64 *start, bool *open)
{
	u64 now = ktime_get_mono_fast_ns();

	if (kt_is_enabled())
		kt_put_task(ev, KTRACER_REC_START, current, now,
			    smp_processor_id(), arg, 0, msg, len);
	*start = now;
	*open = true;
}

/* Close it, if it is the one open. */
static __always_inline void kt_cpu_stop(u32 ev, u64 arg, u64 start,
					bool *open)
{
	u64 now;

	if (!*open)
		return;
	*open = false;
	now = ktime_get_mono_fast_ns();
	if (kt_is_enabled())
		kt_put_task(ev, KTRACER_REC_STOP, current, now,
			    smp_processor_id(), arg, now - start, NULL, 0);
}

static void kt_probe_irq_entry(void *data, int irq, struct irqaction *action)
{
	struct kt_kcpu *c = this_cpu_ptr(&kt_kcpu);
	u32 len = action->name ? strnlen(action->name, KT_IRQ_NAME_MAX) : 0;

	c->irq = irq;
	kt_cpu_start(KTRACER_KEV_IRQ, irq, action->name, len, &c->irq_start,
		     &c->irq_open);
}

static void kt_probe_irq_exit(void *data, int irq, struct irqaction *action,
			      int ret)
{
	struct kt_kcpu *c = this_cpu_ptr(&kt_kcpu);

	if (c->irq == irq)
		kt_cpu_stop(KTRACER_KEV_IRQ, irq, c->irq_start, &c->irq_open);
}

static void kt_probe_softirq_entry(void *data, unsigned int vec)
{
	struct kt_kcpu *c = this_cpu_ptr(&kt_kcpu);

	c->softirq = vec;
	kt_cpu_start(KTRACER_KEV_SOFTIRQ, vec, NULL, 0, &c->softirq_start,
		     &c->softirq_open);
}

static void kt_probe_softirq_exit(void *data, unsigned int vec)
{
	struct kt_kcpu *c = this_cpu_ptr(&kt_kcpu);

	if (c->softirq == vec)
		kt_cpu_stop(KTRACER_KEV_SOFTIRQ, vec, c->softirq_start,
			    &c->softirq_open);
}

/* ---- SYSCALL -------------------------------------------------------- */

/*
 * Every system call of every task comes here: whether recording is on
 * and the filter first, then the record written in place.
 */
static void kt_syscall(u8 type, long arg)
{
	struct task_struct *t = current;

	if (!kt_is_enabled() || !kt_selected(t, true))
		return;
	kt_put_task(KTRACER_KEV_SYSCALL, type, t, ktime_get_mono_fast_ns(), 0,
		    arg, 0, NULL, 0);
}

static void kt_probe_sys_enter(void *data, struct pt_regs *regs, long id)
{
	kt_syscall(KTRACER_REC_START, id);
}

static void kt_probe_sys_exit(void *data, struct pt_regs *regs, long ret)
{
	kt_syscall(KTRACER_REC_STOP, ret);
}

/* ---- BLOCK ---------------------------------------------------------- */

#ifdef CONFIG_BLOCK
/*
 * A request in flight: matched by its struct request, which a flush, a
 * requeue or a partial completion leave the same (the device and sector
 * do not tell flushes apart, and a partial completion moves the sector).
 * The pointer is a key only, never followed, and never recorded.
 */
struct kt_inflight {
	const struct request *rq;	/* NULL: free */
	u64 sector;
	u64 start;
	u32 dev;
	u32 op;
	u32 bytes;
	u32 pid;
	u32 tid;
	bool requeued;
};

/*
 * No lock: an issuer claims a free entry with a cmpxchg of rq from NULL
 * to KT_RQ_CLAIMED, fills it and publishes it with a release of rq; the
 * request's completion (or requeue), which the block layer orders after
 * its issue, finds it by an acquire of rq, and frees it with a release of
 * NULL once it has read it. A request is issued, requeued and completed
 * one step at a time, so only one probe at a time works on its entry.
 */
#define KT_RQ_CLAIMED	((const struct request *)1)

static struct kt_inflight kt_inflight[KTRACER_BLOCK_INFLIGHT];
static atomic_t kt_inflight_used = ATOMIC_INIT(0);

static_assert((KTRACER_BLOCK_INFLIGHT & (KTRACER_BLOCK_INFLIGHT - 1)) == 0);

static u32 kt_rq_dev(struct request *rq)
{
	return rq->q->disk ? disk_devt(rq->q->disk) : 0;
}

/*
 * The entry of @rq, and its index in *@slot; NULL if there is none.
 * Linear probing from the request's hash, over the whole table: entries
 * are freed in any order.
 */
static struct kt_inflight *kt_inflight_find(const struct request *rq,
					    u32 hash, u32 *slot)
{
	struct kt_inflight *e;
	u32 i;

	for (i = 0; i < KTRACER_BLOCK_INFLIGHT; i++) {
		*slot = (hash + i) & (KTRACER_BLOCK_INFLIGHT - 1);
		e = &kt_inflight[*slot];
		/* Pairs with the release in kt_probe_rq_issue(): filled. */
		if (smp_load_acquire(&e->rq) == rq)
			return e;
	}
	return NULL;
}

/* A free entry, claimed (KT_RQ_CLAIMED), from @hash on; NULL if full. */
static struct kt_inflight *kt_inflight_claim(u32 hash, u32 *slot)
{
	struct kt_inflight *e;
	u32 i;

	for (i = 0; i < KTRACER_BLOCK_INFLIGHT; i++) {
		*slot = (hash + i) & (KTRACER_BLOCK_INFLIGHT - 1);
		e = &kt_inflight[*slot];
		if (!READ_ONCE(e->rq) && !cmpxchg(&e->rq, NULL, KT_RQ_CLAIMED))
			return e;
	}
	return NULL;
}

static void kt_block_rec(u8 type, u64 now, u32 slot,
			 const struct kt_inflight *e, s32 error)
{
	struct ktracer_block b = {
		.dev = e->dev, .op = e->op, .sector = e->sector,
		.bytes = e->bytes, .error = error,
	};
	struct kt_rec d = {
		.type = type, .flags = KTRACER_RECF_KERNEL,
		.event = KTRACER_KEV_BLOCK, .ts = now, .slot = slot,
		.pid = e->pid, .tid = e->tid, .extra = now - e->start,
		.msg = &b, .len = sizeof(b),
	};

	kt_write(&d);
}

/*
 * A request issued: a START in a free entry, or in its own if it was
 * requeued (nothing written: its span goes on from the first issue), or
 * if its entry is still open otherwise (a completion this table did not
 * see: the stale entry is replaced, and counted). Counted, not recorded,
 * if the table is full.
 */
static void kt_probe_rq_issue(void *data, struct request *rq)
{
	u32 hash = hash_ptr(rq, ilog2(KTRACER_BLOCK_INFLIGHT)), slot;
	struct kt_inflight *e;
	u64 now;

	e = kt_inflight_find(rq, hash, &slot);
	if (e && READ_ONCE(e->requeued)) {
		WRITE_ONCE(e->requeued, false);
		return;
	}
	if (e) {
		atomic64_inc(&kt_block_replaced);
	} else {
		e = kt_inflight_claim(hash, &slot);
		if (!e) {
			atomic64_inc(&kt_block_table_full);
			return;
		}
		atomic_inc(&kt_inflight_used);
	}
	now = ktime_get_mono_fast_ns();
	e->sector = blk_rq_pos(rq);
	e->start = now;
	e->dev = kt_rq_dev(rq);
	e->op = (__force u32)req_op(rq);
	e->bytes = blk_rq_bytes(rq);
	e->pid = current->tgid;
	e->tid = current->pid;
	e->requeued = false;
	/* Filled: pairs with the acquire in kt_inflight_find(). */
	smp_store_release(&e->rq, rq);
	kt_block_rec(KTRACER_REC_START, now, slot, e, 0);
}

/* Put back on a queue, to be issued again: its entry stays open. */
static void kt_probe_rq_requeue(void *data, struct request *rq)
{
	u32 hash = hash_ptr(rq, ilog2(KTRACER_BLOCK_INFLIGHT)), slot;
	struct kt_inflight *e;

	e = kt_inflight_find(rq, hash, &slot);
	if (e)
		WRITE_ONCE(e->requeued, true);
}

/*
 * @nr_bytes of the request done, with @error: the STOP of its entry when
 * they are all that is left of it (block_rq_complete fires before the
 * request is updated), else nothing yet. Counted, not recorded, if the
 * request is not in the table.
 */
static void kt_probe_rq_complete(void *data, struct request *rq,
				 blk_status_t error, unsigned int nr_bytes)
{
	u32 hash = hash_ptr(rq, ilog2(KTRACER_BLOCK_INFLIGHT)), slot;
	struct kt_inflight *e;

	if (nr_bytes < blk_rq_bytes(rq))
		return;
	e = kt_inflight_find(rq, hash, &slot);
	if (!e) {
		atomic64_inc(&kt_block_unmatched);
		return;
	}
	kt_block_rec(KTRACER_REC_STOP, ktime_get_mono_fast_ns(), slot, e,
		     blk_status_to_errno(error));
	atomic_dec(&kt_inflight_used);
	/* Read: free for the next issuer, whose cmpxchg orders after this. */
	smp_store_release(&e->rq, NULL);
}

static u32 kt_block_inflight(void)
{
	return atomic_read(&kt_inflight_used);
}

/* The source is off: no probe runs. */
static void kt_block_reset(void)
{
	memset(kt_inflight, 0, sizeof(kt_inflight));
	atomic_set(&kt_inflight_used, 0);
}
#else
static void kt_block_reset(void)
{
}

static u32 kt_block_inflight(void)
{
	return 0;
}
#endif /* CONFIG_BLOCK */

/* ---- Sources -------------------------------------------------------- */

struct kt_probe {
	const char *tp_name;
	void *func;
	struct tracepoint *tp;		/* NULL: not in this kernel */
};

struct kt_source {
	const char *name;
	u32 bit;
	struct kt_probe probe[4];	/* ends at a NULL tp_name */
};

#define KT_PROBE(name, fn)	{ .tp_name = name, .func = fn }

static struct kt_source kt_sources[] = {
	{ "sched", KTRACER_SRC_SCHED, {
		KT_PROBE("sched_switch", kt_probe_switch),
		KT_PROBE("sched_waking", kt_probe_wakeup),
		KT_PROBE("sched_wakeup_new", kt_probe_wakeup) } },
	{ "task", KTRACER_SRC_TASK, {
		KT_PROBE("sched_process_fork", kt_probe_fork),
		KT_PROBE("sched_process_exec", kt_probe_exec),
		KT_PROBE("sched_process_exit", kt_probe_exit) } },
	{ "irq", KTRACER_SRC_IRQ, {
		KT_PROBE("irq_handler_entry", kt_probe_irq_entry),
		KT_PROBE("irq_handler_exit", kt_probe_irq_exit) } },
	{ "softirq", KTRACER_SRC_SOFTIRQ, {
		KT_PROBE("softirq_entry", kt_probe_softirq_entry),
		KT_PROBE("softirq_exit", kt_probe_softirq_exit) } },
	{ "syscall", KTRACER_SRC_SYSCALL, {
		KT_PROBE("sys_enter", kt_probe_sys_enter),
		KT_PROBE("sys_exit", kt_probe_sys_exit) } },
#ifdef CONFIG_BLOCK
	{ "block", KTRACER_SRC_BLOCK, {
		KT_PROBE("block_rq_issue", kt_probe_rq_issue),
		KT_PROBE("block_rq_requeue", kt_probe_rq_requeue),
		KT_PROBE("block_rq_complete", kt_probe_rq_complete) } },
#else
	{ "block", KTRACER_SRC_BLOCK, { } },
#endif
	/* Not a source: the probe of a filter that follows, kept last. */
	{ "follow", KT_SRC_FOLLOW, {
		KT_PROBE("sched_process_fork", kt_probe_follow) } },
};

/* The sources a user names, without "follow". */
#define KT_NR_SOURCES	(ARRAY_SIZE(kt_sources) - 1)

/*
 * Each probe against the kernel's own declaration of its tracepoint: a
 * probe of another type would be called with the wrong arguments. Never
 * called; sizeof() keeps the tracepoints themselves out of the module.
 */
#define KT_PROBE_TYPE(tp, fn) \
	BUILD_BUG_ON(sizeof(register_trace_##tp(fn, NULL)) != sizeof(int))

static inline void kt_probe_types(void)
{
	KT_PROBE_TYPE(sched_switch, kt_probe_switch);
	KT_PROBE_TYPE(sched_waking, kt_probe_wakeup);
	KT_PROBE_TYPE(sched_wakeup_new, kt_probe_wakeup);
	KT_PROBE_TYPE(sched_process_fork, kt_probe_fork);
	KT_PROBE_TYPE(sched_process_fork, kt_probe_follow);
	KT_PROBE_TYPE(sched_process_exec, kt_probe_exec);
	KT_PROBE_TYPE(sched_process_exit, kt_probe_exit);
	KT_PROBE_TYPE(irq_handler_entry, kt_probe_irq_entry);
	KT_PROBE_TYPE(irq_handler_exit, kt_probe_irq_exit);
	KT_PROBE_TYPE(softirq_entry, kt_probe_softirq_entry);
	KT_PROBE_TYPE(softirq_exit, kt_probe_softirq_exit);
	KT_PROBE_TYPE(sys_enter, kt_probe_sys_enter);
	KT_PROBE_TYPE(sys_exit, kt_probe_sys_exit);
#ifdef CONFIG_BLOCK
	KT_PROBE_TYPE(block_rq_issue, kt_probe_rq_issue);
	KT_PROBE_TYPE(block_rq_requeue, kt_probe_rq_requeue);
	KT_PROBE_TYPE(block_rq_complete, kt_probe_rq_complete);
#endif
}

static void kt_find_tracepoint(struct tracepoint *tp, void *priv)
{
	struct kt_probe *p;
	u32 i;

	for (i = 0; i < ARRAY_SIZE(kt_sources); i++)
		for (p = kt_sources[i].probe; p->tp_name; p++)
			if (!strcmp(tp->name, p->tp_name))
				p->tp = tp;
}

/*
 * The sources whose tracepoints this kernel has, all of them (and
 * KT_SRC_FOLLOW: callers outside this file mask it off).
 */
static u32 kt_kev_have(void)
{
	struct kt_probe *p;
	u32 i, avail = 0;

	for (i = 0; i < ARRAY_SIZE(kt_sources); i++) {
		p = kt_sources[i].probe;
		if (!p->tp_name)
			continue;
		for (; p->tp_name && p->tp; p++)
			;
		if (!p->tp_name)
			avail |= kt_sources[i].bit;
	}
	return avail;
}

u32 kt_kev_available(void)
{
	return kt_kev_have() & KTRACER_SRC_ALL;
}

/* Detach the probes from @from on (all: @from NULL). */
static void kt_source_detach(struct kt_source *s, struct kt_probe *from)
{
	struct kt_probe *p;

	for (p = from ?: s->probe; p->tp_name; p++)
		WARN_ON_ONCE(tracepoint_probe_unregister(p->tp, p->func, NULL));
}

/* Fresh state for a source about to be attached. */
static void kt_source_reset(u32 bit)
{
	struct kt_kcpu *c;
	int cpu;

	for_each_possible_cpu(cpu) {
		c = per_cpu_ptr(&kt_kcpu, cpu);
		if (bit == KTRACER_SRC_SCHED)
			c->run_open = false;
		if (bit == KTRACER_SRC_IRQ)
			c->irq_open = false;
		if (bit == KTRACER_SRC_SOFTIRQ)
			c->softirq_open = false;
	}
	if (bit == KTRACER_SRC_BLOCK)
		kt_block_reset();
}

/*
 * Attach the probes last to first, and detach them first to last: a
 * source lists the probe that opens a span before the one that closes
 * it, so that the closing one is there before anything opens.
 */
static int kt_source_attach(struct kt_source *s)
{
	struct kt_probe *p = s->probe;
	int ret;

	kt_source_reset(s->bit);
	while (p->tp_name)
		p++;
	while (p-- != s->probe) {
		ret = tracepoint_probe_register(p->tp, p->func, NULL);
		if (ret) {
			kt_source_detach(s, p + 1);
			return ret;
		}
	}
	return 0;
}

/*
 * Attach and detach sources until those in @want are on. Called with
 * kt_kev_lock held; on failure the sources are as they were.
 */
static int kt_sources_set(u32 want)
{
	u32 attached = 0, i;
	bool detached = false;
	int ret = 0;

	for (i = 0; i < ARRAY_SIZE(kt_sources); i++) {
		struct kt_source *s = &kt_sources[i];

		if (!(want & s->bit) || kt_sources_on & s->bit)
			continue;
		ret = kt_source_attach(s);
		if (ret)
			break;
		attached |= s->bit;
	}
	for (i = 0; i < ARRAY_SIZE(kt_sources); i++) {
		struct kt_source *s = &kt_sources[i];
		bool off = ret ? attached & s->bit :
				 kt_sources_on & s->bit && !(want & s->bit);

		if (off) {
			kt_source_detach(s, NULL);
			detached = true;
		}
	}
	/*
	 * No probe runs any more on what was detached, nor on what a failed
	 * attach unregistered again, before the next attach resets the
	 * state they use or the module goes.
	 */
	if (detached || ret)
		tracepoint_synchronize_unregister();
	if (!ret)
		kt_sources_on = want;
	return ret;
}

static void kt_pids_free(struct kt_pids *f)
{
	u32 i;

	for (i = 0; i < f->n; i++)
		put_pid(f->pid[i]);
	kvfree(f);
}

static void kt_pids_free_cb(struct rcu_head *rcu)
{
	kt_pids_free(container_of(rcu, struct kt_pids, rcu));
}

/* Once no probe can see @f any more (kt_kev_exit() waits for it). */
static void kt_pids_free_rcu(struct kt_pids *f)
{
	if (f)
		call_rcu(&f->rcu, kt_pids_free_cb);
}

/*
 * The filter of the @n processes @nr names in the caller's pid namespace
 * (@n 0: NULL), following if @follow (with room for KTRACER_FOLLOW_MAX).
 * -EINVAL for a pid <= 0, -ESRCH for one that names no process there
 * (the tid of a thread other than its process's first names none either).
 */
static int kt_pids_get(const s32 *nr, u32 n, bool follow,
		       struct kt_pids **out)
{
	u32 cap = follow ? KTRACER_FOLLOW_MAX : n;
	struct kt_pids *f;
	struct pid *pid;
	bool alive;
	u32 i;

	static_assert(KTRACER_PIDS_MAX <= KTRACER_FOLLOW_MAX);
	*out = NULL;
	for (i = 0; i < n; i++)
		if (nr[i] <= 0)
			return -EINVAL;
	if (!n)
		return 0;
	f = kvzalloc(struct_size(f, pid, cap), GFP_KERNEL_ACCOUNT);
	if (!f)
		return -ENOMEM;
	raw_spin_lock_init(&f->lock);
	f->cap = cap;
	f->follow = follow;
	for (i = 0; i < n; i++) {
		pid = find_get_pid(nr[i]);
		if (!pid)
			goto srch;
		f->pid[f->n++] = pid;
		rcu_read_lock();
		alive = pid_task(pid, PIDTYPE_TGID);
		rcu_read_unlock();
		if (!alive)
			goto srch;
	}
	*out = f;
	return 0;
srch:
	kt_pids_free(f);
	return -ESRCH;
}

/* Read and check @npids pids from user space; NULL and 0 for none. */
static int kt_pids_from_user(const s32 __user *upids, u32 npids,
			     bool follow, struct kt_pids **out)
{
	s32 nr[KTRACER_PIDS_MAX];

	*out = NULL;
	if (npids > KTRACER_PIDS_MAX)
		return -EINVAL;
	if (copy_from_user(nr, upids, npids * sizeof(*upids)))
		return -EFAULT;
	return kt_pids_get(nr, npids, follow, out);
}

/*
 * Set what @flags names: the sources in @set on and those in @clear but
 * not in @set off, the others as they are; and the pid filter (@f, NULL:
 * every process; consumed). One step under kt_kev_lock, all or nothing.
 */
static int kt_kev_apply(u32 flags, u32 set, u32 clear, struct kt_pids *f)
{
	struct kt_pids *old;
	bool has_filter;
	u32 want;
	int ret;

	mutex_lock(&kt_kev_lock);
	want = kt_sources_on;
	if (flags & KTRACER_KEVENTS_SOURCES)
		want = (want & ~clear) | set;
	if (flags & KTRACER_KEVENTS_PIDS) {
		/* The follow probe goes with the filter that follows. */
		want &= ~KT_SRC_FOLLOW;
		if (f && f->follow)
			want |= KT_SRC_FOLLOW;
	}
	has_filter = flags & KTRACER_KEVENTS_PIDS ? !!f :
		     !!rcu_access_pointer(kt_filter);
	ret = -EINVAL;
	if (want & KTRACER_SRC_SYSCALL && !has_filter)
		goto out;
	ret = -EOPNOTSUPP;
	if (want & ~kt_kev_have())
		goto out;

	/* The filter first: a source switched on starts with it. */
	old = NULL;
	if (flags & KTRACER_KEVENTS_PIDS) {
		old = rcu_replace_pointer(kt_filter, f,
					  lockdep_is_held(&kt_kev_lock));
		f = NULL;
	}
	ret = kt_sources_set(want);
	if (ret && flags & KTRACER_KEVENTS_PIDS) {
		/* Put the old filter back; the new one goes below. */
		f = rcu_replace_pointer(kt_filter, old,
					lockdep_is_held(&kt_kev_lock));
		old = NULL;
	}
	kt_pids_free_rcu(old);
out:
	mutex_unlock(&kt_kev_lock);
	kt_pids_free_rcu(f);
	return ret;
}

/* The same, with @sources all the sources to have on. */
static int kt_kev_set(u32 flags, u32 sources, struct kt_pids *f)
{
	return kt_kev_apply(flags, sources, KTRACER_SRC_ALL, f);
}

long kt_ioc_kevents(void __user *uarg)
{
	const u32 known = KTRACER_KEVENTS_SOURCES | KTRACER_KEVENTS_PIDS |
			  KTRACER_KEVENTS_FOLLOW;
	struct ktracer_kevents k;
	struct kt_pids *f = NULL;
	int ret;

	ret = kt_uarg_in(&k, sizeof(k), KTRACER_KEVENTS_SIZE_VER0, uarg);
	if (ret)
		return ret;
	if (k.flags & ~known || k.__reserved ||
	    (k.flags & KTRACER_KEVENTS_SOURCES && k.sources & ~KTRACER_SRC_ALL))
		return -EINVAL;
	/* What no flag selects must be 0, to be given a meaning later. */
	if ((!(k.flags & KTRACER_KEVENTS_SOURCES) && k.sources) ||
	    (!(k.flags & KTRACER_KEVENTS_PIDS) && (k.pids || k.npids)))
		return -EINVAL;
	/* Following needs processes to follow. */
	if (k.flags & KTRACER_KEVENTS_FOLLOW &&
	    (!(k.flags & KTRACER_KEVENTS_PIDS) || !k.npids))
		return -EINVAL;
	if (k.flags & KTRACER_KEVENTS_PIDS) {
		ret = kt_pids_from_user(u64_to_user_ptr(k.pids), k.npids,
					k.flags & KTRACER_KEVENTS_FOLLOW, &f);
		if (ret)
			return ret;
	}
	if (k.flags) {
		ret = kt_kev_set(k.flags, k.sources, f);
		if (ret)
			return ret;
	}
	k.sources = READ_ONCE(kt_sources_on) & KTRACER_SRC_ALL;
	k.available = kt_kev_available();
	return kt_uarg_out(uarg, &k, sizeof(k));
}

/* ---- debugfs "kevents" ---------------------------------------------- */

/*
 * The filter's pids as the reader's pid namespace sees them (0: not
 * there), the processes it follows among them; whether it follows and
 * how many processes it could not take ("follow_full"); and the block
 * counters ("block_inflight" is how many entries of the table are open).
 */
void kt_kev_show(struct seq_file *m)
{
	u32 avail = kt_kev_available(), i, n = 0;
	bool follow = false;
	u64 full = 0;
	struct kt_pids *f;

	mutex_lock(&kt_kev_lock);
	for (i = 0; i < KT_NR_SOURCES; i++) {
		u32 bit = kt_sources[i].bit;

		seq_printf(m, "%s %s\n", kt_sources[i].name,
			   !(avail & bit) ? "unavailable" :
			   kt_sources_on & bit ? "on" : "off");
	}
	f = rcu_dereference_protected(kt_filter, lockdep_is_held(&kt_kev_lock));
	if (f) {
		/* Pairs with the release in kt_probe_follow(). */
		n = smp_load_acquire(&f->n);
		follow = f->follow;
		full = READ_ONCE(f->full);
	}
	seq_puts(m, "pids");
	if (!f)
		seq_puts(m, " all");
	for (i = 0; i < n; i++)
		seq_printf(m, " %d", pid_vnr(f->pid[i]));
	mutex_unlock(&kt_kev_lock);
	seq_printf(m, "\nfollow %d\nfollow_full %llu", follow, full);
	seq_printf(m, "\nblock_unmatched %lld\nblock_table_full %lld\n",
		   atomic64_read(&kt_block_unmatched),
		   atomic64_read(&kt_block_table_full));
	seq_printf(m, "block_replaced %lld\nblock_inflight %u\n",
		   atomic64_read(&kt_block_replaced), kt_block_inflight());
}

/*
 * "pids=all" or "pids=12,34": the numbers in @nr[0..*@n - 1] (*@n 0 for
 * all); -EINVAL if malformed.
 */
static int kt_parse_pids(char *list, s32 *nr, u32 *n)
{
	char *tok;

	*n = 0;
	if (!strcmp(list, "all"))
		return 0;
	while ((tok = strsep(&list, ","))) {
		if (*n == KTRACER_PIDS_MAX || kstrtos32(tok, 10, &nr[*n]) ||
		    nr[*n] <= 0)
			return -EINVAL;
		(*n)++;
	}
	return 0;
}

/*
 * Write: whitespace-separated "SOURCE=0|1" and "pids=all|P,P,...",
 * applied together or not at all, and to the sources as they are then:
 * a source the write does not name stays as it is, whatever another
 * writer does meanwhile.
 */
int kt_kev_write(char *buf)
{
	u32 flags = 0, set = 0, clear = 0, npids = 0, i;
	s32 nr[KTRACER_PIDS_MAX];
	struct kt_pids *f = NULL;
	char *tok, *val;
	int ret;

	while ((tok = strsep(&buf, " \t\n"))) {
		if (!*tok)
			continue;
		val = strchr(tok, '=');
		if (!val)
			return -EINVAL;
		*val++ = '\0';
		if (!strcmp(tok, "pids")) {
			ret = kt_parse_pids(val, nr, &npids);
			if (ret)
				return ret;
			flags |= KTRACER_KEVENTS_PIDS;
			continue;
		}
		for (i = 0; i < KT_NR_SOURCES; i++)
			if (!strcmp(tok, kt_sources[i].name))
				break;
		if (i == KT_NR_SOURCES ||
		    (strcmp(val, "0") && strcmp(val, "1")))
			return -EINVAL;
		set &= ~kt_sources[i].bit;
		clear |= kt_sources[i].bit;
		if (val[0] == '1')
			set |= kt_sources[i].bit;
		flags |= KTRACER_KEVENTS_SOURCES;
	}
	if (!flags)
		return -EINVAL;
	if (flags & KTRACER_KEVENTS_PIDS) {
		ret = kt_pids_get(nr, npids, false, &f);
		if (ret)
			return ret;
	}
	return kt_kev_apply(flags, set, clear, f);
}

int kt_kev_init(void)
{
	for_each_kernel_tracepoint(kt_find_tracepoint, NULL);
	pr_info("kernel sources available: %#x of %#x\n", kt_kev_available(),
		KTRACER_SRC_ALL);
	return 0;
}

/* Everything off, before the buffers go. */
void kt_kev_exit(void)
{
	struct kt_pids *f;

	mutex_lock(&kt_kev_lock);
	kt_sources_set(0);
	/* No probe left to look at it. */
	f = rcu_replace_pointer(kt_filter, NULL, true);
	if (f)
		kt_pids_free(f);
	mutex_unlock(&kt_kev_lock);
	/* The filters set before: their callbacks are this module's code. */
	rcu_barrier();
}
