/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A program's side of a ktracer queue, written as the header describes
 * it, with plain stores and no library: create (or adopt) a queue, map
 * it, write entries, publish the head. For the kselftests.
 */
#ifndef KT_QUEUE_H
#define KT_QUEUE_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/ktracer.h>

struct kt_q {
	struct ktracer_queue info;	/* as QUEUE reported it */
	struct ktracer_qring *qr;	/* the mapping */
	uint8_t *ring;
	uint64_t head;			/* written, maybe not published */
};

/* KTRACER_IOC_QUEUE with these inputs; *@out as the call left it. */
static inline int kt_queue_ioc(int fd, uint32_t flags, uint32_t id,
			       uint32_t ring_size, struct ktracer_queue *out)
{
	struct ktracer_queue a;
	int ret;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.flags = flags;
	a.id = id;
	a.ring_size = ring_size;
	ret = ioctl(fd, KTRACER_IOC_QUEUE, &a) ? -errno : 0;
	if (out)
		*out = a;
	return ret;
}

/*
 * The x86 TSC, as a program of a KTRACER_QUEUE_TSC queue reads it: the
 * lfence keeps rdtsc from being done before the instructions before it.
 */
#if defined(__x86_64__) || defined(__i386__)
#define KT_HAVE_TSC	1
static inline uint64_t kt_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("lfence; rdtsc" : "=a" (lo), "=d" (hi) : : "memory");
	return (uint64_t)hi << 32 | lo;
}
#else
#define KT_HAVE_TSC	0
static inline uint64_t kt_rdtsc(void)
{
	return 0;
}
#endif

/* Map the queue @q->info describes. */
static inline int kt_q_map(int fd, struct kt_q *q)
{
	void *p = mmap(NULL, q->info.map_size, PROT_READ | PROT_WRITE,
		       MAP_SHARED, fd, q->info.offset);

	if (p == MAP_FAILED)
		return -errno;
	q->qr = p;
	q->ring = (uint8_t *)p + (q->info.map_size - q->info.ring_size);
	q->head = __atomic_load_n(&q->qr->head, __ATOMIC_RELAXED);
	return 0;
}

/* A new queue of @ring_size bytes for the calling thread, mapped. */
static inline int kt_q_create(int fd, uint32_t ring_size, struct kt_q *q)
{
	int ret;

	memset(q, 0, sizeof(*q));
	ret = kt_queue_ioc(fd, 0, 0, ring_size, &q->info);
	return ret ? ret : kt_q_map(fd, q);
}

/* As kt_q_create(), with KTRACER_IOC_QUEUE's @flags. */
static inline int kt_q_create_flags(int fd, uint32_t flags, uint32_t ring_size,
				    struct kt_q *q)
{
	int ret;

	memset(q, 0, sizeof(*q));
	ret = kt_queue_ioc(fd, flags, 0, ring_size, &q->info);
	return ret ? ret : kt_q_map(fd, q);
}

static inline void kt_q_unmap(struct kt_q *q)
{
	if (q->qr)
		munmap(q->qr, q->info.map_size);
	q->qr = NULL;
}

/*
 * Write one entry (and @len inline bytes at @bytes, if @bytes) at the
 * head, without publishing it. A full queue counts the op in "dropped"
 * and returns -ENOSPC: it never waits.
 */
static inline int kt_q_put(struct kt_q *q, uint16_t op, uint16_t flags,
			   uint32_t event, uint32_t slot, uint64_t value,
			   uint64_t ts, const void *bytes, uint32_t len)
{
	uint64_t size = KTRACER_QENTRY_SIZE, rs = q->info.ring_size, off, pad;
	/* [Q1]: the kernel is done with what is before the tail. */
	uint64_t tail = __atomic_load_n(&q->qr->tail, __ATOMIC_ACQUIRE);
	struct ktracer_qentry *e;

	if (bytes)
		size += (len + KTRACER_QENTRY_SIZE - 1) &
			~(uint64_t)(KTRACER_QENTRY_SIZE - 1);
	off = q->head & (rs - 1);
	pad = off + size > rs ? rs - off : 0;
	if (q->head + pad + size - tail > rs) {
		__atomic_store_n(&q->qr->dropped, q->qr->dropped + 1,
				 __ATOMIC_RELAXED);
		return -ENOSPC;
	}
	if (pad) {
		memset(q->ring + off, 0, KTRACER_QENTRY_SIZE);
		q->head += pad;
		off = 0;
	}
	e = (struct ktracer_qentry *)(q->ring + off);
	e->op = op;
	e->flags = flags;
	e->event = event;
	e->slot = slot;
	e->len = len;
	e->value = value;
	e->ts = ts;
	if (bytes)
		memcpy(e + 1, bytes, len);
	q->head += size;
	return 0;
}

/* [Q2]: publish what was written; pairs with the kernel's [Q3]. */
static inline void kt_q_publish(struct kt_q *q)
{
	__atomic_store_n(&q->qr->head, q->head, __ATOMIC_RELEASE);
}

/* KTRACER_IOC_FLUSH; *@out as the call left it. */
static inline int kt_flush(int fd, uint32_t flags, uint32_t interval_ms,
			   struct ktracer_flush *out)
{
	struct ktracer_flush f;
	int ret;

	memset(&f, 0, sizeof(f));
	f.size = sizeof(f);
	f.flags = flags;
	f.interval_ms = interval_ms;
	ret = ioctl(fd, KTRACER_IOC_FLUSH, &f) ? -errno : 0;
	if (out)
		*out = f;
	return ret;
}

#endif /* KT_QUEUE_H */
