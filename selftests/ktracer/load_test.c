// SPDX-License-Identifier: GPL-2.0
/*
 * Unloading and loading ktracer.ko under fire. Each cycle:
 *
 *  - writers on every CPU, a reader with every buffer mapped, kernel
 *    sources on (SYSCALL and the rest filtered to this process);
 *  - delete_module("ktracer", O_NONBLOCK) fails with EAGAIN
 *    (EWOULDBLOCK: the module is in use) and changes nothing: an op still
 *    succeeds and records still flow;
 *  - writers stopped, the file closed: still EAGAIN while a buffer is
 *    mapped (the mapping holds the file);
 *  - unmapped: delete_module succeeds, every other cycle with the kernel
 *    sources still on (their probes are detached on the way out), and
 *    the device, sysfs and debugfs entries are gone;
 *  - loaded again with finit_module() from /lib/modules/ktracer.ko, as
 *    /init loads it: the fresh module answers VERSION, is in its default
 *    state with empty buffers, and records an op.
 *
 * KT_STRESS=1 (make stress): CYCLES_FULL cycles; otherwise CYCLES_SHORT.
 * The module is left loaded, in its default state, for the tests after
 * this one. kmemleak (debug kernel) scans at the end of the run: whatever
 * a cycle leaks is reported then.
 */
#define _GNU_SOURCE
#include <stdint.h>

#include "kselftest_harness.h"
#include "kt_test.h"
#include "kt_ring.h"
#include "kt_seq.h"

#define CYCLES_FULL	100
#define CYCLES_SHORT	5
#define RUN_NS		(200 * 1000 * 1000)
#define WAIT_NS		(10 * KT_NSEC_PER_SEC)

FIXTURE(load) {
	struct kt_rings rings;
};

FIXTURE_SETUP(load)
{
	ASSERT_TRUE(kt_module_loaded());
}

/* Whatever happened, the module is loaded and in its default state. */
FIXTURE_TEARDOWN(load)
{
	int fd;

	kt_rings_unmap(&self->rings);
	if (!kt_module_loaded())
		EXPECT_EQ(0, kt_module_load());
	fd = kt_open();
	EXPECT_LE(0, fd);
	if (fd >= 0)
		EXPECT_EQ(0, kt_close_restored(fd));
}

/* The writers' records to kt_seq_check(), and one more event's. */
struct probe {
	struct kt_seq_run *run;
	uint32_t event;
	uint64_t seen;
};

static int check_rec(void *ctx, const struct kt_rec *rec)
{
	struct probe *p = ctx;

	if (rec->hdr.event == p->event &&
	    !(rec->hdr.flags & KTRACER_RECF_KERNEL)) {
		__atomic_add_fetch(&p->seen, 1, __ATOMIC_RELEASE);
		return 0;
	}
	return kt_seq_check_user(p->run, rec);
}

static uint64_t written(const struct kt_rings *rs)
{
	uint64_t n = 0;
	int cpu;

	for (cpu = 0; cpu < rs->nr; cpu++)
		n += __atomic_load_n(&rs->ring[cpu].meta->written,
				     __ATOMIC_ACQUIRE);
	return n;
}

static void nap(void)
{
	struct timespec ts = { .tv_nsec = 1000 * 1000 };

	nanosleep(&ts, NULL);
}

/* Nothing of the module is left. */
static void expect_gone(struct __test_metadata *_metadata)
{
	EXPECT_FALSE(kt_module_loaded());
	EXPECT_EQ(-1, access(KTRACER_DEVICE, F_OK));
	EXPECT_EQ(-1, access(KT_DEBUGFS, F_OK));
	EXPECT_EQ(-1, access("/sys/class/misc/" KT_MODULE_NAME, F_OK));
}

/*
 * A module just loaded: VERSION, the default state, empty buffers, and
 * an op recorded (the @cycle-th value of "load.fresh").
 */
static void check_fresh(struct __test_metadata *_metadata,
			struct kt_rings *rings, unsigned int cycle)
{
	struct ktracer_version v = { .size = sizeof(v) };
	struct ktracer_kevents k;
	struct kt_recs recs = { 0 };
	int64_t id;
	int fd;

	fd = kt_open();
	ASSERT_LE(0, fd) TH_LOG("open: %s", strerror(-fd));
	ASSERT_EQ(0, ioctl(fd, KTRACER_IOC_VERSION, &v));
	EXPECT_EQ(KTRACER_ABI_MAJOR, v.major);
	EXPECT_EQ(KTRACER_ABI_MINOR, v.minor);
	ASSERT_RET(0, kt_kevents(fd, 0, 0, NULL, 0, &k));
	EXPECT_EQ(0, k.sources);
	ASSERT_RET(0, kt_rings_map(fd, rings));
	EXPECT_EQ(1, rings->state->enabled);
	EXPECT_EQ(KT_DEFAULT_MODE, rings->state->mode);
	EXPECT_EQ(KT_DEFAULT_BUFFER, rings->state->data_size);
	EXPECT_EQ(0, written(rings));
	id = kt_register(fd, KTRACER_KIND_GAUGE, 0, "load.fresh");
	ASSERT_LT(0, id) TH_LOG("register: %s", strerror(-id));
	ASSERT_RET(0, kt_op(fd, KTRACER_OP_GAUGE, id, 0, cycle));
	KT_COLLECT(rings, &recs);
	ASSERT_EQ(1, recs.n);
	EXPECT_EQ(KTRACER_REC_GAUGE, recs.v[0].hdr.type);
	EXPECT_EQ(id, recs.v[0].hdr.event);
	EXPECT_EQ(cycle, recs.v[0].hdr.arg);
	EXPECT_EQ((uint32_t)getpid(), recs.v[0].hdr.pid);
	kt_recs_free(&recs);
	kt_rings_unmap(rings);
	close(fd);
}

/* One cycle in use, unloaded, loaded again. */
static void cycle(struct __test_metadata *_metadata, struct kt_rings *rings,
		  struct kt_load *ld, unsigned int i)
{
	const bool sources_at_rmmod = i % 2 == 0;
	struct timespec run = { .tv_nsec = RUN_NS };
	struct ktracer_kevents k;
	struct probe probe = { .run = &ld->run };
	int32_t pid = getpid();
	unsigned int done[KT_MAX_CPUS];
	uint64_t before, t0, seen;
	int64_t id;
	int fd, cpu;

	memset(ld, 0, sizeof(*ld));
	fd = kt_open();
	ASSERT_LE(0, fd) TH_LOG("open: %s", strerror(-fd));
	ASSERT_RET(0, kt_kevents(fd, 0, 0, NULL, 0, &k));
	/* Empty buffers: what earlier tests left is not the writers'. */
	ASSERT_RET(0, kt_restore_defaults(fd));
	id = kt_register(fd, KTRACER_KIND_GAUGE, 0, "load.probe");
	ASSERT_LT(0, id);
	probe.event = id;
	ASSERT_RET(0, kt_rings_map(fd, rings));
	ASSERT_RET(0, kt_kevents(fd, KTRACER_KEVENTS_SOURCES |
				 KTRACER_KEVENTS_PIDS,
				 k.available & KTRACER_SRC_ALL, &pid, 1, NULL));
	ASSERT_RET(0, kt_load_start(fd, rings, ld, "load", 4, check_rec,
				    &probe));
	nanosleep(&run, NULL);

	/* In use: refused, and nothing changed. */
	ASSERT_ERRNO(EAGAIN, syscall(SYS_delete_module, KT_MODULE_NAME,
				     O_NONBLOCK));
	ASSERT_TRUE(kt_module_loaded());
	before = written(rings);
	for (cpu = 0; cpu < ld->nr; cpu++)
		done[cpu] = __atomic_load_n(&ld->w[cpu].done, __ATOMIC_RELAXED);
	ASSERT_RET(0, kt_op(fd, KTRACER_OP_GAUGE, id, 0, i));
	/* Every writer goes on. */
	for (t0 = kt_now(); kt_now() - t0 < WAIT_NS; nap()) {
		for (cpu = 0; cpu < ld->nr; cpu++)
			if (__atomic_load_n(&ld->w[cpu].done, __ATOMIC_RELAXED) <
			    done[cpu] + 100)
				break;
		if (cpu == ld->nr)
			break;
	}
	kt_load_stop(ld);
	for (cpu = 0; cpu < ld->nr; cpu++) {
		ASSERT_EQ(0, ld->w[cpu].err) TH_LOG("writer %d: %s", cpu,
						    strerror(-ld->w[cpu].err));
		ASSERT_EQ(0, ld->run.cpu[cpu].err[0])
			TH_LOG("cpu %d: %s", cpu, ld->run.cpu[cpu].err);
		ASSERT_EQ(0, ld->run.cpu[cpu].bad_gaps);
		ASSERT_LE(done[cpu] + 100, ld->w[cpu].done);
		ASSERT_LT(0, ld->run.cpu[cpu].seen);
	}
	ASSERT_EQ(0, ld->rd.err) TH_LOG("reader: %s", strerror(-ld->rd.err));
	ASSERT_LT(before + 100, written(rings));
	/* The op was read, unless the full buffer dropped it (DISCARD). */
	ASSERT_GE(1, probe.seen);
	seen = probe.seen;
	/* With the buffers drained, one more is read for sure. */
	ASSERT_RET(0, kt_op(fd, KTRACER_OP_GAUGE, id, 0, i));
	ASSERT_LE(0, kt_rings_consume(rings, check_rec, &probe));
	ASSERT_EQ(seen + 1, probe.seen);

	if (!sources_at_rmmod)
		ASSERT_RET(0, kt_kevents_off(fd));
	close(fd);
	/* The mappings hold the file, and the file the module. */
	ASSERT_ERRNO(EAGAIN, syscall(SYS_delete_module, KT_MODULE_NAME,
				     O_NONBLOCK));
	kt_rings_unmap(rings);
	ASSERT_RET(0, kt_module_unload());
	expect_gone(_metadata);
	ASSERT_RET(0, kt_module_load());
	check_fresh(_metadata, rings, i);
}

TEST_F_TIMEOUT(load, unload_under_fire, 3000)
{
	const char *env = getenv("KT_STRESS");
	const unsigned int n = env && !strcmp(env, "1") ? CYCLES_FULL :
							 CYCLES_SHORT;
	struct kt_load *ld = calloc(1, sizeof(*ld));
	uint64_t t0 = kt_now();
	unsigned int i;

	ASSERT_NE(NULL, ld);
	ASSERT_GE(KT_MAX_CPUS, kt_nr_cpus());
	for (i = 0; i < n; i++) {
		cycle(_metadata, &self->rings, ld, i);
		if (!__test_passed(_metadata))
			break;
	}
	TH_LOG("%u cycles of %u survived in %.1f s", i, n,
	       (kt_now() - t0) / 1e9);
	EXPECT_EQ(n, i);
	free(ld);
}

/*
 * Unloaded with every source it can have on and nobody holding it:
 * the probes are detached, nothing is left, and it loads again.
 */
TEST_F(load, rmmod_sources_on)
{
	struct ktracer_kevents k;
	int fd;

	fd = kt_open();
	ASSERT_LE(0, fd);
	ASSERT_RET(0, kt_kevents(fd, 0, 0, NULL, 0, &k));
	/* No filter: every process, SYSCALL (which needs one) excepted. */
	ASSERT_RET(0, kt_kevents(fd, KTRACER_KEVENTS_SOURCES,
				 k.available & ~KTRACER_SRC_SYSCALL, NULL, 0,
				 NULL));
	close(fd);
	ASSERT_RET(0, kt_module_unload());
	expect_gone(_metadata);
	ASSERT_RET(0, kt_module_load());
	check_fresh(_metadata, &self->rings, 0);
}

TEST_HARNESS_MAIN
