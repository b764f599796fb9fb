// SPDX-License-Identifier: GPL-2.0
/*
 * One open /dev/ktracer is one tracer, as in TigerBeetle's tracer: each
 * span event it registered has an array of slots, slot i open from its
 * START to its STOP. A slot is one u64, the START time (0: closed),
 * claimed and released with cmpxchg/xchg, so the threads of a program
 * share the file without a lock. Records go to the CPU's buffer.
 */

#include <linux/atomic.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>

#include "ktracer.h"

struct kt_tracer {
	struct mutex lock;		/* registration on this file */
	atomic64_t last_call;		/* start of the previous OP/BATCH */
	u64 *slots[KTRACER_EVENTS_MAX + 1];	/* by event id; NULL: not here */
	bool registered[KTRACER_EVENTS_MAX + 1];
};

/* Ops of a batch read from user space at a time, on the stack. */
#define KT_BATCH_CHUNK	8

struct kt_tracer *kt_tracer_new(void)
{
	struct kt_tracer *t = kvzalloc(sizeof(*t), GFP_KERNEL);

	if (!t)
		return NULL;
	mutex_init(&t->lock);
	atomic64_set(&t->last_call, ktime_get_mono_fast_ns());
	return t;
}

/*
 * Write one record to this CPU's buffer, if tracing is on. @msg (LOG) is
 * kernel memory: user memory cannot be touched with preemption disabled.
 */
void kt_record(u8 type, u8 flags, u32 event, u64 ts, u32 slot, u64 arg,
	       u64 extra, const void *msg, u32 len)
{
	unsigned int size = sizeof(struct ktracer_record) + ALIGN(len, 8);
	struct ktracer_record *r;
	struct kt_wctx w;

	if (!kt_is_enabled())
		return;
	preempt_disable_notrace();
	r = kt_buf_reserve(&w, size, ts);
	if (r) {
		r->size = size;
		r->type = type;
		r->flags = flags;
		r->event = event;
		r->ts = ts;
		r->pid = task_tgid_nr(current);
		r->tid = task_pid_nr(current);
		r->slot = slot;
		r->len = len;
		r->arg = arg;
		r->extra = extra;
		if (len) {
			memcpy(r + 1, msg, len);
			memset((u8 *)(r + 1) + len, 0, ALIGN(len, 8) - len);
		}
		kt_buf_commit(&w);
	}
	preempt_enable_notrace();
}

/* Close every open slot of span event @id, recording a CANCEL for each. */
static void kt_cancel(u64 *slots, u32 id, u32 nslots, u64 ts, u8 flags)
{
	u64 start;
	u32 i;

	for (i = 0; i < nslots; i++) {
		start = xchg(&slots[i], 0);
		if (start)
			kt_record(KTRACER_REC_CANCEL, flags, id, ts, i, 0,
				  ts > start ? ts - start : 0, NULL, 0);
	}
}

void kt_tracer_free(struct kt_tracer *t)
{
	u64 now = ktime_get_mono_fast_ns();
	struct kt_event *ev;
	u32 id;

	for (id = 1; id <= KTRACER_EVENTS_MAX; id++) {
		if (!t->slots[id])
			continue;
		ev = kt_event_get(id);
		kt_cancel(t->slots[id], id, ev->slots, now, KTRACER_RECF_CLOSE);
		kfree(t->slots[id]);
	}
	kvfree(t);
}

long kt_ioc_register(struct kt_tracer *t, void __user *uarg)
{
	struct ktracer_register reg;
	struct kt_event *ev;
	u64 *slots;
	u32 id;
	int ret;

	ret = kt_uarg_in(&reg, sizeof(reg), KTRACER_REGISTER_SIZE_VER0, uarg);
	if (ret)
		return ret;
	if (reg.flags || reg.__reserved)
		return -EINVAL;
	ret = kt_event_register(reg.name, reg.kind, reg.slots, &id);
	if (ret)
		return ret;

	mutex_lock(&t->lock);
	if (!t->registered[id]) {
		ev = kt_event_get(id);
		if (ev->kind == KTRACER_KIND_SPAN) {
			slots = kcalloc(ev->slots, sizeof(*slots), GFP_KERNEL);
			if (!slots) {
				mutex_unlock(&t->lock);
				return -ENOMEM;
			}
			/* Pairs with the smp_load_acquire() in kt_apply(). */
			smp_store_release(&t->slots[id], slots);
		}
		/* Slots, then the flag; pairs with the acquire in kt_apply(). */
		smp_store_release(&t->registered[id], true);
	}
	mutex_unlock(&t->lock);

	reg.id = id;
	return kt_uarg_out(uarg, &reg, sizeof(reg));
}

static const u32 kt_op_kind[] = {
	[KTRACER_OP_START]	= KTRACER_KIND_SPAN,
	[KTRACER_OP_STOP]	= KTRACER_KIND_SPAN,
	[KTRACER_OP_CANCEL]	= KTRACER_KIND_SPAN,
	[KTRACER_OP_GAUGE]	= KTRACER_KIND_GAUGE,
	[KTRACER_OP_COUNT]	= KTRACER_KIND_COUNTER,
	[KTRACER_OP_LOG]	= KTRACER_KIND_LOG,
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
 * Apply one op. @bound is the start of this file's previous call, the
 * oldest ts an op may carry; @now the start of this call, the latest.
 */
static int kt_apply(struct kt_tracer *t, const struct ktracer_op *op,
		    u64 bound, u64 now)
{
	char msg[KTRACER_LOG_MAX];
	struct kt_event *ev;
	u8 flags = 0;
	u64 *slots = NULL, ts, start;

	if (op->op < KTRACER_OP_START || op->op > KTRACER_OP_LOG ||
	    op->flags || op->__reserved)
		return -EINVAL;
	ev = kt_event_get(op->event);
	/* Pairs with the release in kt_ioc_register(): the slots are there. */
	if (!ev || !smp_load_acquire(&t->registered[op->event]))
		return -ENOENT;
	if (ev->kind != kt_op_kind[op->op])
		return -EINVAL;
	if (op->len && op->op != KTRACER_OP_LOG)
		return -EINVAL;
	if (op->op == KTRACER_OP_START || op->op == KTRACER_OP_STOP) {
		if (op->slot >= ev->slots)
			return -ERANGE;
	} else if (op->slot) {
		return -EINVAL;
	}
	if (op->ts) {
		if (op->ts > now || op->ts < bound)
			return -EINVAL;
		ts = op->ts;
		flags = KTRACER_RECF_USER_TS;
	} else {
		ts = now;	/* when the call began: one clock read a call */
	}
	if (ev->kind == KTRACER_KIND_SPAN)	/* pairs as the flag above */
		slots = smp_load_acquire(&t->slots[op->event]);

	switch (op->op) {
	case KTRACER_OP_START:
		if (cmpxchg(&slots[op->slot], 0, ts) != 0)
			return -EBUSY;
		kt_record(KTRACER_REC_START, flags, op->event, ts, op->slot,
			  op->value, 0, NULL, 0);
		break;
	case KTRACER_OP_STOP:
		start = xchg(&slots[op->slot], 0);
		if (!start)
			return -ENOENT;
		kt_record(KTRACER_REC_STOP, flags, op->event, ts, op->slot,
			  op->value, ts > start ? ts - start : 0, NULL, 0);
		break;
	case KTRACER_OP_CANCEL:
		kt_cancel(slots, op->event, ev->slots, ts, flags);
		break;
	case KTRACER_OP_GAUGE:
		kt_record(KTRACER_REC_GAUGE, flags, op->event, ts, 0,
			  op->value, 0, NULL, 0);
		break;
	case KTRACER_OP_COUNT:
		kt_record(KTRACER_REC_COUNT, flags, op->event, ts, 0, op->value,
			  kt_saturating_add(&ev->total, op->value), NULL, 0);
		break;
	case KTRACER_OP_LOG:
		if (op->len == 0 || op->len > KTRACER_LOG_MAX)
			return -EMSGSIZE;
		if (copy_from_user(msg, u64_to_user_ptr(op->value), op->len))
			return -EFAULT;
		kt_record(KTRACER_REC_LOG, flags, op->event, ts, 0, 0, 0,
			  msg, op->len);
		break;
	}
	return 0;
}

/* Start a call: returns the previous call's start, the oldest valid ts. */
static u64 kt_call_begin(struct kt_tracer *t, u64 *now)
{
	*now = ktime_get_mono_fast_ns();
	return atomic64_xchg(&t->last_call, *now);
}

long kt_ioc_op(struct kt_tracer *t, void __user *uarg)
{
	struct ktracer_op op;
	u64 bound, now;
	int ret;

	ret = kt_uarg_in(&op, sizeof(op), KTRACER_OP_SIZE_VER0, uarg);
	if (ret)
		return ret;
	bound = kt_call_begin(t, &now);
	return kt_apply(t, &op, bound, now);
}

long kt_ioc_batch(struct kt_tracer *t, void __user *uarg)
{
	struct ktracer_op ops[KT_BATCH_CHUNK];
	struct ktracer_batch b;
	const u8 __user *src;
	u32 i, n, done = 0;
	u64 bound, now;
	int ret;

	ret = kt_uarg_in(&b, sizeof(b), KTRACER_BATCH_SIZE_VER0, uarg);
	if (ret)
		return ret;
	if (b.flags || b.count == 0 || b.count > KTRACER_BATCH_MAX ||
	    b.op_size < KTRACER_OP_SIZE_VER0 || b.op_size > KTRACER_ARG_SIZE_MAX)
		return -EINVAL;
	src = u64_to_user_ptr(b.ops);
	if (!access_ok(src, (size_t)b.count * b.op_size))
		return -EFAULT;

	bound = kt_call_begin(t, &now);
	while (done < b.count) {
		n = min_t(u32, b.count - done, KT_BATCH_CHUNK);
		if (b.op_size == sizeof(ops[0])) {
			/* The common case: one copy for the whole chunk. */
			i = n;
			ret = 0;
			if (copy_from_user(ops, src + (size_t)done * b.op_size,
					   n * sizeof(ops[0]))) {
				i = 0;
				ret = -EFAULT;
			}
		} else {
			for (i = 0; i < n; i++) {
				ret = copy_struct_from_user(&ops[i], sizeof(ops[i]),
							    src + (size_t)(done + i) * b.op_size,
							    b.op_size);
				if (ret)
					break;
			}
		}
		if (ret && i == 0) {
			if (!done)
				return ret;	/* the array itself is unreadable */
			break;
		}
		n = i;
		for (i = 0; i < n; i++, done++) {
			ret = ops[i].size == b.op_size ? 0 : -EINVAL;
			if (!ret)
				ret = kt_apply(t, &ops[i], bound, now);
			if (ret)
				goto out;
		}
	}
out:
	b.done = done;
	b.error = ret;
	if (kt_uarg_out(uarg, &b, sizeof(b)))
		return -EFAULT;
	return ret;
}
