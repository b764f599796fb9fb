// SPDX-License-Identifier: GPL-2.0
/*
 * Who may do what. With /dev/ktracer opened up (as a udev rule would), an
 * unprivileged process records its own events and sees the state page;
 * the buffers, CONFIG, RESET, ENABLE and debugfs stay privileged.
 *
 * Each check runs in a child that drops to uid/gid 65534 and reports the
 * first thing that went wrong as its exit code; the parent, still root,
 * checks that nothing changed.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "kt_test.h"
#include "kt_ring.h"

/* In a child: exit with @code unless @cond. */
#define CHILD_CHECK(code, cond) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "# child check %d failed: %s (errno %s)\n",	\
			code, #cond, strerror(errno));			\
		_exit(code);						\
	}								\
} while (0)

static void open_default(int unused)
{
	CHILD_CHECK(1, open(KTRACER_DEVICE, O_RDWR) == -1);
	CHILD_CHECK(2, errno == EACCES);
	CHILD_CHECK(3, open(KTRACER_DEVICE, O_RDONLY) == -1);
	CHILD_CHECK(4, errno == EACCES);
}

/* dev_mode 0600: only root opens the device. */
TEST(open_default_mode)
{
	struct stat st;

	ASSERT_EQ(0, stat(KTRACER_DEVICE, &st));
	ASSERT_EQ(0600, st.st_mode & 07777);
	ASSERT_EQ(0, kt_run_unprivileged(open_default, -1));
}

FIXTURE(perm) {
	int fd;
	bool opened_up;
};

FIXTURE_SETUP(perm)
{
	self->fd = kt_open();
	ASSERT_LE(0, self->fd) TH_LOG("open: %s", strerror(-self->fd));
	ASSERT_RET(0, kt_reset(self->fd));
	ASSERT_EQ(0, chmod(KTRACER_DEVICE, 0666));
	self->opened_up = true;
}

FIXTURE_TEARDOWN(perm)
{
	const struct ktracer_state *st;

	if (self->opened_up)
		EXPECT_EQ(0, chmod(KTRACER_DEVICE, 0600));
	if (self->fd < 0)
		return;
	/* The children changed nothing global. */
	st = kt_map_state(self->fd);
	EXPECT_NE(MAP_FAILED, st);
	if (st != MAP_FAILED) {
		EXPECT_EQ(1, st->enabled);
		EXPECT_EQ(KTRACER_MODE_DISCARD, st->mode);
		EXPECT_EQ(KT_DEFAULT_BUFFER, st->data_size);
		kt_unmap_state(st);
	}
	close(self->fd);
}

static void record_own_events(int unused)
{
	struct ktracer_version v = { .size = sizeof(v) };
	struct ktracer_op ops[2];
	int64_t gauge, span;
	uint32_t done = 0;
	int fd;

	fd = open(KTRACER_DEVICE, O_RDWR);
	CHILD_CHECK(1, fd >= 0);
	CHILD_CHECK(2, ioctl(fd, KTRACER_IOC_VERSION, &v) == 0);
	gauge = kt_register(fd, KTRACER_KIND_GAUGE, 0, "perm.gauge");
	CHILD_CHECK(3, gauge > 0);
	span = kt_register(fd, KTRACER_KIND_SPAN, 1, "perm.span");
	CHILD_CHECK(4, span > 0);
	CHILD_CHECK(5, kt_op(fd, KTRACER_OP_GAUGE, gauge, 0, 1) == 0);
	ops[0] = kt_mkop(KTRACER_OP_START, span, 0, 2);
	ops[1] = kt_mkop(KTRACER_OP_STOP, span, 0, 3);
	CHILD_CHECK(6, kt_batch(fd, ops, 2, &done, NULL) == 0);
	CHILD_CHECK(7, done == 2);
	close(fd);
}

TEST_F(perm, record_own_events)
{
	struct kt_recs recs = { 0 };
	struct kt_rings rings;
	pid_t pid = 0;
	size_t i;

	ASSERT_EQ(0, kt_run_unprivileged_pid(record_own_events, -1, &pid));

	/* Recorded, as the child. */
	ASSERT_RET(0, kt_rings_map(self->fd, &rings));
	KT_COLLECT(&rings, &recs);
	kt_rings_unmap(&rings);
	ASSERT_EQ(3, recs.n);
	for (i = 0; i < recs.n; i++) {
		EXPECT_EQ((uint32_t)pid, recs.v[i].hdr.pid);
		EXPECT_EQ((uint32_t)pid, recs.v[i].hdr.tid);
		EXPECT_EQ(i + 1, recs.v[i].hdr.arg);
	}
	EXPECT_EQ(KTRACER_REC_GAUGE, recs.v[0].hdr.type);
	EXPECT_EQ(KTRACER_REC_START, recs.v[1].hdr.type);
	EXPECT_EQ(KTRACER_REC_STOP, recs.v[2].hdr.type);
	kt_recs_free(&recs);
}

static void state_page(int unused)
{
	long ps = sysconf(_SC_PAGESIZE);
	const struct ktracer_state *st;
	int fd;

	fd = open(KTRACER_DEVICE, O_RDWR);
	CHILD_CHECK(1, fd >= 0);
	st = kt_map_state(fd);
	CHILD_CHECK(2, st != MAP_FAILED);
	CHILD_CHECK(3, st->magic == KTRACER_STATE_MAGIC);
	CHILD_CHECK(4, st->enabled == 1);
	CHILD_CHECK(5, mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			    0) == MAP_FAILED);
	CHILD_CHECK(6, errno == EPERM);
	close(fd);
}

TEST_F(perm, state_page)
{
	ASSERT_EQ(0, kt_run_unprivileged(state_page, -1));
}

/* Every part of a buffer: reader, meta, data, the whole. */
static void map_buffer_parts(int fd)
{
	long ps = sysconf(_SC_PAGESIZE);
	const struct ktracer_state *st = kt_map_state(fd);
	off_t base;
	void *p;

	CHILD_CHECK(10, st != MAP_FAILED);
	base = (off_t)(1 + (st->nr_cpus - 1) * (uint64_t)st->cpu_pages) * ps;
	p = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, base);
	CHILD_CHECK(11, p == MAP_FAILED && errno == EPERM);
	p = mmap(NULL, ps, PROT_READ, MAP_SHARED, fd, base);
	CHILD_CHECK(12, p == MAP_FAILED && errno == EPERM);
	p = mmap(NULL, ps, PROT_READ, MAP_SHARED, fd, base + ps);
	CHILD_CHECK(13, p == MAP_FAILED && errno == EPERM);
	p = mmap(NULL, ps, PROT_READ, MAP_SHARED, fd, base + 2 * ps);
	CHILD_CHECK(14, p == MAP_FAILED && errno == EPERM);
	p = mmap(NULL, st->cpu_pages * ps, PROT_READ, MAP_SHARED, fd, base);
	CHILD_CHECK(15, p == MAP_FAILED && errno == EPERM);
	kt_unmap_state(st);
}

static void buffer_own_file(int unused)
{
	int fd = open(KTRACER_DEVICE, O_RDWR);

	CHILD_CHECK(1, fd >= 0);
	map_buffer_parts(fd);
	close(fd);
}

static void buffer_roots_file(int fd)
{
	map_buffer_parts(fd);
}

/* Whoever opened the file: the caller's privilege is what counts. */
TEST_F(perm, buffer_mmap_eperm)
{
	ASSERT_EQ(0, kt_run_unprivileged(buffer_own_file, -1));
	ASSERT_EQ(0, kt_run_unprivileged(buffer_roots_file, self->fd));
}

static void config(int unused)
{
	int fd = open(KTRACER_DEVICE, O_RDWR);

	CHILD_CHECK(1, fd >= 0);
	CHILD_CHECK(2, kt_config(fd, KTRACER_CONFIG_MODE,
				 KTRACER_MODE_OVERWRITE, 0) == -EPERM);
	CHILD_CHECK(3, kt_config(fd, KTRACER_CONFIG_BUFFER_SIZE, 0,
				 65536) == -EPERM);
	/* Before the argument is looked at. */
	CHILD_CHECK(4, ioctl(fd, KTRACER_IOC_CONFIG, NULL) == -1 &&
		       errno == EPERM);
	close(fd);
}

TEST_F(perm, config_eperm)
{
	ASSERT_EQ(0, kt_run_unprivileged(config, -1));
}

static void reset(int unused)
{
	int fd = open(KTRACER_DEVICE, O_RDWR);

	CHILD_CHECK(1, fd >= 0);
	CHILD_CHECK(2, kt_reset(fd) == -EPERM);
	CHILD_CHECK(3, ioctl(fd, KTRACER_IOC_RESET, NULL) == -1 &&
		       errno == EPERM);
	close(fd);
}

TEST_F(perm, reset_eperm)
{
	struct kt_recs recs = { 0 };
	struct kt_rings rings;
	int64_t id;

	id = kt_register(self->fd, KTRACER_KIND_GAUGE, 0, "perm.gauge");
	ASSERT_LT(0, id);
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_GAUGE, id, 0, 42));
	ASSERT_EQ(0, kt_run_unprivileged(reset, -1));

	/* Not reset: the record is still there. */
	ASSERT_RET(0, kt_rings_map(self->fd, &rings));
	KT_COLLECT(&rings, &recs);
	kt_rings_unmap(&rings);
	ASSERT_EQ(1, recs.n);
	EXPECT_EQ(42, recs.v[0].hdr.arg);
	kt_recs_free(&recs);
}

static void enable(int unused)
{
	int fd = open(KTRACER_DEVICE, O_RDWR);

	CHILD_CHECK(1, fd >= 0);
	CHILD_CHECK(2, kt_set_enable(fd, 0) == -EPERM);
	CHILD_CHECK(3, kt_set_enable(fd, 1) == -EPERM);
	close(fd);
}

TEST_F(perm, enable_eperm)
{
	ASSERT_EQ(0, kt_run_unprivileged(enable, -1));
}

static void debugfs(int unused)
{
	CHILD_CHECK(1, open(KT_DEBUGFS "/trace", O_RDONLY) == -1);
	CHILD_CHECK(2, errno == EACCES);
	CHILD_CHECK(3, open(KT_DEBUGFS "/enable", O_WRONLY) == -1);
	CHILD_CHECK(4, errno == EACCES);
}

TEST_F(perm, debugfs_eacces)
{
	ASSERT_EQ(0, kt_run_unprivileged(debugfs, -1));
}

TEST_HARNESS_MAIN
