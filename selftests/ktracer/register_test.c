// SPDX-License-Identifier: GPL-2.0
/*
 * KTRACER_IOC_REGISTER: one system-wide table of names, and every error
 * the header lists for it (ENOSPC is zz_register_full_test's).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/mman.h>

#include <sys/stat.h>

#include "kselftest_harness.h"
#include "kt_test.h"

#define SENTINEL_ID 0x5a5a5a5au

FIXTURE(reg) {
	int fd;
};

FIXTURE_SETUP(reg)
{
	self->fd = kt_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", KTRACER_DEVICE,
				       strerror(-self->fd));
}

FIXTURE_TEARDOWN(reg)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* A valid request for @name; the test then breaks what it tests. */
static void reg_init(struct ktracer_register *r, uint32_t kind,
		     uint32_t slots, const char *name)
{
	memset(r, 0, sizeof(*r));
	r->size = sizeof(*r);
	r->kind = kind;
	r->slots = slots;
	strncpy(r->name, name, sizeof(r->name) - 1);
	r->id = SENTINEL_ID;
}

/* Is @name listed in the events file? */
static int listed(const char *name)
{
	struct kt_event_line *v;
	int n = kt_events_read(&v), found;

	if (n < 0)
		return n;
	found = kt_events_find(v, n, name) != NULL;
	free(v);
	return found;
}

TEST_F(reg, same_name_same_id)
{
	int64_t id, again;

	id = kt_register(self->fd, KTRACER_KIND_SPAN, 2, "reg.same");
	ASSERT_LT(0, id) TH_LOG("register: %s", strerror(-id));
	again = kt_register(self->fd, KTRACER_KIND_SPAN, 2, "reg.same");
	EXPECT_EQ(id, again);
	again = kt_register(self->fd, KTRACER_KIND_SPAN, 2, "reg.same");
	EXPECT_EQ(id, again);
}

/* The table is system-wide: another file gets the same id. */
TEST_F(reg, same_name_other_file)
{
	int64_t id, other;
	int fd2;

	id = kt_register(self->fd, KTRACER_KIND_COUNTER, 0, "reg.shared");
	ASSERT_LT(0, id);
	fd2 = kt_open();
	ASSERT_LE(0, fd2);
	other = kt_register(fd2, KTRACER_KIND_COUNTER, 0, "reg.shared");
	close(fd2);
	EXPECT_EQ(id, other);

	/* Still there after the second file is gone. */
	fd2 = kt_open();
	ASSERT_LE(0, fd2);
	other = kt_register(fd2, KTRACER_KIND_COUNTER, 0, "reg.shared");
	close(fd2);
	EXPECT_EQ(id, other);
}

TEST_F(reg, ids_nonzero_distinct)
{
	static const struct {
		uint32_t kind, slots;
		const char *name;
	} ev[] = {
		{ KTRACER_KIND_SPAN, 1, "reg.distinct.span" },
		{ KTRACER_KIND_GAUGE, 0, "reg.distinct.gauge" },
		{ KTRACER_KIND_COUNTER, 0, "reg.distinct.counter" },
		{ KTRACER_KIND_LOG, 0, "reg.distinct.log" },
	};
	int64_t id[4];
	int i, j;

	for (i = 0; i < 4; i++) {
		id[i] = kt_register(self->fd, ev[i].kind, ev[i].slots,
				    ev[i].name);
		ASSERT_LT(0, id[i]) TH_LOG("%s: %s", ev[i].name,
					   strerror(-id[i]));
		ASSERT_GE(UINT32_MAX, id[i]);
		for (j = 0; j < i; j++)
			EXPECT_NE(id[j], id[i]);
	}
}

TEST_F(reg, other_kind_eexist)
{
	struct ktracer_register r;
	int64_t id;

	id = kt_register(self->fd, KTRACER_KIND_GAUGE, 0, "reg.kind");
	ASSERT_LT(0, id);

	reg_init(&r, KTRACER_KIND_COUNTER, 0, "reg.kind");
	ASSERT_ERRNO(EEXIST, ioctl(self->fd, KTRACER_IOC_REGISTER, &r));
	EXPECT_EQ(SENTINEL_ID, r.id);	/* nothing written back */
	reg_init(&r, KTRACER_KIND_LOG, 0, "reg.kind");
	ASSERT_ERRNO(EEXIST, ioctl(self->fd, KTRACER_IOC_REGISTER, &r));
	reg_init(&r, KTRACER_KIND_SPAN, 1, "reg.kind");
	ASSERT_ERRNO(EEXIST, ioctl(self->fd, KTRACER_IOC_REGISTER, &r));
	EXPECT_EQ(SENTINEL_ID, r.id);

	/* The original is untouched. */
	EXPECT_EQ(id, kt_register(self->fd, KTRACER_KIND_GAUGE, 0,
				  "reg.kind"));
}

/* START on @slot of span @id on @fd: 0 or -errno. */
static int start(int fd, uint32_t id, uint32_t slot)
{
	return kt_op(fd, KTRACER_OP_START, id, slot, 0);
}

/*
 * Slot counts are each file's: registering again with another count
 * resizes this file's slots (EBUSY while one is open), and another file
 * keeps its own.
 */
TEST_F(reg, other_slots_resize)
{
	struct ktracer_register r;
	int64_t id;
	int fd2;

	id = kt_register(self->fd, KTRACER_KIND_SPAN, 4, "reg.slots");
	ASSERT_LT(0, id);
	ASSERT_RET(-ERANGE, start(self->fd, id, 4));
	ASSERT_EQ(id, kt_register(self->fd, KTRACER_KIND_SPAN, 5, "reg.slots"));
	ASSERT_RET(0, start(self->fd, id, 4));
	/* Open: no resizing, nothing written back. */
	reg_init(&r, KTRACER_KIND_SPAN, 3, "reg.slots");
	ASSERT_ERRNO(EBUSY, ioctl(self->fd, KTRACER_IOC_REGISTER, &r));
	EXPECT_EQ(SENTINEL_ID, r.id);
	/* The same count again changes nothing, open or not. */
	ASSERT_EQ(id, kt_register(self->fd, KTRACER_KIND_SPAN, 5, "reg.slots"));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_STOP, id, 4, 0));
	ASSERT_EQ(id, kt_register(self->fd, KTRACER_KIND_SPAN, 3, "reg.slots"));
	ASSERT_RET(-ERANGE, start(self->fd, id, 3));
	ASSERT_RET(0, start(self->fd, id, 2));

	/* Another file, another count, the same name. */
	fd2 = kt_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(id, kt_register(fd2, KTRACER_KIND_SPAN, 1, "reg.slots"));
	ASSERT_RET(0, start(fd2, id, 0));
	ASSERT_RET(-ERANGE, start(fd2, id, 1));
	ASSERT_RET(-ERANGE, start(self->fd, id, 3));
	ASSERT_RET(0, start(self->fd, id, 1));
	close(fd2);
}

/* Resizing counts against the file's KTRACER_FILE_SLOTS_MAX. */
TEST_F(reg, resize_file_slots_max)
{
	const int full = KTRACER_FILE_SLOTS_MAX / KTRACER_SLOTS_MAX;
	char name[KTRACER_NAME_MAX];
	int64_t id = 0;
	int i;

	for (i = 0; i < full; i++) {
		snprintf(name, sizeof(name), "reg.resize.%d", i);
		id = kt_register(self->fd, KTRACER_KIND_SPAN,
				 KTRACER_SLOTS_MAX - (i == full - 1), name);
		ASSERT_LT(0, id) TH_LOG("%s: %s", name, strerror(-id));
	}
	ASSERT_LT(0, kt_register(self->fd, KTRACER_KIND_SPAN, 1,
				 "reg.resize.last"));
	ASSERT_EQ(-ENOSPC, kt_register(self->fd, KTRACER_KIND_SPAN,
				       KTRACER_SLOTS_MAX, name));
	/* Smaller is always fine, and the room comes back. */
	ASSERT_EQ(id, kt_register(self->fd, KTRACER_KIND_SPAN, 1, name));
	ASSERT_EQ(id, kt_register(self->fd, KTRACER_KIND_SPAN,
				  KTRACER_SLOTS_MAX - 1, name));
	ASSERT_EQ(-ENOSPC, kt_register(self->fd, KTRACER_KIND_SPAN,
				       KTRACER_SLOTS_MAX, name));
}

TEST_F(reg, empty_name)
{
	struct ktracer_register r;

	reg_init(&r, KTRACER_KIND_GAUGE, 0, "");
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_REGISTER, &r));
	EXPECT_EQ(SENTINEL_ID, r.id);
}

/* Every byte outside 0x20-0x7e, at the start, middle or end of a name. */
TEST_F(reg, unprintable_byte)
{
	static const unsigned char bad[] = { 0x01, 0x09, 0x0a, 0x1f, 0x7f,
					     0x80, 0xc3, 0xff };
	struct ktracer_register r;
	unsigned int i, where;
	char name[16];

	for (i = 0; i < sizeof(bad); i++) {
		for (where = 0; where < 3; where++) {
			strcpy(name, "reg.bad.x");
			if (where == 0)
				name[0] = bad[i];
			else if (where == 1)
				name[4] = bad[i];
			else
				name[8] = bad[i];
			reg_init(&r, KTRACER_KIND_LOG, 0, name);
			errno = 0;
			EXPECT_EQ(-1, ioctl(self->fd, KTRACER_IOC_REGISTER, &r))
				TH_LOG("byte 0x%02x at %u accepted", bad[i],
				       where);
			EXPECT_EQ(EINVAL, errno)
				TH_LOG("byte 0x%02x at %u: %s", bad[i], where,
				       strerror(errno));
			EXPECT_EQ(SENTINEL_ID, r.id);
		}
	}
}

/* 0x20 and 0x7e are the edges of what is allowed. */
TEST_F(reg, printable_edges)
{
	int64_t id;

	id = kt_register(self->fd, KTRACER_KIND_LOG, 0, " reg.edges ~");
	ASSERT_LT(0, id) TH_LOG("register: %s", strerror(-id));
	EXPECT_EQ(1, listed(" reg.edges ~"));
}

/* KTRACER_NAME_MAX bytes without a NUL. */
TEST_F(reg, name_too_long)
{
	struct ktracer_register r;

	reg_init(&r, KTRACER_KIND_GAUGE, 0, "");
	memset(r.name, 'n', sizeof(r.name));
	ASSERT_ERRNO(ENAMETOOLONG, ioctl(self->fd, KTRACER_IOC_REGISTER, &r));
	EXPECT_EQ(SENTINEL_ID, r.id);
}

/* The longest name: KTRACER_NAME_MAX - 1 bytes and the NUL. */
TEST_F(reg, name_longest)
{
	char name[KTRACER_NAME_MAX];
	int64_t id;

	memset(name, 'L', sizeof(name) - 1);
	memcpy(name, "reg.longest.", 12);
	name[sizeof(name) - 1] = '\0';
	ASSERT_EQ(63, strlen(name));
	id = kt_register(self->fd, KTRACER_KIND_GAUGE, 0, name);
	ASSERT_LT(0, id) TH_LOG("register: %s", strerror(-id));
	EXPECT_EQ(id, kt_register(self->fd, KTRACER_KIND_GAUGE, 0, name));
	EXPECT_EQ(1, listed(name));
}

TEST_F(reg, unknown_kind)
{
	static const uint32_t bad[] = { 0, 5, 0x80000001u, UINT32_MAX };
	struct ktracer_register r;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		reg_init(&r, bad[i], 0, "reg.kind.unknown");
		ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_REGISTER, &r));
		EXPECT_EQ(SENTINEL_ID, r.id);
	}
	/* Nothing half-registered. */
	EXPECT_EQ(0, listed("reg.kind.unknown"));
}

TEST_F(reg, span_slots)
{
	struct ktracer_register r;
	int64_t id;

	reg_init(&r, KTRACER_KIND_SPAN, 0, "reg.span.slots0");
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_REGISTER, &r));
	reg_init(&r, KTRACER_KIND_SPAN, KTRACER_SLOTS_MAX + 1,
		 "reg.span.slots_over");
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_REGISTER, &r));
	reg_init(&r, KTRACER_KIND_SPAN, UINT32_MAX, "reg.span.slots_over");
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_REGISTER, &r));
	EXPECT_EQ(SENTINEL_ID, r.id);
	EXPECT_EQ(0, listed("reg.span.slots0"));
	EXPECT_EQ(0, listed("reg.span.slots_over"));

	id = kt_register(self->fd, KTRACER_KIND_SPAN, KTRACER_SLOTS_MAX,
			 "reg.span.slots_max");
	ASSERT_LT(0, id) TH_LOG("register: %s", strerror(-id));
	id = kt_register(self->fd, KTRACER_KIND_SPAN, 1, "reg.span.slots1");
	ASSERT_LT(0, id) TH_LOG("register: %s", strerror(-id));
}

/* Only spans have slots. */
TEST_F(reg, nonspan_slots)
{
	static const uint32_t kinds[] = { KTRACER_KIND_GAUGE,
					  KTRACER_KIND_COUNTER,
					  KTRACER_KIND_LOG };
	struct ktracer_register r;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		reg_init(&r, kinds[i], 1, "reg.nonspan.slots");
		ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_REGISTER, &r));
		reg_init(&r, kinds[i], KTRACER_SLOTS_MAX, "reg.nonspan.slots");
		ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_REGISTER, &r));
		EXPECT_EQ(SENTINEL_ID, r.id);
	}
	EXPECT_EQ(0, listed("reg.nonspan.slots"));
}

TEST_F(reg, flags_reserved)
{
	struct ktracer_register r;

	reg_init(&r, KTRACER_KIND_GAUGE, 0, "reg.flags");
	r.flags = 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_REGISTER, &r));
	r.flags = 1u << 31;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_REGISTER, &r));
	r.flags = 0;
	r.__reserved = 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_REGISTER, &r));
	EXPECT_EQ(SENTINEL_ID, r.id);
	EXPECT_EQ(0, listed("reg.flags"));
}

TEST_F(reg, wrong_size)
{
	static const uint32_t bad[] = { 0, KTRACER_REGISTER_SIZE_VER0 - 8,
					KTRACER_REGISTER_SIZE_VER0 - 1,
					KTRACER_ARG_SIZE_MAX + 1 };
	struct ktracer_register r;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		reg_init(&r, KTRACER_KIND_GAUGE, 0, "reg.size");
		r.size = bad[i];
		ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_REGISTER, &r));
		EXPECT_EQ(SENTINEL_ID, r.id);
	}
	EXPECT_EQ(0, listed("reg.size"));
}

/* A newer caller's larger struct: works if the extra bytes are zero. */
TEST_F(reg, larger_struct)
{
	struct {
		struct ktracer_register r;
		uint64_t future[2];
	} big;
	int64_t id;

	memset(&big, 0, sizeof(big));
	reg_init(&big.r, KTRACER_KIND_GAUGE, 0, "reg.larger");
	big.r.size = sizeof(big);
	big.future[1] = 1;
	ASSERT_ERRNO(E2BIG, ioctl(self->fd, KTRACER_IOC_REGISTER, &big));
	EXPECT_EQ(SENTINEL_ID, big.r.id);
	EXPECT_EQ(0, listed("reg.larger"));

	big.future[1] = 0;
	ASSERT_EQ(0, ioctl(self->fd, KTRACER_IOC_REGISTER, &big));
	EXPECT_EQ(KTRACER_REGISTER_SIZE_VER0, big.r.size);
	EXPECT_EQ(0, big.future[0]);
	EXPECT_EQ(0, big.future[1]);
	id = kt_register(self->fd, KTRACER_KIND_GAUGE, 0, "reg.larger");
	EXPECT_EQ(id, big.r.id);
}

TEST_F(reg, bad_pointer)
{
	void *none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);
	struct ktracer_register *ro;

	ASSERT_NE(MAP_FAILED, none);
	ASSERT_ERRNO(EFAULT, ioctl(self->fd, KTRACER_IOC_REGISTER, NULL));
	ASSERT_ERRNO(EFAULT, ioctl(self->fd, KTRACER_IOC_REGISTER, none));
	munmap(none, 4096);

	/* Readable, but the id cannot be written back. */
	ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	reg_init(ro, KTRACER_KIND_GAUGE, 0, "reg.readonly");
	ASSERT_EQ(0, mprotect(ro, 4096, PROT_READ));
	ASSERT_ERRNO(EFAULT, ioctl(self->fd, KTRACER_IOC_REGISTER, ro));
	EXPECT_EQ(SENTINEL_ID, ro->id);
	munmap(ro, 4096);
}

/* The events file lists each name once, as registered. */
TEST_F(reg, events_file)
{
	static const struct {
		uint32_t kind, slots;
		const char *word, *name;
	} ev[] = {
		{ KTRACER_KIND_SPAN, 3, "span", "reg.events.span" },
		{ KTRACER_KIND_GAUGE, 0, "gauge", "reg.events.gauge" },
		{ KTRACER_KIND_COUNTER, 0, "counter", "reg.events.counter" },
		{ KTRACER_KIND_LOG, 0, "log", "reg.events.log" },
	};
	const struct kt_event_line *e;
	struct kt_event_line *v;
	int64_t id[4];
	int i, j, n, fd2;

	fd2 = kt_open();
	ASSERT_LE(0, fd2);
	for (i = 0; i < 4; i++) {
		id[i] = kt_register(self->fd, ev[i].kind, ev[i].slots,
				    ev[i].name);
		ASSERT_LT(0, id[i]);
		/* Twice, from two files: still one line. */
		ASSERT_EQ(id[i], kt_register(fd2, ev[i].kind, ev[i].slots,
					     ev[i].name));
	}
	close(fd2);

	n = kt_events_read(&v);
	ASSERT_LT(0, n) TH_LOG("events: %s", strerror(-n));
	for (i = 0; i < 4; i++) {
		e = kt_events_find(v, n, ev[i].name);
		ASSERT_NE(NULL, e) TH_LOG("%s not listed", ev[i].name);
		EXPECT_EQ(id[i], e->id);
		EXPECT_STREQ(ev[i].word, e->kind);
		EXPECT_EQ(ev[i].slots, e->slots);
		EXPECT_EQ(0, e->uid);	/* root's */
	}
	for (i = 0; i < n; i++) {
		EXPECT_NE(0, v[i].id);
		EXPECT_GE(KTRACER_EVENT_ID_MAX, v[i].id);
		if (strcmp(v[i].kind, "span"))
			EXPECT_EQ(0, v[i].slots);
		/* A name is once in the table for each owner. */
		for (j = 0; j < i; j++) {
			EXPECT_NE(v[j].id, v[i].id);
			if (v[j].uid == v[i].uid)
				EXPECT_STRNE(v[j].name, v[i].name);
		}
	}
	free(v);
}

static int64_t reg_root_owned;	/* root's id of "reg.owned" */

/* As uid 65534: "reg.owned" is its own name, the kernel's are nobody's. */
static void reg_as_user(int unused)
{
	int fd = kt_open();
	int64_t id;

	if (fd < 0)
		_exit(2);
	/* Another kind than root's: not EEXIST, another event. */
	id = kt_register(fd, KTRACER_KIND_GAUGE, 0, "reg.owned");
	if (id < 0)
		_exit(id == -EEXIST ? 3 : 4);
	if (id == reg_root_owned)
		_exit(5);
	if (kt_register(fd, KTRACER_KIND_GAUGE, 0, "reg.owned") != id)
		_exit(6);
	if (kt_register(fd, KTRACER_KIND_SPAN, 1, "irq") != -EEXIST)
		_exit(7);
	_exit(0);
}

TEST_F(reg, names_per_user)
{
	int ret;

	reg_root_owned = kt_register(self->fd, KTRACER_KIND_COUNTER, 0,
				     "reg.owned");
	ASSERT_LT(0, reg_root_owned);
	ASSERT_EQ(0, chmod(KTRACER_DEVICE, 0666));
	ret = kt_run_unprivileged(reg_as_user, -1);
	EXPECT_EQ(0, chmod(KTRACER_DEVICE, 0600));
	EXPECT_EQ(0, ret) TH_LOG("3: EEXIST, root's name taken; 5: root's id");
	/* Root's is untouched: same kind, same id. */
	EXPECT_EQ(reg_root_owned, kt_register(self->fd, KTRACER_KIND_COUNTER,
					      0, "reg.owned"));
}

TEST_HARNESS_MAIN
