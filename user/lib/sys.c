// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The library's lowest layer: the system calls on the tracer's file,
 * each struct filled as uapi/linux/ktracer.h says. Nothing here knows
 * about threads or tracers.
 */

#define _DEFAULT_SOURCE	/* MAP_ANONYMOUS, MADV_WIPEONFORK */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/random.h>

#include "internal.h"

static int ktl_sys_ioctl(const struct ktl_sys *sys, unsigned long cmd,
			 void *arg)
{
	return ioctl(sys->fd, cmd, arg) ? -errno : 0;
}

static void *ktl_sys_map(const struct ktl_sys *sys, size_t len,
			 uint64_t offset, int *err)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, sys->fd,
		       (off_t)offset);

	if (p == MAP_FAILED) {
		*err = -errno;
		return NULL;
	}
	return p;
}

static void ktl_sys_unmap(const struct ktl_sys *sys, void *addr, size_t len)
{
	(void)sys;
	munmap(addr, len);
}

void ktl_sys_init(struct ktl_sys *sys)
{
	memset(sys, 0, sizeof(*sys));
	sys->fd = -1;
	sys->ioctl = ktl_sys_ioctl;
	sys->map = ktl_sys_map;
	sys->unmap = ktl_sys_unmap;
}

int ktl_sys_open(struct ktl_sys *sys, const char *device)
{
	sys->fd = open(device, O_RDWR | O_CLOEXEC);
	return sys->fd < 0 ? -errno : 0;
}

int ktl_sys_close(struct ktl_sys *sys)
{
	int fd = sys->fd;

	sys->fd = -1;
	return fd >= 0 && close(fd) ? -errno : 0;
}

/* KTRACER_IOC_FLUSH: KTRACER_FLUSH_WAIT, _INTERVAL or neither. */
int ktl_sys_flush(const struct ktl_sys *sys, uint32_t flags,
		  uint32_t interval_ms)
{
	struct ktracer_flush f;

	memset(&f, 0, sizeof(f));
	f.size = sizeof(f);
	f.flags = flags;
	f.interval_ms = interval_ms;
	return sys->ioctl(sys, KTRACER_IOC_FLUSH, &f);
}

/* KTRACER_IOC_OP, at the time the call begins (ts 0). */
int ktl_sys_op(const struct ktl_sys *sys, uint16_t opcode, uint16_t flags,
	       uint32_t event, uint32_t slot, uint64_t value, const void *data,
	       uint32_t len)
{
	struct ktracer_op op;

	memset(&op, 0, sizeof(op));
	op.size = sizeof(op);
	op.op = opcode;
	op.flags = flags;
	op.event = event;
	op.slot = slot;
	op.value = value;
	op.len = len;
	if (opcode == KTRACER_OP_LOG)
		op.value = (uintptr_t)data;
	else if (len)
		op.text = (uintptr_t)data;
	return sys->ioctl(sys, KTRACER_IOC_OP, &op);
}

/*
 * KTRACER_IOC_QUEUE: create a queue of @ring_size bytes (@flags 0) or
 * adopt queue @id (KTRACER_QUEUE_ADOPT); @out gets what the kernel said.
 */
int ktl_sys_queue(const struct ktl_sys *sys, uint32_t flags, uint32_t id,
		  uint32_t ring_size, struct ktracer_queue *out)
{
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	out->flags = flags;
	out->id = id;
	out->ring_size = ring_size;
	return sys->ioctl(sys, KTRACER_IOC_QUEUE, out);
}

/* The state page, read-only. */
const void *ktl_sys_map_state(const struct ktl_sys *sys, size_t len, int *err)
{
	void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, sys->fd, 0);

	if (p == MAP_FAILED) {
		*err = -errno;
		return NULL;
	}
	return p;
}

/*
 * Zeroed private memory that a child of fork() reads as zeros again
 * (MADV_WIPEONFORK, Linux 4.14).
 */
void *ktl_sys_alloc_wiped(size_t len, int *err)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		*err = -errno;
		return NULL;
	}
	if (madvise(p, len, MADV_WIPEONFORK)) {
		*err = -errno;
		munmap(p, len);
		return NULL;
	}
	return p;
}

void ktl_sys_free(void *addr, size_t len)
{
	munmap(addr, len);
}

/*
 * 64 random bits (a tracer's id). Without getrandom(2), the clock and an
 * address mixed: ids need only differ between the tracers of a process.
 */
uint64_t ktl_sys_random(void)
{
	struct timespec ts;
	uint64_t r;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) == sizeof(r))
		return r;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	r = (uint64_t)ts.tv_sec * KTL_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
	return (r ^ (uintptr_t)&ts) * 0x9e3779b97f4a7c15ULL;
}
