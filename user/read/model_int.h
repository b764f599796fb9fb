/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktracer-read: what the model's parts share (model.h is its interface).
 *
 * model.c dispatches each record to the writer of its family, as perf's
 * JSON converter keeps one small writer per kind of event:
 *	model_names.c	names of processes, threads and tracks
 *	model_user.c	a program's spans, counters, gauges and logs
 *	model_cpu.c	the kernel's CPU tracks (running task, IRQs,
 *			softirqs), task instants and lost records
 *	model_sys.c	system calls, on their thread's track
 *	model_block.c	block requests, on their device's tracks
 */
#ifndef KR_MODEL_INT_H
#define KR_MODEL_INT_H

#include "json.h"
#include "map.h"
#include "model.h"
#include "out.h"
#include "sysfs.h"

#define KR_MAX_TRACKS	65536	/* (process, event, slot, lane) kept */
#define KR_MAX_THREADS	65536	/* threads' names kept */
#define KR_MAX_SYSCALLS	16384	/* threads in a system call at once */

enum { KR_T_RUN, KR_T_IRQ, KR_T_SOFTIRQ, KR_CPU_TRACKS };

/* A program's span track: (process, event, slot, lane). */
/*
 * A program's span, by (process, event, slot, lane): a task, drawn as an
 * async slice of id "track", or a region, drawn on its thread's track.
 */
struct kr_span {
	uint64_t start;		/* open: the START's ts */
	uint64_t at;		/* open: where it is drawn from */
	uint64_t arg;		/* open: the START's arg */
	uint64_t last_end;	/* when the track's last span ended */
	uint32_t tid;		/* open: the thread that started it */
	uint32_t track;		/* its async id in the trace */
	uint8_t open;
	uint8_t region;		/* open: KTRACER_RECF_REGION */
	uint8_t head_len;
	uint8_t text_len;	/* open: the START's text */
	char head[KR_HEAD_MAX];	/* open region: "pid":P,"tid":tid */
	char text[KTRACER_TEXT_MAX];
};

/* The regions open on a thread, outermost first: by their span's key. */
#define KR_REGION_DEPTH	31

struct kr_rstack {
	uint64_t n;
	uint64_t key[KR_REGION_DEPTH];
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
	struct kr_map spans, threads, sys, regions;
	struct kr_kcpu *cpu;
	struct kr_rq rq[KTRACER_BLOCK_INFLIGHT];
	struct kr_dev dev[KR_BLOCK_DEVS];
	uint32_t pid_named[256], tid_named[256];	/* + 1: recently named */
	struct kr_model_stats st;
};

static inline uint64_t kr_sat(uint64_t a, uint64_t b)
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
	ev->id = 0;
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

static inline void kr_emit(struct kr_model *m, const struct kr_ev *ev)
{
	m->st.events++;
	m->cfg.sink.event(m->cfg.sink.ctx, ev);
}

/* A span from @start to @end: "X", dur clamped at 0. */
static inline void kr_ev_span(struct kr_ev *ev, uint32_t pid, uint32_t tid,
		       uint64_t start, uint64_t end, const char *cat)
{
	kr_ev_init(ev, KR_PH_COMPLETE, pid, tid, start, cat);
	ev->dur = kr_dur(end, start);
}

/*
 * The span @ev ("X", from kr_ev_span) as a pair: "B" at its ts, then "E"
 * at its end with the same name and args. The end is the very number the
 * next span's "B" on the track starts at when they touch, so no importer
 * sees them overlap, whatever arithmetic it does on "ts" and "dur". A
 * span of no duration is an instant: speedscope 1.25 pairs the "E"s of
 * one ts by name, and would end such a span for the one it touches.
 */
static inline void kr_emit_pair(struct kr_model *m, struct kr_ev *ev)
{
	if (!ev->dur) {
		ev->ph = KR_PH_INSTANT;
		kr_emit(m, ev);
		return;
	}
	ev->ph = KR_PH_BEGIN;
	kr_emit(m, ev);
	ev->ph = KR_PH_END;
	ev->ts += ev->dur;
	ev->dur = 0;
	kr_emit(m, ev);
}

/* The event's name; an id the table does not know has it read again once. */
static inline const struct kr_evname *kr_evname(struct kr_model *m, uint32_t id)
{
	struct kr_evname *e = kr_names_get(m->cfg.names, id);

	if (__builtin_expect(!e->known && !e->asked, 0) && m->cfg.reload_names) {
		m->cfg.reload_names(m->cfg.ctx, m->cfg.names);
		m->st.name_reloads++;
		e->asked = true;
	}
	return e;
}

/* model_names.c */
void kr_meta(struct kr_model *m, const char *what, uint32_t pid, uint32_t tid,
	     const void *name, size_t len);
void kr_meta_sort(struct kr_model *m, const char *what, uint32_t pid,
		  uint32_t tid, int64_t index);
void kr_name_once(struct kr_model *m, uint32_t pid, uint32_t tid,
		  uint8_t flag, const char *what, uint32_t *recent);

/*
 * Process @pid has events: name it once. Inline, as most records ask it
 * of a process named lately.
 */
static inline void kr_name_process(struct kr_model *m, uint32_t pid)
{
	if (m->pid_named[pid & 255] != pid + 1)
		kr_name_once(m, pid, pid, KR_TH_PROCESS, "process_name",
			     m->pid_named);
}

/* Thread @tid of @pid has a track: name it and its process once. */
static inline void kr_name_thread(struct kr_model *m, uint32_t pid,
				  uint32_t tid)
{
	kr_name_process(m, pid);
	if (m->tid_named[tid & 255] != tid + 1)
		kr_name_once(m, pid, tid, KR_TH_THREAD, "thread_name",
			     m->tid_named);
}

void kr_set_comm(struct kr_model *m, uint32_t pid, uint32_t tid,
		 const unsigned char *comm, uint32_t len);
void kr_name_kernel(struct kr_model *m);

/* model_user.c */
void kr_user(struct kr_model *m, const struct ktracer_record *r);
void kr_span_evicted(void *ctx, uint64_t key, void *val);
void kr_user_finish(struct kr_model *m);

/* model_cpu.c */
void kr_cpu_span(struct kr_model *m, const struct ktracer_record *r,
		 unsigned int k);
void kr_cpu_switch(struct kr_model *m, const struct ktracer_record *r);
void kr_task_instant(struct kr_model *m, const struct ktracer_record *r);
void kr_lost(struct kr_model *m, unsigned int cpu,
	     const struct ktracer_record *r);
void kr_cpu_finish(struct kr_model *m);

/* model_sys.c */
void kr_syscall(struct kr_model *m, const struct ktracer_record *r);
void kr_sys_evicted(void *ctx, uint64_t key, void *val);
void kr_sys_finish(struct kr_model *m);
/* Thread @tid exited at @ts: its exit() or exit_group() ends there. */
void kr_sys_exited(struct kr_model *m, uint32_t tid, uint64_t ts);

/* model_block.c */
void kr_block(struct kr_model *m, const struct ktracer_record *r);
void kr_block_finish(struct kr_model *m);

#endif /* KR_MODEL_INT_H */
