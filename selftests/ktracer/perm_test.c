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
#include <dirent.h>
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

/*
 * A GAUGE recorded, then @fn run unprivileged with @arg: neither reset
 * nor disabled, the record is there, and the next one too. On one CPU,
 * so that the two come back in the order they were written.
 */
static void gauge_survives(struct __test_metadata *_metadata, int fd,
			   void (*fn)(int fd), int arg)
{
	struct kt_recs recs = { 0 };
	struct kt_rings rings;
	int64_t id;

	ASSERT_RET(0, kt_pin_cpu(0));
	id = kt_register(fd, KTRACER_KIND_GAUGE, 0, "perm.gauge");
	ASSERT_LT(0, id);
	ASSERT_RET(0, kt_op(fd, KTRACER_OP_GAUGE, id, 0, 42));
	ASSERT_EQ(0, kt_run_unprivileged(fn, arg));

	ASSERT_RET(0, kt_op(fd, KTRACER_OP_GAUGE, id, 0, 43));
	ASSERT_RET(0, kt_rings_map(fd, &rings));
	KT_COLLECT(&rings, &recs);
	kt_rings_unmap(&rings);
	ASSERT_EQ(2, recs.n);
	EXPECT_EQ(42, recs.v[0].hdr.arg);
	EXPECT_EQ(43, recs.v[1].hdr.arg);
	kt_recs_free(&recs);
}

TEST_F(perm, reset_eperm)
{
	gauge_survives(_metadata, self->fd, reset, -1);
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

static void kevents(int fd)
{
	int32_t pid = getpid();
	int own = open(KTRACER_DEVICE, O_RDWR);

	CHILD_CHECK(1, own >= 0);
	CHILD_CHECK(2, kt_kevents(own, KTRACER_KEVENTS_SOURCES, KTRACER_SRC_SCHED,
				  NULL, 0, NULL) == -EPERM);
	CHILD_CHECK(3, kt_kevents(own, KTRACER_KEVENTS_PIDS, 0, &pid, 1,
				  NULL) == -EPERM);
	/* Not even a report, and before the argument is looked at. */
	CHILD_CHECK(4, kt_kevents(own, 0, 0, NULL, 0, NULL) == -EPERM);
	CHILD_CHECK(5, ioctl(own, KTRACER_IOC_KEVENTS, NULL) == -1 &&
		       errno == EPERM);
	/* root's file changes nothing. */
	CHILD_CHECK(6, kt_kevents(fd, KTRACER_KEVENTS_SOURCES, KTRACER_SRC_TASK,
				  NULL, 0, NULL) == -EPERM);
	close(own);
}

TEST_F(perm, kevents_eperm)
{
	struct kt_kevents_file f;

	ASSERT_EQ(0, kt_run_unprivileged(kevents, self->fd));
	ASSERT_RET(0, kt_kevents_read(&f));
	EXPECT_EQ(0, f.on);
	EXPECT_EQ(-1, f.npids);
}

/* Every privileged command, on a file root opened and handed over. */
static void roots_file(int fd)
{
	CHILD_CHECK(1, kt_config(fd, KTRACER_CONFIG_MODE,
				 KTRACER_MODE_OVERWRITE, 0) == -EPERM);
	CHILD_CHECK(2, kt_config(fd, KTRACER_CONFIG_BUFFER_SIZE, 0,
				 65536) == -EPERM);
	CHILD_CHECK(3, kt_reset(fd) == -EPERM);
	CHILD_CHECK(4, kt_set_enable(fd, 0) == -EPERM);
	CHILD_CHECK(5, kt_kevents(fd, KTRACER_KEVENTS_SOURCES, KTRACER_SRC_IRQ,
				  NULL, 0, NULL) == -EPERM);
}

TEST_F(perm, roots_file_eperm)
{
	gauge_survives(_metadata, self->fd, roots_file, self->fd);
}

static const char *const debugfs_files[] = {
	"trace", "stats", "events", "enable", "mode", "buffer_size_kb",
	"reset", "kevents",
};

#define NR_DEBUGFS (sizeof(debugfs_files) / sizeof(debugfs_files[0]))

static void debugfs(int unused)
{
	char path[128];
	int i;

	for (i = 0; i < (int)NR_DEBUGFS; i++) {
		snprintf(path, sizeof(path), KT_DEBUGFS "/%s", debugfs_files[i]);
		CHILD_CHECK(10 + i, open(path, O_RDONLY) == -1 && errno == EACCES);
		CHILD_CHECK(30 + i, open(path, O_WRONLY) == -1 && errno == EACCES);
	}
	CHILD_CHECK(1, opendir(KT_DEBUGFS) == NULL && errno == EACCES);
}

TEST_F(perm, debugfs_eacces)
{
	ASSERT_EQ(0, kt_run_unprivileged(debugfs, -1));
}

/* What a write to each control would do, were it allowed. */
static const char *const controls[][2] = {
	{ "enable", "0" }, { "mode", "overwrite" }, { "buffer_size_kb", "64" },
	{ "reset", "1" }, { "kevents", "sched on" },
};

#define NR_CONTROLS (sizeof(controls) / sizeof(controls[0]))

static int control_fds[NR_CONTROLS];

static void debugfs_handed(int unused)
{
	int i;

	for (i = 0; i < (int)NR_CONTROLS; i++) {
		const char *w = controls[i][1];

		CHILD_CHECK(10 + i, write(control_fds[i], w, strlen(w)) == -1 &&
				    errno == EPERM);
	}
}

/*
 * A gauge recorded by root, then the debugfs files @names opened with
 * @flags into @fds, for a test to hand to an unprivileged process.
 * Returns 0, or the errno of the first file that does not open.
 */
static int gauge_and_open(int fd, const char *const *names, size_t n,
			  int flags, int *fds)
{
	char path[128];
	int64_t id;
	size_t i;

	id = kt_register(fd, KTRACER_KIND_GAUGE, 0, "perm.gauge");
	if (id <= 0 || kt_op(fd, KTRACER_OP_GAUGE, id, 0, 42))
		return EINVAL;
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), KT_DEBUGFS "/%s", names[i]);
		fds[i] = open(path, flags);
		if (fds[i] < 0)
			return errno;
	}
	return 0;
}

/*
 * Control files root opened for writing, handed to an unprivileged
 * process: the writer's privilege counts, as for the ioctls.
 */
TEST_F(perm, debugfs_handed_eperm)
{
	const char *names[NR_CONTROLS];
	struct kt_kevents_file f;
	char buf[32];
	size_t i;
	int ret;

	for (i = 0; i < NR_CONTROLS; i++)
		names[i] = controls[i][0];
	ASSERT_EQ(0, gauge_and_open(self->fd, names, NR_CONTROLS, O_WRONLY,
				    control_fds));
	ret = kt_run_unprivileged(debugfs_handed, -1);
	for (i = 0; i < NR_CONTROLS; i++)
		close(control_fds[i]);
	ASSERT_EQ(0, ret);

	ASSERT_RET(0, kt_read_text(KT_DEBUGFS "/enable", buf, sizeof(buf)));
	EXPECT_STREQ("1", buf);
	ASSERT_RET(0, kt_read_text(KT_DEBUGFS "/mode", buf, sizeof(buf)));
	EXPECT_STREQ("discard", buf);
	ASSERT_RET(0, kt_read_text(KT_DEBUGFS "/buffer_size_kb", buf, sizeof(buf)));
	EXPECT_EQ(KT_DEFAULT_BUFFER >> 10, strtoull(buf, NULL, 10));
	ASSERT_RET(0, kt_kevents_read(&f));
	EXPECT_EQ(0, f.on);
	/* Not reset: the record is still there. */
	EXPECT_EQ(1, kt_drain_all(self->fd));
}

/* The files that show other processes' data. */
static const char *const readers[] = { "trace", "stats", "events", "kevents" };

#define NR_READERS (sizeof(readers) / sizeof(readers[0]))

static int reader_fds[NR_READERS];

static void debugfs_read_handed(int unused)
{
	char buf[64];
	int i;

	for (i = 0; i < (int)NR_READERS; i++)
		CHILD_CHECK(10 + i, read(reader_fds[i], buf, sizeof(buf)) == -1 &&
				    errno == EPERM);
}

/*
 * Files root opened for reading, handed to an unprivileged process: the
 * reader's privilege counts, at each read. Root reads them still.
 */
TEST_F(perm, debugfs_handed_read_eperm)
{
	char buf[64];
	size_t i;
	int ret;

	ASSERT_EQ(0, gauge_and_open(self->fd, readers, NR_READERS, O_RDONLY,
				    reader_fds));
	ret = kt_run_unprivileged(debugfs_read_handed, -1);
	for (i = 0; i < NR_READERS; i++) {
		EXPECT_LT(0, read(reader_fds[i], buf, sizeof(buf)))
			TH_LOG("%s: %s", readers[i], strerror(errno));
		close(reader_fds[i]);
	}
	ASSERT_EQ(0, ret);
}

static uint32_t roots_span, roots_gauge;

/* Another file: root's event ids and spans are not its own. */
static void other_file(int unused)
{
	int fd = open(KTRACER_DEVICE, O_RDWR);
	int64_t id;

	CHILD_CHECK(1, fd >= 0);
	/* Not registered in this file. */
	CHILD_CHECK(2, kt_op(fd, KTRACER_OP_STOP, roots_span, 0, 0) == -ENOENT);
	CHILD_CHECK(3, kt_op(fd, KTRACER_OP_CANCEL, roots_span, 0, 0) == -ENOENT);
	CHILD_CHECK(4, kt_op(fd, KTRACER_OP_GAUGE, roots_gauge, 0, 7) == -ENOENT);
	/* Registered: its own event (names are per user), its own slots. */
	id = kt_register(fd, KTRACER_KIND_SPAN, 1, "perm.span");
	CHILD_CHECK(5, id > 0 && id != roots_span);
	CHILD_CHECK(6, kt_op(fd, KTRACER_OP_STOP, id, 0, 0) == -ENOENT);
	CHILD_CHECK(7, kt_op(fd, KTRACER_OP_CANCEL, id, 0, 0) == 0);
	CHILD_CHECK(8, kt_op(fd, KTRACER_OP_START, id, 0, 5) == 0);
	CHILD_CHECK(9, kt_op(fd, KTRACER_OP_STOP, roots_span, 0, 0) == -ENOENT);
	close(fd);
}

TEST_F(perm, other_files_spans)
{
	struct kt_recs recs = { 0 };
	struct kt_rings rings;
	unsigned int mask = 0;
	pid_t pid = 0;
	size_t i;

	roots_span = kt_register_id(self->fd, KTRACER_KIND_SPAN, 1, "perm.span");
	roots_gauge = kt_register_id(self->fd, KTRACER_KIND_GAUGE, 0, "perm.gauge");
	ASSERT_NE(0, roots_span);
	ASSERT_NE(0, roots_gauge);
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_START, roots_span, 0, 1));
	ASSERT_EQ(0, kt_run_unprivileged_pid(other_file, -1, &pid));
	/* Root's slot 0 is still open: its START refused, its STOP not. */
	ASSERT_OP_ERRNO(EBUSY, self->fd, KTRACER_OP_START, roots_span, 0, 2);
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_STOP, roots_span, 0, 3));

	/*
	 * Root's START and STOP; the child's START and its CANCEL on close
	 * (maybe on another CPU: matched by pid, not by order).
	 */
	ASSERT_RET(0, kt_rings_map(self->fd, &rings));
	KT_COLLECT(&rings, &recs);
	kt_rings_unmap(&rings);
	ASSERT_EQ(4, recs.n);
	for (i = 0; i < recs.n; i++) {
		const struct ktracer_record *h = &recs.v[i].hdr;

		if (h->pid == (uint32_t)getpid())
			mask |= h->type == KTRACER_REC_START && h->arg == 1 ? 1 :
				h->type == KTRACER_REC_STOP && h->arg == 3 ? 2 : 16;
		else if (h->pid == (uint32_t)pid)
			mask |= h->type == KTRACER_REC_START && h->arg == 5 ? 4 :
				h->type == KTRACER_REC_CANCEL &&
				h->flags & KTRACER_RECF_CLOSE ? 8 : 16;
		else
			mask |= 16;
	}
	EXPECT_EQ(15, mask);
	kt_recs_free(&recs);
}

TEST_HARNESS_MAIN
