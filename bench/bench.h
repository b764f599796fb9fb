/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bench.h: what the bench programs share. Giving up with a message, the
 * clock, pinning, calibrated runs and their median, opening ktracer and
 * mapping its pages, reading and writing tracefs, a pipe ping-pong
 * between two processes.
 *
 * A program that includes it defines restore(), which puts back what the
 * program changed (die() calls it) and returns how many things it could
 * not put back; restore_failed() reports one.
 */
#ifndef KT_BENCH_H
#define KT_BENCH_H

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/ktracer.h>

#define TRACEFS		"/sys/kernel/tracing"
#define RUNS		7	/* timed runs of a measurement: the median */

static int restore(void);

static inline void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", program_invocation_short_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	restore();
	exit(1);
}

/* For restore(): report a step that failed with -errno err; 1 if it did. */
static inline int restore_failed(int err, const char *what)
{
	if (err)
		fprintf(stderr, "%s: cannot restore %s: %s\n",
			program_invocation_short_name, what, strerror(-err));
	return err != 0;
}

static inline double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static inline void pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("cannot pin to CPU %d: %s", cpu, strerror(errno));
	if (sched_getcpu() != cpu)
		die("pinned to CPU %d, but running on CPU %d", cpu, sched_getcpu());
}

/*
 * The N for which run(arg, N), which returns the ns it took, lasts
 * min_ns..2 * min_ns, aiming at aim_ns. TCG's speed wanders, so give up
 * refining after a few tries and take the last N that ran long enough.
 */
static inline unsigned long calibrate(double (*run)(void *arg, unsigned long n),
				      void *arg, double min_ns, double aim_ns)
{
	unsigned long n = 16;

	for (int tries = 0;; tries++) {
		double elapsed = run(arg, n);

		if (elapsed >= min_ns && (elapsed <= 2 * min_ns || tries >= 12))
			return n;
		if (elapsed < min_ns / 50)
			n *= 16;
		else
			n = (unsigned long)(n * (aim_ns / elapsed)) + 1;
	}
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sort t[n]; its median (of the middle two if n is even), fastest, slowest. */
static inline void median_n(double *t, unsigned int n, double *med,
			    double *min, double *max)
{
	qsort(t, n, sizeof(t[0]), cmp_double);
	*med = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
	*min = t[0];
	*max = t[n - 1];
}

/* Sort t[RUNS]; its median, fastest and slowest. */
static inline void median_of(double t[RUNS], double *ns, double *min,
			     double *max)
{
	median_n(t, RUNS, ns, min, max);
}

/* ------------------------------------------------------------------ */
/* ktracer                                                             */

/*
 * Open /dev/ktracer, check its ABI major, map its state page: the fd.
 * The module's version goes to *v (may be NULL): what a minor added is
 * for the caller to check before it uses it.
 */
static inline int kt_open(const struct ktracer_state **state,
			  struct ktracer_version *v)
{
	struct ktracer_version ver = { .size = sizeof(ver) };
	int fd = open(KTRACER_DEVICE, O_RDWR | O_CLOEXEC);
	void *p;

	if (fd < 0)
		die("open %s: %s (is ktracer.ko loaded? root?)",
		    KTRACER_DEVICE, strerror(errno));
	if (ioctl(fd, KTRACER_IOC_VERSION, &ver))
		die("KTRACER_IOC_VERSION: %s", strerror(errno));
	if (ver.major != KTRACER_ABI_MAJOR)
		die("the module speaks ABI %u.%u; this benchmark needs major %u",
		    ver.major, ver.minor, KTRACER_ABI_MAJOR);
	if (v)
		*v = ver;

	p = mmap(NULL, sysconf(_SC_PAGESIZE), PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap of the state page: %s", strerror(errno));
	*state = p;
	if ((*state)->magic != KTRACER_STATE_MAGIC)
		die("the state page's magic is %#llx, not KTRACER_STATE_MAGIC",
		    (unsigned long long)(*state)->magic);
	return fd;
}

/* The file offset of page @k of CPU @cpu's buffer (0: reader, 1: meta). */
static inline off_t kt_cpu_page(const struct ktracer_state *state,
				unsigned int cpu, unsigned int k)
{
	return (1 + (off_t)cpu * state->cpu_pages + k) * state->page_size;
}

/*
 * Map CPU cpu's meta page (page 1 + cpu * cpu_pages + 1 of the file), or
 * return NULL and say why.
 */
static inline const volatile struct ktracer_meta *
kt_meta(int fd, const struct ktracer_state *state, unsigned int cpu,
	const char **why)
{
	long page = sysconf(_SC_PAGESIZE);
	const struct ktracer_meta *m;
	void *p;

	p = mmap(NULL, page, PROT_READ, MAP_SHARED, fd,
		 kt_cpu_page(state, cpu, 1));
	if (p == MAP_FAILED) {
		*why = strerror(errno);
		return NULL;
	}
	m = p;
	if (m->magic != KTRACER_META_MAGIC || m->cpu != cpu) {
		*why = "not a meta page of that CPU (magic, cpu)";
		munmap(p, page);
		return NULL;
	}
	return m;
}

/* Map CPU cpu's reader page, writable, or return NULL and say why. */
static inline struct ktracer_reader *
kt_reader(int fd, const struct ktracer_state *state, unsigned int cpu,
	  const char **why)
{
	void *p = mmap(NULL, sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE,
		       MAP_SHARED, fd, kt_cpu_page(state, cpu, 0));

	if (p == MAP_FAILED) {
		*why = strerror(errno);
		return NULL;
	}
	return p;
}

/* KTRACER_IOC_ENABLE: 0 or -errno. */
static inline int kt_enable(int fd, unsigned int on)
{
	struct ktracer_enable e = { .size = sizeof(e), .enable = on };

	return ioctl(fd, KTRACER_IOC_ENABLE, &e) ? -errno : 0;
}

/* KTRACER_IOC_CONFIG of what @flags name: 0 or -errno. */
static inline int kt_config(int fd, unsigned int flags, unsigned int mode,
			    uint64_t buffer_size)
{
	struct ktracer_config c = {
		.size = sizeof(c),
		.flags = flags,
		.mode = mode,
		.buffer_size = buffer_size,
	};

	return ioctl(fd, KTRACER_IOC_CONFIG, &c) ? -errno : 0;
}

/* KTRACER_IOC_CONFIG of the mode: 0 or -errno. */
static inline int kt_mode(int fd, unsigned int mode)
{
	return kt_config(fd, KTRACER_CONFIG_MODE, mode, 0);
}

/* Register span @name with one slot on @fd: its id. */
static inline uint32_t kt_register_span(int fd, const char *name)
{
	struct ktracer_register reg = {
		.size = sizeof(reg),
		.kind = KTRACER_KIND_SPAN,
		.slots = 1,
	};

	snprintf(reg.name, sizeof(reg.name), "%s", name);
	if (ioctl(fd, KTRACER_IOC_REGISTER, &reg))
		die("KTRACER_IOC_REGISTER span \"%s\" slots=1: %s", name,
		    strerror(errno));
	if (!reg.id)
		die("KTRACER_IOC_REGISTER \"%s\" returned event id 0", name);
	return reg.id;
}

/* ------------------------------------------------------------------ */
/* tracefs                                                             */

static inline void tracefs_mount(void)
{
	if (access(TRACEFS "/tracing_on", F_OK) &&
	    mount("tracefs", TRACEFS, "tracefs", 0, NULL))
		die("mount tracefs on %s: %s", TRACEFS, strerror(errno));
}

/* Write val to TRACEFS/file: 0 or -errno. */
static inline int tracefs_write(const char *file, const char *val)
{
	char path[256];
	ssize_t len = (ssize_t)strlen(val), done;
	int fd, err = 0;

	snprintf(path, sizeof(path), TRACEFS "/%s", file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	done = write(fd, val, len);
	if (done != len)
		err = done < 0 ? -errno : -EIO;
	close(fd);
	return err;
}

static inline void tracefs_set(const char *file, const char *val)
{
	int err = tracefs_write(file, val);

	if (err)
		die("write \"%s\" to %s/%s: %s", val, TRACEFS, file, strerror(-err));
}

/* Read TRACEFS/file into buf, NUL-terminated. */
static inline void tracefs_read(const char *file, char *buf, size_t size)
{
	char path[256];
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), TRACEFS "/%s", file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open %s: %s", path, strerror(errno));
	len = read(fd, buf, size - 1);
	if (len < 0)
		die("read %s: %s", path, strerror(errno));
	close(fd);
	buf[len] = '\0';
}

/* FIELD's number in per_cpu/cpuCPU/stats ("entries: 12\n..."). */
static inline uint64_t ftrace_stat(int cpu, const char *field)
{
	char file[64], buf[1024], *save = NULL;
	size_t len = strlen(field);

	snprintf(file, sizeof(file), "per_cpu/cpu%d/stats", cpu);
	tracefs_read(file, buf, sizeof(buf));
	for (char *line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, field, len) && line[len] == ':')
			return strtoull(line + len + 1, NULL, 10);
	die("%s/%s has no \"%s:\" line", TRACEFS, file, field);
	return 0;
}

/*
 * The events ftrace recorded on CPU since its buffers were last cleared:
 * those still in the buffer and those overwritten (nothing consumes).
 */
static inline uint64_t ftrace_events(int cpu)
{
	return ftrace_stat(cpu, "entries") + ftrace_stat(cpu, "overrun");
}

/* ------------------------------------------------------------------ */
/* A pipe ping-pong                                                    */

/*
 * As `perf bench sched pipe -T`: this process writes a 4-byte message
 * into one pipe, a child reads it and writes it back into another. Both
 * pinned to one CPU, each round trip puts both to sleep and wakes them
 * again: two context switches and (almost always) two wake-ups. A child
 * woken by the message may preempt the parent before it sleeps in
 * read(), which then finds the echo there without being woken.
 */
struct pingpong {
	int ping_fd;	/* to the child */
	int pong_fd;	/* from the child */
	pid_t child;	/* 0: none */
};

#define PINGPONG_INIT	{ .ping_fd = -1, .pong_fd = -1 }

/*
 * The child: send back every message until end of file. It may die():
 * restore() has nothing to undo in the child.
 */
static inline void __attribute__((noreturn)) pingpong_echo(int in, int out,
							    int cpu)
{
	uint32_t msg;
	ssize_t len;

	pin_cpu(cpu);
	while ((len = read(in, &msg, sizeof(msg))) == sizeof(msg))
		if (write(out, &msg, sizeof(msg)) != sizeof(msg))
			die("child: write to the pipe: %s", strerror(errno));
	if (len)
		die("child: read from the pipe returned %zd: %s", len,
		    len < 0 ? strerror(errno) : "a short message");
	exit(0);
}

/* Start the child, pinned to @cpu (the caller pins itself). */
static inline void pingpong_start(struct pingpong *pp, int cpu)
{
	int ping[2], pong[2];

	if (pipe2(ping, O_CLOEXEC) || pipe2(pong, O_CLOEXEC))
		die("pipe2: %s", strerror(errno));
	fflush(stdout);
	pp->child = fork();
	if (pp->child < 0)
		die("fork: %s", strerror(errno));
	if (!pp->child) {
		close(ping[1]);
		close(pong[0]);
		pingpong_echo(ping[0], pong[1], cpu);
	}
	close(ping[0]);
	close(pong[1]);
	pp->ping_fd = ping[1];
	pp->pong_fd = pong[0];
}

/* End of file tells the child to exit; it must exit 0. */
static inline void pingpong_stop(struct pingpong *pp)
{
	int status;

	close(pp->ping_fd);
	pp->ping_fd = -1;
	if (waitpid(pp->child, &status, 0) != pp->child)
		die("waitpid for the child: %s", strerror(errno));
	pp->child = 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		die("the child did not exit 0 (wait status %#x)", status);
}

/* For restore(): the child gone, whatever state it is in. */
static inline void pingpong_kill(struct pingpong *pp)
{
	if (pp->child > 0) {
		kill(pp->child, SIGKILL);
		waitpid(pp->child, NULL, 0);
		pp->child = 0;
	}
}

/* n round trips; returns how many did not come back intact. */
static inline unsigned long pingpong(struct pingpong *pp, unsigned long n)
{
	unsigned long fails = 0;

	for (unsigned long i = 0; i < n; i++) {
		uint32_t msg = (uint32_t)i, back = ~msg;

		if (write(pp->ping_fd, &msg, sizeof(msg)) != sizeof(msg) ||
		    read(pp->pong_fd, &back, sizeof(back)) != sizeof(back) ||
		    back != msg)
			fails++;
	}
	return fails;
}

#endif /* KT_BENCH_H */
