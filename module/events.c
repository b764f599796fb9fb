// SPDX-License-Identifier: GPL-2.0
/*
 * The table of event names. A name belongs to the user who registered it
 * (the euid that opened the file): two users' "db.query" are two events
 * with two ids, so that nobody can take, fill or count into another
 * user's names. The kernel's own events, ids 1 to KTRACER_KEV_LAST, are
 * everybody's and never go away.
 *
 * Each name counts the open files that registered it. A name no file
 * uses is idle: it keeps its id (a reader names records after their
 * program exited) until its owner is at KTRACER_EVENTS_MAX names, or the
 * id space is full, and needs one: then the least recently idle name is
 * reclaimed. Ids are handed out cyclically, so a reclaimed id comes back
 * late.
 *
 * Registration takes kt_events_lock. Lookups by id are lock-free (an
 * xarray); entries are freed after an RCU grace period, and an entry a
 * file registered is not freed while that file is open.
 */

#include <linux/atomic.h>
#include <linux/cred.h>
#include <linux/hashtable.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/stringhash.h>
#include <linux/uaccess.h>
#include <linux/user_namespace.h>
#include <linux/xarray.h>

#include "ktracer.h"

static DEFINE_XARRAY_ALLOC1(kt_events_xa);	/* id -> struct kt_event */
static DEFINE_HASHTABLE(kt_names, 10);		/* (owner, name) -> entry */
static LIST_HEAD(kt_idle);			/* idle names, oldest first */
static u32 kt_next_id = KTRACER_KEV_LAST + 1;	/* xa_alloc_cyclic()'s */
static DEFINE_MUTEX(kt_events_lock);

/* How many names each user holds, for the quota. */
struct kt_owner {
	struct hlist_node node;
	kuid_t uid;
	u32 names;
};

static DEFINE_HASHTABLE(kt_owners, 6);

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

/* For walks under rcu_read_lock(), as debugfs "events". */
struct xarray *kt_event_xa(void)
{
	return &kt_events_xa;
}

/*
 * The entry of @id, or NULL. The caller holds rcu_read_lock(), or a
 * reference (it registered @id on an open file), or @id is the kernel's.
 */
struct kt_event *kt_event_get(u32 id)
{
	return xa_load(&kt_events_xa, id);
}

/* For tracepoints, which run under RCU (preemption disabled). */
const char *kt_event_name(u32 id)
{
	struct kt_event *ev = kt_event_get(id);

	return ev ? ev->name : "?";
}

static u32 kt_name_hash(kuid_t owner, const char *name)
{
	return full_name_hash((void *)(unsigned long)__kuid_val(owner), name,
			      strlen(name));
}

static struct kt_owner *kt_owner_find(kuid_t uid)
{
	struct kt_owner *o;

	hash_for_each_possible(kt_owners, o, node, __kuid_val(uid))
		if (uid_eq(o->uid, uid))
			return o;
	return NULL;
}

/* Forget an idle entry. Under kt_events_lock. */
static void kt_event_remove(struct kt_event *ev)
{
	struct kt_owner *o = kt_owner_find(ev->owner);

	xa_erase(&kt_events_xa, ev->id);
	hash_del(&ev->hnode);
	list_del(&ev->idle);
	if (o && !--o->names) {
		hash_del(&o->node);
		kfree(o);
	}
	/* Lock-free readers (kt_event_get()) may still look at it. */
	kfree_rcu(ev, rcu);
}

/* The oldest idle name, of @uid only if @mine. Under kt_events_lock. */
static struct kt_event *kt_idle_oldest(kuid_t uid, bool mine)
{
	struct kt_event *ev;

	list_for_each_entry(ev, &kt_idle, idle)
		if (!mine || uid_eq(ev->owner, uid))
			return ev;
	return NULL;
}

/*
 * Add @ev (all filled in but its id) for @o. Under kt_events_lock. Makes
 * room by reclaiming an idle name if the owner is at its quota or the id
 * space is full; -ENOSPC if there is none to reclaim.
 */
static int kt_event_insert(struct kt_event *ev, struct kt_owner *o)
{
	struct kt_event *old;
	int ret;

	/* Hold the place first, so that reclaiming cannot free @o. */
	if (++o->names > KTRACER_EVENTS_MAX) {
		old = kt_idle_oldest(o->uid, true);
		ret = -ENOSPC;
		if (!old)
			goto fail;
		kt_event_remove(old);
	}
	for (;;) {
		ret = xa_alloc_cyclic(&kt_events_xa, &ev->id, ev,
				      XA_LIMIT(KTRACER_KEV_LAST + 1,
					       KTRACER_EVENT_ID_MAX),
				      &kt_next_id, GFP_KERNEL_ACCOUNT);
		if (ret != -EBUSY)
			break;
		old = kt_idle_oldest(o->uid, false);
		ret = -ENOSPC;
		if (!old)
			goto fail;
		kt_event_remove(old);
	}
	if (ret < 0)
		goto fail;
	hash_add(kt_names, &ev->hnode, kt_name_hash(ev->owner, ev->name));
	INIT_LIST_HEAD(&ev->idle);
	return 0;
fail:
	o->names--;	/* not to 0 if @o is hashed: it had a name before */
	return ret;
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
	struct kt_event *ev;
	u32 i;
	int ret;

	static_assert(ARRAY_SIZE(kev) == KTRACER_KEV_LAST);
	for (i = 0; i < ARRAY_SIZE(kev); i++) {
		ev = kzalloc(sizeof(*ev), GFP_KERNEL);
		if (!ev)
			goto fail;
		strscpy(ev->name, kev[i].name, sizeof(ev->name));
		ev->kind = kev[i].kind;
		ev->slots = kev[i].slots;
		if (ev->kind == KTRACER_KIND_SPAN && !ev->slots)
			ev->slots = nr_cpu_ids;
		ev->id = i + 1;
		ev->owner = GLOBAL_ROOT_UID;
		ev->users = 1;		/* never idle */
		INIT_LIST_HEAD(&ev->idle);
		ret = xa_insert(&kt_events_xa, ev->id, ev, GFP_KERNEL);
		if (ret) {
			kfree(ev);
			goto fail;
		}
	}
	return 0;
fail:
	kt_events_exit();
	return -ENOMEM;
}

void kt_events_exit(void)
{
	struct kt_owner *o;
	struct hlist_node *tmp;
	struct kt_event *ev;
	unsigned long id;
	int bkt;

	xa_for_each(&kt_events_xa, id, ev)
		kfree(ev);
	xa_destroy(&kt_events_xa);
	hash_init(kt_names);
	hash_for_each_safe(kt_owners, bkt, tmp, o, node)
		kfree(o);
	hash_init(kt_owners);
	INIT_LIST_HEAD(&kt_idle);
}

static int kt_event_check(const char *name, u32 kind, u32 slots)
{
	size_t len = strnlen(name, KTRACER_NAME_MAX);
	u32 i;

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
	return 0;
}

/*
 * Find @owner's @name, or add it, and take a reference for one open file
 * (kt_event_put() drops it). @name is NUL-terminated within
 * KTRACER_NAME_MAX; checked here. On failure nothing is left: an entry
 * this call allocated is freed before the name is visible.
 */
int kt_event_register(kuid_t owner, const char *name, u32 kind, u32 slots,
		      struct kt_event **evp)
{
	struct kt_event *ev, *fresh;
	struct kt_owner *o, *fresh_o;
	u32 i;
	int ret;

	ret = kt_event_check(name, kind, slots);
	if (ret)
		return ret;
	for (i = 1; i <= KTRACER_KEV_LAST; i++)
		if (!strcmp(kt_event_get(i)->name, name))
			return -EEXIST;

	/* Everything a new name needs, before the lock. */
	fresh = kzalloc(sizeof(*fresh), GFP_KERNEL_ACCOUNT);
	fresh_o = kzalloc(sizeof(*fresh_o), GFP_KERNEL_ACCOUNT);
	if (!fresh || !fresh_o) {
		ret = -ENOMEM;
		goto out_free;
	}
	strscpy(fresh->name, name, sizeof(fresh->name));
	fresh->kind = kind;
	fresh->slots = slots;
	fresh->owner = owner;

	mutex_lock(&kt_events_lock);
	hash_for_each_possible(kt_names, ev, hnode, kt_name_hash(owner, name)) {
		if (!uid_eq(ev->owner, owner) || strcmp(ev->name, name))
			continue;
		/* Slot counts are each file's own: the kind is the name's. */
		ret = ev->kind == kind ? 0 : -EEXIST;
		if (!ret && !ev->users++)
			list_del_init(&ev->idle);	/* in use again */
		goto out_unlock;
	}
	o = kt_owner_find(owner);
	if (!o) {
		o = fresh_o;
		o->uid = owner;
	}
	ret = kt_event_insert(fresh, o);
	if (ret)
		goto out_unlock;
	if (o == fresh_o) {
		hash_add(kt_owners, &o->node, __kuid_val(owner));
		fresh_o = NULL;
	}
	fresh->users = 1;
	ev = fresh;
	fresh = NULL;
out_unlock:
	mutex_unlock(&kt_events_lock);
	if (!ret)
		*evp = ev;
out_free:
	kfree(fresh_o);
	kfree(fresh);
	return ret;
}

/* A file that registered @ev is closed: the name is idle if it was the last. */
void kt_event_put(struct kt_event *ev)
{
	mutex_lock(&kt_events_lock);
	if (!--ev->users)
		list_add_tail(&ev->idle, &kt_idle);
	mutex_unlock(&kt_events_lock);
}

/* Entries KTRACER_IOC_NAMES gathers under RCU before copying them out. */
#define KT_NAMES_CHUNK	16U

/*
 * Fill @out with up to @max entries from id *@id on, in id order, and
 * leave *@id at the id after the last one; returns how many.
 */
static u32 kt_names_gather(struct ktracer_name *out, u32 max,
			   unsigned long *id)
{
	struct user_namespace *ns = current_user_ns();
	struct kt_event *ev;
	u32 n = 0;

	rcu_read_lock();
	for (; n < max; n++) {
		ev = xa_find(&kt_events_xa, id, KTRACER_EVENT_ID_MAX,
			     XA_PRESENT);
		if (!ev)
			break;
		memset(&out[n], 0, sizeof(out[n]));
		out[n].id = *id;
		out[n].kind = ev->kind;
		out[n].slots = ev->slots;
		/* The kernel's own are everybody's: 0 in any namespace. */
		out[n].uid = *id <= KTRACER_KEV_LAST ? 0 :
			     from_kuid_munged(ns, ev->owner);
		strscpy(out[n].name, ev->name, sizeof(out[n].name));
		(*id)++;
	}
	rcu_read_unlock();
	return n;
}

/*
 * KTRACER_IOC_NAMES: the name table from n.start on, copied out a chunk
 * at a time (a name reclaimed meanwhile is simply not there, or there
 * with its new name, as debugfs "events" would show it).
 */
long kt_ioc_names(void __user *uarg)
{
	struct ktracer_name __user *ubuf;
	struct ktracer_names n;
	struct ktracer_name *chunk;
	unsigned long id;
	u32 done = 0, got;
	int ret;

	ret = kt_uarg_in(&n, sizeof(n), KTRACER_NAMES_SIZE_VER0, uarg);
	if (ret)
		return ret;
	if (n.flags || n.count > KTRACER_NAMES_MAX ||
	    n.start > KTRACER_EVENT_ID_MAX)
		return -EINVAL;
	chunk = kmalloc_array(KT_NAMES_CHUNK, sizeof(*chunk), GFP_KERNEL);
	if (!chunk)
		return -ENOMEM;
	ubuf = u64_to_user_ptr(n.buf);
	id = max(n.start, 1U);
	while (done < n.count) {
		got = kt_names_gather(chunk, min(n.count - done, KT_NAMES_CHUNK),
				      &id);
		if (!got)
			break;
		if (copy_to_user(ubuf + done, chunk, got * sizeof(*chunk))) {
			ret = -EFAULT;
			goto out;
		}
		done += got;
	}
	/* The next id there is, if any. */
	rcu_read_lock();
	n.start = xa_find(&kt_events_xa, &id, KTRACER_EVENT_ID_MAX,
			  XA_PRESENT) ? id : 0;
	rcu_read_unlock();
	n.count = done;
	ret = kt_uarg_out(uarg, &n, sizeof(n));
out:
	kfree(chunk);
	return ret;
}
