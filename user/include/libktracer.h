/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libktracer: spans, gauges, counters and logs from a program's threads,
 * recorded through /dev/ktracer (uapi/linux/ktracer.h) without a system
 * call per operation.
 *
 * This header is the library's whole contract. It is meant to be read
 * top to bottom.
 *
 * A short example
 * ---------------
 *	#include <libktracer.h>
 *
 *	struct ktracer *t;
 *	struct ktracer_queue *q;
 *	uint32_t query = 0, inflight = 0;
 *
 *	// Once per process. Without the module, t and q stay NULL and
 *	// every op below returns 0 doing nothing: the program runs untraced.
 *	ktracer_open(&t, NULL);
 *	ktracer_declare(t, "db.query", KTRACER_KIND_SPAN, 16, &query);
 *	ktracer_declare(t, "db.inflight", KTRACER_KIND_GAUGE, 0, &inflight);
 *
 *	// Once per thread that records.
 *	ktracer_queue_open(t, &q);
 *
 *	// Anywhere in that thread: each call takes the time now, queues the
 *	// op and returns; no system call, no lock, no allocation.
 *	ktracer_start(q, query, slot, request_id);
 *	ktracer_gauge(q, inflight, n);
 *	...
 *	ktracer_stop(q, query, slot, rows);
 *
 *	// When the thread is done: submits what it queued.
 *	ktracer_queue_close(q);
 *
 *	// At exit: submits the rest; the kernel cancels open spans.
 *	ktracer_close(t);
 *
 * Every function returns 0 or a negative errno and never aborts. NULL
 * where a tracer or queue is expected is EINVAL, but for the ops, to which
 * a NULL queue means "not tracing" (see "Tracing off"). Build with
 * `pkg-config --cflags --libs libktracer`.
 *
 * Objects
 * -------
 * struct ktracer is one tracer: one open file of /dev/ktracer, so one set
 * of span slots (see "Events" in uapi/linux/ktracer.h), with the kernel's
 * read-only state page mapped. A process normally has one and shares it
 * between its threads.
 *
 * struct ktracer_queue is where one thread queues its ops. Each thread that
 * records opens its own with ktracer_queue_open() and is the only one to
 * call ops on it. The library keeps no global or thread-local state: the
 * tracer and its queues are all there is, and the program passes them
 * around.
 *
 * Events are declared by name (ktracer_declare()) and referred to by the
 * id the kernel gave them, a uint32_t. Span events have slots: slot i of
 * an event is open from its START to its STOP, as with several requests in
 * flight; slots belong to the tracer, not to a thread, so one thread may
 * start a span that another stops.
 *
 * Time stamps, and why a flush submits every queue at once
 * -------------------------------------------------------
 * An op's time is taken when it is called (clock_gettime(CLOCK_MONOTONIC),
 * the clock of every ktracer record), and travels with it to the kernel
 * in the op's "ts": a record shows when its op was called, not when it
 * was submitted.
 *
 * The kernel refuses (EINVAL) an op whose ts is in the future or older
 * than the start of the same file's previous OP or BATCH call. So every
 * op time-stamped before a BATCH call starts must be in that call, or it
 * can never be submitted with its time. The library therefore:
 *
 *  - submits the ops of all the tracer's queues together, in ONE
 *    KTRACER_IOC_BATCH call per flush, merged in time-stamp order (the
 *    order in which the kernel sees them, so a STOP queued by one thread
 *    follows the START another thread queued before it);
 *  - sizes the queues so that they always fit in one call: a queue holds
 *    the largest power of two <= KTRACER_BATCH_MAX / max_queues ops
 *    (max_queues is fixed when the tracer opens, default 64: 64 ops each);
 *  - lets no op be time-stamped while a flush is under way: an op that
 *    begins while another thread flushes waits for that flush to end (one
 *    BATCH call) before it reads the clock;
 *  - makes no other OP or BATCH call on its file.
 *
 * A flush happens when an op finds its queue full (or its message storage,
 * see ktracer_log()), on ktracer_flush(), ktracer_queue_close() and
 * ktracer_close(). Nothing flushes on a timer: a program that wants its
 * records in the buffers by some time calls ktracer_flush().
 *
 * What a batched record shows besides its time is the flush's: its pid
 * and tid are those of the thread that flushed (the ABI's op carries no
 * thread), and it lands in the buffer of the CPU that thread ran on. A
 * program that wants its threads told apart puts an id in the ops' arg,
 * or uses unbatched mode. Ops of several queues with the very same ts go
 * queue by queue, in the order of the queues' places in the tracer (the
 * lowest free place is taken when a queue opens).
 *
 * A flush must not fail half-way: the ops after a failed one could not be
 * submitted again with their time. So the flush checks each op against
 * the slot state the kernel will have when it applies the op (which it
 * knows exactly: every op on the file went through it) and leaves out the
 * ops the kernel would refuse, the errors only the kernel could see at
 * the time of the call:
 *	EBUSY	START on a slot that is open
 *	ENOENT	STOP on a slot that is not open
 * Each op left out is counted as failed (struct ktracer_lib_stats), and
 * the flush returns the first such error in time-stamp order; the ops
 * around it are submitted. If the kernel still refuses an op (it should
 * not), that op and the ops after it in the batch are counted as failed
 * and the flush returns its error.
 *
 * Unbatched mode (KTRACER_LIB_UNBATCHED) makes each op one KTRACER_IOC_OP
 * call, with ts 0 (the kernel takes the time the call began), and returns
 * the kernel's error at the call. It costs a system call per op, but needs
 * no flush and no queue storage.
 *
 * Threads
 * -------
 * Any thread may call ktracer_declare(), ktracer_queue_open(),
 * ktracer_flush(), ktracer_enabled() and ktracer_get_stats() at any time.
 * A queue's ops are called by one thread at a time (its owner, normally
 * the thread that opened it); ops on different queues run in parallel
 * without a lock: the owner appends to its queue, a single-producer ring,
 * publishing the head with a release store that the flush reads with an
 * acquire load, and the flush hands the space back with the tail the same
 * way. A flush takes the tracer's mutex, so there is one at a time.
 *
 * Ops are not async-signal-safe: a signal handler must not call them on a
 * queue its thread might be using. A queue must be closed, and every
 * thread done with the tracer, before ktracer_close(). After fork(), the
 * child must not use the parent's tracer (its mutex may be held by a
 * thread that did not fork); it opens its own.
 *
 * Tracing off
 * -----------
 * While tracing is off (the state page's "enabled" is 0: KTRACER_IOC_ENABLE
 * or debugfs "enable"), every op returns 0 after one load and one branch:
 * no clock read, no system call, no argument checked, nothing queued. So
 * does an op on a NULL queue (a test of the pointer before the load), which
 * is how a program runs untraced when the tracer could not be opened.
 * Ops queued while tracing was on are still submitted by the next flush
 * (the kernel records them if tracing is on by then).
 *
 * A span that straddles a switch sees it: a START made while tracing was
 * off was never submitted, so its STOP fails with ENOENT at the flush;
 * a STOP made while off was not submitted either, so the slot stays open
 * and the next START on it fails with EBUSY (a CANCEL closes the event's
 * slots).
 *
 * Limits
 * ------
 *	event names	1-63 bytes of printable ASCII (KTRACER_NAME_MAX - 1)
 *	slots		1-KTRACER_SLOTS_MAX per span event
 *	log message	1-KTRACER_LOG_MAX bytes
 *	queues		max_queues: 1-KTRACER_BATCH_MAX per tracer
 *	queue		the largest power of two <= KTRACER_BATCH_MAX / max_queues
 *			ops, and log_bytes of messages
 */
#ifndef LIBKTRACER_H
#define LIBKTRACER_H

#include <stddef.h>
#include <stdint.h>

#include <linux/ktracer.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version; the shared library's soname is libktracer.so.1. */
#define KTRACER_LIB_VERSION_MAJOR	1
#define KTRACER_LIB_VERSION_MINOR	0

struct ktracer;
struct ktracer_queue;

/*
 * Options of ktracer_open(). Zero means the default for every member but
 * size, which the caller sets to sizeof(struct ktracer_lib_options) so
 * that the struct can grow, as the kernel's do: a size below
 * KTRACER_LIB_OPTIONS_SIZE_VER0 is EINVAL; larger than the library knows,
 * with a non-zero byte past what it knows, E2BIG.
 */
struct ktracer_lib_options {
	uint32_t size;		/* sizeof(struct ktracer_lib_options) */
	uint32_t flags;		/* KTRACER_LIB_* below */
	uint32_t max_queues;	/* 1..KTRACER_BATCH_MAX; 0: 64 */
	uint32_t log_bytes;	/* message storage per queue, bytes, */
				/* KTRACER_LOG_MAX..KTRACER_LIB_LOG_BYTES_MAX; */
				/* 0: 64 per op the queue holds, at least */
				/* KTRACER_LOG_MAX */
	const char *device;	/* NULL: KTRACER_DEVICE */
};

#define KTRACER_LIB_OPTIONS_SIZE_VER0	24

/* Every op is one KTRACER_IOC_OP call, its error returned at the call. */
#define KTRACER_LIB_UNBATCHED		0x1

#define KTRACER_LIB_QUEUES_DEFAULT	64
#define KTRACER_LIB_LOG_BYTES_MAX	(16 << 20)

/*
 * ktracer_open - open a tracer.
 * @tp: where the tracer goes; NULL on failure.
 * @opts: NULL for the defaults.
 *
 * Opens the device (O_RDWR | O_CLOEXEC), checks that KTRACER_IOC_VERSION
 * reports the major this header was built with, and maps the state page
 * read-only.
 *
 * Errors:
 *	EINVAL	tp is NULL; opts: size, unknown flags, max_queues above
 *		KTRACER_BATCH_MAX, log_bytes out of range
 *	E2BIG	opts: bytes past the known struct not zero
 *	EPROTO	the module speaks another ABI major, or its state page is
 *		not one (wrong magic)
 *	ENOMEM	no memory for the tracer
 *	any errno of open(2) on the device (ENOENT: the module is not
 *	loaded; EACCES: no permission), of the VERSION ioctl or of mmap(2)
 */
int ktracer_open(struct ktracer **tp, const struct ktracer_lib_options *opts);

/*
 * ktracer_close - flush, then close the file and free the tracer.
 * @t: the tracer; NULL is a no-op returning 0.
 *
 * Queues still open are flushed and freed: their pointers become
 * invalid, and no thread may be using them. Closing the file makes the
 * kernel cancel the spans left open (CANCEL records flagged
 * KTRACER_RECF_CLOSE).
 *
 * Returns the flush's error (see ktracer_flush()), else close(2)'s. The
 * tracer is freed in either case.
 */
int ktracer_close(struct ktracer *t);

/*
 * ktracer_declare - declare an event, get its id.
 * @t: the tracer.
 * @name: 1-63 bytes of printable ASCII, NUL-terminated.
 * @kind: enum ktracer_kind.
 * @slots: spans: 1..KTRACER_SLOTS_MAX; other kinds: 0.
 * @id: where the event's id goes (never 0).
 *
 * KTRACER_IOC_REGISTER on the tracer's file. Declaring the same name with
 * the same kind and slots again, from any tracer or process, gives the
 * same id. An id is valid in the ops of this tracer's queues only.
 *
 * Errors (those of KTRACER_IOC_REGISTER):
 *	EINVAL		t, name or id NULL; unknown kind; slots out of range;
 *			empty name or a byte outside 0x20-0x7e
 *	ENAMETOOLONG	name longer than 63 bytes
 *	EEXIST		the name is declared with another kind or slots, or is
 *			one of the kernel's own events
 *	ENOSPC		the kernel's table of names is full
 *	ENOMEM		no memory for the span's slot state
 *	EPROTO		the kernel gave an id out of range, or one this tracer
 *			knows with another kind (a module that breaks the ABI)
 */
int ktracer_declare(struct ktracer *t, const char *name, uint32_t kind,
		    uint32_t slots, uint32_t *id);

/*
 * ktracer_queue_open - a queue for the calling thread.
 * @t: the tracer.
 * @qp: where the queue goes; NULL on failure.
 *
 * Allocates the queue's ring and message storage (nothing in unbatched
 * mode), so that ops never allocate.
 *
 * Errors:
 *	EINVAL	t or qp NULL
 *	ENOSPC	max_queues queues are open already
 *	ENOMEM	no memory for the queue
 */
int ktracer_queue_open(struct ktracer *t, struct ktracer_queue **qp);

/*
 * ktracer_queue_close - flush, then free a queue.
 * @q: the queue; NULL is a no-op returning 0.
 *
 * The flush submits every queue's ops (as any flush does). Returns its
 * error, see ktracer_flush(); the queue is freed in either case.
 */
int ktracer_queue_close(struct ktracer_queue *q);

/*
 * The ops. Each takes the time (CLOCK_MONOTONIC) and queues one op for
 * the next flush: 0 means queued, not yet applied. Errors found at the
 * call are returned and nothing is queued:
 *	ENOENT	event is not an id this tracer declared
 *	EINVAL	event is not of the op's kind
 *	ERANGE	start, stop: slot >= the event's slots
 *	EMSGSIZE log: len is 0 or above KTRACER_LOG_MAX
 *	EFAULT	log: msg is NULL
 * Errors only the kernel's slot state shows (EBUSY: START on an open
 * slot; ENOENT: STOP on a closed one) come from the flush that submits
 * the op, see "Time stamps" above.
 *
 * An op that finds its queue full flushes first; a failure of that flush
 * is counted in the stats, not returned by the op (it is about other
 * ops), and the op is queued.
 *
 * In unbatched mode each op is one KTRACER_IOC_OP call instead, which
 * returns the kernel's error (EBUSY, ENOENT, ...) at the call.
 *
 * While tracing is off, or with q NULL, each op returns 0 and does nothing
 * (see "Tracing off"). Otherwise q must be a queue of an open tracer,
 * used by one thread at a time.
 */

/* Open @slot of span @event; @arg is the app's, in the START record. */
int ktracer_start(struct ktracer_queue *q, uint32_t event, uint32_t slot,
		  uint64_t arg);

/* Close @slot; the STOP record has @arg and the span's duration. */
int ktracer_stop(struct ktracer_queue *q, uint32_t event, uint32_t slot,
		 uint64_t arg);

/* Close every open slot of span @event, one CANCEL record each. */
int ktracer_cancel(struct ktracer_queue *q, uint32_t event);

/* Set gauge @event to @value: the last value wins. */
int ktracer_gauge(struct ktracer_queue *q, uint32_t event, int64_t value);

/* Add @n to counter @event (the kernel's total saturates). */
int ktracer_count(struct ktracer_queue *q, uint32_t event, uint64_t n);

/*
 * Log @len bytes at @msg (any bytes, no NUL needed) as an instant of log
 * @event. The message is copied into the queue's storage: @msg may be
 * reused as soon as the call returns. An op that finds the storage too
 * full for its message flushes first, as for a full queue.
 */
int ktracer_log(struct ktracer_queue *q, uint32_t event, const void *msg,
		size_t len);

/*
 * ktracer_flush - submit every queue's ops in one KTRACER_IOC_BATCH call.
 * @t: the tracer.
 *
 * Takes the tracer's mutex, waits for ops under way on other threads to be
 * queued, and submits every queue's ops merged in time-stamp order; ops
 * cannot be queued meanwhile (they wait). With nothing queued, makes no
 * system call. In unbatched mode, does nothing.
 *
 * Returns 0 if the kernel applied every op, else the first error in
 * time-stamp order: EBUSY, ENOENT (left out, see "Time stamps"), or the
 * BATCH call's. Every failed op is counted in the stats; the others are
 * applied. The queues are empty on return, whatever the result.
 * EINVAL if t is NULL.
 */
int ktracer_flush(struct ktracer *t);

/*
 * ktracer_enabled - 1 if tracing is on, 0 if off (or t is NULL).
 *
 * The state page's flag, for a program that wants to skip preparing an
 * op's arguments (formatting a log message, say) while tracing is off.
 */
int ktracer_enabled(const struct ktracer *t);

/* What a tracer did, since it was opened. */
struct ktracer_lib_stats {
	uint64_t queued;	/* ops accepted by the calls (unbatched: */
				/* ops that reached the kernel) */
	uint64_t pending;	/* queued, not flushed yet */
	uint64_t applied;	/* ops the kernel applied */
	uint64_t failed;	/* ops the flush left out or the kernel */
				/* refused (not the calls' own errors) */
	uint64_t batches;	/* KTRACER_IOC_BATCH calls */
	uint64_t syscalls;	/* KTRACER_IOC_OP and _BATCH calls */
	/* The last failed op, all 0 if none failed: */
	int32_t last_error;	/* -errno */
	uint16_t last_op;	/* enum ktracer_opcode */
	uint16_t __reserved;
	uint32_t last_event;
	uint32_t last_slot;
	uint64_t last_ts;	/* when it was called; 0 in unbatched mode */
};

/*
 * ktracer_get_stats - a consistent snapshot of the counters.
 * @t: the tracer.
 * @st: filled in.
 *
 * Takes the tracer's mutex. EINVAL if t or st is NULL.
 */
int ktracer_get_stats(struct ktracer *t, struct ktracer_lib_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* LIBKTRACER_H */
