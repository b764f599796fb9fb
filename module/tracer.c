// SPDX-License-Identifier: GPL-2.0
/*
 * One open /dev/ktracer is one tracer, as in TigerBeetle's tracer: each
 * span event it registered has an array of slots, slot i open from its
 * START to its STOP. A slot is one u64, the START time (0: closed),
 * claimed and released with cmpxchg/xchg, so the threads of a program
 * share the file without a lock. Records go to the CPU's buffer.
 */

#include <linux/atomic.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>

#include "ktracer.h"
#include "op.h"

static_assert(sizeof(struct ktracer_op) % 8 == 0);	/* kt_copy_words_in() */

/* Ops of a batch read from user space at a time, on the stack. */
#define KT_BATCH_CHUNK	16
/* Records of a batch's blocks, at most (kt_batch_fast()). */
#define KT_BATCH_BLOCK	64

struct kt_tracer *kt_tracer_new(const struct file *file)
{
	struct kt_tracer *t = kzalloc(sizeof(*t), GFP_KERNEL_ACCOUNT);

	if (!t)
		return NULL;
	mutex_init(&t->lock);
	t->owner = file->f_cred->euid;
	atomic64_set(&t->last_call, ktime_get_mono_fast_ns());
	t->qs = kt_qset_new(t);
	if (!t->qs) {
		kfree(t);
		return NULL;
	}
	return t;
}

struct kt_qset *kt_tracer_qset(struct kt_tracer *t)
{
	return t->qs;
}

/* The thread that made the call. */
void kt_who_current(struct kt_who *who)
{
	who->pid = task_tgid_nr(current);
	who->tid = task_pid_nr(current);
}

/* Fire ktracer's own tracepoint for a record (kt_trace.h). */
static void __kt_trace(const struct kt_rec *d)
{
	switch (d->type) {
	case KTRACER_REC_START:
		trace_span_start(d->event, d->pid, d->tid, d->slot, d->arg, 0);
		break;
	case KTRACER_REC_STOP:
		trace_span_stop(d->event, d->pid, d->tid, d->slot, d->arg,
				d->extra);
		break;
	case KTRACER_REC_CANCEL:
		trace_span_cancel(d->event, d->pid, d->tid, d->slot, 0,
				  d->extra);
		break;
	case KTRACER_REC_GAUGE:
		trace_gauge(d->event, d->pid, d->tid, d->arg, 0);
		break;
	case KTRACER_REC_COUNT:
		trace_count(d->event, d->pid, d->tid, d->arg, d->extra);
		break;
	case KTRACER_REC_LOG:
		trace_log(d->event, d->pid, d->tid, d->msg, d->len);
		break;
	}
}

static __always_inline void kt_trace(const struct kt_rec *d)
{
	if (kt_tracing())
		__kt_trace(d);
}

/* The same for a record without bytes, from what it holds. */
noinline void kt_trace_record(const struct ktracer_record *r)
{
	const struct kt_rec d = {
		.type = r->type, .flags = r->flags, .event = r->event,
		.ts = r->ts, .pid = r->pid, .tid = r->tid, .slot = r->slot,
		.arg = r->arg, .extra = r->extra,
	};

	__kt_trace(&d);
}

/* Record it, one record on its own. */
static void kt_record(u32 id, const struct kt_step *s,
		      const struct kt_who *who, const void *msg, u32 len)
{
	struct kt_rec d kt_no_autoinit;

	kt_step_rec(&d, id, s, who, msg, len);
	kt_trace(&d);
	kt_write(&d);
}

/*
 * kt_record() out of line, from copies: the caller's @s and @who, never
 * taken by address, stay in its registers.
 */
static noinline void kt_record_copy(u32 id, struct kt_step s, struct kt_who who)
{
	kt_record(id, &s, &who, NULL, 0);
}

/*
 * Close slot @s->slot of span event @id if it is open, recording a
 * CANCEL.
 */
static bool kt_cancel_one(u64 *slots, u32 id, struct kt_step *s,
			  const struct kt_who *who)
{
	u64 start = kt_slot_close(&slots[s->slot]);

	if (!start)
		return false;
	s->extra = s->ts > start ? s->ts - start : 0;
	kt_record(id, s, who, NULL, 0);
	return true;
}

/* Close every open slot of span event @id, recording a CANCEL for each. */
static void kt_cancel(u64 *slots, u32 nslots, u32 id, u64 ts, u8 flags,
		      const struct kt_who *who)
{
	struct kt_step s = { .type = KTRACER_REC_CANCEL, .flags = flags,
			     .ts = ts };

	for (s.slot = 0; s.slot < nslots; s.slot++)
		kt_cancel_one(slots, id, &s, who);
}

/*
 * The file is released: its queues are drained, then the spans it left
 * open are cancelled, as if it had called CANCEL before closing.
 */
void kt_tracer_free(struct kt_tracer *t)
{
	struct kt_fevent *fe;
	struct kt_slots *sl;
	struct kt_who who;
	u32 c, i;
	u64 now;

	kt_qset_stop(t->qs);
	kt_who_current(&who);
	now = ktime_get_mono_fast_ns();
	for (c = 0; c < KT_NR_CHUNKS; c++) {
		if (!t->chunk[c])
			continue;
		for (i = 0; i < KT_CHUNK; i++) {
			fe = &t->chunk[c][i];
			if (!fe->kind)
				continue;
			/* Nobody else uses the file any more. */
			sl = rcu_dereference_protected(fe->slots, 1);
			if (sl)
				kt_cancel(sl->v, sl->n, fe->ev->id, now,
					  KTRACER_RECF_CLOSE, &who);
			kfree(sl);
			kt_event_put(fe->ev);
		}
		kfree(t->chunk[c]);
	}
	kt_qset_free(t->qs);
	kfree(t);
}

/*
 * Give span @fe the new slots @sl, all closed, in place of its old ones:
 * -EBUSY if one of those is open. The old slots are marked KT_SLOT_GONE
 * one by one, so that no op opens one meanwhile (a START there fails
 * with EBUSY, as it would have a moment earlier), and freed once no op
 * can be looking at them. Under t->lock.
 */
static int kt_slots_resize(struct kt_tracer *t, struct kt_fevent *fe,
			   struct kt_slots *sl)
{
	struct kt_slots *old = rcu_dereference_protected(fe->slots,
							 lockdep_is_held(&t->lock));
	u32 i, j;

	if (t->nslots - old->n + sl->n > KTRACER_FILE_SLOTS_MAX)
		return -ENOSPC;
	for (i = 0; i < old->n; i++) {
		if (cmpxchg(&old->v[i], 0, KT_SLOT_GONE) != 0) {
			for (j = 0; j < i; j++)
				WRITE_ONCE(old->v[j], 0);
			return -EBUSY;
		}
	}
	t->nslots = t->nslots - old->n + sl->n;
	rcu_assign_pointer(fe->slots, sl);
	kfree_rcu(old, rcu);
	return 0;
}

/*
 * What a file may hold is bounded: KTRACER_FILE_SLOTS_MAX slots, and the
 * names of one user. Everything is allocated before anything is
 * published, so a REGISTER that fails leaves nothing, here or in the
 * table.
 */
long kt_ioc_register(struct kt_tracer *t, void __user *uarg)
{
	struct ktracer_register reg;
	struct kt_fevent *fe, *spare = NULL;
	struct kt_slots *slots = NULL, *cur;
	struct kt_event *ev;
	u32 c;
	int ret;

	ret = kt_uarg_in(&reg, sizeof(reg), KTRACER_REGISTER_SIZE_VER0, uarg);
	if (ret)
		return ret;
	if (reg.flags || reg.__reserved)
		return -EINVAL;

	mutex_lock(&t->lock);
	ret = -ENOMEM;
	if (reg.kind == KTRACER_KIND_SPAN && reg.slots &&
	    reg.slots <= KTRACER_SLOTS_MAX) {
		slots = kzalloc(struct_size(slots, v, reg.slots),
				GFP_KERNEL_ACCOUNT);
		if (!slots)
			goto out;
		slots->n = reg.slots;
	}
	spare = kcalloc(KT_CHUNK, sizeof(*spare), GFP_KERNEL_ACCOUNT);
	if (!spare)
		goto out;
	ret = kt_event_register(t->owner, reg.name, reg.kind, reg.slots, &ev);
	if (ret)
		goto out;
	reg.id = ev->id;
	fe = kt_fevent_get(t, ev->id);
	if (fe && fe->kind) {
		kt_event_put(ev);	/* registered here before: held */
		cur = rcu_dereference_protected(fe->slots,
						lockdep_is_held(&t->lock));
		if (cur && cur->n != reg.slots) {
			ret = kt_slots_resize(t, fe, slots);
			if (!ret)
				slots = NULL;
		}
		goto out;
	}
	if (t->nslots + reg.slots > KTRACER_FILE_SLOTS_MAX) {
		kt_event_put(ev);
		ret = -ENOSPC;
		goto out;
	}
	if (!fe) {
		c = ev->id >> KT_CHUNK_SHIFT;
		/* The chunk zeroed before it is seen; pairs with kt_fevent_get(). */
		smp_store_release(&t->chunk[c], spare);
		fe = &spare[ev->id & (KT_CHUNK - 1)];
		spare = NULL;
	}
	fe->ev = ev;
	RCU_INIT_POINTER(fe->slots, slots);	/* published by the kind */
	slots = NULL;
	t->nslots += reg.slots;
	/* The rest before the kind; pairs with kt_fevent_lookup()'s acquire. */
	smp_store_release(&fe->kind, ev->kind);
out:
	mutex_unlock(&t->lock);
	kfree(spare);
	kfree(slots);
	if (ret)
		return ret;
	return kt_uarg_out(uarg, &reg, sizeof(reg));
}

/*
 * Whether kt_apply_block() can take these ops: all of this header's size
 * and simple (kt_opcode_simple()). Unknown ops go there too, to fail in
 * order.
 */
static bool kt_ops_simple(const struct ktracer_op *ops, u32 n, u32 op_size)
{
	u32 i;

	if (op_size != sizeof(*ops))
		return false;
	for (i = 0; i < n; i++)
		if (ops[i].size != op_size ||
		    !kt_opcode_simple(ops[i].op, ops[i].flags))
			return false;
	return true;
}

/* The most bytes @op may carry: a LOG's message or a START's text. */
static u32 kt_bytes_max(const struct ktracer_op *op)
{
	static_assert(KTRACER_TEXT_MAX <= KTRACER_LOG_MAX);

	return op->op == KTRACER_OP_LOG ? KTRACER_LOG_MAX : KTRACER_TEXT_MAX;
}

/* LOG, and START with text: record them with their bytes, @kbytes. */
static int kt_apply_bytes(const struct kt_fevent *fe,
			  const struct ktracer_op *op, struct kt_step *s,
			  const struct kt_who *who, const void *kbytes)
{
	int ret;

	if (op->len == 0 || op->len > kt_bytes_max(op))
		return -EMSGSIZE;
	if (op->op == KTRACER_OP_LOG) {
		s->type = KTRACER_REC_LOG;
		s->arg = 0;
	} else {
		ret = kt_change(fe, op, s);
		if (ret)
			return ret;
	}
	kt_record(op->event, s, who, kbytes, op->len);
	return 0;
}

/*
 * An op of OP or BATCH with bytes at a user address: checked first, so
 * that its errors come in the same order as a queue's, then its bytes
 * copied to the stack (user memory cannot be read under RCU or with
 * preemption disabled), then applied from there. A function of its own,
 * so that the other ops do not pay for a buffer a kernel built with
 * CONFIG_INIT_STACK_ALL_ZERO clears on every call.
 */
static noinline int kt_apply_user(struct kt_tracer *t,
				  const struct ktracer_op *op, u64 bound,
				  u64 now, const struct kt_who *who)
{
	char buf[KTRACER_LOG_MAX];
	struct kt_step s;
	bool ok;
	int ret;

	rcu_read_lock();
	ok = kt_check(t, op, bound, now, false, &s, &ret);
	rcu_read_unlock();
	if (!ok)
		return ret;
	if (op->len == 0 || op->len > kt_bytes_max(op))
		return -EMSGSIZE;
	if (copy_from_user(buf, u64_to_user_ptr(op->op == KTRACER_OP_LOG ?
						op->value : op->text),
			   op->len))
		return -EFAULT;
	return kt_apply(t, op, bound, now, who, buf);
}

/*
 * Apply one op: check it, change the state, record, on behalf of thread
 * @who. A LOG's message or a START's text is at user address value or
 * text, or, once copied (a queue's entries have them inline), at
 * @kbytes.
 */
int kt_apply(struct kt_tracer *t, const struct ktracer_op *op, u64 bound,
	     u64 now, const struct kt_who *who, const void *kbytes)
{
	struct kt_step s kt_no_autoinit;
	struct kt_fevent *fe;
	int ret;

	if (!kbytes && kt_op_has_bytes(op))
		return kt_apply_user(t, op, bound, now, who);
	/* The slots stay while we look at them: kt_slots_resize(). */
	rcu_read_lock();
	fe = kt_check(t, op, bound, now, false, &s, &ret);
	if (!fe)
		goto out;
	if (op->op == KTRACER_OP_CANCEL) {
		if (!(op->flags & KTRACER_OPF_SLOT)) {
			kt_cancel(s.sl->v, s.sl->n, op->event, s.ts, s.flags,
				  who);
		} else {
			s.type = KTRACER_REC_CANCEL;
			if (!kt_cancel_one(s.sl->v, op->event, &s, who))
				ret = -ENOENT;
		}
	} else if (kt_op_has_bytes(op)) {
		ret = kt_apply_bytes(fe, op, &s, who, kbytes);
	} else {
		ret = kt_change(fe, op, &s);
		if (!ret)
			kt_record(op->event, &s, who, NULL, 0);
	}
out:
	rcu_read_unlock();
	return ret;
}

/*
 * Apply @n simple ops (kt_ops_simple()) in one block. Stops at the first
 * failure, its errno in *@err; returns how many were applied. Returns -1,
 * having done nothing, if kt_block_begin() could not begin it.
 */
static int kt_apply_block(struct kt_tracer *t, const struct ktracer_op *ops,
			  u32 n, u64 bound, u64 now, const struct kt_who *who,
			  int *err)
{
	struct kt_block b;
	u32 i;

	if (!kt_block_begin(&b, n)) {
		kt_block_end(&b);
		return -1;
	}
	for (i = 0; i < n; i++) {
		*err = kt_block_op(t, &b, &ops[i], bound, now, who);
		if (*err)
			break;
	}
	kt_block_end(&b);
	return i;
}

/*
 * The bound on user-supplied ts: the start of the latest call of this
 * file that applied an op. A call reads it before the clock, so that
 * its start is never older than its bound (a CPU's clock that lags
 * another's by a hair is rounded up). Returns the bound, *@now the start.
 */
static u64 kt_call_begin(struct kt_tracer *t, u64 *now)
{
	u64 bound = atomic64_read(&t->last_call);

	*now = max(ktime_get_mono_fast_ns(), bound);
	return bound;
}

/*
 * A call that applied at least one op moves the bound to its start,
 * never backwards: of two threads' calls, the later start wins whatever
 * order they end in. A call that applied nothing leaves it alone.
 */
static void kt_call_end(struct kt_tracer *t, u64 now)
{
	s64 old = atomic64_read(&t->last_call);

	do {
		if ((u64)old >= now)
			return;
	} while (!atomic64_try_cmpxchg(&t->last_call, &old, (s64)now));
}

/*
 * Read op @u, of this header's size, member by member: 0, or -EFAULT if
 * a byte of it cannot be read. With page faults disabled, a page that
 * is not there is such a byte.
 */
static __always_inline int kt_op_read(struct ktracer_op *op,
				      const struct ktracer_op __user *u)
{
	if (!user_access_begin(u, sizeof(*u)))
		return -EFAULT;
	unsafe_get_user(op->size, &u->size, efault);
	unsafe_get_user(op->op, &u->op, efault);
	unsafe_get_user(op->flags, &u->flags, efault);
	unsafe_get_user(op->event, &u->event, efault);
	unsafe_get_user(op->slot, &u->slot, efault);
	unsafe_get_user(op->value, &u->value, efault);
	unsafe_get_user(op->ts, &u->ts, efault);
	unsafe_get_user(op->len, &u->len, efault);
	unsafe_get_user(op->__reserved, &u->__reserved, efault);
	unsafe_get_user(op->text, &u->text, efault);
	user_access_end();
	return 0;
efault:
	user_access_end();
	return -EFAULT;
}

/* Whether op @op, just read, is one the fast paths take. */
static __always_inline bool kt_op_fast(const struct ktracer_op *op)
{
	return op->size == sizeof(*op) && kt_opcode_simple(op->op, op->flags);
}

/* KTRACER_IOC_OP in general: any size of struct, any op. */
static noinline long kt_ioc_op_any(struct kt_tracer *t, void __user *uarg)
{
	struct ktracer_op op;
	struct kt_who who;
	u64 bound, now;
	int ret;

	ret = kt_uarg_in(&op, sizeof(op), KTRACER_OP_SIZE_VER0, uarg);
	if (ret)
		return ret;
	kt_who_current(&who);
	bound = kt_call_begin(t, &now);
	ret = kt_apply(t, &op, bound, now, &who, NULL);
	if (!ret)
		kt_call_end(t, now);
	return ret;
}

/*
 * KTRACER_IOC_OP. The common case, a simple op (kt_opcode_simple()) in
 * a struct of this header's size, has a path of its own: the op read
 * member by member, then checked, applied and written into a record
 * reserved in place, with preemption disabled (the RCU read-side section
 * the slots need). kt_check() and kt_change() are kt_apply()'s, so its
 * errors are too. Anything else goes to kt_ioc_op_any(), which reads the
 * op again: another size, an op with bytes or CANCEL, an op that cannot
 * be read (EFAULT there).
 */
long kt_ioc_op(struct kt_tracer *t, void __user *uarg)
{
	struct ktracer_op op kt_no_autoinit;
	struct kt_step s kt_no_autoinit;
	struct kt_rec d kt_no_autoinit;
	struct kt_wctx w kt_no_autoinit;
	struct ktracer_record *r;
	struct kt_fevent *fe;
	struct kt_who who;
	u64 bound, now;
	int ret;

	if (unlikely(kt_op_read(&op, uarg) || !kt_op_fast(&op)))
		return kt_ioc_op_any(t, uarg);
	kt_who_current(&who);
	bound = kt_call_begin(t, &now);
	preempt_disable_notrace();
	fe = kt_check(t, &op, bound, now, true, &s, &ret);
	if (ret)
		goto out;
	ret = kt_change(fe, &op, &s);
	if (ret)
		goto out;
	r = kt_buf_reserve_block(&w, sizeof(*r), 1);
	if (likely(r)) {
		kt_step_rec(&d, op.event, &s, &who, NULL, 0);
		kt_fill(r, &d, sizeof(*r));
		if (kt_tracing())
			kt_trace_record(r);
		kt_buf_commit(&w);
	} else {
		/* Recording off, no room, or losses to tell first. */
		kt_record_copy(op.event, s, who);
	}
out:
	preempt_enable_notrace();
	if (!ret)
		kt_call_end(t, now);
	return ret;
}

/*
 * Read ops[0..n-1] of a batch (each @op_size bytes at @src) into @ops.
 * Returns how many were read: n, or the index of the first that could
 * not be, its errno in *@err (EFAULT, or E2BIG for non-zero bytes past
 * the kernel's struct).
 */
static u32 kt_ops_in(struct ktracer_op *ops, const u8 __user *src, u32 n,
		     u32 op_size, int *err)
{
	u32 i;

	*err = 0;
	if (op_size == sizeof(*ops)) {
		/* The common case: one copy for the whole chunk. */
		if (!kt_copy_words_in(ops, src, n * sizeof(*ops)))
			return n;
		/* Some op is unreadable: find the first, reading one by one. */
		for (i = 0; i < n; i++) {
			*err = kt_copy_words_in(&ops[i], src + i * sizeof(*ops),
						sizeof(*ops));
			if (*err)
				return i;
		}
		return n;	/* readable now: the caller's mapping changed */
	}
	for (i = 0; i < n; i++) {
		*err = copy_struct_from_user(&ops[i], sizeof(ops[i]),
					     src + (size_t)i * op_size, op_size);
		if (*err)
			return i;
	}
	return n;
}

/*
 * A batch's fast path, for ops of this header's size: from op @i on, the
 * simple ones are read straight from user memory into blocks of up to
 * KT_BATCH_BLOCK records, with page faults disabled (preemption is), so
 * that an op costs its reads, its checks, its change and its record.
 * Returns the index of the first op not applied (@count if all were):
 * with its errno in *@err if it failed, else with *@err 0 for the
 * general path to take it: an op of another size, not simple, or not
 * readable without a page fault. *@noblock: no block could begin
 * (recording off, no room, losses to tell), and none will for a while.
 */
static u32 kt_batch_fast(struct kt_tracer *t, const struct ktracer_op __user *u,
			 u32 i, u32 count, u64 bound, u64 now,
			 const struct kt_who *who, int *err, bool *noblock)
{
	struct ktracer_op op kt_no_autoinit;
	struct kt_block b;
	u32 end;

	*err = 0;
	while (i < count) {
		end = i + min_t(u32, count - i, KT_BATCH_BLOCK);
		if (!kt_block_begin(&b, end - i)) {
			kt_block_end(&b);
			*noblock = true;
			break;
		}
		pagefault_disable();
		for (; i < end; i++) {
			if (kt_op_read(&op, &u[i]) || !kt_op_fast(&op))
				break;
			*err = kt_block_op(t, &b, &op, bound, now, who);
			if (*err)
				break;
		}
		pagefault_enable();
		kt_block_end(&b);
		if (i < end)
			break;
	}
	return i;
}

long kt_ioc_batch(struct kt_tracer *t, void __user *uarg)
{
	struct ktracer_op ops[KT_BATCH_CHUNK] kt_no_autoinit;
	struct ktracer_batch b;
	const u8 __user *src;
	struct kt_who who;
	u32 i, n, done = 0;
	u64 bound, now;
	bool fast, noblock = false;
	int ret, rerr, k;

	ret = kt_uarg_in(&b, sizeof(b), KTRACER_BATCH_SIZE_VER0, uarg);
	if (ret)
		return ret;
	if (b.flags || b.count == 0 || b.count > KTRACER_BATCH_MAX ||
	    b.op_size < KTRACER_OP_SIZE_VER0 || b.op_size > KTRACER_ARG_SIZE_MAX)
		return -EINVAL;
	src = u64_to_user_ptr(b.ops);
	kt_who_current(&who);

	bound = kt_call_begin(t, &now);
	fast = b.op_size == sizeof(struct ktracer_op);
	ret = 0;
	while (done < b.count) {
		n = min_t(u32, b.count - done, KT_BATCH_CHUNK);
		if (fast) {
			done = kt_batch_fast(t, (const void __user *)src, done,
					     b.count, bound, now, &who, &ret,
					     &noblock);
			if (ret || done == b.count)
				goto out;
			/* The general path takes what the fast one left. */
			if (noblock)
				fast = false;
			else
				n = 1;
		}
		/* Ops up to the first unreadable one; its error in rerr. */
		n = kt_ops_in(ops, src + (size_t)done * b.op_size, n, b.op_size,
			      &rerr);
		if (n && kt_ops_simple(ops, n, b.op_size)) {
			k = kt_apply_block(t, ops, n, bound, now, &who, &ret);
			if (k >= 0) {
				done += k;
				if (k < n)
					goto out;
				goto next;
			}
		}
		for (i = 0; i < n; i++, done++) {
			ret = ops[i].size == b.op_size ? 0 : -EINVAL;
			if (!ret)
				ret = kt_apply(t, &ops[i], bound, now, &who,
					       NULL);
			if (ret)
				goto out;
		}
next:
		ret = rerr;
		if (ret)
			goto out;
	}
out:
	if (done)
		kt_call_end(t, now);
	b.done = done;
	b.error = ret;
	if (kt_uarg_out(uarg, &b, sizeof(b)))
		return -EFAULT;
	return ret;
}
