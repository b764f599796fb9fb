// SPDX-License-Identifier: GPL-2.0
/*
 * ops_bench: what one ktracer operation costs, next to the cheapest system
 * call and to ftrace's trace_marker.
 *
 * Run as root with ktracer.ko loaded, pinned to CPU 0. Each measurement
 * is the median of 7 timed runs of N iterations (CLOCK_MONOTONIC), N
 * calibrated so that one run takes 50-100 ms; the calibration's runs and
 * a checked warm-up come first and are not counted. Under qemu's
 * "-icount shift=0,sleep=off" one ns of the guest's clock is one guest
 * instruction, so the same program reports instructions per op there
 * and time per op under plain TCG. Measured, per op (or per pair):
 *
 *	getppid		syscall(SYS_getppid): a system call that does nothing
 *	ioctl_floor	an ioctl /dev/ktracer does not know (ENOTTY): what
 *			the VFS's ioctl path costs before ktracer's code
 *			runs, the floor of any op made with its own call
 *	trace_marker	write() of 40 bytes (one KTRACER_OP_SIZE_VER0 op's
 *			worth) to /sys/kernel/tracing/trace_marker, tracing on
 *	clock_read	clock_gettime(CLOCK_MONOTONIC): the clock read of a
 *			queued op (the vDSO's: no system call)
 *	span_op		KTRACER_IOC_OP, alternating START and STOP on slot 0
 *	batch_op	KTRACER_IOC_BATCH of 64 such ops, per op
 *	queue_write	a thread's queue (ABI minor 1): the program's part of
 *			a queued op alone: the enabled check, a clock read,
 *			a 32-byte entry written and published; the queue is
 *			drained outside the timed part
 *	queue_op	the same op end to end: 64 queued ops and the
 *			KTRACER_IOC_FLUSH that drains them, per op
 *	queue_op_1k	the same with 1024 ops per FLUSH, as a drain every
 *			interval finds a busy thread's queue
 *	region_pair	a region's begin and end (START and STOP with
 *			KTRACER_OPF_REGION) queued, 32 pairs and the FLUSH
 *			that drains them, per pair
 *	region_pair_1k	the same with 512 pairs per FLUSH
 *	*_tsc		queue_write, queue_op(_1k) and region_pair(_1k)
 *			on a TSC queue (ABI minor 2),
 *			whose ts is `lfence; rdtsc` instead of
 *			clock_gettime(), as the library's queues are
 *			wherever the kernel makes them; "n/a" where it does
 *			not (no invariant TSC, and trust_tsc=0)
 *	disabled	what an instrumented program does while tracing is
 *			off: one load of ktracer_state.enabled and a branch
 *	lib_region_1k	ktracer_region_begin() and _end() of libktracer,
 *			512 pairs and a ktracer_flush(), per pair: the
 *			library's path end to end, on its own file (its
 *			queue is a TSC one wherever the kernel makes them)
 *	*_ow		batch_op, region_pair_1k_tsc and lib_region_1k on a
 *			full OVERWRITE buffer: every record frees older ones
 *
 * The queue entries but lib_region_1k's are written against the raw ABI
 * (struct ktracer_qring, struct ktracer_qentry), not a library: they need a
 * module of ABI minor 1 that knows KTRACER_IOC_QUEUE and FLUSH, and are
 * reported as not available ("n/a") otherwise. The periodic drain is set
 * to its longest interval while they run, so that it never lands inside
 * a timed part.
 *
 * Nothing is timed before it has been seen to work: every op is checked
 * in a warm-up pass (a failing ioctl is fast, and would fake a result),
 * every timed loop counts failures and any makes the program exit 1,
 * every FLUSH must report all its entries applied and none refused, and
 * CPU 0's meta page (when it can be mapped) must show that the ops were
 * recorded, none lost. The ktracer buffers are in DISCARD mode, the
 * module's default, at their largest size (KTRACER_BUFFER_MAX), and a
 * reader consumes everything before each timed run and after each
 * untimed drain, so that a run never fills its buffer; size and mode are
 * put back after. The *_ow measurements come last: from the first of
 * them on, CPU 0's buffer is in OVERWRITE mode, 1 MiB as bench-peers has
 * it, filled before timing and never consumed, so that every record
 * frees older ones, as a flight recorder's does.
 *
 * Adding a measurement is one entry in benches[]: a loop, the ops one
 * iteration makes, the unit, and what it needs (tracing off, queues).
 *
 * Output: per measurement one "KT-OP <name> <unit> <what>" line, then one
 * "KT-RESULT <name> <value>" line, or "KT-RESULT <name> n/a <why>" for
 * one that this module cannot run; then a table for people. Exits 0 if
 * every available measurement was taken, 1 otherwise.
 *
 * "ops_bench NAME [UNITS]" profiles one measurement instead (scripts/prof.sh,
 * bench/prof/): the same set-up and warm-up, then NAME's loop for UNITS ops
 * (or pairs; default 65536, rounded to whole iterations) once to warm up and
 * once between the two marker instructions of bench/prof/marker.h, where a
 * qemu plugin counts the guest's instructions. It prints
 * "KT-PROF <name> <unit> <units> <ns>", ns the CLOCK_MONOTONIC delta across
 * the window (guest instructions under -icount), and "KT-PROF-MAP <start>
 * <end> <name>" for the vDSO's mapping, whose code the profile meets.
 */
#include <stdint.h>
#include <sys/syscall.h>

#include <libktracer.h>

#include "bench.h"
#include "prof/marker.h"

#define RUN_MIN_NS	50e6	/* a timed run takes at least this */
#define RUN_AIM_NS	75e6	/* and calibration aims here */
#define WARMUP		64	/* checked iterations before any timing */
#define BATCH_OPS	64	/* ops of a BATCH, and queued per FLUSH */
#define LONG_OPS	1024	/* queued per FLUSH, as a periodic drain finds them */
#define QUEUE_RING	(64 << 10)	/* bytes of the queue's entries */
#define OW_BUFFER	(1 << 20)	/* OVERWRITE's buffer, as bench-peers' */

/* 40 bytes, like the struct ktracer_op a span op carried in ABI 2.0. */
static const char marker[] = "ktracer ops_bench: a 40-byte trace line\n";
_Static_assert(sizeof(marker) - 1 == KTRACER_OP_SIZE_VER0,
	       "the trace_marker payload must be one op's worth of bytes");
_Static_assert(sizeof(struct ktracer_qentry) == KTRACER_QENTRY_SIZE,
	       "a queue entry is 32 bytes");
_Static_assert(LONG_OPS * KTRACER_QENTRY_SIZE <= QUEUE_RING,
	       "a FLUSH's worth of entries must fit in the queue");

static struct ktracer *lib;		/* libktracer, for the lib_* loops */
static uint32_t lib_region;
static int kt_fd = -1, marker_fd = -1;
static pid_t parent;
static uint32_t span_id, region_id;
static struct ktracer_op span[2];		/* START, STOP */
static struct ktracer_op batch_ops[BATCH_OPS];
static struct ktracer_batch batch;
static const struct ktracer_state *state;
static const volatile struct ktracer_meta *meta;	/* CPU 0's */
static struct ktracer_reader *reader;			/* CPU 0's */
static uint64_t buffer_size_was;
static int overwriting;			/* CPU 0's buffer: OVERWRITE, full */
static unsigned long disabled_taken;
static char tracing_on_was = '1';
static int restore_needed;

/* A queue of the calling thread, as a library would keep it. */
struct bench_queue {
	struct ktracer_qring *ring;	/* NULL: none (why: why) */
	unsigned char *entries;
	uint64_t head;			/* ours; published with [Q2] */
	uint32_t mask;
	uint64_t applied;		/* what FLUSH reported, in total */
	int tsc;			/* a KTRACER_QUEUE_TSC one: ts is rdtsc */
	const char *why;
};

/* A CLOCK_MONOTONIC queue, a TSC one, and the one the loops write. */
static struct bench_queue mono = { .why = "not tried" };
static struct bench_queue tscq = { .why = "not tried", .tsc = 1 };
static struct bench_queue *q = &mono;

/* ------------------------------------------------------------------ */
/* ktracer commands the benchmark needs around the timed loops         */

static void set_enabled(unsigned int on)
{
	int err = kt_enable(kt_fd, on);

	if (err)
		die("KTRACER_IOC_ENABLE enable=%u: %s", on, strerror(-err));
	if (__atomic_load_n(&state->enabled, __ATOMIC_RELAXED) != on)
		die("KTRACER_IOC_ENABLE enable=%u succeeded, but the state page says enabled=%u",
		    on, state->enabled);
}

/* KTRACER_IOC_FLUSH with flags (and interval_ms): 0 or -errno. */
static int kt_flush(struct ktracer_flush *f, uint32_t flags, uint32_t interval_ms)
{
	*f = (struct ktracer_flush){
		.size = sizeof(*f),
		.flags = flags,
		.interval_ms = interval_ms,
	};
	return ioctl(kt_fd, KTRACER_IOC_FLUSH, f) ? -errno : 0;
}

/* Mode @mode, @buffer_size bytes a CPU: 0 or -errno. */
static int buffers_set(uint32_t mode, uint64_t buffer_size)
{
	return kt_config(kt_fd, KTRACER_CONFIG_MODE | KTRACER_CONFIG_BUFFER_SIZE,
			 mode, buffer_size);
}

/*
 * Consume everything CPU 0's buffer holds, as a reader that keeps up
 * would: never inside a timed part.
 */
static void consume(void)
{
	/* [R1]: the head after the records; [R4]: done with them. */
	uint64_t head = __atomic_load_n(&meta->head, __ATOMIC_ACQUIRE);

	__atomic_store_n(&reader->tail, head, __ATOMIC_RELEASE);
}

static void map_cpu0(void)
{
	const char *why = NULL;

	meta = kt_meta(kt_fd, state, 0, &why);
	if (!meta)
		die("CPU 0's meta page: %s", why);
	reader = kt_reader(kt_fd, state, 0, &why);
	if (!reader)
		die("CPU 0's reader page: %s", why);
}

static void unmap_cpu0(void)
{
	if (meta)
		munmap((void *)meta, sysconf(_SC_PAGESIZE));
	if (reader)
		munmap(reader, sysconf(_SC_PAGESIZE));
	meta = NULL;
	reader = NULL;
}

/* Recording on, DISCARD mode, the buffer size, tracing_on and the drain interval as they were. */
static int restore(void)
{
	char on[2] = { tracing_on_was, '\0' };
	struct ktracer_flush f;
	int failed = 0;

	if (!restore_needed)
		return 0;
	restore_needed = 0;
	if (lib)
		failed += restore_failed(ktracer_close(lib), "libktracer's close");
	lib = NULL;
	if (mono.ring)
		failed += restore_failed(kt_flush(&f, KTRACER_FLUSH_WAIT | KTRACER_FLUSH_INTERVAL,
						  KTRACER_QUEUE_INTERVAL_DEFAULT),
					 "the queues' drain interval");
	if (!__atomic_load_n(&state->enabled, __ATOMIC_RELAXED))
		failed += restore_failed(kt_enable(kt_fd, 1), "ktracer's enable");
	unmap_cpu0();
	failed += restore_failed(buffers_set(KTRACER_MODE_DISCARD, buffer_size_was),
				 "ktracer's mode and buffer size");
	failed += restore_failed(tracefs_write("tracing_on", on), "tracing_on");
	return failed;
}

/* ------------------------------------------------------------------ */
/* The queue, written as the ABI's "Queues (minor 1)" section says     */

static inline uint64_t mono_read(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The TSC, as the header's "The TSC clock" reads it. */
static inline uint64_t tsc_read(void)
{
#ifdef __x86_64__
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a" (lo), "=d" (hi) :: "memory");
	return (uint64_t)hi << 32 | lo;
#else
	return 0;	/* never called: no TSC queue is made */
#endif
}

/*
 * Queue one op with the time it happened, as a library's op does: the
 * enabled check, the clock, room in the ring, the entry, the head.
 * Returns 0, or 1 if it could not (tracing off, or the queue full: the
 * op is counted in "dropped").
 */
static inline int queue_put(uint16_t op, uint16_t flags, uint32_t event,
			    uint32_t slot)
{
	struct ktracer_qentry *e;
	uint64_t tail, ts;

	if (!__atomic_load_n(&state->enabled, __ATOMIC_RELAXED))
		return 1;
	ts = q->tsc ? tsc_read() : mono_read();
	/* [Q1] pairs with the kernel's [Q4]: it is done with the space before tail. */
	tail = __atomic_load_n(&q->ring->tail, __ATOMIC_ACQUIRE);
	if (q->head + KTRACER_QENTRY_SIZE - tail > q->mask + 1) {
		q->ring->dropped++;
		return 1;
	}
	e = (struct ktracer_qentry *)(q->entries + (q->head & q->mask));
	*e = (struct ktracer_qentry){
		.op = op,
		.flags = flags,
		.event = event,
		.slot = slot,
		.ts = ts,
	};
	q->head += KTRACER_QENTRY_SIZE;
	/* [Q2] pairs with the kernel's [Q3]: the entry is written before head moves. */
	__atomic_store_n(&q->ring->head, q->head, __ATOMIC_RELEASE);
	return 0;
}

/* Drain the queues now: how many of q's entries were not applied. */
static unsigned long queue_drain(void)
{
	uint64_t want = q->head / KTRACER_QENTRY_SIZE - q->applied;
	struct ktracer_flush f;
	int err = kt_flush(&f, KTRACER_FLUSH_WAIT, 0);

	if (err)
		die("KTRACER_IOC_FLUSH: %s", strerror(-err));
	q->applied += f.applied;
	return f.refused + (want - f.applied);
}

/*
 * Create and map queue @bq (a TSC one if bq->tsc), and make the periodic
 * drain rare: NULL if it worked, else why it cannot be measured. Dies
 * on anything but the module not knowing queues or TSC queues.
 */
static const char *queue_open(const struct ktracer_version *v,
			      struct bench_queue *bq)
{
	struct ktracer_queue qc = {
		.size = sizeof(qc),
		.flags = bq->tsc ? KTRACER_QUEUE_TSC : 0,
		.ring_size = QUEUE_RING,
	};
	struct ktracer_flush f;
	int err;
	void *p;

	if (v->minor < 1)
		return "needs ABI 2.1";
	if (bq->tsc && v->minor < 2)
		return "needs ABI 2.2";
#ifndef __x86_64__
	if (bq->tsc)
		return "not x86-64";
#endif
	if (ioctl(kt_fd, KTRACER_IOC_QUEUE, &qc)) {
		if (errno == ENOTTY)
			return "needs ABI 2.1 (KTRACER_IOC_QUEUE: ENOTTY)";
		if (bq->tsc && errno == EOPNOTSUPP)
			return "no TSC queues here (EOPNOTSUPP: no constant_tsc and nonstop_tsc; ktracer.trust_tsc=1 lifts it)";
		die("KTRACER_IOC_QUEUE flags=%#x ring_size=%u: %s", qc.flags,
		    QUEUE_RING, strerror(errno));
	}
	err = kt_flush(&f, KTRACER_FLUSH_WAIT | KTRACER_FLUSH_INTERVAL,
		       KTRACER_QUEUE_INTERVAL_MAX);
	if (err == -ENOTTY)
		return "needs ABI 2.1 (KTRACER_IOC_FLUSH: ENOTTY)";
	if (err)
		die("KTRACER_IOC_FLUSH interval_ms=%u: %s",
		    KTRACER_QUEUE_INTERVAL_MAX, strerror(-err));
	if (qc.ring_size != QUEUE_RING)
		die("KTRACER_IOC_QUEUE ring_size=%u gave a queue of %u bytes",
		    QUEUE_RING, qc.ring_size);
	p = mmap(NULL, qc.map_size, PROT_READ | PROT_WRITE, MAP_SHARED, kt_fd,
		 (off_t)qc.offset);
	if (p == MAP_FAILED)
		die("mmap of queue %u (%llu bytes at %#llx): %s", qc.id,
		    (unsigned long long)qc.map_size,
		    (unsigned long long)qc.offset, strerror(errno));
	bq->ring = p;
	if (bq->ring->magic != KTRACER_QUEUE_MAGIC || bq->ring->id != qc.id ||
	    bq->ring->ring_size != QUEUE_RING ||
	    bq->ring->clock != (bq->tsc ? KTRACER_QCLOCK_TSC :
				KTRACER_QCLOCK_MONOTONIC))
		die("queue %u's first page: magic %#llx id %u ring_size %u clock %u",
		    qc.id, (unsigned long long)bq->ring->magic, bq->ring->id,
		    bq->ring->ring_size, bq->ring->clock);
	bq->entries = (unsigned char *)p + (qc.map_size - qc.ring_size);
	bq->mask = qc.ring_size - 1;
	bq->head = bq->ring->head;
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The loops. Each returns how many of its calls failed: none may.     */

/* Time spent in a loop's untimed parts (a queue's drain), in ns. */
static double untimed_ns;

/* The clock read every queued op makes (the vDSO's, no system call). */
static unsigned long loop_clock(unsigned long n)
{
	unsigned long fails = 0;
	struct timespec ts;

	for (unsigned long i = 0; i < n; i++)
		fails += clock_gettime(CLOCK_MONOTONIC, &ts) != 0;
	return fails;
}

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

/* ops / 2 span STARTs and STOPs of event on slot 0, queued. */
static unsigned long queue_pairs(uint32_t event, uint16_t flags, int ops)
{
	unsigned long fails = 0;

	for (int j = 0; j < ops / 2; j++) {
		fails += queue_put(KTRACER_OP_START, flags, event, 0);
		fails += queue_put(KTRACER_OP_STOP, flags, event, 0);
	}
	return fails;
}

static unsigned long loop_queue_write(unsigned long n)
{
	unsigned long fails = 0;

	for (unsigned long i = 0; i < n; i++) {
		double t0;

		fails += queue_pairs(span_id, 0, BATCH_OPS);
		t0 = now_ns();
		fails += queue_drain();
		consume();
		untimed_ns += now_ns() - t0;
	}
	return fails;
}

/* n times: ops ops of event queued, and the FLUSH that drains them. */
static unsigned long queue_flushed(unsigned long n, uint32_t event,
				   uint16_t flags, int ops)
{
	unsigned long fails = 0;

	for (unsigned long i = 0; i < n; i++) {
		fails += queue_pairs(event, flags, ops);
		fails += queue_drain();
	}
	return fails;
}

static unsigned long loop_queue_op(unsigned long n)
{
	return queue_flushed(n, span_id, 0, BATCH_OPS);
}

static unsigned long loop_queue_long(unsigned long n)
{
	return queue_flushed(n, span_id, 0, LONG_OPS);
}

static unsigned long loop_region(unsigned long n)
{
	return queue_flushed(n, region_id, KTRACER_OPF_REGION, BATCH_OPS);
}

static unsigned long loop_region_long(unsigned long n)
{
	return queue_flushed(n, region_id, KTRACER_OPF_REGION, LONG_OPS);
}

/* libktracer on a file of its own, drained only when asked, as the queues. */
static void open_lib(void)
{
	struct ktracer_lib_options o = {
		.size = sizeof(o),
		.interval_ms = KTRACER_QUEUE_INTERVAL_MAX,
	};
	int err = ktracer_open(&lib, &o);

	if (err)
		die("ktracer_open: %s", strerror(-err));
	err = ktracer_declare(lib, "bench.lib_region", KTRACER_KIND_SPAN, 0,
			      &lib_region);
	if (err)
		die("ktracer_declare bench.lib_region: %s", strerror(-err));
}

/* Every op libktracer took so far applied: none dropped or refused. */
static void lib_check(const char *what)
{
	struct ktracer_lib_stats st;
	int err;

	if (!lib)
		return;
	err = ktracer_get_stats(lib, &st);
	if (err)
		die("%s: ktracer_get_stats: %s", what, strerror(-err));
	if (st.dropped || st.refused)
		die("%s: libktracer dropped %llu ops and the kernel refused %llu",
		    what, (unsigned long long)st.dropped,
		    (unsigned long long)st.refused);
}

/*
 * n times: LONG_OPS / 2 regions begun and ended through libktracer, and
 * a ktracer_flush(): its public path end to end, as a program records.
 */
static unsigned long loop_lib_region(unsigned long n)
{
	unsigned long fails = 0;

	for (unsigned long i = 0; i < n; i++) {
		for (int j = 0; j < LONG_OPS / 2; j++) {
			fails += ktracer_region_begin(lib, lib_region, NULL) != 0;
			fails += ktracer_region_end(lib, lib_region) != 0;
		}
		fails += ktracer_flush(lib) != 0;
	}
	return fails;
}

/* @loop, writing the TSC queue. */
static unsigned long on_tsc(unsigned long (*loop)(unsigned long),
			    unsigned long n)
{
	unsigned long fails;

	q = &tscq;
	fails = loop(n);
	q = &mono;
	return fails;
}

static unsigned long loop_queue_write_tsc(unsigned long n)
{
	return on_tsc(loop_queue_write, n);
}

static unsigned long loop_queue_op_tsc(unsigned long n)
{
	return on_tsc(loop_queue_op, n);
}

static unsigned long loop_queue_long_tsc(unsigned long n)
{
	return on_tsc(loop_queue_long, n);
}

static unsigned long loop_region_tsc(unsigned long n)
{
	return on_tsc(loop_region, n);
}

static unsigned long loop_region_long_tsc(unsigned long n)
{
	return on_tsc(loop_region_long, n);
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
/* The measurements                                                    */

enum needs {
	NEEDS_NOTHING,
	NEEDS_QUEUES,		/* ABI minor 1's queues */
	NEEDS_TSC,		/* minor 2's TSC queues, which the CPU allows */
	NEEDS_OFF,		/* tracing switched off */
};

struct bench {
	const char *name;
	const char *unit;		/* what one value is per: op, pair */
	const char *what;
	unsigned long (*loop)(unsigned long n);
	unsigned int units_per_iter;
	unsigned int records_per_unit;	/* ktracer records each unit writes */
	enum needs needs;
	int overwrite;			/* on a full OVERWRITE buffer */
	const char *na;			/* not available: why */
	unsigned long n;		/* iterations of one timed run */
	double units;			/* done since measure() began */
	double ns, min, max;		/* per unit: median, fastest, slowest */
};

#define BENCH_FIELDS(nm, un, wh, fn, per_iter, recs, nd) \
	.name = nm, .unit = un, .what = wh, .loop = fn, \
	.units_per_iter = per_iter, .records_per_unit = recs, .needs = nd
#define BENCH(...)	{ BENCH_FIELDS(__VA_ARGS__) }
/* The same on a full OVERWRITE buffer: after every other measurement. */
#define BENCH_OW(...)	{ BENCH_FIELDS(__VA_ARGS__), .overwrite = 1 }

static struct bench benches[] = {
	BENCH("getppid", "op", "syscall(SYS_getppid)", loop_getppid, 1, 0,
	      NEEDS_NOTHING),
	BENCH("clock_read", "op", "clock_gettime(CLOCK_MONOTONIC), vDSO",
	      loop_clock, 1, 0, NEEDS_NOTHING),
	BENCH("ioctl_floor", "op", "ioctl(unknown command): ENOTTY", loop_floor,
	      1, 0, NEEDS_NOTHING),
	BENCH("trace_marker", "op", "write(trace_marker, 40 bytes)",
	      loop_marker, 1, 0, NEEDS_NOTHING),
	BENCH("span_op", "op", "KTRACER_IOC_OP START or STOP", loop_span, 2, 1,
	      NEEDS_NOTHING),
	BENCH("batch_op", "op", "KTRACER_IOC_BATCH of 64, per op", loop_batch,
	      BATCH_OPS, 1, NEEDS_NOTHING),
	BENCH("queue_write", "op", "queued op, program's part (no drain)",
	      loop_queue_write, BATCH_OPS, 1, NEEDS_QUEUES),
	BENCH("queue_op", "op", "queued op + its share of FLUSH (64)",
	      loop_queue_op, BATCH_OPS, 1, NEEDS_QUEUES),
	BENCH("queue_op_1k", "op", "queued op + its share of FLUSH (1024)",
	      loop_queue_long, LONG_OPS, 1, NEEDS_QUEUES),
	BENCH("region_pair", "pair", "queued region begin+end + FLUSH share",
	      loop_region, BATCH_OPS / 2, 2, NEEDS_QUEUES),
	BENCH("region_pair_1k", "pair", "region_pair, 512 pairs a FLUSH",
	      loop_region_long, LONG_OPS / 2, 2, NEEDS_QUEUES),
	BENCH("queue_write_tsc", "op", "queue_write, TSC queue (rdtsc)",
	      loop_queue_write_tsc, BATCH_OPS, 1, NEEDS_TSC),
	BENCH("queue_op_tsc", "op", "queue_op, TSC queue (rdtsc)",
	      loop_queue_op_tsc, BATCH_OPS, 1, NEEDS_TSC),
	BENCH("queue_op_1k_tsc", "op", "queue_op_1k, TSC queue (rdtsc)",
	      loop_queue_long_tsc, LONG_OPS, 1, NEEDS_TSC),
	BENCH("region_pair_tsc", "pair", "region_pair, TSC queue (rdtsc)",
	      loop_region_tsc, BATCH_OPS / 2, 2, NEEDS_TSC),
	BENCH("region_pair_1k_tsc", "pair", "region_pair_1k, TSC queue (rdtsc)",
	      loop_region_long_tsc, LONG_OPS / 2, 2, NEEDS_TSC),
	BENCH("disabled", "op", "tracing off: load + branch", loop_disabled, 1,
	      0, NEEDS_OFF),
	BENCH("lib_region_1k", "pair",
	      "libktracer region begin+end, flush per 512", loop_lib_region,
	      LONG_OPS / 2, 2, NEEDS_QUEUES),
	BENCH_OW("batch_op_ow", "op", "batch_op, OVERWRITE, full 1 MiB buffer",
		 loop_batch, BATCH_OPS, 1, NEEDS_NOTHING),
	BENCH_OW("region_pair_1k_tsc_ow", "pair",
		 "region_pair_1k_tsc, OVERWRITE, full 1 MiB", loop_region_long_tsc,
		 LONG_OPS / 2, 2, NEEDS_TSC),
	BENCH_OW("lib_region_1k_ow", "pair",
		 "lib_region_1k, OVERWRITE, full 1 MiB", loop_lib_region,
		 LONG_OPS / 2, 2, NEEDS_QUEUES),
};

#define NBENCH	(sizeof(benches) / sizeof(benches[0]))

/* One run of n iterations of b: its ns, the untimed parts taken out. */
static double timed_run(void *arg, unsigned long n)
{
	struct bench *b = arg;
	unsigned long fails;
	double t0, t1;

	untimed_ns = 0;
	if (!overwriting)
		consume();
	t0 = now_ns();
	fails = b->loop(n);
	t1 = now_ns();
	if (fails)
		die("%s: %lu calls of %lu iterations failed in a timed run (or, for disabled, took the tracing-on branch)",
		    b->name, fails, n);
	b->units += (double)n * b->units_per_iter;
	return t1 - t0 - untimed_ns;
}

static struct {
	uint64_t written, lost;
} meta_before;

static void meta_snap(void)
{
	meta_before.written = meta->written;
	meta_before.lost = meta->lost;
}

/* Did the ops just timed write (at least) their records, and lose none? */
static void meta_check(const struct bench *b)
{
	uint64_t written, lost;

	if (!b->records_per_unit)
		return;
	written = meta->written - meta_before.written;
	lost = meta->lost - meta_before.lost;
	if (lost)
		die("%s: CPU 0 lost %llu records while timing: not what the ops cost",
		    b->name, (unsigned long long)lost);
	if ((double)written < b->units * b->records_per_unit)
		die("%s: %.0f %ss wrote only %llu records on CPU 0: the ops did not record",
		    b->name, b->units, b->unit, (unsigned long long)written);
}

/*
 * Before @b, the first OVERWRITE measurement: CPU 0's buffer in
 * OVERWRITE mode, OW_BUFFER bytes, filled by @b's loop until records
 * are overwritten (which only a full buffer does). Nothing consumes it
 * from here on.
 */
static void go_overwrite(const struct bench *b)
{
	int err;

	if (overwriting || !b->overwrite)
		return;
	unmap_cpu0();
	err = buffers_set(KTRACER_MODE_OVERWRITE, OW_BUFFER);
	if (err)
		die("KTRACER_IOC_CONFIG mode=OVERWRITE buffer_size=%u: %s",
		    OW_BUFFER, strerror(-err));
	map_cpu0();
	overwriting = 1;
	for (unsigned long i = 0; !__atomic_load_n(&meta->overwritten, __ATOMIC_RELAXED); i++)
		if (b->loop(1) || i > OW_BUFFER)
			die("%s: filling the OVERWRITE buffer: an op failed, or nothing was overwritten after %lu iterations",
			    b->name, i);
}

static void measure(struct bench *b)
{
	double t[RUNS];

	go_overwrite(b);
	if (b->needs == NEEDS_OFF)
		set_enabled(0);
	b->units = 0;
	meta_snap();
	b->n = calibrate(timed_run, b, RUN_MIN_NS, RUN_AIM_NS);
	for (int r = 0; r < RUNS; r++)
		t[r] = timed_run(b, b->n) / ((double)b->n * b->units_per_iter);
	meta_check(b);
	lib_check(b->name);
	median_of(t, &b->ns, &b->min, &b->max);
	if (b->needs == NEEDS_OFF)
		set_enabled(1);
}

/* ------------------------------------------------------------------ */
/* Set-up and the warm-up pass that proves every timed call succeeds   */

static void open_ktracer(void)
{
	struct ktracer_version v;
	int err;

	kt_fd = kt_open(&state, &v);
	buffer_size_was = state->data_size;
	restore_needed = 1;
	err = buffers_set(KTRACER_MODE_DISCARD, KTRACER_BUFFER_MAX);
	if (err)
		die("KTRACER_IOC_CONFIG mode=DISCARD buffer_size=%u: %s",
		    KTRACER_BUFFER_MAX, strerror(-err));
	if (state->mode != KTRACER_MODE_DISCARD ||
	    state->data_size != KTRACER_BUFFER_MAX)
		die("KTRACER_IOC_CONFIG succeeded, but the state page says mode=%u data_size=%llu",
		    state->mode, (unsigned long long)state->data_size);
	map_cpu0();
	mono.why = queue_open(&v, &mono);
	tscq.why = mono.why ? mono.why : queue_open(&v, &tscq);
	if (!mono.why)
		open_lib();
	for (unsigned int i = 0; i < NBENCH; i++)
		if (benches[i].needs == NEEDS_QUEUES)
			benches[i].na = mono.why;
		else if (benches[i].needs == NEEDS_TSC)
			benches[i].na = tscq.why;
}

static void open_marker(void)
{
	char buf[16];

	tracefs_mount();
	tracefs_read("tracing_on", buf, sizeof(buf));
	tracing_on_was = buf[0];
	tracefs_set("tracing_on", "1");
	marker_fd = open(TRACEFS "/trace_marker", O_WRONLY | O_CLOEXEC);
	if (marker_fd < 0)
		die("open %s/trace_marker: %s", TRACEFS, strerror(errno));
}

static void set_up_ops(void)
{
	span_id = kt_register_span(kt_fd, "bench.span");
	region_id = kt_register_span(kt_fd, "bench.region");
	for (int i = 0; i < 2; i++)
		span[i] = (struct ktracer_op){
			.size = sizeof(struct ktracer_op),
			.op = i ? KTRACER_OP_STOP : KTRACER_OP_START,
			.event = span_id,
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

/* A queued START and STOP of each event, drained, all applied. */
static void warm_up_queue(struct bench_queue *bq)
{
	if (!bq->ring)
		return;
	q = bq;
	if (queue_pairs(span_id, 0, BATCH_OPS) ||
	    queue_pairs(region_id, KTRACER_OPF_REGION, BATCH_OPS))
		die("warm-up: a queued op was not taken (%s queue, dropped %llu)",
		    q->tsc ? "TSC" : "CLOCK_MONOTONIC",
		    (unsigned long long)q->ring->dropped);
	if (queue_drain())
		die("warm-up: KTRACER_IOC_FLUSH did not apply every queued op (%s queue, refused %llu, error %d)",
		    q->tsc ? "TSC" : "CLOCK_MONOTONIC",
		    (unsigned long long)q->ring->refused, q->ring->error);
	q = &mono;
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
		warm_up_queue(&mono);
		warm_up_queue(&tscq);
		if (lib && loop_lib_region(1))
			die("warm-up: a libktracer region or its flush failed");
		lib_check("warm-up");
	}
}

static void report(void)
{
	for (unsigned int i = 0; i < NBENCH; i++) {
		const struct bench *b = &benches[i];

		printf("KT-OP %s %s %s\n", b->name, b->unit, b->what);
		if (b->na)
			printf("KT-RESULT %s n/a %s\n", b->name, b->na);
		else
			printf("KT-RESULT %s %.2f\n", b->name, b->ns);
	}

	printf("\n%-13s %-40s %5s %10s %10s %10s %11s %7s\n", "operation", "what",
	       "per", "median", "fastest", "slowest", "N per run", "ms/run");
	for (unsigned int i = 0; i < NBENCH; i++) {
		const struct bench *b = &benches[i];

		if (b->na) {
			printf("%-13s %-40s %5s n/a: %s\n", b->name, b->what,
			       b->unit, b->na);
			continue;
		}
		printf("%-13s %-40s %5s %10.2f %10.2f %10.2f %11lu %7.1f\n",
		       b->name, b->what, b->unit, b->ns, b->min, b->max, b->n,
		       b->ns * b->n * b->units_per_iter / 1e6);
	}
	printf("(ns of CLOCK_MONOTONIC per op or pair, guest instructions under -icount shift=0: median of %d runs of N iterations past calibration and warm-up; pinned to CPU 0; ktracer records counted on CPU 0, none lost, DISCARD mode but for *_ow: OVERWRITE, a full 1 MiB buffer; disabled branch taken %lu times)\n",
	       RUNS, disabled_taken);
}

/* ------------------------------------------------------------------ */
/* One measurement's loop between the profiler's markers               */

#define PROF_UNITS	65536	/* ops (or pairs) in the window by default */

/* The vDSO's lines of /proc/self/maps, as KT-PROF-MAP lines. */
static void print_vdso(void)
{
	unsigned long start, end;
	char line[256], name[64];
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		die("/proc/self/maps: %s", strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %63s", &start, &end,
			   name) == 3 && !strcmp(name, "[vdso]"))
			printf("KT-PROF-MAP %lx %lx %s\n", start, end, name);
	fclose(f);
}

static void profile(const char *name, const char *units_arg)
{
	unsigned long n, units = PROF_UNITS, fails;
	struct bench *b = NULL;
	double t0, t1;
	char *end;

	for (unsigned int i = 0; i < NBENCH; i++)
		if (!strcmp(benches[i].name, name))
			b = &benches[i];
	if (!b)
		die("no measurement named %s", name);
	if (b->na)
		die("%s cannot be measured here: %s", name, b->na);
	if (units_arg) {
		errno = 0;
		units = strtoul(units_arg, &end, 0);
		if (errno || *end || !units)
			die("not a number of %ss: %s", b->unit, units_arg);
	}
	n = (units + b->units_per_iter - 1) / b->units_per_iter;
	go_overwrite(b);
	if (b->needs == NEEDS_OFF)
		set_enabled(0);
	fails = b->loop(n);
	if (!overwriting)
		consume();
#ifdef KT_PROF_MARK
	t0 = now_ns();
	KT_PROF_MARK(KT_PROF_START);
	fails += b->loop(n);
	KT_PROF_MARK(KT_PROF_STOP);
	t1 = now_ns();
#else
	die("the profiler's markers are x86-64 instructions");
#endif
	if (b->needs == NEEDS_OFF)
		set_enabled(1);
	if (fails)
		die("%s: %lu calls failed while profiled", name, fails);
	print_vdso();
	printf("KT-PROF %s %s %lu %.0f\n", name, b->unit, n * b->units_per_iter,
	       t1 - t0);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	pin_cpu(0);
	parent = getppid();
	open_ktracer();
	open_marker();
	set_up_ops();
	set_enabled(1);
	warm_up();

	if (argc > 1)
		profile(argv[1], argc > 2 ? argv[2] : NULL);
	else
		for (unsigned int i = 0; i < NBENCH; i++)
			if (!benches[i].na)
				measure(&benches[i]);
	if (disabled_taken)
		die("disabled: the state page said enabled while tracing was off");

	if (restore())
		die("ktracer's and tracefs's settings were not all put back");
	if (argc == 1)
		report();
	return 0;
}
