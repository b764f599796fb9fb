// SPDX-License-Identifier: GPL-2.0
/* Tests of the StatsD aggregator: lines, datagrams, tags, resets. */

#include <errno.h>
#include <stdlib.h>

#include "tests.h"

struct ku_net {
	struct ku_buf all;	/* datagrams, each ended by "\n--\n" */
	unsigned int n, max_len;
	int fail;		/* errno for sends to fail with */
	bool split;		/* a datagram did not end on a whole line */
};

static int ku_net_send(void *ctx, const void *buf, size_t len)
{
	struct ku_net *net = ctx;
	const char *s = buf;

	if (net->fail)
		return net->fail;
	net->n++;
	if (len > net->max_len)
		net->max_len = (unsigned int)len;
	if (!len || s[len - 1] == '\n' || s[0] == '\n')
		net->split = true;
	ku_buf_write(&net->all, buf, len);
	ku_buf_write(&net->all, "\n--\n", 4);
	return 0;
}

static void ku_statsd(struct kr_statsd *s, struct ku_net *net, bool tags,
		      FILE *log)
{
	struct kr_statsd_cfg cfg = {
		.prefix = "ktracer.", .tags = tags, .host = "web-1",
		.send = ku_net_send, .ctx = net, .log = log,
		.dest = "127.0.0.1:8125",
	};

	memset(net, 0, sizeof(*net));
	CHECK(!kr_statsd_init(s, &cfg));
}

void statsd_span_lines(void)
{
	struct kr_statsd s;
	struct ku_net net;
	const char *d;

	ku_statsd(&s, &net, false, NULL);
	kr_statsd_span(&s, 20, "db.query", 8, 1, 1500);
	kr_statsd_span(&s, 20, "db.query", 8, 2, 4500);
	kr_statsd_span(&s, 20, "db.query", 8, 1, 3001);
	CHECK_EQ(kr_statsd_emit(&s), 0);
	d = ku_buf_str(&net.all);
	CHECK(!strcmp(d, "ktracer.db.query_us.min:1.500|g\n"
			 "ktracer.db.query_us.max:4.500|g\n"
			 "ktracer.db.query_us.avg:3.000|g\n"
			 "ktracer.db.query_us.sum:9.001|c\n"
			 "ktracer.db.query_us.count:3|c\n"
			 "ktracer.reader.read:0|c\n"
			 "ktracer.reader.lost:0|c\n--\n"));
	CHECK_EQ(net.n, 1);
	CHECK_EQ(s.st.lines, 7);
	kr_statsd_free(&s);
	ku_buf_free(&net.all);
}

void statsd_gauges_and_counters(void)
{
	struct kr_statsd s;
	struct ku_net net;
	const char *d;

	ku_statsd(&s, &net, false, NULL);
	kr_statsd_gauge(&s, 21, "depth", 5, 1, 4);
	kr_statsd_gauge(&s, 21, "depth", 5, 2, 7);	/* last wins */
	kr_statsd_gauge(&s, 22, "temp", 4, 1, -12);
	kr_statsd_count(&s, 23, "bytes", 5, 1, 100);
	kr_statsd_count(&s, 23, "bytes", 5, 3, 23);
	kr_statsd_reader(&s, 1000, 3);
	kr_statsd_emit(&s);
	d = ku_buf_str(&net.all);
	CHECK_HAS(d, "ktracer.depth:7|g\n");
	/* a negative gauge: set 0, then the value, one datagram */
	CHECK_HAS(d, "ktracer.temp:0|g\nktracer.temp:-12|g\n");
	CHECK_HAS(d, "ktracer.bytes:123|c\n");
	CHECK_HAS(d, "ktracer.reader.read:1000|c\nktracer.reader.lost:3|c\n--\n");
	CHECK_EQ(ku_count(d, "|"), 6);
	kr_statsd_free(&s);
	ku_buf_free(&net.all);
}

void statsd_datagrams_1400(void)
{
	struct kr_statsd s;
	struct ku_net net;
	char name[64], *d, *line, *save = NULL;
	unsigned int i, lines = 0, dgrams = 0;
	int n;

	ku_statsd(&s, &net, true, NULL);
	for (i = 0; i < 2000; i++) {
		n = snprintf(name, sizeof(name), "service.endpoint.%u.latency", i);
		kr_statsd_span(&s, 100 + i, name, (size_t)n, 1000 + i % 3, i);
		kr_statsd_gauge(&s, 5000 + i, name, (size_t)n, 1, -(int64_t)i - 1);
	}
	kr_statsd_emit(&s);
	CHECK(net.max_len <= 1400);
	CHECK(net.max_len > 1300);	/* datagrams are filled */
	CHECK(!net.split);
	CHECK_EQ(net.n, s.st.datagrams);
	/* every line whole, and all there: 5 per span, 2 per negative gauge */
	d = net.all.p;
	for (line = strtok_r(d, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strcmp(line, "--")) {
			dgrams++;
			continue;
		}
		lines++;
		CHECKF(!strncmp(line, "ktracer.", 8) && strstr(line, "|#host:web-1"),
		       "line '%s'", line);
	}
	CHECK_EQ(lines, 2000 * 5 + 2000 * 2 + 2);
	CHECK_EQ(lines, s.st.lines);
	CHECK_EQ(dgrams, net.n);
	CHECK(net.n > 2000 * 7 * 60 / 1400);
	kr_statsd_free(&s);
	ku_buf_free(&net.all);
}

void statsd_saturation(void)
{
	struct kr_statsd s;
	struct ku_net net;
	const char *d;

	ku_statsd(&s, &net, false, NULL);
	kr_statsd_span(&s, 20, "slow", 4, 1, UINT64_MAX / 2);
	kr_statsd_span(&s, 20, "slow", 4, 1, UINT64_MAX / 2);
	kr_statsd_span(&s, 20, "slow", 4, 1, UINT64_MAX / 2);
	kr_statsd_count(&s, 21, "n", 1, 1, UINT64_MAX - 1);
	kr_statsd_count(&s, 21, "n", 1, 1, 5);
	kr_statsd_reader(&s, UINT64_MAX, 1);
	kr_statsd_reader(&s, 7, UINT64_MAX);
	kr_statsd_emit(&s);
	d = ku_buf_str(&net.all);
	/* µs of INT64_MAX ns at most: the value stays a number */
	CHECK_HAS(d, "ktracer.slow_us.sum:9223372036854775.807|c");
	CHECK_HAS(d, "ktracer.slow_us.count:3|c");
	CHECK_HAS(d, "ktracer.slow_us.max:9223372036854775.807|g");
	CHECK_HAS(d, "ktracer.n:18446744073709551615|c");
	CHECK_HAS(d, "ktracer.reader.read:18446744073709551615|c");
	CHECK_HAS(d, "ktracer.reader.lost:18446744073709551615|c");
	kr_statsd_free(&s);
	ku_buf_free(&net.all);
}

void statsd_tags(void)
{
	struct kr_statsd s;
	struct ku_net net;
	const char *d;

	ku_statsd(&s, &net, true, NULL);
	kr_statsd_span(&s, 20, "q", 1, 100, 1000);
	kr_statsd_span(&s, 20, "q", 1, 200, 3000);
	kr_statsd_gauge(&s, 21, "g", 1, 100, 5);
	kr_statsd_emit(&s);
	d = ku_buf_str(&net.all);
	/* with tags, each process apart */
	CHECK_HAS(d, "ktracer.q_us.avg:1.000|g|#host:web-1,pid:100\n");
	CHECK_HAS(d, "ktracer.q_us.avg:3.000|g|#host:web-1,pid:200\n");
	CHECK_HAS(d, "ktracer.g:5|g|#host:web-1,pid:100\n");
	CHECK_HAS(d, "ktracer.reader.read:0|c|#host:web-1\n");
	kr_statsd_free(&s);
	ku_buf_free(&net.all);

	ku_statsd(&s, &net, false, NULL);
	kr_statsd_span(&s, 20, "q", 1, 100, 1000);
	kr_statsd_span(&s, 20, "q", 1, 200, 3000);
	kr_statsd_emit(&s);
	d = ku_buf_str(&net.all);
	/* without, one aggregate and no tags */
	CHECK_HAS(d, "ktracer.q_us.avg:2.000|g\n");
	CHECK_HASNT(d, "|#");
	CHECK_HASNT(d, "pid");
	kr_statsd_free(&s);
	ku_buf_free(&net.all);
}

void statsd_reset_after_emit(void)
{
	struct kr_statsd s;
	struct ku_net net;

	ku_statsd(&s, &net, false, NULL);
	kr_statsd_span(&s, 20, "q", 1, 1, 1000);
	kr_statsd_count(&s, 21, "c", 1, 1, 10);
	kr_statsd_reader(&s, 5, 1);
	kr_statsd_emit(&s);
	CHECK_HAS(ku_buf_str(&net.all), "ktracer.c:10|c");
	ku_buf_free(&net.all);
	kr_statsd_count(&s, 21, "c", 1, 1, 3);
	kr_statsd_emit(&s);
	/* the second interval has only its own */
	CHECK(!strcmp(ku_buf_str(&net.all), "ktracer.c:3|c\n"
		      "ktracer.reader.read:0|c\nktracer.reader.lost:0|c\n--\n"));
	ku_buf_free(&net.all);
	kr_statsd_emit(&s);
	CHECK(!strcmp(ku_buf_str(&net.all),
		      "ktracer.reader.read:0|c\nktracer.reader.lost:0|c\n--\n"));
	CHECK_EQ(s.st.emits, 3);
	kr_statsd_free(&s);
	ku_buf_free(&net.all);
}

void statsd_send_failure(void)
{
	struct kr_statsd s;
	struct ku_net net;
	char report[512] = "";
	FILE *log = tmpfile();
	uint64_t failed;
	unsigned int i;

	CHECK(log != NULL);
	ku_statsd(&s, &net, false, log);
	net.fail = ECONNREFUSED;
	for (i = 0; i < 100; i++)
		kr_statsd_gauge(&s, 100 + i, "a.rather.long.metric.name.for.this", 34,
				1, i);
	failed = kr_statsd_emit(&s);
	CHECK(failed > 1);
	CHECK_EQ(kr_statsd_emit(&s), 1);	/* the reader's lines */
	CHECK_EQ(s.st.send_errors, failed + 1);
	CHECK_EQ(s.st.last_error, ECONNREFUSED);
	CHECK_EQ(s.st.datagrams, 0);
	rewind(log);
	CHECK(fgets(report, sizeof(report), log) != NULL);
	CHECK_HAS(report, "ktracer-read: statsd: ");
	CHECK_HAS(report, "datagrams to 127.0.0.1:8125 not sent: Connection refused");
	/* it goes on when the network comes back */
	net.fail = 0;
	kr_statsd_gauge(&s, 1, "x", 1, 1, 1);
	CHECK_EQ(kr_statsd_emit(&s), 0);
	CHECK_HAS(ku_buf_str(&net.all), "ktracer.x:1|g");
	fclose(log);
	kr_statsd_free(&s);
	ku_buf_free(&net.all);
}

void statsd_names_sanitized(void)
{
	struct kr_statsd_cfg cfg = {
		.prefix = "my app:", .host = "h|o,s#t:1/2",
		.tags = true, .send = ku_net_send,
	};
	struct kr_statsd s;
	struct ku_net net = { 0 };
	char b[64];
	const char *d;

	CHECK_EQ(kr_statsd_name(b, sizeof(b), "db query|x:y@z#\xff", 16), 16);
	CHECK(!strcmp(b, "db_query_x_y_z__"));
	CHECK_EQ(kr_statsd_name(b, 4, "abcdef", 6), 3);
	CHECK(!strcmp(b, "abc"));
	cfg.ctx = &net;
	CHECK(!kr_statsd_init(&s, &cfg));
	kr_statsd_count(&s, 20, "a b", 3, 7, 1);
	kr_statsd_emit(&s);
	d = ku_buf_str(&net.all);
	CHECK_HAS(d, "my_app_a_b:1|c|#host:h_o_s_t:1/2,pid:7\n");
	kr_statsd_free(&s);
	ku_buf_free(&net.all);
}
