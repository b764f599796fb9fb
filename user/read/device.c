// SPDX-License-Identifier: GPL-2.0
/* ktracer-read: opening and mapping /dev/ktracer, and its names. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "device.h"

#define KR_NAMES_BATCH	256	/* names one KTRACER_IOC_NAMES reads */

static const char *kr_open_hint(int err)
{
	switch (err) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
		return ": is ktracer.ko loaded? (insmod ktracer.ko)";
	case EACCES:
	case EPERM:
		return ": reading the buffers needs root or CAP_PERFMON";
	default:
		return "";
	}
}

int kr_device_open(struct kr_device *d, const char *path, char *err,
		   size_t errlen)
{
	struct ktracer_version v = { .size = sizeof(v) };
	const struct ktracer_state *st;
	long ps = sysconf(_SC_PAGESIZE);
	void *p;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	d->path = path;
	d->fd = open(path, O_RDWR | O_CLOEXEC);
	if (d->fd < 0) {
		snprintf(err, errlen, "%s: %s%s", path, strerror(errno),
			 kr_open_hint(errno));
		return -1;
	}
	if (ioctl(d->fd, KTRACER_IOC_VERSION, &v)) {
		snprintf(err, errlen, "%s: KTRACER_IOC_VERSION: %s%s", path,
			 strerror(errno),
			 errno == ENOTTY ? ": not a ktracer device" : "");
		goto fail;
	}
	d->abi_major = v.major;
	d->abi_minor = v.minor;
	if (v.major != KTRACER_ABI_MAJOR) {
		snprintf(err, errlen,
			 "%s speaks ABI %u.%u; this ktracer-read reads ABI %u.x",
			 path, v.major, v.minor, KTRACER_ABI_MAJOR);
		goto fail;
	}
	d->page_size = (size_t)(ps > 0 ? ps : 4096);
	p = mmap(NULL, d->page_size, PROT_READ, MAP_SHARED, d->fd, 0);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "%s: mapping the state page: %s", path,
			 strerror(errno));
		goto fail;
	}
	d->state = st = p;
	if (st->magic != KTRACER_STATE_MAGIC || st->abi_major != v.major ||
	    st->page_size != d->page_size || st->nr_cpus == 0 ||
	    st->nr_cpus > 65536 || st->data_size < KTRACER_BUFFER_MIN ||
	    st->data_size > KTRACER_BUFFER_MAX ||
	    (st->data_size & (st->data_size - 1)) ||
	    st->cpu_pages != 2 + st->data_size / d->page_size) {
		snprintf(err, errlen,
			 "%s: the state page is not what ABI %u.%u describes (magic %#llx, %u CPUs, page %u, data %llu, cpu_pages %u)",
			 path, v.major, v.minor,
			 (unsigned long long)st->magic, st->nr_cpus,
			 st->page_size, (unsigned long long)st->data_size,
			 st->cpu_pages);
		goto fail;
	}
	d->ncpu = st->nr_cpus;
	d->data_size = st->data_size;
	return 0;
fail:
	kr_device_close(d);
	return -1;
}

int kr_device_map(struct kr_device *d, struct kr_ring *rings, char *err,
		  size_t errlen)
{
	const struct ktracer_state *st = d->state;
	unsigned int cpu;
	off_t base = 0;
	void *p;

	d->map = calloc(d->ncpu, sizeof(*d->map));
	if (!d->map) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -1;
	}
	for (cpu = 0; cpu < d->ncpu; cpu++) {
		struct kr_cpu_map *c = &d->map[cpu];

		base = (off_t)(1 + (uint64_t)cpu * st->cpu_pages) *
		       (off_t)d->page_size;
		p = mmap(NULL, d->page_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, d->fd, base);
		if (p == MAP_FAILED)
			goto fail;
		c->reader = p;
		c->meta_len = (size_t)(st->cpu_pages - 1) * d->page_size;
		p = mmap(NULL, c->meta_len, PROT_READ, MAP_SHARED, d->fd,
			 base + (off_t)d->page_size);
		if (p == MAP_FAILED)
			goto fail;
		c->meta = p;
		if (((const struct ktracer_meta *)p)->magic != KTRACER_META_MAGIC ||
		    ((const struct ktracer_meta *)p)->data_size != d->data_size) {
			snprintf(err, errlen,
				 "%s: CPU %u's meta page is not what the ABI describes",
				 d->path, cpu);
			return -1;
		}
		kr_ring_init(&rings[cpu], cpu, c->reader, c->meta,
			     (const unsigned char *)p + d->page_size,
			     d->data_size);
	}
	return 0;
fail:
	snprintf(err, errlen, "%s: mapping CPU %u's buffer (offset %llu): %s%s",
		 d->path, cpu, (unsigned long long)base, strerror(errno),
		 errno == EPERM ? ": it needs root or CAP_PERFMON" :
		 errno == EBUSY ? ": another reader?" : "");
	return -1;
}

void kr_device_unmap(struct kr_device *d)
{
	unsigned int cpu;

	for (cpu = 0; d->map && cpu < d->ncpu; cpu++) {
		if (d->map[cpu].meta)
			munmap(d->map[cpu].meta, d->map[cpu].meta_len);
		if (d->map[cpu].reader)
			munmap(d->map[cpu].reader, d->page_size);
	}
	free(d->map);
	d->map = NULL;
}

void kr_device_close(struct kr_device *d)
{
	kr_device_unmap(d);
	if (d->state)
		munmap((void *)d->state, d->page_size);
	d->state = NULL;
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

char *kr_read_file(const char *path, size_t max, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = NULL, *nb;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	for (;;) {
		if (n + 1 >= cap || !buf) {
			if (buf)
				cap *= 2;
			if (cap > max + 1)
				cap = max + 1;
			nb = realloc(buf, cap);
			if (!nb)
				goto fail;
			buf = nb;
		}
		if (n + 1 >= cap) {
			errno = EFBIG;
			goto fail;
		}
		r = read(fd, buf + n, cap - 1 - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
fail:
	r = errno;
	free(buf);
	close(fd);
	errno = (int)r;
	return NULL;
}

int kr_load_names(struct kr_names *names, const char *path, char *err,
		  size_t errlen)
{
	size_t len;
	char *text = kr_read_file(path, 1 << 20, &len);

	if (!text) {
		snprintf(err, errlen, "%s: %s%s", path, strerror(errno),
			 errno == ENOENT ? " (is debugfs mounted?)" : "");
		return -1;
	}
	if (kr_names_parse(names, text, len) < 0) {
		snprintf(err, errlen, "%s: no \"%s\" header: not ktracer's events file",
			 path, KR_EVENTS_HEADER);
		free(text);
		return -1;
	}
	free(text);
	return 0;
}

/* The name table through KTRACER_IOC_NAMES (minor 3): 0, or an errno. */
static int kr_ioc_names(struct kr_device *d, struct kr_names *names)
{
	struct ktracer_name *buf = calloc(KR_NAMES_BATCH, sizeof(*buf));
	struct ktracer_names req = { .size = sizeof(req), .start = 1 };
	uint32_t i;
	int err = 0;

	if (!buf)
		return ENOMEM;
	do {
		req.count = KR_NAMES_BATCH;
		req.buf = (uintptr_t)buf;
		if (ioctl(d->fd, KTRACER_IOC_NAMES, &req)) {
			err = errno;
			break;
		}
		for (i = 0; i < req.count && i < KR_NAMES_BATCH; i++)
			kr_names_set(names, buf[i].id, buf[i].kind,
				     buf[i].slots, buf[i].name,
				     strnlen(buf[i].name, KTRACER_NAME_MAX));
	} while (req.start);
	free(buf);
	return err;
}

int kr_device_names(struct kr_device *d, struct kr_names *names,
		    const char *events, char *err, size_t errlen)
{
	int e;

	if (d->fd >= 0 && d->abi_minor >= 3) {
		e = kr_ioc_names(d, names);
		if (!e)
			return 0;
		if (e != ENOTTY && e != EINVAL) {
			snprintf(err, errlen, "%s: KTRACER_IOC_NAMES: %s%s",
				 d->path, strerror(e),
				 e == EPERM ? ": it needs root or CAP_PERFMON" : "");
			return -1;
		}
	}
	return kr_load_names(names, events, err, errlen);
}

int kr_proc_comm(uint32_t pid, uint32_t tid, char buf[KTRACER_COMM_MAX])
{
	char path[64], tmp[KTRACER_COMM_MAX + 2];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/task/%u/comm", pid, tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, tmp, sizeof(tmp));
	close(fd);
	if (n <= 0)
		return -1;
	if (tmp[n - 1] == '\n')
		n--;
	if (n > KTRACER_COMM_MAX)
		n = KTRACER_COMM_MAX;
	memcpy(buf, tmp, (size_t)n);
	return (int)n;
}
