// SPDX-License-Identifier: GPL-2.0
/*
 * What an unprivileged user can make the kernel hold: bounded per file,
 * charged to the user's memory cgroup, and names kept per user (quota,
 * no squatting, idle names reclaimed). The device is opened to everybody
 * (0666) and the work is done as uid 65534.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "kt_test.h"

#define MEM_FILES	16	/* files a child opens */
#define MEM_SPANS	(KTRACER_FILE_SLOTS_MAX / KTRACER_SLOTS_MAX)
#define MEM_CG		"/sys/fs/cgroup"
#define MEM_CG_MNT	"/tmp/kt-memory-cgroup"

FIXTURE(mem) {
	int fd;
	int ready[2];	/* child -> parent: a word, its result so far */
	int go[2];	/* parent -> child: carry on (and close) */
	pid_t pid;
};

FIXTURE_SETUP(mem)
{
	self->pid = -1;
	self->fd = kt_open();
	ASSERT_LE(0, self->fd) TH_LOG("open: %s", strerror(-self->fd));
	ASSERT_EQ(0, pipe(self->ready));
	ASSERT_EQ(0, pipe(self->go));
	ASSERT_EQ(0, chmod(KTRACER_DEVICE, 0666));
}

FIXTURE_TEARDOWN(mem)
{
	EXPECT_EQ(0, chmod(KTRACER_DEVICE, 0600));
	if (self->pid > 0) {
		kill(self->pid, SIGKILL);
		waitpid(self->pid, NULL, 0);
	}
	close(self->ready[0]);
	close(self->ready[1]);
	close(self->go[0]);
	close(self->go[1]);
	close(self->fd);
}

/* kB of unreclaimable kernel memory: slab and vmalloc. */
static long mem_kernel_kb(void)
{
	char *text = kt_read_file("/proc/meminfo", NULL), *s;
	long slab = -1, vm = -1;

	if (!text)
		return -1;
	s = strstr(text, "SUnreclaim:");
	if (s)
		slab = strtol(s + 11, NULL, 10);
	s = strstr(text, "VmallocUsed:");
	if (s)
		vm = strtol(s + 12, NULL, 10);
	free(text);
	return slab < 0 || vm < 0 ? -1 : slab + vm;
}

/*
 * As uid 65534 (having joined cgroup @cg if not NULL): run @fn, tell the
 * parent its result on ready, wait for go, exit (closing every file).
 */
static void mem_child(FIXTURE_DATA(mem) *self, const char *cg,
		      int64_t (*fn)(void))
{
	int64_t v;
	char c;

	self->pid = fork();
	if (self->pid)
		return;
	if (cg && kt_write_text(cg, "0"))
		_exit(101);
	if (kt_drop_privileges() || geteuid() == 0)
		_exit(100);
	v = fn();
	if (write(self->ready[1], &v, sizeof(v)) != sizeof(v))
		_exit(102);
	if (read(self->go[0], &c, 1) != 1)
		_exit(103);
	_exit(0);
}

/* The child's word, then let it exit; its exit status. */
static int mem_child_end(FIXTURE_DATA(mem) *self, int64_t *v,
			 void (*between)(FIXTURE_DATA(mem) *self, int64_t v,
					 void *ctx), void *ctx)
{
	int status;

	*v = INT64_MIN;
	if (read(self->ready[0], v, sizeof(*v)) == sizeof(*v) && between)
		between(self, *v, ctx);
	if (write(self->go[1], "x", 1) != 1 ||
	    waitpid(self->pid, &status, 0) != self->pid)
		return -1;
	self->pid = -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/*
 * MEM_FILES files, each registering the most slots a file may hold, then
 * one span more (ENOSPC). Returns 0, or the first step that went wrong.
 */
static int64_t mem_fill_files(void)
{
	char name[32];
	int64_t id;
	int f, i, fd;

	for (f = 0; f < MEM_FILES; f++) {
		fd = kt_open();
		if (fd < 0)
			return 1000 + f;
		for (i = 0; i < MEM_SPANS; i++) {
			snprintf(name, sizeof(name), "mem.span.%02d", i);
			id = kt_register(fd, KTRACER_KIND_SPAN,
					 KTRACER_SLOTS_MAX, name);
			if (id <= 0)
				return 2000 + i;
		}
		/* Past KTRACER_FILE_SLOTS_MAX, even by one slot. */
		id = kt_register(fd, KTRACER_KIND_SPAN, 1, "mem.span.over");
		if (id != -ENOSPC)
			return 3000 + (id > 0 ? 0 : -id);
		/* What the file has is still there to use. */
		snprintf(name, sizeof(name), "mem.span.%02d", 0);
		id = kt_register(fd, KTRACER_KIND_SPAN, KTRACER_SLOTS_MAX, name);
		if (id <= 0 || kt_op(fd, KTRACER_OP_START, id, 0, 0))
			return 4000;
	}
	return 0;
}

/* What MEM_FILES files at their bound cost at least: their slots. */
#define MEM_SLOTS_KB	(MEM_FILES * KTRACER_FILE_SLOTS_MAX * 8 / 1024)

TEST_F(mem, file_bounded)
{
	long before, during = 0;
	int64_t v;

	before = mem_kernel_kb();
	ASSERT_LT(0, before);
	mem_child(self, NULL, mem_fill_files);
	/* Measured while the child's files are open. */
	if (read(self->ready[0], &v, sizeof(v)) == sizeof(v))
		during = mem_kernel_kb();
	ASSERT_EQ(1, write(self->go[1], "x", 1));
	ASSERT_EQ(self->pid, waitpid(self->pid, NULL, 0));
	self->pid = -1;
	ASSERT_EQ(0, v) TH_LOG("step %lld failed", (long long)v);
	TH_LOG("slab+vmalloc %ld kB -> %ld kB with %d files (slots alone %d kB)",
	       before, during, MEM_FILES, MEM_SLOTS_KB);
	/* The slots, twice over for chunks, tracers, names; 4 MiB of noise. */
	EXPECT_GE(2 * MEM_SLOTS_KB + 4096, during - before);
}

/* A cgroup2 directory with the memory controller, or NULL (why in @why). */
static const char *mem_cgroup(char *path, size_t len, const char **why)
{
	const char *root = MEM_CG;
	char buf[256];

	if (kt_read_text(MEM_CG "/cgroup.controllers", buf, sizeof(buf)) < 0) {
		mkdir(MEM_CG_MNT, 0755);
		if (mount("none", MEM_CG_MNT, "cgroup2", 0, NULL) &&
		    errno != EBUSY) {
			*why = "no cgroup2 in this kernel";
			return NULL;
		}
		root = MEM_CG_MNT;
		snprintf(path, len, "%s/cgroup.controllers", root);
		if (kt_read_text(path, buf, sizeof(buf)) < 0) {
			*why = "cgroup2 unreadable";
			return NULL;
		}
	}
	if (!strstr(buf, "memory")) {
		*why = "no memory controller (CONFIG_MEMCG)";
		return NULL;
	}
	snprintf(path, len, "%s/cgroup.subtree_control", root);
	if (kt_write_text(path, "+memory")) {
		*why = "memory controller cannot be enabled";
		return NULL;
	}
	snprintf(path, len, "%s/kt-memory", root);
	if (mkdir(path, 0755) && errno != EEXIST) {
		*why = "cannot make a cgroup";
		return NULL;
	}
	return path;
}

static long mem_cg_current_kb(const char *cg)
{
	char path[256], buf[64];

	snprintf(path, sizeof(path), "%s/memory.current", cg);
	if (kt_read_text(path, buf, sizeof(buf)) < 0)
		return -1;
	return (long)(strtoull(buf, NULL, 10) / 1024);
}

TEST_F(mem, charged_to_memcg)
{
	char cg[200], procs[256];
	const char *why = NULL;
	long before, during = -1;
	int64_t v;

	if (!mem_cgroup(cg, sizeof(cg), &why))
		SKIP(return, "%s", why);
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
	before = mem_cg_current_kb(cg);
	ASSERT_LE(0, before);
	mem_child(self, procs, mem_fill_files);
	if (read(self->ready[0], &v, sizeof(v)) == sizeof(v))
		during = mem_cg_current_kb(cg);
	ASSERT_EQ(1, write(self->go[1], "x", 1));
	ASSERT_EQ(self->pid, waitpid(self->pid, NULL, 0));
	self->pid = -1;
	ASSERT_EQ(0, v) TH_LOG("step %lld failed", (long long)v);
	TH_LOG("memory.current %ld kB -> %ld kB with %d files (slots alone %d kB)",
	       before, during, MEM_FILES, MEM_SLOTS_KB);
	/* Each slot array is charged: at least 3/4 of them, whatever else. */
	EXPECT_LE(before + MEM_SLOTS_KB * 3 / 4, during);
	rmdir(cg);
}

static const char *mem_prefix;	/* of the names mem_fill_quota() adds */

/*
 * Registers "mem.shared" (its id is the result, or -errno), then new
 * names until one fails: that must be ENOSPC, after exactly the quota.
 */
static int64_t mem_fill_quota(void)
{
	int64_t shared, id = 0;
	char name[32];
	int fd, n;

	fd = kt_open();
	if (fd < 0)
		return fd;
	snprintf(name, sizeof(name), "mem.%s.shared", mem_prefix);
	shared = kt_register(fd, KTRACER_KIND_COUNTER, 0, name);
	if (shared <= 0 || kt_op(fd, KTRACER_OP_COUNT, shared, 0, 5))
		return -1000;
	for (n = 1; n <= KTRACER_EVENTS_MAX; n++) {
		snprintf(name, sizeof(name), "mem.%s.%04d", mem_prefix, n);
		id = kt_register(fd, KTRACER_KIND_COUNTER, 0, name);
		if (id < 0)
			break;
	}
	if (n != KTRACER_EVENTS_MAX || id != -ENOSPC)
		return -2000 - n;
	return shared;
}

/* How many lines of the events file have @uid, and name @name if given. */
static int mem_events_count(unsigned int uid, const char *name, int64_t *id)
{
	struct kt_event_line *v;
	int n, i, count = 0;

	n = kt_events_read(&v);
	for (i = 0; i < n; i++) {
		if (v[i].uid != uid || (name && strcmp(v[i].name, name)))
			continue;
		count++;
		if (id)
			*id = v[i].id;
	}
	free(v);
	return n < 0 ? n : count;
}

struct mem_root {
	int64_t root_new, root_shared;
	int user_names;
};

/* While the user holds its whole quota in use: what root can do. */
static void mem_as_root(FIXTURE_DATA(mem) *self, int64_t v, void *ctx)
{
	struct mem_root *r = ctx;

	r->root_new = kt_register(self->fd, KTRACER_KIND_SPAN, 2,
				  "mem.root.new");
	r->root_shared = kt_register(self->fd, KTRACER_KIND_COUNTER, 0,
				     "mem.a.shared");
	r->user_names = mem_events_count(65534, NULL, NULL);
}

TEST_F(mem, quota_per_user)
{
	struct mem_root r = { 0 };
	int64_t shared, id = 0;

	mem_prefix = "a";
	mem_child(self, NULL, mem_fill_quota);
	ASSERT_EQ(0, mem_child_end(self, &shared, mem_as_root, &r));
	ASSERT_LT(0, shared) TH_LOG("the user's fill: %lld", (long long)shared);

	/* Root still registers, and its "mem.shared" is its own. */
	ASSERT_LT(0, r.root_new) TH_LOG("root: %s", strerror(-r.root_new));
	ASSERT_LT(0, r.root_shared);
	EXPECT_NE(shared, r.root_shared);
	EXPECT_EQ(KTRACER_EVENTS_MAX, r.user_names);
	EXPECT_EQ(1, mem_events_count(0, "mem.a.shared", &id));
	EXPECT_EQ(r.root_shared, id);
	EXPECT_EQ(1, mem_events_count(65534, "mem.a.shared", &id));
	EXPECT_EQ(shared, id);
	/* The user's 5 are not in root's total: root's COUNT starts at 0. */
	EXPECT_EQ(0, kt_op(self->fd, KTRACER_OP_COUNT, r.root_shared, 0, 1));

	/*
	 * The user's files are closed: its names are idle, and a new
	 * program of that user gets its whole quota again, the oldest idle
	 * names making room.
	 */
	mem_prefix = "b";
	mem_child(self, NULL, mem_fill_quota);
	ASSERT_EQ(0, mem_child_end(self, &id, NULL, NULL));
	ASSERT_LT(0, id) TH_LOG("the user's second fill: %lld", (long long)id);
	EXPECT_EQ(KTRACER_EVENTS_MAX, mem_events_count(65534, NULL, NULL));
	EXPECT_EQ(0, mem_events_count(65534, "mem.a.shared", NULL));
	EXPECT_EQ(0, mem_events_count(65534, "mem.a.1000", NULL));
	/* Root's is another name: it stays. */
	EXPECT_EQ(1, mem_events_count(0, "mem.a.shared", NULL));
}

TEST_HARNESS_MAIN
