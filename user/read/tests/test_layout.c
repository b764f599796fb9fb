// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of the trace's layout: regions nested on their thread's track
 * beside its system calls, tasks as async slices across threads, a
 * START's text as the slice's args, and slices that touch never seen to
 * overlap (check_json.py reads every document's times exactly and in
 * doubles, as speedscope does).
 */

#include "tests.h"

#define EV_REQ		30	/* span, 8 slots */
#define EV_STEP		31	/* span, 8 slots */
#define EV_JOB		32	/* span, 4 slots */
#define EV_ERR		33	/* log */

#define US(x)		((uint64_t)(x) * 1000)
#define PID		10
#define T1		11
#define T2		12

static void ku_layout_start(struct ku_pipe *p, const struct ku_pipe_cfg *cfg)
{
	ku_pipe_init(p, cfg);
	kr_names_set(p->names, EV_REQ, KTRACER_KIND_SPAN, 8, "req", 3);
	kr_names_set(p->names, EV_STEP, KTRACER_KIND_SPAN, 8, "step", 4);
	kr_names_set(p->names, EV_JOB, KTRACER_KIND_SPAN, 4, "job", 3);
	kr_names_set(p->names, EV_ERR, KTRACER_KIND_LOG, 0, "err", 3);
}

/* A region's START (@text: NULL, or @len bytes) or STOP on thread @tid. */
static void ku_region(struct ku_pipe *p, uint8_t type, uint32_t event,
		      uint64_t ts, uint32_t tid, uint32_t slot, uint64_t extra,
		      const void *text, uint32_t len)
{
	ku_put_msg(p, 0, type, KTRACER_RECF_REGION, event, ts, PID, tid, slot,
		   slot, extra, text, len);
}

static void ku_sys(struct ku_pipe *p, uint64_t from, uint64_t to, uint32_t tid)
{
	ku_put_msg(p, 1, KTRACER_REC_START, KTRACER_RECF_KERNEL,
		   KTRACER_KEV_SYSCALL, from, PID, tid, 0, 16, 0, NULL, 0);
	ku_put_msg(p, 1, KTRACER_REC_STOP, KTRACER_RECF_KERNEL,
		   KTRACER_KEV_SYSCALL, to, PID, tid, 0, 0, 0, NULL, 0);
}

void layout_regions_nested(void)
{
	struct ku_pipe p;
	struct ku_pipe_cfg cfg = { .ncpu = 2 };
	const char *doc;

	ku_layout_start(&p, &cfg);
	/* req [100, 150] holds step [110, 120] and a system call after it */
	ku_region(&p, KTRACER_REC_START, EV_REQ, US(100), T1, 0, 0, NULL, 0);
	ku_region(&p, KTRACER_REC_START, EV_STEP, US(110), T1, 1, 0, NULL, 0);
	ku_region(&p, KTRACER_REC_STOP, EV_STEP, US(120), T1, 1, US(10), NULL, 0);
	ku_sys(&p, US(125), US(130), T1);
	ku_put_msg(&p, 0, KTRACER_REC_LOG, 0, EV_ERR, US(140), PID, T1, 0, 0,
		   0, "timeout", 7);
	ku_region(&p, KTRACER_REC_STOP, EV_REQ, US(150), T1, 0, US(50), NULL, 0);
	/* T2 at the same time: its own track */
	ku_region(&p, KTRACER_REC_START, EV_REQ, US(105), T2, 2, 0, NULL, 0);
	ku_region(&p, KTRACER_REC_STOP, EV_REQ, US(115), T2, 2, US(10), NULL, 0);
	/* ops whose ts the kernel took inside a system call: moved before it */
	ku_sys(&p, US(195), US(210), T1);
	ku_region(&p, KTRACER_REC_START, EV_REQ, US(200), T1, 0, 0, NULL, 0);
	ku_sys(&p, US(300), US(310), T1);
	ku_region(&p, KTRACER_REC_STOP, EV_REQ, US(305), T1, 0, US(105), NULL, 0);
	/* an outer region ends: the inner one, its STOP lost, is cut there */
	ku_region(&p, KTRACER_REC_START, EV_REQ, US(400), T1, 0, 0, NULL, 0);
	ku_region(&p, KTRACER_REC_START, EV_STEP, US(410), T1, 1, 0, NULL, 0);
	ku_region(&p, KTRACER_REC_STOP, EV_REQ, US(420), T1, 0, US(20), NULL, 0);
	/* and its STOP, late: drawn already, left out */
	ku_region(&p, KTRACER_REC_STOP, EV_STEP, US(430), T1, 1, US(20), NULL, 0);
	doc = ku_pipe_end(&p);
	CHECK(ku_json_valid("layout_regions", doc, strlen(doc)));
	/*
	 * Slices on the thread's own track (pid, tid), beside its calls:
	 * B/E pairs, as every slice that may touch another.
	 */
	CHECK_HAS(doc, "{\"ph\":\"B\",\"pid\":10,\"tid\":11,\"ts\":0.000,\"name\":\"req\",\"args\":{\"slot\":0,\"arg\":0,\"tid\":11,\"stop_arg\":0}},\n"
		  "{\"ph\":\"E\",\"pid\":10,\"tid\":11,\"ts\":50.000,\"name\":\"req\",\"args\":{\"slot\":0,\"arg\":0,\"tid\":11,\"stop_arg\":0}}");
	CHECK_HAS(doc, "{\"ph\":\"B\",\"pid\":10,\"tid\":11,\"ts\":10.000,\"name\":\"step\",");
	CHECK_HAS(doc, "{\"ph\":\"E\",\"pid\":10,\"tid\":11,\"ts\":20.000,\"name\":\"step\",");
	CHECK_HAS(doc, "{\"ph\":\"B\",\"pid\":10,\"tid\":11,\"ts\":25.000,\"name\":\"ioctl\",\"cat\":\"syscall\"");
	CHECK_HAS(doc, "{\"ph\":\"i\",\"s\":\"t\",\"pid\":10,\"tid\":11,\"ts\":40.000,\"name\":\"err\",\"args\":{\"msg\":\"timeout\"}}");
	CHECK_HAS(doc, "{\"ph\":\"B\",\"pid\":10,\"tid\":12,\"ts\":5.000,\"name\":\"req\",");
	/* 1 ns before the calls it began and ended in */
	CHECK_HAS(doc, "{\"ph\":\"B\",\"pid\":10,\"tid\":11,\"ts\":94.999,\"name\":\"req\",");
	CHECK_HAS(doc, "{\"ph\":\"E\",\"pid\":10,\"tid\":11,\"ts\":199.999,\"name\":\"req\",");
	CHECK_HAS(doc, "{\"ph\":\"E\",\"pid\":10,\"tid\":11,\"ts\":320.000,\"name\":\"step\",\"args\":{\"slot\":1,\"arg\":1,\"tid\":11,\"stop_lost\":true}}");
	CHECK_EQ(ku_count(doc, "\"name\":\"step\""), 4);
	CHECK_EQ(ku_count(doc, "\"ph\":\"X\""), 0);
	CHECK_EQ(kr_model_stats(p.model)->skipped[KR_BAD_OVERLAP], 1);
	/* the threads and the process are named */
	CHECK_HAS(doc, "{\"ph\":\"M\",\"pid\":10,\"tid\":11,\"name\":\"thread_name\",\"args\":{\"name\":\"comm-11\"}}");
	CHECK_HAS(doc, "{\"ph\":\"M\",\"pid\":10,\"tid\":12,\"name\":\"thread_name\",\"args\":{\"name\":\"comm-12\"}}");
	CHECK_HAS(doc, "{\"ph\":\"M\",\"pid\":10,\"tid\":10,\"name\":\"process_name\",");
	CHECK_EQ(kr_model_stats(p.model)->open_at_end, 0);
	ku_pipe_free(&p);
}

void layout_task_across_threads(void)
{
	struct ku_pipe p;
	struct ku_pipe_cfg cfg = { .ncpu = 2 };
	const char *doc;

	ku_layout_start(&p, &cfg);
	/* a job queued by T1, done by T2; a second one cancelled by T2 */
	ku_put(&p, 0, KTRACER_REC_START, EV_JOB, US(10), PID, T1, 3, 1, 0);
	ku_put(&p, 1, KTRACER_REC_STOP, EV_JOB, US(30), PID, T2, 3, 2, US(20));
	ku_put(&p, 0, KTRACER_REC_START, EV_JOB, US(31), PID, T1, 3, 3, 0);
	ku_put(&p, 1, KTRACER_REC_CANCEL, EV_JOB, US(40), PID, T2, 3, 0, US(9));
	doc = ku_pipe_end(&p);
	CHECK(ku_json_valid("layout_tasks", doc, strlen(doc)));
	CHECK_HAS(doc, "{\"ph\":\"b\",\"pid\":10,\"tid\":11,\"ts\":0.000,\"name\":\"job\",\"cat\":\"task\",\"id\":1073741824,\"args\":{\"slot\":3,\"arg\":1,\"tid\":11,\"stop_tid\":12,\"stop_arg\":2}}");
	CHECK_HAS(doc, "{\"ph\":\"e\",\"pid\":10,\"tid\":12,\"ts\":20.000,\"name\":\"job\",\"cat\":\"task\",\"id\":1073741824}");
	CHECK_HAS(doc, "{\"ph\":\"b\",\"pid\":10,\"tid\":11,\"ts\":21.000,\"name\":\"job\",\"cat\":\"task\",\"id\":1073741824,\"args\":{\"slot\":3,\"arg\":3,\"tid\":11,\"stop_tid\":12,\"cancelled\":true}}");
	CHECK_HAS(doc, "{\"ph\":\"e\",\"pid\":10,\"tid\":12,\"ts\":30.000,\"name\":\"job\",\"cat\":\"task\",\"id\":1073741824}");
	/* no thread track of its own */
	CHECK_HASNT(doc, "thread_name");
	CHECK_HAS(doc, "{\"ph\":\"M\",\"pid\":10,\"tid\":10,\"name\":\"process_name\",");
	ku_pipe_free(&p);
}

void layout_text_args(void)
{
	static const unsigned char hostile[] = {
		'a', '"', 'b', '\\', 'c', '\n', 0x01, 0x1f, 0x7f, 0xff, 0xc0,
		0xe2, 0x82, 'd', 0xed, 0xa0, 0x80, 0xf0, 0x9f, 0x98, 0x80, 0,
		'e',
	};
	struct ku_pipe_cfg cfg = { .ncpu = 1, .metrics = true };
	char full[KTRACER_TEXT_MAX];
	struct ku_pipe p;
	const char *doc;

	memset(full, 'x', sizeof(full));
	ku_layout_start(&p, &cfg);
	ku_region(&p, KTRACER_REC_START, EV_REQ, US(1), T1, 0, 0, hostile,
		  sizeof(hostile));
	ku_region(&p, KTRACER_REC_STOP, EV_REQ, US(2), T1, 0, US(1), NULL, 0);
	ku_put_msg(&p, 0, KTRACER_REC_START, 0, EV_JOB, US(3), PID, T1, 0, 0,
		   0, "GET /a?b=\"c\"", 12);
	ku_put(&p, 0, KTRACER_REC_STOP, EV_JOB, US(4), PID, T1, 0, 0, US(1));
	ku_put_msg(&p, 0, KTRACER_REC_START, 0, EV_JOB, US(5), PID, T1, 1, 0,
		   0, full, sizeof(full));
	ku_put(&p, 0, KTRACER_REC_STOP, EV_JOB, US(6), PID, T1, 1, 0, US(1));
	doc = ku_pipe_end(&p);
	CHECK(ku_json_valid("layout_text", doc, strlen(doc)));
	/*
	 * RFC 8259: quote, backslash and controls escaped; bytes that are
	 * not UTF-8 (a lone 0xff, 0xc0, a cut sequence, a surrogate) become
	 * U+FFFD; valid UTF-8 (the emoji) is kept; NUL is \u0000.
	 */
	CHECK_HAS(doc, "\"text\":\"a\\\"b\\\\c\\n\\u0001\\u001f\\u007f\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
		  "d\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xf0\x9f\x98\x80\\u0000e\"}");
	CHECK_HAS(doc, "\"name\":\"job\",\"cat\":\"task\",\"id\":1073741825,\"args\":{\"slot\":0,\"arg\":0,\"tid\":11,\"stop_arg\":0,\"text\":\"GET /a?b=\\\"c\\\"\"}}");
	CHECK_EQ(ku_count(doc, "\"text\":\"xxxxxxxx"), 1);
	/* StatsD: the spans' timings, nothing of their texts */
	CHECK_HAS(ku_buf_str(&p.dgrams), "req");
	CHECK_HASNT(ku_buf_str(&p.dgrams), "GET");
	CHECK_HASNT(ku_buf_str(&p.dgrams), "xxxx");
	CHECK_HASNT(ku_buf_str(&p.dgrams), "text");
	ku_pipe_free(&p);
}

/* A pseudo-random number, for times that round badly in doubles. */
static uint64_t ku_next(uint64_t *x)
{
	*x = *x * 6364136223846793005ull + 1442695040888963407ull;
	return *x >> 33;
}

void layout_adjacent_slices(void)
{
	struct ku_pipe p;
	struct ku_pipe_cfg cfg = { .ncpu = 2, .ring_size = 1 << 20,
				   .fifo_size = 4 << 20 };
	uint64_t ts = US(1234567) + 100, x = 42;
	const char *doc;
	unsigned int i;
	char comm[16];

	ku_layout_start(&p, &cfg);
	p.no_comm = true;
	/*
	 * Switches on CPU 0 at odd ns, each task running until the next
	 * starts (STOP and START at one ts); syscalls of a thread one after
	 * the other, and nested regions whose ends touch.
	 */
	for (i = 0; i < 2000; i++) {
		uint64_t next = ts + 2 + ku_next(&x) % 3000;

		snprintf(comm, sizeof(comm), "t%u", i % 7);
		ku_put_msg(&p, 0, KTRACER_REC_START, KTRACER_RECF_KERNEL,
			   KTRACER_KEV_RUNNING, ts, 100 + i % 7, 100 + i % 7,
			   0, 120, 0, comm, (uint32_t)strlen(comm));
		ku_put_msg(&p, 0, KTRACER_REC_STOP, KTRACER_RECF_KERNEL,
			   KTRACER_KEV_RUNNING, next, 100 + i % 7, 100 + i % 7,
			   0, 1, next - ts, NULL, 0);
		ku_region(&p, KTRACER_REC_START, EV_REQ, ts, T1, 0, 0, NULL, 0);
		ku_region(&p, KTRACER_REC_START, EV_STEP, ts, T1, 1, 0, NULL, 0);
		ku_region(&p, KTRACER_REC_STOP, EV_STEP, next, T1, 1, next - ts,
			  NULL, 0);
		ku_region(&p, KTRACER_REC_STOP, EV_REQ, next, T1, 0, next - ts,
			  NULL, 0);
		if (i % 64 == 63)
			ku_pipe_read(&p);
		ts = next;
	}
	doc = ku_pipe_end(&p);
	CHECK(ku_json_valid("layout_adjacent", doc, strlen(doc)));
	CHECK_EQ(ku_count(doc, "\"ph\":\"B\""), 3 * 2000);
	CHECK_EQ(ku_count(doc, "\"ph\":\"B\",\"pid\":10,\"tid\":11,"), 2 * 2000);
	/* the inner region, begun with the outer one: 1 ns later */
	CHECK_HAS(doc, "{\"ph\":\"B\",\"pid\":10,\"tid\":11,\"ts\":0.001,\"name\":\"step\",");
	CHECK_EQ(kr_model_stats(p.model)->skipped[KR_BAD_OVERLAP], 0);
	ku_pipe_free(&p);
}

/*
 * The check can fail: slices that touch written as "X" events whose
 * ts + dur, in doubles, passes the next one's ts, as the writer once
 * wrote the CPUs' tracks.
 */
void layout_check_catches_overlap(void)
{
	static const char bad[] =
		"{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n"
		"{\"ph\":\"X\",\"pid\":1,\"tid\":2,\"ts\":0.100,\"dur\":0.200,\"name\":\"a\"},\n"
		"{\"ph\":\"X\",\"pid\":1,\"tid\":2,\"ts\":0.300,\"dur\":0.100,\"name\":\"b\"}\n"
		"],\"otherData\":{}}\n";
	static const char good[] =
		"{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n"
		"{\"ph\":\"B\",\"pid\":1,\"tid\":2,\"ts\":0.100,\"name\":\"a\"},\n"
		"{\"ph\":\"E\",\"pid\":1,\"tid\":2,\"ts\":0.300,\"name\":\"a\"},\n"
		"{\"ph\":\"B\",\"pid\":1,\"tid\":2,\"ts\":0.300,\"name\":\"b\"},\n"
		"{\"ph\":\"E\",\"pid\":1,\"tid\":2,\"ts\":0.400,\"name\":\"b\"}\n"
		"],\"otherData\":{}}\n";

	CHECK(!ku_json_valid("layout_check_bad", bad, strlen(bad)));
	CHECK(ku_json_valid("layout_check_good", good, strlen(good)));
}

/* Ids reach KTRACER_EVENT_ID_MAX: spans of the highest are still named. */
void layout_high_event_ids(void)
{
	const uint32_t hi = KTRACER_EVENT_ID_MAX, mid = 2048 + EV_REQ;
	struct ku_pipe p;
	struct ku_pipe_cfg cfg = { .ncpu = 1 };
	const char *doc;

	ku_layout_start(&p, &cfg);
	kr_names_set(p.names, hi, KTRACER_KIND_SPAN, 4, "hi", 2);
	kr_names_set(p.names, mid, KTRACER_KIND_SPAN, 4, "mid", 3);
	ku_put(&p, 0, KTRACER_REC_START, hi, US(10), PID, T1, 1, 0, 0);
	ku_put(&p, 0, KTRACER_REC_STOP, hi, US(20), PID, T1, 1, 0, US(10));
	ku_region(&p, KTRACER_REC_START, mid, US(30), T1, 2, 0, NULL, 0);
	ku_region(&p, KTRACER_REC_STOP, mid, US(40), T1, 2, US(10), NULL, 0);
	doc = ku_pipe_end(&p);
	CHECK(ku_json_valid("layout_high_ids", doc, strlen(doc)));
	CHECK_EQ(ku_count(doc, "\"name\":\"hi\""), 2);
	CHECK_EQ(ku_count(doc, "\"name\":\"mid\""), 2);
	CHECK_EQ(ku_count(doc, "\"name\":\"req\""), 0);
	ku_pipe_free(&p);
}
