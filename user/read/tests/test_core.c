// SPDX-License-Identifier: GPL-2.0
/* Tests of the events file parser, the bounded map and the merge. */

#include <stdlib.h>

#include "map.h"
#include "tests.h"

void names_parse(void)
{
	struct kr_names *n = malloc(sizeof(*n));
	const char *text =
		"# id kind slots uid name\n"
		"1 span 2 0 sched.running\n"
		"10 span 4 1000 db query\n"
		"11 gauge 0 1000 queue.depth\n"
		"12 counter 0 0 bytes\n"
		"13 log 0 65534 audit \"log\"\n"
		"\n"
		"0 span 1 0 zero\n"			/* no id 0 */
		"20000 span 1 0 too.big\n"		/* past the ids */
		"14 weird 0 0 odd kind\n"		/* kept, kind unknown */
		"15 span 1 noname\n"			/* no uid */
		"x span 1 0 nan\n"
		"16 span 1 0 " "0123456789012345678901234567890123456789012345678901234567890123456789\n"
		"17 log 0 0 last, no newline";

	kr_names_init(n);
	CHECK(!strcmp(kr_names_get(n, KTRACER_KEV_SYSCALL)->name, "syscall"));
	CHECK(kr_names_get(n, KTRACER_KEV_BLOCK)->known);
	CHECK(!kr_names_get(n, 10)->known);
	CHECK(!strcmp(kr_names_get(n, 10)->name, "event#10"));
	CHECK_EQ(kr_names_parse(n, text, strlen(text)), 8);
	CHECK_EQ(n->lines_bad, 4);
	CHECK(!strcmp(kr_names_get(n, 10)->name, "db query"));
	CHECK_EQ(kr_names_get(n, 10)->kind, KTRACER_KIND_SPAN);
	CHECK_EQ(kr_names_get(n, 10)->slots, 4);
	CHECK_EQ(kr_names_get(n, 11)->kind, KTRACER_KIND_GAUGE);
	CHECK(!strcmp(kr_names_get(n, 13)->json, "\"audit \\\"log\\\"\""));
	CHECK(kr_names_get(n, 14)->known && kr_names_get(n, 14)->kind == 0);
	CHECK(!kr_names_get(n, 15)->known);
	CHECK_EQ(kr_names_get(n, 16)->len, KTRACER_NAME_MAX - 1);
	CHECK(!strcmp(kr_names_get(n, 17)->name, "last, no newline"));
	CHECK_EQ(kr_names_parse(n, "# id kind slots uid nam\n", 24), -1);
	CHECK_EQ(kr_names_parse(n, "", 0), -1);
	/* Blocks only where an id was named or looked up. */
	CHECK(n->blk[0] && !n->blk[1] && !n->blk[KR_NAMES_BLOCKS - 1]);
	CHECK(!strcmp(kr_names_get(n, KTRACER_EVENT_ID_MAX)->name,
		      "event#16383"));
	CHECK(n->blk[KR_NAMES_BLOCKS - 1] && !n->blk[1]);
	CHECK(kr_names_get(n, KTRACER_EVENT_ID_MAX + 1) == kr_names_get(n, 0));
	CHECK(kr_names_set(n, KTRACER_EVENT_ID_MAX, KTRACER_KIND_LOG, 0,
			   "last.id", 7));
	CHECK_EQ(kr_names_get(n, KTRACER_EVENT_ID_MAX)->json_len, 9);
	CHECK(!memcmp(kr_names_get(n, KTRACER_EVENT_ID_MAX)->json,
		      "\"last.id\"", 9));
	CHECK(!kr_names_set(n, 0, KTRACER_KIND_LOG, 0, "zero", 4));
	CHECK_EQ(n->nomem, 0);
	kr_names_free(n);
	free(n);
}

static unsigned int ku_evicted;

static void ku_count_evict(void *ctx, uint64_t key, void *val)
{
	(void)ctx;
	(void)key;
	(void)val;
	ku_evicted++;
}

void map_bounded(void)
{
	struct kr_map m;
	uint64_t *v, i, hot = 12345678;
	int created;

	CHECK(!kr_map_init(&m, 1000, sizeof(uint64_t), ku_count_evict, NULL));
	for (i = 0; i < 100000; i++) {
		v = kr_map_put(&m, i * 7919, &created);
		CHECK(created);
		*v = i;
		/* One key used all along stays. */
		v = kr_map_put(&m, hot, &created);
		CHECK(i == 0 ? created : !created);
		CHECK(m.n <= 1000);
	}
	CHECK(ku_evicted >= 99000 - 1000);
	CHECK(kr_map_get(&m, hot) != NULL);
	/* The most recent keys are there, with their values. */
	for (i = 99900; i < 100000; i++) {
		v = kr_map_get(&m, i * 7919);
		CHECKF(v && *v == i, "key %llu", (unsigned long long)i);
	}
	/* Removal keeps every other key reachable. */
	for (i = 99900; i < 100000; i += 2)
		kr_map_del(&m, i * 7919);
	for (i = 99901; i < 100000; i += 2)
		CHECK(kr_map_get(&m, i * 7919) != NULL);
	for (i = 99900; i < 100000; i += 2)
		CHECK(kr_map_get(&m, i * 7919) == NULL);
	kr_map_clear(&m);
	CHECK_EQ(m.n, 0);
	CHECK(kr_map_get(&m, hot) == NULL);
	kr_map_free(&m);
}

struct ku_walk {
	uint64_t keys, sum, n;
};

static void ku_walk_fn(void *ctx, uint64_t key, void *val)
{
	struct ku_walk *w = ctx;

	w->n++;
	w->keys += key;
	w->sum += *(uint64_t *)val;
}

/*
 * Whole-table walks (each, clear, eviction) skip the blocks that never
 * held an entry: on tables smaller than a block, one block, and many,
 * every entry is still seen exactly once, and clear leaves nothing.
 */
void map_walks(void)
{
	static const size_t maxes[] = { 2, 40, 5000 };
	struct ku_walk w;
	struct kr_map m;
	uint64_t *v, i, k, nkeys;
	size_t t;

	for (t = 0; t < sizeof(maxes) / sizeof(maxes[0]); t++) {
		nkeys = maxes[t] < 50 ? maxes[t] : 50;
		CHECK(!kr_map_init(&m, maxes[t], sizeof(uint64_t), NULL,
				   NULL));
		for (k = 0; k < 2; k++) {
			memset(&w, 0, sizeof(w));
			for (i = 0; i < nkeys; i++) {
				v = kr_map_put(&m, i * 1000003 + k, NULL);
				*v = i + 1;
			}
			kr_map_each(&m, ku_walk_fn, &w);
			CHECKF(w.n == nkeys, "max %zu: %llu of %llu",
			       maxes[t], (unsigned long long)w.n,
			       (unsigned long long)nkeys);
			CHECK_EQ(w.sum, nkeys * (nkeys + 1) / 2);
			CHECK_EQ(w.keys, 1000003 * nkeys * (nkeys - 1) / 2 +
				 k * nkeys);
			/* Removal moves entries back: still each once. */
			for (i = 0; i < nkeys; i += 2)
				kr_map_del(&m, i * 1000003 + k);
			memset(&w, 0, sizeof(w));
			kr_map_each(&m, ku_walk_fn, &w);
			CHECK_EQ(w.n, nkeys / 2);
			kr_map_clear(&m);
			CHECK_EQ(m.n, 0);
			memset(&w, 0, sizeof(w));
			kr_map_each(&m, ku_walk_fn, &w);
			CHECK_EQ(w.n, 0);
			for (i = 0; i < nkeys; i++)
				CHECK(!kr_map_get(&m, i * 1000003 + k));
		}
		kr_map_free(&m);
	}
}

struct ku_order {
	uint64_t last, n, late;
	unsigned int per_cpu[4];
};

static void ku_order_fn(void *ctx, unsigned int cpu,
			const struct ktracer_record *r)
{
	struct ku_order *o = ctx;

	if (r->ts < o->last)
		o->late++;
	o->last = r->ts;
	o->n++;
	o->per_cpu[cpu]++;
}

/* Records straight into a FIFO, as kr_ring_pull leaves them. */
static void ku_fifo_put(struct kr_fifo *q, uint64_t ts)
{
	struct ktracer_record r = { .size = KR_REC_HDR, .type = KTRACER_REC_GAUGE,
				    .event = 20, .ts = ts };
	size_t room;
	unsigned char *p = kr_fifo_space(q, &room);

	if (room < KR_REC_HDR)
		abort();
	memcpy(p, &r, sizeof(r));
	kr_fifo_commit(q, KR_REC_HDR);
}

void merge_order_and_window(void)
{
	struct kr_merge m;
	struct ku_order o = { 0 };
	uint64_t seed = 42, ts[4] = { 0 };
	unsigned int i, c;

	CHECK(!kr_merge_init(&m, 4, 1 << 17, 100));
	/* Four streams, each in order, interleaved at random. */
	for (i = 0; i < 2000; i++) {
		c = (unsigned int)(ku_rand(&seed) % 4);
		ts[c] += 1 + ku_rand(&seed) % 50;
		ku_fifo_put(&m.q[c], 1000 + ts[c]);
	}
	for (c = 0; c < 4; c++) {
		m.q[c].drained = true;
		m.q[c].fill_ts = 1000 + ts[c] + 10;
	}
	/*
	 * SAFE: a CPU whose FIFO runs out was drained at fill_ts; nothing
	 * newer than fill_ts - window may go out before it is read again.
	 */
	kr_merge_run(&m, KR_MERGE_SAFE, ku_order_fn, &o);
	CHECK(o.n < 2000);
	CHECK_EQ(o.late, 0);
	kr_merge_run(&m, KR_MERGE_ALL, ku_order_fn, &o);
	CHECK_EQ(o.n, 2000);
	CHECK_EQ(o.late, 0);
	CHECK_EQ(m.late, 0);
	CHECK_EQ(o.per_cpu[0] + o.per_cpu[1] + o.per_cpu[2] + o.per_cpu[3], 2000);

	/* A CPU not drained (its FIFO was full) holds the others back. */
	memset(&o, 0, sizeof(o));
	ku_fifo_put(&m.q[0], 1005000);
	ku_fifo_put(&m.q[1], 1006000);
	m.q[0].drained = false;
	m.q[1].drained = true;
	m.q[1].fill_ts = 1100000;
	m.q[2].fill_ts = m.q[3].fill_ts = 1100000;
	kr_merge_run(&m, KR_MERGE_SAFE, ku_order_fn, &o);
	CHECK_EQ(o.n, 1);	/* 1005000 out; 1006000 waits for CPU 0 */
	ku_fifo_put(&m.q[0], 1005500);
	m.q[0].drained = true;
	m.q[0].fill_ts = 1100000;
	kr_merge_run(&m, KR_MERGE_SAFE, ku_order_fn, &o);
	CHECK_EQ(o.n, 3);
	CHECK_EQ(o.late, 0);

	/* One that comes too late goes out anyway, counted. */
	ku_fifo_put(&m.q[2], 10);
	kr_merge_run(&m, KR_MERGE_ALL, ku_order_fn, &o);
	CHECK_EQ(o.n, 4);
	CHECK_EQ(m.late, 1);
	kr_merge_free(&m);
}
