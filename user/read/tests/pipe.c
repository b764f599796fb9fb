// SPDX-License-Identifier: GPL-2.0
/* ktracer-read's host tests: the whole reader, on buffers in memory. */

#include <stdlib.h>

#include "tests.h"

static void ku_origin(void *ctx, uint64_t t0)
{
	kr_json_origin(&((struct ku_pipe *)ctx)->json, t0);
}

static void ku_event(void *ctx, const struct kr_ev *ev)
{
	kr_json_event(&((struct ku_pipe *)ctx)->json, ev);
}

static void ku_span(void *ctx, uint32_t id, const struct kr_evname *n,
		    uint32_t pid, uint64_t dur)
{
	kr_statsd_span(&((struct ku_pipe *)ctx)->statsd, id, n->name, n->len,
		       pid, dur);
}

static void ku_gauge(void *ctx, uint32_t id, const struct kr_evname *n,
		     uint32_t pid, int64_t v)
{
	kr_statsd_gauge(&((struct ku_pipe *)ctx)->statsd, id, n->name, n->len,
			pid, v);
}

static void ku_count_fn(void *ctx, uint32_t id, const struct kr_evname *n,
			uint32_t pid, uint64_t add)
{
	kr_statsd_count(&((struct ku_pipe *)ctx)->statsd, id, n->name, n->len,
			pid, add);
}

static int ku_send(void *ctx, const void *buf, size_t len)
{
	struct ku_pipe *p = ctx;

	p->ndgrams++;
	ku_buf_write(&p->dgrams, buf, len);
	return ku_buf_write(&p->dgrams, "\n--\n", 4);
}

static void ku_reload(void *ctx, struct kr_names *names)
{
	struct ku_pipe *p = ctx;

	p->reloads++;
	if (p->reload_text)
		kr_names_parse(names, p->reload_text, strlen(p->reload_text));
}

/* A made-up /proc: "comm-TID". */
static int ku_comm(void *ctx, uint32_t pid, uint32_t tid,
		   char buf[KTRACER_COMM_MAX])
{
	struct ku_pipe *p = ctx;
	char tmp[32];
	int n;

	(void)pid;
	if (p->no_comm)
		return -1;
	n = snprintf(tmp, sizeof(tmp), "comm-%u", tid);
	if (n > KTRACER_COMM_MAX)
		n = KTRACER_COMM_MAX;
	memcpy(buf, tmp, (size_t)n);
	return n;
}

void ku_pipe_init(struct ku_pipe *p, const struct ku_pipe_cfg *cfg)
{
	struct kr_statsd_cfg sc = {
		.prefix = "kt.", .tags = cfg->tags, .host = "testhost",
		.send = ku_send, .ctx = p, .dest = "test",
	};
	struct kr_model_cfg mc;
	unsigned int i;

	memset(p, 0, sizeof(*p));
	p->ncpu = cfg->ncpu ? cfg->ncpu : 2;
	p->mode = cfg->mode ? cfg->mode : KTRACER_MODE_DISCARD;
	p->trace = !cfg->no_trace;
	p->metrics = cfg->metrics;
	p->now = 1000;
	for (i = 0; i < p->ncpu; i++)
		if (fake_init(&p->fr[i], i, cfg->ring_size ? cfg->ring_size :
			      64 << 10, &p->mode))
			abort();
	if (kr_merge_init(&p->merge, p->ncpu, cfg->fifo_size ?
			  cfg->fifo_size : 256 << 10, 1000))
		abort();
	kr_names_init(&p->names);
	if (kr_out_init(&p->out, 64 << 10, ku_buf_write, &p->doc))
		abort();
	if (p->trace)
		kr_json_begin(&p->json, &p->out);
	if (p->metrics && kr_statsd_init(&p->statsd, &sc))
		abort();
	mc = (struct kr_model_cfg){
		.ncpu = p->ncpu, .names = &p->names, .ctx = p,
		.reload_names = ku_reload, .comm = ku_comm,
		.max_tracks = cfg->max_tracks, .max_threads = cfg->max_threads,
		.sink = {
			.ctx = p,
			.origin = p->trace ? ku_origin : NULL,
			.event = p->trace ? ku_event : NULL,
			.span = p->metrics ? ku_span : NULL,
			.gauge = p->metrics ? ku_gauge : NULL,
			.count = p->metrics ? ku_count_fn : NULL,
		},
	};
	p->model = kr_model_new(&mc);
	if (!p->model)
		abort();
}

bool ku_put_msg(struct ku_pipe *p, unsigned int cpu, uint8_t type,
		uint8_t flags, uint32_t event, uint64_t ts, uint32_t pid,
		uint32_t tid, uint32_t slot, uint64_t arg, uint64_t extra,
		const void *msg, uint32_t len)
{
	struct ktracer_record h = fake_rec(type, event, ts, pid, tid, slot,
					   arg, extra);

	h.flags = flags;
	if (ts >= p->now)
		p->now = ts + 1;
	return fake_write(&p->fr[cpu], &h, msg, len, true);
}

bool ku_put(struct ku_pipe *p, unsigned int cpu, uint8_t type, uint32_t event,
	    uint64_t ts, uint32_t pid, uint32_t tid, uint32_t slot,
	    uint64_t arg, uint64_t extra)
{
	return ku_put_msg(p, cpu, type, 0, event, ts, pid, tid, slot, arg,
			  extra, NULL, 0);
}

static void ku_cycle(struct ku_pipe *p, bool final)
{
	unsigned int i, round;
	bool drained;

	for (round = 0; round < 1000; round++) {
		drained = true;
		for (i = 0; i < p->ncpu; i++) {
			kr_ring_pull(&p->fr[i].ring, &p->merge.q[i], p->now);
			drained &= p->merge.q[i].drained;
		}
		kr_merge_run(&p->merge, final ? KR_MERGE_ALL : KR_MERGE_SAFE,
			     kr_model_rec_fn, p->model);
		if (drained)
			break;
		if (kr_merge_crowded(&p->merge))
			kr_merge_run(&p->merge, KR_MERGE_ROOM,
				     kr_model_rec_fn, p->model);
	}
}

void ku_pipe_read(struct ku_pipe *p)
{
	ku_cycle(p, false);
}

const char *ku_pipe_end(struct ku_pipe *p)
{
	struct kr_arg sum[] = {
		{ .key = "tool", .klen = 4, .type = KR_ARG_STR, .len = 4,
		  .v.str = "test" },
		{ .key = "records", .klen = 7,
		  .v.u = kr_model_stats(p->model)->records },
	};

	unsigned int i;

	ku_cycle(p, true);
	kr_model_finish(p->model);
	if (p->trace)
		kr_json_end(&p->json, sum, 2);
	if (p->metrics) {
		for (i = 0; i < p->ncpu; i++)
			kr_statsd_reader(&p->statsd, p->fr[i].ring.st.records,
					 p->fr[i].ring.st.lost);
		kr_statsd_emit(&p->statsd);
	}
	return ku_buf_str(&p->doc);
}

void ku_pipe_free(struct ku_pipe *p)
{
	unsigned int i;

	for (i = 0; i < p->ncpu; i++)
		fake_free(&p->fr[i]);
	kr_merge_free(&p->merge);
	kr_model_free(p->model);
	kr_out_free(&p->out);
	if (p->metrics)
		kr_statsd_free(&p->statsd);
	ku_buf_free(&p->doc);
	ku_buf_free(&p->dgrams);
}
