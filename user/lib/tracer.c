// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A tracer: its options, its file and state page, its declared events;
 * flushing, closing and the stats. The threads' queues are queue.c's,
 * the system calls sys.c's.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/*
 * Check @opts (NULL: the defaults) by the rules of the kernel's own
 * arguments, and fill @t's settings.
 */
int ktl_options(struct ktracer *t, const struct ktracer_lib_options *opts)
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
	if (o.ring_size && (o.ring_size < KTRACER_QUEUE_RING_MIN ||
			    o.ring_size > KTRACER_QUEUE_RING_MAX ||
			    (o.ring_size & (o.ring_size - 1))))
		return -EINVAL;
	if (o.interval_ms > KTRACER_QUEUE_INTERVAL_MAX)
		return -EINVAL;
	t->flags = o.flags;
	t->ring_size = o.ring_size ? o.ring_size : KTRACER_LIB_RING_DEFAULT;
	t->interval_ms = o.interval_ms;
	t->device = o.device ? o.device : KTRACER_DEVICE;
	return 0;
}

/*
 * A tracer with no file yet: its settings from @opts, its event table
 * and its threads' table.
 */
int ktl_tracer_new(const struct ktracer_lib_options *opts, struct ktracer **tp)
{
	struct ktracer *t;
	uint32_t i;
	int err;

	*tp = NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	ktl_sys_init(&t->sys);
	err = ktl_options(t, opts);
	if (err) {
		free(t);
		return err;
	}
	err = -pthread_mutex_init(&t->lock, NULL);
	if (err) {
		free(t);
		return err;
	}
	t->events = calloc(KTRACER_EVENT_ID_MAX + 1, sizeof(*t->events));
	if (!t->events) {
		ktl_tracer_free(t);
		return -ENOMEM;
	}
	for (i = 0; i <= KTRACER_EVENT_ID_MAX; i++)
		atomic_init(&t->events[i], 0);
	t->id = ktl_sys_random() | 1;
	err = ktl_threads_init(t);
	if (err) {
		ktl_tracer_free(t);
		return err;
	}
	*tp = t;
	return 0;
}

/*
 * Free @t: its queues and tables, its state page and file. In a child of
 * fork() only what the child has: no queue is mapped there, and the
 * mutex may be held by a thread that did not fork. Returns close(2)'s
 * error.
 */
int ktl_tracer_free(struct ktracer *t)
{
	bool live = ktl_threads_live(t);
	int err;

	ktl_threads_fini(t);
	if (t->state_len)
		t->sys.unmap(&t->sys, (void *)t->state, t->state_len);
	err = ktl_sys_close(&t->sys);
	if (live)
		pthread_mutex_destroy(&t->lock);
	free(t->events);
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

	err = ktl_sys_open(&t->sys, t->device);
	if (err)
		return err;
	memset(&v, 0, sizeof(v));
	v.size = sizeof(v);
	err = t->sys.ioctl(&t->sys, KTRACER_IOC_VERSION, &v);
	if (err)
		return err;
	/* Queues and the op flags came with minor 1. */
	if (v.major != KTRACER_ABI_MAJOR || v.minor < 1)
		return -EPROTO;
	if (page <= 0)
		return -EINVAL;
	st = ktl_sys_map_state(&t->sys, (size_t)page, &err);
	if (!st)
		return err;
	t->state = st;
	t->state_len = (size_t)page;
	if (st->magic != KTRACER_STATE_MAGIC || st->abi_major != KTRACER_ABI_MAJOR)
		return -EPROTO;
	t->enabled = &st->enabled;
	if (t->interval_ms && !(t->flags & KTRACER_LIB_UNBATCHED))
		return ktl_sys_flush(&t->sys, KTRACER_FLUSH_INTERVAL,
				     t->interval_ms);
	return 0;
}

KTL_EXPORT int ktracer_open(struct ktracer **tp,
			    const struct ktracer_lib_options *opts)
{
	struct ktracer *t;
	int err;

	if (!tp)
		return -EINVAL;
	err = ktl_tracer_new(opts, &t);
	if (err) {
		*tp = NULL;
		return err;
	}
	err = ktl_attach(t);
	if (err) {
		ktl_tracer_free(t);
		t = NULL;
	}
	*tp = t;
	return err;
}

/* KTRACER_IOC_FLUSH, waiting for a drain under way; again if a signal came. */
static int ktl_flush_wait(struct ktracer *t)
{
	int err;

	if (t->flags & KTRACER_LIB_UNBATCHED)
		return 0;
	do
		err = ktl_sys_flush(&t->sys, KTRACER_FLUSH_WAIT, 0);
	while (err == -EINTR);
	return err;
}

KTL_EXPORT int ktracer_close(struct ktracer *t)
{
	int err = 0, err2;

	if (!t)
		return 0;
	if (ktl_threads_live(t))
		err = ktl_flush_wait(t);
	err2 = ktl_tracer_free(t);
	return err ? err : err2;
}

KTL_EXPORT int ktracer_flush(struct ktracer *t)
{
	if (!t)
		return -EINVAL;
	if (!ktl_threads_live(t))
		return -ECHILD;
	return ktl_flush_wait(t);
}

KTL_EXPORT int ktracer_declare(struct ktracer *t, const char *name,
			       uint32_t kind, uint32_t slots, uint32_t *id)
{
	struct ktracer_register r;
	size_t len;
	int err;

	if (id)
		*id = 0;
	if (!t || !name || !id)
		return -EINVAL;
	if (!ktl_threads_live(t))
		return -ECHILD;
	if (kind == KTRACER_KIND_SPAN && slots == 0)
		slots = KTRACER_LIB_SLOTS_DEFAULT;
	len = strlen(name);
	if (len >= sizeof(r.name))
		return -ENAMETOOLONG;
	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	r.kind = kind;
	r.slots = slots;
	memcpy(r.name, name, len);
	err = t->sys.ioctl(&t->sys, KTRACER_IOC_REGISTER, &r);
	if (err)
		return err;
	/* Ids the kernel cannot give. */
	if (r.id == 0 || r.id > KTRACER_EVENT_ID_MAX)
		return -EPROTO;
	/* The slots with the kind: ktl_check()'s acquire pairs with it. */
	atomic_store_explicit(&t->events[r.id],
			      kind | slots << KTL_EV_SLOTS_SHIFT,
			      memory_order_release);
	*id = r.id;
	return 0;
}

KTL_EXPORT int ktracer_enabled(const struct ktracer *t)
{
	return t && __atomic_load_n(t->enabled, __ATOMIC_RELAXED) ? 1 : 0;
}

KTL_EXPORT int ktracer_get_stats(struct ktracer *t,
				 struct ktracer_lib_stats *st)
{
	if (!t || !st)
		return -EINVAL;
	if (!ktl_threads_live(t))
		return -ECHILD;
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&t->lock);
	ktl_threads_stats(t, st);
	pthread_mutex_unlock(&t->lock);
	return 0;
}
