// SPDX-License-Identifier: GPL-2.0
/*
 * ops_bench: what one ktracer operation costs, next to the cheapest system
 * call and to ftrace's trace_marker.
 *
 * Run as root with ktracer.ko loaded, pinned to CPU 0. Each measurement
 * is the median of 7 timed runs of N iterations (CLOCK_MONOTONIC), N
 * calibrated so that one run takes 50-100 ms (TCG's speed wanders, so a
 * timed run may stray from that; the table shows the median run's ms).
 * Measured, in ns per op:
 *
 *	getppid		syscall(SYS_getppid): a system call that does nothing
 *	ioctl_floor	an ioctl /dev/ktracer does not know (ENOTTY): what
 *			the VFS's ioctl path costs before ktracer's code
 *			runs, the floor of any op made with its own call
 *	trace_marker	write() of 40 bytes (one struct ktracer_op's worth)
 *			to /sys/kernel/tracing/trace_marker, tracing on
 *	span_op		KTRACER_IOC_OP, alternating START and STOP on slot 0
 *	batch_op	KTRACER_IOC_BATCH of 64 such ops, per op
 *	disabled	what an instrumented program does while tracing is
 *			off: one load of ktracer_state.enabled and a branch
 *
 * Nothing is timed before it has been seen to work: every op is checked
 * in a warm-up pass (a failing ioctl is fast, and would fake a result),
 * every timed loop counts failures and any makes the program exit 1, and
 * CPU 0's meta page (when it can be mapped) must show that the ops were
 * recorded, none lost. The ktracer buffers are put in OVERWRITE mode
 * while timing, so that they never fill up, and back in DISCARD after.
 *
 * Output: one "KT-RESULT <name> <ns_per_op>" line per measurement, then a
 * table for people. Exits 0 if every measurement was taken, 1 otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/ktracer.h>

#define TRACEFS		"/sys/kernel/tracing"
#define RUNS		7
#define RUN_MIN_NS	50e6	/* a timed run takes at least this */
#define RUN_AIM_NS	75e6	/* and calibration aims here */
#define WARMUP		64	/* checked iterations before any timing */
#define BATCH_OPS	64

/* 40 bytes, like the struct ktracer_op a span op carries. */
static const char marker[] = "ktracer ops_bench: a 40-byte trace line\n";
_Static_assert(sizeof(marker) - 1 == sizeof(struct ktracer_op),
	       "the trace_marker payload must be one op's worth of bytes");

static int kt_fd = -1, marker_fd = -1;
static pid_t parent;
static struct ktracer_op span[2];		/* START, STOP */
static struct ktracer_op batch_ops[BATCH_OPS];
static struct ktracer_batch batch;
static const struct ktracer_state *state;
static const volatile struct ktracer_meta *meta;	/* CPU 0's, or NULL */
static unsigned long disabled_taken;
static char tracing_on_was = '1';
static int restore_needed;

static void restore(void);

static void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "ops_bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	restore();
	exit(1);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* ------------------------------------------------------------------ */
/* ktracer commands the benchmark needs around the timed loops         */

static void kt_enable(unsigned int on)
{
	struct ktracer_enable e = { .size = sizeof(e), .enable = on };

	if (ioctl(kt_fd, KTRACER_IOC_ENABLE, &e))
		die("KTRACER_IOC_ENABLE enable=%u: %s", on, strerror(errno));
	if (__atomic_load_n(&state->enabled, __ATOMIC_RELAXED) != on)
		die("KTRACER_IOC_ENABLE enable=%u succeeded, but the state page says enabled=%u",
		    on, state->enabled);
}

static int kt_mode(unsigned int mode)
{
	struct ktracer_config c = {
		.size = sizeof(c),
		.flags = KTRACER_CONFIG_MODE,
		.mode = mode,
	};

	return ioctl(kt_fd, KTRACER_IOC_CONFIG, &c) ? -errno : 0;
}

static void restore(void)
{
	int fd;

	if (!restore_needed)
		return;
	restore_needed = 0;
	if (state && !__atomic_load_n(&state->enabled, __ATOMIC_RELAXED)) {
		struct ktracer_enable e = { .size = sizeof(e), .enable = 1 };

		ioctl(kt_fd, KTRACER_IOC_ENABLE, &e);
	}
	kt_mode(KTRACER_MODE_DISCARD);
	fd = open(TRACEFS "/tracing_on", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, &tracing_on_was, 1) != 1)
			fprintf(stderr, "ops_bench: cannot restore tracing_on\n");
		close(fd);
	}
}

/* ------------------------------------------------------------------ */
/* The loops. Each returns how many of its calls failed: none may.     */

static unsigned long loop_getppid(unsigned long n)
{
	unsigned long fails = 0;

	for (unsigned long i = 0; i < n; i++)
		fails += syscall(SYS_getppid) != parent;
	return fails;
}

static unsigned long loop_floor(unsigned long n)
{
	unsigned long fails = 0;

	for (unsigned long i = 0; i < n; i++)
		fails += ioctl(kt_fd, _IO(KTRACER_IOC_MAGIC, 0x7f)) != -1 ||
			 errno != ENOTTY;
	return fails;
}

static unsigned long loop_marker(unsigned long n)
{
	unsigned long fails = 0;

	for (unsigned long i = 0; i < n; i++)
		fails += write(marker_fd, marker, sizeof(marker) - 1) !=
			 (ssize_t)(sizeof(marker) - 1);
	return fails;
}

static unsigned long loop_span(unsigned long n)
{
	unsigned long fails = 0;

	for (unsigned long i = 0; i < n; i++) {
		fails += ioctl(kt_fd, KTRACER_IOC_OP, &span[0]) != 0;
		fails += ioctl(kt_fd, KTRACER_IOC_OP, &span[1]) != 0;
	}
	return fails;
}

static unsigned long loop_batch(unsigned long n)
{
	unsigned long fails = 0;

	for (unsigned long i = 0; i < n; i++)
		fails += ioctl(kt_fd, KTRACER_IOC_BATCH, &batch) != 0;
	return fails;
}

/* The instrumented program's fast path: a load and a branch per op. */
static unsigned long loop_disabled(unsigned long n)
{
	unsigned long taken = 0;

	for (unsigned long i = 0; i < n; i++) {
		if (__atomic_load_n(&state->enabled, __ATOMIC_RELAXED)) {
			taken++;
			ioctl(kt_fd, KTRACER_IOC_OP, &span[i & 1]);
		}
	}
	disabled_taken += taken;
	return taken;
}

/* ------------------------------------------------------------------ */
/* Timing                                                              */

struct bench {
	const char *name;
	const char *what;
	unsigned long (*loop)(unsigned long n);
	unsigned int ops_per_iter;
	unsigned int records_per_op;	/* ktracer records each op writes */
	unsigned long n;		/* iterations of one timed run */
	double ns, min, max;		/* per op: median, fastest, slowest */
};

#define BENCH(nm, wh, fn, per_iter, recs) \
	{ .name = nm, .what = wh, .loop = fn, .ops_per_iter = per_iter, \
	  .records_per_op = recs }

static struct bench benches[] = {
	BENCH("getppid", "syscall(SYS_getppid)", loop_getppid, 1, 0),
	BENCH("ioctl_floor", "ioctl(unknown command): ENOTTY", loop_floor, 1, 0),
	BENCH("trace_marker", "write(trace_marker, 40 bytes)", loop_marker, 1, 0),
	BENCH("span_op", "KTRACER_IOC_OP START or STOP", loop_span, 2, 1),
	BENCH("batch_op", "KTRACER_IOC_BATCH of 64, per op", loop_batch, BATCH_OPS, 1),
	BENCH("disabled", "tracing off: load + branch", loop_disabled, 1, 0),
};

#define NBENCH	(sizeof(benches) / sizeof(benches[0]))

static double timed_run(struct bench *b, unsigned long n)
{
	unsigned long fails;
	double t0, t1;

	t0 = now_ns();
	fails = b->loop(n);
	t1 = now_ns();
	if (fails)
		die("%s: %lu of %lu calls failed in a timed run (or, for disabled, took the tracing-on branch)",
		    b->name, fails, n);
	return t1 - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static struct {
	uint64_t written, lost;
} meta_before;

static void meta_snap(void)
{
	if (!meta)
		return;
	meta_before.written = meta->written;
	meta_before.lost = meta->lost;
}

/* Did the ops just timed write (at least) their records, and lose none? */
static void meta_check(const struct bench *b, double ops)
{
	uint64_t written, lost;

	if (!meta || !b->records_per_op)
		return;
	written = meta->written - meta_before.written;
	lost = meta->lost - meta_before.lost;
	if (lost)
		die("%s: CPU 0 lost %llu records while timing: not what the ops cost",
		    b->name, (unsigned long long)lost);
	if ((double)written < ops * b->records_per_op)
		die("%s: %.0f ops wrote only %llu records on CPU 0: the ops did not record",
		    b->name, ops, (unsigned long long)written);
}

static void measure(struct bench *b)
{
	double t[RUNS], ops = 0, elapsed;
	unsigned long n = 16;

	meta_snap();
	/*
	 * Calibrate N so that one run takes RUN_MIN_NS..2 * RUN_MIN_NS,
	 * aiming at RUN_AIM_NS. TCG's speed wanders, so give up refining
	 * after a few tries and take the last N that ran long enough.
	 */
	for (int tries = 0;; tries++) {
		elapsed = timed_run(b, n);
		ops += (double)n * b->ops_per_iter;
		if (elapsed >= RUN_MIN_NS &&
		    (elapsed <= 2 * RUN_MIN_NS || tries >= 12))
			break;
		if (elapsed < RUN_MIN_NS / 50)
			n *= 16;
		else
			n = (unsigned long)(n * (RUN_AIM_NS / elapsed)) + 1;
	}
	b->n = n;
	for (int r = 0; r < RUNS; r++) {
		t[r] = timed_run(b, n) / ((double)n * b->ops_per_iter);
		ops += (double)n * b->ops_per_iter;
	}
	meta_check(b, ops);
	qsort(t, RUNS, sizeof(t[0]), cmp_double);
	b->ns = t[RUNS / 2];
	b->min = t[0];
	b->max = t[RUNS - 1];
}

/* ------------------------------------------------------------------ */
/* Set-up and the warm-up pass that proves every timed call succeeds   */

static void pin_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("cannot pin to CPU 0: %s", strerror(errno));
}

static void open_ktracer(void)
{
	struct ktracer_version v = { .size = sizeof(v) };
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	kt_fd = open(KTRACER_DEVICE, O_RDWR | O_CLOEXEC);
	if (kt_fd < 0)
		die("open %s: %s (is ktracer.ko loaded? root?)",
		    KTRACER_DEVICE, strerror(errno));
	if (ioctl(kt_fd, KTRACER_IOC_VERSION, &v))
		die("KTRACER_IOC_VERSION: %s", strerror(errno));
	if (v.major != KTRACER_ABI_MAJOR || v.minor < KTRACER_ABI_MINOR)
		die("the module speaks ABI %u.%u; this benchmark needs %u.%u or a later minor",
		    v.major, v.minor, KTRACER_ABI_MAJOR, KTRACER_ABI_MINOR);

	p = mmap(NULL, page, PROT_READ, MAP_SHARED, kt_fd, 0);
	if (p == MAP_FAILED)
		die("mmap of the state page: %s", strerror(errno));
	state = p;
	if (state->magic != KTRACER_STATE_MAGIC)
		die("the state page's magic is %#llx, not KTRACER_STATE_MAGIC",
		    (unsigned long long)state->magic);

	/* CPU 0's meta page: 1 + 0 * cpu_pages + 1. Optional. */
	p = mmap(NULL, page, PROT_READ, MAP_SHARED, kt_fd,
		 (off_t)2 * state->page_size);
	if (p == MAP_FAILED) {
		printf("# note: CPU 0's meta page cannot be mapped (%s): records are not counted\n",
		       strerror(errno));
	} else if (((const struct ktracer_meta *)p)->magic != KTRACER_META_MAGIC) {
		printf("# note: CPU 0's meta page has a bad magic: records are not counted\n");
		munmap(p, page);
	} else {
		meta = p;
	}
}

static void open_marker(void)
{
	int fd;

	if (access(TRACEFS "/trace_marker", F_OK) &&
	    mount("tracefs", TRACEFS, "tracefs", 0, NULL))
		die("mount tracefs on %s: %s", TRACEFS, strerror(errno));
	fd = open(TRACEFS "/tracing_on", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("open %s/tracing_on: %s", TRACEFS, strerror(errno));
	if (read(fd, &tracing_on_was, 1) != 1)
		die("read %s/tracing_on: %s", TRACEFS, strerror(errno));
	if (pwrite(fd, "1", 1, 0) != 1)
		die("write 1 to %s/tracing_on: %s", TRACEFS, strerror(errno));
	close(fd);
	marker_fd = open(TRACEFS "/trace_marker", O_WRONLY | O_CLOEXEC);
	if (marker_fd < 0)
		die("open %s/trace_marker: %s", TRACEFS, strerror(errno));
}

static void set_up_ops(void)
{
	struct ktracer_register reg = {
		.size = sizeof(reg),
		.kind = KTRACER_KIND_SPAN,
		.slots = 1,
		.name = "bench.span",
	};

	if (ioctl(kt_fd, KTRACER_IOC_REGISTER, &reg))
		die("KTRACER_IOC_REGISTER span \"bench.span\" slots=1: %s",
		    strerror(errno));
	if (!reg.id)
		die("KTRACER_IOC_REGISTER returned event id 0");

	for (int i = 0; i < 2; i++)
		span[i] = (struct ktracer_op){
			.size = sizeof(struct ktracer_op),
			.op = i ? KTRACER_OP_STOP : KTRACER_OP_START,
			.event = reg.id,
		};
	for (int i = 0; i < BATCH_OPS; i++)
		batch_ops[i] = span[i & 1];
	batch = (struct ktracer_batch){
		.size = sizeof(batch),
		.ops = (uintptr_t)batch_ops,
		.count = BATCH_OPS,
		.op_size = sizeof(struct ktracer_op),
	};
}

static void warm_up(void)
{
	for (int i = 0; i < WARMUP; i++) {
		if (syscall(SYS_getppid) != parent)
			die("warm-up: getppid() did not return %d", (int)parent);
		if (write(marker_fd, marker, sizeof(marker) - 1) !=
		    (ssize_t)(sizeof(marker) - 1))
			die("warm-up: write to trace_marker: %s", strerror(errno));
		if (loop_floor(1))
			die("warm-up: an unknown ioctl did not fail with ENOTTY");
		for (int j = 0; j < 2; j++)
			if (ioctl(kt_fd, KTRACER_IOC_OP, &span[j]))
				die("warm-up: KTRACER_IOC_OP %s: %s",
				    j ? "STOP" : "START", strerror(errno));
		batch.done = 0;
		batch.error = 0;
		if (ioctl(kt_fd, KTRACER_IOC_BATCH, &batch))
			die("warm-up: KTRACER_IOC_BATCH: %s (done=%u error=%d)",
			    strerror(errno), batch.done, batch.error);
		if (batch.done != BATCH_OPS || batch.error)
			die("warm-up: KTRACER_IOC_BATCH returned 0 with done=%u error=%d",
			    batch.done, batch.error);
	}
}

int main(void)
{
	int err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	pin_cpu0();
	parent = getppid();
	open_ktracer();
	open_marker();
	restore_needed = 1;
	set_up_ops();
	kt_enable(1);
	err = kt_mode(KTRACER_MODE_OVERWRITE);
	if (err)
		die("KTRACER_IOC_CONFIG mode=OVERWRITE: %s", strerror(-err));
	if (state->mode != KTRACER_MODE_OVERWRITE)
		die("KTRACER_IOC_CONFIG mode=OVERWRITE succeeded, but the state page says mode=%u",
		    state->mode);
	warm_up();

	/* All but the last, "disabled", with tracing on. */
	for (unsigned int i = 0; i < NBENCH - 1; i++)
		measure(&benches[i]);

	kt_enable(0);
	/* The disabled path must not even reach the ioctl. */
	for (int i = 0; i < WARMUP; i++)
		loop_disabled(1);
	if (disabled_taken)
		die("disabled: the state page said enabled while tracing was off");
	measure(&benches[NBENCH - 1]);
	kt_enable(1);

	err = kt_mode(KTRACER_MODE_DISCARD);
	if (err)
		die("KTRACER_IOC_CONFIG mode=DISCARD: %s", strerror(-err));
	restore();

	for (unsigned int i = 0; i < NBENCH; i++)
		printf("KT-RESULT %s %.2f\n", benches[i].name, benches[i].ns);

	printf("\n%-13s %-32s %10s %10s %10s %11s %7s\n", "operation", "what",
	       "ns/op", "fastest", "slowest", "N per run", "ms/run");
	for (unsigned int i = 0; i < NBENCH; i++) {
		const struct bench *b = &benches[i];

		printf("%-13s %-32s %10.2f %10.2f %10.2f %11lu %7.1f\n",
		       b->name, b->what, b->ns, b->min, b->max, b->n,
		       b->ns * b->n * b->ops_per_iter / 1e6);
	}
	printf("(ns per op: median of %d runs of N iterations; pinned to CPU 0; ktracer records %s; disabled branch taken %lu times)\n",
	       RUNS, meta ? "counted on CPU 0, none lost" : "not counted",
	       disabled_taken);
	return 0;
}
