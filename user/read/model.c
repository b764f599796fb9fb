// SPDX-License-Identifier: GPL-2.0
/*
 * ktracer-read: from records to trace events and metrics (see model.h).
 *
 * A STOP (or CANCEL) carries the time since its START in "extra", so the
 * START it closes is the open one whose ts is exactly ts - extra: that is
 * how a STOP finds its START among several open on one slot, and how a
 * span whose START was never read (lost, or before the reader started)
 * is still drawn, flagged "start_unseen". A START on a track whose span
 * never saw its STOP (lost) closes that span there, flagged "stop_lost",
 * so that a track's spans always nest.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "map.h"
#include "model.h"
#include "out.h"
#include "sysfs.h"
#include "syscalls.h"	/* generated from <asm/unistd.h>: kr_syscall_names[] */

#define KR_MAX_TRACKS	65536	/* (process, event, slot, lane) kept */
#define KR_MAX_THREADS	65536	/* threads' names kept */
#define KR_MAX_SYSCALLS	16384	/* threads in a system call at once */

enum { KR_T_RUN, KR_T_IRQ, KR_T_SOFTIRQ, KR_CPU_TRACKS };

/* A program's span track: (process, event, slot, lane). */
struct kr_span {
	uint64_t start;		/* open: the START's ts */
	uint64_t arg;		/* open: the START's arg */
	uint64_t last_end;	/* when the track's last span ended */
	uint32_t tid;		/* open: the thread that started it */
	uint32_t track;		/* its tid in the trace */
	uint8_t open;
	uint8_t head_len;
	char head[KR_HEAD_MAX];	/* "pid":P,"tid":track, for the writer */
};

#define KR_TH_COMM	0x01	/* comm known */
#define KR_TH_LOOKED	0x02	/* comm asked of cfg.comm */
#define KR_TH_THREAD	0x04	/* the thread has a track: keep it named */
#define KR_TH_PROCESS	0x08	/* tid == pid, and the process has events */

struct kr_thread {
	char comm[KTRACER_COMM_MAX];
	uint8_t len;
	uint8_t flags;
};

/* A thread's system call; the entry stays, for where its track is. */
struct kr_sys {
	uint64_t start, nr;
	uint64_t last_end;	/* when its last call returned */
	uint32_t pid;
	uint8_t open;
};

/* A span on a CPU's track: the running task, an IRQ, a softirq. */
struct kr_cspan {
	uint64_t start, arg, last_end;
	uint32_t pid, tid;
	uint8_t open, len;
	char name[32];
};

struct kr_kcpu {
	struct kr_cspan t[KR_CPU_TRACKS];
	uint8_t named;		/* a bit per track */
};

/* A block request in flight, by the kernel's table slot. */
struct kr_rq {
	uint64_t start;
	struct ktracer_block b;
	uint32_t pid, tid;
	uint8_t dev, lane, open;
};

struct kr_dev {
	uint32_t dev;
	uint8_t used;
	uint8_t name_len;	/* 0: MAJ:MIN */
	char name[KR_DEVNAME_MAX];
	uint64_t busy, named;	/* a bit per lane */
	uint64_t last_end[KR_BLOCK_LANES];
};

struct kr_model {
	struct kr_model_cfg cfg;
	bool trace;		/* sink.event set: Chrome events wanted */
	bool have_t0, kernel_named;
	uint64_t last_ts;
	uint32_t next_track;
	struct kr_map spans, threads, sys;
	struct kr_kcpu *cpu;
	struct kr_rq rq[KTRACER_BLOCK_INFLIGHT];
	struct kr_dev dev[KR_BLOCK_DEVS];
	uint32_t pid_named[256], tid_named[256];	/* + 1: recently named */
	struct kr_model_stats st;
};

static uint64_t kr_sat(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

static inline uint64_t kr_dur(uint64_t end, uint64_t start)
{
	return end > start ? end - start : 0;
}

static inline void kr_ev_init(struct kr_ev *ev, char ph, uint32_t pid,
			      uint32_t tid, uint64_t ts, const char *cat)
{
	ev->ph = ph;
	ev->name_json = false;
	ev->nargs = 0;
	ev->cat = cat;
	ev->pid = pid;
	ev->tid = tid;
	ev->ts = ts;
	ev->dur = 0;
	ev->head_len = 0;
}

static inline void kr_ev_evname(struct kr_ev *ev, const struct kr_evname *e)
{
	ev->name = e->json;
	ev->name_len = e->json_len;
	ev->name_json = true;
}

static inline void kr_ev_name(struct kr_ev *ev, const void *name, size_t len)
{
	ev->name = name;
	ev->name_len = (uint32_t)len;
}

static void kr_emit(struct kr_model *m, const struct kr_ev *ev)
{
	m->st.events++;
	m->cfg.sink.event(m->cfg.sink.ctx, ev);
}

/* A span from @start to @end: "X", dur clamped at 0. */
static void kr_ev_span(struct kr_ev *ev, uint32_t pid, uint32_t tid,
		       uint64_t start, uint64_t end, const char *cat)
{
	kr_ev_init(ev, KR_PH_COMPLETE, pid, tid, start, cat);
	ev->dur = kr_dur(end, start);
}

/* ---- names of processes, threads and tracks ----------------------------- */

static void kr_meta(struct kr_model *m, const char *what, uint32_t pid,
		    uint32_t tid, const void *name, size_t len)
{
	struct kr_ev ev;

	kr_ev_init(&ev, KR_PH_META, pid, tid, 0, NULL);
	kr_ev_name(&ev, what, strlen(what));
	kr_ev_str(&ev, "name", name, (uint32_t)len);
	kr_emit(m, &ev);
}

static void kr_meta_sort(struct kr_model *m, const char *what, uint32_t pid,
			 uint32_t tid, int64_t index)
{
	struct kr_ev ev;

	kr_ev_init(&ev, KR_PH_META, pid, tid, 0, NULL);
	kr_ev_name(&ev, what, strlen(what));
	kr_ev_arg(&ev, "sort_index", KR_ARG_S64, (uint64_t)index);
	kr_emit(m, &ev);
}

static void kr_comm_lookup(struct kr_model *m, uint32_t pid, uint32_t tid,
			   struct kr_thread *t)
{
	char buf[KTRACER_COMM_MAX];
	int n;

	if (t->flags & (KR_TH_COMM | KR_TH_LOOKED))
		return;
	t->flags |= KR_TH_LOOKED;
	if (!m->cfg.comm)
		return;
	n = m->cfg.comm(m->cfg.ctx, pid, tid, buf);
	if (n < 0)
		return;
	t->len = (uint8_t)(n < KTRACER_COMM_MAX ? n : KTRACER_COMM_MAX);
	memcpy(t->comm, buf, t->len);
	t->flags |= KR_TH_COMM;
}

/*
 * Thread @tid of @pid has a track (@flag KR_TH_THREAD; @what
 * "thread_name"), or process @pid has events (KR_TH_PROCESS, tid == pid,
 * "process_name"): name it once. @recent caches who was named lately.
 */
static void kr_name_once(struct kr_model *m, uint32_t pid, uint32_t tid,
			 uint8_t flag, const char *what, uint32_t *recent)
{
	struct kr_thread *t;

	if (recent[tid & 255] == tid + 1)
		return;
	recent[tid & 255] = tid + 1;
	t = kr_map_put(&m->threads, tid, NULL);
	if (t->flags & flag)
		return;
	t->flags |= flag;
	kr_comm_lookup(m, pid, tid, t);
	if (t->flags & KR_TH_COMM)
		kr_meta(m, what, pid, tid, t->comm, t->len);
}

static void kr_name_process(struct kr_model *m, uint32_t pid)
{
	kr_name_once(m, pid, pid, KR_TH_PROCESS, "process_name", m->pid_named);
}

static void kr_name_thread(struct kr_model *m, uint32_t pid, uint32_t tid)
{
	kr_name_process(m, pid);
	kr_name_once(m, pid, tid, KR_TH_THREAD, "thread_name", m->tid_named);
}

/* A kernel record told a thread's comm: rename what was named otherwise. */
static void kr_set_comm(struct kr_model *m, uint32_t pid, uint32_t tid,
			const unsigned char *comm, uint32_t len)
{
	struct kr_thread *t = kr_map_put(&m->threads, tid, NULL);

	if (len > KTRACER_COMM_MAX)
		len = KTRACER_COMM_MAX;
	if ((t->flags & KR_TH_COMM) && t->len == len &&
	    !memcmp(t->comm, comm, len))
		return;
	memcpy(t->comm, comm, len);
	t->len = (uint8_t)len;
	t->flags |= KR_TH_COMM;
	if (!m->trace)
		return;
	if (t->flags & KR_TH_THREAD)
		kr_meta(m, "thread_name", pid, tid, t->comm, t->len);
	if (tid == pid && (t->flags & KR_TH_PROCESS))
		kr_meta(m, "process_name", pid, pid, t->comm, t->len);
}

static void kr_name_kernel(struct kr_model *m)
{
	if (m->kernel_named)
		return;
	m->kernel_named = true;
	kr_meta(m, "process_name", KR_KERNEL_PID, KR_KERNEL_PID, "kernel", 6);
	kr_meta_sort(m, "process_sort_index", KR_KERNEL_PID, KR_KERNEL_PID, -1);
}

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

/* The event's name; an id the table does not know has it read again once. */
static inline const struct kr_evname *kr_evname(struct kr_model *m, uint32_t id)
{
	struct kr_evname *e = &m->cfg.names->ev[id];

	if (__builtin_expect(!e->known && !e->asked, 0) && m->cfg.reload_names) {
		m->cfg.reload_names(m->cfg.ctx, m->cfg.names);
		m->st.name_reloads++;
		e->asked = true;
	}
	return e;
}

/* ---- a program's spans ---------------------------------------------------- */

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

static void kr_span_evicted(void *ctx, uint64_t key, void *val)
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

static void kr_user(struct kr_model *m, const struct ktracer_record *r)
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

/* ---- the kernel's events ---------------------------------------------------- */

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
	kr_emit(m, &ev);
}

static void kr_cpu_span(struct kr_model *m, const struct ktracer_record *r,
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

/* sched.wakeup, task.fork, task.exec, task.exit: on the thread's track. */
static void kr_task_instant(struct kr_model *m, const struct ktracer_record *r)
{
	struct kr_ev ev;

	if (r->type != KTRACER_REC_LOG) {
		m->st.skipped[KR_BAD_KIND]++;
		return;
	}
	kr_set_comm(m, r->pid, r->tid, kr_rec_msg(r), r->len);
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

static size_t kr_syscall_name(uint64_t nr, char *buf, size_t size,
			      const char **name)
{
	size_t n = sizeof(kr_syscall_names) / sizeof(kr_syscall_names[0]);

	if (nr < n && kr_syscall_names[nr]) {
		*name = kr_syscall_names[nr];
		return strlen(*name);
	}
	*name = buf;
	return (size_t)snprintf(buf, size, "syscall %llu",
				(unsigned long long)nr);
}

static void kr_sys_emit(struct kr_model *m, uint32_t tid, struct kr_sys *s,
			uint64_t end, const struct ktracer_record *r,
			const char *why)
{
	const char *name;
	struct kr_ev ev;
	char buf[32];
	size_t len;

	if (end < s->start)
		end = s->start;
	s->open = 0;
	s->last_end = end;
	if (!m->trace)
		return;
	kr_name_thread(m, s->pid, tid);
	kr_ev_span(&ev, s->pid, tid, s->start, end, "syscall");
	len = kr_syscall_name(s->nr, buf, sizeof(buf), &name);
	kr_ev_name(&ev, name, len);
	kr_ev_arg(&ev, "nr", KR_ARG_U64, s->nr);
	if (r)
		kr_ev_arg(&ev, "ret", KR_ARG_S64, r->arg);
	if (why)
		kr_ev_arg(&ev, why, KR_ARG_TRUE, 0);
	kr_emit(m, &ev);
}

/*
 * A thread's call dropped from a full table is not drawn: its track is the
 * thread's own, where a call read later might overlap it.
 */
static void kr_sys_evicted(void *ctx, uint64_t key, void *val)
{
	struct kr_model *m = ctx;
	struct kr_sys *s = val;

	(void)key;
	if (s->open)
		m->st.evicted++;
}

static void kr_syscall(struct kr_model *m, const struct ktracer_record *r)
{
	struct kr_sys *s;
	uint64_t start;

	if (r->type == KTRACER_REC_START) {
		s = kr_map_put(&m->sys, r->tid, NULL);
		if (s->open)
			kr_sys_emit(m, r->tid, s, r->ts, NULL, "stop_lost");
		if (r->ts < s->last_end) {
			m->st.skipped[KR_BAD_OVERLAP]++;	/* out of order */
			return;
		}
		s->open = 1;
		s->start = r->ts;
		s->nr = r->arg;
		s->pid = r->pid;
		return;
	}
	if (r->type != KTRACER_REC_STOP) {
		m->st.skipped[KR_BAD_KIND]++;
		return;
	}
	s = kr_map_get(&m->sys, r->tid);
	if (!s || !s->open) {
		m->st.skipped[KR_BAD_UNPAIRED]++;
		return;
	}
	start = s->start;
	kr_sys_emit(m, r->tid, s, r->ts, r, NULL);
	m->st.spans++;
	if (m->cfg.sink.span)
		m->cfg.sink.span(m->cfg.sink.ctx, r->event,
				 kr_evname(m, r->event), s->pid,
				 kr_dur(r->ts, start));
}

/* ---- block requests ------------------------------------------------------- */

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
	kr_emit(m, &ev);
}

static void kr_block(struct kr_model *m, const struct ktracer_record *r)
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

static void kr_kernel(struct kr_model *m, const struct ktracer_record *r)
{
	switch (r->event) {
	case KTRACER_KEV_RUNNING:
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

/* ---- lost records ---------------------------------------------------------- */

static void kr_lost(struct kr_model *m, unsigned int cpu,
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

static void kr_span_open_at_end(void *ctx, uint64_t key, void *val)
{
	struct kr_model *m = ctx;

	kr_span_drop(m, key, val, &m->st.open_at_end, "open");
}

static void kr_sys_open_at_end(void *ctx, uint64_t key, void *val)
{
	struct kr_model *m = ctx;
	struct kr_sys *s = val;

	if (!s->open)
		return;
	m->st.open_at_end++;
	kr_sys_emit(m, (uint32_t)key, s, m->last_ts, NULL, "open");
}

void kr_model_finish(struct kr_model *m)
{
	unsigned int cpu, k, i;

	kr_map_each(&m->spans, kr_span_open_at_end, m);
	kr_map_each(&m->sys, kr_sys_open_at_end, m);
	for (cpu = 0; cpu < m->cfg.ncpu; cpu++)
		for (k = 0; k < KR_CPU_TRACKS; k++)
			if (m->cpu[cpu].t[k].open) {
				m->st.open_at_end++;
				kr_cspan_emit(m, cpu, k, &m->cpu[cpu].t[k],
					      m->last_ts, NULL, "open");
			}
	for (i = 0; i < KTRACER_BLOCK_INFLIGHT; i++)
		if (m->rq[i].open) {
			m->st.open_at_end++;
			kr_rq_emit(m, &m->rq[i], m->last_ts, NULL, "open");
		}
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
			m)) {
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
	free(m->cpu);
	free(m);
}
