/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktracer-read: the Chrome trace event format writer (JSON object form),
 * for ui.perfetto.dev, chrome://tracing and DevTools.
 *
 *	{"displayTimeUnit":"ns","traceEvents":[
 *	{"ph":"X","pid":1,"tid":2,"ts":0.000,"dur":1.500,"name":"n",...},
 *	...
 *	],"otherData":{...}}
 *
 * "ts" and "dur" are microseconds with three decimals, "ts" relative to
 * the origin (the first record). The document is valid JSON once
 * kr_json_end() has run, whatever events came before.
 */
#ifndef KR_JSON_H
#define KR_JSON_H

#include "event.h"
#include "out.h"

struct kr_json {
	struct kr_out *out;
	uint64_t t0;		/* origin of "ts" */
	uint64_t events;
	bool begun, ended;
};

void kr_json_begin(struct kr_json *w, struct kr_out *out);
void kr_json_origin(struct kr_json *w, uint64_t t0);
void kr_json_event(struct kr_json *w, const struct kr_ev *ev);
/*
 * Close the array, add "otherData" (@nsum args: numbers and strings about
 * the run), flush. 0, or the errno of the first write that failed.
 */
int kr_json_end(struct kr_json *w, const struct kr_arg *sum, unsigned int nsum);

/*
 * The commonest events, written as kr_json_event() writes them (the same
 * bytes) without a struct kr_ev: the model's fast paths. @name is a JSON
 * string already, quotes included, in KR_NAME_ROOM bytes at least.
 *
 * A task's async slice: "b" at @ts on thread @tid, args slot, arg, tid,
 * stop_arg, and its "e" at @end on the same thread, of cat "task", @id.
 */
void kr_json_task(struct kr_json *w, uint32_t pid, uint32_t tid, uint64_t ts,
		  uint64_t end, const char *name, size_t name_len, uint64_t id,
		  uint64_t slot, uint64_t arg, uint64_t stop_arg);
/* A counter of process @pid: args {"value": @value, signed if @neg_ok}. */
void kr_json_counter(struct kr_json *w, uint32_t pid, uint64_t ts,
		     const char *name, size_t name_len, uint64_t value,
		     bool neg_ok);
/* A thread's instant with args {"msg": @len bytes of @msg, escaped}. */
void kr_json_log(struct kr_json *w, uint32_t pid, uint32_t tid, uint64_t ts,
		 const char *name, size_t name_len, const void *msg,
		 size_t len);

/* "pid":P,"tid":T at @p (KR_HEAD_MAX bytes at most), for kr_ev.head. */
char *kr_json_head(char *p, uint32_t pid, uint32_t tid);

/* Bytes an event may take at most once formatted. */
size_t kr_json_event_max(const struct kr_ev *ev);

#endif /* KR_JSON_H */
