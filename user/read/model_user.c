// SPDX-License-Identifier: GPL-2.0
/*
 * ktracer-read: a program's spans, counters, gauges and logs (model_int.h).
 *
 * A STOP (or CANCEL) carries the time since its START in "extra", so the
 * START it closes is the open one whose ts is exactly ts - extra: that is
 * how a STOP finds its START among several open on one slot, and how a
 * span whose START was never read (lost, or before the reader started)
 * is still drawn, flagged "start_unseen". A START on a track whose span
 * never saw its STOP (lost) closes that span there, flagged "stop_lost",
 * so that a track's spans always nest.
 */

#include <stdio.h>
#include <string.h>

#include "model_int.h"

static inline uint64_t kr_span_key(uint32_t pid, uint32_t event, uint32_t slot,
				   unsigned int lane)
{
	return (uint64_t)pid << 30 | (uint64_t)event << 19 |
	       (uint64_t)slot << 3 | lane;
}

static void kr_span_unkey(uint64_t key, uint32_t *pid, uint32_t *event,
			  uint32_t *slot, unsigned int *lane)
{
	*pid = (uint32_t)(key >> 30);
	*event = (uint32_t)(key >> 19) & 0x7ff;
	*slot = (uint32_t)(key >> 3) & 0xffff;
	*lane = (unsigned int)(key & 7);
}

/* The track of (process, event, slot, lane), made and named if new. */
static struct kr_span *kr_span_track(struct kr_model *m, uint64_t key)
{
	uint32_t pid, event, slot;
	const struct kr_evname *e;
	char buf[KTRACER_NAME_MAX + 32];
	struct kr_span *s;
	unsigned int lane;
	int created, n;

	s = kr_map_put(&m->spans, key, &created);
	if (!created)
		return s;
	s->track = m->next_track++;
	if (!m->trace)
		return s;
	kr_span_unkey(key, &pid, &event, &slot, &lane);
	s->head_len = (uint8_t)(kr_json_head(s->head, pid, s->track) - s->head);
	kr_name_process(m, pid);
	e = kr_evname(m, event);
	memcpy(buf, e->name, e->len);
	n = e->len;
	if (!(e->known && e->slots == 1))
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, " #%u", slot);
	if (lane)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, " (%u)", lane + 1);
	kr_meta(m, "thread_name", pid, s->track, buf, (size_t)n);
	kr_meta_sort(m, "thread_sort_index", pid, s->track,
		     (int64_t)(key & ((1ull << 30) - 1)));
	return s;
}

/*
 * Draw the open span @s of @key up to @end, flagged @why ("stop_lost",
 * "open", "evicted"): it never got its STOP.
 */
static void kr_span_cut(struct kr_model *m, uint64_t key, struct kr_span *s,
			uint64_t end, const char *why)
{
	uint32_t pid, event, slot;
	unsigned int lane;
	struct kr_ev ev;

	s->open = 0;
	s->last_end = end > s->start ? end : s->start;
	if (!m->trace)
		return;
	kr_span_unkey(key, &pid, &event, &slot, &lane);
	kr_ev_span(&ev, pid, s->track, s->start, end, NULL);
	ev.head = s->head;
	ev.head_len = s->head_len;
	kr_ev_evname(&ev, kr_evname(m, event));
	kr_ev_arg(&ev, "slot", KR_ARG_U64, slot);
	kr_ev_arg(&ev, "arg", KR_ARG_U64, s->arg);
	kr_ev_arg(&ev, "tid", KR_ARG_U64, s->tid);
	kr_ev_arg(&ev, why, KR_ARG_TRUE, 0);
	kr_emit(m, &ev);
}

/* A span still open that goes: drawn to the last record, @why, counted. */
static void kr_span_drop(struct kr_model *m, uint64_t key, struct kr_span *s,
			 uint64_t *count, const char *why)
{
	if (!s->open)
		return;
	(*count)++;
	kr_span_cut(m, key, s, m->last_ts, why);
}

void kr_span_evicted(void *ctx, uint64_t key, void *val)
{
	struct kr_model *m = ctx;

	kr_span_drop(m, key, val, &m->st.evicted, "evicted");
}

static void kr_user_start(struct kr_model *m, const struct ktracer_record *r)
{
	uint64_t base = kr_span_key(r->pid, r->event, r->slot, 0);
	unsigned int lane, oldest = KR_LANES;
	uint64_t oldest_start = UINT64_MAX;
	struct kr_span *s;

	for (lane = 0; lane < KR_LANES; lane++) {
		s = kr_map_get(&m->spans, base + lane);
		if (!s || (!s->open && s->last_end <= r->ts))
			break;
		if (s->open && s->start < oldest_start) {
			oldest_start = s->start;
			oldest = lane;
		}
	}
	if (lane == KR_LANES) {
		/* Every track busy: the oldest span lost its STOP. */
		if (oldest == KR_LANES || oldest_start > r->ts) {
			m->st.skipped[KR_BAD_OVERLAP]++;
			return;
		}
		lane = oldest;
		kr_span_cut(m, base + lane, kr_map_get(&m->spans, base + lane),
			    r->ts, "stop_lost");
	}
	s = kr_span_track(m, base + lane);
	s->open = 1;
	s->start = r->ts;
	s->arg = r->arg;
	s->tid = r->tid;
}

/* A free track of (process, event, slot) for a span from @start; or NULL. */
static struct kr_span *kr_span_free_lane(struct kr_model *m, uint64_t base,
					 uint64_t start)
{
	struct kr_span *s;
	unsigned int lane;

	for (lane = 0; lane < KR_LANES; lane++) {
		s = kr_map_get(&m->spans, base + lane);
		if (!s)
			return kr_span_track(m, base + lane);
		if (!s->open && s->last_end <= start)
			return s;
	}
	return NULL;
}

static void kr_user_stop(struct kr_model *m, const struct ktracer_record *r)
{
	uint64_t base = kr_span_key(r->pid, r->event, r->slot, 0);
	uint64_t start = r->ts >= r->extra ? r->ts - r->extra : 0;
	bool cancel = r->type == KTRACER_REC_CANCEL;
	const struct kr_evname *e = kr_evname(m, r->event);
	struct kr_span *s = NULL;
	unsigned int lane;
	bool seen = true;
	struct kr_ev ev;

	for (lane = 0; lane < KR_LANES; lane++) {
		s = kr_map_get(&m->spans, base + lane);
		/* extra 0: maybe a STOP timed before its START, in one batch */
		if (s && s->open && (s->start == start ||
				     (!r->extra && s->start >= r->ts)))
			break;
	}
	if (lane == KR_LANES) {
		seen = false;
		s = kr_span_free_lane(m, base, start);
		if (!s) {
			m->st.skipped[KR_BAD_OVERLAP]++;
			return;
		}
	}
	if (cancel)
		m->st.cancelled++;
	else
		m->st.spans++;
	if (m->cfg.sink.json && seen && !cancel && s->tid == r->tid) {
		m->st.events++;
		kr_json_span(m->cfg.sink.json, s->head, s->head_len, s->start,
			     kr_dur(r->ts, s->start), e->json, e->json_len,
			     r->slot, s->arg, s->tid, r->arg);
	} else if (m->trace) {
		kr_ev_span(&ev, r->pid, s->track, seen ? s->start : start, r->ts,
			   NULL);
		ev.head = s->head;
		ev.head_len = s->head_len;
		kr_ev_evname(&ev, e);
		kr_ev_arg(&ev, "slot", KR_ARG_U64, r->slot);
		if (seen) {
			kr_ev_arg(&ev, "arg", KR_ARG_U64, s->arg);
			kr_ev_arg(&ev, "tid", KR_ARG_U64, s->tid);
			if (s->tid != r->tid)
				kr_ev_arg(&ev, "stop_tid", KR_ARG_U64, r->tid);
		} else {
			kr_ev_arg(&ev, "tid", KR_ARG_U64, r->tid);
			kr_ev_arg(&ev, "start_unseen", KR_ARG_TRUE, 0);
		}
		if (cancel) {
			kr_ev_arg(&ev, "cancelled", KR_ARG_TRUE, 0);
			if (r->flags & KTRACER_RECF_CLOSE)
				kr_ev_arg(&ev, "closed", KR_ARG_TRUE, 0);
		} else {
			kr_ev_arg(&ev, "stop_arg", KR_ARG_U64, r->arg);
		}
		kr_emit(m, &ev);
	}
	s->open = 0;
	if (seen)
		start = s->start;
	s->last_end = r->ts > start ? r->ts : start;
	if (!cancel && m->cfg.sink.span)
		m->cfg.sink.span(m->cfg.sink.ctx, r->event, e, r->pid,
				 kr_dur(r->ts, start));
}

static void kr_user_value(struct kr_model *m, const struct ktracer_record *r)
{
	const struct kr_evname *e = kr_evname(m, r->event);
	bool gauge = r->type == KTRACER_REC_GAUGE;
	struct kr_ev ev;

	if (m->cfg.sink.json) {
		kr_name_process(m, r->pid);
		m->st.events++;
		kr_json_counter(m->cfg.sink.json, r->pid, r->ts, e->json,
				e->json_len, gauge ? r->arg : r->extra, gauge);
	} else if (m->trace) {
		kr_name_process(m, r->pid);
		kr_ev_init(&ev, KR_PH_COUNTER, r->pid, r->tid, r->ts, NULL);
		kr_ev_evname(&ev, e);
		kr_ev_arg(&ev, "value", gauge ? KR_ARG_S64 : KR_ARG_U64,
			  gauge ? r->arg : r->extra);
		kr_emit(m, &ev);
	}
	if (gauge && m->cfg.sink.gauge)
		m->cfg.sink.gauge(m->cfg.sink.ctx, r->event, e, r->pid,
				  (int64_t)r->arg);
	else if (!gauge && m->cfg.sink.count)
		m->cfg.sink.count(m->cfg.sink.ctx, r->event, e, r->pid, r->arg);
}

static void kr_user_log(struct kr_model *m, const struct ktracer_record *r)
{
	struct kr_ev ev;

	if (!m->trace)
		return;
	kr_name_thread(m, r->pid, r->tid);
	if (m->cfg.sink.json) {
		const struct kr_evname *e = kr_evname(m, r->event);

		m->st.events++;
		kr_json_log(m->cfg.sink.json, r->pid, r->tid, r->ts, e->json,
			    e->json_len, kr_rec_msg(r), r->len);
		return;
	}
	kr_ev_init(&ev, KR_PH_INSTANT, r->pid, r->tid, r->ts, NULL);
	kr_ev_evname(&ev, kr_evname(m, r->event));
	kr_ev_str(&ev, "msg", kr_rec_msg(r), r->len);
	kr_emit(m, &ev);
}

void kr_user(struct kr_model *m, const struct ktracer_record *r)
{
	switch (r->type) {
	case KTRACER_REC_START:
		if (r->slot > 0xffff)
			m->st.skipped[KR_BAD_SLOT]++;
		else
			kr_user_start(m, r);
		break;
	case KTRACER_REC_STOP:
	case KTRACER_REC_CANCEL:
		if (r->slot > 0xffff)
			m->st.skipped[KR_BAD_SLOT]++;
		else
			kr_user_stop(m, r);
		break;
	case KTRACER_REC_GAUGE:
	case KTRACER_REC_COUNT:
		kr_user_value(m, r);
		break;
	default:
		kr_user_log(m, r);
	}
}

static void kr_span_open_at_end(void *ctx, uint64_t key, void *val)
{
	struct kr_model *m = ctx;

	kr_span_drop(m, key, val, &m->st.open_at_end, "open");
}

void kr_user_finish(struct kr_model *m)
{
	kr_map_each(&m->spans, kr_span_open_at_end, m);
}
