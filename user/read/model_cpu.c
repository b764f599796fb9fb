// SPDX-License-Identifier: GPL-2.0
/*
 * ktracer-read: the kernel's CPU tracks (the running task, IRQs,
 * softirqs), the scheduler's and tasks' instants, and lost records
 * (model_int.h).
 */

#include <stdio.h>
#include <string.h>

#include "model_int.h"

/* The tid of CPU @cpu's track @k, named on first use. */
static uint32_t kr_cpu_track(struct kr_model *m, unsigned int cpu, unsigned int k)
{
	static const char *const what[KR_CPU_TRACKS] = { "", " irq", " softirq" };
	uint32_t tid = KR_TID_CPU_BASE + cpu * 4 + k;
	char buf[48];
	int n;

	if (!(m->cpu[cpu].named & (1u << k))) {
		m->cpu[cpu].named |= (uint8_t)(1u << k);
		kr_name_kernel(m);
		n = snprintf(buf, sizeof(buf), "cpu %u%s", cpu, what[k]);
		kr_meta(m, "thread_name", KR_KERNEL_PID, tid, buf, (size_t)n);
		kr_meta_sort(m, "thread_sort_index", KR_KERNEL_PID, tid,
			     (int64_t)cpu * 4 + k);
	}
	return tid;
}

static const char *const kr_softirqs[] = {
	"HI", "TIMER", "NET_TX", "NET_RX", "BLOCK", "IRQ_POLL", "TASKLET",
	"SCHED", "HRTIMER", "RCU",
};

/* What a span on a CPU's track @k is called: comm, handler, vector. */
static void kr_cspan_name(struct kr_model *m, struct kr_cspan *c,
			  unsigned int k, const struct ktracer_record *r)
{
	const struct kr_thread *t;
	int n = 0;

	switch (k) {
	case KR_T_RUN:
		if (r->type == KTRACER_REC_START) {
			n = r->len < KTRACER_COMM_MAX ? (int)r->len :
							KTRACER_COMM_MAX;
			memcpy(c->name, kr_rec_msg(r), (size_t)n);
			break;
		}
		t = kr_map_get(&m->threads, r->tid);
		if (t && (t->flags & KR_TH_COMM)) {
			n = t->len;
			memcpy(c->name, t->comm, t->len);
		} else {
			n = snprintf(c->name, sizeof(c->name), "tid %u", r->tid);
		}
		break;
	case KR_T_IRQ:
		if (r->type == KTRACER_REC_START && r->len) {
			n = r->len < sizeof(c->name) ? (int)r->len :
						       (int)sizeof(c->name);
			memcpy(c->name, kr_rec_msg(r), (size_t)n);
		} else {
			n = snprintf(c->name, sizeof(c->name), "irq %u",
				     (unsigned int)r->arg);
		}
		break;
	default:
		if (r->arg < sizeof(kr_softirqs) / sizeof(kr_softirqs[0]))
			n = snprintf(c->name, sizeof(c->name), "softirq %s",
				     kr_softirqs[r->arg]);
		else
			n = snprintf(c->name, sizeof(c->name), "softirq %u",
				     (unsigned int)r->arg);
	}
	c->len = (uint8_t)(n < (int)sizeof(c->name) ? n : (int)sizeof(c->name) - 1);
}

static const char *const kr_cspan_cat[KR_CPU_TRACKS] = {
	"sched", "irq", "softirq",
};

/* Draw CPU @cpu's span @c up to @end; @r the STOP, or NULL if none came. */
static void kr_cspan_emit(struct kr_model *m, unsigned int cpu, unsigned int k,
			  struct kr_cspan *c, uint64_t end,
			  const struct ktracer_record *r, const char *why)
{
	struct kr_ev ev;

	if (end < c->start)
		end = c->start;
	c->open = 0;
	c->last_end = end;
	if (!m->trace)
		return;
	kr_ev_span(&ev, KR_KERNEL_PID, kr_cpu_track(m, cpu, k), c->start, end,
		   kr_cspan_cat[k]);
	kr_ev_name(&ev, c->name, c->len);
	switch (k) {
	case KR_T_RUN:
		kr_ev_arg(&ev, "pid", KR_ARG_U64, c->pid);
		kr_ev_arg(&ev, "tid", KR_ARG_U64, c->tid);
		kr_ev_arg(&ev, "prio", KR_ARG_U64, c->arg);
		if (r)
			kr_ev_arg(&ev, "state", KR_ARG_U64, r->arg);
		break;
	case KR_T_IRQ:
		kr_ev_arg(&ev, "irq", KR_ARG_U64, c->arg);
		break;
	default:
		kr_ev_arg(&ev, "vec", KR_ARG_U64, c->arg);
	}
	if (why)
		kr_ev_arg(&ev, why, KR_ARG_TRUE, 0);
	kr_emit_pair(m, &ev);
}

void kr_cpu_span(struct kr_model *m, const struct ktracer_record *r,
			unsigned int k)
{
	struct kr_cspan *c;
	uint64_t start;

	if (r->slot >= m->cfg.ncpu) {
		m->st.skipped[KR_BAD_SLOT]++;
		return;
	}
	c = &m->cpu[r->slot].t[k];
	if (r->type == KTRACER_REC_START) {
		if (c->open)
			kr_cspan_emit(m, r->slot, k, c, r->ts, NULL, "stop_lost");
		if (k == KR_T_RUN)
			kr_set_comm(m, r->pid, r->tid, kr_rec_msg(r), r->len);
		if (r->ts < c->last_end) {
			m->st.skipped[KR_BAD_OVERLAP]++;	/* out of order */
			return;
		}
		kr_cspan_name(m, c, k, r);
		c->open = 1;
		c->start = r->ts;
		c->arg = r->arg;
		c->pid = r->pid;
		c->tid = r->tid;
		return;
	}
	if (r->type != KTRACER_REC_STOP) {
		m->st.skipped[KR_BAD_KIND]++;
		return;
	}
	start = r->ts >= r->extra ? r->ts - r->extra : 0;
	if (c->open && (k != KR_T_RUN || c->tid == r->tid)) {
		start = c->start;
		kr_cspan_emit(m, r->slot, k, c, r->ts, r, NULL);
	} else if (!c->open && r->extra && start >= c->last_end) {
		kr_cspan_name(m, c, k, r);
		c->start = start;
		c->arg = k == KR_T_RUN ? 0 : r->arg;
		c->pid = r->pid;
		c->tid = r->tid;
		kr_cspan_emit(m, r->slot, k, c, r->ts, r, "start_unseen");
	} else {
		m->st.skipped[KR_BAD_UNPAIRED]++;
		return;
	}
	m->st.spans++;
	if (m->cfg.sink.span)
		m->cfg.sink.span(m->cfg.sink.ctx, r->event,
				 kr_evname(m, r->event),
				 k == KR_T_RUN ? r->pid : 0, kr_dur(r->ts, start));
}

/*
 * A SWITCH: the STOP of prev and the START of next it stands for
 * (uapi/linux/ktracer.h, "The SWITCH record"), drawn as they are.
 */
void kr_cpu_switch(struct kr_model *m, const struct ktracer_record *r)
{
	struct {
		struct ktracer_record h;
		unsigned char msg[KTRACER_COMM_MAX];	/* kr_rec_msg(&h) */
	} rec;
	struct ktracer_switch sw;
	size_t len;

	if (r->len != sizeof(sw)) {
		m->st.skipped[KR_BAD_PAYLOAD]++;
		return;
	}
	if (r->slot >= m->cfg.ncpu) {
		m->st.skipped[KR_BAD_SLOT]++;
		return;
	}
	memcpy(&sw, kr_rec_msg(r), sizeof(sw));
	rec.h = *r;
	rec.h.size = KR_REC_HDR;
	rec.h.type = KTRACER_REC_STOP;
	rec.h.pid = (uint32_t)(r->arg >> 32);
	rec.h.tid = (uint32_t)r->arg;
	rec.h.len = 0;
	rec.h.arg = sw.prev_state;
	kr_cpu_span(m, &rec.h, KR_T_RUN);

	len = strnlen(sw.next_comm, sizeof(sw.next_comm));
	memcpy(rec.msg, sw.next_comm, len);
	rec.h = *r;
	rec.h.size = (uint16_t)(KR_REC_HDR + ((len + 7) & ~(size_t)7));
	rec.h.type = KTRACER_REC_START;
	rec.h.len = (uint32_t)len;
	rec.h.arg = sw.next_prio;
	rec.h.extra = 0;
	kr_cpu_span(m, &rec.h, KR_T_RUN);
}

/* sched.wakeup, task.fork, task.exec, task.exit: on the thread's track. */
void kr_task_instant(struct kr_model *m, const struct ktracer_record *r)
{
	struct kr_ev ev;

	if (r->type != KTRACER_REC_LOG) {
		m->st.skipped[KR_BAD_KIND]++;
		return;
	}
	kr_set_comm(m, r->pid, r->tid, kr_rec_msg(r), r->len);
	if (r->event == KTRACER_KEV_EXIT)
		kr_sys_exited(m, r->tid, r->ts);
	if (!m->trace)
		return;
	kr_name_thread(m, r->pid, r->tid);
	kr_ev_init(&ev, KR_PH_INSTANT, r->pid, r->tid, r->ts,
		   r->event == KTRACER_KEV_WAKEUP ? "sched" : "task");
	kr_ev_evname(&ev, kr_evname(m, r->event));
	switch (r->event) {
	case KTRACER_KEV_WAKEUP:
		kr_ev_arg(&ev, "waker_tid", KR_ARG_U64, r->arg);
		kr_ev_arg(&ev, "cpu", KR_ARG_U64, r->extra);
		break;
	case KTRACER_KEV_FORK:
		kr_ev_arg(&ev, "parent_tid", KR_ARG_U64, r->arg);
		kr_ev_arg(&ev, "parent_pid", KR_ARG_U64, r->extra);
		break;
	case KTRACER_KEV_EXEC:
		kr_ev_arg(&ev, "old_tid", KR_ARG_U64, r->arg);
		break;
	default:
		kr_ev_arg(&ev, "exit_code", KR_ARG_S64, r->arg);
	}
	kr_ev_str(&ev, "comm", kr_rec_msg(r), r->len);
	kr_emit(m, &ev);
}

void kr_lost(struct kr_model *m, unsigned int cpu,
		    const struct ktracer_record *r)
{
	char name[64], *p;
	struct kr_ev ev;

	if (r->flags & KR_RECF_CORRUPT)
		m->st.corrupt_bytes = kr_sat(m->st.corrupt_bytes, r->arg);
	else if (r->flags & KR_RECF_OVERWRITTEN)
		m->st.overwritten = kr_sat(m->st.overwritten, r->arg);
	else
		m->st.lost = kr_sat(m->st.lost, r->arg);
	if (!m->trace || cpu >= m->cfg.ncpu)
		return;
	if (r->flags & KR_RECF_CORRUPT) {
		p = kr_fmt_u64(kr_put(name, "[skipped "), r->arg);
		p = kr_put(p, " unreadable bytes]");
	} else {
		p = kr_fmt_u64(kr_put(name, "[lost "), r->arg);
		p = kr_put(p, " events]");
	}
	kr_ev_init(&ev, KR_PH_INSTANT, KR_KERNEL_PID,
		   kr_cpu_track(m, cpu, KR_T_RUN), r->ts, "lost");
	kr_ev_name(&ev, name, (size_t)(p - name));
	kr_ev_arg(&ev, r->flags & KR_RECF_CORRUPT ? "bytes" : "lost",
		  KR_ARG_U64, r->arg);
	kr_ev_arg(&ev, "cpu", KR_ARG_U64, cpu);
	if (r->flags & KR_RECF_OVERWRITTEN)
		kr_ev_arg(&ev, "overwritten", KR_ARG_TRUE, 0);
	kr_emit(m, &ev);
}

void kr_cpu_finish(struct kr_model *m)
{
	unsigned int cpu, k;

	for (cpu = 0; cpu < m->cfg.ncpu; cpu++)
		for (k = 0; k < KR_CPU_TRACKS; k++)
			if (m->cpu[cpu].t[k].open) {
				m->st.open_at_end++;
				kr_cspan_emit(m, cpu, k, &m->cpu[cpu].t[k],
					      m->last_ts, NULL, "open");
			}
}
