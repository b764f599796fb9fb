// SPDX-License-Identifier: GPL-2.0
/*
 * Records, the state, meta and reader pages and debugfs never show
 * kernel pointers or bytes the kernel did not mean to write.
 *
 * New buffers (CONFIG's buffer_size, RESET) come zeroed from
 * vmalloc_user(), where a record that forgot a byte would still look
 * right. So the test first fills a buffer with the poison: LOG records
 * whose message is POISON bytes, written until the buffer is full, then
 * consumed. The records under test are then written over that stale
 * memory (the buffers stay mapped, so nothing can replace them), and
 * every byte of them that is not a field value must be zero: the padding
 * after a message, PAD records past their size and type, the members a
 * record type does not use. No record may hold four POISON bytes in a
 * row anywhere. The test also counts how many of the bytes it checks
 * held POISON, or anything but zero, before the write, and needs most of
 * them to have (most of the padding after messages: POISON): else it
 * could not fail. (A LOST record starts where the fill stopped, over an
 * old record's header: stale, but not POISON.)
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "kt_test.h"
#include "kt_ring.h"
#include "kt_seq.h"

#define POISON		0xa5
#define POISON32	0xa5a5a5a5u

FIXTURE(poison) {
	int fd;
	int cpu;
	uint32_t span, gauge, count, log, fill;
	struct kt_rings rings;
	unsigned char *snap[KT_MAX_CPUS];
	uint64_t checked;	/* zero bytes checked... */
	uint64_t were_poison;	/* ...that held POISON before */
	uint64_t were_stale;	/* ...that held anything but zero */
	uint64_t msg_checked;	/* of which after a message... */
	uint64_t msg_poison;	/* ...and held POISON */
	uint64_t records, pads, losts;
};

FIXTURE_SETUP(poison)
{
	int i;

	self->fd = kt_open();
	ASSERT_LE(0, self->fd) TH_LOG("open: %s", strerror(-self->fd));
	ASSERT_RET(0, kt_kevents_off(self->fd));
	/* Small buffers, quick to fill; DISCARD, so that the fill stops. */
	ASSERT_RET(0, kt_set_enable(self->fd, 1));
	ASSERT_RET(0, kt_config(self->fd, KTRACER_CONFIG_MODE |
				KTRACER_CONFIG_BUFFER_SIZE,
				KTRACER_MODE_DISCARD, KTRACER_BUFFER_MIN));
	self->span = kt_register_id(self->fd, KTRACER_KIND_SPAN, 4, "poison.span");
	self->gauge = kt_register_id(self->fd, KTRACER_KIND_GAUGE, 0, "poison.gauge");
	self->count = kt_register_id(self->fd, KTRACER_KIND_COUNTER, 0, "poison.count");
	self->log = kt_register_id(self->fd, KTRACER_KIND_LOG, 0, "poison.log");
	self->fill = kt_register_id(self->fd, KTRACER_KIND_LOG, 0, "poison.fill");
	ASSERT_NE(0, self->span);
	ASSERT_NE(0, self->gauge);
	ASSERT_NE(0, self->count);
	ASSERT_NE(0, self->log);
	ASSERT_NE(0, self->fill);
	ASSERT_RET(0, kt_rings_map(self->fd, &self->rings));
	ASSERT_GE(KT_MAX_CPUS, self->rings.nr);
	for (i = 0; i < self->rings.nr; i++) {
		self->snap[i] = malloc(self->rings.ring[i].data_size);
		ASSERT_NE(NULL, self->snap[i]);
	}
	self->cpu = self->rings.nr - 1;
	ASSERT_RET(0, kt_pin_cpu(self->cpu));
}

FIXTURE_TEARDOWN(poison)
{
	int i;

	for (i = 0; i < self->rings.nr; i++)
		free(self->snap[i]);
	kt_rings_unmap(&self->rings);
	if (self->fd >= 0)
		EXPECT_EQ(0, kt_close_restored(self->fd));
}

/*
 * Fill CPU @cpu's buffer with POISON messages until one is dropped, then
 * with shorter and shorter ones until those are dropped too (so that
 * less than the smallest record is left of what was there before):
 * consume them all, and keep a copy of the data. The next records are
 * written over it (after a LOST record, for the dropped ones).
 */
static void poison_cpu(struct __test_metadata *_metadata,
		       FIXTURE_DATA(poison) *self, int cpu)
{
	struct kt_ring *r = &self->rings.ring[cpu];
	unsigned char msg[KTRACER_LOG_MAX];
	uint64_t lost;
	uint32_t len;
	int i = 0;

	memset(msg, POISON, sizeof(msg));
	ASSERT_RET(0, kt_pin_cpu(cpu));
	ASSERT_LE(0, kt_ring_consume(r, NULL, NULL));
	for (len = sizeof(msg); len > 0; len -= 8) {
		lost = r->meta->lost;
		for (; r->meta->lost == lost; i++) {
			ASSERT_GT(2 * r->data_size / KT_REC_HDR, i);
			ASSERT_RET(0, kt_log(self->fd, self->fill, msg, len));
		}
	}
	ASSERT_LE(0, kt_ring_consume(r, NULL, NULL));
	memcpy(self->snap[cpu], r->data, r->data_size);
	ASSERT_RET(0, kt_pin_cpu(self->cpu));
}

static void poison_all(struct __test_metadata *_metadata,
		       FIXTURE_DATA(poison) *self)
{
	int cpu;

	for (cpu = 0; cpu < self->rings.nr; cpu++) {
		poison_cpu(_metadata, self, cpu);
		if (!__test_passed(_metadata))
			return;
	}
}

/* Bytes [from, to) of the record at @p must be zero. */
static const char *zeros(FIXTURE_DATA(poison) *self, const unsigned char *p,
			 const unsigned char *was, unsigned int from,
			 unsigned int to)
{
	unsigned int i;

	for (i = from; i < to; i++) {
		self->checked++;
		self->were_poison += was[i] == POISON;
		self->were_stale += was[i] != 0;
		if (p[i])
			return "a byte the record does not use is not zero";
	}
	return NULL;
}

/* Member @m of struct ktracer_record, as a byte range, must be zero. */
#define ZERO_MEMBER(m) zeros(self, p, was, offsetof(struct ktracer_record, m), \
	offsetof(struct ktracer_record, m) + sizeof(((struct ktracer_record *)0)->m))

/* What is wrong with the record at @p (whose old bytes are @was), or NULL. */
static const char *check_record(FIXTURE_DATA(poison) *self,
				const unsigned char *p,
				const unsigned char *was)
{
	const struct ktracer_record *h = (const void *)p;
	unsigned int i, padded;
	const char *why = NULL;
	uint32_t w;

	for (i = 0; i + 4 <= h->size; i += 4) {
		memcpy(&w, p + i, 4);
		if (w == POISON32)
			return "POISON bytes in a record";
	}
	if (h->type == KTRACER_REC_PAD) {
		self->pads++;
		/* Past size and type, a PAD is zeros. */
		return zeros(self, p, was, 3, h->size);
	}
	if (h->type == KTRACER_REC_LOST) {
		self->losts++;
		why = zeros(self, p, was, 3, 8);	/* flags, event */
		why = why ?: ZERO_MEMBER(pid);
		why = why ?: ZERO_MEMBER(tid);
		why = why ?: ZERO_MEMBER(slot);
		why = why ?: ZERO_MEMBER(len);
		return why ?: ZERO_MEMBER(extra);
	}
	self->records++;
	switch (h->type) {
	case KTRACER_REC_START:
		if (!(h->flags & KTRACER_RECF_KERNEL))
			why = ZERO_MEMBER(extra);
		break;
	case KTRACER_REC_CANCEL:
		why = ZERO_MEMBER(arg);
		break;
	case KTRACER_REC_GAUGE:
		why = ZERO_MEMBER(extra);
		/* fallthrough */
	case KTRACER_REC_COUNT:
		why = why ?: ZERO_MEMBER(slot);
		break;
	case KTRACER_REC_LOG:
		why = ZERO_MEMBER(slot);
		if (!(h->flags & KTRACER_RECF_KERNEL)) {
			why = why ?: ZERO_MEMBER(arg);
			why = why ?: ZERO_MEMBER(extra);
		}
		break;
	}
	if (why)
		return why;
	if (!h->len)
		return ZERO_MEMBER(len) ?: h->size == KT_REC_HDR ? NULL :
		       "size is not the header's";
	padded = (h->len + 7) & ~7u;
	if (h->size != KT_REC_HDR + padded)
		return "size does not match len";
	for (i = KT_REC_HDR + h->len; i < h->size; i++) {
		self->msg_checked++;
		self->msg_poison += was[i] == POISON;
	}
	return zeros(self, p, was, KT_REC_HDR + h->len, h->size);
}

/*
 * Walk CPU @cpu's unread records byte by byte (PAD included), check each
 * against the copy taken before they were written, then consume them
 * through the protocol (which checks their format too).
 */
static void check_cpu(struct __test_metadata *_metadata,
		      FIXTURE_DATA(poison) *self, int cpu)
{
	struct kt_ring *r = &self->rings.ring[cpu];
	uint64_t tail = r->reader->tail, head = r->meta->head, pos;
	const struct ktracer_record *h;
	const char *why;
	unsigned int size;

	for (pos = tail; pos < head; pos += size) {
		uint64_t off = pos & (r->data_size - 1);

		h = (const void *)(r->data + off);
		size = h->size;
		ASSERT_TRUE(size >= 8 && size % 8 == 0 &&
			    off + size <= r->data_size && pos + size <= head)
			TH_LOG("cpu %d: bad size %u at %llu", cpu, size,
			       (unsigned long long)pos);
		why = check_record(self, r->data + off, self->snap[cpu] + off);
		if (why)
			kt_rec_dump(r, pos, tail, head, why);
		ASSERT_EQ(NULL, why) TH_LOG("cpu %d at %llu: %s", cpu,
					    (unsigned long long)pos, why);
	}
	ASSERT_LE(0, kt_ring_consume(r, NULL, NULL));
}

static void check_all(struct __test_metadata *_metadata,
		      FIXTURE_DATA(poison) *self)
{
	int cpu;

	for (cpu = 0; cpu < self->rings.nr; cpu++) {
		check_cpu(_metadata, self, cpu);
		if (!__test_passed(_metadata))
			return;
	}
}

/*
 * Most checked bytes held something else just before (POISON, mostly):
 * the test could fail.
 */
static void report(struct __test_metadata *_metadata,
		   FIXTURE_DATA(poison) *self)
{
	TH_LOG("%llu records, %llu PAD, %llu LOST; %llu zero bytes checked: %llu held POISON before, %llu not zero; %llu after messages: %llu held POISON",
	       (unsigned long long)self->records,
	       (unsigned long long)self->pads,
	       (unsigned long long)self->losts,
	       (unsigned long long)self->checked,
	       (unsigned long long)self->were_poison,
	       (unsigned long long)self->were_stale,
	       (unsigned long long)self->msg_checked,
	       (unsigned long long)self->msg_poison);
	EXPECT_LT(0, self->losts);
	EXPECT_LT(0, self->msg_checked);
	EXPECT_LT(self->checked / 2, self->were_stale);
	EXPECT_LT(self->msg_checked / 2, self->msg_poison);
}

/* Every user record kind, and messages of every length. */
TEST_F(poison, user_records)
{
	char msg[KTRACER_LOG_MAX];
	uint32_t len, done;
	struct ktracer_op ops[8];
	int32_t err;
	int i, fd2;

	for (i = 0; i < (int)sizeof(msg); i++)
		msg[i] = 'a' + i % 26;

	/* Spans, a gauge, a counter, a program's time. */
	poison_cpu(_metadata, self, self->cpu);
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_START, self->span, 0, 1));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_START, self->span, 1, 2));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_STOP, self->span, 0, 3));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_CANCEL, self->span, 0, 0));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_GAUGE, self->gauge, 0, -5));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_COUNT, self->count, 0, 7));
	ops[0] = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0, 9);
	ops[0].ts = kt_now() - 1000;
	ASSERT_RET(0, kt_do(self->fd, &ops[0]));
	check_cpu(_metadata, self, self->cpu);

	/* Messages of every length mod 8, short and long. */
	for (len = 1; len <= KTRACER_LOG_MAX; len += len < 24 ? 1 : 29) {
		poison_cpu(_metadata, self, self->cpu);
		ASSERT_RET(0, kt_log(self->fd, self->log, msg, len));
		ASSERT_RET(0, kt_log(self->fd, self->log, msg, KTRACER_LOG_MAX + 1 - len));
		check_cpu(_metadata, self, self->cpu);
	}

	/* Batches: simple ops in one block, and with a LOG among them. */
	poison_cpu(_metadata, self, self->cpu);
	for (i = 0; i < 8; i++)
		ops[i] = kt_mkop(i % 2 ? KTRACER_OP_COUNT : KTRACER_OP_GAUGE,
				 i % 2 ? self->count : self->gauge, 0, i);
	ASSERT_RET(0, kt_batch(self->fd, ops, 8, &done, &err));
	ops[3] = kt_mkop(KTRACER_OP_LOG, self->log, 0, (uintptr_t)msg);
	ops[3].len = 13;
	ops[5] = kt_mkop(KTRACER_OP_START, self->span, 2, 4);
	ops[6] = kt_mkop(KTRACER_OP_STOP, self->span, 2, 5);
	ASSERT_RET(0, kt_batch(self->fd, ops, 8, &done, &err));
	check_cpu(_metadata, self, self->cpu);

	/* A file closed with spans open: CANCEL records, CLOSE flag. */
	poison_cpu(_metadata, self, self->cpu);
	fd2 = kt_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(self->span, kt_register_id(fd2, KTRACER_KIND_SPAN, 4, "poison.span"));
	ASSERT_RET(0, kt_op(fd2, KTRACER_OP_START, self->span, 0, 1));
	ASSERT_RET(0, kt_op(fd2, KTRACER_OP_START, self->span, 3, 1));
	close(fd2);
	check_cpu(_metadata, self, self->cpu);

	/* PAD records: records that do not fit before the end of the data. */
	for (i = 0; i < 3; i++) {
		poison_cpu(_metadata, self, self->cpu);
		for (len = 0; len < 30; len++)
			ASSERT_RET(0, kt_log(self->fd, self->log, msg,
					     1 + (len * 37 + i * 11) % KTRACER_LOG_MAX));
		check_cpu(_metadata, self, self->cpu);
	}
	report(_metadata, self);
	EXPECT_LT(0, self->pads);
}

/* The kernel's own records: comms, irq handler names. */
TEST_F(poison, kernel_records)
{
	int32_t pid = getpid();
	pid_t child;
	int status, i;

	poison_all(_metadata, self);
	ASSERT_RET(0, kt_pin_cpu(0));
	ASSERT_RET(0, kt_kevents(self->fd, KTRACER_KEVENTS_SOURCES |
				 KTRACER_KEVENTS_PIDS, KTRACER_SRC_SCHED |
				 KTRACER_SRC_TASK | KTRACER_SRC_IRQ |
				 KTRACER_SRC_SOFTIRQ, &pid, 1, NULL));
	for (i = 0; i < 3; i++) {
		child = fork();
		ASSERT_LE(0, child);
		if (!child)
			_exit(0);
		ASSERT_EQ(child, waitpid(child, &status, 0));
		usleep(1000);
	}
	ASSERT_RET(0, kt_kevents_off(self->fd));
	check_all(_metadata, self);
	report(_metadata, self);
}

/* Bytes [from, to) of @p are zero. */
static bool all_zero(const void *p, size_t from, size_t to)
{
	const unsigned char *b = p;

	for (; from < to; from++)
		if (b[from])
			return false;
	return true;
}

/* Past their structs, and in their reserved members, the pages are zeros. */
TEST_F(poison, pages)
{
	const struct ktracer_state *st = self->rings.state;
	long ps = sysconf(_SC_PAGESIZE);
	int cpu;

	EXPECT_EQ(0, st->__reserved);
	EXPECT_TRUE(all_zero(st, sizeof(*st), ps));
	for (cpu = 0; cpu < self->rings.nr; cpu++) {
		const struct kt_ring *r = &self->rings.ring[cpu];

		EXPECT_EQ(0, r->meta->__reserved);
		EXPECT_TRUE(all_zero(r->meta, sizeof(*r->meta), ps))
			TH_LOG("meta page of cpu %d", cpu);
		EXPECT_TRUE(all_zero(r->reader, sizeof(*r->reader), ps))
			TH_LOG("reader page of cpu %d", cpu);
	}
}

/*
 * @s holds something like a kernel address: "ffff" then 12 more hex
 * digits, a decimal number as large as one, or what %p prints when it
 * hides one.
 */
static const char *kernel_pointer(const char *s, size_t len)
{
	size_t i, n;

	if (memmem(s, len, "ptrval", 6))
		return "ptrval";
	for (i = 0; i + 16 <= len; i++) {
		if (strncasecmp(s + i, "ffff", 4))
			continue;
		for (n = 4; i + n < len && isxdigit((unsigned char)s[i + n]); n++)
			;
		if (n >= 16)
			return s + i;
	}
	for (i = 0; i < len; i += n ? n : 1) {
		for (n = 0; i + n < len && isdigit((unsigned char)s[i + n]); n++)
			;
		if (n >= 19 && strtoull(s + i, NULL, 10) >= 0xffff800000000000ULL)
			return s + i;
	}
	return NULL;
}

/* Every debugfs file, after records of every kind: no kernel address. */
TEST_F(poison, debugfs_no_pointers)
{
	int32_t pid = getpid();
	struct dirent *de;
	char path[512];
	int files = 0;
	DIR *d;

	/* Something in every file: records, kernel ones, a pid filter. */
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_START, self->span, 0, 1));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_GAUGE, self->gauge, 0, -1));
	ASSERT_RET(0, kt_log(self->fd, self->log, "hello", 5));
	ASSERT_RET(0, kt_kevents(self->fd, KTRACER_KEVENTS_SOURCES |
				 KTRACER_KEVENTS_PIDS, KTRACER_SRC_SCHED |
				 KTRACER_SRC_TASK | KTRACER_SRC_IRQ, &pid, 1, NULL));
	usleep(10000);
	d = opendir(KT_DEBUGFS);
	ASSERT_NE(NULL, d);
	while ((de = readdir(d))) {
		const char *hit;
		struct stat sb;
		size_t len = 0;
		char *buf;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), KT_DEBUGFS "/%s", de->d_name);
		ASSERT_EQ(0, stat(path, &sb));
		if (!(sb.st_mode & 0400))
			continue;	/* reset: nothing to read */
		buf = kt_read_file(path, &len);
		EXPECT_NE(NULL, buf) TH_LOG("%s: %s", path, strerror(errno));
		if (!buf)
			continue;
		files++;
		hit = kernel_pointer(buf, len);
		EXPECT_EQ(NULL, hit) TH_LOG("%s: '%.24s'", path, hit);
		free(buf);
	}
	closedir(d);
	ASSERT_RET(0, kt_kevents_off(self->fd));
	EXPECT_LE(7, files);
}

TEST_HARNESS_MAIN
