// SPDX-License-Identifier: GPL-2.0
/*
 * The last test program of all: it switches the SCHED, IRQ and SOFTIRQ
 * sources on for every process, checks that their probes fire, and
 * deliberately leaves them on when it exits. The rig's rmmod of ktracer
 * then runs with probes attached and firing on both CPUs, which is how
 * a machine that unloads the module while tracing sees it.
 *
 * It runs after every other program (they run in alphabetical order),
 * so that no other test finds kernel records in its buffers, and after
 * zz_register_full_test: it registers no name, and so does not need a
 * free place in the full event table.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdint.h>

#include "kselftest_harness.h"
#include "kt_test.h"
#include "kt_ring.h"

#define WAIT_NS		(10 * KT_NSEC_PER_SEC)

/* Kernel records seen, by event. */
struct seen {
	uint64_t ev[KTRACER_KEV_LAST + 1];
};

static int count(void *ctx, const struct kt_rec *rec)
{
	struct seen *s = ctx;

	if (rec->hdr.flags & KTRACER_RECF_KERNEL)
		s->ev[rec->hdr.event]++;
	return 0;
}

TEST(left_on)
{
	const uint32_t on = KTRACER_SRC_SCHED | KTRACER_SRC_IRQ |
			    KTRACER_SRC_SOFTIRQ;
	struct pollfd pfd;
	struct ktracer_kevents k;
	struct kt_rings rings;
	struct seen s;
	uint64_t deadline;
	int fd;

	fd = kt_open();
	ASSERT_LE(0, fd) TH_LOG("open: %s", strerror(-fd));
	ASSERT_RET(0, kt_restore_defaults(fd));
	ASSERT_RET(0, kt_kevents(fd, KTRACER_KEVENTS_SOURCES |
				 KTRACER_KEVENTS_PIDS, on, NULL, 0, &k));
	ASSERT_EQ(on, k.sources);

	/* Switches, timer softirqs: they come on their own within a while. */
	ASSERT_RET(0, kt_rings_map(fd, &rings));
	memset(&s, 0, sizeof(s));
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	deadline = kt_now() + WAIT_NS;
	while (!(s.ev[KTRACER_KEV_RUNNING] && s.ev[KTRACER_KEV_SOFTIRQ]) &&
	       kt_now() < deadline) {
		ASSERT_LE(0, kt_rings_consume(&rings, count, &s));
		poll(&pfd, 1, 10);	/* off the CPU: a switch to record */
	}
	kt_rings_unmap(&rings);
	TH_LOG("sched.running %llu, irq %llu, softirq %llu records",
	       (unsigned long long)s.ev[KTRACER_KEV_RUNNING],
	       (unsigned long long)s.ev[KTRACER_KEV_IRQ],
	       (unsigned long long)s.ev[KTRACER_KEV_SOFTIRQ]);
	EXPECT_LT(0, s.ev[KTRACER_KEV_RUNNING]);
	EXPECT_LT(0, s.ev[KTRACER_KEV_SOFTIRQ]);

	/* Left on, for rmmod: the very point of this program. */
	EXPECT_EQ(on, kt_kevents(fd, 0, 0, NULL, 0, &k) ? 0 : k.sources);
	close(fd);
}

TEST_HARNESS_MAIN
