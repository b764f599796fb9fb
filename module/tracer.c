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
#include "kt_trace.h"

/*
 * An event as this file sees it: a copy of what the table says, so that
 * an op reads one entry here, not the table as well. @kind is set last
 * (0: not registered here).
 */
struct kt_fevent {
	struct kt_slots __rcu *slots;	/* spans: this file's slots */
	u32 kind;
	struct kt_event *ev;		/* the name, which this file holds */
};

/*
 * A span's slots, replaced whole when the file registers the event again
 * with another count: ops read them under RCU.
 */
struct kt_slots {
	struct rcu_head rcu;
	u32 n;
	u64 v[];
};

/*
 * A file's events by id, in chunks of KT_CHUNK allocated as it registers:
 * a file pays for what it uses, and an op finds its event in two loads.
 */
#define KT_CHUNK_SHIFT	6
#define KT_CHUNK	BIT(KT_CHUNK_SHIFT)
#define KT_NR_CHUNKS	((KTRACER_EVENT_ID_MAX >> KT_CHUNK_SHIFT) + 1)

struct kt_tracer {
	struct mutex lock;		/* registration on this file */
	atomic64_t last_call;		/* start of the previous OP/BATCH */
	kuid_t owner;			/* the opener's euid: its names */
	u32 nslots;			/* slots of all its spans */
	struct kt_qset *qs;		/* its queues */
	struct kt_fevent *chunk[KT_NR_CHUNKS];	/* [id / KT_CHUNK] */
};

/* What one op records, apart from the event and who did it. */
struct kt_step {
	u8 type;
	u8 flags;
	u32 slot;
	struct kt_slots *sl;		/* spans: read under RCU */
	u64 ts;
	u64 arg;
	u64 extra;
};

static_assert(sizeof(struct ktracer_op) % 8 == 0);	/* kt_copy_words_in() */

/* Ops of a batch read from user space at a time, on the stack. */
#define KT_BATCH_CHUNK	16

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

/* Whether any of ktracer's tracepoints has a probe: a nop each if not. */
static __always_inline bool kt_tracing(void)
{
	return trace_span_start_enabled() || trace_span_stop_enabled() ||
	       trace_span_cancel_enabled() || trace_gauge_enabled() ||
	       trace_count_enabled() || trace_log_enabled();
}

static __always_inline void kt_trace(const struct kt_rec *d)
{
	if (kt_tracing())
		__kt_trace(d);
}

/* The same for a record without bytes, from what it holds. */
static noinline void kt_trace_record(const struct ktracer_record *r)
{
	const struct kt_rec d = {
		.type = r->type, .flags = r->flags, .event = r->event,
		.ts = r->ts, .pid = r->pid, .tid = r->tid, .slot = r->slot,
		.arg = r->arg, .extra = r->extra,
	};

	__kt_trace(&d);
}

/* The record of what thread @who did to its file's event @id. */
static void kt_step_rec(struct kt_rec *d, u32 id, const struct kt_step *s,
			const struct kt_who *who, const void *msg, u32 len)
{
	*d = (struct kt_rec){
		.type = s->type, .flags = s->flags, .event = id,
		.ts = s->ts, .pid = who->pid, .tid = who->tid,
		.slot = s->slot, .len = len,
		.arg = s->arg, .extra = s->extra, .msg = msg,
	};
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
 * Close slot @s->slot of span event @id if it is open, recording a
 * CANCEL. A slot's value is its START time; 0 is closed, and
 * KT_SLOT_GONE marks a slot array being replaced (kt_slots_resize()),
 * which no op opens or closes.
 */
#define KT_SLOT_GONE	U64_MAX

static u64 kt_slot_close(u64 *slot)
{
	u64 v = READ_ONCE(*slot);

	do {
		if (!v || v == KT_SLOT_GONE)
			return 0;
	} while (!try_cmpxchg(slot, &v, 0));
	return v;
}

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

/* This file's entry for event @id, or NULL. Lock-free. */
static struct kt_fevent *kt_fevent_get(struct kt_tracer *t, u32 id)
{
	struct kt_fevent *c;

	if (id == 0 || id > KTRACER_EVENT_ID_MAX)
		return NULL;
	/* Pairs with the release in kt_ioc_register(): the chunk is zeroed. */
	c = smp_load_acquire(&t->chunk[id >> KT_CHUNK_SHIFT]);
	return c ? &c[id & (KT_CHUNK - 1)] : NULL;
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
	/* The rest before the kind; pairs with kt_check()'s acquire. */
	smp_store_release(&fe->kind, ev->kind);
out:
	mutex_unlock(&t->lock);
	kfree(spare);
	kfree(slots);
	if (ret)
		return ret;
	return kt_uarg_out(uarg, &reg, sizeof(reg));
}

static const u32 kt_op_kind[KTRACER_OP_LOG + 1] = {
	[KTRACER_OP_START]	= KTRACER_KIND_SPAN,
	[KTRACER_OP_STOP]	= KTRACER_KIND_SPAN,
	[KTRACER_OP_CANCEL]	= KTRACER_KIND_SPAN,
	[KTRACER_OP_GAUGE]	= KTRACER_KIND_GAUGE,
	[KTRACER_OP_COUNT]	= KTRACER_KIND_COUNTER,
	[KTRACER_OP_LOG]	= KTRACER_KIND_LOG,
};

/* The op flags each op allows. */
static const u16 kt_op_flags[KTRACER_OP_LOG + 1] = {
	[KTRACER_OP_START]	= KTRACER_OPF_REGION | KTRACER_OPF_TEXT,
	[KTRACER_OP_STOP]	= KTRACER_OPF_REGION,
	[KTRACER_OP_CANCEL]	= KTRACER_OPF_REGION | KTRACER_OPF_SLOT,
};

static u64 kt_saturating_add(atomic64_t *total, u64 add)
{
	s64 old = atomic64_read(total);
	u64 new;

	do {
		new = (u64)old + add < (u64)old ? U64_MAX : (u64)old + add;
	} while (!atomic64_try_cmpxchg(total, &old, (s64)new));
	return new;
}

/*
 * Check @op against this file's events and compute what it records,
 * without changing anything: the START time and the kind's rules.
 * @bound is the oldest ts an op may carry (the start of this file's
 * previous call, or a queue's latest entry); @now the latest. Spans'
 * slots go to s->sl: called under RCU.
 */
static __always_inline struct kt_fevent *
kt_check(struct kt_tracer *t, const struct ktracer_op *op, u64 bound, u64 now,
	 struct kt_step *s, int *err)
{
	struct kt_fevent *fe;
	bool slotted;
	u32 kind;

	*err = -EINVAL;
	if (op->op < KTRACER_OP_START || op->op > KTRACER_OP_LOG ||
	    op->flags & ~kt_op_flags[op->op] || op->__reserved)
		return NULL;
	/* A struct without "text" cannot carry one. */
	if (op->flags & KTRACER_OPF_TEXT ? op->size < KTRACER_OP_SIZE_VER1
					 : op->text)
		return NULL;
	*err = -ENOENT;
	fe = kt_fevent_get(t, op->event);
	if (!fe)
		return NULL;
	/* Pairs with the release in kt_ioc_register(): slots are there. */
	kind = smp_load_acquire(&fe->kind);
	if (!kind)
		return NULL;
	*err = -EINVAL;
	if (kind != kt_op_kind[op->op])
		return NULL;
	if (op->len && !kt_op_has_bytes(op))
		return NULL;
	slotted = op->op == KTRACER_OP_START || op->op == KTRACER_OP_STOP ||
		  op->flags & KTRACER_OPF_SLOT;
	s->sl = NULL;
	if (kind == KTRACER_KIND_SPAN)
		s->sl = rcu_dereference(fe->slots);
	if (slotted) {
		*err = -ERANGE;
		if (op->slot >= s->sl->n)
			return NULL;
	} else if (op->slot) {
		return NULL;
	}
	s->slot = op->slot;
	s->arg = op->value;
	s->extra = 0;
	s->flags = op->flags & KTRACER_OPF_REGION ? KTRACER_RECF_REGION : 0;
	s->ts = now;	/* when the call began: one clock read a call */
	if (op->ts) {
		*err = -EINVAL;
		if (op->ts > now || op->ts < bound)
			return NULL;
		s->ts = op->ts;
		s->flags |= KTRACER_RECF_USER_TS;
	}
	*err = 0;
	return fe;
}

/*
 * START, STOP, GAUGE, COUNT, which record one record each: change the
 * state @op changes and complete its record in @s.
 */
static __always_inline int kt_change(const struct kt_fevent *fe,
				     const struct ktracer_op *op,
				     struct kt_step *s)
{
	u64 start;

	switch (op->op) {
	case KTRACER_OP_START:
		if (cmpxchg(&s->sl->v[op->slot], 0, s->ts) != 0)
			return -EBUSY;
		s->type = KTRACER_REC_START;
		break;
	case KTRACER_OP_STOP:
		start = kt_slot_close(&s->sl->v[op->slot]);
		if (!start)
			return -ENOENT;
		s->type = KTRACER_REC_STOP;
		s->extra = s->ts > start ? s->ts - start : 0;
		break;
	case KTRACER_OP_GAUGE:
		s->type = KTRACER_REC_GAUGE;
		break;
	default:	/* KTRACER_OP_COUNT */
		s->type = KTRACER_REC_COUNT;
		s->extra = kt_saturating_add(&fe->ev->total,
					     op->value);
		break;
	}
	return 0;
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
	ok = kt_check(t, op, bound, now, &s, &ret);
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
	fe = kt_check(t, op, bound, now, &s, &ret);
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
 * Begin a block of @n records on this CPU: false if they do not all fit
 * (or records wait to be told lost) or tracing is off, and the caller
 * then applies its ops one by one with kt_apply(). Either way the caller
 * ends it with kt_block_end().
 */
bool kt_block_begin(struct kt_block *b, u32 n) __acquires(RCU)
{
	const unsigned int size = sizeof(struct ktracer_record);

	rcu_read_lock();	/* the slots: kt_slots_resize() */
	preempt_disable_notrace();
	b->r = NULL;
	b->left = n;
	if (kt_is_enabled())
		b->r = kt_buf_reserve_block(&b->w, n * size, n);
	return b->r;
}

/*
 * Apply simple op @op (kt_opcode_simple()) of thread @who into the next
 * record of block @b, which must have one left: its errno, and nothing
 * recorded or changed, if it fails.
 */
static __always_inline int kt_block_op(struct kt_tracer *t, struct kt_block *b,
				       const struct ktracer_op *op, u64 bound,
				       u64 now, const struct kt_who *who)
{
	struct kt_step s kt_no_autoinit;
	struct kt_rec d kt_no_autoinit;
	struct ktracer_record *r;
	struct kt_fevent *fe;
	int err;

	fe = kt_check(t, op, bound, now, &s, &err);
	if (!fe)
		return err;
	err = kt_change(fe, op, &s);
	if (err)
		return err;
	kt_step_rec(&d, op->event, &s, who, NULL, 0);
	r = b->r++;
	kt_fill(r, &d, sizeof(*r));
	b->left--;
	if (kt_tracing())
		kt_trace_record(r);
	return 0;
}

/*
 * Apply the simple queue entry @e (kt_opcode_simple()), its ts already
 * in ns and not 0, as kt_block_op() would the op it stands for.
 */
int kt_block_apply(struct kt_tracer *t, struct kt_block *b,
		   const struct ktracer_qentry *e, u64 bound, u64 now,
		   const struct kt_who *who)
{
	const struct ktracer_op op = {
		.size = sizeof(op), .op = e->op, .flags = e->flags,
		.event = e->event, .slot = e->slot, .value = e->value,
		.ts = e->ts, .len = e->len,
	};

	return kt_block_op(t, b, &op, bound, now, who);
}

/* Give back the records not filled, and publish the others. */
void kt_block_end(struct kt_block *b) __releases(RCU)
{
	if (b->r) {
		if (b->left)
			kt_buf_shrink(&b->w, b->r, b->left * sizeof(*b->r),
				      b->left);
		kt_buf_commit(&b->w);
	}
	preempt_enable_notrace();
	rcu_read_unlock();
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

long kt_ioc_op(struct kt_tracer *t, void __user *uarg)
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

long kt_ioc_batch(struct kt_tracer *t, void __user *uarg)
{
	struct ktracer_op ops[KT_BATCH_CHUNK] kt_no_autoinit;
	struct ktracer_batch b;
	const u8 __user *src;
	struct kt_who who;
	u32 i, n, done = 0;
	u64 bound, now;
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
	ret = 0;
	while (done < b.count) {
		/* Ops up to the first unreadable one; its error in rerr. */
		n = kt_ops_in(ops, src + (size_t)done * b.op_size,
			      min_t(u32, b.count - done, KT_BATCH_CHUNK),
			      b.op_size, &rerr);
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
