/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktracer-read: one event of the trace a reader writes, in the terms of
 * the Chrome trace event format, between the model (which makes them from
 * records) and the writer (which formats them).
 */
#ifndef KR_EVENT_H
#define KR_EVENT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

enum kr_arg_type {
	KR_ARG_U64,
	KR_ARG_S64,
	KR_ARG_STR,	/* any bytes: escaped when written */
	KR_ARG_TRUE
};

#define KR_KEY_MAX	16

struct kr_arg {
	char key[KR_KEY_MAX];	/* plain ASCII, no escaping needed; no NUL */
	uint8_t klen;
	uint8_t type;		/* enum kr_arg_type */
	uint32_t len;		/* KR_ARG_STR: bytes */
	union {
		uint64_t u;
		int64_t s;
		const void *str;
	} v;
};

#define KR_ARGS_MAX	8
#define KR_CAT_MAX	16
#define KR_HEAD_MAX	40	/* "pid":P,"tid":T, formatted */
#define KR_NAME_ROOM	64

/*
 * Phases written: complete, begin/end (a pair, same name and args),
 * async begin/end (by cat and id), instant, counter, metadata.
 */
#define KR_PH_COMPLETE	'X'
#define KR_PH_BEGIN	'B'
#define KR_PH_END	'E'
#define KR_PH_ABEGIN	'b'
#define KR_PH_AEND	'e'
#define KR_PH_INSTANT	'i'
#define KR_PH_COUNTER	'C'
#define KR_PH_META	'M'

struct kr_ev {
	char ph;
	/*
	 * name is a JSON string already, quotes and all, in a buffer of
	 * KR_NAME_ROOM bytes at least (as struct kr_evname's json).
	 */
	bool name_json;
	uint8_t nargs;
	uint32_t name_len;
	const char *name;	/* any bytes, unless name_json */
	const char *cat;	/* NULL, or plain ASCII, KR_CAT_MAX bytes at most */
	/*
	 * "pid":P,"tid":T formatted already, in a buffer of KR_HEAD_MAX
	 * bytes, if head_len is not 0 (for X and i events).
	 */
	const char *head;
	uint8_t head_len;
	uint32_t pid, tid;
	uint64_t ts, dur;	/* CLOCK_MONOTONIC ns; M: none */
	uint64_t id;		/* b, e: the async slice's id (with cat) */
	struct kr_arg arg[KR_ARGS_MAX];
};

static inline void kr_ev_arg(struct kr_ev *e, const char *key, uint8_t type,
			     uint64_t u)
{
	struct kr_arg *a = &e->arg[e->nargs++];

	a->klen = (uint8_t)__builtin_strlen(key);
	memcpy(a->key, key, a->klen);
	a->type = type;
	a->len = 0;
	a->v.u = u;
}

static inline void kr_ev_str(struct kr_ev *e, const char *key, const void *s,
			     uint32_t len)
{
	struct kr_arg *a = &e->arg[e->nargs++];

	a->klen = (uint8_t)__builtin_strlen(key);
	memcpy(a->key, key, a->klen);
	a->type = KR_ARG_STR;
	a->len = len;
	a->v.str = s;
}

#endif /* KR_EVENT_H */
