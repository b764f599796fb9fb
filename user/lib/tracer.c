// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A tracer: its options, its file and state page, its declared events,
 * its counters. The queues are in queue.c, the flush in flush.c.
 */

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "internal.h"

uint32_t ktl_queue_capacity(uint32_t max_queues)
{
	uint32_t share, cap = 1;

	if (max_queues == 0 || max_queues > KTRACER_BATCH_MAX)
		return 0;
	share = KTRACER_BATCH_MAX / max_queues;
	while (cap * 2 <= share)
		cap *= 2;
	return cap;
}

/*
 * Check @opts (NULL: the defaults) by the rules of the kernel's own
 * arguments, and fill @cfg.
 */
int ktl_config_init(struct ktl_config *cfg,
		    const struct ktracer_lib_options *opts)
{
	struct ktracer_lib_options o;
	const unsigned char *extra;
	size_t i;

	memset(&o, 0, sizeof(o));
	if (opts) {
		if (opts->size < KTRACER_LIB_OPTIONS_SIZE_VER0 ||
		    opts->size > KTL_OPTIONS_SIZE_MAX)
			return -EINVAL;
		/* A newer caller's options: fine while they ask for nothing. */
		extra = (const unsigned char *)opts;
		for (i = sizeof(o); i < opts->size; i++)
			if (extra[i])
				return -E2BIG;
		memcpy(&o, opts, opts->size < sizeof(o) ? opts->size : sizeof(o));
	}
	if (o.flags & ~(uint32_t)KTRACER_LIB_UNBATCHED)
		return -EINVAL;
	if (o.max_queues > KTRACER_BATCH_MAX)
		return -EINVAL;
	if (o.log_bytes && (o.log_bytes < KTRACER_LOG_MAX ||
			    o.log_bytes > KTRACER_LIB_LOG_BYTES_MAX))
		return -EINVAL;

	memset(cfg, 0, sizeof(*cfg));
	cfg->flags = o.flags;
	cfg->max_queues = o.max_queues ? o.max_queues :
			  KTRACER_LIB_QUEUES_DEFAULT;
	cfg->device = o.device ? o.device : KTRACER_DEVICE;
	if (cfg->flags & KTRACER_LIB_UNBATCHED)
		return 0;
	cfg->queue_cap = ktl_queue_capacity(cfg->max_queues);
	cfg->log_bytes = o.log_bytes;
	if (!cfg->log_bytes) {
		cfg->log_bytes = cfg->queue_cap * KTL_LOG_BYTES_PER_OP;
		if (cfg->log_bytes < KTRACER_LOG_MAX)
			cfg->log_bytes = KTRACER_LOG_MAX;
	}
	return 0;
}

/* ioctl(2) on the tracer's file. */
static int ktl_ioctl_dev(struct ktracer *t, unsigned long cmd, void *arg)
{
	return ioctl(t->fd, cmd, arg) ? -errno : 0;
}

/* A tracer with no file yet: everything but the device. */
int ktl_tracer_new(const struct ktl_config *cfg, struct ktracer **tp)
{
	struct ktracer *t;
	size_t size = (sizeof(*t) + KTL_CACHELINE - 1) & ~(size_t)(KTL_CACHELINE - 1);
	uint32_t i;
	int err;

	*tp = NULL;
	t = aligned_alloc(KTL_CACHELINE, size);
	if (!t)
		return -ENOMEM;
	memset(t, 0, sizeof(*t));
	t->fd = -1;
	t->cfg = *cfg;
	t->ioctl = ktl_ioctl_dev;
	t->gen = 1;	/* events start at 0: nothing copied yet */
	atomic_init(&t->flushing, 0);
	err = -pthread_mutex_init(&t->lock, NULL);
	if (err) {
		free(t);
		return err;
	}

	t->events = calloc(KTRACER_EVENT_ID_MAX + 1, sizeof(*t->events));
	t->queues = calloc(cfg->max_queues, sizeof(*t->queues));
	t->touched = calloc(KTRACER_EVENTS_MAX, sizeof(*t->touched));
	if (!(cfg->flags & KTRACER_LIB_UNBATCHED)) {
		t->heap = calloc(cfg->max_queues, sizeof(*t->heap));
		t->batch = calloc(KTRACER_BATCH_MAX, sizeof(*t->batch));
	}
	if (!t->events || !t->queues || !t->touched ||
	    (!(cfg->flags & KTRACER_LIB_UNBATCHED) && (!t->heap || !t->batch))) {
		ktl_tracer_free(t);
		return -ENOMEM;
	}
	for (i = 0; i <= KTRACER_EVENT_ID_MAX; i++)
		atomic_init(&t->events[i].kind, 0);
	*tp = t;
	return 0;
}

/*
 * Free @t, its queues and events; unmap the state page and close the
 * file if it has them. Returns close(2)'s error.
 */
int ktl_tracer_free(struct ktracer *t)
{
	uint32_t i;
	int err = 0;

	for (i = 0; t->queues && i < t->cfg.max_queues; i++)
		if (t->queues[i])
			ktl_queue_free(t->queues[i]);
	for (i = 0; t->events && i <= KTRACER_EVENT_ID_MAX; i++) {
		free(t->events[i].open);
		free(t->events[i].work);
	}
	if (t->state_len)
		munmap((void *)t->state, t->state_len);
	if (t->fd >= 0 && close(t->fd))
		err = -errno;
	pthread_mutex_destroy(&t->lock);
	free(t->events);
	free(t->queues);
	free(t->touched);
	free(t->heap);
	free(t->batch);
	free(t);
	return err;
}

/* Open the device, check its ABI, map its state page. */
static int ktl_attach(struct ktracer *t)
{
	struct ktracer_version v;
	const struct ktracer_state *st;
	long page = sysconf(_SC_PAGESIZE);
	int err;

	t->fd = open(t->cfg.device, O_RDWR | O_CLOEXEC);
	if (t->fd < 0)
		return -errno;
	memset(&v, 0, sizeof(v));
	v.size = sizeof(v);
	err = t->ioctl(t, KTRACER_IOC_VERSION, &v);
	if (err)
		return err;
	if (v.major != KTRACER_ABI_MAJOR)
		return -EPROTO;
	if (page <= 0)
		return -EINVAL;
	st = mmap(NULL, page, PROT_READ, MAP_SHARED, t->fd, 0);
	if (st == MAP_FAILED)
		return -errno;
	t->state = st;
	t->state_len = page;
	if (st->magic != KTRACER_STATE_MAGIC || st->abi_major != KTRACER_ABI_MAJOR)
		return -EPROTO;
	return 0;
}

KTL_EXPORT int ktracer_open(struct ktracer **tp,
			    const struct ktracer_lib_options *opts)
{
	struct ktl_config cfg;
	struct ktracer *t;
	int err;

	if (!tp)
		return -EINVAL;
	*tp = NULL;
	err = ktl_config_init(&cfg, opts);
	if (err)
		return err;
	err = ktl_tracer_new(&cfg, &t);
	if (err)
		return err;
	err = ktl_attach(t);
	if (err) {
		ktl_tracer_free(t);
		return err;
	}
	*tp = t;
	return 0;
}

KTL_EXPORT int ktracer_close(struct ktracer *t)
{
	int err, err2;

	if (!t)
		return 0;
	pthread_mutex_lock(&t->lock);
	err = ktl_flush_locked(t);
	pthread_mutex_unlock(&t->lock);
	err2 = ktl_tracer_free(t);
	return err ? err : err2;
}

/* Record the event the kernel registered as @id. Under t->lock. */
static int ktl_event_set(struct ktracer *t, uint32_t id, uint32_t kind,
			 uint32_t slots)
{
	struct ktl_event *ev;
	uint32_t words, old;

	/* Ids the kernel cannot give, or a name with two kinds. */
	if (id == 0 || id > KTRACER_EVENT_ID_MAX)
		return -EPROTO;
	ev = &t->events[id];
	old = atomic_load_explicit(&ev->kind, memory_order_relaxed);
	if (old)
		return old == kind && ev->slots == slots ? 0 : -EPROTO;
	if (kind == KTRACER_KIND_SPAN) {
		words = ktl_slot_words(slots);
		ev->open = calloc(words, sizeof(uint64_t));
		ev->work = calloc(words, sizeof(uint64_t));
		if (!ev->open || !ev->work) {
			free(ev->open);
			free(ev->work);
			ev->open = NULL;
			ev->work = NULL;
			return -ENOMEM;
		}
	}
	ev->slots = slots;
	ev->gen = 0;
	/* The rest first: ops check the kind with an acquire load. */
	atomic_store_explicit(&ev->kind, kind, memory_order_release);
	return 0;
}

KTL_EXPORT int ktracer_declare(struct ktracer *t, const char *name,
			       uint32_t kind, uint32_t slots, uint32_t *id)
{
	struct ktracer_register r;
	size_t len;
	int err;

	if (!t || !name || !id)
		return -EINVAL;
	len = strlen(name);
	if (len >= sizeof(r.name))
		return -ENAMETOOLONG;
	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	r.kind = kind;
	r.slots = slots;
	memcpy(r.name, name, len);

	pthread_mutex_lock(&t->lock);
	err = t->ioctl(t, KTRACER_IOC_REGISTER, &r);
	if (!err)
		err = ktl_event_set(t, r.id, kind, slots);
	pthread_mutex_unlock(&t->lock);
	if (!err)
		*id = r.id;
	return err;
}

/*
 * Count @count failed ops, @op the last of them (or the one that made
 * them fail), and remember @op and its error. Under t->lock.
 */
void ktl_fail_locked(struct ktracer *t, const struct ktracer_op *op, int err,
		     uint64_t count)
{
	t->stats.failed += count;
	t->stats.last_error = err;
	t->stats.last_op = op->op;
	t->stats.last_event = op->event;
	t->stats.last_slot = op->slot;
	t->stats.last_ts = op->ts;
}

KTL_EXPORT int ktracer_flush(struct ktracer *t)
{
	int err;

	if (!t)
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	err = ktl_flush_locked(t);
	pthread_mutex_unlock(&t->lock);
	return err;
}

KTL_EXPORT int ktracer_enabled(const struct ktracer *t)
{
	return t && __atomic_load_n(&t->state->enabled, __ATOMIC_RELAXED) ? 1 : 0;
}

KTL_EXPORT int ktracer_get_stats(struct ktracer *t,
				 struct ktracer_lib_stats *st)
{
	const struct ktracer_queue *q;
	uint32_t i;

	if (!t || !st)
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	*st = t->stats;
	for (i = 0; i < t->cfg.max_queues; i++) {
		q = t->queues[i];
		if (!q)
			continue;
		st->queued += atomic_load_explicit(&q->queued, memory_order_relaxed);
		st->applied += atomic_load_explicit(&q->applied, memory_order_relaxed);
		st->syscalls += atomic_load_explicit(&q->syscalls, memory_order_relaxed);
		/* No flush runs: what is in the ring is pending. */
		st->pending += atomic_load_explicit(&q->head, memory_order_acquire) -
			       atomic_load_explicit(&q->tail, memory_order_relaxed);
	}
	pthread_mutex_unlock(&t->lock);
	return 0;
}
