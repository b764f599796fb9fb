/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktracer-read: the device. Opening /dev/ktracer, checking its ABI,
 * mapping the state page and every CPU's buffer (see "mmap" in
 * uapi/linux/ktracer.h), and reading the names the records refer to:
 * KTRACER_IOC_NAMES or debugfs "events" for event ids, /proc for
 * threads' comms.
 */
#ifndef KR_DEVICE_H
#define KR_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "names.h"
#include "ring.h"

struct kr_cpu_map {
	void *reader;		/* one page, read-write */
	void *meta;		/* meta page and data, read-only */
	size_t meta_len;
};

struct kr_device {
	int fd;
	const char *path;
	uint32_t abi_major, abi_minor;
	const struct ktracer_state *state;
	size_t page_size;
	unsigned int ncpu;
	uint64_t data_size;
	struct kr_cpu_map *map;	/* ncpu of them, once mapped */
};

/*
 * Open @path, check its ABI and map its state page. 0, or -1 with what
 * went wrong in @err (a sentence naming the cause).
 */
int kr_device_open(struct kr_device *d, const char *path, char *err,
		   size_t errlen);
/* Map every CPU's buffer into @rings (ncpu of them); as above. */
int kr_device_map(struct kr_device *d, struct kr_ring *rings, char *err,
		  size_t errlen);
/* Unmap the buffers, keep the device open. */
void kr_device_unmap(struct kr_device *d);
void kr_device_close(struct kr_device *d);
/*
 * The name table into @names: KTRACER_IOC_NAMES on a module of minor 3 or
 * later, else (or if it is refused as unknown) the events file @events.
 * 0, or -1 with @err set.
 */
int kr_device_names(struct kr_device *d, struct kr_names *names,
		    const char *events, char *err, size_t errlen);

/* A whole (small) file into a new NUL-terminated buffer; NULL, errno set. */
char *kr_read_file(const char *path, size_t max, size_t *len);
/* The events file @path into @names: 0, or -1 with @err set. */
int kr_load_names(struct kr_names *names, const char *path, char *err,
		  size_t errlen);
/* /proc/PID/task/TID/comm into @buf: its length, or -1. */
int kr_proc_comm(uint32_t pid, uint32_t tid, char buf[KTRACER_COMM_MAX]);

#endif /* KR_DEVICE_H */
