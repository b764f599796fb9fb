// SPDX-License-Identifier: GPL-2.0
/* ktracer-read: block requests, on their device's tracks (model_int.h). */

#include <string.h>

#include "model_int.h"


/* The index of device @dev in the table, added if new; -1 if it is full. */
static int kr_dev_index(struct kr_model *m, uint32_t dev)
{
	int i;

	for (i = 0; i < KR_BLOCK_DEVS && m->dev[i].used; i++)
		if (m->dev[i].dev == dev)
			return i;
	if (i == KR_BLOCK_DEVS)
		return -1;
	m->dev[i].used = 1;
	m->dev[i].dev = dev;
	if (m->trace && m->cfg.sysfs)
		m->dev[i].name_len = (uint8_t)kr_sysfs_devname(m->cfg.sysfs,
							       dev,
							       m->dev[i].name);
	return i;
}

/* A lane of device @d free from @start on, or -1. */
static int kr_dev_lane(const struct kr_dev *d, uint64_t start)
{
	int i;

	for (i = 0; i < KR_BLOCK_LANES; i++)
		if (!(d->busy & (1ull << i)) && d->last_end[i] <= start)
			return i;
	return -1;
}

static char *kr_fmt_dev(char *p, uint32_t dev)
{
	p = kr_fmt_u64(p, dev >> 20);
	*p++ = ':';
	return kr_fmt_u64(p, dev & 0xfffff);
}

static uint32_t kr_dev_track(struct kr_model *m, unsigned int d,
			     unsigned int lane)
{
	uint32_t tid = KR_TID_BLOCK_BASE + d * KR_BLOCK_LANES + lane;
	char buf[48 + KR_DEVNAME_MAX], *p;

	if (!(m->dev[d].named & (1ull << lane))) {
		m->dev[d].named |= 1ull << lane;
		kr_name_kernel(m);
		p = kr_put(buf, "block ");
		if (m->dev[d].name_len)
			p = kr_fmt_lit(p, m->dev[d].name, m->dev[d].name_len);
		else
			p = kr_fmt_dev(p, m->dev[d].dev);
		if (lane) {
			p = kr_put(p, " #");
			p = kr_fmt_u64(p, lane);
		}
		kr_meta(m, "thread_name", KR_KERNEL_PID, tid, buf,
			(size_t)(p - buf));
		kr_meta_sort(m, "thread_sort_index", KR_KERNEL_PID, tid,
			     (1 << 20) + (int64_t)(tid - KR_TID_BLOCK_BASE));
	}
	return tid;
}

static void kr_rq_emit(struct kr_model *m, struct kr_rq *q, uint64_t end,
		       const struct ktracer_block *done, const char *why)
{
	static const char *const ops[] = { "read", "write", "flush", "discard" };
	struct kr_dev *d = &m->dev[q->dev];
	char dev[32], *p, op[24];
	struct kr_ev ev;

	if (end < q->start)
		end = q->start;
	q->open = 0;
	d->busy &= ~(1ull << q->lane);
	d->last_end[q->lane] = end;
	if (!m->trace)
		return;
	kr_ev_span(&ev, KR_KERNEL_PID, kr_dev_track(m, q->dev, q->lane),
		   q->start, end, "block");
	if (q->b.op < sizeof(ops) / sizeof(ops[0])) {
		kr_ev_name(&ev, ops[q->b.op], strlen(ops[q->b.op]));
	} else {
		p = kr_fmt_u64(kr_put(op, "op "), q->b.op);
		kr_ev_name(&ev, op, (size_t)(p - op));
	}
	p = kr_fmt_dev(dev, q->b.dev);
	kr_ev_str(&ev, "dev", dev, (uint32_t)(p - dev));
	kr_ev_arg(&ev, "sector", KR_ARG_U64, q->b.sector);
	kr_ev_arg(&ev, "bytes", KR_ARG_U64, q->b.bytes);
	if (done)
		kr_ev_arg(&ev, "error", KR_ARG_S64, (uint64_t)(int64_t)done->error);
	kr_ev_arg(&ev, "pid", KR_ARG_U64, q->pid);
	kr_ev_arg(&ev, "tid", KR_ARG_U64, q->tid);
	if (why)
		kr_ev_arg(&ev, why, KR_ARG_TRUE, 0);
	kr_emit_pair(m, &ev);
}

void kr_block(struct kr_model *m, const struct ktracer_record *r)
{
	struct ktracer_block b;
	struct kr_rq *q;
	uint64_t start;
	int d, lane;

	if (r->type != KTRACER_REC_START && r->type != KTRACER_REC_STOP) {
		m->st.skipped[KR_BAD_KIND]++;
		return;
	}
	if (r->slot >= KTRACER_BLOCK_INFLIGHT) {
		m->st.skipped[KR_BAD_SLOT]++;
		return;
	}
	if (r->len != sizeof(b)) {
		m->st.skipped[KR_BAD_PAYLOAD]++;
		return;
	}
	memcpy(&b, kr_rec_msg(r), sizeof(b));
	q = &m->rq[r->slot];
	if (r->type == KTRACER_REC_START) {
		if (q->open)
			kr_rq_emit(m, q, r->ts, NULL, "stop_lost");
		start = r->ts;
	} else if (q->open && q->b.dev == b.dev && q->b.sector == b.sector) {
		kr_rq_emit(m, q, r->ts, &b, NULL);
		goto done;
	} else if (r->extra) {
		start = r->ts >= r->extra ? r->ts - r->extra : 0;
	} else {
		m->st.skipped[KR_BAD_UNPAIRED]++;
		return;
	}
	d = kr_dev_index(m, b.dev);
	lane = d < 0 ? -1 : kr_dev_lane(&m->dev[d], start);
	if (lane < 0) {
		m->st.skipped[KR_BAD_FULL]++;
		return;
	}
	q->start = start;
	q->b = b;
	q->pid = r->pid;
	q->tid = r->tid;
	q->dev = (uint8_t)d;
	q->lane = (uint8_t)lane;
	q->open = 1;
	m->dev[d].busy |= 1ull << lane;
	if (r->type == KTRACER_REC_START)
		return;
	kr_rq_emit(m, q, r->ts, &b, "start_unseen");
done:
	m->st.spans++;
	if (m->cfg.sink.span)
		m->cfg.sink.span(m->cfg.sink.ctx, r->event,
				 kr_evname(m, r->event), 0, r->extra);
}

void kr_block_finish(struct kr_model *m)
{
	unsigned int i;

	for (i = 0; i < KTRACER_BLOCK_INFLIGHT; i++)
		if (m->rq[i].open) {
			m->st.open_at_end++;
			kr_rq_emit(m, &m->rq[i], m->last_ts, NULL, "open");
		}
}
