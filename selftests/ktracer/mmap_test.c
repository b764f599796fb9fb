// SPDX-License-Identifier: GPL-2.0
/*
 * The mmap layout (state page, then each CPU's reader page, meta page and
 * data), its errors, the fields of the state and meta pages, poll(), and
 * the controls that change the buffers: KTRACER_IOC_CONFIG,
 * KTRACER_IOC_RESET and their debugfs files; mappings that user space
 * zaps (MADV_DONTNEED), forks, moves or splits.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "kt_test.h"
#include "kt_ring.h"
#include "kt_seq.h"

#define MAX_MAPS 16

FIXTURE(map) {
	int fd;
	long ps;
	int nr;
	uint32_t cp;		/* cpu_pages */
	const struct ktracer_state *st;
	void *map[MAX_MAPS];
	size_t len[MAX_MAPS];
};

FIXTURE_SETUP(map)
{
	self->fd = kt_open();
	ASSERT_LE(0, self->fd) TH_LOG("open: %s", strerror(-self->fd));
	self->ps = sysconf(_SC_PAGESIZE);
	self->st = kt_map_state(self->fd);
	ASSERT_NE(MAP_FAILED, self->st) TH_LOG("state page: %s",
					       strerror(errno));
	ASSERT_EQ(KTRACER_STATE_MAGIC, self->st->magic);
	self->nr = self->st->nr_cpus;
	self->cp = self->st->cpu_pages;
}

static void unmap_all(FIXTURE_DATA(map) *self)
{
	int i;

	for (i = 0; i < MAX_MAPS; i++) {
		if (self->map[i])
			munmap(self->map[i], self->len[i]);
		self->map[i] = NULL;
	}
}

FIXTURE_TEARDOWN(map)
{
	unmap_all(self);
	if (self->st != MAP_FAILED)
		kt_unmap_state(self->st);
	if (self->fd >= 0) {
		EXPECT_EQ(0, kt_restore_defaults(self->fd));
		close(self->fd);
	}
}

/* mmap @npages pages at page offset @page; unmapped in teardown. */
static void *map_pages(FIXTURE_DATA(map) *self, uint64_t page,
		       uint64_t npages, int prot, int flags)
{
	void *p = mmap(NULL, npages * self->ps, prot, flags, self->fd,
		       page * self->ps);
	int i;

	if (p == MAP_FAILED)
		return p;
	for (i = 0; i < MAX_MAPS; i++) {
		if (!self->map[i]) {
			self->map[i] = p;
			self->len[i] = npages * self->ps;
			return p;
		}
	}
	munmap(p, npages * self->ps);
	errno = ENFILE;
	return MAP_FAILED;
}

/* First page of CPU @cpu's buffer: its reader page. */
static uint64_t cpu_page(FIXTURE_DATA(map) *self, int cpu)
{
	return 1 + (uint64_t)cpu * self->cp;
}

#define ASSERT_MAP_ERRNO(err, page, npages, prot, flags) do {		\
	void *__p;							\
	errno = 0;							\
	__p = map_pages(self, page, npages, prot, flags);		\
	ASSERT_EQ(MAP_FAILED, __p) TH_LOG("mmap(%s, %s) at page %llu "	\
		"x %llu succeeded", #prot, #flags,			\
		(unsigned long long)(page), (unsigned long long)(npages));	\
	ASSERT_EQ(err, errno) TH_LOG("mmap(%s, %s) at page %llu x %llu: "	\
		"want %s, got %s", #prot, #flags,			\
		(unsigned long long)(page), (unsigned long long)(npages),	\
		strerror(err), strerror(errno));			\
} while (0)

/* The module's defaults, as every test finds them. */
TEST_F(map, state_page)
{
	const struct ktracer_state *st = self->st;
	char text[32];

	EXPECT_EQ(KTRACER_STATE_MAGIC, st->magic);
	EXPECT_EQ(KTRACER_ABI_MAJOR, st->abi_major);
	EXPECT_EQ(KTRACER_ABI_MINOR, st->abi_minor);
	EXPECT_EQ(1, st->enabled);
	EXPECT_EQ(KTRACER_MODE_DISCARD, st->mode);
	EXPECT_LE(2, st->nr_cpus);
	EXPECT_EQ(kt_nr_cpus(), st->nr_cpus);
	EXPECT_EQ(self->ps, st->page_size);
	EXPECT_EQ(KT_DEFAULT_BUFFER, st->data_size);
	EXPECT_EQ(2 + st->data_size / st->page_size, st->cpu_pages);
	EXPECT_EQ(0, st->__reserved);

	/* debugfs agrees. */
	ASSERT_EQ(0, kt_read_text(KT_DEBUGFS "/enable", text, sizeof(text)));
	EXPECT_STREQ("1", text);
	ASSERT_EQ(0, kt_read_text(KT_DEBUGFS "/mode", text, sizeof(text)));
	EXPECT_STREQ("discard", text);
	ASSERT_EQ(0, kt_read_text(KT_DEBUGFS "/buffer_size_kb", text,
				  sizeof(text)));
	EXPECT_STREQ("512", text);
}

TEST_F(map, state_page_write_eperm)
{
	ASSERT_MAP_ERRNO(EPERM, 0, 1, PROT_WRITE, MAP_SHARED);
	ASSERT_MAP_ERRNO(EPERM, 0, 1, PROT_READ | PROT_WRITE, MAP_SHARED);
}

TEST_F(map, map_private_einval)
{
	ASSERT_MAP_ERRNO(EINVAL, 0, 1, PROT_READ, MAP_PRIVATE);
	ASSERT_MAP_ERRNO(EINVAL, cpu_page(self, 0), 1, PROT_READ,
			 MAP_PRIVATE);
	ASSERT_MAP_ERRNO(EINVAL, cpu_page(self, 1) + 1, 1, PROT_READ,
			 MAP_PRIVATE);
	ASSERT_MAP_ERRNO(EINVAL, cpu_page(self, 1) + 2, self->cp - 2,
			 PROT_READ, MAP_PRIVATE);
}

TEST_F(map, past_the_end_einval)
{
	uint64_t end = cpu_page(self, self->nr);

	ASSERT_MAP_ERRNO(EINVAL, end, 1, PROT_READ, MAP_SHARED);
	ASSERT_MAP_ERRNO(EINVAL, end + 1000, 1, PROT_READ, MAP_SHARED);
	ASSERT_MAP_ERRNO(EINVAL, 1ULL << 30, 1, PROT_READ, MAP_SHARED);
	/* The last CPU's data, one page too long. */
	ASSERT_MAP_ERRNO(EINVAL, cpu_page(self, self->nr - 1) + 2,
			 self->cp - 1, PROT_READ, MAP_SHARED);
	/* Exactly to the end is fine. */
	ASSERT_NE(MAP_FAILED, map_pages(self, cpu_page(self, self->nr - 1) + 2,
					self->cp - 2, PROT_READ, MAP_SHARED));
}

TEST_F(map, across_areas_einval)
{
	/* The state page and CPU 0's reader page. */
	ASSERT_MAP_ERRNO(EINVAL, 0, 2, PROT_READ, MAP_SHARED);
	/* CPU 0's last data page and CPU 1's reader page. */
	ASSERT_MAP_ERRNO(EINVAL, cpu_page(self, 1) - 1, 2, PROT_READ,
			 MAP_SHARED);
	/* All of CPU 0 and one page of CPU 1. */
	ASSERT_MAP_ERRNO(EINVAL, cpu_page(self, 0), self->cp + 1, PROT_READ,
			 MAP_SHARED);
	/* The reader page alone, writable, stops at the reader page. */
	ASSERT_MAP_ERRNO(EPERM, cpu_page(self, 0), 2, PROT_READ | PROT_WRITE,
			 MAP_SHARED);
}

/* A whole CPU's buffer is one area: it maps read-only in one go. */
TEST_F(map, whole_buffer_readonly)
{
	const unsigned char *p;
	const struct ktracer_meta *meta;
	int cpu;

	for (cpu = 0; cpu < self->nr; cpu++) {
		p = map_pages(self, cpu_page(self, cpu), self->cp, PROT_READ,
			      MAP_SHARED);
		ASSERT_NE(MAP_FAILED, p) TH_LOG("cpu %d: %s", cpu,
						strerror(errno));
		meta = (const void *)(p + self->ps);
		EXPECT_EQ(KTRACER_META_MAGIC, meta->magic);
		EXPECT_EQ(cpu, meta->cpu);
	}
}

TEST_F(map, buffer_write_eperm)
{
	uint64_t page = cpu_page(self, 1);

	/* meta */
	ASSERT_MAP_ERRNO(EPERM, page + 1, 1, PROT_READ | PROT_WRITE,
			 MAP_SHARED);
	/* data */
	ASSERT_MAP_ERRNO(EPERM, page + 2, 1, PROT_READ | PROT_WRITE,
			 MAP_SHARED);
	ASSERT_MAP_ERRNO(EPERM, page + 2, self->cp - 2, PROT_WRITE,
			 MAP_SHARED);
	/* meta and data */
	ASSERT_MAP_ERRNO(EPERM, page + 1, self->cp - 1,
			 PROT_READ | PROT_WRITE, MAP_SHARED);
	/* the whole buffer: more than the reader page */
	ASSERT_MAP_ERRNO(EPERM, page, self->cp, PROT_READ | PROT_WRITE,
			 MAP_SHARED);
}

/* The reader page, and only it, maps writable; the reader owns it. */
TEST_F(map, reader_page_writable)
{
	struct ktracer_reader *r;
	int cpu;

	for (cpu = 0; cpu < self->nr; cpu++) {
		r = map_pages(self, cpu_page(self, cpu), 1,
			      PROT_READ | PROT_WRITE, MAP_SHARED);
		ASSERT_NE(MAP_FAILED, r) TH_LOG("cpu %d: %s", cpu,
						strerror(errno));
		r->watermark = 4096;
		EXPECT_EQ(4096, r->watermark);
		r->watermark = 0;
	}
}

/* What was mapped read-only cannot be made writable later. */
TEST_F(map, mprotect_no_write)
{
	void *meta, *data, *state;

	meta = map_pages(self, cpu_page(self, 0) + 1, 1, PROT_READ,
			 MAP_SHARED);
	ASSERT_NE(MAP_FAILED, meta);
	data = map_pages(self, cpu_page(self, 0) + 2, self->cp - 2, PROT_READ,
			 MAP_SHARED);
	ASSERT_NE(MAP_FAILED, data);
	state = map_pages(self, 0, 1, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, state);

	ASSERT_ERRNO(EACCES, mprotect(meta, self->ps, PROT_READ | PROT_WRITE));
	ASSERT_ERRNO(EACCES, mprotect(data, self->ps, PROT_WRITE));
	ASSERT_ERRNO(EACCES, mprotect(state, self->ps,
				      PROT_READ | PROT_WRITE));
	/* Still mapped, still readable. */
	EXPECT_EQ(KTRACER_META_MAGIC, ((struct ktracer_meta *)meta)->magic);
	EXPECT_EQ(KTRACER_STATE_MAGIC, ((struct ktracer_state *)state)->magic);
}

TEST_F(map, meta_fields)
{
	struct kt_ring r;
	int cpu;

	ASSERT_RET(0, kt_reset(self->fd));
	for (cpu = 0; cpu < self->nr; cpu++) {
		ASSERT_RET(0, kt_ring_map(self->fd, self->st, cpu, &r));
		EXPECT_EQ(KTRACER_META_MAGIC, r.meta->magic);
		EXPECT_EQ(cpu, r.meta->cpu);
		EXPECT_EQ(0, r.meta->__reserved);
		EXPECT_EQ(self->st->data_size, r.meta->data_size);
		/* Empty, every counter zero. */
		EXPECT_EQ(r.meta->head, r.reader->tail);
		EXPECT_EQ(0, r.reader->tail % 8);
		EXPECT_EQ(0, r.reader->read);
		EXPECT_EQ(0, r.meta->written);
		EXPECT_EQ(0, r.meta->bytes);
		EXPECT_EQ(0, r.meta->lost);
		EXPECT_EQ(0, r.meta->overwritten);
		EXPECT_EQ(0, r.meta->tail_resets);
		kt_ring_unmap(&r);
	}
}

/* While any part of a buffer is mapped, its size is fixed. */
TEST_F(map, busy_while_mapped)
{
	char text[32];
	unsigned int i;
	void *p;

	/* The reader page, the meta page, a data page: each is enough. */
	for (i = 0; i < 3; i++) {
		p = map_pages(self, cpu_page(self, self->nr - 1) + i, 1,
			      i ? PROT_READ : PROT_READ | PROT_WRITE,
			      MAP_SHARED);
		ASSERT_NE(MAP_FAILED, p);

		ASSERT_RET(-EBUSY, kt_config(self->fd,
					     KTRACER_CONFIG_BUFFER_SIZE, 0,
					     65536));
		ASSERT_RET(-EBUSY, kt_config(self->fd,
					     KTRACER_CONFIG_BUFFER_SIZE |
					     KTRACER_CONFIG_MODE,
					     KTRACER_MODE_OVERWRITE, 65536));
		ASSERT_RET(-EBUSY, kt_reset(self->fd));
		ASSERT_RET(-EBUSY, kt_write_text(KT_DEBUGFS "/buffer_size_kb",
						 "64"));
		ASSERT_RET(-EBUSY, kt_write_text(KT_DEBUGFS "/reset", "1"));
		/* The refused CONFIG changed nothing, mode included. */
		EXPECT_EQ(KT_DEFAULT_BUFFER, self->st->data_size);
		EXPECT_EQ(KTRACER_MODE_DISCARD, self->st->mode);

		/* The mode alone may change. */
		ASSERT_RET(0, kt_config(self->fd, KTRACER_CONFIG_MODE,
					KTRACER_MODE_OVERWRITE, 0));
		EXPECT_EQ(KTRACER_MODE_OVERWRITE, self->st->mode);
		ASSERT_RET(0, kt_config(self->fd, KTRACER_CONFIG_MODE,
					KTRACER_MODE_DISCARD, 0));
		unmap_all(self);
	}
	/* Unmapped (the state page does not count): allowed again. */
	ASSERT_RET(0, kt_reset(self->fd));
	ASSERT_RET(0, kt_config(self->fd, KTRACER_CONFIG_BUFFER_SIZE, 0,
				65536));
	EXPECT_EQ(65536, self->st->data_size);
	ASSERT_EQ(0, kt_read_text(KT_DEBUGFS "/buffer_size_kb", text,
				  sizeof(text)));
	EXPECT_STREQ("64", text);
}

TEST_F(map, config_einval)
{
	static const uint64_t bad_size[] = {
		0, 8, KTRACER_BUFFER_MIN / 2, KTRACER_BUFFER_MIN + 8,
		3 * 4096, 3 * KTRACER_BUFFER_MIN, KTRACER_BUFFER_MAX * 2ULL,
		KTRACER_BUFFER_MAX + 4096ULL, 1ULL << 63,
	};
	struct ktracer_config c;
	unsigned int i;

	ASSERT_RET(-EINVAL, kt_config(self->fd, 0x4, 0, 0));
	ASSERT_RET(-EINVAL, kt_config(self->fd, 0x80000000u, 0, 0));
	ASSERT_RET(-EINVAL, kt_config(self->fd, 0x4 | KTRACER_CONFIG_MODE,
				      KTRACER_MODE_OVERWRITE, 0));
	ASSERT_RET(-EINVAL, kt_config(self->fd, KTRACER_CONFIG_MODE, 0, 0));
	ASSERT_RET(-EINVAL, kt_config(self->fd, KTRACER_CONFIG_MODE, 3, 0));
	ASSERT_RET(-EINVAL, kt_config(self->fd, KTRACER_CONFIG_MODE,
				      UINT32_MAX, 0));
	for (i = 0; i < sizeof(bad_size) / sizeof(bad_size[0]); i++) {
		errno = 0;
		EXPECT_EQ(-EINVAL, kt_config(self->fd,
					     KTRACER_CONFIG_BUFFER_SIZE, 0,
					     bad_size[i]))
			TH_LOG("buffer_size %llu",
			       (unsigned long long)bad_size[i]);
	}
	/* A bad size refuses the whole command: the mode stays too. */
	ASSERT_RET(-EINVAL, kt_config(self->fd, KTRACER_CONFIG_MODE |
				      KTRACER_CONFIG_BUFFER_SIZE,
				      KTRACER_MODE_OVERWRITE, 12345));

	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.flags = KTRACER_CONFIG_MODE;
	c.mode = KTRACER_MODE_OVERWRITE;
	c.__reserved = 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_CONFIG, &c));
	c.__reserved = 0;
	c.size = KTRACER_CONFIG_SIZE_VER0 - 8;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_CONFIG, &c));
	ASSERT_ERRNO(EFAULT, ioctl(self->fd, KTRACER_IOC_CONFIG, NULL));

	EXPECT_EQ(KTRACER_MODE_DISCARD, self->st->mode);
	EXPECT_EQ(KT_DEFAULT_BUFFER, self->st->data_size);
}

/* A new size empties the buffers and zeroes their counters. */
TEST_F(map, config_resize)
{
	struct kt_recs recs = { 0 };
	struct kt_rings rs;
	char text[32];
	int64_t id;
	int cpu;

	ASSERT_RET(0, kt_pin_cpu(0));
	id = kt_register(self->fd, KTRACER_KIND_GAUGE, 0, "mmap.gauge");
	ASSERT_LT(0, id);
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_GAUGE, id, 0, 1));

	ASSERT_RET(0, kt_config(self->fd, KTRACER_CONFIG_BUFFER_SIZE, 0,
				65536));
	EXPECT_EQ(65536, self->st->data_size);
	EXPECT_EQ(2 + 65536 / self->ps, self->st->cpu_pages);
	ASSERT_EQ(0, kt_read_text(KT_DEBUGFS "/buffer_size_kb", text,
				  sizeof(text)));
	EXPECT_STREQ("64", text);

	ASSERT_RET(0, kt_rings_map(self->fd, &rs));
	for (cpu = 0; cpu < rs.nr; cpu++) {
		const struct kt_ring *r = &rs.ring[cpu];

		EXPECT_EQ(65536, r->meta->data_size);
		EXPECT_EQ(0, r->meta->written);
		EXPECT_EQ(r->meta->head, r->reader->tail);
		EXPECT_EQ(0, r->reader->read);
	}
	/* It records into the new buffer. */
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_GAUGE, id, 0, 2));
	EXPECT_EQ(1, rs.ring[0].meta->written);
	KT_COLLECT(&rs, &recs);
	ASSERT_EQ(1, recs.n);
	EXPECT_EQ(2, recs.v[0].hdr.arg);
	kt_recs_free(&recs);
	kt_rings_unmap(&rs);

	ASSERT_RET(0, kt_config(self->fd, KTRACER_CONFIG_BUFFER_SIZE, 0,
				KTRACER_BUFFER_MIN));
	EXPECT_EQ(KTRACER_BUFFER_MIN, self->st->data_size);
	EXPECT_EQ(2 + KTRACER_BUFFER_MIN / self->ps, self->st->cpu_pages);

	ASSERT_RET(0, kt_config(self->fd, KTRACER_CONFIG_BUFFER_SIZE, 0,
				KT_DEFAULT_BUFFER));
	EXPECT_EQ(KT_DEFAULT_BUFFER, self->st->data_size);
	EXPECT_EQ(2 + KT_DEFAULT_BUFFER / self->ps, self->st->cpu_pages);
}

TEST_F(map, config_mode)
{
	char text[32];

	ASSERT_RET(0, kt_config(self->fd, KTRACER_CONFIG_MODE,
				KTRACER_MODE_OVERWRITE, 0));
	EXPECT_EQ(KTRACER_MODE_OVERWRITE, self->st->mode);
	ASSERT_EQ(0, kt_read_text(KT_DEBUGFS "/mode", text, sizeof(text)));
	EXPECT_STREQ("overwrite", text);
	/* Only what flags names changes. */
	EXPECT_EQ(KT_DEFAULT_BUFFER, self->st->data_size);

	ASSERT_RET(0, kt_config(self->fd, KTRACER_CONFIG_MODE,
				KTRACER_MODE_DISCARD, 0));
	EXPECT_EQ(KTRACER_MODE_DISCARD, self->st->mode);
	ASSERT_EQ(0, kt_read_text(KT_DEBUGFS "/mode", text, sizeof(text)));
	EXPECT_STREQ("discard", text);
}

/* enable, mode and buffer_size_kb in debugfs are the same controls. */
/* Bad words in the control files: EINVAL, and nothing changes. */
TEST_F(map, debugfs_invalid)
{
	char text[32];

	ASSERT_RET(-EINVAL, kt_write_text(KT_DEBUGFS "/enable", "2"));
	ASSERT_RET(-EINVAL, kt_write_text(KT_DEBUGFS "/enable", "maybe"));
	ASSERT_RET(-EINVAL, kt_write_text(KT_DEBUGFS "/mode", "flight"));
	ASSERT_RET(-EINVAL, kt_write_text(KT_DEBUGFS "/mode", "discardx"));
	/* Not a power of two, below 8 KiB, above 64 MiB, not a number. */
	ASSERT_RET(-EINVAL, kt_write_text(KT_DEBUGFS "/buffer_size_kb", "100"));
	ASSERT_RET(-EINVAL, kt_write_text(KT_DEBUGFS "/buffer_size_kb", "4"));
	ASSERT_RET(-EINVAL, kt_write_text(KT_DEBUGFS "/buffer_size_kb", "131072"));
	ASSERT_RET(-EINVAL, kt_write_text(KT_DEBUGFS "/buffer_size_kb", "abc"));
	ASSERT_RET(-EINVAL, kt_write_text(KT_DEBUGFS "/buffer_size_kb", "-8"));

	EXPECT_EQ(1, self->st->enabled);
	EXPECT_EQ(KTRACER_MODE_DISCARD, self->st->mode);
	EXPECT_EQ(KT_DEFAULT_BUFFER, self->st->data_size);
	ASSERT_EQ(0, kt_read_text(KT_DEBUGFS "/buffer_size_kb", text,
				  sizeof(text)));
	EXPECT_STREQ("512", text);
}

TEST_F(map, debugfs_controls)
{
	char text[32];

	ASSERT_RET(0, kt_write_text(KT_DEBUGFS "/enable", "0"));
	EXPECT_EQ(0, self->st->enabled);
	ASSERT_EQ(0, kt_read_text(KT_DEBUGFS "/enable", text, sizeof(text)));
	EXPECT_STREQ("0", text);
	ASSERT_RET(0, kt_write_text(KT_DEBUGFS "/enable", "1\n"));
	EXPECT_EQ(1, self->st->enabled);
	ASSERT_EQ(0, kt_read_text(KT_DEBUGFS "/enable", text, sizeof(text)));
	EXPECT_STREQ("1", text);

	ASSERT_RET(0, kt_write_text(KT_DEBUGFS "/mode", "overwrite\n"));
	EXPECT_EQ(KTRACER_MODE_OVERWRITE, self->st->mode);
	ASSERT_RET(0, kt_write_text(KT_DEBUGFS "/mode", "discard"));
	EXPECT_EQ(KTRACER_MODE_DISCARD, self->st->mode);

	ASSERT_RET(0, kt_write_text(KT_DEBUGFS "/buffer_size_kb", "64\n"));
	EXPECT_EQ(65536, self->st->data_size);
	ASSERT_EQ(0, kt_read_text(KT_DEBUGFS "/buffer_size_kb", text,
				  sizeof(text)));
	EXPECT_STREQ("64", text);
	ASSERT_RET(0, kt_write_text(KT_DEBUGFS "/buffer_size_kb", "512"));
	EXPECT_EQ(KT_DEFAULT_BUFFER, self->st->data_size);
}

TEST_F(map, reset)
{
	struct kt_stats stats[64];
	struct ktracer_reset r;
	struct kt_rings rs;
	int64_t id;
	int cpu;

	ASSERT_GE(64, self->nr);
	id = kt_register(self->fd, KTRACER_KIND_GAUGE, 0, "mmap.gauge");
	ASSERT_LT(0, id);

	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	r.flags = 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_RESET, &r));
	r.flags = 0;
	r.size = KTRACER_RESET_SIZE_VER0 - 4;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_RESET, &r));
	ASSERT_ERRNO(EFAULT, ioctl(self->fd, KTRACER_IOC_RESET, NULL));

	/* Something in every buffer, then RESET empties them all. */
	for (cpu = 0; cpu < self->nr; cpu++) {
		ASSERT_RET(0, kt_pin_cpu(cpu));
		ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_GAUGE, id, 0, cpu));
	}
	ASSERT_RET(0, kt_stats_read(stats, self->nr));
	for (cpu = 0; cpu < self->nr; cpu++)
		EXPECT_LE(1, stats[cpu].written);
	ASSERT_RET(0, kt_reset(self->fd));
	ASSERT_RET(0, kt_rings_map(self->fd, &rs));
	for (cpu = 0; cpu < self->nr; cpu++) {
		EXPECT_EQ(0, rs.ring[cpu].meta->written);
		EXPECT_EQ(rs.ring[cpu].meta->head, rs.ring[cpu].reader->tail);
	}
	kt_rings_unmap(&rs);

	/* And so does a write to debugfs' reset. */
	for (cpu = 0; cpu < self->nr; cpu++) {
		ASSERT_RET(0, kt_pin_cpu(cpu));
		ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_GAUGE, id, 0, cpu));
	}
	ASSERT_RET(0, kt_write_text(KT_DEBUGFS "/reset", "1"));
	ASSERT_RET(0, kt_stats_read(stats, self->nr));
	for (cpu = 0; cpu < self->nr; cpu++) {
		EXPECT_EQ(0, stats[cpu].written);
		EXPECT_EQ(0, stats[cpu].bytes);
		EXPECT_EQ(0, stats[cpu].read);
		EXPECT_EQ(0, stats[cpu].unread);
	}
}

struct poller {
	int fd;
	pid_t tid;
	int ret, err;
	short revents;
};

static void *poll_thread(void *arg)
{
	struct poller *p = arg;
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };

	__atomic_store_n(&p->tid, kt_gettid(), __ATOMIC_RELEASE);
	p->ret = poll(&pfd, 1, 10000);
	p->err = errno;
	p->revents = pfd.revents;
	return NULL;
}

/* Is thread @tid asleep (state S in /proc)? */
static int sleeping(pid_t tid)
{
	char path[64], buf[256], *s;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	if (kt_read_text(path, buf, sizeof(buf)))
		return 0;
	s = strrchr(buf, ')');
	return s && s[1] == ' ' && s[2] == 'S';
}

/* poll(): readable once some CPU's unread bytes reach its watermark. */
TEST_F(map, poll_watermark)
{
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN };
	struct poller p = { .fd = self->fd };
	int cpu = self->nr - 1, i;
	struct kt_ring r;
	pthread_t th;
	int64_t id;

	id = kt_register(self->fd, KTRACER_KIND_GAUGE, 0, "mmap.gauge");
	ASSERT_LT(0, id);
	ASSERT_RET(0, kt_reset(self->fd));
	ASSERT_RET(0, kt_ring_map(self->fd, self->st, cpu, &r));
	ASSERT_RET(0, kt_pin_cpu(cpu));
	r.reader->watermark = 2 * KT_REC_HDR;

	ASSERT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_GAUGE, id, 0, 1));
	EXPECT_EQ(0, poll(&pfd, 1, 0)) TH_LOG("readable below the watermark");
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_GAUGE, id, 0, 2));
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_TRUE(pfd.revents & POLLIN);

	/* Consumed: not readable. */
	EXPECT_EQ(2, kt_ring_consume(&r, NULL, NULL));
	ASSERT_EQ(0, poll(&pfd, 1, 0));

	/* A sleeping poller is woken by the write that reaches it. */
	ASSERT_EQ(0, pthread_create(&th, NULL, poll_thread, &p));
	for (i = 0; i < 100000; i++) {
		pid_t tid = __atomic_load_n(&p.tid, __ATOMIC_ACQUIRE);

		if (tid && sleeping(tid))
			break;
		sched_yield();
	}
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_GAUGE, id, 0, 3));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_GAUGE, id, 0, 4));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(1, p.ret) TH_LOG("poll: %d (%s)", p.ret,
				   p.ret < 0 ? strerror(p.err) : "timed out");
	EXPECT_TRUE(p.revents & POLLIN);

	r.reader->watermark = 0;
	kt_ring_unmap(&r);
}

/*
 * Touching a mapping may raise SIGBUS (a page the kernel cannot bring
 * back): the guarded calls below turn it into -EFAULT, so that a test
 * says what failed instead of dying.
 */
static sigjmp_buf bus_env;

static void on_sigbus(int sig)
{
	siglongjmp(bus_env, 1);
}

static int guard_sigbus(bool on)
{
	struct sigaction sa = { .sa_handler = on ? on_sigbus : SIG_DFL };

	return sigaction(SIGBUS, &sa, NULL) ? -errno : 0;
}

/* memcpy() from a mapping: 0, or -EFAULT on SIGBUS. */
static int copy_guarded(void *dst, const void *src, size_t len)
{
	volatile int ret = 0;

	if (guard_sigbus(true))
		return -errno;
	if (sigsetjmp(bus_env, 1))
		ret = -EFAULT;
	else
		memcpy(dst, src, len);
	guard_sigbus(false);
	return ret;
}

/* kt_ring_consume(), or -EFAULT on SIGBUS. */
static int64_t consume_guarded(struct kt_ring *r, kt_rec_fn fn, void *ctx)
{
	volatile int64_t n;

	if (guard_sigbus(true))
		return -errno;
	if (sigsetjmp(bus_env, 1))
		n = -EFAULT;
	else
		n = kt_ring_consume(r, fn, ctx);
	guard_sigbus(false);
	return n;
}

/* Does this kernel have madvise()? (A kernel without CONFIG_ADVISE_SYSCALLS has not.) */
static bool have_madvise(void)
{
	return madvise(NULL, 0, MADV_DONTNEED) == 0 || errno != ENOSYS;
}

/* madvise(MADV_DONTNEED), where the kernel has it. */
static int dontneed(void *p, size_t len)
{
	if (!have_madvise())
		return 0;
	return madvise(p, len, MADV_DONTNEED) ? -errno : 0;
}

/* Zap every page of @r's mappings: the next touch faults them back in. */
static int dontneed_ring(const struct kt_ring *r)
{
	if (madvise(r->reader, r->page_size, MADV_DONTNEED) ||
	    madvise((void *)r->meta, r->meta_len, MADV_DONTNEED))
		return -errno;
	return 0;
}

/*
 * After MADV_DONTNEED every page reads back what it held, no SIGBUS: the
 * state page, the reader page, the meta page and the data. The writable
 * reader page is still the kernel's: a tail written after the zap is the
 * one the kernel sees.
 */
TEST_F(map, dontneed_same_pages)
{
	const size_t ps = self->ps;
	int cpu = self->nr - 1, i;
	struct kt_stats st[KT_MAX_CPUS];
	unsigned char *before, *after;
	const void *state;
	struct kt_ring r;
	int64_t id;

	if (!have_madvise())
		SKIP(return, "this kernel has no madvise() (CONFIG_ADVISE_SYSCALLS)");
	id = kt_register(self->fd, KTRACER_KIND_GAUGE, 0, "mmap.dontneed");
	ASSERT_LT(0, id);
	ASSERT_RET(0, kt_reset(self->fd));
	ASSERT_RET(0, kt_pin_cpu(cpu));
	for (i = 0; i < 100; i++)
		ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_GAUGE, id, 0, i));
	state = map_pages(self, 0, 1, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, state);
	ASSERT_RET(0, kt_ring_map(self->fd, self->st, cpu, &r));
	r.reader->watermark = 4 * KT_REC_HDR;

	before = malloc(2 * (r.meta_len + 2 * ps));
	ASSERT_NE(NULL, before);
	after = before + r.meta_len + 2 * ps;
	memcpy(before, state, ps);
	memcpy(before + ps, r.reader, ps);
	memcpy(before + 2 * ps, r.meta, r.meta_len);

	ASSERT_EQ(0, madvise((void *)state, ps, MADV_DONTNEED));
	ASSERT_RET(0, dontneed_ring(&r));
	ASSERT_EQ(0, copy_guarded(after, state, ps))
		TH_LOG("SIGBUS reading the state page after MADV_DONTNEED");
	ASSERT_EQ(0, copy_guarded(after + ps, r.reader, ps))
		TH_LOG("SIGBUS reading the reader page after MADV_DONTNEED");
	ASSERT_EQ(0, copy_guarded(after + 2 * ps, r.meta, r.meta_len))
		TH_LOG("SIGBUS reading the meta page or data after MADV_DONTNEED");
	EXPECT_EQ(0, memcmp(before, after, r.meta_len + 2 * ps));
	EXPECT_EQ(100 * KT_REC_HDR, r.meta->head);
	EXPECT_EQ(4 * KT_REC_HDR, r.reader->watermark);

	/* Zapped again, then written: the kernel's page takes the write. */
	ASSERT_RET(0, dontneed_ring(&r));
	ASSERT_EQ(100, consume_guarded(&r, NULL, NULL));
	ASSERT_RET(0, kt_stats_read(st, self->nr));
	EXPECT_EQ(100, st[cpu].read);
	EXPECT_EQ(0, st[cpu].unread);
	EXPECT_TRUE(kt_stats_balanced(&st[cpu]));
	/* The kernel's writer reads the same tail: the buffer is empty. */
	ASSERT_RET(0, dontneed_ring(&r));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_GAUGE, id, 0, 100));
	ASSERT_RET(0, kt_stats_read(st, self->nr));
	EXPECT_EQ(1, st[cpu].unread);
	EXPECT_EQ(KT_REC_HDR, kt_ring_unread(&r));

	r.reader->watermark = 0;
	kt_ring_unmap(&r);
	free(before);
}

/* The read protocol goes on across zaps, record after record. */
TEST_F(map, dontneed_keep_reading)
{
	const int rounds = 60, per = 100;
	int cpu = self->nr - 1, i, j;
	struct kt_recs recs = { 0 };
	struct kt_ring r;
	int64_t id, n;

	if (!have_madvise())
		SKIP(return, "this kernel has no madvise() (CONFIG_ADVISE_SYSCALLS)");
	id = kt_register(self->fd, KTRACER_KIND_GAUGE, 0, "mmap.dontneed");
	ASSERT_LT(0, id);
	ASSERT_RET(0, kt_reset(self->fd));
	ASSERT_RET(0, kt_pin_cpu(cpu));
	ASSERT_RET(0, kt_ring_map(self->fd, self->st, cpu, &r));
	for (i = 0; i < rounds; i++) {
		for (j = 0; j < per; j++)
			ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_GAUGE, id, 0,
					    (uint64_t)i * per + j));
		ASSERT_RET(0, dontneed_ring(&r));
		kt_recs_free(&recs);
		n = consume_guarded(&r, kt_recs_add, &recs);
		ASSERT_EQ(per, n) TH_LOG("round %d: %s", i,
					 n < 0 ? strerror(-n) : "records");
		for (j = 0; j < per; j++)
			ASSERT_EQ((uint64_t)i * per + j, recs.v[j].hdr.arg);
	}
	EXPECT_EQ((uint64_t)rounds * per, r.reader->read);
	EXPECT_EQ(r.meta->head, r.reader->tail);
	EXPECT_EQ((uint64_t)rounds * per, r.meta->written);
	EXPECT_EQ(0, r.meta->lost);
	kt_recs_free(&recs);
	kt_ring_unmap(&r);
}

/*
 * Every copy of a buffer mapping counts: one a child inherits keeps the
 * size fixed until the child is gone, and reads the same pages; one moved
 * by mremap() or split by a partial munmap() counts until its last piece
 * is unmapped.
 */
TEST_F(map, fork_mremap_split)
{
	const size_t ps = self->ps;
	uint64_t page = cpu_page(self, self->nr - 1);
	int go[2], status;
	char *p, *q, *hole;
	pid_t child;

	/* fork(): the child's copy holds the buffer. */
	p = mmap(NULL, 3 * ps, PROT_READ, MAP_SHARED, self->fd,
		 (page + 1) * ps);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, pipe(go));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		const struct ktracer_meta *m = (const void *)p;
		char c;

		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		if (dontneed(p, 3 * ps))
			_exit(3);
		if (copy_guarded(&c, p + 2 * ps, 1))
			_exit(4);
		_exit(m->magic == KTRACER_META_MAGIC ? 0 : 5);
	}
	close(go[0]);
	ASSERT_EQ(0, munmap(p, 3 * ps));
	ASSERT_EQ(-EBUSY, kt_reset(self->fd)) TH_LOG("the child's copy");
	ASSERT_EQ(1, write(go[1], "x", 1));
	close(go[1]);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child: status %#x", status);
	ASSERT_RET(0, kt_reset(self->fd));

	/* mremap(): moved, the copy counts; grown, refused. */
	p = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd,
		 page * ps);
	ASSERT_NE(MAP_FAILED, p);
	((struct ktracer_reader *)p)->watermark = 96;
	hole = mmap(NULL, 4 * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	ASSERT_NE(MAP_FAILED, hole);
	q = mremap(p, ps, ps, MREMAP_MAYMOVE | MREMAP_FIXED, hole + 2 * ps);
	ASSERT_EQ(hole + 2 * ps, q);
	EXPECT_EQ(MAP_FAILED, mremap(q, ps, 2 * ps, MREMAP_MAYMOVE));
	ASSERT_EQ(-EBUSY, kt_reset(self->fd)) TH_LOG("moved by mremap()");
	ASSERT_EQ(0, dontneed(q, ps));
	EXPECT_EQ(96, ((struct ktracer_reader *)q)->watermark);
	((struct ktracer_reader *)q)->watermark = 0;
	ASSERT_EQ(0, munmap(hole, 4 * ps));
	ASSERT_RET(0, kt_reset(self->fd));

	/* munmap() of the middle page: two mappings, each counts. */
	p = mmap(NULL, 3 * ps, PROT_READ, MAP_SHARED, self->fd,
		 (page + 1) * ps);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, munmap(p + ps, ps));
	ASSERT_EQ(0, munmap(p, ps));
	ASSERT_EQ(-EBUSY, kt_reset(self->fd)) TH_LOG("the last piece");
	EXPECT_EQ(0, dontneed(p + 2 * ps, ps));
	EXPECT_EQ(0, copy_guarded(&status, p + 2 * ps, sizeof(status)));
	ASSERT_EQ(0, munmap(p + 2 * ps, ps));
	ASSERT_RET(0, kt_reset(self->fd));
}

TEST_HARNESS_MAIN
