// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of records to trace events: every kind of event, the tracks they
 * go on, names, and what the reader does with spans that never finish.
 * Every document made is checked by check_json.py, which also checks that
 * spans nest on every track.
 */

#include <stdlib.h>
#include <sys/stat.h>

#include "sysfs.h"

#include <asm/unistd.h>

#include "tests.h"

#define EV_QUERY	20	/* span, 4 slots */
#define EV_DEPTH	21	/* gauge */
#define EV_BYTES	22	/* counter */
#define EV_AUDIT	23	/* log */
#define EV_ONE		24	/* span, 1 slot */

static void ku_names(struct ku_pipe *p)
{
	kr_names_set(p->names, EV_QUERY, KTRACER_KIND_SPAN, 4, "db.query", 8);
	kr_names_set(p->names, EV_DEPTH, KTRACER_KIND_GAUGE, 0, "queue.depth", 11);
	kr_names_set(p->names, EV_BYTES, KTRACER_KIND_COUNTER, 0, "bytes", 5);
	kr_names_set(p->names, EV_AUDIT, KTRACER_KIND_LOG, 0, "audit", 5);
	kr_names_set(p->names, EV_ONE, KTRACER_KIND_SPAN, 1, "tick", 4);
}

static void ku_start(struct ku_pipe *p, const struct ku_pipe_cfg *cfg)
{
	ku_pipe_init(p, cfg);
	ku_names(p);
}

#define US(x)	((uint64_t)(x) * 1000)

void model_user_spans(void)
{
	struct ku_pipe p;
	struct ku_pipe_cfg cfg = { .ncpu = 2 };
	const char *doc;

	ku_start(&p, &cfg);
	/* pid 100, two threads; slot 0 twice, slot 1 once across CPUs */
	ku_put(&p, 0, KTRACER_REC_START, EV_QUERY, US(1000), 100, 101, 0, 7, 0);
	ku_put(&p, 1, KTRACER_REC_START, EV_QUERY, US(1001), 100, 102, 1, 8, 0);
	ku_put(&p, 0, KTRACER_REC_STOP, EV_QUERY, US(1022), 100, 101, 0, 70, US(22));
	/* START on CPU 0, STOP on CPU 1: the merge puts them in order */
	ku_put(&p, 0, KTRACER_REC_START, EV_QUERY, US(1030), 100, 101, 0, 9, 0);
	ku_put(&p, 1, KTRACER_REC_STOP, EV_QUERY, US(1035), 100, 102, 1, 80, US(34));
	ku_put(&p, 1, KTRACER_REC_STOP, EV_QUERY, US(1040), 100, 103, 0, 90, US(10));
	ku_put(&p, 0, KTRACER_REC_START, EV_ONE, US(1041), 100, 101, 0, 0, 0);
	ku_put(&p, 0, KTRACER_REC_STOP, EV_ONE, US(1042), 100, 101, 0, 0, US(1));
	doc = ku_pipe_end(&p);
	CHECK(ku_json_valid("model_user_spans", doc, strlen(doc)));
	/*
	 * Tasks: async slices, "b" on the thread that started, "e" on the
	 * one that stopped, one id per (process, event, slot); ts relative
	 * to the first record, µs.ns.
	 */
	CHECK_HAS(doc, "{\"ph\":\"b\",\"pid\":100,\"tid\":101,\"ts\":0.000,\"name\":\"db.query\",\"cat\":\"task\",\"id\":1073741824,\"args\":{\"slot\":0,\"arg\":7,\"tid\":101,\"stop_arg\":70}}");
	CHECK_HAS(doc, "{\"ph\":\"e\",\"pid\":100,\"tid\":101,\"ts\":22.000,\"name\":\"db.query\",\"cat\":\"task\",\"id\":1073741824}");
	CHECK_HAS(doc, "\"ts\":1.000,\"name\":\"db.query\",\"cat\":\"task\",\"id\":1073741825,\"args\":{\"slot\":1,\"arg\":8,\"tid\":102,\"stop_arg\":80}}");
	/* started on one thread, stopped on another */
	CHECK_HAS(doc, "{\"ph\":\"b\",\"pid\":100,\"tid\":101,\"ts\":30.000,\"name\":\"db.query\",\"cat\":\"task\",\"id\":1073741824,\"args\":{\"slot\":0,\"arg\":9,\"tid\":101,\"stop_tid\":103,\"stop_arg\":90}}");
	CHECK_HAS(doc, "{\"ph\":\"e\",\"pid\":100,\"tid\":103,\"ts\":40.000,\"name\":\"db.query\",\"cat\":\"task\",\"id\":1073741824}");
	CHECK_HAS(doc, "\"name\":\"tick\",\"cat\":\"task\",\"id\":1073741826,");
	/* no thread tracks of their own: async tracks are named by name */
	CHECK_EQ(ku_count(doc, "\"name\":\"thread_sort_index\""), 0);
	CHECK_EQ(ku_count(doc, "\"name\":\"thread_name\""), 0);
	/* the process, named from (made-up) /proc */
	CHECK_HAS(doc, "{\"ph\":\"M\",\"pid\":100,\"tid\":100,\"name\":\"process_name\",\"args\":{\"name\":\"comm-100\"}}");
	CHECK_EQ(ku_count(doc, "\"process_name\""), 1);
	CHECK_EQ(ku_count(doc, "\"ph\":\"b\""), 4);
	CHECK_EQ(ku_count(doc, "\"ph\":\"e\""), 4);
	CHECK_EQ(kr_model_stats(p.model)->spans, 4);
	CHECK_EQ(kr_model_stats(p.model)->open_at_end, 0);
	ku_pipe_free(&p);
}

void model_two_tracers_one_slot(void)
{
	struct ku_pipe p;
	struct ku_pipe_cfg cfg = { .ncpu = 1 };
	const char *doc;
	unsigned int i;

	ku_start(&p, &cfg);
	/* Two files of one process both open slot 0: they overlap. */
	ku_put(&p, 0, KTRACER_REC_START, EV_QUERY, US(100), 5, 5, 0, 1, 0);
	ku_put(&p, 0, KTRACER_REC_START, EV_QUERY, US(110), 5, 6, 0, 2, 0);
	ku_put(&p, 0, KTRACER_REC_STOP, EV_QUERY, US(120), 5, 5, 0, 0, US(20));
	ku_put(&p, 0, KTRACER_REC_STOP, EV_QUERY, US(130), 5, 6, 0, 0, US(20));
	/* Then STOPs lost: nine STARTs on one slot, no STOP. */
	for (i = 0; i < 9; i++)
		ku_put(&p, 0, KTRACER_REC_START, EV_QUERY, US(200 + i), 5, 5, 2,
		       i, 0);
	doc = ku_pipe_end(&p);
	CHECK(ku_json_valid("model_two_tracers", doc, strlen(doc)));
	/* the second with an id of its own, each matched by its extra */
	CHECK_HAS(doc, "{\"ph\":\"b\",\"pid\":5,\"tid\":5,\"ts\":0.000,\"name\":\"db.query\",\"cat\":\"task\",\"id\":1073741824,\"args\":{\"slot\":0,\"arg\":1,");
	CHECK_HAS(doc, "{\"ph\":\"e\",\"pid\":5,\"tid\":5,\"ts\":20.000,\"name\":\"db.query\",\"cat\":\"task\",\"id\":1073741824}");
	CHECK_HAS(doc, "{\"ph\":\"b\",\"pid\":5,\"tid\":6,\"ts\":10.000,\"name\":\"db.query\",\"cat\":\"task\",\"id\":1073741825,\"args\":{\"slot\":0,\"arg\":2,");
	CHECK_HAS(doc, "{\"ph\":\"e\",\"pid\":5,\"tid\":6,\"ts\":30.000,\"name\":\"db.query\",\"cat\":\"task\",\"id\":1073741825}");
	/* eight ids for slot 2, then the oldest is cut: stop_lost */
	CHECK_HAS(doc, "\"id\":1073741833,");
	CHECK_HASNT(doc, "\"id\":1073741834,");
	CHECK_EQ(ku_count(doc, "\"stop_lost\":true"), 1);
	CHECK_HAS(doc, "{\"ph\":\"b\",\"pid\":5,\"tid\":5,\"ts\":100.000,\"name\":\"db.query\",\"cat\":\"task\",\"id\":1073741826,\"args\":{\"slot\":2,\"arg\":0,\"tid\":5,\"stop_lost\":true}}");
	CHECK_HAS(doc, "{\"ph\":\"e\",\"pid\":5,\"tid\":5,\"ts\":108.000,\"name\":\"db.query\",\"cat\":\"task\",\"id\":1073741826}");
	CHECK_EQ(ku_count(doc, "\"open\":true"), 8);
	CHECK_EQ(kr_model_stats(p.model)->open_at_end, 8);
	ku_pipe_free(&p);
}

void model_cancelled_and_open(void)
{
	struct ku_pipe p;
	struct ku_pipe_cfg cfg = { .ncpu = 2 };
	const char *doc;

	ku_start(&p, &cfg);
	ku_put(&p, 0, KTRACER_REC_START, EV_QUERY, US(10), 9, 9, 0, 1, 0);
	ku_put(&p, 0, KTRACER_REC_START, EV_QUERY, US(11), 9, 9, 1, 2, 0);
	ku_put(&p, 0, KTRACER_REC_START, EV_QUERY, US(12), 9, 9, 3, 3, 0);
	ku_put(&p, 1, KTRACER_REC_CANCEL, EV_QUERY, US(15), 9, 9, 0, 0, US(5));
	/* the file closed: CANCEL with CLOSE */
	ku_put_msg(&p, 1, KTRACER_REC_CANCEL, KTRACER_RECF_CLOSE, EV_QUERY,
		   US(16), 9, 9, 1, 0, US(5), NULL, 0);
	ku_put(&p, 0, KTRACER_REC_GAUGE, EV_DEPTH, US(50), 9, 9, 0, 1, 0);
	doc = ku_pipe_end(&p);
	CHECK(ku_json_valid("model_cancelled", doc, strlen(doc)));
	CHECK_HAS(doc, "\"ts\":0.000,\"name\":\"db.query\",\"cat\":\"task\",\"id\":1073741824,\"args\":{\"slot\":0,\"arg\":1,\"tid\":9,\"cancelled\":true}}");
	CHECK_HAS(doc, "\"ts\":5.000,\"name\":\"db.query\",\"cat\":\"task\",\"id\":1073741824}");
	CHECK_HAS(doc, "\"ts\":1.000,\"name\":\"db.query\",\"cat\":\"task\",\"id\":1073741825,\"args\":{\"slot\":1,\"arg\":2,\"tid\":9,\"cancelled\":true,\"closed\":true}}");
	/* slot 3 never stopped: drawn to the last record, flagged open */
	CHECK_HAS(doc, "\"ts\":2.000,\"name\":\"db.query\",\"cat\":\"task\",\"id\":1073741826,\"args\":{\"slot\":3,\"arg\":3,\"tid\":9,\"open\":true}}");
	CHECK_HAS(doc, "\"ts\":40.000,\"name\":\"db.query\",\"cat\":\"task\",\"id\":1073741826}");
	CHECK_EQ(kr_model_stats(p.model)->cancelled, 2);
	CHECK_EQ(kr_model_stats(p.model)->spans, 0);
	CHECK_EQ(kr_model_stats(p.model)->open_at_end, 1);
	ku_pipe_free(&p);
}

void model_stop_without_start(void)
{
	struct ku_pipe p;
	struct ku_pipe_cfg cfg = { .ncpu = 1 };
	const char *doc;

	ku_start(&p, &cfg);
	/* Its START came before the reader: drawn from STOP's extra. */
	ku_put(&p, 0, KTRACER_REC_STOP, EV_QUERY, US(100), 3, 4, 0, 5, US(30));
	ku_put(&p, 0, KTRACER_REC_START, EV_QUERY, US(110), 3, 4, 0, 6, 0);
	ku_put(&p, 0, KTRACER_REC_STOP, EV_QUERY, US(120), 3, 4, 0, 7, US(10));
	/* One that overlaps the span drawn before goes on a track of its own */
	ku_put(&p, 0, KTRACER_REC_STOP, EV_QUERY, US(125), 3, 4, 0, 8, US(50));
	doc = ku_pipe_end(&p);
	CHECK(ku_json_valid("model_stop_unseen", doc, strlen(doc)));
	CHECK_HAS(doc, "{\"ph\":\"b\",\"pid\":3,\"tid\":4,\"ts\":-30.000,\"name\":\"db.query\",\"cat\":\"task\",\"id\":1073741824,\"args\":{\"slot\":0,\"tid\":4,\"start_unseen\":true,\"stop_arg\":5}}");
	CHECK_HAS(doc, "{\"ph\":\"e\",\"pid\":3,\"tid\":4,\"ts\":0.000,");
	CHECK_HAS(doc, "\"ts\":10.000,\"name\":\"db.query\",\"cat\":\"task\",\"id\":1073741824,");
	/* its own id: 1073741825 */
	CHECK_HAS(doc, "\"ts\":-25.000,\"name\":\"db.query\",\"cat\":\"task\",\"id\":1073741825,");
	CHECK_EQ(ku_count(doc, "\"ph\":\"b\""), 3);
	CHECK_EQ(kr_model_stats(p.model)->skipped[KR_BAD_OVERLAP], 0);
	ku_pipe_free(&p);
}

void model_gauges_counters_logs(void)
{
	struct ku_pipe p;
	struct ku_pipe_cfg cfg = { .ncpu = 2 };
	const char *doc;

	ku_start(&p, &cfg);
	ku_put(&p, 0, KTRACER_REC_GAUGE, EV_DEPTH, US(1), 50, 51, 0, 12, 0);
	ku_put(&p, 1, KTRACER_REC_GAUGE, EV_DEPTH, US(2), 50, 52, 0,
	       (uint64_t)-3, 0);
	ku_put(&p, 0, KTRACER_REC_COUNT, EV_BYTES, US(3), 50, 51, 0, 100, 100);
	ku_put(&p, 1, KTRACER_REC_COUNT, EV_BYTES, US(4), 50, 52, 0, 20, 120);
	ku_put_msg(&p, 0, KTRACER_REC_LOG, 0, EV_AUDIT, US(5), 50, 51, 0, 0, 0,
		   "user \"x\" logged in\n", 19);
	doc = ku_pipe_end(&p);
	CHECK(ku_json_valid("model_values", doc, strlen(doc)));
	CHECK_HAS(doc, "{\"ph\":\"C\",\"pid\":50,\"ts\":0.000,\"name\":\"queue.depth\",\"args\":{\"value\":12}}");
	CHECK_HAS(doc, "\"name\":\"queue.depth\",\"args\":{\"value\":-3}}");
	/* a counter's track shows its running total */
	CHECK_HAS(doc, "\"ts\":3.000,\"name\":\"bytes\",\"args\":{\"value\":120}}");
	/* a log: an instant on its thread's own track, named by its comm */
	CHECK_HAS(doc, "{\"ph\":\"i\",\"s\":\"t\",\"pid\":50,\"tid\":51,\"ts\":4.000,\"name\":\"audit\",\"args\":{\"msg\":\"user \\\"x\\\" logged in\\n\"}}");
	CHECK_HAS(doc, "\"pid\":50,\"tid\":51,\"name\":\"thread_name\",\"args\":{\"name\":\"comm-51\"}");
	ku_pipe_free(&p);
}

static bool ku_kput(struct ku_pipe *p, unsigned int cpu, uint8_t type,
		    uint32_t event, uint64_t ts, uint32_t pid, uint32_t tid,
		    uint32_t slot, uint64_t arg, uint64_t extra, const char *msg)
{
	return ku_put_msg(p, cpu, type, KTRACER_RECF_KERNEL, event, ts, pid,
			  tid, slot, arg, extra, msg,
			  msg ? (uint32_t)strlen(msg) : 0);
}

void model_kernel_cpu_tracks(void)
{
	struct ku_pipe p;
	struct ku_pipe_cfg cfg = { .ncpu = 2 };
	const char *doc;

	ku_start(&p, &cfg);
	p.no_comm = true;	/* names come from the records only */
	ku_kput(&p, 0, KTRACER_REC_START, KTRACER_KEV_RUNNING, US(10), 200, 200, 0, 120, 0, "server");
	ku_kput(&p, 0, KTRACER_REC_START, KTRACER_KEV_IRQ, US(12), 200, 200, 0, 33, 0, "eth0");
	ku_kput(&p, 0, KTRACER_REC_STOP, KTRACER_KEV_IRQ, US(13), 200, 200, 0, 33, US(1), NULL);
	ku_kput(&p, 0, KTRACER_REC_START, KTRACER_KEV_SOFTIRQ, US(13), 200, 200, 0, 3, 0, NULL);
	ku_kput(&p, 0, KTRACER_REC_STOP, KTRACER_KEV_SOFTIRQ, US(15), 200, 200, 0, 3, US(2), NULL);
	ku_kput(&p, 0, KTRACER_REC_STOP, KTRACER_KEV_RUNNING, US(20), 200, 200, 0, 1, US(10), NULL);
	ku_kput(&p, 0, KTRACER_REC_START, KTRACER_KEV_RUNNING, US(20), 200, 201, 0, 120, 0, "worker");
	/* CPU 1: a task whose START was before the reader */
	ku_kput(&p, 1, KTRACER_REC_STOP, KTRACER_KEV_RUNNING, US(25), 200, 201, 1, 0, US(5), NULL);
	/* CPU 0: next START without the STOP (lost): the span is cut */
	ku_kput(&p, 0, KTRACER_REC_START, KTRACER_KEV_RUNNING, US(30), 300, 300, 0, 100, 0, "other");
	doc = ku_pipe_end(&p);
	CHECK(ku_json_valid("model_kernel_cpu", doc, strlen(doc)));
	CHECK_HAS(doc, "{\"ph\":\"M\",\"pid\":2146435072,\"tid\":2146435072,\"name\":\"process_name\",\"args\":{\"name\":\"kernel\"}}");
	CHECK_HAS(doc, "\"tid\":2146435073,\"name\":\"thread_name\",\"args\":{\"name\":\"cpu 0\"}");
	CHECK_HAS(doc, "\"tid\":2146435074,\"name\":\"thread_name\",\"args\":{\"name\":\"cpu 0 irq\"}");
	CHECK_HAS(doc, "\"tid\":2146435075,\"name\":\"thread_name\",\"args\":{\"name\":\"cpu 0 softirq\"}");
	CHECK_HAS(doc, "\"tid\":2146435077,\"name\":\"thread_name\",\"args\":{\"name\":\"cpu 1\"}");
	CHECK_HAS(doc, "{\"ph\":\"B\",\"pid\":2146435072,\"tid\":2146435073,\"ts\":0.000,\"name\":\"server\",\"cat\":\"sched\",\"args\":{\"pid\":200,\"tid\":200,\"prio\":120,\"state\":1}}");
	CHECK_HAS(doc, "{\"ph\":\"E\",\"pid\":2146435072,\"tid\":2146435073,\"ts\":10.000,\"name\":\"server\",\"cat\":\"sched\",\"args\":{\"pid\":200,\"tid\":200,\"prio\":120,\"state\":1}}");
	CHECK_HAS(doc, "\"ts\":2.000,\"name\":\"eth0\",\"cat\":\"irq\",\"args\":{\"irq\":33}}");
	CHECK_HAS(doc, "\"ts\":3.000,\"name\":\"eth0\",\"cat\":\"irq\",\"args\":{\"irq\":33}}");
	CHECK_HAS(doc, "\"ts\":3.000,\"name\":\"softirq NET_RX\",\"cat\":\"softirq\",\"args\":{\"vec\":3}}");
	CHECK_HAS(doc, "\"ts\":5.000,\"name\":\"softirq NET_RX\",\"cat\":\"softirq\",\"args\":{\"vec\":3}}");
	/* CPU 1's span named by the comm a record told for tid 201 */
	CHECK_HAS(doc, "\"ts\":10.000,\"name\":\"worker\",\"cat\":\"sched\",\"args\":{\"pid\":200,\"tid\":201,\"prio\":0,\"state\":0,\"start_unseen\":true}}");
	CHECK_HAS(doc, "\"ts\":15.000,\"name\":\"worker\",\"cat\":\"sched\",\"args\":{\"pid\":200,\"tid\":201,\"prio\":0,\"state\":0,\"start_unseen\":true}}");
	CHECK_HAS(doc, "\"ts\":10.000,\"name\":\"worker\",\"cat\":\"sched\",\"args\":{\"pid\":200,\"tid\":201,\"prio\":120,\"stop_lost\":true}}");
	CHECK_HAS(doc, "\"ts\":20.000,\"name\":\"worker\",\"cat\":\"sched\",\"args\":{\"pid\":200,\"tid\":201,\"prio\":120,\"stop_lost\":true}}");
	/* of no duration: an instant */
	CHECK_HAS(doc, "{\"ph\":\"i\",\"s\":\"t\",\"pid\":2146435072,\"tid\":2146435073,\"ts\":20.000,\"name\":\"other\",\"cat\":\"sched\",\"args\":{\"pid\":300,\"tid\":300,\"prio\":100,\"open\":true}}");
	/* a pair: "B", then its "E" right after, the same name and args */
	CHECK_EQ(ku_count(doc, "\"ph\":\"X\""), 0);
	CHECK_EQ(ku_count(doc, "\"ph\":\"B\""), ku_count(doc, "\"ph\":\"E\""));
	ku_pipe_free(&p);
}

/* A SWITCH of @cpu from prev @ppid/@ptid to next @pid/@tid (uapi). */
static void ku_switch(struct ku_pipe *p, unsigned int cpu, uint64_t ts,
		      uint32_t ppid, uint32_t ptid, uint32_t state,
		      uint64_t ran, uint32_t pid, uint32_t tid, uint32_t prio,
		      const char *comm)
{
	struct ktracer_switch sw = { .prev_state = state, .next_prio = prio };

	memcpy(sw.next_comm, comm, strnlen(comm, sizeof(sw.next_comm)));
	ku_put_msg(p, cpu, KTRACER_REC_SWITCH, KTRACER_RECF_KERNEL,
		   KTRACER_KEV_RUNNING, ts, pid, tid, cpu,
		   (uint64_t)ppid << 32 | ptid, ran, &sw, sizeof(sw));
}

/*
 * One schedule, as SCHED wrote it before SWITCH records (@split) or with
 * them: the same trace and metrics, but for the records counted.
 */
static char *ku_schedule(bool split, bool metrics, uint64_t *records,
			 uint64_t *skipped)
{
	struct ku_pipe p;
	struct ku_pipe_cfg cfg = { .ncpu = 2, .metrics = metrics,
				   .no_trace = metrics };
	/* 16 bytes, no NUL: the whole field */
	static const char full[] = "0123456789abcdef";
	const struct kr_model_stats *st;
	unsigned int i;
	char *doc;

	ku_start(&p, &cfg);
	p.no_comm = true;
	ku_kput(&p, 0, KTRACER_REC_START, KTRACER_KEV_RUNNING, US(10), 200, 200, 0, 120, 0, "server");
	if (split) {
		ku_kput(&p, 0, KTRACER_REC_STOP, KTRACER_KEV_RUNNING, US(20), 200, 200, 0, 1, US(10), NULL);
		ku_kput(&p, 0, KTRACER_REC_START, KTRACER_KEV_RUNNING, US(20), 200, 201, 0, 110, 0, "worker");
		ku_kput(&p, 0, KTRACER_REC_STOP, KTRACER_KEV_RUNNING, US(25), 200, 201, 0, 0, US(5), NULL);
		ku_kput(&p, 0, KTRACER_REC_START, KTRACER_KEV_RUNNING, US(25), 300, 300, 0, 139, 0, full);
		/* CPU 1: prev's START before the reader: its span still drawn */
		ku_kput(&p, 1, KTRACER_REC_STOP, KTRACER_KEV_RUNNING, US(30), 400, 401, 1, 1, US(7), NULL);
		ku_kput(&p, 1, KTRACER_REC_START, KTRACER_KEV_RUNNING, US(30), 500, 500, 1, 100, 0, "bg");
	} else {
		ku_switch(&p, 0, US(20), 200, 200, 1, US(10), 200, 201, 110, "worker");
		ku_switch(&p, 0, US(25), 200, 201, 0, US(5), 300, 300, 139, full);
		ku_switch(&p, 1, US(30), 400, 401, 1, US(7), 500, 500, 100, "bg");
	}
	ku_kput(&p, 0, KTRACER_REC_STOP, KTRACER_KEV_RUNNING, US(40), 300, 300, 0, 2, US(15), NULL);
	ku_kput(&p, 1, KTRACER_REC_STOP, KTRACER_KEV_RUNNING, US(41), 500, 500, 1, 1, US(11), NULL);
	ku_pipe_end(&p);
	st = kr_model_stats(p.model);
	*records = st->records;
	*skipped = 0;
	for (i = 1; i < KR_BAD__NR; i++)
		*skipped += st->skipped[i];
	doc = strdup(metrics ? ku_buf_str(&p.dgrams) : ku_buf_str(&p.doc));
	ku_pipe_free(&p);
	return doc;
}

/* @doc up to @stop (the first on its own), or all of it. */
static size_t ku_upto(const char *doc, const char *stop)
{
	const char *at = strstr(doc, stop);

	return at ? (size_t)(at - doc) : strlen(doc);
}

void model_switch_split(void)
{
	uint64_t rec[2], skip[2];
	char *a, *b;
	size_t n;

	/* The trace: the same bytes, the summary's record count aside. */
	a = ku_schedule(true, false, &rec[0], &skip[0]);
	b = ku_schedule(false, false, &rec[1], &skip[1]);
	CHECK(a && b);
	CHECK(ku_json_valid("model_switch", b, strlen(b)));
	CHECK_EQ(rec[0], 9);
	CHECK_EQ(rec[1], 6);
	CHECK_EQ(skip[0], 0);
	CHECK_EQ(skip[1], 0);
	n = ku_upto(a, "\"records\":");
	CHECK_EQ(n, ku_upto(b, "\"records\":"));
	CHECK(!strncmp(a, b, n));
	CHECK_HAS(b, "\"ts\":10.000,\"name\":\"worker\",\"cat\":\"sched\",\"args\":{\"pid\":200,\"tid\":201,\"prio\":110,\"state\":0}}");
	CHECK_HAS(b, "\"ts\":15.000,\"name\":\"0123456789abcdef\",\"cat\":\"sched\",\"args\":{\"pid\":300,\"tid\":300,\"prio\":139,\"state\":2}}");
	CHECK_HAS(b, "\"args\":{\"pid\":400,\"tid\":401,\"prio\":0,\"state\":1,\"start_unseen\":true}}");
	free(a);
	free(b);

	/* The metrics: the same, the reader's count of records aside. */
	a = ku_schedule(true, true, &rec[0], &skip[0]);
	b = ku_schedule(false, true, &rec[1], &skip[1]);
	CHECK(a && b);
	n = ku_upto(a, "kt.reader.read:");
	CHECK_EQ(n, ku_upto(b, "kt.reader.read:"));
	CHECK(!strncmp(a, b, n));
	CHECK_HAS(a, "kt.reader.read:9|c");
	CHECK_HAS(b, "kt.reader.read:6|c");
	CHECK_HAS(b, "kt.sched.running_us.count:5|c");
	free(a);
	free(b);
}

/* SWITCH records that are not what the kernel writes: left out, counted. */
void model_switch_bad(void)
{
	struct ku_pipe p;
	struct ku_pipe_cfg cfg = { .ncpu = 2 };
	struct ktracer_switch sw = { .prev_state = 1, .next_prio = 120,
				     .next_comm = "x" };
	const struct kr_model_stats *st;
	const char *doc;

	ku_start(&p, &cfg);
	ku_kput(&p, 0, KTRACER_REC_START, KTRACER_KEV_RUNNING, US(1), 1, 1, 0, 120, 0, "a");
	/* the struct cut short */
	ku_put_msg(&p, 0, KTRACER_REC_SWITCH, KTRACER_RECF_KERNEL,
		   KTRACER_KEV_RUNNING, US(2), 2, 2, 0, 1ull << 32 | 1, US(1),
		   &sw, sizeof(sw) - 8);
	/* a CPU the buffers do not have */
	ku_put_msg(&p, 0, KTRACER_REC_SWITCH, KTRACER_RECF_KERNEL,
		   KTRACER_KEV_RUNNING, US(3), 2, 2, 7, 1ull << 32 | 1, US(2),
		   &sw, sizeof(sw));
	/* not the kernel's; of another kernel event */
	ku_put_msg(&p, 0, KTRACER_REC_SWITCH, 0, EV_QUERY, US(4), 2, 2, 0,
		   1ull << 32 | 1, US(3), &sw, sizeof(sw));
	ku_put_msg(&p, 0, KTRACER_REC_SWITCH, KTRACER_RECF_KERNEL,
		   KTRACER_KEV_IRQ, US(5), 2, 2, 0, 1ull << 32 | 1, US(4),
		   &sw, sizeof(sw));
	ku_kput(&p, 0, KTRACER_REC_STOP, KTRACER_KEV_RUNNING, US(6), 1, 1, 0, 1, US(5), NULL);
	doc = ku_pipe_end(&p);
	CHECK(ku_json_valid("model_switch_bad", doc, strlen(doc)));
	st = kr_model_stats(p.model);
	CHECK_EQ(st->skipped[KR_BAD_PAYLOAD], 1);
	CHECK_EQ(st->skipped[KR_BAD_SLOT], 1);
	CHECK_EQ(st->skipped[KR_BAD_KIND], 2);
	/* the span of "a" whole, 1 to 6 */
	CHECK_HAS(doc, "\"ts\":5.000,\"name\":\"a\",\"cat\":\"sched\",\"args\":{\"pid\":1,\"tid\":1,\"prio\":120,\"state\":1}}");
	CHECK_EQ(st->spans, 1);
	ku_pipe_free(&p);
}

void model_syscalls_and_tasks(void)
{
	struct ku_pipe p;
	struct ku_pipe_cfg cfg = { .ncpu = 2 };
	const char *doc;

	ku_start(&p, &cfg);
	/* read(2) enters on CPU 0, returns on CPU 1 after a migration */
	ku_kput(&p, 0, KTRACER_REC_START, KTRACER_KEV_SYSCALL, US(100), 70, 71, 0, 0, 0, NULL);
	ku_kput(&p, 1, KTRACER_REC_STOP, KTRACER_KEV_SYSCALL, US(150), 70, 71, 0, (uint64_t)-11, 0, NULL);
	/* a STOP of a call entered before the reader: left out */
	ku_kput(&p, 1, KTRACER_REC_STOP, KTRACER_KEV_SYSCALL, US(160), 70, 72, 0, 0, 0, NULL);
	ku_kput(&p, 0, KTRACER_REC_START, KTRACER_KEV_SYSCALL, US(170), 70, 72, 0, 99999, 0, NULL);
	ku_kput(&p, 0, KTRACER_REC_LOG, KTRACER_KEV_FORK, US(180), 80, 80, 0, 71, 70, "server");
	ku_kput(&p, 0, KTRACER_REC_LOG, KTRACER_KEV_EXEC, US(181), 80, 80, 0, 80, 0, "sh");
	ku_kput(&p, 1, KTRACER_REC_LOG, KTRACER_KEV_WAKEUP, US(182), 70, 71, 0, 80, 1, "server");
	ku_kput(&p, 1, KTRACER_REC_LOG, KTRACER_KEV_EXIT, US(183), 80, 80, 0, 0, 0, "sh");
	doc = ku_pipe_end(&p);
	CHECK(ku_json_valid("model_syscalls", doc, strlen(doc)));
	CHECK_HAS(doc, "{\"ph\":\"B\",\"pid\":70,\"tid\":71,\"ts\":0.000,\"name\":\"read\",\"cat\":\"syscall\",\"args\":{\"nr\":0,\"ret\":-11}}");
	CHECK_HAS(doc, "{\"ph\":\"E\",\"pid\":70,\"tid\":71,\"ts\":50.000,\"name\":\"read\",\"cat\":\"syscall\",\"args\":{\"nr\":0,\"ret\":-11}}");
	CHECK_HAS(doc, "\"name\":\"syscall 99999\",\"cat\":\"syscall\",\"args\":{\"nr\":99999,\"open\":true}}");
	CHECK_EQ(kr_model_stats(p.model)->skipped[KR_BAD_UNPAIRED], 1);
	CHECK_HAS(doc, "{\"ph\":\"i\",\"s\":\"t\",\"pid\":80,\"tid\":80,\"ts\":80.000,\"name\":\"task.fork\",\"cat\":\"task\",\"args\":{\"parent_tid\":71,\"parent_pid\":70,\"comm\":\"server\"}}");
	CHECK_HAS(doc, "\"name\":\"task.exec\",\"cat\":\"task\",\"args\":{\"old_tid\":80,\"comm\":\"sh\"}}");
	CHECK_HAS(doc, "\"name\":\"sched.wakeup\",\"cat\":\"sched\",\"args\":{\"waker_tid\":80,\"cpu\":1,\"comm\":\"server\"}}");
	CHECK_HAS(doc, "\"name\":\"task.exit\",\"cat\":\"task\",\"args\":{\"exit_code\":0,\"comm\":\"sh\"}}");
	/* exec renamed process 80: its name follows */
	CHECK_HAS(doc, "\"pid\":80,\"tid\":80,\"name\":\"process_name\",\"args\":{\"name\":\"server\"}}");
	CHECK_HAS(doc, "\"pid\":80,\"tid\":80,\"name\":\"process_name\",\"args\":{\"name\":\"sh\"}}");
	ku_pipe_free(&p);
}

/*
 * exit() and exit_group() never return: they end at the thread's
 * task.exit, or without one are an instant, never a bar to the end.
 */
void model_exit_syscalls(void)
{
	struct ku_pipe p;
	struct ku_pipe_cfg cfg = { .ncpu = 1 };
	const char *doc;

	ku_start(&p, &cfg);
	ku_kput(&p, 0, KTRACER_REC_START, KTRACER_KEV_SYSCALL, US(100), 70, 71, 0, __NR_exit_group, 0, NULL);
	ku_kput(&p, 0, KTRACER_REC_LOG, KTRACER_KEV_EXIT, US(130), 70, 71, 0, 3, 0, "app");
	ku_kput(&p, 0, KTRACER_REC_START, KTRACER_KEV_SYSCALL, US(200), 70, 72, 0, __NR_exit, 0, NULL);
	ku_kput(&p, 0, KTRACER_REC_START, KTRACER_KEV_SYSCALL, US(210), 70, 73, 0, __NR_read, 0, NULL);
	ku_kput(&p, 0, KTRACER_REC_LOG, KTRACER_KEV_WAKEUP, US(900), 70, 73, 0, 1, 0, "app");
	doc = ku_pipe_end(&p);
	CHECK(ku_json_valid("model_exit_syscalls", doc, strlen(doc)));
	CHECK_HAS(doc, "{\"ph\":\"E\",\"pid\":70,\"tid\":71,\"ts\":30.000,\"name\":\"exit_group\",\"cat\":\"syscall\",\"args\":{\"nr\":231,\"exited\":true}}");
	CHECK_HAS(doc, "{\"ph\":\"i\",\"s\":\"t\",\"pid\":70,\"tid\":72,\"ts\":100.000,\"name\":\"exit\",\"cat\":\"syscall\",\"args\":{\"nr\":60,\"no_return\":true}}");
	/* a call that returns, left open, still runs to the end */
	CHECK_HAS(doc, "{\"ph\":\"E\",\"pid\":70,\"tid\":73,\"ts\":800.000,\"name\":\"read\",\"cat\":\"syscall\",\"args\":{\"nr\":0,\"open\":true}}");
	CHECK_EQ(kr_model_stats(p.model)->open_at_end, 1);
	ku_pipe_free(&p);
}

static void ku_block(struct ku_pipe *p, unsigned int cpu, uint8_t type,
		     uint64_t ts, uint32_t slot, uint64_t sector, uint32_t op,
		     int32_t error, uint64_t extra)
{
	struct ktracer_block b = { .dev = 8 << 20 | 16, .op = op,
				   .sector = sector, .bytes = 4096,
				   .error = error };

	ku_put_msg(p, cpu, type, KTRACER_RECF_KERNEL, KTRACER_KEV_BLOCK, ts,
		   60, 61, slot, 0, extra, &b, sizeof(b));
}

void model_block_devices(void)
{
	struct ku_pipe p;
	struct ku_pipe_cfg cfg = { .ncpu = 2 };
	const char *doc;

	ku_start(&p, &cfg);
	/* three requests in flight at once on sdb: three tracks */
	ku_block(&p, 0, KTRACER_REC_START, US(10), 5, 100, 1, 0, 0);
	ku_block(&p, 0, KTRACER_REC_START, US(11), 9, 200, 0, 0, 0);
	ku_block(&p, 1, KTRACER_REC_STOP, US(20), 5, 100, 1, 0, US(10));
	ku_block(&p, 0, KTRACER_REC_START, US(21), 7, 300, 2, 0, 0);
	ku_block(&p, 1, KTRACER_REC_STOP, US(30), 9, 200, 0, -5, US(19));
	/* a completion of a request issued before the reader */
	ku_block(&p, 1, KTRACER_REC_STOP, US(40), 3, 900, 0, 0, US(35));
	/* a message that is not a struct ktracer_block: left out */
	ku_put_msg(&p, 0, KTRACER_REC_START, KTRACER_RECF_KERNEL,
		   KTRACER_KEV_BLOCK, US(41), 1, 1, 1, 0, 0, "xx", 2);
	doc = ku_pipe_end(&p);
	CHECK(ku_json_valid("model_block", doc, strlen(doc)));
	CHECK_HAS(doc, "\"name\":\"thread_name\",\"args\":{\"name\":\"block 8:16\"}");
	CHECK_HAS(doc, "\"name\":\"thread_name\",\"args\":{\"name\":\"block 8:16 #1\"}");
	CHECK_HAS(doc, "{\"ph\":\"B\",\"pid\":2146435072,\"tid\":2146959360,\"ts\":0.000,\"name\":\"write\",\"cat\":\"block\",\"args\":{\"dev\":\"8:16\",\"sector\":100,\"bytes\":4096,\"error\":0,\"pid\":60,\"tid\":61}}");
	CHECK_HAS(doc, "{\"ph\":\"E\",\"pid\":2146435072,\"tid\":2146959360,\"ts\":10.000,\"name\":\"write\",\"cat\":\"block\",\"args\":{\"dev\":\"8:16\",\"sector\":100,\"bytes\":4096,\"error\":0,\"pid\":60,\"tid\":61}}");
	CHECK_HAS(doc, "\"tid\":2146959361,\"ts\":1.000,\"name\":\"read\",\"cat\":\"block\",\"args\":{\"dev\":\"8:16\",\"sector\":200,\"bytes\":4096,\"error\":-5,");
	CHECK_HAS(doc, "\"tid\":2146959361,\"ts\":20.000,\"name\":\"read\",\"cat\":\"block\",\"args\":{\"dev\":\"8:16\",\"sector\":200,\"bytes\":4096,\"error\":-5,");
	CHECK_HAS(doc, "\"name\":\"flush\",\"cat\":\"block\",\"args\":{\"dev\":\"8:16\",\"sector\":300,\"bytes\":4096,\"pid\":60,\"tid\":61,\"open\":true}}");
	CHECK_HAS(doc, "\"ts\":-5.000,\"name\":\"read\",\"cat\":\"block\",\"args\":{\"dev\":\"8:16\",\"sector\":900,\"bytes\":4096,\"error\":0,\"pid\":60,\"tid\":61,\"start_unseen\":true}}");
	CHECK_HAS(doc, "\"ts\":30.000,\"name\":\"read\",\"cat\":\"block\",\"args\":{\"dev\":\"8:16\",\"sector\":900,\"bytes\":4096,\"error\":0,\"pid\":60,\"tid\":61,\"start_unseen\":true}}");
	CHECK_EQ(kr_model_stats(p.model)->skipped[KR_BAD_PAYLOAD], 1);
	ku_pipe_free(&p);
}

/* Write @text to @dir/@name, making the directories on the way. */
static void ku_write_file(const char *dir, const char *name, const char *text)
{
	char path[512], *s;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	for (s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		mkdir(path, 0755);
		*s = '/';
	}
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
}

static void ku_block_on(struct ku_pipe *p, uint32_t dev, uint8_t type,
			uint64_t ts, uint32_t slot, uint64_t extra)
{
	struct ktracer_block b = { .dev = dev, .op = 1, .sector = 8,
				   .bytes = 512 };

	ku_put_msg(p, 0, type, KTRACER_RECF_KERNEL, KTRACER_KEV_BLOCK, ts,
		   60, 61, slot, 0, extra, &b, sizeof(b));
}

/*
 * Block devices' tracks are named from sysfs (DEVNAME= of
 * dev/block/MAJ:MIN/uevent under $KTRACER_SYSFS), MAJ:MIN without one.
 */
void model_block_names(void)
{
	const char *out = getenv("KR_TEST_OUT");
	struct ku_pipe p;
	struct ku_pipe_cfg cfg = { .ncpu = 1 };
	char root[400], name[KR_DEVNAME_MAX];
	const char *doc;

	snprintf(root, sizeof(root), "%s/sysfs", out ? out : ".");
	ku_write_file(root, "dev/block/251:0/uevent",
		      "MAJOR=251\nMINOR=0\nDEVNAME=nullb0\nDEVTYPE=disk\n");
	ku_write_file(root, "dev/block/8:17/uevent",
		      "MAJOR=8\nMINOR=17\nDEVNAME=sdb1\nDEVTYPE=partition\n");
	ku_write_file(root, "dev/block/7:0/uevent", "MAJOR=7\nMINOR=0\n");
	ku_write_file(root, "dev/block/7:1/uevent",
		      "DEVNAME=a name longer than thirty-two bytes, cut\n");
	CHECK_EQ(kr_sysfs_devname(root, 251 << 20, name), 6);
	CHECK(!memcmp(name, "nullb0", 6));
	CHECK_EQ(kr_sysfs_devname(root, 7 << 20, name), 0);
	CHECK_EQ(kr_sysfs_devname(root, 9 << 20 | 3, name), 0);
	CHECK_EQ(kr_sysfs_devname(root, 7 << 20 | 1, name), KR_DEVNAME_MAX);
	CHECK(setenv("KTRACER_SYSFS", root, 1) == 0);
	CHECK(!strcmp(kr_sysfs_root(), root));
	CHECK(setenv("KTRACER_SYSFS", "", 1) == 0);
	CHECK(!strcmp(kr_sysfs_root(), "/sys"));
	unsetenv("KTRACER_SYSFS");
	CHECK(!strcmp(kr_sysfs_root(), "/sys"));

	cfg.sysfs = root;
	ku_start(&p, &cfg);
	ku_block_on(&p, 251 << 20, KTRACER_REC_START, US(1), 0, 0);
	ku_block_on(&p, 251 << 20, KTRACER_REC_START, US(2), 1, 0);
	ku_block_on(&p, 8 << 20 | 17, KTRACER_REC_START, US(3), 2, 0);
	ku_block_on(&p, 7 << 20, KTRACER_REC_START, US(4), 3, 0);
	ku_block_on(&p, 9 << 20 | 3, KTRACER_REC_START, US(5), 4, 0);
	ku_block_on(&p, 251 << 20, KTRACER_REC_STOP, US(6), 0, US(5));
	ku_block_on(&p, 251 << 20, KTRACER_REC_STOP, US(7), 1, US(5));
	doc = ku_pipe_end(&p);
	CHECK(ku_json_valid("model_block_names", doc, strlen(doc)));
	CHECK_HAS(doc, "\"name\":\"thread_name\",\"args\":{\"name\":\"block nullb0\"}");
	CHECK_HAS(doc, "\"name\":\"thread_name\",\"args\":{\"name\":\"block nullb0 #1\"}");
	CHECK_HAS(doc, "\"name\":\"thread_name\",\"args\":{\"name\":\"block sdb1\"}");
	/* no DEVNAME=, no uevent at all: MAJ:MIN */
	CHECK_HAS(doc, "\"name\":\"thread_name\",\"args\":{\"name\":\"block 7:0\"}");
	CHECK_HAS(doc, "\"name\":\"thread_name\",\"args\":{\"name\":\"block 9:3\"}");
	/* the events still say which device, exactly */
	CHECK_HAS(doc, "\"name\":\"write\",\"cat\":\"block\",\"args\":{\"dev\":\"251:0\",");
	CHECK_EQ(ku_count(doc, "\"name\":\"block "), 5);
	ku_pipe_free(&p);
}

void model_lost_markers(void)
{
	struct ku_pipe p;
	struct ku_pipe_cfg cfg = { .ncpu = 2, .ring_size = 8192 };
	const char *doc;
	unsigned int i, dropped = 0;

	ku_start(&p, &cfg);
	ku_put(&p, 0, KTRACER_REC_GAUGE, EV_DEPTH, US(1), 5, 5, 0, 1, 0);
	/* CPU 1 overflows: its buffer holds 170 records of 48 bytes */
	for (i = 0; i < 400; i++)
		dropped += !ku_put(&p, 1, KTRACER_REC_GAUGE, EV_DEPTH,
				   US(2) + i, 5, 5, 0, i, 0);
	ku_pipe_read(&p);
	ku_put(&p, 1, KTRACER_REC_GAUGE, EV_DEPTH, US(3), 5, 5, 0, 1000, 0);
	doc = ku_pipe_end(&p);
	CHECK(dropped > 0);
	CHECK(ku_json_valid("model_lost", doc, strlen(doc)));
	{
		char want[160];

		snprintf(want, sizeof(want),
			 "{\"ph\":\"i\",\"s\":\"t\",\"pid\":2146435072,\"tid\":2146435077,\"ts\":2.000,\"name\":\"[lost %u events]\",\"cat\":\"lost\",\"args\":{\"lost\":%u,\"cpu\":1}}",
			 dropped, dropped);
		CHECK_HAS(doc, want);
	}
	CHECK_HAS(doc, "\"args\":{\"name\":\"cpu 1\"}");
	CHECK_EQ(kr_model_stats(p.model)->lost, dropped);
	ku_pipe_free(&p);
}

/*
 * Records dropped after the last record a CPU wrote: no LOST record
 * follows them in the stream, the meta counter tells them at the end.
 */
void model_lost_at_end(void)
{
	struct ku_pipe p;
	struct ku_pipe_cfg cfg = { .ncpu = 2, .ring_size = 8192,
				   .metrics = true };
	const char *doc, *d;
	unsigned int i, dropped = 0;
	char want[200];

	ku_start(&p, &cfg);
	/* CPU 1 fills up and drops, and writes nothing after */
	for (i = 0; i < 400; i++)
		dropped += !ku_put(&p, 1, KTRACER_REC_GAUGE, EV_DEPTH,
				   US(2) + i, 5, 5, 0, i, 0);
	/* CPU 0 goes on: the last time seen is its */
	ku_put(&p, 0, KTRACER_REC_GAUGE, EV_DEPTH, US(9), 5, 5, 0, 1, 0);
	CHECK(dropped > 0);
	CHECK_EQ(p.fr[1].meta->lost, dropped);
	CHECK_EQ(p.fr[1].lost_pending, dropped);	/* never written */
	/*
	 * CPU 0's meta page counts 7 records freed unread after all it
	 * published (overwrite mode counts them there; no LOST follows).
	 */
	ku_pipe_read(&p);
	p.fr[0].meta->overwritten += 7;
	doc = ku_pipe_end(&p);
	CHECK(ku_json_valid("model_lost_at_end", doc, strlen(doc)));
	snprintf(want, sizeof(want),
		 "{\"ph\":\"i\",\"s\":\"t\",\"pid\":2146435072,\"tid\":2146435077,\"ts\":7.000,\"name\":\"[lost %u events]\",\"cat\":\"lost\",\"args\":{\"lost\":%u,\"cpu\":1}}",
		 dropped, dropped);
	CHECK_HAS(doc, want);
	CHECK_HAS(doc, "{\"ph\":\"i\",\"s\":\"t\",\"pid\":2146435072,\"tid\":2146435073,\"ts\":7.000,\"name\":\"[lost 7 events]\",\"cat\":\"lost\",\"args\":{\"lost\":7,\"cpu\":0,\"overwritten\":true}}");
	CHECK_EQ(ku_count(doc, "[lost "), 2);		/* told once each */
	CHECK_EQ(kr_model_stats(p.model)->lost, dropped);
	CHECK_EQ(kr_model_stats(p.model)->overwritten, 7);
	CHECK_EQ(p.fr[1].ring.st.lost, dropped);
	CHECK_EQ(p.fr[0].ring.st.lost, 0);
	CHECK_EQ(p.fr[0].ring.st.overwritten, 7);
	CHECK_EQ(p.merge.late, 0);
	snprintf(want, sizeof(want), "kt.reader.lost:%u|c", dropped + 7);
	d = ku_buf_str(&p.dgrams);
	CHECK_HAS(d, want);
	ku_pipe_free(&p);
}

void model_hostile_names(void)
{
	static const char name[] = "q\"\\\x01\n\x7f\xff\xc3(\xf0\x9f\x98";
	struct ku_pipe p;
	struct ku_pipe_cfg cfg = { .ncpu = 1 };
	const char *doc;

	ku_start(&p, &cfg);
	kr_names_set(p.names, EV_QUERY, KTRACER_KIND_SPAN, 4, name,
		     sizeof(name) - 1);
	ku_put(&p, 0, KTRACER_REC_START, EV_QUERY, US(1), 1, 1, 0, 0, 0);
	ku_put(&p, 0, KTRACER_REC_STOP, EV_QUERY, US(2), 1, 1, 0, 0, US(1));
	/* comms are any bytes but NUL, up to 16 */
	ku_kput(&p, 0, KTRACER_REC_START, KTRACER_KEV_RUNNING, US(3), 1, 1, 0,
		0, 0, "\"}]\\\x1b[31m\xfe");
	ku_kput(&p, 0, KTRACER_REC_LOG, KTRACER_KEV_EXEC, US(4), 1, 1, 0, 0, 0,
		"\xe2\x80\xa8\xed\xbf\xbf");
	ku_put_msg(&p, 0, KTRACER_REC_LOG, 0, EV_AUDIT, US(5), 1, 1, 0, 0, 0,
		   "\0\0\0", 3);
	doc = ku_pipe_end(&p);
	CHECK(ku_json_valid("model_hostile", doc, strlen(doc)));
	CHECK_HAS(doc, "\"name\":\"q\\\"\\\\\\u0001\\n\\u007f\xef\xbf\xbd\xef\xbf\xbd(\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	CHECK_HAS(doc, "\"name\":\"\\\"}]\\\\\\u001b[31m\xef\xbf\xbd\"");
	CHECK_HAS(doc, "\"msg\":\"\\u0000\\u0000\\u0000\"");
	ku_pipe_free(&p);
}

void model_names_reload(void)
{
	struct ku_pipe p;
	struct ku_pipe_cfg cfg = { .ncpu = 1 };
	const char *doc;

	ku_pipe_init(&p, &cfg);
	p.reload_text = "# id kind slots uid name\n30 gauge 0 1000 late.gauge\n";
	ku_put(&p, 0, KTRACER_REC_GAUGE, 30, US(1), 1, 1, 0, 1, 0);
	ku_put(&p, 0, KTRACER_REC_GAUGE, 30, US(2), 1, 1, 0, 2, 0);
	/* an id the file never names: asked once, then "event#31" */
	ku_put(&p, 0, KTRACER_REC_GAUGE, 31, US(3), 1, 1, 0, 3, 0);
	ku_put(&p, 0, KTRACER_REC_GAUGE, 31, US(4), 1, 1, 0, 4, 0);
	doc = ku_pipe_end(&p);
	CHECK(ku_json_valid("model_reload", doc, strlen(doc)));
	CHECK_EQ(ku_count(doc, "\"name\":\"late.gauge\""), 2);
	CHECK_EQ(ku_count(doc, "\"name\":\"event#31\""), 2);
	CHECK_EQ(p.reloads, 2);
	ku_pipe_free(&p);
}

void model_bounded_tables(void)
{
	struct ku_pipe p;
	struct ku_pipe_cfg cfg = { .ncpu = 2, .max_tracks = 64,
				   .max_threads = 64 };
	const char *doc;
	uint32_t i;

	ku_start(&p, &cfg);
	/* 5000 processes each leave a span open: the table holds 64 */
	for (i = 0; i < 5000; i++) {
		ku_put(&p, i % 2, KTRACER_REC_START, EV_QUERY, US(1) + i,
		       1000 + i, 1000 + i, 0, i, 0);
		ku_put_msg(&p, i % 2, KTRACER_REC_LOG, 0, EV_AUDIT, US(1) + i,
			   1000 + i, 1000 + i, 0, 0, 0, "x", 1);
		if (i % 100 == 0)
			ku_pipe_read(&p);
	}
	doc = ku_pipe_end(&p);
	CHECK(ku_json_valid("model_bounded", doc, strlen(doc)));
	CHECK(kr_model_stats(p.model)->evicted > 4000);
	CHECK_EQ(kr_model_stats(p.model)->evicted +
		 kr_model_stats(p.model)->open_at_end, 5000);
	CHECK_EQ(ku_count(doc, "\"evicted\":true") + ku_count(doc, "\"open\":true"),
		 5000);
	ku_pipe_free(&p);
}

void model_metrics(void)
{
	struct ku_pipe p;
	struct ku_pipe_cfg cfg = { .ncpu = 2, .metrics = true,
				   .no_trace = true };
	const char *d;

	ku_start(&p, &cfg);
	ku_put(&p, 0, KTRACER_REC_START, EV_QUERY, US(10), 1, 1, 0, 0, 0);
	ku_put(&p, 0, KTRACER_REC_STOP, EV_QUERY, US(12), 1, 1, 0, 0, US(2));
	ku_put(&p, 1, KTRACER_REC_START, EV_QUERY, US(13), 1, 1, 1, 0, 0);
	ku_put(&p, 1, KTRACER_REC_STOP, EV_QUERY, US(19), 1, 1, 1, 0, US(6));
	ku_put(&p, 1, KTRACER_REC_START, EV_QUERY, US(20), 1, 1, 1, 0, 0);
	ku_put(&p, 1, KTRACER_REC_CANCEL, EV_QUERY, US(990), 1, 1, 1, 0, US(970));
	ku_put(&p, 0, KTRACER_REC_GAUGE, EV_DEPTH, US(21), 1, 1, 0, 4, 0);
	ku_put(&p, 0, KTRACER_REC_GAUGE, EV_DEPTH, US(22), 1, 1, 0, 9, 0);
	ku_put(&p, 0, KTRACER_REC_COUNT, EV_BYTES, US(23), 1, 1, 0, 10, 10);
	ku_put(&p, 1, KTRACER_REC_COUNT, EV_BYTES, US(24), 1, 1, 0, 5, 15);
	ku_kput(&p, 0, KTRACER_REC_START, KTRACER_KEV_SYSCALL, US(30), 1, 1, 0, 1, 0, NULL);
	ku_kput(&p, 0, KTRACER_REC_STOP, KTRACER_KEV_SYSCALL, US(33), 1, 1, 0, 0, 0, NULL);
	ku_pipe_end(&p);
	d = ku_buf_str(&p.dgrams);
	CHECK_EQ(ku_count(ku_buf_str(&p.doc), "ph"), 0);	/* no trace */
	/* the cancelled span (970 µs) is not in the timings */
	CHECK_HAS(d, "kt.db.query_us.min:2.000|g");
	CHECK_HAS(d, "kt.db.query_us.max:6.000|g");
	CHECK_HAS(d, "kt.db.query_us.avg:4.000|g");
	CHECK_HAS(d, "kt.db.query_us.sum:8.000|c");
	CHECK_HAS(d, "kt.db.query_us.count:2|c");
	CHECK_HAS(d, "kt.queue.depth:9|g");
	CHECK_HAS(d, "kt.bytes:15|c");
	CHECK_HAS(d, "kt.syscall_us.avg:3.000|g");
	CHECK_HAS(d, "kt.reader.read:12|c");
	CHECK_HASNT(d, "|#");
	ku_pipe_free(&p);
}
