/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Writers that number their records, and a reader that checks the
 * numbers, for the tests that load every CPU at once.
 *
 * One writer thread per CPU, pinned there, writes op 0, 1, 2, ... of a
 * known sequence (kt_seq_op) on its own two events, one op per call or,
 * if asked, batches of them in turn. A reader thread consumes every CPU
 * meanwhile through kt_ring.h; kt_seq_check() then finds each CPU's
 * records in order, none twice, with the gaps that LOST records
 * (DISCARD) or a tail the kernel moved (OVERWRITE) account for.
 * kt_load_start() starts the lot; kt_serial_thread() adds interrupts.
 */
#ifndef KT_SEQ_H
#define KT_SEQ_H

#include <pthread.h>
#include <termios.h>

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
	uint64_t skips;		/* the ring's skips at the last record */
	uint64_t bad_gaps;	/* gaps no LOST record or overwrite explains */
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
		c->bad_gaps++;
	/* OVERWRITE: the kernel moved the tail past them. */
	if (!run->discard && gap && rec->skips == c->skips)
		c->bad_gaps++;
	c->gaps += gap;
	c->lost_since = 0;
	c->skips = rec->skips;
	c->last = seq;
	c->seen++;
	return 0;
}

#define KT_SEQ_BATCH_MAX	64

struct kt_writer {
	int fd, cpu;
	unsigned int n;		/* ops to write... */
	const bool *stop;	/* ...or until *stop, if not NULL */
	unsigned int batch;	/* 0: one op per call; else runs of @batch
				 * single ops and batches of @batch, in turn
				 * (at most 4: some batches are then GAUGEs
				 * only, which the kernel writes into one
				 * reservation, and some have a LOG) */
	uint32_t gauge, log;
	unsigned int done;	/* ops written */
	unsigned int batches;	/* of them in batches */
	int err;		/* first failure, -errno */
};

/*
 * Op @i of a writer: mostly GAUGE, every fifth a LOG of varying length,
 * its message in @msg (KTRACER_LOG_MAX bytes, alive until it is applied).
 */
static inline struct ktracer_op kt_seq_op(uint32_t gauge, uint32_t log,
					  unsigned int i, char *msg)
{
	struct ktracer_op op;

	if (i % 5 != 4)
		return kt_mkop(KTRACER_OP_GAUGE, gauge, 0, i);
	op = kt_mkop(KTRACER_OP_LOG, log, 0, (uintptr_t)msg);
	op.len = 13 + (i * 37) % (KTRACER_LOG_MAX - 13 + 1);
	memset(msg, '.', KTRACER_LOG_MAX);
	snprintf(msg, KTRACER_LOG_MAX, "seq=%08u", i);
	msg[12] = '|';
	return op;
}

static inline int kt_seq_write(int fd, uint32_t gauge, uint32_t log,
			       unsigned int i)
{
	char msg[KTRACER_LOG_MAX];
	struct ktracer_op op = kt_seq_op(gauge, log, i, msg);

	return kt_do(fd, &op);
}

/* Ops @i.. of @w, as many as its run of batches holds, in one call. */
static inline int kt_seq_write_batch(struct kt_writer *w, unsigned int i,
				     unsigned int *count)
{
	static __thread char msgs[KT_SEQ_BATCH_MAX][KTRACER_LOG_MAX];
	struct ktracer_op ops[KT_SEQ_BATCH_MAX];
	unsigned int k, n = w->batch - i % w->batch;
	uint32_t done;
	int err;

	if (n > w->n - i)
		n = w->n - i;
	for (k = 0; k < n; k++)
		ops[k] = kt_seq_op(w->gauge, w->log, i + k, msgs[k]);
	err = kt_batch(w->fd, ops, n, &done, NULL);
	*count = err ? 0 : done;
	return err ? err : done == n ? 0 : -EIO;
}

static inline void *kt_writer_thread(void *arg)
{
	struct kt_writer *w = arg;
	unsigned int n;

	w->err = kt_pin_cpu(w->cpu);
	if (!w->err && w->batch > KT_SEQ_BATCH_MAX)
		w->err = -EINVAL;
	if (w->err)
		return NULL;
	for (w->done = 0; w->done < w->n; w->done += n) {
		if (w->stop && __atomic_load_n(w->stop, __ATOMIC_ACQUIRE))
			break;
		n = 1;
		if (w->batch && w->done / w->batch % 2) {
			w->err = kt_seq_write_batch(w, w->done, &n);
			w->batches += n;
		} else {
			w->err = kt_seq_write(w->fd, w->gauge, w->log,
					      w->done);
		}
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

/* kt_seq_check() for the writers' records, nothing for the kernel's. */
static inline int kt_seq_check_user(void *ctx, const struct kt_rec *rec)
{
	if (rec->hdr.flags & KTRACER_RECF_KERNEL)
		return 0;
	return kt_seq_check(ctx, rec);
}

/* The per-CPU writers and the reader that checks them as they go. */
struct kt_load {
	int nr;
	bool stop;
	struct kt_seq_run run;
	struct kt_writer w[KT_MAX_CPUS];
	pthread_t wt[KT_MAX_CPUS], rt;
	struct kt_reader rd;
};

/*
 * Writers on every CPU of @rings, numbering their records (in batches of
 * @batch too, if not 0), and a reader calling @fn with @ctx for every
 * record: kt_seq_check() for the writers' (kt_seq_check_user() with
 * &@ld->run does it). Kernel sources may share the buffers.
 */
static inline int kt_load_start(int fd, struct kt_rings *rings,
				struct kt_load *ld, const char *prefix,
				unsigned int batch, kt_rec_fn fn, void *ctx)
{
	int cpu, err;

	ld->nr = rings->nr;
	ld->run.discard = rings->state->mode == KTRACER_MODE_DISCARD;
	ld->run.shared = true;
	for (cpu = 0; cpu < ld->nr; cpu++) {
		struct kt_writer *w = &ld->w[cpu];

		*w = (struct kt_writer){ .fd = fd, .cpu = cpu, .n = UINT32_MAX,
					 .stop = &ld->stop, .batch = batch };
		err = kt_writer_events(fd, prefix, cpu, &w->gauge, &w->log);
		if (err)
			return err;
		ld->run.cpu[cpu].gauge = w->gauge;
		ld->run.cpu[cpu].log = w->log;
		ld->run.cpu[cpu].last = -1;
		ld->run.cpu[cpu].skips = rings->ring[cpu].skips;
	}
	ld->rd = (struct kt_reader){ .rings = rings, .fn = fn, .ctx = ctx };
	if (pthread_create(&ld->rt, NULL, kt_reader_thread, &ld->rd))
		return -EAGAIN;
	for (cpu = 0; cpu < ld->nr; cpu++)
		if (pthread_create(&ld->wt[cpu], NULL, kt_writer_thread,
				   &ld->w[cpu]))
			return -EAGAIN;
	return 0;
}

/*
 * Stop the writers, then the reader once it has drained what they wrote
 * (a kernel source may write more after).
 */
static inline void kt_load_stop(struct kt_load *ld)
{
	int cpu;

	__atomic_store_n(&ld->stop, true, __ATOMIC_RELEASE);
	for (cpu = 0; cpu < ld->nr; cpu++)
		pthread_join(ld->wt[cpu], NULL);
	__atomic_store_n(&ld->rd.stop, true, __ATOMIC_RELEASE);
	pthread_join(ld->rt, NULL);
}

/*
 * In a test, after kt_load_stop(): no writer nor the reader failed; what
 * the sequence checks found wrong is logged per CPU.
 */
#define KT_LOAD_ASSERT_OK(ld) do {					\
	int __cpu;							\
	for (__cpu = 0; __cpu < (ld)->nr; __cpu++)			\
		ASSERT_EQ(0, (ld)->w[__cpu].err)			\
			TH_LOG("writer %d, op %u: %s", __cpu,		\
			       (ld)->w[__cpu].done,			\
			       strerror(-(ld)->w[__cpu].err));		\
	for (__cpu = 0; __cpu < (ld)->nr; __cpu++)			\
		if ((ld)->run.cpu[__cpu].err[0])			\
			TH_LOG("cpu %d: %s", __cpu,			\
			       (ld)->run.cpu[__cpu].err);		\
	ASSERT_EQ(0, (ld)->rd.err)					\
		TH_LOG("reader: %s", strerror(-(ld)->rd.err));		\
} while (0)

/*
 * Interrupts on demand: lines to a serial port (@fd), each drained before
 * the next, so that every line is an interrupt at least (one interrupt
 * sends all that is queued, so writing ahead would make a few interrupts
 * of many lines). Until *@stop, or @max lines if not 0.
 */
struct kt_serial {
	int fd;
	bool stop;
	unsigned int max;
	unsigned int lines;
};

static inline void *kt_serial_thread(void *arg)
{
	static const char line[] = "ktracer selftest: irq load\n";
	struct kt_serial *s = arg;

	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE) &&
	       (!s->max || s->lines < s->max)) {
		if (write(s->fd, line, sizeof(line) - 1) != sizeof(line) - 1 ||
		    tcdrain(s->fd))
			break;
		s->lines++;
	}
	return NULL;
}

#endif /* KT_SEQ_H */
