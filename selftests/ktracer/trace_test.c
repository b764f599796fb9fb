// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/ktracer/trace: one line per record, in timestamp
 * order across CPUs, without consuming anything.
 *
 * Each test reads the trace, then consumes the same records through the
 * mmap protocol and checks every line against the record it shows.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdint.h>

#include "kselftest_harness.h"
#include "kt_test.h"
#include "kt_ring.h"

#define LINE_MAX_LEN	2048

FIXTURE(trace) {
	int fd;
	int cpu;
	uint32_t span, gauge, counter, log;
	char counter_name[48];
	struct kt_rings rings;
	struct kt_recs recs;
	char *text;
	char **line;
	int nlines;
	struct kt_trace_head head;	/* the text's header */
	int head_err;
};

FIXTURE_SETUP(trace)
{
	self->fd = kt_open_fresh_pinned(&self->cpu);
	ASSERT_LE(0, self->fd) TH_LOG("fresh start: %s", strerror(-self->fd));
	self->span = kt_register_id(self->fd, KTRACER_KIND_SPAN, 2,
				 "trace.test.span");
	self->gauge = kt_register_id(self->fd, KTRACER_KIND_GAUGE, 0,
				  "trace.test.gauge");
	/* Its total starts at 0 in every test. */
	snprintf(self->counter_name, sizeof(self->counter_name),
		 "trace.test.count.%d", getpid());
	self->counter = kt_register_id(self->fd, KTRACER_KIND_COUNTER, 0,
				    self->counter_name);
	self->log = kt_register_id(self->fd, KTRACER_KIND_LOG, 0,
				"trace.test.log");
	ASSERT_NE(0, self->span);
	ASSERT_NE(0, self->gauge);
	ASSERT_NE(0, self->counter);
	ASSERT_NE(0, self->log);
}

static void free_trace(FIXTURE_DATA(trace) *self)
{
	free(self->text);
	free(self->line);
	self->text = NULL;
	self->line = NULL;
	self->nlines = 0;
}

FIXTURE_TEARDOWN(trace)
{
	free_trace(self);
	kt_recs_free(&self->recs);
	kt_rings_unmap(&self->rings);
	if (self->fd >= 0) {
		EXPECT_EQ(0, kt_restore_defaults(self->fd));
		close(self->fd);
	}
}

/* Read the trace into self->text; self->line[] are its record lines. */
static int read_trace(FIXTURE_DATA(trace) *self)
{
	char *p, *nl;
	int cap = 0;

	free_trace(self);
	self->text = kt_read_file(KT_DEBUGFS "/trace", NULL);
	if (!self->text)
		return -errno;
	self->head_err = kt_trace_head(self->text, &self->head);
	for (p = self->text; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			return -EBADMSG;	/* every line ends */
		*nl = '\0';
		if (*p == '#')
			continue;
		if (self->nlines == cap) {
			char **bigger;

			cap = cap ? 2 * cap : 64;
			bigger = realloc(self->line, cap * sizeof(*bigger));
			if (!bigger)
				return -ENOMEM;
			self->line = bigger;
		}
		self->line[self->nlines++] = p;
	}
	return 0;
}

/* The whole file, for comparing two reads. */
static char *trace_text(void)
{
	return kt_read_file(KT_DEBUGFS "/trace", NULL);
}

static const char *event_name(FIXTURE_DATA(trace) *self, uint32_t id)
{
	if (id == self->span)
		return "trace.test.span";
	if (id == self->gauge)
		return "trace.test.gauge";
	if (id == self->counter)
		return self->counter_name;
	if (id == self->log)
		return "trace.test.log";
	return "?";
}

/* msg as the trace escapes it. */
static size_t escape(char *out, const unsigned char *msg, uint32_t len)
{
	size_t n = 0;
	uint32_t i;

	for (i = 0; i < len; i++) {
		if (msg[i] == '"' || msg[i] == '\\') {
			out[n++] = '\\';
			out[n++] = msg[i];
		} else if (msg[i] < 0x20 || msg[i] > 0x7e) {
			n += sprintf(out + n, "\\x%02x", msg[i]);
		} else {
			out[n++] = msg[i];
		}
	}
	out[n] = '\0';
	return n;
}

/* The line the trace shows for @rec. */
static void expected_line(FIXTURE_DATA(trace) *self, const struct kt_rec *rec,
			  char *out)
{
	const struct ktracer_record *h = &rec->hdr;
	unsigned long long sec = h->ts / KT_NSEC_PER_SEC;
	unsigned long long usec = h->ts % KT_NSEC_PER_SEC / 1000;
	char comm[KTRACER_COMM_MAX];
	int n;

	if (h->type == KTRACER_REC_LOST) {
		sprintf(out, "[%03u] %llu.%06llu [LOST %llu EVENTS]", rec->cpu,
			sec, usec, (unsigned long long)h->arg);
		return;
	}
	/* The program's threads: their comm when the trace was read. */
	kt_trace_comm(h->tid, comm);
	n = sprintf(out, "[%03u] %llu.%06llu %s-%u/%u %s ", rec->cpu, sec,
		    usec, comm, h->pid, h->tid, event_name(self, h->event));
	out += n;
	switch (h->type) {
	case KTRACER_REC_START:
		sprintf(out, "start slot=%u arg=%llu", h->slot,
			(unsigned long long)h->arg);
		break;
	case KTRACER_REC_STOP:
		sprintf(out, "stop slot=%u arg=%llu dur_ns=%llu", h->slot,
			(unsigned long long)h->arg,
			(unsigned long long)h->extra);
		break;
	case KTRACER_REC_CANCEL:
		sprintf(out, "cancel slot=%u dur_ns=%llu%s", h->slot,
			(unsigned long long)h->extra,
			h->flags & KTRACER_RECF_CLOSE ? " close" : "");
		break;
	case KTRACER_REC_GAUGE:
		sprintf(out, "gauge value=%lld", (long long)h->arg);
		break;
	case KTRACER_REC_COUNT:
		sprintf(out, "count add=%llu total=%llu",
			(unsigned long long)h->arg,
			(unsigned long long)h->extra);
		break;
	case KTRACER_REC_LOG:
		out += sprintf(out, "log msg=\"");
		out += escape(out, rec->msg, h->len);
		strcpy(out, "\"");
		break;
	default:
		strcpy(out, "?");
	}
}

/* @got is @want, but for the case of the hex digits of a \xNN escape. */
static bool same_line(const char *want, const char *got)
{
	while (*want && *got) {
		if (want[0] == '\\' && want[1] == 'x' && got[0] == '\\' &&
		    got[1] == 'x' && isxdigit(want[2]) && isxdigit(want[3])) {
			if (tolower(want[2]) != tolower(got[2]) ||
			    tolower(want[3]) != tolower(got[3]))
				return false;
			want += 4;
			got += 4;
			continue;
		}
		if (want[0] == '\\') {
			if (got[0] != '\\' || want[1] != got[1])
				return false;
			want += 2;
			got += 2;
			continue;
		}
		if (*want++ != *got++)
			return false;
	}
	return !*want && !*got;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

/* Time order; equal times in CPU, then buffer order. */
static int by_ts(const void *a, const void *b)
{
	const struct kt_rec *x = a, *y = b;

	if (x->hdr.ts != y->hdr.ts)
		return x->hdr.ts < y->hdr.ts ? -1 : 1;
	if (x->cpu != y->cpu)
		return x->cpu < y->cpu ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/*
 * Consume every record and check that the trace lines read before show
 * exactly them, in timestamp order.
 */
#define CHECK_LINES() do {						\
	char __want[LINE_MAX_LEN];					\
	size_t __i;							\
	KT_COLLECT(&self->rings, &self->recs);				\
	qsort(self->recs.v, self->recs.n, sizeof(*self->recs.v), by_ts);	\
	ASSERT_EQ(self->recs.n, self->nlines);				\
	for (__i = 0; __i < self->recs.n; __i++) {			\
		expected_line(self, &self->recs.v[__i], __want);	\
		EXPECT_TRUE(same_line(__want, self->line[__i]))		\
			TH_LOG("line %zu:\n#   want '%s'\n#   got  '%s'",	\
			       __i, __want, self->line[__i]);		\
	}								\
} while (0)

TEST_F(trace, empty)
{
	ASSERT_RET(0, read_trace(self));
	EXPECT_EQ(0, self->nlines) TH_LOG("first line: %s", self->line[0]);
	ASSERT_EQ(0, self->head_err) TH_LOG("header: %.300s", self->text);
	EXPECT_EQ(kt_nr_cpus(), (int)self->head.cpus);
	EXPECT_STREQ("discard", self->head.mode);
	EXPECT_EQ(0, self->head.records);
	EXPECT_EQ(0, self->head.written);
	EXPECT_EQ(0, self->head.lost);
}

TEST_F(trace, workload)
{
	static const char msg[] = "hello \"world\"";
	struct kt_stats st[64];
	uint64_t head, tail, read;
	const struct kt_ring *r;
	char prefix[16];
	char *once, *again;

	ASSERT_RET(0, kt_rings_map(self->fd, &self->rings));
	ASSERT_GE(64, self->rings.nr);
	r = &self->rings.ring[self->cpu];
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_START, self->span, 1, 7));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_GAUGE, self->gauge, 0,
			    (uint64_t)-5));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_COUNT, self->counter, 0, 3));
	ASSERT_RET(0, kt_log(self->fd, self->log, msg, strlen(msg)));
	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_STOP, self->span, 1, 8));

	head = r->meta->head;
	tail = r->reader->tail;
	read = r->reader->read;
	once = trace_text();
	ASSERT_NE(NULL, once);
	again = trace_text();
	ASSERT_NE(NULL, again);
	/* Reading does not consume: same text, same head, tail, read. */
	EXPECT_STREQ(once, again);
	free(once);
	free(again);
	ASSERT_RET(0, read_trace(self));
	EXPECT_EQ(head, r->meta->head);
	EXPECT_EQ(tail, r->reader->tail);
	EXPECT_EQ(read, r->reader->read);

	/* unread: the records in [tail, head). */
	ASSERT_RET(0, kt_stats_read(st, self->rings.nr));
	EXPECT_EQ(5, st[self->cpu].unread);
	EXPECT_EQ(st[self->cpu].written, st[self->cpu].read +
		  st[self->cpu].lost + st[self->cpu].overwritten +
		  st[self->cpu].unread);

	/* The header's totals, over every CPU, as stats has them. */
	ASSERT_EQ(0, self->head_err) TH_LOG("header: %.300s", self->text);
	EXPECT_EQ(5, self->head.records);
	EXPECT_EQ(5, self->head.written);
	EXPECT_EQ(0, self->head.read);
	EXPECT_EQ(0, self->head.lost);
	EXPECT_EQ(0, self->head.overwritten);
	EXPECT_EQ(self->rings.nr, (int)self->head.cpus);

	ASSERT_EQ(5, self->nlines);
	EXPECT_TRUE(ends_with(self->line[0],
			      " trace.test.span start slot=1 arg=7"))
		TH_LOG("%s", self->line[0]);
	EXPECT_TRUE(ends_with(self->line[1], " trace.test.gauge gauge value=-5"))
		TH_LOG("%s", self->line[1]);
	EXPECT_TRUE(ends_with(self->line[2], " count add=3 total=3"))
		TH_LOG("%s", self->line[2]);
	EXPECT_TRUE(ends_with(self->line[3],
			      " trace.test.log log msg=\"hello \\\"world\\\"\""))
		TH_LOG("%s", self->line[3]);
	EXPECT_NE(NULL, strstr(self->line[4],
			       " trace.test.span stop slot=1 arg=8 dur_ns="))
		TH_LOG("%s", self->line[4]);
	snprintf(prefix, sizeof(prefix), "[%03d] ", self->cpu);
	EXPECT_EQ(0, strncmp(self->line[0], prefix, strlen(prefix)))
		TH_LOG("%s", self->line[0]);

	/* And exactly: CPU, time, pid/tid, durations. */
	CHECK_LINES();
	EXPECT_EQ(KTRACER_REC_STOP, self->recs.v[4].hdr.type);
	EXPECT_EQ(3, self->recs.v[2].hdr.extra);

	/* Consumed now: the trace shows nothing, the header says so. */
	ASSERT_RET(0, read_trace(self));
	EXPECT_EQ(0, self->nlines);
	ASSERT_RET(0, self->head_err);
	EXPECT_EQ(0, self->head.records);
	EXPECT_EQ(5, self->head.written);
	EXPECT_EQ(5, self->head.read);
}

/* '"' and '\' escaped, bytes outside 0x20-0x7e as \xNN. */
TEST_F(trace, log_escapes)
{
	static const unsigned char odd[] = {
		'a', '"', 'b', '\\', 'c', 0x01, 0x7f, 0x80, 0xff, ' ', '~',
		0x00, '\\', 'x', '4', '1', '\n',
	};
	unsigned char all[KTRACER_LOG_MAX];

	memset(all, 0xff, sizeof(all));
	ASSERT_RET(0, kt_rings_map(self->fd, &self->rings));
	ASSERT_RET(0, kt_log(self->fd, self->log, odd, sizeof(odd)));
	ASSERT_RET(0, kt_log(self->fd, self->log, all, sizeof(all)));
	ASSERT_RET(0, read_trace(self));
	ASSERT_EQ(2, self->nlines);
	EXPECT_TRUE(ends_with(self->line[0],
			      " log msg=\"a\\\"b\\\\c\\x01\\x7f\\x80\\xff ~\\x00\\\\x41\\x0a\"") ||
		    ends_with(self->line[0],
			      " log msg=\"a\\\"b\\\\c\\x01\\x7F\\x80\\xFF ~\\x00\\\\x41\\x0A\""))
		TH_LOG("%s", self->line[0]);
	CHECK_LINES();
}

TEST_F(trace, cancel)
{
	int64_t span;
	int fd2;

	ASSERT_RET(0, kt_rings_map(self->fd, &self->rings));
	fd2 = kt_open();
	ASSERT_LE(0, fd2);
	span = kt_register(fd2, KTRACER_KIND_SPAN, 2, "trace.test.span");
	ASSERT_EQ(self->span, span);
	ASSERT_RET(0, kt_op(fd2, KTRACER_OP_START, span, 0, 1));
	ASSERT_RET(0, kt_op(fd2, KTRACER_OP_CANCEL, span, 0, 0));
	ASSERT_RET(0, kt_op(fd2, KTRACER_OP_START, span, 1, 2));
	ASSERT_EQ(0, close(fd2));

	ASSERT_RET(0, read_trace(self));
	ASSERT_EQ(4, self->nlines);
	EXPECT_NE(NULL, strstr(self->line[1], " trace.test.span cancel slot=0 dur_ns="))
		TH_LOG("%s", self->line[1]);
	EXPECT_FALSE(ends_with(self->line[1], " close"));
	EXPECT_NE(NULL, strstr(self->line[3], " trace.test.span cancel slot=1 dur_ns="))
		TH_LOG("%s", self->line[3]);
	EXPECT_TRUE(ends_with(self->line[3], " close"));
	CHECK_LINES();
}

/* Records of all CPUs, merged by time. */
TEST_F(trace, order_across_cpus)
{
	int nr = kt_nr_cpus(), i;

	ASSERT_RET(0, kt_rings_map(self->fd, &self->rings));
	for (i = 0; i < 8; i++) {
		ASSERT_RET(0, kt_pin_cpu(i % nr));
		ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_GAUGE, self->gauge, 0,
				    i));
	}
	ASSERT_RET(0, read_trace(self));
	ASSERT_EQ(8, self->nlines);
	for (i = 0; i < 8; i++) {
		char want[64];

		snprintf(want, sizeof(want), "[%03d] ", i % nr);
		EXPECT_EQ(0, strncmp(self->line[i], want, strlen(want)))
			TH_LOG("line %d: %s", i, self->line[i]);
		snprintf(want, sizeof(want), " gauge value=%d", i);
		EXPECT_TRUE(ends_with(self->line[i], want))
			TH_LOG("line %d: %s", i, self->line[i]);
	}
	CHECK_LINES();
}

/* Dropped records show as one LOST line, where room was found again. */
TEST_F(trace, lost)
{
	struct ktracer_op ops[100];
	struct kt_trace_head head;
	const struct kt_ring *r;
	uint64_t lost;
	char want[64];
	int i, k;

	ASSERT_RET(0, kt_config(self->fd, KTRACER_CONFIG_MODE |
				KTRACER_CONFIG_BUFFER_SIZE,
				KTRACER_MODE_DISCARD, KTRACER_BUFFER_MIN));
	/* Twice what fits. */
	for (i = 0; i < 2 * KTRACER_BUFFER_MIN / (int)KT_REC_HDR; i += k) {
		for (k = 0; k < 100; k++)
			ops[k] = kt_mkop(KTRACER_OP_GAUGE, self->gauge, 0,
					 i + k);
		ASSERT_RET(0, kt_batch(self->fd, ops, k, NULL, NULL));
	}
	ASSERT_RET(0, kt_rings_map(self->fd, &self->rings));
	r = &self->rings.ring[self->cpu];
	lost = r->meta->lost;
	ASSERT_LT(0, lost);
	ASSERT_EQ(i, r->meta->written);

	/* Read it all: room again, but no record yet to report the loss. */
	KT_COLLECT(&self->rings, &self->recs);
	ASSERT_EQ(i - lost, self->recs.n);
	ASSERT_EQ(0, r->losts);

	ASSERT_RET(0, kt_op(self->fd, KTRACER_OP_GAUGE, self->gauge, 0, 9999));
	ASSERT_RET(0, read_trace(self));
	ASSERT_RET(0, self->head_err);
	head = self->head;
	/* The totals: the records read, the lost ones, the new one. */
	EXPECT_EQ(1, head.records);
	EXPECT_EQ(i + 1, head.written);
	EXPECT_EQ(i - lost, head.read);
	EXPECT_EQ(lost, head.lost);
	EXPECT_EQ(0, head.overwritten);
	EXPECT_EQ(head.written, head.read + head.lost + head.overwritten +
		  head.records);
	EXPECT_STREQ("discard", head.mode);
	ASSERT_EQ(2, self->nlines);
	snprintf(want, sizeof(want), " [LOST %llu EVENTS]",
		 (unsigned long long)lost);
	EXPECT_TRUE(ends_with(self->line[0], want))
		TH_LOG("want '...%s', got '%s'", want, self->line[0]);
	snprintf(want, sizeof(want), "[%03d] ", self->cpu);
	EXPECT_EQ(0, strncmp(self->line[0], want, strlen(want)));
	EXPECT_TRUE(ends_with(self->line[1], " gauge value=9999"))
		TH_LOG("%s", self->line[1]);
	CHECK_LINES();
	EXPECT_EQ(KTRACER_REC_LOST, self->recs.v[0].hdr.type);
}

TEST_HARNESS_MAIN
