// SPDX-License-Identifier: GPL-2.0
/*
 * sched_bench: what recording the scheduler costs a program that does
 * little but switch, with ktracer's SCHED source next to ftrace's
 * sched_switch and sched_waking events, the tracepoints SCHED records.
 *
 * A pipe ping-pong, as `perf bench sched pipe -T`, on one CPU: this
 * process, pinned to CPU 0, writes a 4-byte message into one pipe; a
 * child pinned to CPU 0 too reads it and writes it back into another.
 * Each round trip puts both processes to sleep and wakes them again: two
 * context switches (one to the child, one back) and two wake-ups, four
 * kernel events. One CPU, so that it runs alike under qemu's -icount,
 * which needs a single vCPU, and under plain TCG. Measured, in ns per
 * round trip (guest instructions under -icount shift=0), in three
 * configurations:
 *
 *	pipe_base	nothing traced: ktracer loaded, its SCHED source off,
 *			no ftrace event on
 *	pipe_ftrace	ftrace's sched:sched_switch and sched:sched_waking
 *			events on, tracing on, its buffers in overwrite mode
 *			(ftrace's default)
 *	pipe_ktracer	ktracer's SCHED source on (sched_switch and
 *			sched_wakeup) for every process, its buffers in
 *			OVERWRITE mode so that they never fill up
 *
 * What tracing adds to a round trip is a configuration's time minus
 * pipe_base's. Each configuration's N is calibrated so that one run takes
 * 200-400 ms (longer than ops_bench's: a round trip's time wanders more,
 * with how busy the host is); then the configurations take turns, one run
 * each (base, ftrace, ktracer, base, ...), 7 times, so that TCG's
 * wandering speed hits all three alike, and each reports the median of
 * its 7 runs.
 *
 * Nothing is timed before it has been seen to work: every configuration
 * is run once in a warm-up; every run counts the round trips whose echo
 * did not come back intact, and any makes the program exit 1; and after
 * every run the tracer that was on must have recorded events on CPU 0,
 * the tracer that was off none. ftrace counts entries + overrun in
 * per_cpu/cpu0/stats, and must show at least 3 events per round trip: a
 * child woken by the message may preempt this process before it sleeps
 * in read(), which then finds the echo there without being woken, so a
 * round trip has two switches and one or two wake-ups. ktracer counts
 * the written records of CPU 0's meta page, none lost, and must show at
 * least 3 per round trip, as ftrace: a switch between the two processes
 * writes one SWITCH record, a wake-up one LOG, so a round trip is two
 * SWITCHes and one or two wake-ups.
 *
 * On exit, on an error too, the child is gone, the SCHED source and the
 * sched_switch event are off, ftrace's buffers are cleared, and
 * tracing_on and ktracer's enable and mode are as they were.
 *
 * Output: one "KT-RESULT <name> <ns_per_round_trip>" line per
 * configuration, then a table for people. Exits 0 if every measurement
 * was taken, 1 otherwise.
 */
#include "bench.h"

#define SWITCH_ENABLE	"events/sched/sched_switch/enable"
#define WAKING_ENABLE	"events/sched/sched_waking/enable"
#define RUN_MIN_NS	200e6	/* a timed run takes at least this */
#define RUN_AIM_NS	300e6	/* and calibration aims here */
#define WARMUP		64	/* checked round trips before any timing */
#define SETTLE		16	/* untimed round trips before each run */
#define NCPUS		1	/* CPU 0: this process and the child */

static int kt_fd = -1;
static struct pingpong pp = PINGPONG_INIT;	/* CPU 0: the child */
static const struct ktracer_state *state;
static const volatile struct ktracer_meta *meta[NCPUS];
static char tracing_on_was = '1';
static unsigned int kt_enabled_was = 1, kt_mode_was = KTRACER_MODE_DISCARD;
static int restore_needed;

/* ------------------------------------------------------------------ */
/* tracefs                                                             */

/* Empty ftrace's buffers (and zero their counters): 0 or -errno. */
static int tracefs_clear(void)
{
	int fd = open(TRACEFS "/trace", O_WRONLY | O_TRUNC | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* Die, saying why it matters, unless TRACEFS/file starts with want. */
static void tracefs_expect(const char *file, char want, const char *why)
{
	char buf[16];

	tracefs_read(file, buf, sizeof(buf));
	if (buf[0] != want)
		die("%s/%s reads %.1s, not %c: %s", TRACEFS, file, buf, want, why);
}

/* No event on, overwrite mode: what pipe_base and pipe_ftrace need. */
static void open_tracefs(void)
{
	char buf[16];

	tracefs_mount();
	tracefs_expect("events/enable", '0',
		       "ftrace events are on already, pipe_base would not be untraced");
	tracefs_expect("options/overwrite", '1',
		       "ftrace would drop events when full and look cheaper than it is");
	tracefs_read("tracing_on", buf, sizeof(buf));
	tracing_on_was = buf[0];
}

/* ------------------------------------------------------------------ */
/* ktracer                                                             */

static int kt_kevents(struct ktracer_kevents *k, uint32_t flags,
		      uint32_t sources)
{
	*k = (struct ktracer_kevents){
		.size = sizeof(*k),
		.flags = flags,
		.sources = sources,
	};
	return ioctl(kt_fd, KTRACER_IOC_KEVENTS, k) ? -errno : 0;
}

static void kt_sources(uint32_t sources)
{
	struct ktracer_kevents k;
	int err = kt_kevents(&k, KTRACER_KEVENTS_SOURCES, sources);

	if (err)
		die("KTRACER_IOC_KEVENTS sources=%#x: %s", sources, strerror(-err));
	if (k.sources != sources)
		die("KTRACER_IOC_KEVENTS sources=%#x succeeded, but reports sources=%#x on",
		    sources, k.sources);
}

static void open_ktracer(void)
{
	struct ktracer_kevents k;
	const char *why;
	int err;

	kt_fd = kt_open(&state, NULL);
	if (state->nr_cpus < NCPUS)
		die("ktracer has buffers for %u CPUs; this benchmark needs %d",
		    state->nr_cpus, NCPUS);
	kt_enabled_was = state->enabled;
	kt_mode_was = state->mode;

	for (int cpu = 0; cpu < NCPUS; cpu++) {
		meta[cpu] = kt_meta(kt_fd, state, cpu, &why);
		if (!meta[cpu])
			die("mmap of CPU %d's meta page: %s", cpu, why);
	}

	err = kt_kevents(&k, 0, 0);
	if (err)
		die("KTRACER_IOC_KEVENTS (report only): %s", strerror(-err));
	if (!(k.available & KTRACER_SRC_SCHED))
		die("ktracer's SCHED source is not available on this kernel (available=%#x)",
		    k.available);
	if (k.sources)
		die("ktracer's kernel sources %#x are on already: pipe_base would not be untraced",
		    k.sources);
}

/* ------------------------------------------------------------------ */
/* The configurations                                                  */

enum tracer { NONE, FTRACE, KTRACER };

static void set_nothing(int on)
{
	(void)on;
}

static void set_ftrace(int on)
{
	tracefs_set(SWITCH_ENABLE, on ? "1" : "0");
	tracefs_set(WAKING_ENABLE, on ? "1" : "0");
}

static void set_ktracer(int on)
{
	kt_sources(on ? KTRACER_SRC_SCHED : 0);
}

struct config {
	const char *name;
	const char *what;
	enum tracer tracer;		/* the one that must record */
	unsigned int min_events;	/* at least, per round trip and CPU */
	void (*set)(int on);
	unsigned long n;		/* round trips of one timed run */
	double t[RUNS];			/* ns per round trip of each run */
	double ns, min, max;		/* median, fastest, slowest */
	double round_trips;		/* in all runs, warm-up included */
	double events[NCPUS];		/* what its tracer recorded meanwhile */
};

#define CONFIG(nm, wh, tr, min, fn) \
	{ .name = nm, .what = wh, .tracer = tr, .min_events = min, .set = fn }

static struct config configs[] = {
	CONFIG("pipe_base", "nothing traced", NONE, 0, set_nothing),
	CONFIG("pipe_ftrace", "ftrace sched_switch, sched_waking", FTRACE, 3, set_ftrace),
	CONFIG("pipe_ktracer", "ktracer SCHED (switch, waking)", KTRACER, 3, set_ktracer),
};

#define NCONFIGS	(sizeof(configs) / sizeof(configs[0]))

/* What each tracer has recorded so far, per CPU. */
struct counts {
	uint64_t events[KTRACER + 1][NCPUS];	/* [NONE] stays 0 */
	uint64_t kt_lost[NCPUS];
};

static void count(struct counts *c)
{
	for (int cpu = 0; cpu < NCPUS; cpu++) {
		c->events[NONE][cpu] = 0;
		c->events[FTRACE][cpu] = ftrace_events(cpu);
		c->events[KTRACER][cpu] = meta[cpu]->written;
		c->kt_lost[cpu] = meta[cpu]->lost;
	}
}

/*
 * Did the tracer that was on record at least c->min_events per round trip
 * on each CPU, and the one that was off nothing?
 */
static void check_counts(struct config *c, const struct counts *before,
			 const struct counts *after, unsigned long n)
{
	static const char *const tracer_name[] = { "", "ftrace", "ktracer" };

	for (int cpu = 0; cpu < NCPUS; cpu++) {
		uint64_t lost = after->kt_lost[cpu] - before->kt_lost[cpu];

		if (lost)
			die("%s: ktracer lost %llu records on CPU %d in OVERWRITE mode",
			    c->name, (unsigned long long)lost, cpu);
		for (int t = FTRACE; t <= KTRACER; t++) {
			uint64_t d = after->events[t][cpu] - before->events[t][cpu];

			if (t == (int)c->tracer && d < (uint64_t)c->min_events * n)
				die("%s: %s recorded %llu events on CPU %d in %lu round trips, fewer than %u per round trip",
				    c->name, tracer_name[t], (unsigned long long)d,
				    cpu, n, c->min_events);
			if (t != (int)c->tracer && d)
				die("%s: %s recorded %llu events on CPU %d while it was off",
				    c->name, tracer_name[t], (unsigned long long)d, cpu);
		}
		c->events[cpu] += after->events[c->tracer][cpu] -
				  before->events[c->tracer][cpu];
	}
	c->round_trips += n;
}

/*
 * One run of n round trips with c on: its ns. Switching a tracer on or off
 * patches the kernel's text, which TCG translates again: a few round
 * trips before the clock starts pay for that.
 */
static double run(void *arg, unsigned long n)
{
	struct config *c = arg;
	struct counts before, after;
	unsigned long fails;
	double t0, t1;

	c->set(1);
	fails = pingpong(&pp, SETTLE);
	count(&before);
	t0 = now_ns();
	fails += pingpong(&pp, n);
	t1 = now_ns();
	c->set(0);
	count(&after);
	if (fails)
		die("%s: %lu of %lu round trips failed (a short read or write, or a wrong echo): did the child exit?",
		    c->name, fails, SETTLE + n);
	check_counts(c, &before, &after, n);
	return t1 - t0;
}

/* ------------------------------------------------------------------ */
/* Putting everything back                                             */

/* Undo what main() changed; returns how many steps failed. */
static int restore(void)
{
	struct ktracer_kevents k;
	char on[2] = { tracing_on_was, '\0' };
	int failed = 0;

	pingpong_kill(&pp);
	if (!restore_needed)
		return 0;
	restore_needed = 0;
	failed += restore_failed(kt_kevents(&k, KTRACER_KEVENTS_SOURCES, 0),
				 "ktracer's sources (off)");
	failed += restore_failed(kt_mode(kt_fd, kt_mode_was), "ktracer's mode");
	failed += restore_failed(kt_enable(kt_fd, kt_enabled_was), "ktracer's enable");
	failed += restore_failed(tracefs_write(SWITCH_ENABLE, "0"),
				 "sched_switch's enable (0)");
	failed += restore_failed(tracefs_write(WAKING_ENABLE, "0"),
				 "sched_waking's enable (0)");
	failed += restore_failed(tracefs_clear(), "ftrace's buffers (clear)");
	failed += restore_failed(tracefs_write("tracing_on", on), "tracing_on");
	return failed;
}

int main(void)
{
	int err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		die("ignore SIGPIPE: %s", strerror(errno));
	pin_cpu(0);
	pingpong_start(&pp, 0);
	open_ktracer();
	open_tracefs();

	restore_needed = 1;
	err = kt_enable(kt_fd, 1);
	if (err)
		die("KTRACER_IOC_ENABLE enable=1: %s", strerror(-err));
	err = kt_mode(kt_fd, KTRACER_MODE_OVERWRITE);
	if (err)
		die("KTRACER_IOC_CONFIG mode=OVERWRITE: %s", strerror(-err));
	if (state->enabled != 1 || state->mode != KTRACER_MODE_OVERWRITE)
		die("ktracer enabled in OVERWRITE mode, but the state page says enabled=%u mode=%u",
		    state->enabled, state->mode);
	tracefs_set("tracing_on", "1");

	for (unsigned int i = 0; i < NCONFIGS; i++)
		run(&configs[i], WARMUP);
	for (unsigned int i = 0; i < NCONFIGS; i++)
		configs[i].n = calibrate(run, &configs[i], RUN_MIN_NS, RUN_AIM_NS);
	for (int r = 0; r < RUNS; r++)
		for (unsigned int i = 0; i < NCONFIGS; i++) {
			struct config *c = &configs[i];

			c->t[r] = run(c, c->n) / c->n;
		}

	pingpong_stop(&pp);
	if (restore())
		die("the tracers' settings were not all put back");

	for (unsigned int i = 0; i < NCONFIGS; i++) {
		struct config *c = &configs[i];

		median_of(c->t, &c->ns, &c->min, &c->max);
		printf("KT-RESULT %s %.2f\n", c->name, c->ns);
		printf("KT-EVENTS %s %.3f\n", c->name, c->events[0] / c->round_trips);
	}

	printf("\n%-13s %-35s %9s %9s %9s %9s %9s %6s %9s\n", "config",
	       "traced", "ns/rt", "fastest", "slowest", "added", "N per run",
	       "ms/run", "events/rt");
	for (unsigned int i = 0; i < NCONFIGS; i++) {
		const struct config *c = &configs[i];

		printf("%-13s %-35s %9.0f %9.0f %9.0f %9.0f %9lu %6.1f %9.3f\n",
		       c->name, c->what, c->ns, c->min, c->max,
		       c->ns - configs[0].ns, c->n, c->ns * c->n / 1e6,
		       c->events[0] / c->round_trips);
	}
	printf("(ns of CLOCK_MONOTONIC per round trip, guest instructions under -icount shift=0: median of %d runs of N round trips, the configurations taking turns; both processes on CPU 0; added: over pipe_base; events/rt: what the configuration's tracer recorded per round trip, ktracer's in records)\n",
	       RUNS);
	return 0;
}
