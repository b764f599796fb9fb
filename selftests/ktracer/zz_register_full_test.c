// SPDX-License-Identifier: GPL-2.0
/*
 * KTRACER_IOC_REGISTER at the quota: ENOSPC for the user who holds
 * KTRACER_EVENTS_MAX names in use, a name of its own still registers,
 * and once the files close the idle names make room for new ones.
 *
 * Runs last (the programs run in alphabetical order): it reclaims root's
 * idle names of the earlier tests.
 */
#define _GNU_SOURCE
#include <stdint.h>

#include "kselftest_harness.h"
#include "kt_test.h"

/* Root's names in the events file; *@listed counts those named @prefix*. */
static int full_root_names(const char *prefix, int *listed)
{
	struct kt_event_line *v;
	int n, i, count = 0;

	n = kt_events_read(&v);
	*listed = 0;
	for (i = 0; i < n; i++) {
		if (v[i].uid != 0 || v[i].id <= KTRACER_KEV_LAST)
			continue;
		count++;
		if (!strncmp(v[i].name, prefix, strlen(prefix)))
			(*listed)++;
	}
	free(v);
	return n < 0 ? n : count;
}

TEST(table_full)
{
	struct ktracer_register r;
	int64_t first_id = 0, id;
	int fd, fd2, added, listed;
	char name[32];

	fd = kt_open();
	ASSERT_LE(0, fd);
	for (added = 0; added <= KTRACER_EVENTS_MAX; added++) {
		snprintf(name, sizeof(name), "full.%04d", added);
		id = kt_register(fd, KTRACER_KIND_COUNTER, 0, name);
		if (id < 0)
			break;
		ASSERT_NE(0, id);
		ASSERT_GE(KTRACER_EVENT_ID_MAX, id);
		if (!first_id)
			first_id = id;
	}
	ASSERT_EQ(-ENOSPC, id) TH_LOG("after %d names: %s", added,
				      strerror(-id));
	/* Exactly the quota: root's idle names of earlier tests made room. */
	EXPECT_EQ(KTRACER_EVENTS_MAX, added);

	/* Still full, for any kind; nothing half-registered. */
	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	r.kind = KTRACER_KIND_SPAN;
	r.slots = 1;
	strcpy(r.name, "full.one.more");
	ASSERT_ERRNO(ENOSPC, ioctl(fd, KTRACER_IOC_REGISTER, &r));
	EXPECT_EQ(0, r.id);

	/*
	 * A name root holds already is not a new one: a file opened now can
	 * still register (and so use) it.
	 */
	fd2 = kt_open();
	ASSERT_LE(0, fd2);
	EXPECT_EQ(first_id, kt_register(fd2, KTRACER_KIND_COUNTER, 0,
					"full.0000"));
	EXPECT_EQ(0, kt_op(fd2, KTRACER_OP_COUNT, first_id, 0, 1));

	EXPECT_EQ(KTRACER_EVENTS_MAX, full_root_names("full.", &listed));
	EXPECT_EQ(KTRACER_EVENTS_MAX, listed);

	/*
	 * The first file closes: every name but full.0000 (fd2 has it) is
	 * idle, and new names take their places, oldest first.
	 */
	close(fd);
	id = kt_register(fd2, KTRACER_KIND_COUNTER, 0, "full.new");
	ASSERT_LT(0, id) TH_LOG("after the close: %s", strerror(-id));
	EXPECT_NE(first_id, id);
	EXPECT_EQ(KTRACER_EVENTS_MAX, full_root_names("full.0000", &listed));
	EXPECT_EQ(1, listed);
	full_root_names("full.new", &listed);
	EXPECT_EQ(1, listed);
	full_root_names("full.", &listed);
	EXPECT_EQ(KTRACER_EVENTS_MAX, listed);
	close(fd2);
}

TEST_HARNESS_MAIN
