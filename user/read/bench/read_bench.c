// SPDX-License-Identifier: GPL-2.0
/*
 * ktracer-read's conversion benchmark, on the host: N records (spans,
 * gauges, counters, logs) written across 4 CPUs' buffers in memory as the
 * kernel writes them, read back by the reader's own code (protocol, merge,
 * model, Chrome JSON writer), the JSON written to /dev/null.
 *
 *	read_bench RECORDS [json|statsd|both|gen] [OUTPUT]
 *
 * Reports records/s per core (CPU time of this one-threaded process) and
 * peak RSS. "gen" runs the writer alone, the reader only moving the tail:
 * what the other modes spend beyond it is the conversion. The writer's
 * own CPU time is also measured in every run (one clock read per batch
 * of all CPUs) and taken out for the "reader" rate: the reader's cost.
 */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "fake_ring.h"
#include "json.h"
#include "merge.h"
#include "pipeline.h"

#define NCPU		4
#define RING_SIZE	(1u << 20)
#define FIFO_SIZE	((8u << 20) / NCPU)	/* as ktracer-read sizes them */
#define WINDOW_NS	5000000ull		/* as ktracer-read */
#define STEP_NS		1000			/* trace time between records */
#define BATCH		4096			/* records a CPU writes in a go */

struct bench {
	struct fake_ring fr[NCPU];
	struct kr_ring *ringp[NCPU];
	uint32_t mode;
	struct kr_merge merge;
	struct kr_names names;
	struct kr_model *model;
	int fd;
	struct kr_out out;
	struct kr_json json;
	struct kr_statsd statsd;
	struct kr_outputs outs;
	uint64_t dgrams;
	uint64_t ts[NCPU];
	uint64_t seq[NCPU];
	bool trace, metrics, gen_only;
};

static double cpu_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double wall_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int on_send(void *ctx, const void *buf, size_t len)
{
	(void)buf;
	(void)len;
	((struct bench *)ctx)->dgrams++;
	return 0;
}

/*
 * Record i of CPU c. Of every 10: two spans (START, STOP), two gauges,
 * two counts, two logs; 4 processes of 4 threads, 8 span events of 4
 * slots, 4 gauges, 4 counters, 2 logs.
 */
static void gen_one(struct bench *b, unsigned int c)
{
	static const char *const msgs[] = {
		"request served", "cache miss on key 42",
		"user \"alice\" logged in", "retrying after timeout",
	};
	uint64_t i = b->seq[c]++, ts = b->ts[c] += STEP_NS;
	uint32_t pid = 1000 + (uint32_t)(i / 10 % 4) * 100 + c;
	uint32_t tid = pid + (uint32_t)(i / 40 % 4);
	uint32_t k = (uint32_t)(i % 10), slot = (uint32_t)(i / 10 % 4);
	uint32_t span = 20 + (uint32_t)(i / 10 % 8) * 2 + (k >= 2);
	struct ktracer_record h;
	const char *msg = NULL;
	uint32_t len = 0;

	switch (k) {
	case 0:
	case 2:
		h = fake_rec(KTRACER_REC_START, span, ts, pid, tid, slot, i, 0);
		break;
	case 1:
	case 3:
		h = fake_rec(KTRACER_REC_STOP, span, ts, pid, tid, slot, i,
			     STEP_NS);
		break;
	case 4:
	case 5:
		h = fake_rec(KTRACER_REC_GAUGE, 40 + (uint32_t)(i % 4), ts,
			     pid, tid, 0, i % 1000, 0);
		break;
	case 6:
	case 7:
		h = fake_rec(KTRACER_REC_COUNT, 44 + (uint32_t)(i % 4), ts,
			     pid, tid, 0, 3, i * 3);
		break;
	default:
		h = fake_rec(KTRACER_REC_LOG, 48 + (uint32_t)(i % 2), ts, pid,
			     tid, 0, 0, 0);
		msg = msgs[i / 10 % 4];
		len = (uint32_t)strlen(msg);
	}
	if (!fake_write(&b->fr[c], &h, msg, len, false))
		abort();	/* the reader keeps up by construction */
}

static void setup(struct bench *b, const char *what, const char *path)
{
	struct kr_statsd_cfg sc = { .prefix = "ktracer.", .send = on_send,
				    .ctx = b };
	struct kr_model_cfg mc;
	char name[32];
	unsigned int c, id;

	memset(b, 0, sizeof(*b));
	b->mode = KTRACER_MODE_DISCARD;
	b->gen_only = !strcmp(what, "gen");
	b->trace = !strcmp(what, "json") || !strcmp(what, "both");
	b->metrics = !strcmp(what, "statsd") || !strcmp(what, "both");
	for (c = 0; c < NCPU; c++) {
		if (fake_init(&b->fr[c], c, RING_SIZE, &b->mode))
			abort();
		b->ringp[c] = &b->fr[c].ring;
		b->ts[c] = 1000000000ull + c * 250;
	}
	if (kr_merge_init(&b->merge, NCPU, FIFO_SIZE, WINDOW_NS))
		abort();
	kr_names_init(&b->names);
	for (id = 20; id < 50; id++) {
		int n = snprintf(name, sizeof(name), "%s.%u",
				 id < 36 ? "rpc.call" : id < 40 ? "gen" :
				 id < 44 ? "queue.depth" : id < 48 ? "bytes" :
				 "audit", id);

		kr_names_set(&b->names, id, id < 36 ? KTRACER_KIND_SPAN :
			     id < 44 ? KTRACER_KIND_GAUGE : id < 48 ?
			     KTRACER_KIND_COUNTER : KTRACER_KIND_LOG,
			     id < 36 ? 4 : 0, name, (size_t)n);
	}
	b->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (b->fd < 0 || kr_out_init(&b->out, 1 << 20, kr_write_fd, &b->fd)) {
		perror(path);
		exit(1);
	}
	if (b->trace)
		kr_json_begin(&b->json, &b->out);
	if (b->metrics && kr_statsd_init(&b->statsd, &sc))
		abort();
	b->outs.json = b->trace ? &b->json : NULL;
	b->outs.statsd = b->metrics ? &b->statsd : NULL;
	mc = (struct kr_model_cfg){
		.ncpu = NCPU, .names = &b->names,
		.sink = kr_outputs_sink(&b->outs),
	};
	b->model = kr_model_new(&mc);
	if (!b->model)
		abort();
}

/* The reader's loop body: consume every CPU, merge what may go out. */
static void read_all(struct bench *b, bool final)
{
	uint64_t now = 0;
	unsigned int c;

	for (c = 0; c < NCPU; c++)
		if (b->ts[c] > now)
			now = b->ts[c];
	if (!b->gen_only) {
		kr_read_cycle(b->ringp, NCPU, &b->merge, b->model, now, final);
		return;
	}
	for (c = 0; c < NCPU; c++)
		__atomic_store_n(&b->fr[c].reader->tail, b->fr[c].meta->head,
				 __ATOMIC_RELEASE);
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	const char *what = argc > 2 ? argv[2] : "json";
	const char *path = argc > 3 ? argv[3] : "/dev/null";
	struct bench *b = malloc(sizeof(*b));
	const struct kr_model_stats *ms;
	uint64_t done = 0, left;
	double cpu0, wall0, cpu, wall, g0, gen = 0;
	struct rusage ru;
	unsigned int c, i;

	if (!b || !n)
		return 2;
	setup(b, what, path);
	cpu0 = cpu_seconds();
	wall0 = wall_seconds();
	while (done < n) {
		g0 = cpu_seconds();
		for (c = 0; c < NCPU && done < n; c++) {
			left = n - done < BATCH ? n - done : BATCH;
			for (i = 0; i < left; i++)
				gen_one(b, c);
			fake_publish(&b->fr[c]);
			done += left;
		}
		gen += cpu_seconds() - g0;
		read_all(b, false);
		if (b->metrics && done % (BATCH * NCPU * 64) == 0)
			kr_statsd_emit(&b->statsd);
	}
	read_all(b, true);
	if (!b->gen_only) {
		kr_model_finish(b->model);
		if (b->trace)
			kr_json_end(&b->json, NULL, 0);
		if (b->metrics)
			kr_statsd_emit(&b->statsd);
	}
	kr_out_flush(&b->out);
	cpu = cpu_seconds() - cpu0;
	wall = wall_seconds() - wall0;
	getrusage(RUSAGE_SELF, &ru);
	ms = kr_model_stats(b->model);
	printf("read_bench %-6s %9llu records: %6.3f s CPU, %6.3f s wall, %6.2f M records/s per core, peak RSS %5.1f MiB",
	       what, (unsigned long long)n, cpu, wall, (double)n / cpu / 1e6,
	       (double)ru.ru_maxrss / 1024);
	if (!b->gen_only)
		printf("; reader %6.2f M records/s per core (writer's %.3f s out)",
		       (double)n / (cpu - gen) / 1e6, gen);
	if (!b->gen_only)
		printf("; %llu events, %.0f MiB JSON, %llu datagrams, %llu late",
		       (unsigned long long)ms->events,
		       (double)b->out.bytes / (1 << 20),
		       (unsigned long long)b->dgrams,
		       (unsigned long long)b->merge.late);
	putchar('\n');
	if (!b->gen_only && ms->records != n) {
		fprintf(stderr, "read_bench: %llu records read of %llu\n",
			(unsigned long long)ms->records, (unsigned long long)n);
		return 1;
	}
	return 0;
}
