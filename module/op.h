/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The rules of an op, inline for the two paths that apply ops by the
 * thousand: BATCH (tracer.c) and the queues' drain (queue.c). A file's
 * events, their slots, the checks an op passes and the change it makes,
 * and the record it fills in a block (kt_block_op()).
 */
#ifndef KT_OP_H
#define KT_OP_H

#include <linux/atomic.h>
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

/*
 * Check @op against this file's events and compute what it records,
 * without changing anything: the START time and the kind's rules.
 * @bound is the oldest ts an op may carry (the start of this file's
 * previous call, or a queue's latest entry); @now the latest. @simple:
 * the caller knows @op is kt_opcode_simple(). Spans' slots go to s->sl:
 * called under RCU.
 */
static __always_inline struct kt_fevent *
kt_check(struct kt_tracer *t, const struct ktracer_op *op, u64 bound, u64 now,
	 bool simple, struct kt_step *s, int *err)
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
	fe = kt_fevent_chunk(t, op->event);
	if (!fe)
		return NULL;
	fe += op->event & (KT_CHUNK - 1);
	/* Pairs with the release in kt_ioc_register(): slots are there. */
	kind = smp_load_acquire(&fe->kind);
	if (!kind)
		return NULL;
	*err = -EINVAL;
	if (kind != kt_op_kind[op->op])
		return NULL;
	if (op->len && (simple || !kt_op_has_bytes(op)))
		return NULL;
	slotted = op->op == KTRACER_OP_START || op->op == KTRACER_OP_STOP ||
		  op->flags & KTRACER_OPF_SLOT;
	s->sl = NULL;
	/* A simple op (no CANCEL) names a slot exactly when it is a span's. */
	if (simple ? slotted : kind == KTRACER_KIND_SPAN)
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

	/* err, not fe: the compiler knows it is 0 exactly when fe is set. */
	fe = kt_check(t, op, bound, now, true, &s, &err);
	if (err)
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

#endif /* KT_OP_H */
