// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The stand-in kernel of libktracer's host tests: see fake.h.
 */
#define _DEFAULT_SOURCE	/* MAP_ANONYMOUS, MADV_DONTFORK */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "internal.h"
#include "fake.h"

static uint64_t fake_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * KTL_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

#if defined(__x86_64__)
static uint64_t fake_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("lfence\n\trdtsc" : "=a" (lo), "=d" (hi) : : "memory");
	return (uint64_t)hi << 32 | lo;
}
#else
static uint64_t fake_rdtsc(void)
{
	return 0;
}
#endif

/*
 * A TSC queue's entry's @tsc (at or before the drain's cut, @tsc_a) in
 * ns, by the cut's anchor (@tsc_a, @ns_a) and the rate between
 * fake_init()'s anchor and it; 0 for 0.
 */
static uint64_t fake_tsc_ns(const struct fake *f, uint64_t tsc, uint64_t tsc_a,
			    uint64_t ns_a)
{
	unsigned __int128 age;

	if (!tsc || tsc_a <= f->tsc0)
		return 0;
	age = (unsigned __int128)(tsc_a - tsc) * (ns_a - f->ns0) /
	      (tsc_a - f->tsc0);
	return age < ns_a ? ns_a - (uint64_t)age : 0;
}

int fake_tid(void)
{
	return (int)syscall(SYS_gettid);
}

void fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	pthread_mutex_init(&f->drain, NULL);
	f->tsc_error = -EINVAL;
	f->tsc0 = fake_rdtsc();
	f->ns0 = fake_now();
}

void fake_fini(struct fake *f)
{
	uint32_t i;

	for (i = 1; i <= f->nevents; i++)
		free(f->ev[i].start);
	for (i = 1; i <= f->nqueues; i++)
		munmap(f->queues[i].q, f->queues[i].map_size);
	free(f->log);
	pthread_mutex_destroy(&f->drain);
	pthread_mutex_destroy(&f->lock);
}

static void fake_log(struct fake *f, const struct fake_rec *r)
{
	if (f->nlog == f->caplog) {
		f->caplog = f->caplog ? 2 * f->caplog : 1024;
		f->log = realloc(f->log, f->caplog * sizeof(*f->log));
		if (!f->log)
			abort();
	}
	f->log[f->nlog++] = *r;
}

size_t fake_count(struct fake *f, uint16_t op)
{
	size_t i, n = 0;

	pthread_mutex_lock(&f->lock);
	for (i = 0; i < f->nlog; i++)
		n += f->log[i].op == op;
	pthread_mutex_unlock(&f->lock);
	return n;
}

/* Slots are the file's: another count resizes them, if none is open. */
static int fake_register(struct fake *f, struct ktracer_register *r)
{
	uint32_t i, s;

	f->registers++;
	if (r->size != sizeof(*r) || r->flags || r->__reserved ||
	    r->kind < KTRACER_KIND_SPAN || r->kind > KTRACER_KIND_LOG ||
	    (r->kind == KTRACER_KIND_SPAN ?
	     r->slots < 1 || r->slots > KTRACER_SLOTS_MAX : r->slots != 0))
		return -EINVAL;
	if (!memchr(r->name, 0, sizeof(r->name)))
		return -ENAMETOOLONG;
	if (!r->name[0])
		return -EINVAL;
	for (i = 1; i <= f->nevents; i++) {
		if (strcmp(f->ev[i].name, r->name))
			continue;
		if (f->ev[i].kind != r->kind)
			return -EEXIST;
		if (r->kind == KTRACER_KIND_SPAN && f->ev[i].slots != r->slots) {
			for (s = 0; s < f->ev[i].slots; s++)
				if (f->ev[i].start[s])
					return -EBUSY;
			free(f->ev[i].start);
			f->ev[i].start = calloc(r->slots, sizeof(uint64_t));
			f->ev[i].slots = r->slots;
		}
		r->id = i;
		return 0;
	}
	if (f->nevents == FAKE_EVENTS)
		return -ENOSPC;
	i = ++f->nevents;
	strcpy(f->ev[i].name, r->name);
	f->ev[i].kind = r->kind;
	f->ev[i].slots = r->slots;
	if (r->kind == KTRACER_KIND_SPAN)
		f->ev[i].start = calloc(r->slots, sizeof(uint64_t));
	r->id = i;
	return 0;
}

/* The op flags each op may carry. */
static uint16_t fake_flags_allowed(uint16_t op)
{
	switch (op) {
	case KTRACER_OP_START:
		return KTRACER_OPF_REGION | KTRACER_OPF_TEXT;
	case KTRACER_OP_STOP:
		return KTRACER_OPF_REGION;
	case KTRACER_OP_CANCEL:
		return KTRACER_OPF_REGION | KTRACER_OPF_SLOT;
	default:
		return 0;
	}
}

/*
 * Apply @r (ts set) as the kernel would, logging it: 0 or -errno, and
 * nothing changes on error. @text: its @r->len bytes.
 */
static int fake_apply(struct fake *f, struct fake_rec *r, const void *text)
{
	uint32_t i, slots;
	bool has_slot;

	if (r->op < KTRACER_OP_START || r->op > KTRACER_OP_LOG ||
	    (r->flags & ~fake_flags_allowed(r->op)))
		return -EINVAL;
	if (r->event == 0 || r->event > f->nevents)
		return -ENOENT;
	if (f->ev[r->event].kind != ktl_op_kind(r->op))
		return -EINVAL;
	has_slot = r->op == KTRACER_OP_START || r->op == KTRACER_OP_STOP ||
		   (r->flags & KTRACER_OPF_SLOT);
	slots = f->ev[r->event].slots;
	if (!has_slot && r->slot)
		return -EINVAL;
	if (has_slot && r->slot >= slots)
		return -ERANGE;
	if (r->op == KTRACER_OP_LOG ||
	    (r->op == KTRACER_OP_START && (r->flags & KTRACER_OPF_TEXT))) {
		if (r->len == 0 || r->len > (r->op == KTRACER_OP_LOG ?
					     KTRACER_LOG_MAX : KTRACER_TEXT_MAX))
			return -EMSGSIZE;
		if (!text)
			return -EFAULT;
		memcpy(r->text, text, r->len);
	} else if (r->len) {
		return -EINVAL;
	}
	switch (r->op) {
	case KTRACER_OP_START:
		if (f->ev[r->event].start[r->slot])
			return -EBUSY;
		f->ev[r->event].start[r->slot] = r->ts;
		break;
	case KTRACER_OP_STOP:
		if (!f->ev[r->event].start[r->slot])
			return -ENOENT;
		f->ev[r->event].start[r->slot] = 0;
		break;
	case KTRACER_OP_CANCEL:
		if (r->flags & KTRACER_OPF_SLOT) {
			if (!f->ev[r->event].start[r->slot])
				return -ENOENT;
			f->ev[r->event].start[r->slot] = 0;
			break;
		}
		for (i = 0; i < slots; i++)
			f->ev[r->event].start[i] = 0;
		break;
	}
	fake_log(f, r);
	return 0;
}

static int fake_op(struct fake *f, const struct ktracer_op *op)
{
	struct fake_rec r;
	const void *text = NULL;

	f->ops++;
	if (op->size != sizeof(*op) || op->__reserved)
		return -EINVAL;
	memset(&r, 0, sizeof(r));
	r.op = op->op;
	r.flags = op->flags;
	r.event = op->event;
	r.slot = op->slot;
	r.len = op->len;
	r.value = op->value;
	r.ts = op->ts ? op->ts : fake_now();
	r.tid = fake_tid();
	if (op->op == KTRACER_OP_LOG) {
		text = (const void *)(uintptr_t)op->value;
		r.value = 0;
	} else if (op->flags & KTRACER_OPF_TEXT) {
		text = (const void *)(uintptr_t)op->text;
	} else if (op->text) {
		return -EINVAL;
	}
	return fake_apply(f, &r, text);
}

/* An entry a drain took from a queue, to apply in ts order. */
struct fake_pending {
	struct fake_rec r;
	const void *text;	/* in the ring */
	uint32_t queue;
};

static int fake_pending_cmp(const void *a, const void *b)
{
	const struct fake_pending *x = a, *y = b;

	if (x->r.ts != y->r.ts)
		return x->r.ts < y->r.ts ? -1 : 1;
	return x->queue < y->queue ? -1 : x->queue > y->queue;
}

static void fake_refuse(struct fake *f, struct ktracer_qring *q, int err)
{
	__atomic_store_n(&q->refused, q->refused + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&q->error, err, __ATOMIC_RELAXED);
	f->refused++;
	f->last_error = err;
}

/*
 * Take queue @id's published entries into @p (grown as needed), checking
 * the head and each entry's shape as the ABI says. Returns where the
 * queue's drain ends (its new tail).
 */
static uint64_t fake_take(struct fake *f, uint32_t id, uint64_t cutoff,
			  uint64_t tsc_cut, struct fake_pending **p, size_t *n,
			  size_t *cap)
{
	struct fake_queue *fq = &f->queues[id];
	struct ktracer_qring *q = fq->q;
	uint64_t head, tail = q->tail, pos, tsc_a = 0;
	uint32_t size = fq->ring_size, off, need;
	struct ktracer_qentry e;
	static const struct ktracer_qentry zero;

	head = __atomic_load_n(&q->head, __ATOMIC_ACQUIRE);	/* [Q3] */
	if (head % KTRACER_QENTRY_SIZE || head < tail || head - tail > size) {
		fake_refuse(f, q, -EINVAL);
		return tail;
	}
	/* After the head: every TSC entry published is before it. */
	if (fq->tsc)
		tsc_a = fake_rdtsc();
	for (pos = tail; pos < head; pos += need) {
		off = pos & (size - 1);
		memcpy(&e, (char *)q + (fq->map_size - size) + off, sizeof(e));
		if (e.op == 0) {
			need = size - off;	/* PAD: to the ring's end */
			if (memcmp(&e, &zero, sizeof(e)) || pos + need > head) {
				fake_refuse(f, q, -EINVAL);
				return pos;
			}
			continue;
		}
		/*
		 * A TSC entry: in the future (refused as ts 0), after the
		 * drain began (not yet, below), or converted.
		 */
		if (fq->tsc && e.ts > tsc_a)
			e.ts = 0;
		else if (fq->tsc && e.ts > tsc_cut)
			return pos;
		else if (fq->tsc)
			e.ts = fake_tsc_ns(f, e.ts, tsc_cut, cutoff);
		/*
		 * Not yet: an entry time-stamped after the drain began may
		 * follow one of another queue whose head this drain read
		 * before it was published (a task's STOP after its START).
		 */
		if (e.ts > cutoff)
			return pos;
		need = ktl_entry_bytes(e.len);
		if (e.len > KTRACER_LOG_MAX || off + need > size ||
		    pos + need > head) {
			fake_refuse(f, q, -EINVAL);
			return pos;
		}
		if (*n == *cap) {
			*cap = *cap ? 2 * *cap : 256;
			*p = realloc(*p, *cap * sizeof(**p));
			if (!*p)
				abort();
		}
		memset(&(*p)[*n], 0, sizeof(**p));
		(*p)[*n].r.op = e.op;
		(*p)[*n].r.flags = e.flags;
		(*p)[*n].r.event = e.event;
		(*p)[*n].r.slot = e.slot;
		(*p)[*n].r.len = e.len;
		(*p)[*n].r.value = e.value;
		(*p)[*n].r.ts = e.ts;
		(*p)[*n].r.tid = fq->owner;
		(*p)[*n].r.queue = id;
		(*p)[*n].queue = id;
		(*p)[*n].text = (char *)q + (fq->map_size - size) + off + sizeof(e);
		(*n)++;
	}
	return pos;
}

/* A drain: every queue's entries, in ts order. Under f->drain. */
static void fake_drain_locked(struct fake *f)
{
	struct fake_pending *p = NULL;
	uint64_t ends[FAKE_QUEUES + 1], now, tsc_cut, dropped;
	size_t n = 0, cap = 0, i;
	struct ktracer_qring *q;
	struct fake_rec lost;
	uint32_t id;
	int err;

	pthread_mutex_lock(&f->lock);
	tsc_cut = fake_rdtsc();
	now = fake_now();	/* before the heads: see fake_take() */
	for (id = 1; id <= f->nqueues; id++)
		ends[id] = fake_take(f, id, now, tsc_cut, &p, &n, &cap);
	if (n)
		qsort(p, n, sizeof(*p), fake_pending_cmp);
	for (i = 0; i < n; i++) {
		q = f->queues[p[i].queue].q;
		if (p[i].r.ts == 0 || p[i].r.ts > now || p[i].r.ts < q->last_ts)
			err = -EINVAL;
		else
			err = fake_apply(f, &p[i].r, p[i].text);
		if (err) {
			fake_refuse(f, q, err);
			continue;
		}
		__atomic_store_n(&q->applied, q->applied + 1, __ATOMIC_RELAXED);
		__atomic_store_n(&q->last_ts, p[i].r.ts, __ATOMIC_RELAXED);
	}
	for (id = 1; id <= f->nqueues; id++) {
		q = f->queues[id].q;
		dropped = __atomic_load_n(&q->dropped, __ATOMIC_RELAXED);
		if (dropped != f->queues[id].dropped_seen) {
			memset(&lost, 0, sizeof(lost));
			lost.value = dropped - f->queues[id].dropped_seen;
			lost.ts = now;
			lost.tid = f->queues[id].owner;
			lost.queue = id;
			fake_log(f, &lost);
			f->queues[id].dropped_seen = dropped;
		}
		__atomic_store_n(&q->tail, ends[id], __ATOMIC_RELEASE);	/* [Q4] */
	}
	pthread_mutex_unlock(&f->lock);
	free(p);
}

void fake_drain(struct fake *f)
{
	pthread_mutex_lock(&f->drain);
	fake_drain_locked(f);
	pthread_mutex_unlock(&f->drain);
}

static int fake_flush(struct fake *f, struct ktracer_flush *fl)
{
	if (fl->size != sizeof(*fl) || fl->busy || fl->applied || fl->refused ||
	    (fl->flags & ~(uint32_t)(KTRACER_FLUSH_WAIT | KTRACER_FLUSH_INTERVAL)))
		return -EINVAL;
	if (fl->flags & KTRACER_FLUSH_INTERVAL) {
		if (fl->interval_ms < 1 ||
		    fl->interval_ms > KTRACER_QUEUE_INTERVAL_MAX)
			return -EINVAL;
		pthread_mutex_lock(&f->lock);
		f->intervals = fl->interval_ms;
		pthread_mutex_unlock(&f->lock);
	} else if (fl->interval_ms) {
		return -EINVAL;
	}
	pthread_mutex_lock(&f->lock);
	if (fl->flags & KTRACER_FLUSH_WAIT)
		f->flushes_wait++;
	else
		f->flushes_nowait++;
	pthread_mutex_unlock(&f->lock);
	if (fl->flags & KTRACER_FLUSH_WAIT) {
		pthread_mutex_lock(&f->drain);
	} else if (__atomic_load_n(&f->stuck, __ATOMIC_RELAXED) ||
		   pthread_mutex_trylock(&f->drain)) {
		fl->busy = 1;
		pthread_mutex_lock(&f->lock);
		f->busy++;
		pthread_mutex_unlock(&f->lock);
		return 0;
	}
	fake_drain_locked(f);
	pthread_mutex_unlock(&f->drain);
	return 0;
}

static int fake_queue(struct fake *f, struct ktracer_queue *kq)
{
	struct fake_queue *fq;
	long page = sysconf(_SC_PAGESIZE);
	uint32_t size = kq->ring_size;

	if (kq->size != sizeof(*kq) || kq->offset || kq->map_size ||
	    (kq->flags & ~(uint32_t)(KTRACER_QUEUE_ADOPT | KTRACER_QUEUE_TSC)))
		return -EINVAL;
	if (kq->flags & KTRACER_QUEUE_TSC) {
		if (f->tsc_error)
			return f->tsc_error;
		if (kq->flags & KTRACER_QUEUE_ADOPT)
			return -EINVAL;
	}
	if (f->queue_error)
		return f->queue_error;
	if (kq->flags & KTRACER_QUEUE_ADOPT) {
		if (size)
			return -EINVAL;
		if (kq->id == 0 || kq->id > f->nqueues)
			return -ENOENT;
		f->adopts++;
		fq = &f->queues[kq->id];
		/* Drained first: its entries keep their thread. */
		pthread_mutex_unlock(&f->lock);
		fake_drain(f);
		pthread_mutex_lock(&f->lock);
		fq->owner = fake_tid();
	} else {
		if (size < KTRACER_QUEUE_RING_MIN || size > KTRACER_QUEUE_RING_MAX ||
		    (size & (size - 1)) || kq->id)
			return -EINVAL;
		if (f->nqueues == FAKE_QUEUES)
			return -ENOSPC;
		fq = &f->queues[f->nqueues + 1];
		fq->map_size = (size_t)page + size;
		fq->q = mmap(NULL, fq->map_size, PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (fq->q == MAP_FAILED)
			return -ENOMEM;
		/* As the kernel's: the child of fork() has nothing there. */
		madvise(fq->q, fq->map_size, MADV_DONTFORK);
		fq->q->magic = KTRACER_QUEUE_MAGIC;
		fq->q->id = ++f->nqueues;
		fq->q->ring_size = size;
		fq->ring_size = size;
		fq->tsc = kq->flags & KTRACER_QUEUE_TSC;
		if (fq->tsc && !f->tsc_lie)
			fq->q->clock = KTRACER_QCLOCK_TSC;
		fq->owner = fake_tid();
		f->creates++;
		kq->id = fq->q->id;
	}
	kq->ring_size = fq->ring_size;
	kq->map_size = fq->map_size;
	kq->offset = (uint64_t)kq->id << 32;
	return 0;
}

static int fake_ioctl(const struct ktl_sys *sys, unsigned long cmd, void *arg)
{
	struct fake *f = sys->ctx;
	int err;

	if (cmd == KTRACER_IOC_FLUSH) {
		__atomic_fetch_add(&f->ioctls, 1, __ATOMIC_RELAXED);
		return fake_flush(f, arg);
	}
	pthread_mutex_lock(&f->lock);
	__atomic_fetch_add(&f->ioctls, 1, __ATOMIC_RELAXED);
	switch (cmd) {
	case KTRACER_IOC_REGISTER:
		err = fake_register(f, arg);
		break;
	case KTRACER_IOC_OP:
		err = fake_op(f, arg);
		break;
	case KTRACER_IOC_QUEUE:
		err = fake_queue(f, arg);
		break;
	default:
		err = -ENOTTY;
	}
	pthread_mutex_unlock(&f->lock);
	return err;
}

static void *fake_map(const struct ktl_sys *sys, size_t len, uint64_t offset,
		      int *err)
{
	struct fake *f = sys->ctx;
	struct fake_queue *fq;
	uint32_t id = (uint32_t)(offset >> 32);
	void *p = NULL;

	pthread_mutex_lock(&f->lock);
	*err = -EINVAL;
	if (id && id <= f->nqueues && !(offset & 0xffffffffu) &&
	    len == f->queues[id].map_size) {
		fq = &f->queues[id];
		fq->mapped = true;
		p = fq->q;
	}
	pthread_mutex_unlock(&f->lock);
	return p;
}

static void fake_unmap(const struct ktl_sys *sys, void *addr, size_t len)
{
	struct fake *f = sys->ctx;
	uint32_t id;

	pthread_mutex_lock(&f->lock);
	for (id = 1; id <= f->nqueues; id++)
		if (f->queues[id].q == addr && f->queues[id].map_size == len)
			f->queues[id].mapped = false;
	pthread_mutex_unlock(&f->lock);
}

void fake_attach(struct fake *f, struct ktracer *t, struct ktracer_state *state)
{
	memset(state, 0, sizeof(*state));
	state->magic = KTRACER_STATE_MAGIC;
	state->abi_major = KTRACER_ABI_MAJOR;
	state->abi_minor = KTRACER_ABI_MINOR;
	state->enabled = 1;
	t->state = state;
	t->enabled = &state->enabled;
	t->sys.ioctl = fake_ioctl;
	t->sys.map = fake_map;
	t->sys.unmap = fake_unmap;
	t->sys.ctx = f;
}

int fake_tracer(struct fake *f, const struct ktracer_lib_options *opts,
		struct ktracer **tp, struct ktracer_state *state)
{
	int err = ktl_tracer_new(opts, tp);

	if (!err)
		fake_attach(f, *tp, state);
	return err;
}
