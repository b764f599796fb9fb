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
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/prctl.h>
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

/* ---- KTRACER_IOC_NAMES ---------------------------------------------- */

#define NAMES_ALL	KTRACER_NAMES_MAX

/* KTRACER_IOC_NAMES from @start, up to @count into @buf: 0 or -errno. */
static int names(int fd, uint32_t start, uint32_t count,
		 struct ktracer_name *buf, struct ktracer_names *out)
{
	struct ktracer_names n = {
		.size = sizeof(n), .start = start, .count = count,
		.buf = (uintptr_t)buf,
	};
	int ret = ioctl(fd, KTRACER_IOC_NAMES, &n) ? -errno : 0;

	if (out)
		*out = n;
	return ret;
}

static uint8_t kind_of(const char *word)
{
	static const char *const kinds[] = { "", "span", "gauge", "counter",
					     "log" };
	uint8_t k;

	for (k = 1; k < 5; k++)
		if (!strcmp(word, kinds[k]))
			return k;
	return 0;
}

/* Entry @e is line @l of debugfs "events", its padding 0. */
static void expect_line(struct __test_metadata *_metadata,
			const struct ktracer_name *e,
			const struct kt_event_line *l)
{
	EXPECT_EQ(l->id, e->id);
	EXPECT_EQ(kind_of(l->kind), e->kind) TH_LOG("id %u", e->id);
	EXPECT_EQ(l->slots, e->slots) TH_LOG("id %u", e->id);
	EXPECT_EQ(l->uid, e->uid) TH_LOG("id %u", e->id);
	EXPECT_STREQ(l->name, e->name);
	EXPECT_EQ(0, e->__pad[0] | e->__pad[1] | e->__pad[2]);
}

/*
 * One call with room for every entry gives the table debugfs "events"
 * shows, in id order, the kernel's events first with uid 0; nothing is
 * left after it (start 0).
 */
TEST_F(perm, names_match_events)
{
	struct ktracer_name *v = calloc(NAMES_ALL, sizeof(*v));
	struct kt_event_line *lines = NULL;
	struct ktracer_names n;
	int nl, i;

	ASSERT_NE(NULL, v);
	ASSERT_NE(0, kt_register_id(self->fd, KTRACER_KIND_SPAN, 3,
				    "perm.names.span"));
	ASSERT_NE(0, kt_register_id(self->fd, KTRACER_KIND_COUNTER, 0,
				    "perm.names.count"));
	memset(v, 0xa5, NAMES_ALL * sizeof(*v));
	ASSERT_RET(0, names(self->fd, 0, NAMES_ALL, v, &n));
	nl = kt_events_read(&lines);
	ASSERT_LT(0, nl) TH_LOG("events: %s", strerror(-nl));
	EXPECT_EQ(sizeof(n), n.size);
	EXPECT_EQ(0, n.start);
	ASSERT_EQ((uint32_t)nl, n.count);
	for (i = 0; i < nl; i++)
		expect_line(_metadata, &v[i], &lines[i]);
	for (i = 0; i < KTRACER_KEV_LAST; i++) {
		EXPECT_EQ((uint32_t)i + 1, v[i].id);
		EXPECT_EQ(0, v[i].uid);
	}
	EXPECT_STREQ("sched.running", v[0].name);
	EXPECT_STREQ("block.rq", v[KTRACER_KEV_LAST - 1].name);
	/* Past the last entry: untouched. */
	EXPECT_EQ(0xa5a5a5a5u, v[nl].id);
	free(lines);
	free(v);
}

/*
 * Pages of 3, each call's start the last one's: the same entries as one
 * call. A start in the middle begins there; count 0 writes nothing and
 * says where the next entry is.
 */
TEST_F(perm, names_paging)
{
	struct ktracer_name *all = calloc(NAMES_ALL, sizeof(*all));
	struct ktracer_name page[3];
	struct ktracer_names n;
	uint32_t total, got = 0, start = 0, calls = 0, i;

	ASSERT_NE(NULL, all);
	ASSERT_RET(0, names(self->fd, 0, NAMES_ALL, all, &n));
	total = n.count;
	ASSERT_LT(KTRACER_KEV_LAST, total);
	do {
		ASSERT_RET(0, names(self->fd, start, 3, page, &n));
		ASSERT_GE(3, n.count);
		ASSERT_GE(total, got + n.count);
		for (i = 0; i < n.count; i++) {
			EXPECT_EQ(all[got + i].id, page[i].id);
			EXPECT_STREQ(all[got + i].name, page[i].name);
		}
		got += n.count;
		start = n.start;
		if (start) {
			ASSERT_EQ(3, n.count) TH_LOG("a short page, not the last");
			EXPECT_EQ(all[got].id, start);
		}
		ASSERT_GT(1000, ++calls);
	} while (start);
	EXPECT_EQ(total, got);

	/* From id 5 (a kernel event): it first, then the next. */
	ASSERT_RET(0, names(self->fd, 5, 2, page, &n));
	ASSERT_EQ(2, n.count);
	EXPECT_EQ(5, page[0].id);
	EXPECT_EQ(6, page[1].id);
	EXPECT_EQ(7, n.start);
	/* start 1 is start 0; count 0 only tells where to begin. */
	ASSERT_RET(0, names(self->fd, 1, 1, page, &n));
	EXPECT_EQ(1, page[0].id);
	EXPECT_EQ(2, n.start);
	ASSERT_RET(0, names(self->fd, 0, 0, NULL, &n));
	EXPECT_EQ(0, n.count);
	EXPECT_EQ(1, n.start);
	ASSERT_RET(0, names(self->fd, all[total - 1].id + 1, 3, page, &n));
	EXPECT_EQ(0, n.count);
	EXPECT_EQ(0, n.start);
	free(all);
}

static void register_other(int unused)
{
	int fd = open(KTRACER_DEVICE, O_RDWR);

	CHILD_CHECK(1, fd >= 0);
	CHILD_CHECK(2, kt_register(fd, KTRACER_KIND_GAUGE, 0,
				   "perm.names.both") > 0);
	close(fd);
}

/* Another user's name is there, with its uid, beside root's own. */
TEST_F(perm, names_other_user)
{
	struct ktracer_name *v = calloc(NAMES_ALL, sizeof(*v));
	struct ktracer_names n;
	uint32_t i, mask = 0;

	ASSERT_NE(NULL, v);
	ASSERT_NE(0, kt_register_id(self->fd, KTRACER_KIND_LOG, 0,
				    "perm.names.both"));
	ASSERT_EQ(0, kt_run_unprivileged(register_other, -1));
	ASSERT_RET(0, names(self->fd, 0, NAMES_ALL, v, &n));
	for (i = 0; i < n.count; i++) {
		if (strcmp(v[i].name, "perm.names.both"))
			continue;
		if (v[i].uid == 0 && v[i].kind == KTRACER_KIND_LOG)
			mask |= 1;
		else if (v[i].uid == 65534 && v[i].kind == KTRACER_KIND_GAUGE)
			mask |= 2;
		else
			mask |= 4;
	}
	EXPECT_EQ(3, mask);
	free(v);
}

static void names_unprivileged(int fd)
{
	struct ktracer_name v[2];
	int own = open(KTRACER_DEVICE, O_RDWR);

	CHILD_CHECK(1, own >= 0);
	CHILD_CHECK(2, names(own, 0, 2, v, NULL) == -EPERM);
	/* Before the argument is looked at. */
	CHILD_CHECK(3, ioctl(own, KTRACER_IOC_NAMES, NULL) == -1 &&
		       errno == EPERM);
	CHILD_CHECK(4, names(fd, 0, 2, v, NULL) == -EPERM);
	close(own);
}

TEST_F(perm, names_eperm)
{
	ASSERT_EQ(0, kt_run_unprivileged(names_unprivileged, self->fd));
}

/*
 * Drop to uid 65534 keeping CAP_PERFMON alone: 0, or the step that
 * failed.
 */
static int perfmon_only(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	d[CAP_PERFMON / 32].permitted = 1u << (CAP_PERFMON % 32);
	d[CAP_PERFMON / 32].effective = 1u << (CAP_PERFMON % 32);
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0))
		return 1;
	if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
	    setresuid(65534, 65534, 65534))
		return 2;
	if (syscall(SYS_capset, &h, d))
		return 3;
	return geteuid() == 0 ? 4 : 0;
}

/* CAP_PERFMON without root reads the table, as it reads the buffers. */
TEST_F(perm, names_perfmon)
{
	struct ktracer_name v[KTRACER_KEV_LAST];
	struct ktracer_names n;
	int status, fd, ret;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		ret = perfmon_only();
		if (ret)
			_exit(100 + ret);
		fd = open(KTRACER_DEVICE, O_RDWR);
		CHILD_CHECK(1, fd >= 0);
		CHILD_CHECK(2, names(fd, 0, KTRACER_KEV_LAST, v, &n) == 0);
		CHILD_CHECK(3, n.count == KTRACER_KEV_LAST);
		CHILD_CHECK(4, !strcmp(v[0].name, "sched.running"));
		CHILD_CHECK(5, v[KTRACER_KEV_LAST - 1].id == KTRACER_KEV_LAST);
		/* Its privilege is CAP_PERFMON's: KEVENTS too. */
		CHILD_CHECK(6, kt_kevents(fd, 0, 0, NULL, 0, NULL) == 0);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status))
		TH_LOG("exit %d (101..104: dropping to CAP_PERFMON failed)",
		       WEXITSTATUS(status));
}

/* A call refused with @err: the caller's struct unchanged. */
static void names_fail(struct __test_metadata *_metadata, int fd, int err,
		       struct ktracer_names *n)
{
	struct ktracer_names before = *n;

	ASSERT_ERRNO(err, ioctl(fd, KTRACER_IOC_NAMES, n));
	EXPECT_EQ(0, memcmp(&before, n, sizeof(before)));
}

/*
 * EINVAL for flags, count, start and size; E2BIG; EFAULT for the struct
 * and for buf, where the entries before the fault stay written and the
 * struct is not.
 */
TEST_F(perm, names_errors)
{
	struct ktracer_name good[4], *v;
	struct {
		struct ktracer_names n;
		uint64_t tail;
	} big;
	struct ktracer_names n;
	long ps = sysconf(_SC_PAGESIZE);
	unsigned char *map;
	int i;

	memset(good, 0, sizeof(good));
	ASSERT_RET(0, names(self->fd, 0, 4, good, NULL));
	n = (struct ktracer_names){ .size = sizeof(n), .count = 4,
				    .buf = (uintptr_t)good };
	n.flags = 1;
	names_fail(_metadata, self->fd, EINVAL, &n);
	n.flags = 0x80000000u;
	names_fail(_metadata, self->fd, EINVAL, &n);
	n.flags = 0;
	n.count = KTRACER_NAMES_MAX + 1;
	names_fail(_metadata, self->fd, EINVAL, &n);
	n.count = 4;
	n.start = KTRACER_EVENT_ID_MAX + 1;
	names_fail(_metadata, self->fd, EINVAL, &n);
	n.start = 0;
	n.size = KTRACER_NAMES_SIZE_VER0 - 8;
	names_fail(_metadata, self->fd, EINVAL, &n);
	n.size = KTRACER_ARG_SIZE_MAX + 1;
	names_fail(_metadata, self->fd, EINVAL, &n);
	n.size = sizeof(n);
	big.n = n;
	big.n.size = sizeof(big);
	big.tail = 1;
	names_fail(_metadata, self->fd, E2BIG, &big.n);
	/* The largest start and count are fine. */
	n.start = KTRACER_EVENT_ID_MAX;
	n.count = 0;
	ASSERT_EQ(0, ioctl(self->fd, KTRACER_IOC_NAMES, &n));

	ASSERT_ERRNO(EFAULT, ioctl(self->fd, KTRACER_IOC_NAMES, NULL));
	n = (struct ktracer_names){ .size = sizeof(n), .count = 4 };
	names_fail(_metadata, self->fd, EFAULT, &n);
	/* Two entries fit before a page that cannot be written. */
	map = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, mprotect(map + ps, ps, PROT_READ));
	v = (struct ktracer_name *)(map + ps - 2 * sizeof(*v));
	n.buf = (uintptr_t)v;
	names_fail(_metadata, self->fd, EFAULT, &n);
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(good[i].id, v[i].id);
		EXPECT_STREQ(good[i].name, v[i].name);
	}
	munmap(map, 2 * ps);
}

TEST_HARNESS_MAIN
