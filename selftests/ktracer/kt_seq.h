/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Writers that number their records, and a reader that checks the
 * numbers, for the tests that load every CPU at once.
 *
 * One writer thread per CPU, pinned there, writes op 0, 1, 2, ... of a
 * known sequence (kt_seq_write) on its own two events. A reader thread
 * consumes every CPU meanwhile through kt_ring.h; kt_seq_check() then
 * finds each CPU's records in order, none twice, with the gaps that LOST
 * records account for.
 */
#ifndef KT_SEQ_H
#define KT_SEQ_H

#include <pthread.h>

#include "kt_ring.h"

#define KT_MAX_CPUS	64

/* What the reader saw of one CPU's writer. */
struct kt_seq_cpu {
	uint32_t gauge, log;	/* the writer's events */
	int64_t last;		/* last sequence number, -1 before any */
	uint64_t seen;		/* its records */
	uint64_t gaps;		/* sequence numbers skipped, in total */
	uint64_t lost_since;	/* LOST args since the last record */
	uint64_t lost_reported;	/* all LOST args */
	uint64_t bad_lost;	/* LOST args that did not match a gap */
	char err[160];
};

struct kt_seq_run {
	bool discard;
	/*
	 * Other records share the buffers (a kernel source's), so a LOST
	 * record may count theirs too: a gap needs one at least as large.
	 */
	bool shared;
	struct kt_seq_cpu cpu[KT_MAX_CPUS];
};

/*
 * Every record of CPU c's buffer comes from c's writer, numbered 0, 1, ...
 * in the order written: GAUGE carries the number, LOG spells it first.
 * A kt_rec_fn with @ctx a struct kt_seq_run.
 */
static inline int kt_seq_check(void *ctx, const struct kt_rec *rec)
{
	struct kt_seq_run *run = ctx;
	struct kt_seq_cpu *c = &run->cpu[rec->cpu];
	unsigned int seq;
	uint64_t gap;

	if (rec->hdr.type == KTRACER_REC_LOST) {
		c->lost_since += rec->hdr.arg;
		c->lost_reported += rec->hdr.arg;
		if (!run->discard || rec->hdr.arg == 0) {
			snprintf(c->err, sizeof(c->err),
				 "LOST %llu in OVERWRITE mode or of nothing",
				 (unsigned long long)rec->hdr.arg);
			return -EPROTO;
		}
		return 0;
	}
	if (rec->hdr.type == KTRACER_REC_GAUGE && rec->hdr.event == c->gauge) {
		seq = rec->hdr.arg;
	} else if (rec->hdr.type == KTRACER_REC_LOG &&
		   rec->hdr.event == c->log &&
		   sscanf((const char *)rec->msg, "seq=%8u", &seq) == 1) {
	} else {
		snprintf(c->err, sizeof(c->err),
			 "foreign record: type %u event %u at %llu",
			 rec->hdr.type, rec->hdr.event,
			 (unsigned long long)rec->pos);
		return -EPROTO;
	}
	if ((int64_t)seq <= c->last) {
		snprintf(c->err, sizeof(c->err), "%u after %lld at %llu", seq,
			 (long long)c->last, (unsigned long long)rec->pos);
		return -EPROTO;
	}
	gap = seq - c->last - 1;
	/* DISCARD: a LOST record right where the records went missing. */
	if (run->discard &&
	    (run->shared ? gap > c->lost_since : gap != c->lost_since))
		c->bad_lost++;
	c->gaps += gap;
	c->lost_since = 0;
	c->last = seq;
	c->seen++;
	return 0;
}

struct kt_writer {
	int fd, cpu;
	unsigned int n;		/* ops to write... */
	const bool *stop;	/* ...or until *stop, if not NULL */
	uint32_t gauge, log;
	unsigned int done;	/* ops written */
	int err;		/* first failure, -errno */
};

/* Op @i of a writer: mostly GAUGE, every fifth a LOG of varying length. */
static inline int kt_seq_write(int fd, uint32_t gauge, uint32_t log,
			       unsigned int i)
{
	char msg[KTRACER_LOG_MAX];
	uint32_t len;

	if (i % 5 != 4)
		return kt_op(fd, KTRACER_OP_GAUGE, gauge, 0, i);
	len = 13 + (i * 37) % (KTRACER_LOG_MAX - 13 + 1);
	memset(msg, '.', sizeof(msg));
	snprintf(msg, sizeof(msg), "seq=%08u", i);
	msg[12] = '|';
	return kt_log(fd, log, msg, len);
}

static inline void *kt_writer_thread(void *arg)
{
	struct kt_writer *w = arg;

	w->err = kt_pin_cpu(w->cpu);
	if (w->err)
		return NULL;
	for (w->done = 0; w->done < w->n; w->done++) {
		if (w->stop && __atomic_load_n(w->stop, __ATOMIC_ACQUIRE))
			break;
		w->err = kt_seq_write(w->fd, w->gauge, w->log, w->done);
		if (w->err)
			break;
	}
	return NULL;
}

/*
 * Register CPU @cpu's writer's events, "@prefix.gauge.@cpu" and
 * "@prefix.log.@cpu", on @fd.
 */
static inline int kt_writer_events(int fd, const char *prefix, int cpu,
				   uint32_t *gauge, uint32_t *log)
{
	char name[KTRACER_NAME_MAX];
	int64_t id;

	*gauge = 0;
	*log = 0;
	snprintf(name, sizeof(name), "%s.gauge.%d", prefix, cpu);
	id = kt_register(fd, KTRACER_KIND_GAUGE, 0, name);
	if (id < 0)
		return id;
	*gauge = id;
	snprintf(name, sizeof(name), "%s.log.%d", prefix, cpu);
	id = kt_register(fd, KTRACER_KIND_LOG, 0, name);
	if (id < 0)
		return id;
	*log = id;
	return 0;
}

struct kt_reader {
	struct kt_rings *rings;
	kt_rec_fn fn;		/* called for every record consumed */
	void *ctx;
	bool stop;
	int64_t err;
	uint64_t passes;
};

static inline void *kt_reader_thread(void *arg)
{
	struct kt_reader *r = arg;
	bool stop;
	int64_t n;

	do {
		/* Stop after a pass that began once every writer was done. */
		stop = __atomic_load_n(&r->stop, __ATOMIC_ACQUIRE);
		n = kt_rings_consume(r->rings, r->fn, r->ctx);
		if (n < 0) {
			r->err = n;
			return NULL;
		}
		r->passes++;
		if (!n)
			sched_yield();
	} while (!stop);
	return NULL;
}

#endif /* KT_SEQ_H */
