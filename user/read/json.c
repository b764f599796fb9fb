// SPDX-License-Identifier: GPL-2.0
/*
 * ktracer-read: Chrome JSON. One event per line; each is formatted in one
 * reservation of the output buffer, no printf on the way.
 */

#include "json.h"

void kr_json_begin(struct kr_json *w, struct kr_out *out)
{
	char *p;

	w->out = out;
	w->t0 = 0;
	w->events = 0;
	w->ended = false;
	w->begun = true;
	p = kr_out_reserve(out, 64);
	p = kr_put(p, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[");
	kr_out_commit(out, p);
}

void kr_json_origin(struct kr_json *w, uint64_t t0)
{
	w->t0 = t0;
}

static size_t kr_args_max(const struct kr_arg *a, unsigned int n)
{
	size_t max = 2;
	unsigned int i;

	for (i = 0; i < n; i++)
		max += KR_KEY_MAX + 4 + (a[i].type == KR_ARG_STR ?
					KR_FMT_STR_MAX(a[i].len) : KR_FMT_S64_MAX);
	return max;
}

size_t kr_json_event_max(const struct kr_ev *ev)
{
	size_t n = 160 + KR_FMT_U64_MAX + KR_CAT_MAX + KR_HEAD_MAX + KR_NAME_ROOM +
		   (ev->name_json ? ev->name_len : KR_FMT_STR_MAX(ev->name_len));

	return n + kr_args_max(ev->arg, ev->nargs);
}

static char *kr_json_args(char *p, const struct kr_arg *a, unsigned int n)
{
	unsigned int i;

	*p++ = '{';
	for (i = 0; i < n; i++, a++) {
		if (i)
			*p++ = ',';
		*p++ = '"';
		memcpy(p, a->key, KR_KEY_MAX);	/* the room is reserved */
		p += a->klen;
		*p++ = '"';
		*p++ = ':';
		switch (a->type) {
		case KR_ARG_U64:
			p = kr_fmt_u64(p, a->v.u);
			break;
		case KR_ARG_S64:
			p = kr_fmt_s64(p, a->v.s);
			break;
		case KR_ARG_STR:
			p = kr_fmt_json_str(p, a->v.str, a->len);
			break;
		default:
			p = kr_put(p, "true");
		}
	}
	*p++ = '}';
	return p;
}

char *kr_json_head(char *p, uint32_t pid, uint32_t tid)
{
	p = kr_put(p, "\"pid\":");
	p = kr_fmt_u64(p, pid);
	p = kr_put(p, ",\"tid\":");
	return kr_fmt_u64(p, tid);
}

void kr_json_event(struct kr_json *w, const struct kr_ev *ev)
{
	size_t max = kr_json_event_max(ev);
	char *p;

	if (max > w->out->cap)
		return;		/* cannot happen: names and args are bounded */
	p = kr_out_reserve(w->out, max);
	if (w->events)
		*p++ = ',';
	p = kr_put(p, "\n{\"ph\":\"");
	*p++ = ev->ph;
	p = kr_put(p, "\",");
	if (ev->ph == KR_PH_INSTANT)
		p = kr_put(p, "\"s\":\"t\",");
	if (ev->head_len) {
		memcpy(p, ev->head, KR_HEAD_MAX);	/* the room is reserved */
		p += ev->head_len;
	} else {
		p = kr_put(p, "\"pid\":");
		p = kr_fmt_u64(p, ev->pid);
		if (ev->ph != KR_PH_COUNTER) {
			p = kr_put(p, ",\"tid\":");
			p = kr_fmt_u64(p, ev->tid);
		}
	}
	if (ev->ph != KR_PH_META) {
		p = kr_put(p, ",\"ts\":");
		p = kr_fmt_us_diff(p, ev->ts, w->t0);
	}
	if (ev->ph == KR_PH_COMPLETE) {
		p = kr_put(p, ",\"dur\":");
		p = kr_fmt_us(p, (int64_t)(ev->dur > INT64_MAX ? INT64_MAX :
					   ev->dur));
	}
	p = kr_put(p, ",\"name\":");
	if (ev->name_json && ev->name_len <= KR_NAME_ROOM) {
		memcpy(p, ev->name, KR_NAME_ROOM);	/* the room is reserved */
		p += ev->name_len;
	} else if (ev->name_json)
		p = kr_fmt_lit(p, ev->name, ev->name_len);
	else
		p = kr_fmt_json_str(p, ev->name, ev->name_len);
	if (ev->cat) {
		p = kr_put(p, ",\"cat\":\"");
		for (const char *c = ev->cat; *c && c - ev->cat < KR_CAT_MAX; c++)
			*p++ = *c;
		*p++ = '"';
	}
	if (ev->ph == KR_PH_ABEGIN || ev->ph == KR_PH_AEND) {
		p = kr_put(p, ",\"id\":");
		p = kr_fmt_u64(p, ev->id);
	}
	if (ev->nargs) {
		p = kr_put(p, ",\"args\":");
		p = kr_json_args(p, ev->arg, ev->nargs);
	}
	*p++ = '}';
	kr_out_commit(w->out, p);
	w->events++;
}

/* Room for an event of these fast paths but its name and strings. */
#define KR_JSON_FAST_MAX	(64 + KR_HEAD_MAX + 2 * KR_FMT_US_MAX + \
				 4 * (16 + KR_FMT_U64_MAX))

/* Reserve @n bytes, and start an event: "\n{" after a comma if need be. */
static inline char *kr_json_open(struct kr_json *w, size_t n)
{
	char *p = kr_out_reserve(w->out, n);

	if (w->events)
		*p++ = ',';
	return kr_put(p, "\n{\"ph\":\"");
}

static inline char *kr_json_name(char *p, const char *name, size_t len)
{
	p = kr_put(p, ",\"name\":");
	if (len <= KR_NAME_ROOM) {
		memcpy(p, name, KR_NAME_ROOM);	/* the room is reserved */
		return p + len;
	}
	return kr_fmt_lit(p, name, len);
}

static inline void kr_json_close(struct kr_json *w, char *p)
{
	kr_out_commit(w->out, p);
	w->events++;
}

/*
 * The bytes [@from, @end) this event wrote already, again at @p: a fixed
 * @room bytes when they fit (a few moves; the reservation covers them),
 * so @p must be @room bytes or more past @from.
 */
static inline char *kr_json_again(char *p, const char *from, const char *end,
				  size_t room)
{
	size_t n = (size_t)(end - from);

	if (n <= room)
		memcpy(p, from, room);	/* a constant: moves */
	else
		memcpy(p, from, n);
	return p + n;
}

/*
 * The "b" and its "e" share their "pid":P,"tid":T, and their name, cat
 * and id: formatted once, then copied (as is the thread's tid in args).
 * Each copy lands more than its room past its source: between them come
 * at least the 44 bytes of the args and the 12 of the next event's start.
 */
void kr_json_task(struct kr_json *w, uint32_t pid, uint32_t tid, uint64_t ts,
		  uint64_t end, const char *name, size_t name_len, uint64_t id,
		  uint64_t slot, uint64_t arg, uint64_t stop_arg)
{
	size_t max = 2 * (KR_JSON_FAST_MAX + name_len + KR_NAME_ROOM);
	char *p, *head, *tid_at, *head_end, *ids, *ids_end;

	if (max > w->out->cap)
		return;		/* cannot happen: names are bounded */
	p = kr_json_open(w, max);
	p = kr_put(p, "b\",");
	head = p;
	p = kr_put(p, "\"pid\":");
	p = kr_fmt_u64(p, pid);
	p = kr_put(p, ",\"tid\":");
	tid_at = p;
	p = kr_fmt_u64(p, tid);
	head_end = p;
	p = kr_put(p, ",\"ts\":");
	p = kr_fmt_us_diff(p, ts, w->t0);
	ids = p;
	p = kr_json_name(p, name, name_len);
	p = kr_put(p, ",\"cat\":\"task\",\"id\":");
	p = kr_fmt_u64(p, id);
	ids_end = p;
	p = kr_put(p, ",\"args\":{\"slot\":");
	p = kr_fmt_u64(p, slot);
	p = kr_put(p, ",\"arg\":");
	p = kr_fmt_u64(p, arg);
	p = kr_put(p, ",\"tid\":");
	p = kr_json_again(p, tid_at, head_end, 16);
	p = kr_put(p, ",\"stop_arg\":");
	p = kr_fmt_u64(p, stop_arg);
	p = kr_put(p, "}},\n{\"ph\":\"e\",");
	p = kr_json_again(p, head, head_end, KR_HEAD_MAX);
	p = kr_put(p, ",\"ts\":");
	p = kr_fmt_us_diff(p, end, w->t0);
	p = kr_json_again(p, ids, ids_end, 64);
	*p++ = '}';
	kr_json_close(w, p);
	w->events++;
}

void kr_json_counter(struct kr_json *w, uint32_t pid, uint64_t ts,
		     const char *name, size_t name_len, uint64_t value,
		     bool neg_ok)
{
	size_t max = KR_JSON_FAST_MAX + name_len + KR_NAME_ROOM;
	char *p;

	if (max > w->out->cap)
		return;
	p = kr_json_open(w, max);
	p = kr_put(p, "C\",\"pid\":");
	p = kr_fmt_u64(p, pid);
	p = kr_put(p, ",\"ts\":");
	p = kr_fmt_us_diff(p, ts, w->t0);
	p = kr_json_name(p, name, name_len);
	p = kr_put(p, ",\"args\":{\"value\":");
	p = neg_ok ? kr_fmt_s64(p, (int64_t)value) : kr_fmt_u64(p, value);
	p = kr_put(p, "}}");
	kr_json_close(w, p);
}

void kr_json_log(struct kr_json *w, uint32_t pid, uint32_t tid, uint64_t ts,
		 const char *name, size_t name_len, const void *msg,
		 size_t len)
{
	size_t max = KR_JSON_FAST_MAX + name_len + KR_NAME_ROOM +
		     KR_FMT_STR_MAX(len);
	char *p;

	if (max > w->out->cap)
		return;
	p = kr_json_open(w, max);
	p = kr_put(p, "i\",\"s\":\"t\",\"pid\":");
	p = kr_fmt_u64(p, pid);
	p = kr_put(p, ",\"tid\":");
	p = kr_fmt_u64(p, tid);
	p = kr_put(p, ",\"ts\":");
	p = kr_fmt_us_diff(p, ts, w->t0);
	p = kr_json_name(p, name, name_len);
	p = kr_put(p, ",\"args\":{\"msg\":");
	p = kr_fmt_json_str(p, msg, len);
	p = kr_put(p, "}}");
	kr_json_close(w, p);
}

int kr_json_end(struct kr_json *w, const struct kr_arg *sum, unsigned int nsum)
{
	size_t max = kr_args_max(sum, nsum) + 32;
	char *p;

	if (!w->begun || w->ended)
		return w->out ? w->out->err : 0;
	w->ended = true;
	if (max > w->out->cap)
		nsum = 0;	/* cannot happen: the summary is a few numbers */
	p = kr_out_reserve(w->out, max);
	p = kr_put(p, "\n],\"otherData\":");
	p = kr_json_args(p, sum, nsum);
	p = kr_put(p, "}\n");
	kr_out_commit(w->out, p);
	return kr_out_flush(w->out);
}
