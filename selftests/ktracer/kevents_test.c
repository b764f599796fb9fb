// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel events: KTRACER_IOC_KEVENTS and debugfs' kevents file, their
 * errors, and what each source records, held against what the kernel
 * counts by other means: a thread's context switches in /proc, a child's
 * fork, exec and exit status, a known run of system calls, block requests
 * to null_blk, interrupts under load, sources switched on and off under
 * writers and a reader, ktracer's own tracepoints in tracefs, and the
 * trace file showing kernel and program records together.
 *
 * Every test leaves every source off and the pid filter empty (every
 * process), as the module loads; zzz_kevents_left_on_test is the one
 * program that does not.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>

#include "kselftest_harness.h"
#include "kt_test.h"
#include "kt_ring.h"
#include "kt_seq.h"

#define TRACEFS		"/sys/kernel/tracing"
#define KEVENTS_FILE	KT_DEBUGFS "/kevents"

#define PING_ROUNDS	2000
#define NR_GETPPID	1000
#define NR_BLOCK_IO	200
#define LOAD_NS		(3 * KT_NSEC_PER_SEC)
#define SERIAL_TTY	"ttyS0"	/* the console: interrupts on demand */
#define SERIAL_LINES	300
#define WAIT_NS		(10 * KT_NSEC_PER_SEC)

#define SRC_SET		(KTRACER_KEVENTS_SOURCES | KTRACER_KEVENTS_PIDS)

/* Set in the environment of a program this test execs: see exec_child(). */
#define EXEC_CHILD_ENV	"KT_KEVENTS_EXEC_CHILD"
#define EXEC_CHILD_CODE	7

/*
 * task_fork_exec_exit execs this very program with EXEC_CHILD_ENV=FD:
 * before the harness starts, the new image writes the comm exec gave it
 * to FD and exits with EXEC_CHILD_CODE.
 */
static void __attribute__((constructor)) exec_child(void)
{
	const char *env = getenv(EXEC_CHILD_ENV);
	char comm[KTRACER_COMM_MAX + 1];
	int fd;

	if (!env)
		return;
	fd = atoi(env);
	if (kt_read_text("/proc/self/comm", comm, sizeof(comm)) ||
	    write(fd, comm, strlen(comm)) != (ssize_t)strlen(comm))
		_exit(100);
	_exit(EXEC_CHILD_CODE);
}

FIXTURE(kev) {
	int fd;
	uint32_t available;
	struct kt_rings rings;
	struct kt_recs recs;	/* a SWITCH as its STOP and START, mostly */
	struct kt_recs raw;	/* consume()'s records as they are */
	int dev_fd;		/* block_null_blk's device */
	struct kt_mods mods;	/* modules it loaded */
	bool tracefs_used;
};

FIXTURE_SETUP(kev)
{
	struct ktracer_kevents k;

	self->dev_fd = -1;
	self->fd = kt_open();
	ASSERT_LE(0, self->fd) TH_LOG("open: %s", strerror(-self->fd));
	/* Whatever a test that was killed left: no source, every process. */
	ASSERT_RET(0, kt_kevents(self->fd, SRC_SET, 0, NULL, 0, &k));
	self->available = k.available;
	ASSERT_EQ(0, k.sources);
	/* Recording on, empty buffers. */
	ASSERT_RET(0, kt_restore_defaults(self->fd));
}

static void tracefs_reset(void)
{
	kt_write_text(TRACEFS "/events/ktracer/enable", "0");
	kt_write_text(TRACEFS "/tracing_on", "1");
	/* Opening it for writing with O_TRUNC empties the trace. */
	close(open(TRACEFS "/trace", O_WRONLY | O_TRUNC));
}

FIXTURE_TEARDOWN(kev)
{
	kt_recs_free(&self->recs);
	kt_recs_free(&self->raw);
	kt_rings_unmap(&self->rings);
	if (self->tracefs_used)
		tracefs_reset();
	if (self->fd >= 0)
		EXPECT_EQ(0, kt_close_restored(self->fd));
	if (self->dev_fd >= 0)
		close(self->dev_fd);
	EXPECT_EQ(0, kt_unload_extra(&self->mods));
}

/* The sources on, as KTRACER_IOC_KEVENTS reports them, or -errno. */
static int64_t sources_on(int fd)
{
	struct ktracer_kevents k;
	int ret = kt_kevents(fd, 0, 0, NULL, 0, &k);

	return ret ? ret : (int64_t)k.sources;
}

static int cmp_s32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

/*
 * Both the ioctl and the kevents file show @on, and the file shows the
 * pid filter @pids[0..@npids-1] in any order (npids 0: "pids all").
 */
static void expect_state(struct __test_metadata *_metadata, int fd,
			 uint32_t on, const int32_t *pids, int npids)
{
	struct kt_kevents_file f;
	int32_t want[KTRACER_PIDS_MAX];
	int i;

	ASSERT_EQ(on, sources_on(fd));
	ASSERT_RET(0, kt_kevents_read(&f));
	ASSERT_EQ(on, f.on);
	if (!npids) {
		ASSERT_EQ(-1, f.npids) TH_LOG("want \"pids all\"");
		return;
	}
	ASSERT_EQ(npids, f.npids);
	memcpy(want, pids, npids * sizeof(*pids));
	qsort(want, npids, sizeof(*want), cmp_s32);
	qsort(f.pids, npids, sizeof(*f.pids), cmp_s32);
	for (i = 0; i < npids; i++)
		ASSERT_EQ(want[i], f.pids[i]);
}

/* Records of kernel event @ev in @recs, and those of them about @tid. */
static size_t count_kev(const struct kt_recs *recs, size_t from, size_t to,
			uint32_t ev, uint8_t type, int64_t tid)
{
	size_t i, n = 0;

	for (i = from; i < to; i++)
		if (recs->v[i].hdr.event == ev && recs->v[i].hdr.type == type &&
		    (tid < 0 || recs->v[i].hdr.tid == tid))
			n++;
	return n;
}

/* The kernel events are in the name table, under their ids, for good. */
TEST_F(kev, kernel_event_names)
{
	static const struct {
		uint32_t id;
		const char *name, *kind;
	} kev[] = {
		{ KTRACER_KEV_RUNNING, "sched.running", "span" },
		{ KTRACER_KEV_WAKEUP, "sched.wakeup", "log" },
		{ KTRACER_KEV_FORK, "task.fork", "log" },
		{ KTRACER_KEV_EXEC, "task.exec", "log" },
		{ KTRACER_KEV_EXIT, "task.exit", "log" },
		{ KTRACER_KEV_IRQ, "irq", "span" },
		{ KTRACER_KEV_SOFTIRQ, "softirq", "span" },
		{ KTRACER_KEV_SYSCALL, "syscall", "span" },
		{ KTRACER_KEV_BLOCK, "block.rq", "span" },
	};
	const struct kt_event_line *e;
	struct kt_event_line *v;
	unsigned int i;
	int64_t id;
	int n;

	n = kt_events_read(&v);
	ASSERT_LE(0, n) TH_LOG("events: %s", strerror(-n));
	for (i = 0; i < sizeof(kev) / sizeof(kev[0]); i++) {
		e = kt_events_find(v, n, kev[i].name);
		ASSERT_NE(NULL, e) TH_LOG("%s not in the events file",
					  kev[i].name);
		EXPECT_EQ(kev[i].id, e->id);
		EXPECT_STREQ(kev[i].kind, e->kind);
		/* Not even with the very kind and slots the table lists. */
		EXPECT_EQ(-EEXIST, kt_register(self->fd, !strcmp(e->kind, "span") ?
					       KTRACER_KIND_SPAN : KTRACER_KIND_LOG,
					       e->slots, kev[i].name))
			TH_LOG("a program registered %s", kev[i].name);
		EXPECT_EQ(-EEXIST, kt_register(self->fd, KTRACER_KIND_GAUGE, 0,
					       kev[i].name));
		/* Nor record one: this file has not registered it. */
		if (!strcmp(e->kind, "span"))
			ASSERT_OP_ERRNO(ENOENT, self->fd, KTRACER_OP_START,
					kev[i].id, 0, 0);
		else
			ASSERT_RET(-ENOENT, kt_log(self->fd, kev[i].id, "x", 1));
	}
	free(v);
	id = kt_register(self->fd, KTRACER_KIND_GAUGE, 0, "kev.names.user");
	ASSERT_LT(KTRACER_KEV_LAST, id) TH_LOG("a program's event got id %lld",
					       (long long)id);
}

/* The state the error cases start from, and must leave alone. */
struct kev_state {
	uint32_t on;
	int npids;
	int32_t pids[2];
};

/* A call of @k fails with exactly @err and changes nothing at all. */
static void fails(struct __test_metadata *_metadata, int fd, int err,
		  struct ktracer_kevents *k, const struct kev_state *st)
{
	struct ktracer_kevents before = *k;

	ASSERT_ERRNO(err, ioctl(fd, KTRACER_IOC_KEVENTS, k));
	ASSERT_EQ(0, memcmp(&before, k, sizeof(before)))
		TH_LOG("a failed call wrote its argument");
	expect_state(_metadata, fd, st->on, st->pids, st->npids);
}

/* A request that would succeed from @st; each case breaks one thing. */
static struct ktracer_kevents valid(const struct kev_state *st,
				    uint32_t sources)
{
	struct ktracer_kevents k;

	memset(&k, 0, sizeof(k));
	k.size = sizeof(k);
	k.flags = SRC_SET;
	k.sources = sources;
	k.pids = (uintptr_t)st->pids;
	k.npids = st->npids;
	return k;
}

/* Every errno of KTRACER_IOC_KEVENTS, each of which changes nothing. */
TEST_F(kev, ioctl_errors)
{
	struct kev_state st = { .npids = 2, .pids = { 1, getpid() } };
	int32_t many[KTRACER_PIDS_MAX + 1], bad[2] = { getpid(), 0 };
	int32_t own = getpid(), negative = -1;
	struct {
		struct ktracer_kevents k;
		uint64_t tail;
	} big;
	struct ktracer_kevents k;
	long ps = sysconf(_SC_PAGESIZE);
	void *none;
	int i;

	st.on = (KTRACER_SRC_SCHED | KTRACER_SRC_SOFTIRQ) & self->available;
	ASSERT_NE(0, st.on) TH_LOG("neither SCHED nor SOFTIRQ is available");
	k = valid(&st, st.on);
	ASSERT_EQ(0, ioctl(self->fd, KTRACER_IOC_KEVENTS, &k));
	EXPECT_EQ(sizeof(k), k.size);
	EXPECT_EQ(st.on, k.sources);
	EXPECT_EQ(self->available, k.available);
	expect_state(_metadata, self->fd, st.on, st.pids, st.npids);

	k = valid(&st, st.on);
	k.flags = 0x8;
	fails(_metadata, self->fd, EINVAL, &k, &st);
	k.flags = 0x80000000u;
	fails(_metadata, self->fd, EINVAL, &k, &st);
	k = valid(&st, st.on | (KTRACER_SRC_ALL + 1));
	fails(_metadata, self->fd, EINVAL, &k, &st);
	k = valid(&st, 0x80000000u);
	fails(_metadata, self->fd, EINVAL, &k, &st);
	k = valid(&st, st.on);
	k.__reserved = 1;
	fails(_metadata, self->fd, EINVAL, &k, &st);

	/* The size rules of every command. */
	k = valid(&st, st.on);
	k.size = KTRACER_KEVENTS_SIZE_VER0 - 8;
	fails(_metadata, self->fd, EINVAL, &k, &st);
	k.size = KTRACER_ARG_SIZE_MAX + 1;
	fails(_metadata, self->fd, EINVAL, &k, &st);
	big.k = valid(&st, 0);
	big.k.size = sizeof(big);
	big.tail = 1;
	fails(_metadata, self->fd, E2BIG, &big.k, &st);

	/* The pid filter. */
	for (i = 0; i <= KTRACER_PIDS_MAX; i++)
		many[i] = getpid();
	k = valid(&st, 0);
	k.pids = (uintptr_t)many;
	k.npids = KTRACER_PIDS_MAX + 1;
	fails(_metadata, self->fd, EINVAL, &k, &st);
	k.pids = (uintptr_t)bad;
	k.npids = 2;
	fails(_metadata, self->fd, EINVAL, &k, &st);
	k.pids = (uintptr_t)&negative;
	k.npids = 1;
	fails(_metadata, self->fd, EINVAL, &k, &st);
	none = mmap(NULL, ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, none);
	k.pids = (uintptr_t)none;
	fails(_metadata, self->fd, EFAULT, &k, &st);
	munmap(none, ps);
	ASSERT_ERRNO(EFAULT, ioctl(self->fd, KTRACER_IOC_KEVENTS, NULL));
	expect_state(_metadata, self->fd, st.on, st.pids, st.npids);

	/* SYSCALL never records every process... */
	k = valid(&st, KTRACER_SRC_SYSCALL);
	k.npids = 0;
	fails(_metadata, self->fd, EINVAL, &k, &st);
	/* ...whether the filter is emptied with it, before it... */
	ASSERT_RET(0, kt_kevents(self->fd, KTRACER_KEVENTS_PIDS, 0, NULL, 0,
				 NULL));
	st.npids = 0;
	k = valid(&st, st.on | KTRACER_SRC_SYSCALL);
	k.flags = KTRACER_KEVENTS_SOURCES;
	k.pids = 0;
	fails(_metadata, self->fd, EINVAL, &k, &st);
	/* ...or after it. */
	ASSERT_RET(0, kt_kevents(self->fd, SRC_SET, st.on | KTRACER_SRC_SYSCALL,
				 &own, 1, NULL));
	st.on |= KTRACER_SRC_SYSCALL;
	st.npids = 1;
	st.pids[0] = own;
	k = valid(&st, 0);
	k.flags = KTRACER_KEVENTS_PIDS;
	k.npids = 0;
	fails(_metadata, self->fd, EINVAL, &k, &st);

	/* A larger struct with zeros past the kernel's is fine. */
	big.k = valid(&st, 0);
	big.k.flags = 0;
	big.k.pids = 0;
	big.k.npids = 0;
	big.k.size = sizeof(big);
	big.tail = 0;
	ASSERT_EQ(0, ioctl(self->fd, KTRACER_IOC_KEVENTS, &big.k));
	EXPECT_EQ(KTRACER_KEVENTS_SIZE_VER0, big.k.size);
	EXPECT_EQ(st.on, big.k.sources);
}

/* With privileges dropped: every call refused before anything is read. */
static void kevents_unprivileged(int fd)
{
	struct ktracer_kevents k;

	if (kt_kevents(fd, 0, 0, NULL, 0, NULL) != -EPERM)
		_exit(1);
	if (kt_kevents(fd, KTRACER_KEVENTS_SOURCES, KTRACER_SRC_SCHED, NULL,
		       0, NULL) != -EPERM)
		_exit(2);
	if (ioctl(fd, KTRACER_IOC_KEVENTS, NULL) != -1 || errno != EPERM)
		_exit(3);
	memset(&k, 0xff, sizeof(k));
	if (ioctl(fd, KTRACER_IOC_KEVENTS, &k) != -1 || errno != EPERM)
		_exit(4);
}

/* Privilege is the caller's, whoever opened the file. */
TEST_F(kev, ioctl_eperm)
{
	ASSERT_EQ(0, kt_run_unprivileged(kevents_unprivileged, self->fd));
	expect_state(_metadata, self->fd, 0, NULL, 0);
}

/* The tracepoints behind each source, as tracefs lists them. */
static const char *const source_event[KT_NR_SOURCES] = {
	"sched/sched_switch", "sched/sched_process_fork",
	"irq/irq_handler_entry", "irq/softirq_entry", "raw_syscalls/sys_enter",
	"block/block_rq_issue",
};

/* "available" is what this kernel has: its tracepoints are in tracefs. */
TEST_F(kev, available)
{
	struct kt_kevents_file f;
	uint32_t want = 0;
	char path[128];
	int i;

	ASSERT_EQ(0, self->available & ~KTRACER_SRC_ALL);
	ASSERT_RET(0, kt_kevents_read(&f));
	EXPECT_EQ(self->available, f.available);
	if (access(TRACEFS "/events", F_OK))
		SKIP(return, "tracefs is not mounted at " TRACEFS);
	for (i = 0; i < KT_NR_SOURCES; i++) {
		snprintf(path, sizeof(path), TRACEFS "/events/%s",
			 source_event[i]);
		if (!access(path, F_OK))
			want |= 1u << i;
	}
	EXPECT_EQ(want, self->available)
		TH_LOG("tracefs has the tracepoints of sources 0x%x", want);
}

/* A source this kernel cannot have: EOPNOTSUPP, from either side. */
TEST_F(kev, unavailable_eopnotsupp)
{
	uint32_t missing = KTRACER_SRC_ALL & ~self->available;
	uint32_t on = KTRACER_SRC_SOFTIRQ & self->available;
	char text[64];
	int i;

	if (!missing)
		SKIP(return, "every source is available on this kernel");
	ASSERT_RET(0, kt_kevents(self->fd, KTRACER_KEVENTS_SOURCES, on, NULL,
				 0, NULL));
	for (i = 0; i < KT_NR_SOURCES; i++) {
		if (!(missing & (1u << i)))
			continue;
		ASSERT_RET(-EOPNOTSUPP,
			   kt_kevents(self->fd, KTRACER_KEVENTS_SOURCES,
				      on | 1u << i, NULL, 0, NULL));
		snprintf(text, sizeof(text), "softirq=0 %s=1",
			 kt_source_names[i]);
		ASSERT_RET(-EOPNOTSUPP, kt_write_text(KEVENTS_FILE, text));
		expect_state(_metadata, self->fd, on, NULL, 0);
	}
}

/* Writes to the kevents file, read back through the file and the ioctl. */
TEST_F(kev, debugfs_round_trip)
{
	uint32_t two = (KTRACER_SRC_SCHED | KTRACER_SRC_SOFTIRQ) & self->available;
	int32_t pids[2] = { 1, getpid() };
	char text[128];

	expect_state(_metadata, self->fd, 0, NULL, 0);
	ASSERT_RET(0, kt_write_text(KEVENTS_FILE, "sched=1 softirq=1\n"));
	expect_state(_metadata, self->fd, two, NULL, 0);

	snprintf(text, sizeof(text), "pids=1,%d", getpid());
	ASSERT_RET(0, kt_write_text(KEVENTS_FILE, text));
	expect_state(_metadata, self->fd, two, pids, 2);

	/* One write is applied as a whole: the filter and what needs it. */
	snprintf(text, sizeof(text), "pids=%d\tsyscall=1  sched=0", getpid());
	ASSERT_RET(0, kt_write_text(KEVENTS_FILE, text));
	expect_state(_metadata, self->fd,
		     (two & ~KTRACER_SRC_SCHED) | KTRACER_SRC_SYSCALL,
		     &pids[1], 1);

	ASSERT_RET(0, kt_write_text(KEVENTS_FILE,
				    "syscall=0 softirq=0 pids=all"));
	expect_state(_metadata, self->fd, 0, NULL, 0);

	/* And the ioctl's changes show in the file. */
	ASSERT_RET(0, kt_kevents(self->fd, SRC_SET, two, pids, 2, NULL));
	expect_state(_metadata, self->fd, two, pids, 2);
}

/* Words the file refuses with EINVAL, changing nothing. */
TEST_F(kev, debugfs_bad_tokens)
{
	static const char *const bad[] = {
		"bogus=1", "sched=2", "sched=", "sched", "=1", "sched=1x",
		"SCHED=1", "pids=", "pids=0", "pids=-3", "pids=1,,2",
		"pids=1,", "pids=x", "pids=all,1", "sched=1 bogus=1",
		"softirq=1 pids=0", "syscall=1", "pids=all syscall=1",
	};
	char many[KTRACER_PIDS_MAX * 8 + 16];
	size_t i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = kt_write_text(KEVENTS_FILE, bad[i]);

		EXPECT_EQ(-EINVAL, ret) TH_LOG("'%s'", bad[i]);
		/* Taken: put it back, and go on with the other words. */
		if (!ret)
			ASSERT_RET(0, kt_kevents_off(self->fd));
		expect_state(_metadata, self->fd, 0, NULL, 0);
	}
	n = snprintf(many, sizeof(many), "pids=");
	for (i = 0; i <= KTRACER_PIDS_MAX; i++)
		n += snprintf(many + n, sizeof(many) - n, "%s%zu", i ? "," : "",
			      i + 1);
	ASSERT_RET(-EINVAL, kt_write_text(KEVENTS_FILE, many));
	expect_state(_metadata, self->fd, 0, NULL, 0);
}

static void debugfs_unprivileged(int fd)
{
	if (write(fd, "sched=1", 7) != -1 || errno != EPERM)
		_exit(1);
	if (open(KEVENTS_FILE, O_RDONLY) != -1 || errno != EACCES)
		_exit(2);
	if (open(KEVENTS_FILE, O_WRONLY) != -1 || errno != EACCES)
		_exit(3);
}

/* The file, even opened by root, takes no word from anybody else. */
TEST_F(kev, debugfs_eperm)
{
	int fd = open(KEVENTS_FILE, O_WRONLY);

	ASSERT_LE(0, fd);
	EXPECT_EQ(0, kt_run_unprivileged(debugfs_unprivileged, fd));
	close(fd);
	expect_state(_metadata, self->fd, 0, NULL, 0);
}

/*
 * What is wrong in a stream of records: how often, and the first time.
 * A check goes on after a fault, so that one test reports them all.
 */
struct faults {
	unsigned long n;
	char first[256];
};

static void __attribute__((format(printf, 2, 3)))
fault(struct faults *f, const char *fmt, ...)
{
	va_list ap;

	if (!f->n++) {
		va_start(ap, fmt);
		vsnprintf(f->first, sizeof(f->first), fmt, ap);
		va_end(ap);
	}
}

#define EXPECT_NO_FAULTS(f, what)					\
	EXPECT_EQ(0, (f)->n) TH_LOG("%s: %lu, the first: %s", what,	\
				    (f)->n, (f)->first)

/* One CPU's span of a kernel event: sched.running, irq or softirq. */
struct span {
	bool open;
	bool unknown;		/* after a LOST record: anything goes once */
	uint64_t key;		/* tid, irq or vector */
	uint64_t ts;
};

/*
 * Apply a START or STOP of @key to @s, where it must open what is closed
 * or close what it opened, with the time since as the STOP's extra.
 */
static void span_step(struct span *s, const struct kt_rec *rec, uint64_t key,
		      struct faults *f)
{
	const struct ktracer_record *h = &rec->hdr;
	const char *name = h->event == KTRACER_KEV_RUNNING ? "sched.running" :
			   h->event == KTRACER_KEV_IRQ ? "irq" : "softirq";
	struct span was = *s;

	*s = (struct span){ .open = h->type == KTRACER_REC_START, .key = key,
			    .ts = h->ts };
	/* After a LOST record, its START or STOP may be among the lost. */
	if (was.unknown)
		return;
	if (h->type == KTRACER_REC_START) {
		if (was.open)
			fault(f, "cpu %d at %llu: %s START of %llu while %llu is open",
			      rec->cpu, (unsigned long long)rec->pos, name,
			      (unsigned long long)key,
			      (unsigned long long)was.key);
		return;
	}
	if (!was.open || was.key != key || h->extra != h->ts - was.ts)
		fault(f, "cpu %d at %llu: %s STOP of %llu (extra %llu) after %s%llu (%llu ns before)",
		      rec->cpu, (unsigned long long)rec->pos, name,
		      (unsigned long long)key, (unsigned long long)h->extra,
		      was.open ? "the START of " : "no START; last ",
		      (unsigned long long)was.key,
		      (unsigned long long)(h->ts - was.ts));
}

/* A thread of the ping-pong: it and the other pass a byte N times. */
struct pinger {
	int cpu;
	bool first;		/* sends the first byte */
	int in, out;		/* its pipe, the other's */
	int rounds;
	int report;		/* to the test: its tid when ready, when done */
	char name[KTRACER_COMM_MAX];
	pid_t tid;
	int err;		/* -errno, -EPROTO: a byte out of place */
};

static int get_byte(int fd, char want)
{
	char c;
	ssize_t n = read(fd, &c, 1);

	return n < 0 ? -errno : n == 1 && c == want ? 0 : -EPROTO;
}

static int put_byte(int fd, char c)
{
	return write(fd, &c, 1) == 1 ? 0 : -errno;
}

static void *pinger_thread(void *arg)
{
	struct pinger *p = arg;
	int i, err;

	err = kt_pin_cpu(p->cpu);
	if (!err && prctl(PR_SET_NAME, p->name))
		err = -errno;
	p->tid = kt_gettid();
	p->err = err;
	/* Ready: from here on it blocks on its pipe, if all is well. */
	if (write(p->report, &p->tid, sizeof(p->tid)) != sizeof(p->tid) || err)
		return NULL;
	if (p->first)
		err = get_byte(p->in, 'g');
	for (i = 0; !err && i < p->rounds; i++) {
		if (p->first) {
			err = put_byte(p->out, 'p');
			if (!err)
				err = get_byte(p->in, 'p');
		} else {
			err = get_byte(p->in, 'p');
			if (!err)
				err = put_byte(p->out, 'p');
		}
	}
	p->err = err;
	if (p->first || err)
		write(p->report, &p->tid, sizeof(p->tid));
	if (!err)
		p->err = get_byte(p->in, 'x');
	return NULL;
}

/*
 * Pingers @n0 on CPU @cpu0 and @n1 on @cpu1, @rounds round trips over new
 * pipes @a (to @n0) and @b (to @n1), reporting on @report; the SCHED
 * source on for @pid before their threads exist. 0 or -errno.
 */
static int pingers_start(int fd, int32_t pid, struct pinger p[2],
			 pthread_t t[2], int a[2], int b[2], int report[2],
			 int cpu0, int cpu1, int rounds, const char *n0,
			 const char *n1)
{
	int k, err;

	if (pipe(a) || pipe(b) || pipe(report))
		return -errno;
	p[0] = (struct pinger){ .cpu = cpu0, .first = true, .in = a[0],
				.out = b[1], .report = report[1],
				.rounds = rounds };
	p[1] = (struct pinger){ .cpu = cpu1, .in = b[0], .out = a[1],
				.report = report[1], .rounds = rounds };
	snprintf(p[0].name, sizeof(p[0].name), "%s", n0);
	snprintf(p[1].name, sizeof(p[1].name), "%s", n1);
	err = kt_kevents(fd, SRC_SET, KTRACER_SRC_SCHED, &pid, 1, NULL);
	if (err)
		return err;
	for (k = 0; k < 2; k++) {
		err = pthread_create(&t[k], NULL, pinger_thread, &p[k]);
		if (err)
			return -err;
	}
	return 0;
}

/* The first pinger's error, and its name in *@who. */
static int pingers_err(const struct pinger *p, const char **who)
{
	int k, err;

	for (k = 0; k < 2; k++) {
		err = __atomic_load_n(&p[k].err, __ATOMIC_ACQUIRE);
		if (err) {
			*who = p[k].name;
			return err;
		}
	}
	return 0;
}

/*
 * Tell both pingers to stop (on @a and @b) and wait for them: 0, or the
 * first one's error (pingers_err()).
 */
static int pingers_stop(struct pinger p[2], pthread_t t[2], int a[2],
			int b[2], const char **who)
{
	int k, err;

	*who = "test";
	err = put_byte(a[1], 'x');
	if (!err)
		err = put_byte(b[1], 'x');
	for (k = 0; k < 2 && !err; k++)
		err = -pthread_join(t[k], NULL);
	return err ? err : pingers_err(p, who);
}

/* A thread's context switches so far, from /proc. */
struct ctxsw {
	long long vol, invol;
};

static int read_ctxsw(pid_t tid, struct ctxsw *c)
{
	char path[64], *buf, *line, *save = NULL;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	buf = kt_read_file(path, NULL);
	if (!buf)
		return -errno;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		found += sscanf(line, "voluntary_ctxt_switches: %lld",
				&c->vol) == 1;
		found += sscanf(line, "nonvoluntary_ctxt_switches: %lld",
				&c->invol) == 1;
	}
	free(buf);
	return found == 2 ? 0 : -EBADMSG;
}

static int add_both(void *ctx, const struct kt_rec *rec)
{
	FIXTURE_DATA(kev) *self = ctx;
	int ret = kt_recs_add(&self->raw, rec);

	return ret ? ret : kt_recs_add_split(&self->recs, rec);
}

/*
 * Consume every CPU into self->recs, each SWITCH as its STOP and START,
 * and as they are into self->raw, keeping what is there.
 */
static int64_t consume(FIXTURE_DATA(kev) *self)
{
	return kt_rings_consume(&self->rings, add_both, self);
}

/*
 * Is pinger @p off its CPU, asleep? Its last sched.running record there
 * is a STOP in a sleeping state: the switch, and its count in /proc, are
 * done. (Records of the CPU it started on, before it was pinned, are in
 * another CPU's part of @recs.)
 */
static bool asleep(const struct kt_recs *recs, const struct pinger *p)
{
	size_t i = recs->n;

	while (i--) {
		const struct ktracer_record *h = &recs->v[i].hdr;

		if (h->event == KTRACER_KEV_RUNNING && recs->v[i].cpu == p->cpu &&
		    h->tid == (uint32_t)p->tid)
			return h->type == KTRACER_REC_STOP && h->arg;
	}
	return false;
}

/* Consume until both pingers are asleep: 0, or -ETIMEDOUT, or -errno. */
static int64_t wait_asleep(FIXTURE_DATA(kev) *self, const struct pinger *p)
{
	uint64_t deadline = kt_now() + WAIT_NS;
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN };
	int64_t n;

	for (;;) {
		n = consume(self);
		if (n < 0)
			return n;
		if (asleep(&self->recs, &p[0]) && asleep(&self->recs, &p[1]))
			return 0;
		if (kt_now() > deadline)
			return -ETIMEDOUT;
		/* Nothing to wait on but the records themselves. */
		poll(&pfd, 1, 1);
	}
}

/*
 * Take @reports reports from the pingers, wait until both are asleep and
 * read their switch counts into @c[]: self->recs[0..*@mark) are the
 * records up to then. 0, or -errno (@who: the pinger, if it was one's).
 */
static int settle(FIXTURE_DATA(kev) *self, const struct pinger *p,
		  int report, int reports, struct ctxsw *c, size_t *mark,
		  const char **who)
{
	pid_t tid;
	int k, err;

	*who = "the test";
	for (k = 0; k < reports; k++)
		if (read(report, &tid, sizeof(tid)) != sizeof(tid))
			return -EIO;
	err = pingers_err(p, who);
	if (!err)
		err = wait_asleep(self, p);
	*mark = self->recs.n;
	for (k = 0; !err && k < 2; k++)
		err = read_ctxsw(p[k].tid, &c[k]);
	return err;
}

/*
 * sched.running counts exactly the switches /proc counts: two threads on
 * two CPUs pass a byte back and forth PING_ROUNDS times, with the SCHED
 * source on for this process only.
 */
TEST_F_TIMEOUT(kev, sched_running_counts, 90)
{
	struct pinger p[2];
	struct ctxsw before[2], after[2];
	struct span cpu[KT_MAX_CPUS];
	int32_t pid = getpid();
	int a[2], b[2], report[2];
	struct pollfd pfd[2];
	size_t b0, b1, i;
	pthread_t t[2];
	pid_t main_tid = kt_gettid();
	struct faults spans = { 0 }, others = { 0 };
	const char *who = NULL;
	int k, ret;

	if (kt_nr_cpus() < 2)
		SKIP(return, "the ping-pong needs 2 CPUs");
	ASSERT_GE(KT_MAX_CPUS, kt_nr_cpus());
	ASSERT_RET(0, kt_rings_map(self->fd, &self->rings));
	/* On before the threads exist: each of their STARTs is recorded. */
	ASSERT_RET(0, pingers_start(self->fd, pid, p, t, a, b, report, 0, 1,
				    PING_ROUNDS, "kt.ping", "kt.pong"));
	ret = settle(self, p, report[0], 2, before, &b0, &who);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", who, strerror(-ret));

	ASSERT_RET(0, put_byte(a[1], 'g'));
	/* Keep the buffers from filling while the rounds run. */
	pfd[0] = (struct pollfd){ .fd = self->fd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = report[0], .events = POLLIN };
	for (;;) {
		ASSERT_LE(0, poll(pfd, 2, 100));
		ASSERT_LE(0, consume(self));
		if (pfd[1].revents)
			break;
	}
	ret = settle(self, p, report[0], 1, after, &b1, &who);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", who, strerror(-ret));
	ASSERT_RET(0, kt_kevents(self->fd, KTRACER_KEVENTS_SOURCES, 0, NULL, 0,
				 NULL));
	ret = pingers_stop(p, t, a, b, &who);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", who, strerror(-ret));
	ASSERT_LE(0, consume(self));

	for (k = 0; k < self->rings.nr; k++) {
		EXPECT_EQ(0, self->rings.ring[k].meta->lost)
			TH_LOG("cpu %d lost records", k);
		EXPECT_EQ(0, self->rings.ring[k].losts);
	}

	/* Per CPU: START(X) STOP(X) START(Y) STOP(Y) ..., timed. */
	memset(cpu, 0, sizeof(cpu));
	for (i = 0; i < self->recs.n; i++) {
		const struct kt_rec *r = &self->recs.v[i];

		if (r->hdr.event == KTRACER_KEV_RUNNING)
			span_step(&cpu[r->cpu], r, r->hdr.tid, &spans);
		/* The filter: this process's records only. */
		if ((r->hdr.event == KTRACER_KEV_RUNNING ||
		     r->hdr.event == KTRACER_KEV_WAKEUP) &&
		    r->hdr.pid != (uint32_t)pid)
			fault(&others, "%s record of %u/%u",
			      r->hdr.event == KTRACER_KEV_RUNNING ?
			      "sched.running" : "sched.wakeup",
			      r->hdr.pid, r->hdr.tid);
	}
	EXPECT_NO_FAULTS(&spans, "sched.running out of turn");
	EXPECT_NO_FAULTS(&others, "records of other processes");

	for (k = 0; k < 2; k++) {
		long long dvol = after[k].vol - before[k].vol;
		long long dsw = dvol + after[k].invol - before[k].invol;
		size_t stops = count_kev(&self->recs, b0, b1, KTRACER_KEV_RUNNING,
					 KTRACER_REC_STOP, p[k].tid);
		size_t wakeups = 0, starts = 0;
		struct faults bad = { 0 }, waker = { 0 };

		for (i = b0; i < b1; i++) {
			const struct kt_rec *r = &self->recs.v[i];
			const char *msg = (const char *)r->msg;

			if (r->hdr.tid != (uint32_t)p[k].tid)
				continue;
			if (r->hdr.event == KTRACER_KEV_RUNNING) {
				if (r->cpu != p[k].cpu)
					fault(&bad, "sched.running on cpu %d",
					      r->cpu);
				if (r->hdr.type == KTRACER_REC_START) {
					if (strcmp(p[k].name, msg))
						fault(&bad, "START as '%s'", msg);
					starts++;
				}
			} else if (r->hdr.event == KTRACER_KEV_WAKEUP) {
				if (strcmp(p[k].name, msg))
					fault(&bad, "wakeup as '%s'", msg);
				if (r->hdr.extra != (uint64_t)p[k].cpu)
					fault(&bad, "wakeup to cpu %llu",
					      (unsigned long long)r->hdr.extra);
				/* Woken by the other one, or by the test. */
				if (r->hdr.arg != (uint64_t)p[!k].tid &&
				    r->hdr.arg != (uint64_t)main_tid)
					fault(&waker, "woken by tid %llu (%s is %d, the test %d), recorded on cpu %d",
					      (unsigned long long)r->hdr.arg,
					      p[!k].name, p[!k].tid, main_tid,
					      r->cpu);
				wakeups++;
			}
		}
		TH_LOG("%s: %lld switches (%lld voluntary), %zu STOPs, %zu STARTs, %zu wakeups",
		       p[k].name, dsw, dvol, stops, starts, wakeups);
		EXPECT_EQ(dsw, (long long)stops);
		EXPECT_EQ(stops, starts);
		/*
		 * Each time it slept, a write to its pipe woke it; a write
		 * that found it awake, reading, woke nobody. (So not every
		 * round need be a wakeup.)
		 */
		EXPECT_LE(dvol, (long long)wakeups);
		EXPECT_GE(PING_ROUNDS + p[k].first, wakeups);
		EXPECT_NO_FAULTS(&bad, p[k].name);
		EXPECT_NO_FAULTS(&waker, "sched.wakeup's waker");
	}
}

/*
 * A child forks, execs and exits with a known status: task.fork,
 * task.exec and task.exit, in that order, say so.
 */
TEST_F(kev, task_fork_exec_exit)
{
	char parent_comm[KTRACER_COMM_MAX + 1], comm[KTRACER_COMM_MAX + 1];
	const struct kt_rec *fork_rec = NULL, *exec_rec = NULL, *exit_rec = NULL;
	char env[64];
	int rp[2], status;
	ssize_t n;
	pid_t child;
	size_t i;

	ASSERT_RET(0, kt_read_text("/proc/self/comm", parent_comm,
				   sizeof(parent_comm)));
	ASSERT_RET(0, kt_rings_map(self->fd, &self->rings));
	ASSERT_EQ(0, pipe(rp));
	ASSERT_RET(0, kt_kevents(self->fd, SRC_SET, KTRACER_SRC_TASK, NULL, 0,
				 NULL));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		close(rp[0]);
		snprintf(env, sizeof(env), EXEC_CHILD_ENV "=%d", rp[1]);
		putenv(env);
		execl("/proc/self/exe", "kevents_test", (char *)NULL);
		_exit(101);
	}
	close(rp[1]);
	n = read(rp[0], comm, sizeof(comm) - 1);
	close(rp[0]);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(EXEC_CHILD_CODE, WEXITSTATUS(status));
	ASSERT_LT(0, n) TH_LOG("the exec'd child reported no comm");
	comm[n] = '\0';
	ASSERT_RET(0, kt_kevents(self->fd, KTRACER_KEVENTS_SOURCES, 0, NULL, 0,
				 NULL));

	KT_COLLECT(&self->rings, &self->recs);
	for (i = 0; i < self->recs.n; i++) {
		const struct kt_rec *r = &self->recs.v[i];
		const struct kt_rec **slot;

		if (r->hdr.pid != (uint32_t)child)
			continue;
		ASSERT_EQ(child, r->hdr.tid);
		switch (r->hdr.event) {
		case KTRACER_KEV_FORK:
			slot = &fork_rec;
			break;
		case KTRACER_KEV_EXEC:
			slot = &exec_rec;
			break;
		case KTRACER_KEV_EXIT:
			slot = &exit_rec;
			break;
		default:
			ASSERT_TRUE(false) TH_LOG("event %u about the child",
						  r->hdr.event);
			continue;
		}
		ASSERT_EQ(NULL, *slot) TH_LOG("event %u twice", r->hdr.event);
		*slot = r;
	}
	ASSERT_NE(NULL, fork_rec);
	ASSERT_NE(NULL, exec_rec);
	ASSERT_NE(NULL, exit_rec);
	EXPECT_EQ(kt_gettid(), fork_rec->hdr.arg);
	EXPECT_EQ(getpid(), fork_rec->hdr.extra);
	EXPECT_STREQ(parent_comm, (const char *)fork_rec->msg);
	EXPECT_EQ(child, exec_rec->hdr.arg);
	EXPECT_STREQ(comm, (const char *)exec_rec->msg);
	/* As the kernel keeps it: the status exit() was given, shifted. */
	EXPECT_EQ(EXEC_CHILD_CODE << 8, exit_rec->hdr.arg);
	EXPECT_STREQ(comm, (const char *)exit_rec->msg);
	EXPECT_LT(fork_rec->hdr.ts, exec_rec->hdr.ts);
	EXPECT_LT(exec_rec->hdr.ts, exit_rec->hdr.ts);
}

/* What syscall_getppid's other process does, in memory both see. */
struct spinner {
	long calls;
	int stop;
};

static int cmp_rec_ts(const void *a, const void *b)
{
	const struct kt_rec *x = *(const struct kt_rec *const *)a;
	const struct kt_rec *y = *(const struct kt_rec *const *)b;

	if (x->hdr.ts != y->hdr.ts)
		return x->hdr.ts < y->hdr.ts ? -1 : 1;
	/* Same ts: keep the buffer's order. */
	return x < y ? -1 : x > y;
}

/* Pointers to @recs' records of kernel event @ev, in ts order. */
static const struct kt_rec **sorted_kev(const struct kt_recs *recs,
					uint32_t ev, size_t *n)
{
	const struct kt_rec **v = calloc(recs->n + 1, sizeof(*v));
	size_t i;

	*n = 0;
	if (!v)
		return NULL;
	for (i = 0; i < recs->n; i++)
		if (recs->v[i].hdr.event == ev)
			v[(*n)++] = &recs->v[i];
	qsort(v, *n, sizeof(*v), cmp_rec_ts);
	return v;
}

/*
 * NR_GETPPID getppid() calls with SYSCALL on for this process: exactly
 * that many START/STOP pairs with the number and the result, and nothing
 * of another process calling it meanwhile.
 */
TEST_F_TIMEOUT(kev, syscall_getppid, 60)
{
	const int last = kt_nr_cpus() - 1;
	const struct kt_rec **v;
	struct spinner *sp;
	int32_t pid = getpid();
	pid_t ppid = getppid(), child, tid = kt_gettid();
	size_t n, i, calls = 0;
	uint64_t deadline;
	long mark;
	int status;

	ASSERT_RET(0, kt_rings_map(self->fd, &self->rings));
	sp = mmap(NULL, sizeof(*sp), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sp);
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		kt_pin_cpu(last);
		while (!__atomic_load_n(&sp->stop, __ATOMIC_RELAXED)) {
			syscall(SYS_getppid);
			__atomic_add_fetch(&sp->calls, 1, __ATOMIC_RELAXED);
		}
		_exit(0);
	}
	ASSERT_RET(0, kt_pin_cpu(0));

	ASSERT_RET(0, kt_kevents(self->fd, SRC_SET, KTRACER_SRC_SYSCALL, &pid,
				 1, NULL));
	mark = __atomic_load_n(&sp->calls, __ATOMIC_RELAXED);
	for (i = 0; i < NR_GETPPID; i++)
		ASSERT_EQ(ppid, syscall(SYS_getppid));
	/* The other process's calls, while the source is on. */
	deadline = kt_now() + WAIT_NS;
	while (__atomic_load_n(&sp->calls, __ATOMIC_RELAXED) < mark + 1000 &&
	       kt_now() < deadline)
		sched_yield();
	ASSERT_RET(0, kt_kevents(self->fd, KTRACER_KEVENTS_SOURCES, 0, NULL, 0,
				 NULL));
	EXPECT_LE(mark + 1000, __atomic_load_n(&sp->calls, __ATOMIC_RELAXED))
		TH_LOG("the other process never ran");
	__atomic_store_n(&sp->stop, 1, __ATOMIC_RELAXED);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	munmap(sp, sizeof(*sp));

	KT_COLLECT(&self->rings, &self->recs);
	v = sorted_kev(&self->recs, KTRACER_KEV_SYSCALL, &n);
	ASSERT_NE(NULL, v);
	for (i = 0; i < n; i++) {
		const struct ktracer_record *h = &v[i]->hdr;
		const struct ktracer_record *next = i + 1 < n ? &v[i + 1]->hdr :
							NULL;

		ASSERT_EQ(pid, h->pid) TH_LOG("syscall record of %u/%u",
					      h->pid, h->tid);
		ASSERT_EQ(tid, h->tid);
		/*
		 * START, STOP, START, STOP...: the switching calls may leave
		 * a STOP first and a START last.
		 */
		if (h->type == KTRACER_REC_START && next) {
			ASSERT_EQ(KTRACER_REC_STOP, next->type)
				TH_LOG("syscall %llu: START then START",
				       (unsigned long long)h->arg);
		} else if (h->type == KTRACER_REC_STOP && i) {
			ASSERT_EQ(KTRACER_REC_START, v[i - 1]->hdr.type);
		}
		if (h->type == KTRACER_REC_START && h->arg == SYS_getppid) {
			calls++;
			ASSERT_NE(NULL, next);
			ASSERT_EQ(ppid, (int64_t)next->arg);
		}
	}
	free(v);
	EXPECT_EQ(NR_GETPPID, calls);
	TH_LOG("%zu syscall records, %zu of them getppid() STARTs", n, calls);
}

static int trace_lines_with(const char *text, const char *what)
{
	const char *p = text;
	int n = 0;

	while ((p = strstr(p, what))) {
		n++;
		p += strlen(what);
	}
	return n;
}

/*
 * NR_BLOCK_IO direct 4 KiB writes, then reads, to null_blk: as many
 * block.rq START/STOP pairs, one after the other, each with its device,
 * op, sector and size, in the records and in the trace file.
 */
TEST_F_TIMEOUT(kev, block_null_blk, 60)
{
	const struct kt_rec **v;
	struct kt_kevents_file f0, f1;
	struct stat st;
	uint32_t dev;
	char *buf = NULL, *text, want[128];
	size_t n, i, mine;
	int ret;

	if (!(self->available & KTRACER_SRC_BLOCK))
		SKIP(return, "BLOCK is not available: this kernel has no block layer");
	if (access(KT_EXTRA_MODULES "/load.order", R_OK))
		SKIP(return, "no null_blk.ko in " KT_EXTRA_MODULES " (the rig puts it there for Debian's kernel)");
	ret = kt_load_extra(&self->mods, "null_blk",
			 "queue_mode=2 irqmode=1 nr_devices=1");
	ASSERT_EQ(0, ret) TH_LOG("loading null_blk: %s", strerror(-ret));
	self->dev_fd = open("/dev/nullb0", O_RDWR | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, self->dev_fd) TH_LOG("/dev/nullb0: %s", strerror(errno));
	ASSERT_EQ(0, fstat(self->dev_fd, &st));
	ASSERT_TRUE(S_ISBLK(st.st_mode));
	dev = major(st.st_rdev) << 20 | minor(st.st_rdev);
	ASSERT_EQ(0, posix_memalign((void **)&buf, 4096, 4096));
	memset(buf, 0x5a, 4096);

	ASSERT_RET(0, kt_rings_map(self->fd, &self->rings));
	ASSERT_RET(0, kt_kevents_read(&f0));
	ASSERT_RET(0, kt_kevents(self->fd, SRC_SET, KTRACER_SRC_BLOCK, NULL, 0,
				 NULL));
	for (i = 0; i < 2 * NR_BLOCK_IO; i++) {
		off_t off = (off_t)(i % NR_BLOCK_IO) * 8192;
		ssize_t done = i < NR_BLOCK_IO ?
			       pwrite(self->dev_fd, buf, 4096, off) :
			       pread(self->dev_fd, buf, 4096, off);

		ASSERT_EQ(4096, done) TH_LOG("i/o %zu: %s", i, strerror(errno));
	}
	ASSERT_RET(0, kt_kevents(self->fd, KTRACER_KEVENTS_SOURCES, 0, NULL, 0,
				 NULL));
	free(buf);
	ASSERT_RET(0, kt_kevents_read(&f1));
	EXPECT_EQ(f0.block_unmatched, f1.block_unmatched);
	EXPECT_EQ(f0.block_table_full, f1.block_table_full);

	/* The trace file decodes them. */
	text = kt_read_file(KT_DEBUGFS "/trace", NULL);
	ASSERT_NE(NULL, text);
	snprintf(want, sizeof(want), " dev=%u:%u op=1 sector=16 bytes=4096 error=0",
		 major(st.st_rdev), minor(st.st_rdev));
	EXPECT_EQ(2, trace_lines_with(text, want)) TH_LOG("'%s'", want);
	snprintf(want, sizeof(want), " dev=%u:%u ", major(st.st_rdev),
		 minor(st.st_rdev));
	EXPECT_EQ(4 * NR_BLOCK_IO, trace_lines_with(text, want));
	free(text);

	KT_COLLECT(&self->rings, &self->recs);
	v = sorted_kev(&self->recs, KTRACER_KEV_BLOCK, &n);
	ASSERT_NE(NULL, v);
	for (i = 0, mine = 0; i < n; i++) {
		struct ktracer_block b;

		memcpy(&b, v[i]->msg, sizeof(b));
		if (b.dev == dev)
			v[mine++] = v[i];
	}
	ASSERT_EQ(4 * NR_BLOCK_IO, mine);
	/* One at a time: START, its STOP, the next START... */
	for (i = 0; i < 2 * NR_BLOCK_IO; i++) {
		const struct kt_rec *start = v[2 * i], *stop = v[2 * i + 1];
		struct ktracer_block bs, be;

		memcpy(&bs, start->msg, sizeof(bs));
		memcpy(&be, stop->msg, sizeof(be));
		ASSERT_EQ(KTRACER_REC_START, start->hdr.type) TH_LOG("i/o %zu", i);
		ASSERT_EQ(KTRACER_REC_STOP, stop->hdr.type) TH_LOG("i/o %zu", i);
		ASSERT_EQ(start->hdr.slot, stop->hdr.slot);
		ASSERT_EQ(start->hdr.pid, stop->hdr.pid);
		ASSERT_EQ(start->hdr.tid, stop->hdr.tid);
		ASSERT_EQ(i < NR_BLOCK_IO ? 1 : 0, bs.op) TH_LOG("i/o %zu", i);
		ASSERT_EQ((i % NR_BLOCK_IO) * 16, bs.sector);
		ASSERT_EQ(4096, bs.bytes);
		ASSERT_EQ(0, bs.error);
		ASSERT_EQ(bs.op, be.op);
		ASSERT_EQ(bs.sector, be.sector);
		ASSERT_EQ(4096, be.bytes);
		ASSERT_EQ(0, be.error);
	}
	free(v);
	kt_rings_unmap(&self->rings);
	close(self->dev_fd);
	self->dev_fd = -1;
	EXPECT_EQ(0, kt_unload_extra(&self->mods));
}

#define SWITCH_CYCLES	8

/*
 * The spans on a CPU start whole each time their sources are switched
 * on: per CPU, the first record of each is a START, and every START is
 * followed by its STOP before the next START (a source switched off
 * mid-span may leave the last START open). Cycle after cycle, each
 * cycle's records read before the next begins.
 */
TEST_F_TIMEOUT(kev, spans_start_whole, 60)
{
	const uint32_t want = (KTRACER_SRC_SCHED | KTRACER_SRC_IRQ |
			       KTRACER_SRC_SOFTIRQ) & self->available;
	struct timespec ts = { .tv_nsec = 50 * 1000 * 1000 };
	struct span span[3][KT_MAX_CPUS];
	unsigned int nth[3][KT_MAX_CPUS];
	unsigned long long n[3] = { 0 };
	struct faults f = { 0 };
	unsigned long faults;
	char where[96] = "";
	int cycle, tty;
	size_t i;

	ASSERT_GE(KT_MAX_CPUS, kt_nr_cpus());
	ASSERT_RET(0, kt_rings_map(self->fd, &self->rings));
	tty = open("/dev/" SERIAL_TTY, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	for (cycle = 0; cycle < SWITCH_CYCLES; cycle++) {
		ASSERT_RET(0, kt_kevents(self->fd, KTRACER_KEVENTS_SOURCES, want,
					 NULL, 0, NULL));
		/* An interrupt or two, ticks and switches meanwhile. */
		if (tty >= 0 && write(tty, "kevents_test\n", 13) == 13)
			tcdrain(tty);
		nanosleep(&ts, NULL);
		ASSERT_RET(0, kt_kevents(self->fd, KTRACER_KEVENTS_SOURCES, 0,
					 NULL, 0, NULL));
		/* A SWITCH closes one span and opens the next: both steps. */
		KT_COLLECT_SPLIT(&self->rings, &self->recs);
		memset(span, 0, sizeof(span));
		memset(nth, 0, sizeof(nth));
		for (i = 0; i < self->recs.n; i++) {
			const struct kt_rec *r = &self->recs.v[i];
			const struct ktracer_record *h = &r->hdr;
			int k = h->event == KTRACER_KEV_RUNNING ? 0 :
				h->event == KTRACER_KEV_IRQ ? 1 :
				h->event == KTRACER_KEV_SOFTIRQ ? 2 : -1;

			ASSERT_NE(KTRACER_REC_LOST, h->type);
			if (h->event == KTRACER_KEV_WAKEUP)
				continue;
			ASSERT_LE(0, k) TH_LOG("event %u", h->event);
			faults = f.n;
			span_step(&span[k][r->cpu], r, k ? h->arg : h->tid,
				  &f);
			if (f.n > faults && !where[0])
				snprintf(where, sizeof(where),
					 "cycle %d, record %u of its kind on cpu %d",
					 cycle, nth[k][r->cpu], r->cpu);
			nth[k][r->cpu]++;
			n[k]++;
		}
	}
	if (tty >= 0)
		close(tty);
	TH_LOG("%d cycles: %llu sched.running, %llu irq, %llu softirq records",
	       SWITCH_CYCLES, n[0], n[1], n[2]);
	EXPECT_NO_FAULTS(&f, "spans out of turn");
	if (f.n)
		TH_LOG("the first in %s (from 0)", where);
	EXPECT_LT(0, n[0]);
	EXPECT_LT(0, n[2]);
}

/* Every writer's records read, in order, or accounted for. */
static void check_load(struct __test_metadata *_metadata, struct kt_load *ld,
		       struct kt_rings *rings)
{
	int cpu;

	KT_LOAD_ASSERT_OK(ld);
	/* Anything a probe still had in hand. */
	ASSERT_LE(0, kt_rings_consume(rings, ld->rd.fn, ld->rd.ctx));
	for (cpu = 0; cpu < ld->nr; cpu++) {
		const struct kt_ring *r = &rings->ring[cpu];
		const struct ktracer_meta *m = r->meta;
		const struct kt_seq_cpu *c = &ld->run.cpu[cpu];

		TH_LOG("cpu %d: %u ops; written %llu read %llu lost %llu (LOST records %llu)",
		       cpu, ld->w[cpu].done, (unsigned long long)m->written,
		       (unsigned long long)r->reader->read,
		       (unsigned long long)m->lost,
		       (unsigned long long)r->losts);
		EXPECT_LT(0, c->seen);
		EXPECT_EQ(0, c->bad_gaps) TH_LOG("cpu %d: gaps that no LOST record covers",
						 cpu);
		EXPECT_EQ(m->head, r->reader->tail);
		EXPECT_EQ(r->records, r->reader->read);
		EXPECT_EQ(0, m->tail_resets);
		EXPECT_EQ(m->written, r->reader->read + m->lost +
				      m->overwritten);
		/* No more missing than were reported lost. */
		EXPECT_LE(c->gaps, c->lost_reported);
	}
}

/* What irq_softirq_nesting saw of one CPU. */
struct nest_cpu {
	struct span irq, softirq;
	uint64_t irqs, softirqs, tty;
};

struct nest {
	struct kt_seq_run *run;
	unsigned int irq;	/* the serial port's */
	struct nest_cpu cpu[KT_MAX_CPUS];
	struct faults spans;	/* out of turn, or softirq inside irq */
	struct faults other;	/* anything else */
};

/*
 * Per CPU: irq STARTs and STOPs alternate, so do softirq's, and no
 * softirq record falls inside an irq's span. The writers' records go to
 * kt_seq_check().
 */
static int check_nesting(void *ctx, const struct kt_rec *rec)
{
	struct nest *ns = ctx;
	struct nest_cpu *c = &ns->cpu[rec->cpu];
	const struct ktracer_record *h = &rec->hdr;
	bool start = h->type == KTRACER_REC_START;

	switch (h->event) {
	case KTRACER_KEV_IRQ:
		c->irqs += start;
		if (start && h->arg == ns->irq) {
			c->tty++;
			if (strcmp((const char *)rec->msg, SERIAL_TTY))
				fault(&ns->other, "irq %u's handler is %s, not " SERIAL_TTY,
				      ns->irq, rec->msg);
		}
		span_step(&c->irq, rec, h->arg, &ns->spans);
		return 0;
	case KTRACER_KEV_SOFTIRQ:
		if (c->irq.open && !c->irq.unknown)
			fault(&ns->spans, "cpu %d at %llu: softirq %llu inside irq %llu",
			      rec->cpu, (unsigned long long)rec->pos,
			      (unsigned long long)h->arg,
			      (unsigned long long)c->irq.key);
		c->softirqs += start;
		span_step(&c->softirq, rec, h->arg, &ns->spans);
		return 0;
	case 0:	/* LOST: what was lost may have been a START or a STOP */
		c->irq.unknown = true;
		c->softirq.unknown = true;
		break;
	default:
		if (h->flags & KTRACER_RECF_KERNEL) {
			fault(&ns->other, "event %u of a source that is off",
			      h->event);
			return 0;
		}
	}
	return kt_seq_check(ns->run, rec);
}

/*
 * The interrupt @name's handler serves, and how many it has served on
 * all CPUs, from /proc/interrupts: 0, or -ENOENT if it has none.
 */
static int irq_count(const char *name, unsigned int *irq,
		     unsigned long long *count)
{
	char *text = kt_read_file("/proc/interrupts", NULL), *line, *save;
	char *p, *end;
	int err = -ENOENT;
	size_t len;

	if (!text)
		return -errno;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		len = strlen(line);
		if (len <= strlen(name) || strcmp(line + len - strlen(name), name) ||
		    line[len - strlen(name) - 1] != ' ')
			continue;
		*irq = strtoul(line, &p, 10);
		if (*p != ':')
			continue;
		*count = 0;
		/* One column per CPU, then the chip's name. */
		for (p++; ; p = end) {
			unsigned long long n = strtoull(p, &end, 10);

			if (end == p)
				break;
			*count += n;
		}
		err = 0;
		break;
	}
	free(text);
	return err;
}
/*
 * IRQ and SOFTIRQ on while every CPU writes numbered records as fast as
 * it can and the serial port interrupts: interrupts land in the middle
 * of the writers' records, and every record still comes out whole, in
 * order, with the kernel's spans properly nested. The run lasts until
 * all SERIAL_LINES lines are sent, however long that takes (the test's
 * timeout bounds it), and the port is quiet at both ends of the window
 * the source is on: every interrupt /proc/interrupts counts in it is a
 * START recorded, or one of the records reported lost.
 */
TEST_F_TIMEOUT(kev, irq_softirq_nesting, 300)
{
	const uint32_t want = KTRACER_SRC_IRQ | KTRACER_SRC_SOFTIRQ;
	struct kt_serial serial = { .fd = -1, .max = SERIAL_LINES };
	unsigned long long before, after;
	unsigned int irq, again;
	pthread_t st;
	struct kt_load *ld;
	struct nest *ns;
	uint64_t irqs = 0, softirqs = 0, tty = 0, lost = 0;
	int cpu;

	ASSERT_EQ(want, self->available & want);
	ASSERT_GE(KT_MAX_CPUS, kt_nr_cpus());
	ld = calloc(1, sizeof(*ld));
	ns = calloc(1, sizeof(*ns));
	ASSERT_NE(NULL, ld);
	ASSERT_NE(NULL, ns);
	ns->run = &ld->run;
	/* Opened, and so started up, before the count begins. */
	serial.fd = open("/dev/" SERIAL_TTY, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	ASSERT_LE(0, serial.fd) TH_LOG("/dev/" SERIAL_TTY ": %s",
				       strerror(errno));
	ASSERT_EQ(0, tcdrain(serial.fd));
	ASSERT_RET(0, kt_rings_map(self->fd, &self->rings));

	ASSERT_RET(0, kt_kevents(self->fd, KTRACER_KEVENTS_SOURCES, want, NULL,
				 0, NULL));
	ASSERT_RET(0, irq_count(SERIAL_TTY, &irq, &before));
	ns->irq = irq;
	ASSERT_RET(0, kt_load_start(self->fd, &self->rings, ld, "kev.nest", 0,
				 check_nesting, ns));
	ASSERT_EQ(0, pthread_create(&st, NULL, kt_serial_thread, &serial));
	/* Every line sent and drained: the run's length, however long. */
	pthread_join(st, NULL);
	kt_load_stop(ld);
	ASSERT_RET(0, irq_count(SERIAL_TTY, &again, &after));
	ASSERT_RET(0, kt_kevents(self->fd, KTRACER_KEVENTS_SOURCES, 0, NULL, 0,
				 NULL));
	close(serial.fd);
	ASSERT_EQ(irq, again);

	check_load(_metadata, ld, &self->rings);
	EXPECT_NO_FAULTS(&ns->spans, "irq and softirq spans");
	EXPECT_NO_FAULTS(&ns->other, "other records");
	for (cpu = 0; cpu < ld->nr; cpu++) {
		irqs += ns->cpu[cpu].irqs;
		softirqs += ns->cpu[cpu].softirqs;
		tty += ns->cpu[cpu].tty;
		lost += self->rings.ring[cpu].meta->lost;
	}
	TH_LOG("%u lines to " SERIAL_TTY ": irq %u served %llu times, %llu STARTs of it (%llu records lost); irq STARTs %llu, softirq STARTs %llu",
	       serial.lines, irq, after - before, (unsigned long long)tty,
	       (unsigned long long)lost, (unsigned long long)irqs,
	       (unsigned long long)softirqs);
	/* Short only if a write() or tcdrain() failed. */
	EXPECT_EQ(SERIAL_LINES, serial.lines);
	/* At least an interrupt a line, each one a START or lost. */
	EXPECT_LE(SERIAL_LINES, after - before);
	EXPECT_LE(tty, after - before);
	EXPECT_LE(after - before, tty + lost);
	EXPECT_LT(0, softirqs);
	free(ns);
	free(ld);
}

#define STORM_MIN	10	/* switches by each of storm's togglers */
#define STORM_MAX_S	15	/* ... unless that takes longer than this */

/* One of storm's threads switching sources on and off. */
struct toggler {
	/* Sources @on, the filter this process (and init, if @two). */
	int (*apply)(const struct toggler *t, uint32_t on, bool two);
	int fd;
	uint32_t available;
	const bool *stop;
	sem_t *enough;		/* posted at STORM_MIN switches, or failure */
	unsigned int seed;
	uint64_t done;
	int err;
};

static int toggle_by_ioctl(const struct toggler *t, uint32_t on, bool two)
{
	int32_t pids[2] = { getpid(), 1 };

	return kt_kevents(t->fd, SRC_SET, on, pids, 1 + two, NULL);
}

static int toggle_by_file(const struct toggler *t, uint32_t on, bool two)
{
	char text[160];
	size_t n;
	int i;

	n = snprintf(text, sizeof(text), two ? "pids=1,%d" : "pids=%d",
		     getpid());
	for (i = 0; i < KT_NR_SOURCES; i++)
		if (t->available & 1u << i)
			n += snprintf(text + n, sizeof(text) - n, " %s=%u",
				      kt_source_names[i], (on >> i) & 1);
	return kt_write_text(KEVENTS_FILE, text);
}

static void *toggler_thread(void *arg)
{
	struct toggler *t = arg;

	while (!__atomic_load_n(t->stop, __ATOMIC_ACQUIRE)) {
		uint32_t on = rand_r(&t->seed) & t->available;

		t->err = t->apply(t, on, rand_r(&t->seed) & 1);
		if (t->err || ++t->done == STORM_MIN)
			sem_post(t->enough);
		if (t->err)
			break;
	}
	return NULL;
}

/* Work for every source: children, system calls, switches, i/o. */
static void *busy_thread(void *arg)
{
	const bool *stop = arg;
	pid_t child;

	while (!__atomic_load_n(stop, __ATOMIC_ACQUIRE)) {
		child = fork();
		if (child == 0)
			_exit(0);
		if (child > 0)
			waitpid(child, NULL, 0);
		sched_yield();
	}
	return NULL;
}

/*
 * Sources switched on and off as fast as the ioctl and the file allow,
 * while every CPU writes and a reader reads: afterwards every record is
 * whole and accounted for, and the kernel has not complained (the rig
 * fails the run on any warning).
 */
TEST_F_TIMEOUT(kev, storm, 90)
{
	struct toggler tg[2];
	struct timespec deadline;
	pthread_t tt[2], bt;
	sem_t enough;
	struct kt_load *ld;
	int32_t pid = getpid();
	struct timespec ts = { .tv_sec = LOAD_NS / KT_NSEC_PER_SEC };
	bool stop = false;
	int k;

	ASSERT_GE(KT_MAX_CPUS, kt_nr_cpus());
	ASSERT_EQ(0, clock_gettime(CLOCK_REALTIME, &deadline));
	ld = calloc(1, sizeof(*ld));
	ASSERT_NE(NULL, ld);
	ASSERT_RET(0, kt_rings_map(self->fd, &self->rings));
	/* SYSCALL needs a filter; the togglers never empty it. */
	ASSERT_RET(0, kt_kevents(self->fd, KTRACER_KEVENTS_PIDS, 0, &pid, 1,
				 NULL));
	ASSERT_EQ(0, sem_init(&enough, 0, 0));
	for (k = 0; k < 2; k++)
		tg[k] = (struct toggler){ .apply = k ? toggle_by_file :
						       toggle_by_ioctl,
					  .fd = self->fd, .stop = &stop,
					  .enough = &enough,
					  .available = self->available,
					  .seed = 1 + k };
	ASSERT_RET(0, kt_load_start(self->fd, &self->rings, ld, "kev.storm", 0,
				 kt_seq_check_user, &ld->run));
	ASSERT_EQ(0, pthread_create(&bt, NULL, busy_thread, &stop));
	for (k = 0; k < 2; k++)
		ASSERT_EQ(0, pthread_create(&tt[k], NULL, toggler_thread, &tg[k]));
	/* LOAD_NS at least, and STORM_MIN switches each, if in time. */
	nanosleep(&ts, NULL);
	deadline.tv_sec += STORM_MAX_S;
	for (k = 0; k < 2; k++)
		sem_timedwait(&enough, &deadline);
	__atomic_store_n(&stop, true, __ATOMIC_RELEASE);
	for (k = 0; k < 2; k++)
		pthread_join(tt[k], NULL);
	sem_destroy(&enough);
	pthread_join(bt, NULL);
	ASSERT_RET(0, kt_kevents_off(self->fd));
	kt_load_stop(ld);

	TH_LOG("sources switched %llu times by ioctl, %llu by the file",
	       (unsigned long long)tg[0].done, (unsigned long long)tg[1].done);
	for (k = 0; k < 2; k++) {
		EXPECT_EQ(0, tg[k].err) TH_LOG("toggler %d: %s", k,
					       strerror(-tg[k].err));
		EXPECT_LT(0, tg[k].done);
	}
	check_load(_metadata, ld, &self->rings);
	free(ld);
}

/* How many lines of @text hold exactly @line (up to its newline). */
static int count_lines_ending(const char *text, const char *line)
{
	const char *p = text;
	size_t len = strlen(line);
	int n = 0;

	while ((p = strstr(p, line))) {
		if (p[len] == '\n' || p[len] == '\0')
			n++;
		p += len;
	}
	return n;
}

/* The number after "@key=" on the line holding @prefix, or -1. */
static long long field_after(const char *text, const char *prefix,
			     const char *key)
{
	const char *p = strstr(text, prefix), *eol;
	char k[32];

	if (!p)
		return -1;
	eol = strchr(p, '\n');
	snprintf(k, sizeof(k), " %s=", key);
	p = strstr(p, k);
	if (!p || (eol && p > eol))
		return -1;
	return strtoll(p + strlen(k), NULL, 10);
}

/*
 * ktracer's own tracepoints, events/ktracer/: one per op that succeeds
 * (one per slot a CANCEL closes), with recording on or off; none for an
 * op that fails. Their durations and totals are the records'.
 */
TEST_F(kev, tracefs_events)
{
	uint32_t span, gauge, counter, log;
	char name[4][KTRACER_NAME_MAX], line[256], *text;
	static const char msg[] = "tracefs and ktracer";
	const struct kt_rec *stop_rec = NULL, *cancel_rec[2] = { NULL };
	struct kt_recs *recs = &self->recs;
	const int cpu = 0;	/* every record in one buffer */
	size_t i;
	int n;

	if (access(TRACEFS "/trace", F_OK))
		SKIP(return, "tracefs is not mounted at " TRACEFS);
	ASSERT_EQ(0, access(TRACEFS "/events/ktracer/enable", F_OK))
		TH_LOG("ktracer's events are not in tracefs");
	snprintf(name[0], sizeof(name[0]), "kev.tp.span.%d", getpid());
	snprintf(name[1], sizeof(name[1]), "kev.tp.gauge.%d", getpid());
	snprintf(name[2], sizeof(name[2]), "kev.tp.count.%d", getpid());
	snprintf(name[3], sizeof(name[3]), "kev.tp.log.%d", getpid());
	span = kt_register_id(self->fd, KTRACER_KIND_SPAN, 4, name[0]);
	gauge = kt_register_id(self->fd, KTRACER_KIND_GAUGE, 0, name[1]);
	counter = kt_register_id(self->fd, KTRACER_KIND_COUNTER, 0, name[2]);
	log = kt_register_id(self->fd, KTRACER_KIND_LOG, 0, name[3]);
	ASSERT_TRUE(span && gauge && counter && log);
	ASSERT_RET(0, kt_pin_cpu(cpu));

	self->tracefs_used = true;
	ASSERT_RET(0, kt_write_text(TRACEFS "/tracing_on", "0"));
	close(open(TRACEFS "/trace", O_WRONLY | O_TRUNC));
	ASSERT_RET(0, kt_write_text(TRACEFS "/events/ktracer/enable", "1"));
	ASSERT_RET(0, kt_write_text(TRACEFS "/tracing_on", "1"));

	/* Recording on: the records say what the events must. */
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_START, span, 1, 11));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_STOP, span, 1, 12));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_GAUGE, gauge, 0, -13));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_COUNT, counter, 0, 14));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_COUNT, counter, 0, 15));
	ASSERT_RET(0, kt_log(self->fd, log, msg, sizeof(msg) - 1));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_START, span, 0, 16));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_START, span, 2, 17));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_CANCEL, span, 0, 0));
	/* Failed ops: no event. */
	ASSERT_OP_ERRNO(ENOENT, self->fd, KTRACER_OP_STOP, span, 3, 18);
	ASSERT_OP_ERRNO(ERANGE, self->fd, KTRACER_OP_START, span, 4, 19);
	/* Recording off: events all the same. */
	ASSERT_RET(0, kt_set_enable(self->fd, 0));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_START, span, 3, 20));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_STOP, span, 3, 21));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_GAUGE, gauge, 0, 22));
	ASSERT_RET(0, kt_set_enable(self->fd, 1));
	ASSERT_RET(0, kt_write_text(TRACEFS "/tracing_on", "0"));

	text = kt_read_file(TRACEFS "/trace", NULL);
	ASSERT_NE(NULL, text);
	ASSERT_RET(0, kt_rings_map(self->fd, &self->rings));
	KT_COLLECT(&self->rings, recs);
	for (i = 0; i < recs->n; i++) {
		if (recs->v[i].hdr.type == KTRACER_REC_STOP)
			stop_rec = &recs->v[i];
		if (recs->v[i].hdr.type == KTRACER_REC_CANCEL)
			cancel_rec[recs->v[i].hdr.slot != 0] = &recs->v[i];
	}
	ASSERT_EQ(10, recs->n) TH_LOG("records of the ops on CPU %d", cpu);
	ASSERT_NE(NULL, stop_rec);
	ASSERT_NE(NULL, cancel_rec[0]);
	ASSERT_NE(NULL, cancel_rec[1]);

#define EXPECT_EVENT(tp, fmt, ...) do {					\
	n = snprintf(line, sizeof(line), tp ": pid=%d tid=%d event=",	\
		     getpid(), kt_gettid());				\
	snprintf(line + n, sizeof(line) - n, fmt, ##__VA_ARGS__);	\
	EXPECT_EQ(1, count_lines_ending(text, line))			\
		TH_LOG("want one line ending '%s'", line);		\
} while (0)
	EXPECT_EVENT("span_start", "%s slot=1 arg=11", name[0]);
	EXPECT_EVENT("span_stop", "%s slot=1 arg=12 dur=%llu", name[0],
		     (unsigned long long)stop_rec->hdr.extra);
	EXPECT_EVENT("gauge", "%s value=-13", name[1]);
	EXPECT_EVENT("count", "%s added=14 total=14", name[2]);
	EXPECT_EVENT("count", "%s added=15 total=29", name[2]);
	EXPECT_EVENT("log", "%s msg=%s", name[3], msg);
	EXPECT_EVENT("span_start", "%s slot=0 arg=16", name[0]);
	EXPECT_EVENT("span_start", "%s slot=2 arg=17", name[0]);
	EXPECT_EVENT("span_cancel", "%s slot=0 dur=%llu", name[0],
		     (unsigned long long)cancel_rec[0]->hdr.extra);
	EXPECT_EVENT("span_cancel", "%s slot=2 dur=%llu", name[0],
		     (unsigned long long)cancel_rec[1]->hdr.extra);
	EXPECT_EVENT("span_start", "%s slot=3 arg=20", name[0]);
	EXPECT_EVENT("gauge", "%s value=22", name[1]);
#undef EXPECT_EVENT
	snprintf(line, sizeof(line),
		 "span_stop: pid=%d tid=%d event=%s slot=3 arg=21 ", getpid(),
		 kt_gettid(), name[0]);
	EXPECT_LE(0, field_after(text, line, "dur")) TH_LOG("'%s'", line);
	/* Nothing of the ops that failed, and nothing twice. */
	snprintf(line, sizeof(line), "event=%s ", name[0]);
	EXPECT_EQ(8, trace_lines_with(text, line));
	EXPECT_EQ(NULL, strstr(text, "arg=18"));
	EXPECT_EQ(NULL, strstr(text, "arg=19"));
	free(text);
}

/* "[CPU] SEC.USEC " at the start of a trace line: its time in us. */
static int line_us(const char *line, unsigned long long *us)
{
	unsigned int cpu;
	unsigned long long sec, usec;
	int n = -1;

	if (sscanf(line, "[%u] %llu.%6llu %n", &cpu, &sec, &usec, &n) != 3 ||
	    n < 0)
		return -EBADMSG;
	*us = sec * 1000000 + usec;
	return 0;
}

/*
 * The line debugfs "trace" shows for SWITCH @r into @want: next's comm
 * from the record, prev's looked up (its task must still be there).
 */
static void switch_line(const struct kt_rec *r, char *want, size_t size)
{
	const struct ktracer_record *h = &r->hdr;
	char prev[KTRACER_COMM_MAX];
	struct ktracer_switch sw;

	memcpy(&sw, r->msg, sizeof(sw));
	kt_trace_comm((uint32_t)h->arg, prev);
	snprintf(want, size, "[%03u] %llu.%06llu %.*s-%u/%u sched.running switch slot=%u arg=%u prev=%s-%u/%u prev_arg=%u prev_dur_ns=%llu",
		 r->cpu, (unsigned long long)(h->ts / KT_NSEC_PER_SEC),
		 (unsigned long long)(h->ts % KT_NSEC_PER_SEC / 1000),
		 (int)strnlen(sw.next_comm, KTRACER_COMM_MAX - 1), sw.next_comm,
		 h->pid, h->tid, h->slot, sw.next_prio, prev,
		 (unsigned int)(h->arg >> 32), (unsigned int)h->arg,
		 sw.prev_state, (unsigned long long)h->extra);
}

/*
 * debugfs' trace with SCHED on and a span of the program's: both kinds
 * of line, one per record, in time order, kernel records in the usual
 * format and their comm as msg.
 */
TEST_F(kev, trace_file_mixed)
{
	struct timespec ts = { .tv_nsec = 1000000 };
	unsigned long long prev = 0, us;
	int32_t pid = getpid();
	char name[KTRACER_NAME_MAX], comm[KTRACER_COMM_MAX + 1], want[256];
	char *text, *line, *save = NULL;
	size_t i, lines = 0, kernel = 0;
	struct ctxsw c0, c1;
	int cpu, sleeps = 0;
	uint32_t span;

	ASSERT_RET(0, kt_read_text("/proc/self/comm", comm, sizeof(comm)));
	snprintf(name, sizeof(name), "kev.trace.span.%d", getpid());
	span = kt_register_id(self->fd, KTRACER_KIND_SPAN, 1, name);
	ASSERT_NE(0, span);
	cpu = kt_nr_cpus() - 1;
	ASSERT_RET(0, kt_pin_cpu(cpu));
	ASSERT_RET(0, kt_kevents(self->fd, SRC_SET, KTRACER_SRC_SCHED, &pid, 1,
				 NULL));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_START, span, 0, 5));
	/*
	 * Off the CPU and back, twice: the first return is this thread's
	 * first recorded START (it was running when SCHED came on, so its
	 * first switch out has no START to close), the second sleep its STOP.
	 * A sleep whose timer fires before the thread gets to schedule() (a
	 * host busy enough to stall the vCPU for a millisecond) does not
	 * switch out: sleep until /proc has seen two voluntary switches.
	 */
	ASSERT_RET(0, read_ctxsw(kt_gettid(), &c0));
	do {
		nanosleep(&ts, NULL);
		ASSERT_RET(0, read_ctxsw(kt_gettid(), &c1));
	} while (c1.vol - c0.vol < 2 && ++sleeps < 1000);
	ASSERT_LE(2, c1.vol - c0.vol);
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_STOP, span, 0, 6));
	ASSERT_RET(0, kt_kevents(self->fd, KTRACER_KEVENTS_SOURCES, 0, NULL, 0,
				 NULL));

	text = kt_read_file(KT_DEBUGFS "/trace", NULL);
	ASSERT_NE(NULL, text);
	ASSERT_RET(0, kt_rings_map(self->fd, &self->rings));
	KT_COLLECT(&self->rings, &self->recs);

	for (i = 0; i < self->recs.n; i++) {
		const struct kt_rec *r = &self->recs.v[i];
		const struct ktracer_record *h = &r->hdr;
		char task[KTRACER_COMM_MAX];
		int n;

		if (h->type == KTRACER_REC_SWITCH) {
			switch_line(r, want, sizeof(want));
			EXPECT_EQ(1, count_lines_ending(text, want))
				TH_LOG("want the line '%s'", want);
			continue;
		}
		if (h->type != KTRACER_REC_START && h->type != KTRACER_REC_STOP)
			continue;
		if (h->event != span && h->event != KTRACER_KEV_RUNNING)
			continue;
		/* The START's own comm; the task's, looked up, otherwise. */
		if (h->event == KTRACER_KEV_RUNNING &&
		    h->type == KTRACER_REC_START)
			snprintf(task, sizeof(task), "%.15s", (const char *)r->msg);
		else
			kt_trace_comm(h->tid, task);
		n = snprintf(want, sizeof(want), "[%03u] %llu.%06llu %s-%u/%u %s %s slot=%u arg=%llu",
			     r->cpu, (unsigned long long)(h->ts / KT_NSEC_PER_SEC),
			     (unsigned long long)(h->ts % KT_NSEC_PER_SEC / 1000),
			     task, h->pid, h->tid, h->event == span ? name :
			     "sched.running", h->type == KTRACER_REC_START ?
			     "start" : "stop", h->slot,
			     (unsigned long long)h->arg);
		if (h->type == KTRACER_REC_STOP)
			snprintf(want + n, sizeof(want) - n, " dur_ns=%llu",
				 (unsigned long long)h->extra);
		else if (h->len)
			snprintf(want + n, sizeof(want) - n, " msg=\"%s\"",
				 (const char *)r->msg);
		EXPECT_EQ(1, count_lines_ending(text, want))
			TH_LOG("want the line '%s'", want);
		if (h->event == KTRACER_KEV_RUNNING &&
		    h->tid == (uint32_t)kt_gettid()) {
			kernel++;
			if (h->type == KTRACER_REC_START)
				EXPECT_STREQ(comm, (const char *)r->msg);
		}
	}
	/* At least the START and STOP around the second nanosleep(). */
	EXPECT_LE(2, kernel);

	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (*line == '#')
			continue;
		ASSERT_EQ(0, line_us(line, &us)) TH_LOG("'%s'", line);
		ASSERT_LE(prev, us) TH_LOG("'%s' out of order", line);
		prev = us;
		lines++;
	}
	EXPECT_EQ(self->recs.n, lines);
	free(text);
}

#define SWITCH_ROUNDS	300	/* one CPU's ping-pong, kept in the buffers */

/*
 * Two threads of this process pass a byte SWITCH_ROUNDS times on one CPU,
 * the test's own thread on another, SCHED on for this process: each
 * switch from one to the other is one SWITCH record, from prev to next,
 * with prev's state, next's prio and comm, and prev's time since its
 * START or SWITCH; a switch to or from anything else (idle, another
 * process) is a STOP or a START alone, never a STOP and a START at one
 * instant. debugfs "trace" shows each SWITCH as its line.
 */
TEST_F_TIMEOUT(kev, sched_switch_record, 90)
{
	struct pinger p[2];
	struct ctxsw c[2];
	struct span cpu[KT_MAX_CPUS];
	const struct kt_rec *last[KT_MAX_CPUS] = { NULL };
	char want[256], comm[KTRACER_COMM_MAX + 1], *text, *line, *save = NULL;
	const char *name[3], *who = NULL;
	pid_t tid[3], me = kt_gettid();
	int32_t pid = getpid();
	int a[2], b[2], report[2], k, ret, prio, on;
	size_t i, mark, raw0, between = 0, slept = 0, alone[2] = { 0 };
	size_t matched = 0, lines = 0;
	struct faults spans = { 0 }, bad = { 0 }, pairs = { 0 };
	pthread_t t[2];

	if (kt_nr_cpus() < 2)
		SKIP(return, "the test's thread needs a CPU of its own");
	ASSERT_GE(KT_MAX_CPUS, kt_nr_cpus());
	on = kt_nr_cpus() - 1;
	errno = 0;
	prio = 120 + getpriority(PRIO_PROCESS, 0);
	ASSERT_EQ(0, errno);
	ASSERT_RET(0, kt_read_text("/proc/thread-self/comm", comm, sizeof(comm)));
	ASSERT_RET(0, kt_pin_cpu(0));
	ASSERT_RET(0, kt_rings_map(self->fd, &self->rings));
	ASSERT_RET(0, pingers_start(self->fd, pid, p, t, a, b, report, on, on,
				    SWITCH_ROUNDS, "kt.sw.ping", "kt.sw.pong"));
	ret = settle(self, p, report[0], 2, c, &mark, &who);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", who, strerror(-ret));
	raw0 = self->raw.n;
	/* The rounds, left in the buffers until "trace" has shown them. */
	ASSERT_RET(0, put_byte(a[1], 'g'));
	ASSERT_EQ(sizeof(tid[0]), read(report[0], &tid[0], sizeof(tid[0])));
	ret = pingers_err(p, &who);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", who, strerror(-ret));
	usleep(100 * 1000);	/* both asleep again, on their pipes */
	ASSERT_RET(0, kt_kevents(self->fd, KTRACER_KEVENTS_SOURCES, 0, NULL, 0,
				 NULL));
	text = kt_read_file(KT_DEBUGFS "/trace", NULL);
	ASSERT_NE(NULL, text);
	ASSERT_LE(0, consume(self));
	for (k = 0; k < 2; k++) {
		EXPECT_TRUE(asleep(&self->recs, &p[k])) TH_LOG("%s", p[k].name);
		EXPECT_EQ(0, self->rings.ring[k].meta->lost);
	}

	tid[0] = p[0].tid;
	tid[1] = p[1].tid;
	tid[2] = me;
	name[0] = p[0].name;
	name[1] = p[1].name;
	name[2] = comm;
	memset(cpu, 0, sizeof(cpu));
	for (i = 0; i < self->raw.n; i++) {
		const struct kt_rec *r = &self->raw.v[i];
		const struct ktracer_record *h = &r->hdr;
		struct kt_rec stop, start;
		struct ktracer_switch sw;
		int from = -1, to = -1;

		if (h->event != KTRACER_KEV_RUNNING)
			continue;
		/* Never a STOP and a START at one instant: that is a SWITCH. */
		if (h->type == KTRACER_REC_START && last[r->cpu] &&
		    last[r->cpu]->hdr.type == KTRACER_REC_STOP &&
		    last[r->cpu]->hdr.ts == h->ts)
			fault(&pairs, "cpu %d at %llu: STOP of %u and START of %u at %llu",
			      r->cpu, (unsigned long long)r->pos,
			      last[r->cpu]->hdr.tid, h->tid,
			      (unsigned long long)h->ts);
		last[r->cpu] = r;
		if (h->type != KTRACER_REC_SWITCH) {
			span_step(&cpu[r->cpu], r, h->tid, &spans);
			if (r->cpu == on)
				alone[h->type == KTRACER_REC_START]++;
			continue;
		}
		/* Its STOP and START: prev's span ends, timed from its start. */
		kt_switch_split(r, &stop, &start);
		span_step(&cpu[r->cpu], &stop, stop.hdr.tid, &spans);
		span_step(&cpu[r->cpu], &start, start.hdr.tid, &spans);
		memcpy(&sw, r->msg, sizeof(sw));
		for (k = 0; k < 3; k++) {
			if ((uint32_t)h->arg == (uint32_t)tid[k])
				from = k;
			if (h->tid == (uint32_t)tid[k])
				to = k;
		}
		if (h->pid != (uint32_t)pid || h->arg >> 32 != (uint32_t)pid ||
		    from < 0 || to < 0 || from == to) {
			fault(&bad, "SWITCH on cpu %d from %u/%u to %u/%u",
			      r->cpu, (unsigned int)(h->arg >> 32),
			      (unsigned int)h->arg, h->pid, h->tid);
			continue;
		}
		if (sw.next_prio != (uint32_t)prio)
			fault(&bad, "SWITCH to prio %u, not %d", sw.next_prio,
			      prio);
		/* A new thread runs as its creator until it renames itself. */
		if (strncmp(sw.next_comm, name[to], KTRACER_COMM_MAX) &&
		    strncmp(sw.next_comm, comm, KTRACER_COMM_MAX))
			fault(&bad, "SWITCH to %s as '%.16s'", name[to],
			      sw.next_comm);
		if (from == 2 || to == 2)
			continue;
		/*
		 * Between the two: on their CPU, preempted (0), asleep on a
		 * pipe (1, TASK_INTERRUPTIBLE) or on its mutex (2,
		 * TASK_UNINTERRUPTIBLE: seen on a lockdep kernel).
		 */
		between++;
		if (r->cpu != on)
			fault(&bad, "SWITCH between the two on cpu %d", r->cpu);
		if (sw.prev_state > 2)
			fault(&bad, "SWITCH from %s in state %u", name[from],
			      sw.prev_state);
		slept += sw.prev_state == 1;
	}
	TH_LOG("%zu SWITCHes between the two, %zu from one asleep; on their cpu %zu STOPs and %zu STARTs alone",
	       between, slept, alone[0], alone[1]);
	EXPECT_NO_FAULTS(&spans, "sched.running out of turn");
	EXPECT_NO_FAULTS(&bad, "SWITCH records");
	EXPECT_NO_FAULTS(&pairs, "a STOP and a START for one switch");
	/* Two switches a round, one at least where a wake-up preempts. */
	EXPECT_LE(SWITCH_ROUNDS, between);
	EXPECT_LE(SWITCH_ROUNDS, slept);
	/* Both asleep before and after the rounds: to idle, and back. */
	EXPECT_LE(2, alone[0]);
	EXPECT_LE(1, alone[1]);

	/* Each SWITCH is its line in "trace", and each such line a SWITCH. */
	for (i = raw0; i < self->raw.n; i++) {
		const struct kt_rec *r = &self->raw.v[i];

		if (r->hdr.type != KTRACER_REC_SWITCH)
			continue;
		switch_line(r, want, sizeof(want));
		EXPECT_EQ(1, count_lines_ending(text, want))
			TH_LOG("want the line '%s'", want);
		matched++;
	}
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		lines += !!strstr(line, " sched.running switch ");
	free(text);
	TH_LOG("%zu SWITCH lines in trace", lines);
	EXPECT_EQ(matched, lines);
	EXPECT_LE(SWITCH_ROUNDS, lines);

	ret = pingers_stop(p, t, a, b, &who);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", who, strerror(-ret));
}

/* The numbers trace_file_syscalls calls, and the names it must show. */
#define NO_SYSCALL	1000	/* none on x86-64 */

/*
 * debugfs' trace with SYSCALL on: a START names its system call (a
 * number the kernel has no name for as "syscall#N"), a STOP shows the
 * return value and no duration; every line has the thread's comm, the
 * header the records in the buffer.
 */
TEST_F(kev, trace_file_syscalls)
{
	char comm[KTRACER_COMM_MAX], want[256], *text, *line, *save = NULL;
	int32_t pid = getpid(), ppid = getppid();
	size_t starts = 0, stops = 0, getppids = 0, nosys = 0, lines = 0;
	struct kt_trace_head head;
	struct kt_trace_line l;
	int i;

	if (!(self->available & KTRACER_SRC_SYSCALL))
		SKIP(return, "SYSCALL is not available");
	ASSERT_RET(0, kt_pin_cpu(0));
	kt_trace_comm(kt_gettid(), comm);
	ASSERT_RET(0, kt_kevents(self->fd, SRC_SET, KTRACER_SRC_SYSCALL, &pid,
				 1, NULL));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(ppid, syscall(SYS_getppid));
		ASSERT_EQ(-1, syscall(NO_SYSCALL));
	}
	ASSERT_RET(0, kt_kevents(self->fd, KTRACER_KEVENTS_SOURCES, 0, NULL, 0,
				 NULL));
	text = kt_read_file(KT_DEBUGFS "/trace", NULL);
	ASSERT_NE(NULL, text);
	ASSERT_EQ(0, kt_trace_head(text, &head)) TH_LOG("%.300s", text);

	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (*line == '#')
			continue;
		lines++;
		ASSERT_EQ(0, kt_trace_line(line, &l)) TH_LOG("'%s'", line);
		EXPECT_EQ(pid, l.pid) TH_LOG("'%s'", line);
		EXPECT_STREQ(comm, l.comm) TH_LOG("'%s'", line);
		EXPECT_EQ(NULL, strstr(l.rest, "dur_ns")) TH_LOG("'%s'", line);
		if (!strncmp(l.rest, "syscall start slot=0 name=", 26)) {
			starts++;
			getppids += !strcmp(l.rest + 26, "getppid");
			snprintf(want, sizeof(want), "syscall#%d", NO_SYSCALL);
			nosys += !strcmp(l.rest + 26, want);
			/* A name, never a bare number. */
			EXPECT_FALSE(l.rest[26] >= '0' && l.rest[26] <= '9')
				TH_LOG("'%s'", line);
		} else if (!strncmp(l.rest, "syscall stop slot=0 ret=", 24)) {
			stops++;
			snprintf(want, sizeof(want), "syscall stop slot=0 ret=%d",
				 -ENOSYS);
			nosys += !strcmp(l.rest, want);
		} else {
			EXPECT_TRUE(false) TH_LOG("not a syscall line: '%s'",
						  line);
		}
	}
	EXPECT_EQ(3, getppids);
	/* Three STARTs named syscall#1000, three STOPs of -ENOSYS. */
	EXPECT_EQ(6, nosys);
	EXPECT_LE(6, starts);
	EXPECT_LE(6, stops);
	EXPECT_EQ(lines, head.records);
	free(text);
}

#define WRITER_ROUNDS	300

/* One of two writers of the kevents file: its own source on, then off. */
struct kev_writer {
	pthread_barrier_t *go;
	const char *name;
	int err;
};

static void *kev_writer_thread(void *arg)
{
	struct kev_writer *w = arg;
	char on[32], off[32];
	int i, ret;

	snprintf(on, sizeof(on), "%s=1", w->name);
	snprintf(off, sizeof(off), "%s=0", w->name);
	for (i = 0; i < 2 * WRITER_ROUNDS; i++) {
		pthread_barrier_wait(w->go);
		ret = kt_write_text(KEVENTS_FILE, i & 1 ? off : on);
		if (ret && !w->err)
			w->err = ret;
		pthread_barrier_wait(w->go);
	}
	return NULL;
}

/*
 * Two writers of the kevents file at once, each switching its own source
 * on, then off, round after round: after each round both writes show,
 * neither undoing the other's.
 */
TEST_F_TIMEOUT(kev, debugfs_concurrent_writers, 120)
{
	static const uint32_t pick[] = {
		KTRACER_SRC_SCHED, KTRACER_SRC_IRQ, KTRACER_SRC_SOFTIRQ,
		KTRACER_SRC_TASK,
	};
	struct kev_writer w[2] = {};
	pthread_barrier_t go;
	pthread_t th[2];
	uint32_t both = 0;
	int i, n = 0, lost = 0;

	for (i = 0; i < 4 && n < 2; i++) {
		if (!(self->available & pick[i]))
			continue;
		both |= pick[i];
		w[n++].name = kt_source_names[__builtin_ctz(pick[i])];
	}
	if (n < 2)
		SKIP(return, "fewer than two of SCHED, IRQ, SOFTIRQ, TASK");
	ASSERT_EQ(0, pthread_barrier_init(&go, NULL, 3));
	for (i = 0; i < 2; i++) {
		w[i].go = &go;
		ASSERT_EQ(0, pthread_create(&th[i], NULL, kev_writer_thread,
					    &w[i]));
	}
	for (i = 0; i < 2 * WRITER_ROUNDS; i++) {
		int64_t on;

		pthread_barrier_wait(&go);
		pthread_barrier_wait(&go);
		on = sources_on(self->fd);
		if (on != (i & 1 ? 0 : both)) {
			if (!lost)
				TH_LOG("round %d: sources %#llx, want %#x", i,
				       (long long)on, i & 1 ? 0 : both);
			lost++;
		}
	}
	for (i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		EXPECT_EQ(0, w[i].err) TH_LOG("%s: %s", w[i].name,
					      strerror(-w[i].err));
	}
	pthread_barrier_destroy(&go);
	EXPECT_EQ(0, lost) TH_LOG("%d of %d writes lost", lost,
				  2 * WRITER_ROUNDS);
	ASSERT_RET(0, kt_kevents_off(self->fd));
}

#define FLUSH_WORKERS	4
#define FLUSH_WRITES	48

/*
 * One of block_requests_match's processes: direct 4 KiB writes to its
 * own sectors and to sector 0, an fsync (a flush request) after each.
 */
static int flush_worker(int fd, int w)
{
	char *buf;
	int i;

	if (posix_memalign((void **)&buf, 4096, 4096))
		return 1;
	memset(buf, w, 4096);
	for (i = 0; i < FLUSH_WRITES; i++) {
		off_t off = i % 4 ? (off_t)(1 + w * FLUSH_WRITES + i) * 4096 : 0;

		if (pwrite(fd, buf, 4096, off) != 4096 || fsync(fd))
			return 2;
	}
	return 0;
}

/* Lines of @text about requeues on device @maj:@min. */
static size_t requeue_lines(const char *text, unsigned int maj,
			    unsigned int min)
{
	char want[64];

	snprintf(want, sizeof(want), "block_rq_requeue: %u,%u ", maj, min);
	return trace_lines_with(text, want);
}

#define REQUEUE_EVENT	TRACEFS "/events/block/block_rq_requeue/enable"

/*
 * Block requests matched by request, not by device and sector: writes to
 * the same sector from several processes at once, each followed by a
 * flush (sector 0, like every flush), to a null_blk with a write cache
 * and a bandwidth limit, which has the block layer requeue and issue
 * again many of them. Every START has its STOP, in the same entry, with
 * the same op, sector and size, no entry is left open
 * ("block_inflight 0"), nothing is counted as replaced, and only the
 * fsync()s' requests as unmatched.
 */
TEST_F_TIMEOUT(kev, block_requests_match, 120)
{
	const struct kt_rec **v, *opened[KTRACER_BLOCK_INFLIGHT] = {};
	struct kt_kevents_file f0, f1;
	size_t n, i, starts = 0, flushes = 0, requeues, left;
	struct stat st;
	uint64_t t0;
	uint32_t dev;
	pid_t pid[FLUSH_WORKERS];
	char *text;
	int ret, w, status;

	if (!(self->available & KTRACER_SRC_BLOCK))
		SKIP(return, "BLOCK is not available: this kernel has no block layer");
	if (access(KT_EXTRA_MODULES "/load.order", R_OK))
		SKIP(return, "no null_blk.ko in " KT_EXTRA_MODULES " (the rig puts it there for Debian's kernel)");
	ret = kt_load_extra(&self->mods, "null_blk",
			    "queue_mode=2 irqmode=1 nr_devices=1 memory_backed=1 cache_size=16 mbps=1");
	ASSERT_EQ(0, ret) TH_LOG("loading null_blk: %s", strerror(-ret));
	self->dev_fd = open("/dev/nullb0", O_RDWR | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, self->dev_fd) TH_LOG("/dev/nullb0: %s", strerror(errno));
	ASSERT_EQ(0, fstat(self->dev_fd, &st));
	dev = major(st.st_rdev) << 20 | minor(st.st_rdev);
	self->tracefs_used = true;
	tracefs_reset();
	ASSERT_RET(0, kt_write_text(REQUEUE_EVENT, "1"));

	ASSERT_RET(0, kt_rings_map(self->fd, &self->rings));
	ASSERT_RET(0, kt_kevents_read(&f0));
	ASSERT_EQ(0, f0.block_inflight);
	ASSERT_RET(0, kt_kevents(self->fd, SRC_SET, KTRACER_SRC_BLOCK, NULL, 0,
				 NULL));
	for (w = 0; w < FLUSH_WORKERS; w++) {
		pid[w] = fork();
		ASSERT_LE(0, pid[w]);
		if (!pid[w])
			_exit(flush_worker(self->dev_fd, w));
	}
	for (w = 0; w < FLUSH_WORKERS; w++) {
		ASSERT_EQ(pid[w], waitpid(pid[w], &status, 0));
		EXPECT_EQ(0, status) TH_LOG("worker %d: %#x", w, status);
	}
	/* Every request is done: the table empties (other disks too). */
	t0 = kt_now();
	do {
		ASSERT_RET(0, kt_kevents_read(&f1));
	} while (f1.block_inflight && kt_now() - t0 < WAIT_NS &&
		 !usleep(10000));
	EXPECT_EQ(0, f1.block_inflight);
	ASSERT_RET(0, kt_kevents(self->fd, KTRACER_KEVENTS_SOURCES, 0, NULL, 0,
				 NULL));
	/*
	 * The request of each fsync() is completed, never issued: the block
	 * layer issues a flush request of its own (merging those of
	 * fsync()s at once), which has its START and STOP.
	 */
	EXPECT_EQ(FLUSH_WORKERS * FLUSH_WRITES,
		  f1.block_unmatched - f0.block_unmatched);
	EXPECT_EQ(f0.block_table_full, f1.block_table_full);
	EXPECT_EQ(f0.block_replaced, f1.block_replaced);
	kt_write_text(REQUEUE_EVENT, "0");
	text = kt_read_file(TRACEFS "/trace", NULL);
	ASSERT_NE(NULL, text);
	requeues = requeue_lines(text, major(st.st_rdev), minor(st.st_rdev));
	free(text);

	KT_COLLECT(&self->rings, &self->recs);
	v = sorted_kev(&self->recs, KTRACER_KEV_BLOCK, &n);
	ASSERT_NE(NULL, v);
	for (i = 0; i < n; i++) {
		const struct kt_rec *r = v[i], *s;
		struct ktracer_block b, bs;

		memcpy(&b, r->msg, sizeof(b));
		if (b.dev != dev)
			continue;
		ASSERT_GT(KTRACER_BLOCK_INFLIGHT, r->hdr.slot);
		s = opened[r->hdr.slot];
		if (r->hdr.type == KTRACER_REC_START) {
			ASSERT_EQ(NULL, s) TH_LOG("entry %u: START after START",
						  r->hdr.slot);
			opened[r->hdr.slot] = r;
			starts++;
			flushes += b.op == 2;
			continue;
		}
		ASSERT_EQ(KTRACER_REC_STOP, r->hdr.type);
		ASSERT_NE(NULL, s) TH_LOG("entry %u: STOP without START",
					  r->hdr.slot);
		memcpy(&bs, s->msg, sizeof(bs));
		ASSERT_EQ(bs.op, b.op);
		ASSERT_EQ(bs.sector, b.sector);
		ASSERT_EQ(bs.bytes, b.bytes);
		ASSERT_EQ(0, b.error);
		ASSERT_EQ(s->hdr.pid, r->hdr.pid);
		ASSERT_EQ(r->hdr.ts - s->hdr.ts, r->hdr.extra);
		opened[r->hdr.slot] = NULL;
	}
	free(v);
	for (i = 0, left = 0; i < KTRACER_BLOCK_INFLIGHT; i++)
		left += !!opened[i];
	EXPECT_EQ(0, left) TH_LOG("entries with a START and no STOP");
	TH_LOG("%zu requests, %zu flushes, %zu requeues", starts, flushes,
	       requeues);
	EXPECT_LE(FLUSH_WORKERS * FLUSH_WRITES, starts - flushes);
	EXPECT_LT(0, flushes);
	/*
	 * 6.1's null_blk requeues what mbps=1 throttles (block_rq_requeue
	 * fires, 37 times in a run); 6.12's throttled the same load with
	 * no block_rq_requeue at all, so from 6.12 on the spans are only
	 * checked to match and close, as above.
	 */
	if (kt_kernel_older(6, 12))
		EXPECT_LT(0, requeues) TH_LOG("no requeue: mbps=1 did not throttle");
	kt_rings_unmap(&self->rings);
	close(self->dev_fd);
	self->dev_fd = -1;
	EXPECT_EQ(0, kt_unload_extra(&self->mods));
}

/* Fork a child that exits at once, and reap it: 0, or -errno. */
static int fork_reaped(pid_t *child)
{
	int status;

	*child = fork();
	if (*child < 0)
		return -errno;
	if (!*child)
		_exit(0);
	if (waitpid(*child, &status, 0) != *child)
		return -errno;
	return 0;
}

/*
 * In a new pid namespace, where it is pid 1, a process sets the filter to
 * pid 1 and forks: the task.fork record is about its child, with its own
 * pid as the parent's, both global pids; the file shows the filter as
 * the initial namespace sees it. A pid that names no process there:
 * ESRCH, changing nothing.
 */
TEST_F_TIMEOUT(kev, pids_in_namespace, 60)
{
	int32_t gone, nsinit, one = 1, two = 2, out[2];
	size_t i, forks = 0;
	pid_t child, inner;
	char text[64];
	int p[2], status;

	if (!(self->available & KTRACER_SRC_TASK))
		SKIP(return, "TASK is not available");
	/* The debug kernel is built without CONFIG_PID_NS. */
	child = fork();
	ASSERT_LE(0, child);
	if (!child)
		_exit(unshare(CLONE_NEWPID) ? 1 : 0);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	if (status)
		SKIP(return, "this kernel has no pid namespaces (CONFIG_PID_NS)");
	ASSERT_RET(0, kt_rings_map(self->fd, &self->rings));
	ASSERT_EQ(0, pipe(p));
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		if (unshare(CLONE_NEWPID))
			_exit(10);
		inner = fork();
		if (inner < 0)
			_exit(11);
		if (!inner) {
			/* pid 1 here: no pid 2 yet; then its child. */
			if (getpid() != 1)
				_exit(12);
			if (kt_kevents(self->fd, SRC_SET, KTRACER_SRC_TASK,
				       &two, 1, NULL) != -ESRCH)
				_exit(13);
			if (kt_kevents(self->fd, SRC_SET, KTRACER_SRC_TASK,
				       &one, 1, NULL))
				_exit(14);
			if (fork_reaped(&inner) || inner != 2)
				_exit(15);
			_exit(kt_kevents(self->fd, KTRACER_KEVENTS_SOURCES, 0,
					 NULL, 0, NULL) ? 16 : 0);
		}
		out[0] = inner;
		if (write(p[1], out, sizeof(out[0])) != sizeof(out[0]))
			_exit(17);
		if (waitpid(inner, &status, 0) != inner)
			_exit(18);
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 19);
	}
	close(p[1]);
	ASSERT_EQ(sizeof(nsinit), read(p[0], &nsinit, sizeof(nsinit)));
	close(p[0]);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_EQ(0, status) TH_LOG("the namespace's child: %#x", status);
	expect_state(_metadata, self->fd, 0, &nsinit, 1);

	KT_COLLECT(&self->rings, &self->recs);
	for (i = 0; i < self->recs.n; i++) {
		const struct ktracer_record *h = &self->recs.v[i].hdr;

		if (h->event != KTRACER_KEV_FORK || h->extra != (uint32_t)nsinit)
			continue;
		forks++;
		EXPECT_NE(2, h->pid) TH_LOG("the child's pid in the namespace");
		EXPECT_NE(nsinit, h->pid);
	}
	EXPECT_EQ(1, forks) TH_LOG("task.fork records of pid %d (1 inside)",
				   nsinit);

	/* ESRCH, by ioctl and by file, for a process reaped. */
	ASSERT_RET(0, kt_kevents_off(self->fd));
	ASSERT_RET(0, fork_reaped(&gone));
	ASSERT_RET(-ESRCH, kt_kevents(self->fd, SRC_SET, KTRACER_SRC_TASK,
				      &gone, 1, NULL));
	snprintf(text, sizeof(text), "task=1 pids=%d", gone);
	ASSERT_RET(-ESRCH, kt_write_text(KEVENTS_FILE, text));
	out[0] = getpid();
	out[1] = gone;
	ASSERT_RET(-ESRCH, kt_kevents(self->fd, KTRACER_KEVENTS_PIDS, 0, out,
				      2, NULL));
	expect_state(_metadata, self->fd, 0, NULL, 0);
}

/* clone3()'s argument, up to set_tid (CLONE_ARGS_SIZE_VER1). */
struct kev_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal;
	uint64_t stack, stack_size, tls, set_tid, set_tid_size;
};

/*
 * The filter holds a process, not its number: a process given the pid of
 * a filtered process that has exited (clone3()'s set_tid) is not
 * selected, while the filter's other process still is.
 */
TEST_F_TIMEOUT(kev, pids_reused, 60)
{
	struct kev_clone_args ca = { .exit_signal = SIGCHLD };
	int32_t pids[2] = { getpid() };
	size_t i, mine = 0, reused = 0;
	pid_t again, grandchild;
	int status;

	if (!(self->available & KTRACER_SRC_TASK))
		SKIP(return, "TASK is not available");
	ASSERT_RET(0, kt_rings_map(self->fd, &self->rings));
	pids[1] = fork();
	ASSERT_LE(0, pids[1]);
	if (!pids[1]) {
		pause();
		_exit(0);
	}
	ASSERT_RET(0, kt_kevents(self->fd, SRC_SET, KTRACER_SRC_TASK, pids, 2,
				 NULL));
	kill(pids[1], SIGKILL);
	ASSERT_EQ(pids[1], waitpid(pids[1], &status, 0));

	ca.set_tid = (uintptr_t)&pids[1];
	ca.set_tid_size = 1;
	again = syscall(SYS_clone3, &ca, sizeof(ca));
	if (again < 0 && errno == ENOSYS)
		SKIP(return, "no clone3()");
	ASSERT_LE(0, again) TH_LOG("clone3(set_tid %d): %s", pids[1],
				   strerror(errno));
	if (!again)
		_exit(fork_reaped(&grandchild) ? 1 : 0);
	ASSERT_EQ(pids[1], again);
	ASSERT_EQ(again, waitpid(again, &status, 0));
	ASSERT_EQ(0, status);
	ASSERT_RET(0, fork_reaped(&grandchild));
	ASSERT_RET(0, kt_kevents_off(self->fd));

	KT_COLLECT(&self->rings, &self->recs);
	for (i = 0; i < self->recs.n; i++) {
		const struct ktracer_record *h = &self->recs.v[i].hdr;

		if (h->event != KTRACER_KEV_FORK)
			continue;
		mine += h->extra == (uint32_t)pids[0] &&
			h->pid == (uint32_t)grandchild;
		reused += h->extra == (uint32_t)pids[1];
	}
	EXPECT_EQ(1, mine);
	EXPECT_EQ(0, reused) TH_LOG("the process given pid %d was recorded",
				    pids[1]);
}

#define FOLLOW_SET	(SRC_SET | KTRACER_KEVENTS_FOLLOW)
#define FOLLOW_EXTRA	7	/* processes forked past KTRACER_FOLLOW_MAX */

/* What follow_tree's child tells its parent. */
struct tree {
	pid_t fork_only;	/* a grandchild that only forked */
	pid_t exec;		/* one that exec'd this program */
	pid_t thread;		/* a thread of the child */
};

static void *tree_thread(void *arg)
{
	*(pid_t *)arg = kt_gettid();
	syscall(SYS_getppid);
	return NULL;
}

/*
 * follow_tree's child: a thread, a grandchild forked, one exec'd. What
 * goes into @t (shared with the grandchildren too) is written by the
 * child only.
 */
static int tree_child(struct tree *t)
{
	char comm[KTRACER_COMM_MAX + 1], env[64];
	pid_t thread = 0, fork_only, exec;
	int rp[2], status;
	pthread_t th;

	syscall(SYS_getppid);
	if (pthread_create(&th, NULL, tree_thread, &thread) ||
	    pthread_join(th, NULL))
		return 1;
	t->thread = thread;
	fork_only = fork();
	if (fork_only < 0)
		return 2;
	if (!fork_only) {
		syscall(SYS_getppid);
		_exit(0);
	}
	t->fork_only = fork_only;
	if (waitpid(fork_only, &status, 0) != fork_only || status)
		return 3;
	if (pipe(rp))
		return 4;
	exec = fork();
	if (exec < 0)
		return 5;
	if (!exec) {
		close(rp[0]);
		snprintf(env, sizeof(env), EXEC_CHILD_ENV "=%d", rp[1]);
		putenv(env);
		execl("/proc/self/exe", "kevents_test", (char *)NULL);
		_exit(101);
	}
	t->exec = exec;
	close(rp[1]);
	if (read(rp[0], comm, sizeof(comm)) <= 0)
		return 6;
	if (waitpid(exec, &status, 0) != exec ||
	    !WIFEXITED(status) || WEXITSTATUS(status) != EXEC_CHILD_CODE)
		return 7;
	return 0;
}

/* The records of @ev and @type whose pid (tid if @by_tid) is @id. */
static size_t count_about(const struct kt_recs *recs, uint32_t ev,
			  uint8_t type, pid_t id, bool by_tid)
{
	size_t i, n = 0;

	for (i = 0; i < recs->n; i++) {
		const struct ktracer_record *h = &recs->v[i].hdr;

		n += h->event == ev && h->type == type &&
		     (by_tid ? h->tid : h->pid) == (uint32_t)id;
	}
	return n;
}

/* The first SYSCALL record of thread @tid, by ts, or NULL. */
static const struct ktracer_record *first_syscall(const struct kt_recs *recs,
						  pid_t tid)
{
	const struct ktracer_record *first = NULL;
	size_t i;

	for (i = 0; i < recs->n; i++) {
		const struct ktracer_record *h = &recs->v[i].hdr;

		if (h->event == KTRACER_KEV_SYSCALL &&
		    h->tid == (uint32_t)tid && (!first || h->ts < first->ts))
			first = h;
	}
	return first;
}

/*
 * With KTRACER_KEVENTS_FOLLOW on this process, its child, the child's
 * thread and its grandchildren (one forked, one forked and exec'd) have
 * their SCHED, TASK and SYSCALL records, from their very first: the
 * return of fork() in each new process or thread is its first SYSCALL
 * record, a STOP of 0. A process forked before, outside the tree, has
 * none. debugfs shows the processes that joined.
 */
TEST_F_TIMEOUT(kev, follow_tree, 60)
{
	const uint32_t want = KTRACER_SRC_SCHED | KTRACER_SRC_TASK |
			      KTRACER_SRC_SYSCALL;
	int32_t pid = getpid();
	struct kt_kevents_file f;
	const struct ktracer_record *h;
	pid_t child, outsider, procs[3];
	struct tree *t;
	int go[2], status, i, j;
	char c = 0;

	if ((self->available & want) != want)
		SKIP(return, "SCHED, TASK or SYSCALL is not available");
	ASSERT_RET(0, kt_rings_map(self->fd, &self->rings));
	t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, t);
	ASSERT_EQ(0, pipe(go));
	/* Outside the tree: forked before following began. */
	outsider = fork();
	ASSERT_LE(0, outsider);
	if (!outsider) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		syscall(SYS_getppid);
		_exit(0);
	}
	close(go[0]);
	ASSERT_RET(0, kt_kevents(self->fd, FOLLOW_SET, want, &pid, 1, NULL));
	child = fork();
	ASSERT_LE(0, child);
	if (!child)
		_exit(tree_child(t));
	ASSERT_EQ(1, write(go[1], &c, 1));
	close(go[1]);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_EQ(0, status) TH_LOG("the child failed at step %d",
				    WEXITSTATUS(status));
	ASSERT_EQ(outsider, waitpid(outsider, &status, 0));
	ASSERT_EQ(0, status);
	ASSERT_RET(0, kt_kevents_read(&f));
	ASSERT_RET(0, kt_kevents(self->fd, KTRACER_KEVENTS_SOURCES, 0, NULL, 0,
				 NULL));

	/* The file: following, this process and the three that joined. */
	EXPECT_EQ(1, f.follow);
	EXPECT_EQ(0, f.follow_full);
	procs[0] = child;
	procs[1] = t->fork_only;
	procs[2] = t->exec;
	ASSERT_EQ(4, f.npids);
	for (i = 0; i < 3; i++) {
		for (j = 0; j < f.npids && f.pids[j] != procs[i]; j++)
			;
		EXPECT_LT(j, f.npids) TH_LOG("pid %d not in the filter",
					     procs[i]);
	}

	/* A process's START may be the second half of a SWITCH. */
	KT_COLLECT_SPLIT(&self->rings, &self->recs);
	for (i = 0; i < 3; i++) {
		pid_t p = procs[i];

		/* (by tid: the child's thread has its own) */
		EXPECT_EQ(1, count_about(&self->recs, KTRACER_KEV_FORK,
					 KTRACER_REC_LOG, p, true))
			TH_LOG("task.fork of %d", p);
		EXPECT_EQ(1, count_about(&self->recs, KTRACER_KEV_EXIT,
					 KTRACER_REC_LOG, p, true))
			TH_LOG("task.exit of %d", p);
		EXPECT_LT(0, count_about(&self->recs, KTRACER_KEV_RUNNING,
					 KTRACER_REC_START, p, false))
			TH_LOG("sched.running of %d", p);
		EXPECT_LT(0, count_about(&self->recs, KTRACER_KEV_SYSCALL,
					 KTRACER_REC_START, p, false))
			TH_LOG("syscalls of %d", p);
		h = first_syscall(&self->recs, p);
		ASSERT_NE(NULL, h);
		EXPECT_EQ(KTRACER_REC_STOP, h->type)
			TH_LOG("%d's first syscall record is not fork()'s return",
			       p);
		EXPECT_EQ(0, h->arg);
	}
	EXPECT_EQ(1, count_about(&self->recs, KTRACER_KEV_EXEC,
				 KTRACER_REC_LOG, t->exec, false));
	/* The child's thread: selected with its process. */
	EXPECT_LT(0, count_about(&self->recs, KTRACER_KEV_SYSCALL,
				 KTRACER_REC_START, t->thread, true));
	h = first_syscall(&self->recs, t->thread);
	ASSERT_NE(NULL, h);
	EXPECT_EQ(KTRACER_REC_STOP, h->type);
	EXPECT_EQ(child, h->pid);
	/* Nothing about the process outside the tree. */
	for (i = 0; i < (int)self->recs.n; i++)
		EXPECT_NE((uint32_t)outsider, self->recs.v[i].hdr.pid)
			TH_LOG("event %u about the outsider",
			       self->recs.v[i].hdr.event);
	munmap(t, sizeof(*t));
}

/*
 * KTRACER_KEVENTS_FOLLOW needs a filter to follow: EINVAL without
 * KTRACER_KEVENTS_PIDS or with npids 0, changing nothing. It follows
 * with no source on; setting the filter without it, by ioctl or by file,
 * stops following.
 */
TEST_F(kev, follow_rules)
{
	int32_t pid = getpid();
	struct kt_kevents_file f;
	pid_t a, b;
	char text[64];

	ASSERT_RET(-EINVAL, kt_kevents(self->fd, KTRACER_KEVENTS_SOURCES |
				       KTRACER_KEVENTS_FOLLOW, 0, NULL, 0,
				       NULL));
	ASSERT_RET(-EINVAL, kt_kevents(self->fd, KTRACER_KEVENTS_FOLLOW, 0,
				       NULL, 0, NULL));
	ASSERT_RET(-EINVAL, kt_kevents(self->fd, FOLLOW_SET, 0, &pid, 0, NULL));
	ASSERT_RET(0, kt_kevents_read(&f));
	EXPECT_EQ(0, f.follow);
	EXPECT_EQ(-1, f.npids);

	/* No source on: the filter follows all the same. */
	ASSERT_RET(0, kt_kevents(self->fd, FOLLOW_SET, 0, &pid, 1, NULL));
	ASSERT_RET(0, fork_reaped(&a));
	ASSERT_RET(0, kt_kevents_read(&f));
	EXPECT_EQ(1, f.follow);
	ASSERT_EQ(2, f.npids);
	EXPECT_EQ(pid, f.pids[0]);
	EXPECT_EQ(a, f.pids[1]);
	expect_state(_metadata, self->fd, 0, f.pids, 2);

	/* PIDS without FOLLOW: the listed processes only. */
	ASSERT_RET(0, kt_kevents(self->fd, KTRACER_KEVENTS_PIDS, 0, &pid, 1,
				 NULL));
	ASSERT_RET(0, fork_reaped(&b));
	ASSERT_RET(0, kt_kevents_read(&f));
	EXPECT_EQ(0, f.follow);
	EXPECT_EQ(0, f.follow_full);
	expect_state(_metadata, self->fd, 0, &pid, 1);

	/* And by file. */
	ASSERT_RET(0, kt_kevents(self->fd, FOLLOW_SET, 0, &pid, 1, NULL));
	snprintf(text, sizeof(text), "pids=%d", pid);
	ASSERT_RET(0, kt_write_text(KEVENTS_FILE, text));
	ASSERT_RET(0, fork_reaped(&b));
	ASSERT_RET(0, kt_kevents_read(&f));
	EXPECT_EQ(0, f.follow);
	expect_state(_metadata, self->fd, 0, &pid, 1);
}

/*
 * The filter holds KTRACER_FOLLOW_MAX processes: this one and the first
 * KTRACER_FOLLOW_MAX - 1 it forks; the FOLLOW_EXTRA after them are not
 * followed, and counted.
 */
TEST_F_TIMEOUT(kev, follow_full, 120)
{
	int32_t pid = getpid();
	struct kt_kevents_file f;
	uint64_t t0 = kt_now();
	pid_t last = 0;
	int i;

	ASSERT_RET(0, kt_kevents(self->fd, FOLLOW_SET, 0, &pid, 1, NULL));
	for (i = 0; i < KTRACER_FOLLOW_MAX - 1 + FOLLOW_EXTRA; i++)
		ASSERT_RET(0, fork_reaped(&last));
	TH_LOG("%d forks in %llu ms", KTRACER_FOLLOW_MAX - 1 + FOLLOW_EXTRA,
	       (unsigned long long)(kt_now() - t0) / 1000000);
	ASSERT_RET(0, kt_kevents_read(&f));
	EXPECT_EQ(1, f.follow);
	EXPECT_EQ(FOLLOW_EXTRA, f.follow_full);
	ASSERT_EQ(KTRACER_FOLLOW_MAX, f.npids);
	EXPECT_EQ(pid, f.pids[0]);
	EXPECT_NE(last, f.pids[KTRACER_FOLLOW_MAX - 1]);
	/* A new filter starts with none. */
	ASSERT_RET(0, kt_kevents(self->fd, FOLLOW_SET, 0, &pid, 1, NULL));
	ASSERT_RET(0, kt_kevents_read(&f));
	EXPECT_EQ(0, f.follow_full);
	EXPECT_EQ(1, f.npids);
}

TEST_HARNESS_MAIN
