/* SPDX-License-Identifier: GPL-2.0 */
/* ktracer-read's host tests: every test, and the pipeline they share. */
#ifndef KU_TESTS_H
#define KU_TESTS_H

#include "fake_ring.h"
#include "json.h"
#include "merge.h"
#include "model.h"
#include "names.h"
#include "pipeline.h"
#include "statsd.h"
#include "unit.h"

#define KU_CPUS_MAX	8

/*
 * The whole reader on the host: fake per-CPU buffers written as the
 * kernel does, consumed by ring.c, merged, modelled, written as JSON to
 * memory and, with metrics, aggregated as StatsD into captured datagrams.
 */
struct ku_pipe {
	unsigned int ncpu;
	uint32_t mode;
	struct fake_ring fr[KU_CPUS_MAX];
	struct kr_ring *ringp[KU_CPUS_MAX];
	struct kr_merge merge;
	struct kr_names *names;	/* one for all pipes: too big for a stack */
	struct kr_model *model;
	struct ku_buf doc;
	struct kr_out out;
	struct kr_json json;
	bool trace, metrics;
	struct kr_statsd statsd;
	struct kr_outputs outs;
	struct ku_buf dgrams;		/* datagrams, each ended by "\n--\n" */
	unsigned int ndgrams;
	uint64_t now;			/* the reader's clock, ns */
	unsigned int reloads;		/* names reloaded */
	const char *reload_text;	/* what the events file says then */
	bool no_comm;			/* the comm look-up finds nothing */
};

struct ku_pipe_cfg {
	unsigned int ncpu;		/* 0: 2 */
	uint64_t ring_size;		/* 0: 64 KiB */
	size_t fifo_size;		/* 0: 256 KiB */
	uint32_t mode;			/* 0: DISCARD */
	bool metrics, tags, no_trace;
	const char *sysfs;		/* model's sysfs root; NULL: none */
	size_t max_tracks, max_threads;
};

void ku_pipe_init(struct ku_pipe *p, const struct ku_pipe_cfg *cfg);
/* Write a record to CPU @cpu's buffer; false if the buffer dropped it. */
bool ku_put(struct ku_pipe *p, unsigned int cpu, uint8_t type, uint32_t event,
	    uint64_t ts, uint32_t pid, uint32_t tid, uint32_t slot,
	    uint64_t arg, uint64_t extra);
bool ku_put_msg(struct ku_pipe *p, unsigned int cpu, uint8_t type,
		uint8_t flags, uint32_t event, uint64_t ts, uint32_t pid,
		uint32_t tid, uint32_t slot, uint64_t arg, uint64_t extra,
		const void *msg, uint32_t len);
/* Consume and merge what is there, as the reader's loop does. */
void ku_pipe_read(struct ku_pipe *p);
/* Read everything, end the trace: the document (NUL-terminated). */
const char *ku_pipe_end(struct ku_pipe *p);
void ku_pipe_free(struct ku_pipe *p);

#define KU_TESTS(X)	\
	X(json_numbers)	\
	X(json_fast_paths_ts)	\
	X(json_escapes_hostile_bytes)	\
	X(json_every_phase)	\
	X(json_empty_and_small_buffer)	\
	X(json_write_error)	\
	X(names_parse)	\
	X(map_bounded)	\
	X(map_walks)	\
	X(merge_order_and_window)	\
	X(ring_discard_wrap)	\
	X(ring_discard_lost)	\
	X(ring_overwrite_concurrent)	\
	X(ring_fifo_smaller_than_buffer)	\
	X(ring_corrupt_tail)	\
	X(model_user_spans)	\
	X(model_two_tracers_one_slot)	\
	X(model_cancelled_and_open)	\
	X(model_stop_without_start)	\
	X(model_gauges_counters_logs)	\
	X(model_kernel_cpu_tracks)	\
	X(model_switch_split)	\
	X(model_switch_bad)	\
	X(model_syscalls_and_tasks)	\
	X(model_exit_syscalls)		\
	X(model_block_devices)	\
	X(model_block_names)	\
	X(model_lost_markers)	\
	X(model_lost_at_end)	\
	X(model_hostile_names)	\
	X(model_names_reload)	\
	X(model_bounded_tables)	\
	X(model_metrics)	\
	X(layout_regions_nested)	\
	X(layout_task_across_threads)	\
	X(layout_high_event_ids)	\
	X(layout_text_args)	\
	X(layout_adjacent_slices)	\
	X(layout_check_catches_overlap)	\
	X(statsd_span_lines)	\
	X(statsd_gauges_and_counters)	\
	X(statsd_datagrams_1400)	\
	X(statsd_saturation)	\
	X(statsd_tags)	\
	X(statsd_reset_after_emit)	\
	X(statsd_send_failure)	\
	X(statsd_names_sanitized)	\
	X(robust_garbage_buffers)	\
	X(robust_mutated_records)	\
	X(robust_absurd_counters)	\
	X(robust_statsd_refused)	\
	X(robust_disk_full)	\
	X(robust_broken_pipe)	\
	X(cli_usage_and_errors)		\
	X(cli_record_usage)

#define KU_DECLARE(fn)	void fn(void);
KU_TESTS(KU_DECLARE)

#endif /* KU_TESTS_H */
