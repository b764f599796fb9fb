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

/* "pid":P,"tid":T at @p (KR_HEAD_MAX bytes at most), for kr_ev.head. */
char *kr_json_head(char *p, uint32_t pid, uint32_t tid);

/* Bytes an event may take at most once formatted. */
size_t kr_json_event_max(const struct kr_ev *ev);

#endif /* KR_JSON_H */
