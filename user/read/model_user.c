// SPDX-License-Identifier: GPL-2.0
/*
 * ktracer-read: a program's spans, counters, gauges and logs (model_int.h).
 *
 * A STOP (or CANCEL) carries the time since its START in "extra", so the
 * START it closes is the open one whose ts is exactly ts - extra: that is
 * how a STOP finds its START among several open on one slot, and how a
 * span whose START was never read (lost, or before the reader started)
 * is still drawn, flagged "start_unseen". A START on a slot whose span
 * never saw its STOP (lost) closes that span there, flagged "stop_lost".
 * A region is drawn on the thread that started it (kr_region_close keeps
 * its slices nested there), a task as an async slice of its own id.
 */

#include <stdio.h>
#include <string.h>

#include "model_int.h"

/*
 * A span's key: pid (bits 33..63), event id (19..32: ids reach
 * KTRACER_EVENT_ID_MAX, 14 bits), slot (3..18), lane (0..2).
 */
static inline uint64_t kr_span_key(uint32_t pid, uint32_t event, uint32_t slot,
				   unsigned int lane)
{
	_Static_assert(KTRACER_EVENT_ID_MAX <= 0x3fff, "event ids fit 14 bits");
	return (uint64_t)pid << 33 | (uint64_t)event << 19 |
	       (uint64_t)slot << 3 | lane;
}

/* The entry of (process, event, slot, lane), made if new. */
static struct kr_span *kr_span_track(struct kr_model *m, uint64_t key)
{
	struct kr_span *s;
	int created;

	s = kr_map_put(&m->spans, key, &created);
	if (created)
		s->track = m->next_track++;
	return s;
}

/*
 * Where a region's START or STOP at @ts is drawn on thread @tid's track:
 * at @ts, unless that falls in a system call of the thread (an op whose
 * ts the kernel took, inside the call that made it): then just before
 * the call, so that the call and the region nest.
 */
static uint64_t kr_region_ts(struct kr_model *m, uint32_t tid, uint64_t ts)
{
	const struct kr_sys *c = kr_map_get(&m->sys, tid);

	if (c && c->open && c->start <= ts)
		return c->start ? c->start - 1 : 0;
	return ts;
}

/*
 * How a span is drawn: its START's (in @s, or made up for one unseen),
 * and how it ended: @r, its STOP or CANCEL, or NULL and @why ("stop_lost",
 * "open", "evicted") if it was cut at @end.
 */
struct kr_span_end {
	uint64_t end;
	const struct ktracer_record *r;
	const char *why;
	bool seen;
};

static void kr_region_close(struct kr_model *m, uint64_t key,
			    struct kr_span *s, uint64_t end);

static void kr_span_args(struct kr_ev *ev, const struct kr_span *s,
			 uint32_t slot, const struct kr_span_end *x)
{
	const struct ktracer_record *r = x->r;

	kr_ev_arg(ev, "slot", KR_ARG_U64, slot);
	if (x->seen) {
		kr_ev_arg(ev, "arg", KR_ARG_U64, s->arg);
		kr_ev_arg(ev, "tid", KR_ARG_U64, s->tid);
		if (r && s->tid != r->tid)
			kr_ev_arg(ev, "stop_tid", KR_ARG_U64, r->tid);
	} else {
		kr_ev_arg(ev, "tid", KR_ARG_U64, s->tid);
		kr_ev_arg(ev, "start_unseen", KR_ARG_TRUE, 0);
	}
	if (!r) {
		kr_ev_arg(ev, x->why, KR_ARG_TRUE, 0);
	} else if (r->type == KTRACER_REC_CANCEL) {
		kr_ev_arg(ev, "cancelled", KR_ARG_TRUE, 0);
		if (r->flags & KTRACER_RECF_CLOSE)
			kr_ev_arg(ev, "closed", KR_ARG_TRUE, 0);
	} else {
		kr_ev_arg(ev, "stop_arg", KR_ARG_U64, r->arg);
	}
	if (s->text_len)
		kr_ev_str(ev, "text", s->text, s->text_len);
}

/*
 * Draw span @s of @key, ended as @x says: a region as a slice on its
 * thread's track (a B/E pair, as the kernel's spans: see kr_emit_pair),
 * a task as an async slice ("b" and "e", id its entry's track number, so
 * that its slices never overlap) on a track of its own.
 */
static void kr_span_draw(struct kr_model *m, uint64_t key, struct kr_span *s,
			 const struct kr_span_end *x)
{
	uint32_t pid = (uint32_t)(key >> 33), slot = (uint32_t)(key >> 3) & 0xffff;
	const struct kr_evname *e = kr_evname(m, (uint32_t)(key >> 19) & 0x3fff);
	const struct ktracer_record *r = x->r;
	struct kr_ev ev;

	if (s->region) {
		kr_name_thread(m, pid, s->tid);
		kr_ev_span(&ev, pid, s->tid, s->at, x->end, NULL);
		ev.head = s->head;
		ev.head_len = s->head_len;
		kr_ev_evname(&ev, e);
		kr_span_args(&ev, s, slot, x);
		kr_emit_pair(m, &ev);
		return;
	}
	kr_name_process(m, pid);
	if (m->cfg.sink.json && x->seen && r && !s->text_len &&
	    r->type == KTRACER_REC_STOP && s->tid == r->tid) {
		m->st.events += 2;
		kr_json_task(m->cfg.sink.json, pid, s->tid, s->at,
			     x->end > s->at ? x->end : s->at, e->json,
			     e->json_len, s->track, slot, s->arg, r->arg);
		return;
	}
	kr_ev_init(&ev, KR_PH_ABEGIN, pid, s->tid, s->at, "task");
	ev.id = s->track;
	kr_ev_evname(&ev, e);
	kr_span_args(&ev, s, slot, x);
	kr_emit(m, &ev);
	kr_ev_init(&ev, KR_PH_AEND, pid, r ? r->tid : s->tid,
		   x->end > s->at ? x->end : s->at, "task");
	ev.id = s->track;
	kr_ev_evname(&ev, e);
	kr_emit(m, &ev);
}

/* Close span @s of @key, open or made up for @x: draw it, free its track. */
static void kr_span_close(struct kr_model *m, uint64_t key, struct kr_span *s,
			  const struct kr_span_end *x)
{
	uint64_t end = x->end;

	if (s->region && s->open)
		kr_region_close(m, key, s, end);
	s->open = 0;
	if (s->region && end < s->at)
		end = s->at;
	s->last_end = end > s->start ? end : s->start;
	if (m->trace) {
		struct kr_span_end y = *x;

		y.end = end;
		kr_span_draw(m, key, s, &y);
	}
}

/*
 * Draw the open span @s of @key up to @end, flagged @why ("stop_lost",
 * "open", "evicted"): it never got its STOP.
 */
static void kr_span_cut(struct kr_model *m, uint64_t key, struct kr_span *s,
			uint64_t end, const char *why)
{
	struct kr_span_end x = { .end = end, .why = why, .seen = true };

	kr_span_close(m, key, s, &x);
}

/*
 * Region @s of @key ends at @end: take it off its thread's stack, and cut
 * there the regions that began inside it and are still open (their STOP
 * was lost), so that the thread's slices always nest.
 */
static void kr_region_close(struct kr_model *m, uint64_t key,
			    struct kr_span *s, uint64_t end)
{
	struct kr_rstack *st = kr_map_get(&m->regions, s->tid);
	struct kr_span *in;
	uint64_t i, top;

	if (!st)
		return;
	for (i = st->n; i > 0 && st->key[i - 1] != key; i--)
		;
	if (!i)
		return;
	while (st->n > i) {
		top = st->key[--st->n];
		in = kr_map_get(&m->spans, top);
		if (in && in->open && in->region) {
			st->n++;	/* found on top by its own close */
			kr_span_cut(m, top, in, end, "stop_lost");
			st = kr_map_get(&m->regions, s->tid);
			if (!st)
				return;
		}
	}
	st->n = i - 1;
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

/*
 * Out of line (as kr_user_stop): inlined in kr_user(), they made it save
 * and restore their registers for every record, a counter's too.
 */
__attribute__((noinline))
static void kr_user_start(struct kr_model *m, const struct ktracer_record *r)
{
	uint64_t base = kr_span_key(r->pid, r->event, r->slot, 0);
	unsigned int lane, oldest = KR_LANES;
	uint64_t oldest_start = UINT64_MAX;
	struct kr_span *s, *in;
	struct kr_rstack *st;

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
	s->at = r->ts;
	s->arg = r->arg;
	s->tid = r->tid;
	s->text_len = 0;
	s->region = !!(r->flags & KTRACER_RECF_REGION);
	if (r->len && m->trace) {
		s->text_len = (uint8_t)(r->len < KTRACER_TEXT_MAX ? r->len :
					KTRACER_TEXT_MAX);
		memcpy(s->text, kr_rec_msg(r), s->text_len);
	}
	if (!s->region)
		return;
	s->at = kr_region_ts(m, r->tid, r->ts);
	if (m->trace)
		s->head_len = (uint8_t)(kr_json_head(s->head, r->pid, r->tid) -
					s->head);
	st = kr_map_put(&m->regions, r->tid, NULL);
	if (st->n) {
		/*
		 * Begun where the region it is in began: 1 ns later, so that
		 * importers that order "B"s of one ts as the file does (the
		 * inner one is written first, as it ends first) nest them.
		 */
		in = kr_map_get(&m->spans, st->key[st->n - 1]);
		if (in && in->open && in->at >= s->at)
			s->at = in->at + 1;
	}
	if (st->n < KR_REGION_DEPTH)
		st->key[st->n++] = base + lane;
}

/* A free track of (process, event, slot) for a span from @start; or NULL. */
static struct kr_span *kr_span_free_lane(struct kr_model *m, uint64_t base,
					 uint64_t start, uint64_t *key)
{
	struct kr_span *s;
	unsigned int lane;

	for (lane = 0; lane < KR_LANES; lane++) {
		*key = base + lane;
		s = kr_map_get(&m->spans, base + lane);
		if (!s)
			return kr_span_track(m, base + lane);
		if (!s->open && s->last_end <= start)
			return s;
	}
	return NULL;
}

/*
 * A region whose START was not read, drawn from @start on thread @tid:
 * the regions open on that thread since then began inside it, and are
 * cut at its end.
 */
static void kr_region_unseen(struct kr_model *m, uint32_t tid, uint64_t start,
			     uint64_t end)
{
	struct kr_rstack *st = kr_map_get(&m->regions, tid);
	struct kr_span *in;

	while (st && st->n) {
		in = kr_map_get(&m->spans, st->key[st->n - 1]);
		if (in && in->open && in->at < start)
			return;
		if (!in || !in->open) {
			st->n--;
			continue;
		}
		kr_span_cut(m, st->key[st->n - 1], in, end, "stop_lost");
		st = kr_map_get(&m->regions, tid);
	}
}

__attribute__((noinline))
static void kr_user_stop(struct kr_model *m, const struct ktracer_record *r)
{
	uint64_t base = kr_span_key(r->pid, r->event, r->slot, 0), key = 0;
	uint64_t start = r->ts >= r->extra ? r->ts - r->extra : 0;
	bool region = r->flags & KTRACER_RECF_REGION;
	struct kr_span_end x = { .end = r->ts, .r = r, .seen = true };
	struct kr_span *s = NULL;
	bool was_cut = false;
	unsigned int lane;

	for (lane = 0; lane < KR_LANES; lane++) {
		key = base + lane;
		s = kr_map_get(&m->spans, key);
		/* extra 0: maybe a STOP timed before its START, in one batch */
		if (s && s->open && (s->start == start ||
				     (!r->extra && s->start >= r->ts)))
			break;
		was_cut |= s && !s->open && s->region && s->start == start;
	}
	if (lane == KR_LANES && region && was_cut) {
		/* a region cut already (an outer one ended): drawn */
		m->st.skipped[KR_BAD_OVERLAP]++;
		return;
	}
	if (lane == KR_LANES) {
		x.seen = false;
		s = kr_span_free_lane(m, base, start, &key);
		if (!s) {
			m->st.skipped[KR_BAD_OVERLAP]++;
			return;
		}
		s->start = start;
		s->at = region ? kr_region_ts(m, r->tid, start) : start;
		s->arg = 0;
		s->tid = r->tid;
		s->text_len = 0;
		s->region = region;
		if (region && m->trace)
			s->head_len = (uint8_t)(kr_json_head(s->head, r->pid,
							     r->tid) - s->head);
	}
	if (r->type == KTRACER_REC_CANCEL)
		m->st.cancelled++;
	else
		m->st.spans++;
	if (s->region)
		x.end = kr_region_ts(m, s->tid, r->ts);
	if (!x.seen && s->region)
		kr_region_unseen(m, s->tid, s->at, x.end);
	start = s->start;
	kr_span_close(m, key, s, &x);
	if (r->type != KTRACER_REC_CANCEL && m->cfg.sink.span)
		m->cfg.sink.span(m->cfg.sink.ctx, r->event,
				 kr_evname(m, r->event), r->pid,
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
	case KTRACER_REC_SWITCH:	/* the kernel's alone */
		m->st.skipped[KR_BAD_KIND]++;
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
