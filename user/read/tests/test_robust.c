// SPDX-License-Identifier: GPL-2.0
/*
 * Robustness: buffers that hold garbage, records corrupted or cut, and
 * absurd counters never crash the reader (the tests run under ASan and
 * UBSan); what it cannot read is skipped and counted, and the trace it
 * writes stays valid. Outputs that fail (no StatsD server, a full disk,
 * a closed pipe) are reported and never crash it.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests.h"
#include "trace_file.h"

static uint64_t ku_skipped(const struct ku_pipe *p)
{
	const struct kr_model_stats *ms = kr_model_stats(p->model);
	uint64_t n = 0;
	unsigned int i, c;

	for (i = 1; i < KR_BAD__NR; i++) {
		n += ms->skipped[i];
		for (c = 0; c < p->ncpu; c++)
			n += p->fr[c].ring.st.skipped[i];
	}
	return n;
}

void robust_garbage_buffers(void)
{
	struct ku_pipe p;
	struct ku_pipe_cfg cfg = { .ncpu = 2, .ring_size = 8192 };
	uint64_t seed = 7, i, round;
	const char *doc;

	ku_pipe_init(&p, &cfg);
	for (round = 0; round < 200; round++) {
		/* the data is noise, and head says some of it is records */
		for (i = 0; i < p.fr[0].size / 8; i++) {
			uint64_t v = ku_rand(&seed);

			/* now and then a size that frames */
			if (i % 6 == 0 && v % 3)
				v = (v & ~0xffffull) | (v % 40) * 8;
			memcpy(p.fr[0].data + i * 8, &v, 8);
		}
		p.fr[0].head = p.fr[0].reader->tail +
			       ku_rand(&seed) % (p.fr[0].size + 1);
		if (round % 3 == 0)
			p.fr[0].head &= ~7ull;
		fake_publish(&p.fr[0]);
		ku_put(&p, 1, KTRACER_REC_GAUGE, 20, 1000 + round, 1, 1, 0,
		       round, 0);
		p.now += 100;
		ku_pipe_read(&p);
		/* whatever happened, the reader moved on */
		CHECK_EQ(p.fr[0].reader->tail, p.fr[0].meta->head);
	}
	doc = ku_pipe_end(&p);
	CHECK(ku_json_valid("robust_garbage", doc, strlen(doc)));
	CHECK(p.fr[0].ring.st.resyncs > 0);
	CHECK(ku_skipped(&p) > 0);
	/* CPU 1's records all came through */
	CHECK_EQ(p.fr[1].ring.st.records, 200);
	ku_pipe_free(&p);
}

/* A stream of every kind of record, with every byte open to damage. */
static void ku_stream(struct ku_pipe *p, uint64_t *seed, uint64_t ts,
		      unsigned int n)
{
	static const char msg[] = "comm or message";
	struct ktracer_block b = { .dev = 8 << 20, .sector = 1, .bytes = 512 };
	unsigned int i, cpu;
	uint32_t ev;

	for (i = 0; i < n; i++) {
		cpu = (unsigned int)(ku_rand(seed) % p->ncpu);
		ev = (uint32_t)(ku_rand(seed) % 26);
		ts += ku_rand(seed) % 1000;
		switch (ku_rand(seed) % 8) {
		case 0:
			ku_put_msg(p, cpu, KTRACER_REC_LOG, 0, 23, ts, 1, 2, 0,
				   0, 0, msg, (uint32_t)(ku_rand(seed) % 16));
			break;
		case 1:
			ku_put_msg(p, cpu, (uint8_t)(KTRACER_REC_START +
						     ku_rand(seed) % 2),
				   KTRACER_RECF_KERNEL, ev % 10, ts, 3, 4,
				   (uint32_t)(ku_rand(seed) % 4), ku_rand(seed) % 12,
				   ku_rand(seed) % 5000, msg, 6);
			break;
		case 2:
			ku_put_msg(p, cpu, (uint8_t)(KTRACER_REC_START +
						     ku_rand(seed) % 2),
				   KTRACER_RECF_KERNEL, KTRACER_KEV_BLOCK, ts, 3,
				   4, (uint32_t)(ku_rand(seed) % 300), 0,
				   ku_rand(seed) % 5000, &b, sizeof(b));
			break;
		default:
			ku_put(p, cpu, (uint8_t)(KTRACER_REC_START +
						 ku_rand(seed) % 5),
			       20 + (ev % 6), ts, 5 + (uint32_t)(ku_rand(seed) % 3),
			       6, (uint32_t)(ku_rand(seed) % 3),
			       ku_rand(seed), ku_rand(seed) % 3000);
		}
	}
}

void robust_mutated_records(void)
{
	struct ku_pipe p;
	struct ku_pipe_cfg cfg = { .ncpu = 3, .ring_size = 16384 };
	uint64_t seed = 99, round, i, pos, tail, head;
	unsigned int cpu, k;
	const char *doc;

	ku_pipe_init(&p, &cfg);
	for (round = 0; round < 300; round++) {
		ku_stream(&p, &seed, 1000000 * (round + 1), 60);
		/* damage a few bytes of what is unread */
		for (k = 0; k < 4; k++) {
			cpu = (unsigned int)(ku_rand(&seed) % p.ncpu);
			tail = p.fr[cpu].reader->tail;
			head = p.fr[cpu].meta->head;
			if (head == tail)
				continue;
			pos = tail + ku_rand(&seed) % (head - tail);
			i = pos & (p.fr[cpu].size - 1);
			switch (ku_rand(&seed) % 4) {
			case 0:
				p.fr[cpu].data[i] = (unsigned char)ku_rand(&seed);
				break;
			case 1:	/* a size, on a record boundary or not */
				p.fr[cpu].data[i & ~7ull] =
					(unsigned char)(ku_rand(&seed) % 64 * 8);
				break;
			default:
				p.fr[cpu].data[i] ^= (unsigned char)(1u << (ku_rand(&seed) % 8));
			}
		}
		p.now += 1000000;
		ku_pipe_read(&p);
	}
	doc = ku_pipe_end(&p);
	CHECK(ku_json_valid("robust_mutated", doc, strlen(doc)));
	CHECK(kr_model_stats(p.model)->records > 10000);
	for (cpu = 0; cpu < p.ncpu; cpu++)
		CHECK_EQ(p.fr[cpu].reader->tail, p.fr[cpu].meta->head);
	printf("# mutated: %llu records in, %llu left out, %llu resyncs\n",
	       (unsigned long long)kr_model_stats(p.model)->records,
	       (unsigned long long)ku_skipped(&p),
	       (unsigned long long)(p.fr[0].ring.st.resyncs +
				    p.fr[1].ring.st.resyncs +
				    p.fr[2].ring.st.resyncs));
	ku_pipe_free(&p);
}

/* Write raw bytes as CPU @cpu's next records, as a broken kernel might. */
static void ku_raw(struct ku_pipe *p, unsigned int cpu, const void *rec,
		   size_t len)
{
	struct fake_ring *f = &p->fr[cpu];

	memcpy(f->data + (f->head & (f->size - 1)), rec, len);
	f->head += (len + 7) & ~7ull;
	fake_publish(f);
}

void robust_absurd_counters(void)
{
	struct ku_pipe p;
	struct ku_pipe_cfg cfg = { .ncpu = 2, .metrics = true };
	struct ktracer_record r;
	unsigned char big[KR_REC_HDR + 300] = { 0 };
	const char *doc;
	uint16_t size;

	ku_pipe_init(&p, &cfg);
	/* LOST counts that add up past 2^64 */
	r = fake_rec(KTRACER_REC_LOST, 0, 100, 0, 0, 0, UINT64_MAX, 0);
	r.size = KR_REC_HDR;
	ku_raw(&p, 0, &r, sizeof(r));
	ku_raw(&p, 0, &r, sizeof(r));
	/* a STOP whose duration is longer than the clock has run */
	ku_put(&p, 0, KTRACER_REC_STOP, 20, 200, 1, 1, 0, 0, UINT64_MAX);
	/* a counter total and a gauge at the ends of their ranges */
	ku_put(&p, 0, KTRACER_REC_COUNT, 21, 300, 1, 1, 0, UINT64_MAX, UINT64_MAX);
	ku_put(&p, 0, KTRACER_REC_COUNT, 21, 301, 1, 1, 0, UINT64_MAX, UINT64_MAX);
	ku_put(&p, 0, KTRACER_REC_GAUGE, 22, 302, 1, 1, 0, 1ull << 63, 0);
	/* slots, events and types no kernel writes */
	ku_put(&p, 0, KTRACER_REC_START, 20, 400, 1, 1, UINT32_MAX, 0, 0);
	ku_put_msg(&p, 0, KTRACER_REC_START, KTRACER_RECF_KERNEL,
		   KTRACER_KEV_IRQ, 401, 1, 1, 999999, 0, 0, NULL, 0);
	ku_put(&p, 0, KTRACER_REC_START, KTRACER_EVENT_ID_MAX + 1, 402, 1, 1, 0, 0, 0);
	ku_put(&p, 0, 99, 20, 403, 1, 1, 0, 0, 0);
	ku_put_msg(&p, 0, KTRACER_REC_GAUGE, KTRACER_RECF_KERNEL,
		   KTRACER_KEV_EXIT, 404, 1, 1, 0, 0, 0, NULL, 0);
	/* a len the size cannot hold; a record longer than any */
	r = fake_rec(KTRACER_REC_LOG, 23, 500, 1, 1, 0, 0, 0);
	r.size = KR_REC_HDR + 8;
	r.len = 4000;
	memcpy(big, &r, sizeof(r));
	ku_raw(&p, 1, big, KR_REC_HDR + 8);
	r.len = 3;
	size = KR_REC_HDR + 296;
	r.size = size;
	memcpy(big, &r, sizeof(r));
	ku_raw(&p, 1, big, size);
	/* a huge PAD, then a good record after it */
	r = fake_rec(KTRACER_REC_PAD, 0, 0, 0, 0, 0, 0, 0);
	r.size = 4096;
	ku_raw(&p, 1, &r, sizeof(r));
	p.fr[1].head += 4096 - 48;
	fake_publish(&p.fr[1]);
	ku_put(&p, 1, KTRACER_REC_GAUGE, 22, 600, 1, 1, 0, 42, 0);
	doc = ku_pipe_end(&p);
	CHECK(ku_json_valid("robust_absurd", doc, strlen(doc)));
	CHECK_EQ(kr_model_stats(p.model)->lost, UINT64_MAX);
	CHECK_HAS(doc, "\"name\":\"[lost 18446744073709551615 events]\"");
	CHECK_HAS(doc, "\"value\":18446744073709551615");
	CHECK_HAS(doc, "\"value\":-9223372036854775808");
	CHECK_HAS(doc, "\"value\":42");
	CHECK_EQ(kr_model_stats(p.model)->skipped[KR_BAD_SLOT], 2);
	CHECK_EQ(kr_model_stats(p.model)->skipped[KR_BAD_KIND], 1);
	CHECK_EQ(p.fr[0].ring.st.skipped[KR_BAD_EVENT], 1);
	CHECK_EQ(p.fr[0].ring.st.skipped[KR_BAD_TYPE], 1);
	CHECK_EQ(p.fr[1].ring.st.skipped[KR_BAD_LEN], 2);
	CHECK_EQ(p.fr[1].ring.st.resyncs, 0);
	CHECK_HAS(ku_buf_str(&p.dgrams), "kt.event_21:18446744073709551615|c");
	CHECK_HAS(ku_buf_str(&p.dgrams), "kt.reader.lost:18446744073709551615|c");
	ku_pipe_free(&p);
}

/* ---- failure modes of the outputs ------------------------------------------ */

static int ku_udp_send(void *ctx, const void *buf, size_t len)
{
	ssize_t n = send(*(const int *)ctx, buf, len,
			 MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0)
		return errno;
	return (size_t)n == len ? 0 : EMSGSIZE;
}

/*
 * No StatsD server: a connected UDP socket to a port nobody listens on
 * gets ECONNREFUSED (from the ICMP answer to an earlier datagram). Every
 * failure is counted, one line on the log says so, nothing stops.
 */
void robust_statsd_refused(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	struct kr_statsd_cfg cfg = {
		.prefix = "kt.", .host = "h", .send = ku_udp_send,
		.dest = "127.0.0.1:closed",
	};
	struct kr_statsd s;
	char line[512];
	unsigned int i, lines = 0;
	FILE *log = tmpfile();
	int sock, probe;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* a free port: bound, then closed */
	probe = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(probe >= 0 && log);
	CHECK_EQ(bind(probe, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CHECK_EQ(getsockname(probe, (struct sockaddr *)&sa, &sl), 0);
	close(probe);
	sock = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK_EQ(connect(sock, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cfg.ctx = &sock;
	cfg.log = log;
	CHECK_EQ(kr_statsd_init(&s, &cfg), 0);
	for (i = 0; i < 20; i++) {
		kr_statsd_gauge(&s, 20, "g", 1, 1, i);
		kr_statsd_emit(&s);
		usleep(2000);	/* the ICMP answer comes back */
	}
	CHECK(s.st.send_errors >= 10);
	CHECK_EQ(s.st.last_error, ECONNREFUSED);
	CHECK_EQ(s.st.emits, 20);
	rewind(log);
	while (fgets(line, sizeof(line), log)) {
		lines++;
		CHECK_HAS(line, "to 127.0.0.1:closed not sent: Connection refused");
	}
	CHECK_EQ(lines, 1);
	kr_statsd_free(&s);
	close(sock);
	fclose(log);
}

/*
 * The disk fills up under the trace: a 64 KiB tmpfs (or, where this
 * host cannot mount one, a 64 KiB RLIMIT_FSIZE). The error is the
 * write's; the file is cut at its last whole event and ended there:
 * valid JSON, every event in it whole, within the limit.
 */
void robust_disk_full(void)
{
	const char *dir = getenv("KR_TEST_OUT");
	struct ku_pipe_cfg cfg = { .ncpu = 2 };
	struct rlimit old, lim = { 64 << 10, 64 << 10 };
	char mnt[512], path[600], *doc;
	bool mounted, cut = false;
	struct ku_pipe p;
	uint64_t size = 0, i;
	struct stat st;
	int fd, err;
	FILE *f;

	snprintf(mnt, sizeof(mnt), "%s/full", dir ? dir : ".");
	mkdir(mnt, 0755);
	mounted = !mount("tmpfs", mnt, "tmpfs", 0, "size=64k");
	printf("# disk full: %s\n", mounted ? "a 64 KiB tmpfs" :
	       "RLIMIT_FSIZE 64 KiB (cannot mount here)");
	snprintf(path, sizeof(path), "%s/trace.json", mnt);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	getrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_IGN);
	if (!mounted)
		setrlimit(RLIMIT_FSIZE, &lim);

	ku_pipe_init(&p, &cfg);
	kr_out_free(&p.out);
	CHECK_EQ(kr_out_init(&p.out, 16 << 10, kr_write_fd, &fd), 0);
	kr_json_begin(&p.json, &p.out);
	for (i = 0; i < 4000; i++) {
		ku_put(&p, (unsigned int)(i % 2), KTRACER_REC_GAUGE, 20,
		       1000 + i * 10, 1, 1, 0, i, 0);
		if (i % 100 == 99) {
			p.now += 1000000;
			ku_pipe_read(&p);
		}
	}
	kr_read_cycle(p.ringp, p.ncpu, &p.merge, p.model, p.now, true);
	kr_model_finish(p.model);
	CHECK(p.out.err != 0);		/* it did fill up */
	err = kr_trace_end(&p.json, fd, NULL, 0, &cut, &size);
	CHECK_EQ(err, mounted ? ENOSPC : EFBIG);
	CHECK(cut);
	CHECK_EQ(close(fd), 0);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);

	CHECK_EQ(stat(path, &st), 0);
	CHECK_EQ((uint64_t)st.st_size, size);
	CHECK(size > 16 << 10 && size <= 64 << 10);
	doc = calloc(1, (size_t)st.st_size + 1);
	f = fopen(path, "rb");
	CHECK(doc && f && fread(doc, 1, (size_t)st.st_size, f) ==
	      (size_t)st.st_size);
	if (f)
		fclose(f);
	if (mounted)
		umount(mnt);
	CHECK(ku_json_valid("robust_disk_full", doc, (size_t)st.st_size));
	CHECK(ku_count(doc, "\"ph\":\"C\"") > 100);
	CHECK_HAS(doc, "\n],\"otherData\":{}}\n");
	printf("# disk full: %llu bytes of valid JSON kept, %zu counter events\n",
	       (unsigned long long)size, ku_count(doc, "\"ph\":\"C\""));
	free(doc);
	ku_pipe_free(&p);
}

/* A trace to a pipe whose reader went away: EPIPE, no signal, no cut. */
void robust_broken_pipe(void)
{
	struct kr_out out;
	struct kr_json w;
	int fds[2], err;
	bool cut = true;
	uint64_t size;
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);

	CHECK_EQ(pipe(fds), 0);
	close(fds[0]);
	CHECK_EQ(kr_out_init(&out, 4096, kr_write_fd, &fds[1]), 0);
	kr_json_begin(&w, &out);
	err = kr_trace_end(&w, fds[1], NULL, 0, &cut, &size);
	CHECK_EQ(err, EPIPE);
	CHECK(!cut);
	close(fds[1]);
	kr_out_free(&out);
	signal(SIGPIPE, old);
}
