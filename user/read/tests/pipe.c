// SPDX-License-Identifier: GPL-2.0
/* ktracer-read's host tests: the whole reader, on buffers in memory. */

#include <stdlib.h>

#include "tests.h"

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

	static struct kr_names names;

	memset(p, 0, sizeof(*p));
	p->names = &names;
	p->ncpu = cfg->ncpu ? cfg->ncpu : 2;
	p->mode = cfg->mode ? cfg->mode : KTRACER_MODE_DISCARD;
	p->trace = !cfg->no_trace;
	p->metrics = cfg->metrics;
	p->now = 1000;
	for (i = 0; i < p->ncpu; i++) {
		if (fake_init(&p->fr[i], i, cfg->ring_size ? cfg->ring_size :
			      64 << 10, &p->mode))
			abort();
		p->ringp[i] = &p->fr[i].ring;
	}
	if (kr_merge_init(&p->merge, p->ncpu, cfg->fifo_size ?
			  cfg->fifo_size : 256 << 10, 1000))
		abort();
	kr_names_init(p->names);
	if (kr_out_init(&p->out, 64 << 10, ku_buf_write, &p->doc))
		abort();
	if (p->trace)
		kr_json_begin(&p->json, &p->out);
	if (p->metrics && kr_statsd_init(&p->statsd, &sc))
		abort();
	p->outs.json = p->trace ? &p->json : NULL;
	p->outs.statsd = p->metrics ? &p->statsd : NULL;
	mc = (struct kr_model_cfg){
		.ncpu = p->ncpu, .names = p->names, .ctx = p,
		.reload_names = ku_reload, .comm = ku_comm,
		.max_tracks = cfg->max_tracks, .max_threads = cfg->max_threads,
		.sysfs = cfg->sysfs,
		.sink = kr_outputs_sink(&p->outs),
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
	kr_read_cycle(p->ringp, p->ncpu, &p->merge, p->model, p->now, final);
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

	uint64_t read, lost;

	ku_cycle(p, true);
	kr_model_finish(p->model);
	if (p->trace)
		kr_json_end(&p->json, sum, 2);
	if (p->metrics) {
		kr_read_totals(p->ringp, p->ncpu, &read, &lost);
		kr_statsd_reader(&p->statsd, read, lost);
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
	kr_names_free(p->names);
	kr_out_free(&p->out);
	if (p->metrics)
		kr_statsd_free(&p->statsd);
	ku_buf_free(&p->doc);
	ku_buf_free(&p->dgrams);
}
