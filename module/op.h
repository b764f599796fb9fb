/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The rules of an op, inline for the two paths that apply ops by the
 * thousand: BATCH (tracer.c) and the queues' drain (queue.c). A file's
 * events, their slots, the checks an op passes and the change it makes,
 * and the record it fills in a block (kt_block_op()).
 *
 * Ops read a span's slots, which kt_slots_resize() replaces and frees
 * after a grace period, under RCU: in rcu_read_lock() (kt_apply()), or
 * in a block, whose section with preemption disabled is a read-side
 * critical section of RCU as well (synchronize_rcu() and kfree_rcu()
 * wait for those too), and costs no call.
 */
#ifndef KT_OP_H
#define KT_OP_H

#include <linux/atomic.h>
#include <linux/preempt.h>
#include <linux/rcupdate.h>

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

/* @fe's slots, in any of the RCU read-side sections above. */
static __always_inline struct kt_slots *kt_fevent_slots(struct kt_fevent *fe)
{
	return rcu_dereference_check(fe->slots, rcu_read_lock_any_held());
}

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

/* Whether any of ktracer's tracepoints has a probe: one nop if not. */
static __always_inline bool kt_tracing(void)
{
	return static_branch_unlikely(&kt_tracing_key);
}

void kt_trace_record(const struct ktracer_record *r);

/* The record of what thread @who did to its file's event @id. */
static inline void kt_step_rec(struct kt_rec *d, u32 id,
			       const struct kt_step *s,
			       const struct kt_who *who, const void *msg,
			       u32 len)
{
	*d = (struct kt_rec){
		.type = s->type, .flags = s->flags, .event = id,
		.ts = s->ts, .pid = who->pid, .tid = who->tid,
		.slot = s->slot, .len = len,
		.arg = s->arg, .extra = s->extra, .msg = msg,
	};
}

/*
 * A slot's value is its START time; 0 is closed, and KT_SLOT_GONE marks
 * a slot array being replaced (kt_slots_resize()), which no op opens or
 * closes. Closing one returns its START time, or 0 if it was not open.
 */
#define KT_SLOT_GONE	U64_MAX

static inline u64 kt_slot_close(u64 *slot)
{
	u64 v = READ_ONCE(*slot);

	do {
		if (!v || v == KT_SLOT_GONE)
			return 0;
	} while (!try_cmpxchg(slot, &v, 0));
	return v;
}

/* The chunk of this file's events that holds @id, or NULL. Lock-free. */
static __always_inline struct kt_fevent *kt_fevent_chunk(struct kt_tracer *t,
							 u32 id)
{
	if (id == 0 || id > KTRACER_EVENT_ID_MAX)
		return NULL;
	/* Pairs with the release in kt_ioc_register(): the chunk is zeroed. */
	return smp_load_acquire(&t->chunk[id >> KT_CHUNK_SHIFT]);
}

/* This file's entry for event @id, or NULL. Lock-free. */
static inline struct kt_fevent *kt_fevent_get(struct kt_tracer *t, u32 id)
{
	struct kt_fevent *c = kt_fevent_chunk(t, id);

	return c ? &c[id & (KT_CHUNK - 1)] : NULL;
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

static inline u64 kt_saturating_add(atomic64_t *total, u64 add)
{
	s64 old = atomic64_read(total);
	u64 new;

	do {
		new = (u64)old + add < (u64)old ? U64_MAX : (u64)old + add;
	} while (!atomic64_try_cmpxchg(total, &old, (s64)new));
	return new;
}

/* The checks of @op's own members, which come first: 0 or -EINVAL. */
static __always_inline int kt_check_members(const struct ktracer_op *op)
{
	if (op->op < KTRACER_OP_START || op->op > KTRACER_OP_LOG ||
	    op->flags & ~kt_op_flags[op->op] || op->__reserved)
		return -EINVAL;
	/* A struct without "text" cannot carry one. */
	if (op->flags & KTRACER_OPF_TEXT ? op->size < KTRACER_OP_SIZE_VER1
					 : op->text)
		return -EINVAL;
	return 0;
}

/*
 * This file's event @id, registered: NULL if it is not (ENOENT), else
 * its entry, its kind in *@kind. Lock-free.
 */
static __always_inline struct kt_fevent *kt_fevent_lookup(struct kt_tracer *t,
							  u32 id, u32 *kind)
{
	struct kt_fevent *fe = kt_fevent_chunk(t, id);

	if (!fe)
		return NULL;
	fe += id & (KT_CHUNK - 1);
	/* Pairs with the release in kt_ioc_register(): slots are there. */
	*kind = smp_load_acquire(&fe->kind);
	return *kind ? fe : NULL;
}

/*
 * The checks of @op that need its event, of @kind, and what it records,
 * without changing anything: the START time and the kind's rules. @sl:
 * the event's slots (NULL unless it is a span). @bound is the oldest ts
 * an op may carry (the start of this file's previous call, or a queue's
 * latest entry); @now the latest. @simple: the caller knows @op is
 * kt_opcode_simple(). 0 or the op's errno.
 */
static __always_inline int kt_check_event(const struct ktracer_op *op,
					  u32 kind, struct kt_slots *sl,
					  u64 bound, u64 now, bool simple,
					  struct kt_step *s)
{
	bool slotted;

	if (kind != kt_op_kind[op->op])
		return -EINVAL;
	if (op->len && (simple || !kt_op_has_bytes(op)))
		return -EINVAL;
	/* A simple op (no CANCEL) names a slot exactly when it is a span's. */
	slotted = simple ? kind == KTRACER_KIND_SPAN :
		  op->op == KTRACER_OP_START || op->op == KTRACER_OP_STOP ||
		  op->flags & KTRACER_OPF_SLOT;
	s->sl = sl;
	if (slotted) {
		if (op->slot >= sl->n)
			return -ERANGE;
	} else if (op->slot) {
		return -EINVAL;
	}
	s->slot = op->slot;
	s->arg = op->value;
	s->extra = 0;
	s->flags = op->flags & KTRACER_OPF_REGION ? KTRACER_RECF_REGION : 0;
	s->ts = now;	/* when the call began: one clock read a call */
	if (op->ts) {
		if (op->ts > now || op->ts < bound)
			return -EINVAL;
		s->ts = op->ts;
		s->flags |= KTRACER_RECF_USER_TS;
	}
	return 0;
}

/*
 * Check @op against this file's events and compute what it records,
 * without changing anything (see kt_check_event()). Spans' slots go to
 * s->sl: called under RCU. Returns the event's entry, or NULL with the
 * op's errno in *@err.
 */
static __always_inline struct kt_fevent *
kt_check(struct kt_tracer *t, const struct ktracer_op *op, u64 bound, u64 now,
	 bool simple, struct kt_step *s, int *err)
{
	struct kt_fevent *fe;
	u32 kind;

	*err = kt_check_members(op);
	if (*err)
		return NULL;
	fe = kt_fevent_lookup(t, op->event, &kind);
	if (!fe) {
		*err = -ENOENT;
		return NULL;
	}
	*err = kt_check_event(op, kind, kt_fevent_slots(fe), bound, now,
			      simple, s);
	return *err ? NULL : fe;
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
 * A block: simple ops applied into one reservation of this CPU's buffer,
 * which saves a reservation and a publication per record. Between
 * kt_block_begin() and kt_block_end(), which follows it whatever it
 * returned, preemption is disabled: an RCU read-side section, for the
 * slots. The block remembers the last event its ops looked up (its
 * entry, kind and slots, which stay while the section lasts), so that
 * a run of ops on one event looks it up once.
 */
struct kt_block {
	struct kt_wctx w;
	struct ktracer_record *r;	/* the next record to fill */
	u32 left;			/* records reserved, not filled */
	u32 id;				/* the event looked up last, or 0 */
	u32 kind;			/* its kind, entry and slots */
	struct kt_fevent *fe;
	struct kt_slots *sl;
};

/*
 * Begin a block of @n records on this CPU: false if they do not all fit
 * (or records wait to be told lost) or recording is off, and the caller
 * then applies its ops one by one with kt_apply(). Either way the caller
 * ends it with kt_block_end().
 */
static __always_inline bool kt_block_begin(struct kt_block *b, u32 n)
{
	preempt_disable_notrace();
	b->left = n;
	b->id = 0;
	b->r = kt_buf_reserve_block(&b->w, n * sizeof(*b->r), n);
	return b->r;
}

/* Give back the records not filled, and publish the others. */
static __always_inline void kt_block_end(struct kt_block *b)
{
	if (b->r) {
		if (b->left)
			kt_buf_shrink(&b->w, b->r, b->left * sizeof(*b->r),
				      b->left);
		kt_buf_commit(&b->w);
	}
	preempt_enable_notrace();
}

/*
 * Apply simple op @op (kt_opcode_simple()) of thread @who into the next
 * record of block @b, which must have one left: its errno, and nothing
 * recorded or changed, if it fails. The same checks in the same order
 * as kt_check(), the event looked up only if it is not the block's last.
 */
static __always_inline int kt_block_op(struct kt_tracer *t, struct kt_block *b,
				       const struct ktracer_op *op, u64 bound,
				       u64 now, const struct kt_who *who)
{
	struct kt_step s kt_no_autoinit;
	struct kt_rec d kt_no_autoinit;
	struct ktracer_record *r;
	struct kt_fevent *fe;
	u32 kind;
	int err;

	err = kt_check_members(op);
	if (err)
		return err;
	if (unlikely(op->event != b->id)) {
		fe = kt_fevent_lookup(t, op->event, &kind);
		if (!fe)
			return -ENOENT;
		b->id = op->event;
		b->kind = kind;
		b->fe = fe;
		b->sl = kt_fevent_slots(fe);
	}
	err = kt_check_event(op, b->kind, b->sl, bound, now, true, &s);
	if (err)
		return err;
	err = kt_change(b->fe, op, &s);
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

#endif /* KT_OP_H */
