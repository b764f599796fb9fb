/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Functions and macros shared by ktracer's kselftests.
 *
 * Unless said otherwise, the functions return 0 (or a non-negative result)
 * on success and -errno on failure, so a test can compare the exact error.
 */
#ifndef KT_TEST_H
#define KT_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <linux/ktracer.h>

#define KT_DEBUGFS "/sys/kernel/debug/ktracer"

/* What the module is loaded with, and what every test leaves behind. */
#define KT_DEFAULT_BUFFER	524288ULL
#define KT_DEFAULT_MODE		KTRACER_MODE_DISCARD

#define KT_NSEC_PER_SEC		1000000000ULL

/* Assert that @call fails with exactly @err. */
#define ASSERT_ERRNO(err, call) do {					\
	errno = 0;							\
	ASSERT_EQ(-1, (call));						\
	ASSERT_EQ((err), errno) TH_LOG("%s: want %s, got %s", #call,	\
				       strerror(err), strerror(errno));	\
} while (0)

/* Assert that @call, returning 0 or -errno, returned exactly @ret. */
#define ASSERT_RET(ret, call) do {					\
	long __kt_ret = (call);						\
	ASSERT_EQ((long)(ret), __kt_ret)				\
		TH_LOG("%s: want %s, got %s", #call,			\
		       (ret) < 0 ? strerror(-(ret)) : "success",	\
		       __kt_ret < 0 ? strerror(-__kt_ret) : "success");	\
} while (0)

/* Assert that an OP of @opcode on @event fails with exactly @err. */
#define ASSERT_OP_ERRNO(err, fd, opcode, event, slot, value) do {	\
	struct ktracer_op __kt_op = kt_mkop(opcode, event, slot, value);	\
	ASSERT_ERRNO(err, ioctl(fd, KTRACER_IOC_OP, &__kt_op));		\
} while (0)

/*
 * Whether the running kernel is older than @major.@minor: for the few
 * behaviours of the kernel itself (not of ktracer) that tests see change.
 */
static inline int kt_kernel_older(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return 0;
	return ma < major || (ma == major && mi < minor);
}

/* Read a small text file into @buf, without the trailing newline. */
static inline int kt_read_text(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

/* Write @text to @path in one write(). */
static inline int kt_write_text(const char *path, const char *text)
{
	size_t len = strlen(text);
	int fd = open(path, O_WRONLY);
	ssize_t n;
	int err;

	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	err = n < 0 ? -errno : (size_t)n == len ? 0 : -EIO;
	close(fd);
	return err;
}

/* How many times @needle occurs in @hay. */
static inline size_t kt_count(const char *hay, const char *needle)
{
	size_t n = 0, l = strlen(needle);

	while ((hay = strstr(hay, needle))) {
		n++;
		hay += l;
	}
	return n;
}

/*
 * Read a whole file, however long, into a NUL-terminated buffer the
 * caller frees. NULL with errno set on failure.
 */
static inline char *kt_read_file(const char *path, size_t *lenp)
{
	size_t cap = 16384, len = 0;
	char *buf = malloc(cap), *bigger;
	int fd, err;
	ssize_t n;

	if (!buf)
		return NULL;
	fd = open(path, O_RDONLY);
	if (fd < 0)
		goto fail;
	for (;;) {
		if (cap - len < 4096) {
			bigger = realloc(buf, cap * 2);
			if (!bigger)
				goto fail_fd;
			buf = bigger;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0)
			goto fail_fd;
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	if (lenp)
		*lenp = len;
	return buf;
fail_fd:
	err = errno;
	close(fd);
	errno = err;
fail:
	err = errno;
	free(buf);
	errno = err;
	return NULL;
}

/* One line of /sys/kernel/debug/ktracer/events. */
struct kt_event_line {
	unsigned int id;
	char kind[16];
	unsigned int slots;
	unsigned int uid;
	char name[KTRACER_NAME_MAX];
};

#define KT_EVENTS_HEADER "# id kind slots uid name"

/*
 * Parse the events file into a malloc'ed array (*out, freed by the
 * caller): the number of events, or -EBADMSG if a line is not exactly
 * "%u %s %u %u %s" with a known kind word.
 */
static inline int kt_events_read(struct kt_event_line **out)
{
	char *buf = kt_read_file(KT_DEBUGFS "/events", NULL);
	char *line, *save = NULL, again[256];
	struct kt_event_line *v = NULL, *bigger;
	int n = 0, cap = 0, off;

	*out = NULL;
	if (!buf)
		return -errno;
	line = strtok_r(buf, "\n", &save);
	if (!line || strcmp(line, KT_EVENTS_HEADER)) {
		fprintf(stderr, "# events: bad header '%s'\n", line ? line : "");
		goto bad;
	}
	while ((line = strtok_r(NULL, "\n", &save))) {
		struct kt_event_line e;

		memset(&e, 0, sizeof(e));
		off = -1;
		if (sscanf(line, "%u %15s %u %u%n", &e.id, e.kind, &e.slots,
			   &e.uid, &off) != 4 || off < 0 || line[off] != ' ' ||
		    strlen(line + off + 1) >= sizeof(e.name))
			goto bad_line;
		strcpy(e.name, line + off + 1);
		/* Nothing but single spaces between the fields. */
		snprintf(again, sizeof(again), "%u %s %u %u %s", e.id, e.kind,
			 e.slots, e.uid, e.name);
		if (strcmp(again, line))
			goto bad_line;
		if (strcmp(e.kind, "span") && strcmp(e.kind, "gauge") &&
		    strcmp(e.kind, "counter") && strcmp(e.kind, "log"))
			goto bad_line;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			bigger = realloc(v, cap * sizeof(*v));
			if (!bigger) {
				free(v);
				free(buf);
				return -ENOMEM;
			}
			v = bigger;
		}
		v[n++] = e;
	}
	free(buf);
	*out = v;
	return n;
bad_line:
	fprintf(stderr, "# events: bad line '%s'\n", line);
bad:
	free(v);
	free(buf);
	return -EBADMSG;
}

/* The line of the events file that names @name, or NULL. */
static inline const struct kt_event_line *
kt_events_find(const struct kt_event_line *v, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(v[i].name, name))
			return &v[i];
	return NULL;
}

/* debugfs "trace": its header, three lines, parsed. */
struct kt_trace_head {
	unsigned int cpus;
	char mode[16];
	unsigned long long records, written, read, lost, overwritten;
};

#define KT_TRACE_COLUMNS "# [CPU] SECONDS.USECS COMM-PID/TID EVENT PHASE FIELDS\n"

/* @text's header into @h: 0, or -EBADMSG if it is not exactly that. */
static inline int kt_trace_head(const char *text, struct kt_trace_head *h)
{
	char again[256];
	int n = -1;

	memset(h, 0, sizeof(*h));
	if (sscanf(text, "# ktracer: %u CPUs, mode %15[a-z]%n", &h->cpus,
		   h->mode, &n) != 2 || n < 0)
		return -EBADMSG;
	snprintf(again, sizeof(again), "# ktracer: %u CPUs, mode %s\n",
		 h->cpus, h->mode);
	if (strncmp(text, again, strlen(again)))
		return -EBADMSG;
	text += strlen(again);
	if (sscanf(text, "# records: %llu in buffer, %llu written, %llu read, %llu lost, %llu overwritten",
		   &h->records, &h->written, &h->read, &h->lost,
		   &h->overwritten) != 5)
		return -EBADMSG;
	snprintf(again, sizeof(again), "# records: %llu in buffer, %llu written, %llu read, %llu lost, %llu overwritten\n",
		 h->records, h->written, h->read, h->lost, h->overwritten);
	if (strncmp(text, again, strlen(again)))
		return -EBADMSG;
	text += strlen(again);
	return strncmp(text, KT_TRACE_COLUMNS, strlen(KT_TRACE_COLUMNS)) ?
	       -EBADMSG : 0;
}

/* One record line of debugfs "trace" (not a LOST line), parsed. */
struct kt_trace_line {
	unsigned int cpu;
	unsigned long long sec, usec;
	char comm[KTRACER_COMM_MAX];
	unsigned int pid, tid;
	const char *rest;	/* "EVENT PHASE FIELDS" */
};

/* "[CPU] SEC.USEC COMM-PID/TID rest": 0, or -EBADMSG. */
static inline int kt_trace_line(const char *line, struct kt_trace_line *l)
{
	char task[64];
	const char *dash;
	int n = -1;

	memset(l, 0, sizeof(*l));
	if (sscanf(line, "[%u] %llu.%6llu %63s %n", &l->cpu, &l->sec,
		   &l->usec, task, &n) != 4 || n < 0)
		return -EBADMSG;
	/* The comm may hold a '-': the pid is after the last. */
	dash = strrchr(task, '-');
	if (!dash || dash == task || dash - task >= KTRACER_COMM_MAX ||
	    sscanf(dash + 1, "%u/%u", &l->pid, &l->tid) != 2)
		return -EBADMSG;
	memcpy(l->comm, task, dash - task);
	l->rest = line + n;
	return 0;
}

/*
 * The comm "trace" shows for thread @tid when it looks it up: its comm,
 * blanks and unprintable bytes as '_'; "<idle>" for 0, "<...>" if gone.
 */
static inline void kt_trace_comm(pid_t tid, char *buf)
{
	char path[64];
	int i;

	snprintf(path, sizeof(path), "/proc/%d/comm", tid);
	if (!tid)
		strcpy(buf, "<idle>");
	else if (kt_read_text(path, buf, KTRACER_COMM_MAX))
		strcpy(buf, "<...>");
	for (i = 0; buf[i]; i++)
		if (buf[i] <= 0x20 || buf[i] > 0x7e)
			buf[i] = '_';
}

/* Drop to an unprivileged uid/gid for the rest of this (forked) test. */
static inline int kt_drop_privileges(void)
{
	if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
	    setresuid(65534, 65534, 65534))
		return -errno;
	return 0;
}

/*
 * Run @fn in a child that first drops to uid/gid 65534. Returns the
 * child's exit status: 0 if @fn returned, the code it passed to _exit()
 * otherwise, 100 if privileges could not be dropped, 128 + signal if it
 * was killed.
 */
static inline int kt_run_unprivileged_pid(void (*fn)(int fd), int fd,
					  pid_t *pidp)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (kt_drop_privileges() || geteuid() == 0)
			_exit(100);
		fn(fd);
		_exit(0);
	}
	if (pidp)
		*pidp = pid;
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static inline int kt_run_unprivileged(void (*fn)(int fd), int fd)
{
	return kt_run_unprivileged_pid(fn, fd, NULL);
}


static inline pid_t kt_gettid(void)
{
	return syscall(SYS_gettid);
}

/* CLOCK_MONOTONIC in ns: the clock of every ktracer record. */
static inline uint64_t kt_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * KT_NSEC_PER_SEC + ts.tv_nsec;
}

static inline int kt_nr_cpus(void)
{
	return sysconf(_SC_NPROCESSORS_CONF);
}

/* Pin the calling thread to @cpu; on return it runs there. */
static inline int kt_pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return -errno;
	return sched_getcpu() == cpu ? 0 : -EIO;
}

static inline int kt_open(void)
{
	int fd = open(KTRACER_DEVICE, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* Register @name: its id (never 0), or -errno. */
static inline int64_t kt_register(int fd, uint32_t kind, uint32_t slots,
				  const char *name)
{
	struct ktracer_register r;
	size_t len = strlen(name);

	if (len >= sizeof(r.name))
		return -ENAMETOOLONG;
	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	r.kind = kind;
	r.slots = slots;
	memcpy(r.name, name, len);
	if (ioctl(fd, KTRACER_IOC_REGISTER, &r))
		return -errno;
	return r.id;
}

/* An event's id, or 0 (never an id) if it cannot be registered. */
static inline uint32_t kt_register_id(int fd, uint32_t kind, uint32_t slots,
				      const char *name)
{
	int64_t id = kt_register(fd, kind, slots, name);

	return id > 0 ? id : 0;
}

/* An op with every member zero but those given. */
static inline struct ktracer_op kt_mkop(uint16_t opcode, uint32_t event,
					uint32_t slot, uint64_t value)
{
	struct ktracer_op op;

	memset(&op, 0, sizeof(op));
	op.size = sizeof(op);
	op.op = opcode;
	op.event = event;
	op.slot = slot;
	op.value = value;
	return op;
}

static inline int kt_do(int fd, struct ktracer_op *op)
{
	return ioctl(fd, KTRACER_IOC_OP, op) ? -errno : 0;
}

static inline int kt_op(int fd, uint16_t opcode, uint32_t event,
			uint32_t slot, uint64_t value)
{
	struct ktracer_op op = kt_mkop(opcode, event, slot, value);

	return kt_do(fd, &op);
}

static inline int kt_log(int fd, uint32_t event, const void *msg,
			 uint32_t len)
{
	struct ktracer_op op = kt_mkop(KTRACER_OP_LOG, event, 0,
				       (uintptr_t)msg);

	op.len = len;
	return kt_do(fd, &op);
}

/* KTRACER_IOC_BATCH; @done and @error (if not NULL) get what it wrote. */
static inline int kt_batch(int fd, struct ktracer_op *ops, uint32_t count,
			   uint32_t *done, int32_t *error)
{
	struct ktracer_batch b;
	int ret;

	memset(&b, 0, sizeof(b));
	b.size = sizeof(b);
	b.ops = (uintptr_t)ops;
	b.count = count;
	b.op_size = sizeof(*ops);
	ret = ioctl(fd, KTRACER_IOC_BATCH, &b) ? -errno : 0;
	if (done)
		*done = b.done;
	if (error)
		*error = b.error;
	return ret;
}

static inline int kt_set_enable(int fd, uint32_t on)
{
	struct ktracer_enable e;

	memset(&e, 0, sizeof(e));
	e.size = sizeof(e);
	e.enable = on;
	return ioctl(fd, KTRACER_IOC_ENABLE, &e) ? -errno : 0;
}

/* KTRACER_IOC_CONFIG. Members that @flags does not name are left 0. */
static inline int kt_config(int fd, uint32_t flags, uint32_t mode,
			    uint64_t buffer_size)
{
	struct ktracer_config c;

	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.flags = flags;
	c.mode = flags & KTRACER_CONFIG_MODE ? mode : 0;
	c.buffer_size = flags & KTRACER_CONFIG_BUFFER_SIZE ? buffer_size : 0;
	return ioctl(fd, KTRACER_IOC_CONFIG, &c) ? -errno : 0;
}

static inline int kt_reset(int fd)
{
	struct ktracer_reset r;

	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	return ioctl(fd, KTRACER_IOC_RESET, &r) ? -errno : 0;
}

/*
 * The start of a test that reads its own records back: open the device,
 * record, empty the buffers, and pin to the last CPU (not CPU 0, so that
 * records cannot land in CPU 0's buffer by chance and the CPU field
 * shows). Returns the fd, or -errno; *@cpu is the CPU pinned to.
 */
static inline int kt_open_fresh_pinned(int *cpu)
{
	int fd = kt_open(), ret;

	if (fd < 0)
		return fd;
	*cpu = kt_nr_cpus() - 1;
	ret = kt_set_enable(fd, 1);
	if (!ret)
		ret = kt_reset(fd);
	if (!ret)
		ret = kt_pin_cpu(*cpu);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

/*
 * Put back what the module loads with: tracing on, DISCARD, 512 KiB per
 * CPU (which also empties the buffers). Nothing may be mapped.
 */
static inline int kt_restore_defaults(int fd)
{
	int err = kt_set_enable(fd, 1);
	int err2 = kt_config(fd, KTRACER_CONFIG_MODE |
				 KTRACER_CONFIG_BUFFER_SIZE,
			     KT_DEFAULT_MODE, KT_DEFAULT_BUFFER);

	return err ? err : err2;
}

/*
 * KTRACER_IOC_KEVENTS: set what @flags names, the sources to @sources and
 * the pid filter to @pids[0..@npids-1] (what @flags does not name is
 * passed as 0). @out, if not NULL, gets the struct as the call left it
 * (what is on and available, on success).
 */
static inline int kt_kevents(int fd, uint32_t flags, uint32_t sources,
			     const int32_t *pids, uint32_t npids,
			     struct ktracer_kevents *out)
{
	struct ktracer_kevents k;
	int ret;

	memset(&k, 0, sizeof(k));
	k.size = sizeof(k);
	k.flags = flags;
	if (flags & KTRACER_KEVENTS_SOURCES)
		k.sources = sources;
	if (flags & KTRACER_KEVENTS_PIDS) {
		k.pids = (uintptr_t)pids;
		k.npids = npids;
	}
	ret = ioctl(fd, KTRACER_IOC_KEVENTS, &k) ? -errno : 0;
	if (out)
		*out = k;
	return ret;
}

/* What every test leaves behind: no source on, every process selected. */
static inline int kt_kevents_off(int fd)
{
	return kt_kevents(fd, KTRACER_KEVENTS_SOURCES | KTRACER_KEVENTS_PIDS,
			  0, NULL, 0, NULL);
}

/*
 * A fixture's teardown: the module as it loads (no source on, every
 * process selected, kt_restore_defaults()), then @fd closed. 0, or the
 * first -errno.
 */
static inline int kt_close_restored(int fd)
{
	int err = kt_kevents_off(fd);
	int err2 = kt_restore_defaults(fd);

	close(fd);
	return err ? err : err2;
}

/* Sources named by bit, as debugfs' kevents file names them, in its order. */
static const char *const kt_source_names[] = {
	"sched", "task", "irq", "softirq", "syscall", "block",
};

#define KT_NR_SOURCES	6

/* /sys/kernel/debug/ktracer/kevents, parsed. */
struct kt_kevents_file {
	uint32_t on;		/* KTRACER_SRC_* */
	uint32_t available;
	int npids;		/* -1: "pids all" */
	int32_t pids[KTRACER_FOLLOW_MAX];
	unsigned long long follow, follow_full;
	unsigned long long block_unmatched, block_table_full;
	unsigned long long block_replaced, block_inflight;
};

/* @line is exactly "@name N": 0 with *@val = N, else -EBADMSG. */
static inline int kt_counter_line(const char *line, const char *name,
				  unsigned long long *val)
{
	char again[96];
	int n = -1;

	if (!line || strlen(name) > 64 ||
	    sscanf(line, "%*s %llu%n", val, &n) != 1 || n < 0)
		return -EBADMSG;
	snprintf(again, sizeof(again), "%s %llu", name, *val);
	return strcmp(again, line) ? -EBADMSG : 0;
}

/*
 * Parse debugfs' kevents file into @f: 0, or -EBADMSG if it is not
 * exactly one "NAME on|off|unavailable" line per source in order, then
 * "pids all" or "pids" and up to KTRACER_FOLLOW_MAX pids, then "follow"
 * 0 or 1 and "follow_full", then the four block counters.
 */
static inline int kt_kevents_read(struct kt_kevents_file *f)
{
	char *buf = kt_read_file(KT_DEBUGFS "/kevents", NULL);
	char *line, *save = NULL, *tok, *tsave, *end;
	const char *why = "missing lines";
	int i;

	memset(f, 0, sizeof(*f));
	if (!buf)
		return -errno;
	line = strtok_r(buf, "\n", &save);
	for (i = 0; i < KT_NR_SOURCES; i++, line = strtok_r(NULL, "\n", &save)) {
		const char *state;

		if (!line)
			goto bad;
		state = line + strlen(kt_source_names[i]);
		why = "bad source line";
		if (strncmp(line, kt_source_names[i], state - line) ||
		    *state++ != ' ')
			goto bad;
		if (!strcmp(state, "on"))
			f->on |= 1u << i;
		else if (strcmp(state, "off") && strcmp(state, "unavailable"))
			goto bad;
		if (strcmp(state, "unavailable"))
			f->available |= 1u << i;
	}
	why = "bad pids line";
	if (!line || strncmp(line, "pids ", 5))
		goto bad;
	if (!strcmp(line + 5, "all")) {
		f->npids = -1;
	} else {
		for (tok = strtok_r(line + 5, " ", &tsave); tok;
		     tok = strtok_r(NULL, " ", &tsave)) {
			long pid = strtol(tok, &end, 10);

			if (*end || pid <= 0 || pid > INT32_MAX ||
			    f->npids == KTRACER_FOLLOW_MAX)
				goto bad;
			f->pids[f->npids++] = pid;
		}
		if (!f->npids)
			goto bad;
	}
	why = "bad follow lines";
	line = strtok_r(NULL, "\n", &save);
	if (kt_counter_line(line, "follow", &f->follow) || f->follow > 1)
		goto bad;
	line = strtok_r(NULL, "\n", &save);
	if (kt_counter_line(line, "follow_full", &f->follow_full))
		goto bad;
	why = "bad block counter lines";
	line = strtok_r(NULL, "\n", &save);
	if (kt_counter_line(line, "block_unmatched", &f->block_unmatched))
		goto bad;
	line = strtok_r(NULL, "\n", &save);
	if (kt_counter_line(line, "block_table_full", &f->block_table_full))
		goto bad;
	line = strtok_r(NULL, "\n", &save);
	if (kt_counter_line(line, "block_replaced", &f->block_replaced))
		goto bad;
	line = strtok_r(NULL, "\n", &save);
	if (kt_counter_line(line, "block_inflight", &f->block_inflight))
		goto bad;
	why = "extra lines";
	line = strtok_r(NULL, "\n", &save);
	if (line)
		goto bad;
	free(buf);
	return 0;
bad:
	fprintf(stderr, "# kevents: %s at '%s'\n", why, line ? line : "(end)");
	free(buf);
	return -EBADMSG;
}

/* The read-only state page, or MAP_FAILED with errno set. */
static inline const struct ktracer_state *kt_map_state(int fd)
{
	return mmap(NULL, sysconf(_SC_PAGESIZE), PROT_READ, MAP_SHARED, fd, 0);
}

static inline void kt_unmap_state(const struct ktracer_state *st)
{
	if (st && st != MAP_FAILED)
		munmap((void *)st, sysconf(_SC_PAGESIZE));
}

/* ktracer itself, as the VM's /init loads it. */
#define KT_MODULE_NAME	"ktracer"
#define KT_MODULE_PATH	"/lib/modules/ktracer.ko"

static inline bool kt_module_loaded(void)
{
	return !access("/sys/module/" KT_MODULE_NAME, F_OK);
}

/* The parameters the VM's /init loaded it with ("" if none). */
#define KT_MODULE_PARAMS "/lib/modules/ktracer.params"

static inline int kt_module_load(void)
{
	char params[256] = "";
	int fd, ret;

	ret = kt_read_text(KT_MODULE_PARAMS, params, sizeof(params));
	if (ret && ret != -ENOENT)
		return ret;
	fd = open(KT_MODULE_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, params, 0) ? -errno : 0;
	close(fd);
	return ret;
}

/* delete_module() as rmmod does it: never waits. */
static inline int kt_module_unload(void)
{
	return syscall(SYS_delete_module, KT_MODULE_NAME, O_NONBLOCK) ?
	       -errno : 0;
}

/* Modules of the VM's /lib/modules/extra/, loaded in its load.order. */
#define KT_EXTRA_MODULES	"/lib/modules/extra"
#define KT_MAX_MODS		8

/* The modules kt_load_extra() loaded, to unload in the reverse order. */
struct kt_mods {
	int n;
	char name[KT_MAX_MODS][KTRACER_NAME_MAX];
};

/*
 * Load KT_EXTRA_MODULES' load.order, @params for @module; those already
 * loaded (EEXIST) are not recorded in @mods, not being ours to unload.
 */
static inline int kt_load_extra(struct kt_mods *mods, const char *module,
				const char *params)
{
	char order[1024], path[256], *line, *save = NULL, *dot, *name;
	int fd, ret, err;

	ret = kt_read_text(KT_EXTRA_MODULES "/load.order", order,
			   sizeof(order));
	if (ret)
		return ret;
	/* One left by an earlier run would have other parameters. */
	syscall(SYS_delete_module, module, O_NONBLOCK);
	for (line = strtok_r(order, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (mods->n == KT_MAX_MODS ||
		    strlen(line) >= sizeof(mods->name[0]))
			return -E2BIG;
		snprintf(path, sizeof(path), KT_EXTRA_MODULES "/%s", line);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		name = mods->name[mods->n];
		strcpy(name, line);
		dot = strchr(name, '.');
		if (dot)
			*dot = '\0';
		for (dot = name; *dot; dot++)
			if (*dot == '-')
				*dot = '_';
		ret = syscall(SYS_finit_module, fd,
			      strcmp(name, module) ? "" : params, 0);
		err = errno;
		close(fd);
		if (!ret)
			mods->n++;
		else if (err != EEXIST)
			return -err;
	}
	return 0;
}

/* Unload what kt_load_extra() loaded: 0, or the first -errno. */
static inline int kt_unload_extra(struct kt_mods *mods)
{
	int err = 0;

	while (mods->n > 0) {
		const char *name = mods->name[--mods->n];

		if (syscall(SYS_delete_module, name, O_NONBLOCK) && !err) {
			err = -errno;
			fprintf(stderr, "# rmmod %s: %s\n", name,
				strerror(errno));
		}
	}
	return err;
}

#endif /* KT_TEST_H */
