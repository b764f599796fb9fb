// SPDX-License-Identifier: GPL-2.0
/*
 * The table of event names, one for the whole system (as Go's tracer
 * interns its strings): a name is registered once and keeps its id until
 * the module is unloaded. Registration takes a mutex; lookups by id are
 * lock-free, entries being published before the count that covers them.
 */

#include <linux/atomic.h>
#include <linux/mutex.h>
#include <linux/string.h>

#include "ktracer.h"

static struct kt_event kt_events[KTRACER_EVENTS_MAX + 1];	/* [0] unused */
static u32 kt_nr_events;
static DEFINE_MUTEX(kt_events_lock);

static const char *const kt_kinds[] = {
	[KTRACER_KIND_SPAN]	= "span",
	[KTRACER_KIND_GAUGE]	= "gauge",
	[KTRACER_KIND_COUNTER]	= "counter",
	[KTRACER_KIND_LOG]	= "log",
};

const char *kt_kind_name(u32 kind)
{
	return kind < ARRAY_SIZE(kt_kinds) && kt_kinds[kind] ? kt_kinds[kind] : "?";
}

u32 kt_event_count(void)
{
	/* Pairs with the smp_store_release() in kt_event_register(). */
	return smp_load_acquire(&kt_nr_events);
}

struct kt_event *kt_event_get(u32 id)
{
	/* Pairs with the smp_store_release() in kt_event_register(). */
	if (id == 0 || id > smp_load_acquire(&kt_nr_events))
		return NULL;
	return &kt_events[id];
}

const char *kt_event_name(u32 id)
{
	struct kt_event *ev = kt_event_get(id);

	return ev ? ev->name : "?";
}

/*
 * Find @name or add it; its id in *@id. Under kt_events_lock. A name of
 * the kernel's own events is taken whatever the kind (-EEXIST), unless
 * the kernel itself registers it, at load.
 */
static int kt_event_add(const char *name, u32 kind, u32 slots, bool kernel,
			u32 *id)
{
	struct kt_event *ev;
	u32 i, n = kt_nr_events;

	for (i = 1; i <= n; i++) {
		ev = &kt_events[i];
		if (strcmp(ev->name, name))
			continue;
		*id = i;
		if (i <= KTRACER_KEV_LAST && !kernel)
			return -EEXIST;
		return ev->kind == kind && ev->slots == slots ? 0 : -EEXIST;
	}
	if (n == KTRACER_EVENTS_MAX)
		return -ENOSPC;
	ev = &kt_events[n + 1];
	strscpy(ev->name, name, sizeof(ev->name));
	ev->kind = kind;
	ev->slots = slots;
	atomic64_set(&ev->total, 0);
	/* The entry before the count; pairs with kt_event_get()'s acquire. */
	smp_store_release(&kt_nr_events, n + 1);
	*id = n + 1;
	return 0;
}

/* The kernel's events, ids 1 to KTRACER_KEV_LAST, in id order. */
int kt_events_init(void)
{
	static const struct {
		const char *name;
		u32 kind;
		u32 slots;	/* 0 for spans: one per CPU */
	} kev[] = {
		{ "sched.running", KTRACER_KIND_SPAN, 0 },
		{ "sched.wakeup", KTRACER_KIND_LOG, 0 },
		{ "task.fork", KTRACER_KIND_LOG, 0 },
		{ "task.exec", KTRACER_KIND_LOG, 0 },
		{ "task.exit", KTRACER_KIND_LOG, 0 },
		{ "irq", KTRACER_KIND_SPAN, 0 },
		{ "softirq", KTRACER_KIND_SPAN, 0 },
		{ "syscall", KTRACER_KIND_SPAN, 1 },
		{ "block.rq", KTRACER_KIND_SPAN, KTRACER_BLOCK_INFLIGHT },
	};
	u32 i, id, slots;
	int ret = 0;

	static_assert(ARRAY_SIZE(kev) == KTRACER_KEV_LAST);
	mutex_lock(&kt_events_lock);
	for (i = 0; i < ARRAY_SIZE(kev) && !ret; i++) {
		slots = kev[i].slots;
		if (kev[i].kind == KTRACER_KIND_SPAN && !slots)
			slots = nr_cpu_ids;
		ret = kt_event_add(kev[i].name, kev[i].kind, slots, true, &id);
		if (!ret && WARN_ON_ONCE(id != i + 1))
			ret = -EINVAL;
	}
	mutex_unlock(&kt_events_lock);
	return ret;
}

/* @name is NUL-terminated within KTRACER_NAME_MAX; checked here. */
int kt_event_register(const char *name, u32 kind, u32 slots, u32 *id)
{
	size_t len = strnlen(name, KTRACER_NAME_MAX);
	u32 i;
	int ret;

	if (len == KTRACER_NAME_MAX)
		return -ENAMETOOLONG;
	if (len == 0)
		return -EINVAL;
	for (i = 0; i < len; i++)
		if ((u8)name[i] < 0x20 || (u8)name[i] > 0x7e)
			return -EINVAL;
	if (kind < KTRACER_KIND_SPAN || kind > KTRACER_KIND_LOG)
		return -EINVAL;
	if (kind == KTRACER_KIND_SPAN ? slots < 1 || slots > KTRACER_SLOTS_MAX
				      : slots != 0)
		return -EINVAL;

	mutex_lock(&kt_events_lock);
	ret = kt_event_add(name, kind, slots, false, id);
	mutex_unlock(&kt_events_lock);
	return ret;
}
