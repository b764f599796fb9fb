/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktracer-read: records in, trace events and metrics out.
 *
 * The model pairs each span's START with its STOP (or CANCEL), puts every
 * event on a track where spans always nest, names processes, threads and
 * tracks, and hands the results to a sink: Chrome events to a writer,
 * span durations, gauges and counts to a metrics aggregator. It keeps no
 * more state than its bounded tables: open spans, tracks, threads' names.
 *
 * Tracks, in Chrome terms (pid, tid):
 *  - a program's regions (KTRACER_RECF_REGION), logs, and its threads'
 *    system calls and scheduler instants (wakeup, fork, exec, exit): the
 *    thread's own track (its tid), where they all nest.
 *  - a program's tasks (spans without KTRACER_RECF_REGION): async slices,
 *    one id per (process, event, slot), from KR_TID_SPAN_BASE; two files
 *    of one process that use the same slot at once get another id.
 *  - counters and gauges: counter tracks of the process.
 *  - the kernel: process KR_KERNEL_PID "kernel", with per CPU a track for
 *    the running task, one for IRQs, one for softirqs, and per block
 *    device as many tracks as it has requests in flight at once.
 *    "[lost N events]" goes on the CPU's track where the records were lost.
 * Slices on tracks are B/E pairs (see kr_emit_pair in model_int.h).
 */
#ifndef KR_MODEL_H
#define KR_MODEL_H

#include "event.h"
#include "names.h"
#include "record.h"

#define KR_KERNEL_PID		0x7ff00000u
#define KR_TID_CPU_BASE		(KR_KERNEL_PID + 1)	/* + cpu * 4 + track */
#define KR_TID_BLOCK_BASE	0x7ff80000u	/* + device * 64 + lane */
#define KR_TID_SPAN_BASE	0x40000000u	/* + n: a task's async id */

#define KR_LANES		8	/* ids of one (process, event, slot) */
#define KR_BLOCK_DEVS		64	/* block devices drawn */
#define KR_BLOCK_LANES		64	/* tracks of one block device */

struct kr_json;

struct kr_sink {
	void *ctx;
	/*
	 * Where event writes its events, if it is a Chrome writer: then the
	 * model writes its commonest events there itself, the same bytes
	 * (kr_json_span and co.), without building a struct kr_ev.
	 */
	struct kr_json *json;
	/* The first record's ts, before any event (every hook may be NULL). */
	void (*origin)(void *ctx, uint64_t t0);
	void (*event)(void *ctx, const struct kr_ev *ev);
	/* A span that completed (cancelled ones are not), in ns. */
	void (*span)(void *ctx, uint32_t id, const struct kr_evname *n,
		     uint32_t pid, uint64_t dur);
	void (*gauge)(void *ctx, uint32_t id, const struct kr_evname *n,
		      uint32_t pid, int64_t value);
	void (*count)(void *ctx, uint32_t id, const struct kr_evname *n,
		      uint32_t pid, uint64_t add);
};

struct kr_model_cfg {
	unsigned int ncpu;		/* CPUs of the buffers */
	struct kr_names *names;
	struct kr_sink sink;
	void *ctx;			/* for the two look-ups below */
	/* Read the events file again into @names; NULL: never. */
	void (*reload_names)(void *ctx, struct kr_names *names);
	/* A thread's comm no record told: its length, or -1. NULL: none. */
	int (*comm)(void *ctx, uint32_t pid, uint32_t tid,
		    char buf[KTRACER_COMM_MAX]);
	/*
	 * sysfs root to name block devices' tracks from (sysfs.h); NULL:
	 * they are named MAJ:MIN.
	 */
	const char *sysfs;
	size_t max_tracks;		/* 0: defaults */
	size_t max_threads;
	size_t max_syscalls;
};

struct kr_model_stats {
	uint64_t records;	/* given to the model */
	uint64_t events;	/* trace events made, metadata included */
	uint64_t spans;		/* complete spans */
	uint64_t cancelled;
	uint64_t lost;		/* records the kernel said it lost */
	uint64_t overwritten;	/* records freed unread (OVERWRITE) */
	uint64_t corrupt_bytes;	/* bytes skipped, unreadable */
	uint64_t open_at_end;	/* spans still open when the trace ended */
	uint64_t evicted;	/* open spans dropped from a full table */
	uint64_t name_reloads;
	uint64_t skipped[KR_BAD__NR];
};

struct kr_model;

struct kr_model *kr_model_new(const struct kr_model_cfg *cfg);
void kr_model_free(struct kr_model *m);
/* One record, from CPU @cpu's buffer, in (nearly) timestamp order. */
void kr_model_record(struct kr_model *m, unsigned int cpu,
		     const struct ktracer_record *r);
/* The trace ends: spans still open are drawn up to the last record. */
void kr_model_finish(struct kr_model *m);
const struct kr_model_stats *kr_model_stats(const struct kr_model *m);

/* For merge's kr_rec_fn: ctx is the model. */
void kr_model_rec_fn(void *ctx, unsigned int cpu, const struct ktracer_record *r);

#endif /* KR_MODEL_H */
