// SPDX-License-Identifier: GPL-2.0
/*
 * Stress: every CPU writes numbered records as fast as it can (single
 * ops, batches and LOGs), the kernel sources SCHED, IRQ, SOFTIRQ, SYSCALL
 * (of this process) and BLOCK (null_blk, when the VM has it) write into
 * the same buffers, the serial port interrupts, and a reader consumes
 * through mmap meanwhile, in buffers small enough that it falls behind.
 * Afterwards, per CPU and exactly,
 *
 *	written == read + lost + overwritten + unread
 *
 * with the meta page's counters, the reader's own count and the records
 * left in [tail, head); every record was well formed and read once, each
 * writer's in order, its gaps explained by LOST records (DISCARD) or by
 * the kernel moving the tail (OVERWRITE).
 *
 * KT_STRESS=1 (make stress): STRESS_FULL_S seconds per mode; otherwise
 * STRESS_SHORT_S.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "kt_test.h"
#include "kt_ring.h"
#include "kt_seq.h"

#define STRESS_FULL_S	60
#define STRESS_SHORT_S	6
#define BATCH		4	/* ops per batch (GAUGEs only, or with a LOG) */
#define BUFFER		(16 << 10)	/* per CPU: the reader falls behind */
#define SERIAL_TTY	"/dev/ttyS0"	/* the console: interrupts on demand */
#define NULLB		"/dev/nullb0"
#define TAIL_NS		(50 * 1000 * 1000)	/* sources on, no reader */

FIXTURE(stress) {
	int fd;
	int nr;
	uint32_t available;
	struct kt_rings rings;
	struct kt_mods mods;
	int dev_fd;
};

FIXTURE_VARIANT(stress) {
	uint32_t mode;
	const char *name;
};

FIXTURE_VARIANT_ADD(stress, discard) {
	.mode = KTRACER_MODE_DISCARD,
	.name = "DISCARD",
};

FIXTURE_VARIANT_ADD(stress, overwrite) {
	.mode = KTRACER_MODE_OVERWRITE,
	.name = "OVERWRITE",
};

FIXTURE_SETUP(stress)
{
	struct ktracer_kevents k;

	self->dev_fd = -1;
	self->nr = kt_nr_cpus();
	ASSERT_GE(KT_MAX_CPUS, self->nr);
	self->fd = kt_open();
	ASSERT_LE(0, self->fd) TH_LOG("open: %s", strerror(-self->fd));
	ASSERT_RET(0, kt_kevents(self->fd, KTRACER_KEVENTS_SOURCES |
				 KTRACER_KEVENTS_PIDS, 0, NULL, 0, &k));
	self->available = k.available;
	ASSERT_RET(0, kt_set_enable(self->fd, 1));
	/* A new size empties the buffers and zeroes the counters. */
	ASSERT_RET(0, kt_config(self->fd, KTRACER_CONFIG_MODE |
				KTRACER_CONFIG_BUFFER_SIZE, variant->mode,
				BUFFER));
}

FIXTURE_TEARDOWN(stress)
{
	kt_rings_unmap(&self->rings);
	if (self->fd >= 0)
		EXPECT_EQ(0, kt_close_restored(self->fd));
	if (self->dev_fd >= 0)
		close(self->dev_fd);
	EXPECT_EQ(0, kt_unload_extra(&self->mods));
}

/* Direct reads and writes to null_blk until *stop. */
struct blk_load {
	int fd;
	bool stop;
	uint64_t ios;
	int err;
};

static void *blk_thread(void *arg)
{
	struct blk_load *b = arg;
	void *buf;

	if (posix_memalign(&buf, 4096, 4096)) {
		b->err = -ENOMEM;
		return NULL;
	}
	memset(buf, 0x5a, 4096);
	while (!__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE)) {
		off_t off = (off_t)(b->ios % 256) * 8192;
		ssize_t n = b->ios % 2 ? pread(b->fd, buf, 4096, off) :
					 pwrite(b->fd, buf, 4096, off);

		if (n != 4096) {
			b->err = n < 0 ? -errno : -EIO;
			break;
		}
		b->ios++;
	}
	free(buf);
	return NULL;
}

/* null_blk for BLOCK, if this kernel has a block layer and the VM it. */
static int start_blk(FIXTURE_DATA(stress) *self, struct blk_load *b)
{
	int ret;

	if (!(self->available & KTRACER_SRC_BLOCK) ||
	    access(KT_EXTRA_MODULES "/load.order", R_OK))
		return 0;
	ret = kt_load_extra(&self->mods, "null_blk",
			    "queue_mode=2 irqmode=1 nr_devices=1");
	if (ret)
		return ret;
	self->dev_fd = open(NULLB, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (self->dev_fd < 0)
		return -errno;
	b->fd = self->dev_fd;
	return 1;
}

TEST_F_TIMEOUT(stress, accounting, 900)
{
	const char *env = getenv("KT_STRESS");
	const unsigned int secs = env && !strcmp(env, "1") ? STRESS_FULL_S :
							    STRESS_SHORT_S;
	const uint32_t want = KTRACER_SRC_SCHED | KTRACER_SRC_IRQ |
			      KTRACER_SRC_SOFTIRQ | KTRACER_SRC_SYSCALL |
			      KTRACER_SRC_BLOCK;
	const bool discard = variant->mode == KTRACER_MODE_DISCARD;
	struct timespec run = { .tv_sec = secs };
	struct timespec tail = { .tv_nsec = TAIL_NS };
	struct kt_serial serial = { .fd = -1 };
	struct blk_load blk = { .fd = -1 };
	uint64_t total_lost = 0, total_over = 0, total_unread = 0;
	uint32_t sources = self->available & want;
	int32_t pid = getpid();
	pthread_t st, bt;
	struct kt_load *ld;
	int cpu, has_blk;

	ld = calloc(1, sizeof(*ld));
	ASSERT_NE(NULL, ld);
	has_blk = start_blk(self, &blk);
	ASSERT_LE(0, has_blk) TH_LOG("null_blk: %s", strerror(-has_blk));
	if (!has_blk)
		sources &= ~KTRACER_SRC_BLOCK;
	serial.fd = open(SERIAL_TTY, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	ASSERT_LE(0, serial.fd) TH_LOG(SERIAL_TTY ": %s", strerror(errno));
	ASSERT_RET(0, kt_reset(self->fd));
	ASSERT_RET(0, kt_rings_map(self->fd, &self->rings));
	ASSERT_EQ(self->nr, self->rings.nr);
	ASSERT_EQ(BUFFER, self->rings.state->data_size);
	ASSERT_EQ(variant->mode, self->rings.state->mode);

	/* SYSCALL of this process: the writers', the reader's. */
	ASSERT_RET(0, kt_kevents(self->fd, KTRACER_KEVENTS_SOURCES |
				 KTRACER_KEVENTS_PIDS, sources, &pid, 1, NULL));
	ASSERT_EQ(0, pthread_create(&st, NULL, kt_serial_thread, &serial));
	if (has_blk)
		ASSERT_EQ(0, pthread_create(&bt, NULL, blk_thread, &blk));
	ASSERT_RET(0, kt_load_start(self->fd, &self->rings, ld, "stress",
				    BATCH, kt_seq_check_user, &ld->run));
	nanosleep(&run, NULL);	/* the length of the run, not a wait */

	/*
	 * Writers, then the reader (its last pass drains what they wrote);
	 * the kernel sources go on a while unread, then off: nothing
	 * writes any more, and what they wrote after the reader is unread.
	 */
	kt_load_stop(ld);
	__atomic_store_n(&serial.stop, true, __ATOMIC_RELEASE);
	__atomic_store_n(&blk.stop, true, __ATOMIC_RELEASE);
	pthread_join(st, NULL);
	if (has_blk)
		pthread_join(bt, NULL);
	nanosleep(&tail, NULL);
	ASSERT_RET(0, kt_kevents_off(self->fd));
	close(serial.fd);

	KT_LOAD_ASSERT_OK(ld);
	ASSERT_EQ(0, blk.err) TH_LOG("null_blk i/o: %s", strerror(-blk.err));

	TH_LOG("%s, %u s, %u KiB per CPU, sources 0x%x, %u serial lines, %llu null_blk i/os, %llu reader passes",
	       variant->name, secs, BUFFER >> 10, sources, serial.lines,
	       (unsigned long long)blk.ios,
	       (unsigned long long)ld->rd.passes);
	for (cpu = 0; cpu < ld->nr; cpu++) {
		struct kt_ring *r = &self->rings.ring[cpu];
		const struct ktracer_meta *m = r->meta;
		const struct kt_seq_cpu *c = &ld->run.cpu[cpu];
		const struct kt_writer *w = &ld->w[cpu];
		int64_t unread = kt_ring_count_unread(r), drained;

		ASSERT_LE(0, unread);
		TH_LOG("%s cpu%d: written %llu read %llu lost %llu overwritten %llu unread %lld; tail_resets %llu",
		       variant->name, cpu, (unsigned long long)m->written,
		       (unsigned long long)r->records,
		       (unsigned long long)m->lost,
		       (unsigned long long)m->overwritten, (long long)unread,
		       (unsigned long long)m->tail_resets);
		TH_LOG("%s cpu%d: read by type: START %llu STOP %llu GAUGE %llu LOG %llu, kernel's %llu; LOST records %llu (of %llu), PAD %llu; copies dropped %llu, tail moved under the reader %llu times",
		       variant->name, cpu,
		       (unsigned long long)r->by_type[KTRACER_REC_START],
		       (unsigned long long)r->by_type[KTRACER_REC_STOP],
		       (unsigned long long)r->by_type[KTRACER_REC_GAUGE],
		       (unsigned long long)r->by_type[KTRACER_REC_LOG],
		       (unsigned long long)r->kernel,
		       (unsigned long long)r->losts,
		       (unsigned long long)r->lost_sum,
		       (unsigned long long)r->by_type[KTRACER_REC_PAD],
		       (unsigned long long)r->retries,
		       (unsigned long long)r->skips);
		TH_LOG("%s cpu%d: writer: %u ops (%u in batches), %llu read, last %lld, %llu missing",
		       variant->name, cpu, w->done, w->batches,
		       (unsigned long long)c->seen, (long long)c->last,
		       (unsigned long long)c->gaps);

		/* The identity, exactly. */
		EXPECT_EQ(m->written, r->records + m->lost + m->overwritten +
				      (uint64_t)unread);
		EXPECT_EQ(r->records, r->reader->read);
		EXPECT_EQ(0, m->tail_resets);
		/* The writer's records: once each, in order, gaps explained. */
		EXPECT_LT(0, c->seen);
		EXPECT_LT(c->last, (int64_t)w->done);
		EXPECT_LT(0, w->batches);
		EXPECT_EQ(0, c->bad_gaps) TH_LOG("cpu %d: %llu gaps nothing explains",
						 cpu,
						 (unsigned long long)c->bad_gaps);
		/* The kernel's records were there, and checked. */
		EXPECT_LT(0, r->kernel);
		if (discard) {
			EXPECT_EQ(0, m->overwritten);
			EXPECT_EQ(0, r->skips);
			EXPECT_LE(c->gaps, c->lost_reported);
			EXPECT_LE(r->lost_sum, m->lost);
		} else {
			EXPECT_EQ(0, m->lost);
			EXPECT_EQ(0, r->losts);
			EXPECT_LE(c->gaps, m->overwritten);
		}
		total_lost += m->lost;
		total_over += m->overwritten;
		total_unread += unread;

		/* What was left is read now, and nothing more. */
		drained = kt_ring_consume(r, kt_seq_check_user, &ld->run);
		EXPECT_EQ(unread, drained);
		EXPECT_EQ(m->head, r->reader->tail);
		EXPECT_EQ(m->written, r->reader->read + m->lost +
				      m->overwritten);
	}
	TH_LOG("%s: lost %llu, overwritten %llu, unread at the end %llu",
	       variant->name, (unsigned long long)total_lost,
	       (unsigned long long)total_over,
	       (unsigned long long)total_unread);
	/* The reader did fall behind. */
	EXPECT_LT(0, discard ? total_lost : total_over);
	free(ld);
}

TEST_HARNESS_MAIN
