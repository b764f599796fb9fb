// SPDX-License-Identifier: GPL-2.0
/*
 * ktracer-read: from records to trace events and metrics (see model.h).
 * This part hands each record to the writer of its family (model_int.h).
 */

#include <errno.h>
#include <stdlib.h>

#include "model_int.h"

static void kr_kernel(struct kr_model *m, const struct ktracer_record *r)
{
	switch (r->event) {
	case KTRACER_KEV_RUNNING:
		if (r->type == KTRACER_REC_SWITCH)
			kr_cpu_switch(m, r);
		else
			kr_cpu_span(m, r, KR_T_RUN);
		break;
	case KTRACER_KEV_IRQ:
		kr_cpu_span(m, r, KR_T_IRQ);
		break;
	case KTRACER_KEV_SOFTIRQ:
		kr_cpu_span(m, r, KR_T_SOFTIRQ);
		break;
	case KTRACER_KEV_SYSCALL:
		kr_syscall(m, r);
		break;
	case KTRACER_KEV_BLOCK:
		kr_block(m, r);
		break;
	default:
		kr_task_instant(m, r);
	}
}

/* ---- the model ------------------------------------------------------------- */

void kr_model_record(struct kr_model *m, unsigned int cpu,
		     const struct ktracer_record *r)
{
	m->st.records++;
	if (!m->have_t0) {
		m->have_t0 = true;
		m->last_ts = r->ts;
		if (m->cfg.sink.origin)
			m->cfg.sink.origin(m->cfg.sink.ctx, r->ts);
	}
	if (r->ts > m->last_ts)
		m->last_ts = r->ts;
	if (r->type == KTRACER_REC_LOST)
		kr_lost(m, cpu, r);
	else if ((r->flags & KTRACER_RECF_KERNEL) &&
		 r->event <= KTRACER_KEV_LAST)
		kr_kernel(m, r);
	else
		kr_user(m, r);
}

void kr_model_rec_fn(void *ctx, unsigned int cpu, const struct ktracer_record *r)
{
	kr_model_record(ctx, cpu, r);
}

void kr_model_finish(struct kr_model *m)
{
	kr_user_finish(m);
	kr_sys_finish(m);
	kr_cpu_finish(m);
	kr_block_finish(m);
}

const struct kr_model_stats *kr_model_stats(const struct kr_model *m)
{
	return &m->st;
}

struct kr_model *kr_model_new(const struct kr_model_cfg *cfg)
{
	struct kr_model *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->cfg = *cfg;
	m->trace = cfg->sink.event != NULL;
	m->next_track = KR_TID_SPAN_BASE;
	m->cpu = calloc(cfg->ncpu ? cfg->ncpu : 1, sizeof(*m->cpu));
	if (!m->cpu ||
	    kr_map_init(&m->spans, cfg->max_tracks ? cfg->max_tracks :
			KR_MAX_TRACKS, sizeof(struct kr_span), kr_span_evicted,
			m) ||
	    kr_map_init(&m->threads, cfg->max_threads ? cfg->max_threads :
			KR_MAX_THREADS, sizeof(struct kr_thread), NULL, NULL) ||
	    kr_map_init(&m->sys, cfg->max_syscalls ? cfg->max_syscalls :
			KR_MAX_SYSCALLS, sizeof(struct kr_sys), kr_sys_evicted,
			m) ||
	    kr_map_init(&m->regions, cfg->max_threads ? cfg->max_threads :
			KR_MAX_THREADS, sizeof(struct kr_rstack), NULL, NULL)) {
		kr_model_free(m);
		errno = ENOMEM;
		return NULL;
	}
	return m;
}

void kr_model_free(struct kr_model *m)
{
	if (!m)
		return;
	kr_map_free(&m->spans);
	kr_map_free(&m->threads);
	kr_map_free(&m->sys);
	kr_map_free(&m->regions);
	free(m->cpu);
	free(m);
}
