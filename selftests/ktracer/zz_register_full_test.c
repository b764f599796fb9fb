// SPDX-License-Identifier: GPL-2.0
/*
 * KTRACER_IOC_REGISTER when the table is full: ENOSPC.
 *
 * Names are never removed, so this fills the table for the rest of the
 * module's life. The test runs last (the programs run in alphabetical
 * order) and counts what the earlier ones registered from the events
 * file.
 */
#define _GNU_SOURCE
#include <stdint.h>

#include "kselftest_harness.h"
#include "kt_test.h"

TEST(table_full)
{
	struct kt_event_line *v;
	struct ktracer_register r;
	int64_t first_id = 0, id;
	int fd, fd2, before, added, n, i;
	char name[32];

	fd = kt_open();
	ASSERT_LE(0, fd);
	before = kt_events_read(&v);
	ASSERT_LE(0, before) TH_LOG("events: %s", strerror(-before));
	free(v);
	ASSERT_GE(KTRACER_EVENTS_MAX, before);

	for (added = 0; added <= KTRACER_EVENTS_MAX; added++) {
		snprintf(name, sizeof(name), "full.%04d", added);
		id = kt_register(fd, KTRACER_KIND_COUNTER, 0, name);
		if (id < 0)
			break;
		ASSERT_NE(0, id);
		if (!first_id)
			first_id = id;
	}
	ASSERT_EQ(-ENOSPC, id) TH_LOG("after %d names: %s", added,
				      strerror(-id));
	/* Exactly the table's size, no fewer, no more. */
	EXPECT_EQ(KTRACER_EVENTS_MAX - before, added);

	/* Still full, for any kind; nothing half-registered. */
	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	r.kind = KTRACER_KIND_SPAN;
	r.slots = 1;
	strcpy(r.name, "full.one.more");
	ASSERT_ERRNO(ENOSPC, ioctl(fd, KTRACER_IOC_REGISTER, &r));
	EXPECT_EQ(0, r.id);

	/*
	 * A name already in the table is not a new one: a file opened now
	 * can still register (and so use) the events that exist.
	 */
	if (first_id) {
		fd2 = kt_open();
		ASSERT_LE(0, fd2);
		EXPECT_EQ(first_id, kt_register(fd2, KTRACER_KIND_COUNTER, 0,
						"full.0000"));
		EXPECT_EQ(0, kt_op(fd2, KTRACER_OP_COUNT, first_id, 0, 1));
		close(fd2);
	}

	n = kt_events_read(&v);
	ASSERT_EQ(KTRACER_EVENTS_MAX, n);
	EXPECT_EQ(NULL, kt_events_find(v, n, "full.one.more"));
	for (i = 0; i < added; i++) {
		snprintf(name, sizeof(name), "full.%04d", i);
		EXPECT_NE(NULL, kt_events_find(v, n, name))
			TH_LOG("%s not listed", name);
	}
	free(v);
	close(fd);
}

TEST_HARNESS_MAIN
