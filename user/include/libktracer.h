/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libktracer: regions, tasks, gauges, counters and logs from a program's
 * threads, recorded through /dev/ktracer (uapi/linux/ktracer.h) next to
 * what the kernel did on the same threads, without a system call per
 * operation.
 *
 * This header is the library's whole contract. It is meant to be read
 * top to bottom. (C++: libktracer.hpp adds an RAII region guard.)
 *
 * A short example
 * ---------------
 *	#include <libktracer.h>
 *
 *	struct ktracer *t;	// once per process, shared by its threads
 *	uint32_t req, db;
 *
 *	ktracer_open(&t, NULL);	// no module: t is NULL, ops return 0
 *	ktracer_declare(t, "request", KTRACER_KIND_SPAN, 0, &req);
 *	ktracer_declare(t, "db", KTRACER_KIND_SPAN, 0, &db);
 *
 *	void handle(const char *url)	// on any thread
 *	{
 *		KTRACER_REGION_TEXT(t, req, url);	// ends with the block
 *		ktracer_region_begin(t, db, NULL);
 *		query();
 *		ktracer_region_end(t, db);
 *	}
 *
 *	ktracer_close(t);	// at exit; optional, see "Nothing lost"
 *
 * Every function returns 0 or a negative errno and never aborts. NULL
 * where a tracer is expected makes an op return 0 doing nothing (see
 * "Tracing off"), and the other functions EINVAL. Build with
 * `pkg-config --cflags --libs libktracer`.
 *
 * Objects
 * -------
 * struct ktracer is one tracer: one open file of /dev/ktracer, so one set
 * of span slots (see "Events" in uapi/linux/ktracer.h), with the kernel's
 * read-only state page mapped. A process normally has one and shares it
 * between all its threads: every call takes the tracer, and the library
 * finds the calling thread's own queue itself.
 *
 * Events are declared by name (ktracer_declare()) and referred to by the
 * id the kernel gave them, a uint32_t.
 *
 * Regions and tasks
 * -----------------
 * Both are spans of a span event (KTRACER_KIND_SPAN), as Go's
 * runtime/trace has them:
 *
 *  - a region is a span of the calling thread: ktracer_region_begin()
 *    and ktracer_region_end() on the same thread, nested like the calls
 *    of a function (LIFO). The library picks its slot; a reader draws it
 *    on the thread's own track, with the thread's system calls and
 *    scheduling. KTRACER_REGION() is the scoped form for C (it ends with
 *    the enclosing block), ktracer_region (libktracer.hpp) the RAII guard for C++.
 *  - a task is a span in a slot the program picks, which may start on
 *    one thread and stop on another: ktracer_start() and ktracer_stop(),
 *    ktracer_cancel_slot(). A reader draws it on a track of its own.
 *
 * A START (of a region or a task) may carry a short text, a URL or a
 * table name, that readers show as the span's argument: at most
 * KTRACER_TEXT_MAX bytes, longer texts are cut there.
 *
 * A program uses an event either for regions or for tasks, not both: a
 * region's slot is the calling thread's index in the tracer (0, 1, ...:
 * a thread keeps its index while it lives, and a new thread takes the
 * index of one that exited), so a span event used for regions needs as
 * many slots as threads record it at once. Slots 0 in ktracer_declare()
 * gives a span KTRACER_LIB_SLOTS_DEFAULT.
 *
 * Where the ops go, and when they reach the buffers
 * --------------------------------------------------
 * An op takes the time (on x86-64 the TSC, which the kernel converts to
 * CLOCK_MONOTONIC, the clock of every ktracer record; elsewhere, or on a
 * kernel that cannot convert it, clock_gettime(CLOCK_MONOTONIC)) and
 * writes the op into the calling thread's queue, a ring of memory shared
 * with the kernel (KTRACER_IOC_QUEUE):
 * no system call, no lock, no atomic read-modify-write, nothing that
 * waits for another thread. The thread's first op creates its queue
 * (a system call, and the tracer's mutex once); a thread that starts
 * after another exited adopts that one's queue.
 *
 * The kernel applies the queued ops ("drains" the queues), each with the
 * time of its call and named after the thread that called it, whichever
 * thread or CPU drains: a record always shows the calling thread. It
 * drains:
 *  - every interval (the option interval_ms, default
 *    KTRACER_QUEUE_INTERVAL_DEFAULT ms), so an idle thread's ops reach
 *    the buffers within that delay without the program calling anything;
 *  - when a thread's queue passes 3/4 full: its op asks for a drain with
 *    one KTRACER_IOC_FLUSH that never waits (if a drain is running, that
 *    one or the next takes the ops);
 *  - on ktracer_flush() and ktracer_close();
 *  - when the file is released.
 *
 * A full queue never blocks: the op is dropped, counted (the stats'
 * "dropped"; the next drain writes a LOST record on the thread), and
 * returns 0. A region's end is never dropped: a thread's queue always
 * keeps room for the ends of the regions it has open, so a region whose
 * begin was queued ends in the trace too (a region whose begin was
 * dropped drops its end as well).
 *
 * The library checks what it can at the call (the event, its kind, the
 * slot range, a LOG's length, the region nesting); what only the kernel
 * sees (a task STARTed on a slot that is open: EBUSY; STOPped on one
 * that is not: ENOENT) makes the kernel refuse the op when it drains:
 * nothing is recorded for it, and the stats count it in "refused" with
 * its error.
 *
 * Unbatched mode (KTRACER_LIB_UNBATCHED) makes each op one KTRACER_IOC_OP
 * call instead, which returns the kernel's error at the call. It costs a
 * system call per op.
 *
 * Nothing lost at exit, crash or kill
 * -----------------------------------
 * A queue is the kernel's memory: when the process exits, with or
 * without ktracer_close(), aborts, crashes or is killed, the kernel
 * drains what its threads queued as it releases the file. Spans left
 * open are closed then (CANCEL records flagged KTRACER_RECF_CLOSE). A
 * thread that exits with regions open has them cancelled (CANCEL
 * records flagged KTRACER_RECF_REGION) as it exits.
 *
 * Threads
 * -------
 * Every function may be called from any thread at any time, but for
 * ktracer_close(), which must come after every other thread's last call
 * on the tracer (they may still run). Regions are the calling thread's;
 * tasks and the other ops are the tracer's. At most KTRACER_FILE_QUEUES_MAX
 * threads record through one tracer at once (ENOSPC past that).
 *
 * What the library keeps per thread is an entry in the tracer's table
 * (its queue, its regions), found through the tracer's pthread key and a
 * one-entry thread-local cache of the tracer last used; it has no global
 * mutable state.
 *
 * Ops are not async-signal-safe: a signal handler must not call them on a
 * tracer its thread might be using.
 *
 * fork()
 * ------
 * A child of fork() cannot use its parent's tracer: every op, region,
 * ktracer_declare(), ktracer_flush() and ktracer_get_stats() on it
 * returns -ECHILD and writes nothing (the parent's queues are not mapped
 * in the child; the library sees that without a system call, from memory
 * the child reads as zeros). ktracer_close() on it in the child frees the
 * child's copy and closes the child's descriptor; the parent's tracer and
 * records are unaffected. A child that records opens a tracer of its
 * own with ktracer_open().
 *
 * Tracing off
 * -----------
 * While tracing is off (the state page's "enabled" is 0: KTRACER_IOC_ENABLE
 * or debugfs "enable"), every op returns 0 after one load and one branch:
 * no clock read, no system call, no argument checked, nothing queued. So
 * does an op on a NULL tracer (a test of the pointer before the load),
 * which is how a program runs untraced when the tracer could not be
 * opened. Regions keep their nesting while tracing is off: a region begun
 * while off is open (it can be ended, and nests) but records nothing, nor
 * does its end; a region begun while on records its end even if tracing
 * went off in between (the kernel then records nothing but closes the
 * slot). Ops queued while tracing was on are applied by the next drain
 * (recorded if tracing is on by then).
 *
 * Limits
 * ------
 *	event names	1-63 bytes of printable ASCII (KTRACER_NAME_MAX - 1)
 *	slots		1-KTRACER_SLOTS_MAX per span event
 *	log message	1-KTRACER_LOG_MAX bytes
 *	START text	0-KTRACER_TEXT_MAX bytes (longer: cut)
 *	regions open	KTRACER_LIB_REGION_DEPTH per thread
 *	threads		KTRACER_FILE_QUEUES_MAX recording at once per tracer
 *	queue		ring_size bytes per thread: 32 per op, plus a LOG's
 *			message or a START's text rounded up to 32
 */
#ifndef LIBKTRACER_H
#define LIBKTRACER_H

#include <stddef.h>
#include <stdint.h>

#include <linux/ktracer.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version; the shared library's soname is libktracer.so.2. */
#define KTRACER_LIB_VERSION_MAJOR	2
#define KTRACER_LIB_VERSION_MINOR	0

struct ktracer;

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
	uint32_t ring_size;	/* bytes of each thread's queue: a power */
				/* of two, KTRACER_QUEUE_RING_MIN.._MAX; */
				/* 0: KTRACER_LIB_RING_DEFAULT */
	uint32_t interval_ms;	/* the kernel's drain interval, */
				/* 1..KTRACER_QUEUE_INTERVAL_MAX; 0: the */
				/* kernel's (KTRACER_QUEUE_INTERVAL_DEFAULT) */
	const char *device;	/* NULL: KTRACER_DEVICE */
};

#define KTRACER_LIB_OPTIONS_SIZE_VER0	(16 + sizeof(const char *))

/* Every op is one KTRACER_IOC_OP call, its error returned at the call. */
#define KTRACER_LIB_UNBATCHED		0x1

#define KTRACER_LIB_RING_DEFAULT	(64 << 10)	/* 2048 ops */
#define KTRACER_LIB_SLOTS_DEFAULT	64	/* a span declared with 0 */
#define KTRACER_LIB_REGION_DEPTH	32	/* regions open per thread */

/*
 * ktracer_open - open a tracer.
 * @tp: where the tracer goes; NULL on failure.
 * @opts: NULL for the defaults.
 *
 * Opens the device (O_RDWR | O_CLOEXEC), checks that KTRACER_IOC_VERSION
 * reports the major this header was built with and a minor of at least 1
 * (queues), maps the state page read-only, and sets the drain interval
 * if asked. Makes no queue: each thread's first op does.
 *
 * Errors:
 *	EINVAL	tp is NULL; opts: size, unknown flags, ring_size or
 *		interval_ms out of range
 *	E2BIG	opts: bytes past the known struct not zero
 *	EPROTO	the module speaks another ABI major, or minor 0, or its
 *		state page is not one (wrong magic)
 *	ENOMEM	no memory for the tracer
 *	any errno of open(2) on the device (ENOENT: the module is not
 *	loaded; EACCES: no permission), of the VERSION or FLUSH ioctl, of
 *	mmap(2), madvise(2) or pthread_key_create(3)
 */
int ktracer_open(struct ktracer **tp, const struct ktracer_lib_options *opts);

/*
 * ktracer_close - flush, then close the file and free the tracer.
 * @t: the tracer; NULL is a no-op returning 0.
 *
 * Every other thread must be done with the tracer. Drains every queue
 * (ktracer_flush()), unmaps them and closes the file: the kernel cancels
 * the spans left open (CANCEL records flagged KTRACER_RECF_CLOSE).
 *
 * Returns the flush's error, else close(2)'s; the tracer is freed in
 * either case. In a child of fork() (see "fork()"), frees the child's
 * copy without a flush.
 */
int ktracer_close(struct ktracer *t);

/*
 * ktracer_declare - declare an event, get its id.
 * @t: the tracer.
 * @name: 1-63 bytes of printable ASCII, NUL-terminated.
 * @kind: enum ktracer_kind.
 * @slots: spans: 1..KTRACER_SLOTS_MAX, or 0 for KTRACER_LIB_SLOTS_DEFAULT;
 *	other kinds: 0.
 * @id: where the event's id goes (never 0; 0 on failure).
 *
 * KTRACER_IOC_REGISTER on the tracer's file. Declaring the same name with
 * the same kind again, from any tracer or process of the same user,
 * gives the same id; the slot count is the tracer's own (declaring a
 * span again with another count resizes this tracer's slots, all closed).
 *
 * Errors (those of KTRACER_IOC_REGISTER):
 *	EINVAL		t, name or id NULL; unknown kind; slots out of range;
 *			empty name or a byte outside 0x20-0x7e
 *	ENAMETOOLONG	name longer than 63 bytes
 *	EEXIST		the name is declared with another kind, or is one of
 *			the kernel's own events
 *	EBUSY		declared again with another slot count while a slot
 *			of it is open
 *	ENOSPC		the kernel's table of names, or the file's slots, are
 *			full
 *	ENOMEM		no memory for the span's slot state
 *	ECHILD		a child of fork() (see "fork()")
 *	EPROTO		the kernel gave an id out of range
 */
int ktracer_declare(struct ktracer *t, const char *name, uint32_t kind,
		    uint32_t slots, uint32_t *id);

/*
 * The ops. Each takes the time and queues one op on the calling thread's
 * queue (unbatched: makes the call): 0 means queued (or dropped, the
 * queue being full, and counted), not yet applied. Errors found at the
 * call are returned and nothing is queued:
 *	ENOENT	event is not an id this tracer declared
 *	EINVAL	event is not of the op's kind
 *	ERANGE	start, stop, cancel_slot: slot >= the event's slots
 *	EMSGSIZE log: len is 0 or above KTRACER_LOG_MAX
 *	EFAULT	log: msg is NULL; start_text: text NULL with len > 0
 *	ECHILD	a child of fork() (see "fork()")
 *	ENOSPC	the thread's first op: KTRACER_FILE_QUEUES_MAX threads
 *		record through this tracer already
 *	any error of KTRACER_IOC_QUEUE, mmap(2) or pthread_setspecific(3)
 *	on a thread's first op, which then records nothing; the next op
 *	tries again
 * Errors only the kernel's slot state shows (EBUSY: START on an open
 * slot; ENOENT: STOP on a closed one) make the kernel refuse the op when
 * it drains the queue: see the stats. In unbatched mode each op returns
 * the kernel's error (EBUSY, ENOENT, ...) at the call.
 *
 * While tracing is off, or with t NULL, each op returns 0 and does nothing
 * (see "Tracing off").
 */

/* Task: open @slot of span @event; @arg is the app's, in the START record. */
int ktracer_start(struct ktracer *t, uint32_t event, uint32_t slot,
		  uint64_t arg);

/*
 * Task: ktracer_start() with @len bytes of @text (any bytes, no NUL
 * needed; copied at the call): the span's argument in readers. Bytes past
 * KTRACER_TEXT_MAX are cut; len 0 is a START without text.
 */
int ktracer_start_text(struct ktracer *t, uint32_t event, uint32_t slot,
		       uint64_t arg, const void *text, size_t len);

/* Task: close @slot; the STOP record has @arg and the span's duration. */
int ktracer_stop(struct ktracer *t, uint32_t event, uint32_t slot,
		 uint64_t arg);

/*
 * Task: close @slot without ending it (a timeout): a CANCEL record. The
 * kernel refuses it (ENOENT, see the stats) if the slot is not open.
 */
int ktracer_cancel_slot(struct ktracer *t, uint32_t event, uint32_t slot);

/* Close every open slot of span @event, one CANCEL record each. */
int ktracer_cancel(struct ktracer *t, uint32_t event);

/* Set gauge @event to @value: the last value wins. */
int ktracer_gauge(struct ktracer *t, uint32_t event, int64_t value);

/* Add @n to counter @event (the kernel's total saturates). */
int ktracer_count(struct ktracer *t, uint32_t event, uint64_t n);

/*
 * Log @len bytes at @msg (any bytes, no NUL needed) as an instant of log
 * @event on the calling thread. Copied at the call: @msg may be reused
 * as soon as it returns.
 */
int ktracer_log(struct ktracer *t, uint32_t event, const void *msg,
		size_t len);

/*
 * ktracer_region_begin - open a region of span @event on the calling
 * thread, inside the regions it has open.
 * @t: the tracer; NULL: returns 0, does nothing.
 * @event: a span event this tracer declared, used for regions only.
 * @text: NULL, or a NUL-terminated text for the span's argument (cut at
 *	KTRACER_TEXT_MAX bytes).
 *
 * The slot is the thread's index in the tracer (see "Regions and
 * tasks"); the START is flagged KTRACER_OPF_REGION. Returns 0 when the
 * region is open (also while tracing is off, and when its START was
 * dropped: see "Tracing off" and "Where the ops go"), and only then must
 * ktracer_region_end() follow. Errors, the region not open:
 *	ENOENT, EINVAL	as for the ops (event not declared, not a span)
 *	ERANGE	the thread's index >= the event's slots: declare it with
 *		as many slots as threads record it at once
 *	EBUSY	a region of @event is open on this thread already
 *		(regions of one event do not nest in each other)
 *	ENOSPC	KTRACER_LIB_REGION_DEPTH regions are open on this thread;
 *		or, on its first call, as for the ops
 *	ECHILD	a child of fork()
 *	and a first call's errors, as for the ops; unbatched, the kernel's
 */
int ktracer_region_begin(struct ktracer *t, uint32_t event, const char *text);

/*
 * ktracer_region_end - close the calling thread's innermost region,
 * which must be of @event.
 * @t: the tracer; NULL: returns 0, does nothing.
 *
 * Errors, nothing changed:
 *	ENOENT	no region of @event is open on this thread
 *	EINVAL	one is, but it is not the innermost: end the regions inside
 *		it first (LIFO)
 *	ECHILD	a child of fork()
 * Unbatched, the kernel's error (the region is closed nonetheless).
 */
int ktracer_region_end(struct ktracer *t, uint32_t event);

/*
 * KTRACER_REGION(t, event) - a region from here to the end of the
 * enclosing block (__attribute__((cleanup)), GCC and Clang):
 *
 *	{
 *		KTRACER_REGION(t, parse);
 *		...			// return, break, goto: all end it
 *	}
 *
 * KTRACER_REGION_TEXT(t, event, text) gives it a text. If the begin
 * fails, the block runs untraced and no end is made; the errors are
 * those of ktracer_region_begin(), in the scope's "err" if wanted.
 */
struct ktracer_region_scope {
	struct ktracer *t;
	uint32_t event;
	int err;		/* ktracer_region_begin()'s */
};

static inline struct ktracer_region_scope
ktracer_region_scope_begin(struct ktracer *t, uint32_t event, const char *text)
{
	struct ktracer_region_scope s;

	s.t = t;
	s.event = event;
	s.err = ktracer_region_begin(t, event, text);
	return s;
}

static inline void ktracer_region_scope_end(struct ktracer_region_scope *s)
{
	if (!s->err)
		(void)ktracer_region_end(s->t, s->event);
}

#define KTRACER_CONCAT_(a, b)	a##b
#define KTRACER_CONCAT(a, b)	KTRACER_CONCAT_(a, b)
#define KTRACER_REGION_TEXT(t, event, text)				\
	struct ktracer_region_scope KTRACER_CONCAT(ktracer_region_, __COUNTER__) \
	__attribute__((cleanup(ktracer_region_scope_end))) =		\
		ktracer_region_scope_begin((t), (event), (text))
#define KTRACER_REGION(t, event)	KTRACER_REGION_TEXT(t, event, NULL)

/*
 * ktracer_flush - drain every queue of the tracer now.
 * @t: the tracer.
 *
 * KTRACER_IOC_FLUSH, waiting for a drain under way on another thread
 * (again if a signal interrupts it): the ops every thread queued before
 * the call are applied when it returns. Not needed for the ops to reach
 * the buffers (see "Where the ops go"); for a program that reads them
 * back, or wants them there now. In unbatched mode, does nothing.
 *
 * Returns 0 or the ioctl's error; EINVAL if t is NULL, ECHILD in a child
 * of fork(). Ops the kernel refused are in the stats.
 */
int ktracer_flush(struct ktracer *t);

/*
 * ktracer_enabled - 1 if tracing is on, 0 if off (or t is NULL).
 *
 * The state page's flag, for a program that wants to skip preparing an
 * op's arguments (formatting a log message, say) while tracing is off.
 */
int ktracer_enabled(const struct ktracer *t);

/* What a tracer's threads did, since it was opened. */
struct ktracer_lib_stats {
	uint64_t dropped;	/* ops not queued: the queue was full */
	uint64_t applied;	/* ops the kernel applied (unbatched: OP */
				/* calls that succeeded) */
	uint64_t refused;	/* ops the kernel refused (unbatched: OP */
				/* calls that failed) */
	uint64_t pending;	/* bytes queued (PADs, texts included), */
				/* not drained yet */
	uint64_t syscalls;	/* the ops' system calls: OP, FLUSH at 3/4 */
				/* full, QUEUE on a thread's first op */
	uint32_t threads;	/* threads that hold a queue (an index) now */
	int32_t last_error;	/* -errno of a refused op (a queue's latest), */
				/* 0 if none was refused */
};

/*
 * ktracer_get_stats - the counters, summed over the threads.
 * @t: the tracer.
 * @st: filled in.
 *
 * Each thread's counters are read as they are: ops under way on other
 * threads may or may not be counted. EINVAL if t or st is NULL, ECHILD
 * in a child of fork().
 */
int ktracer_get_stats(struct ktracer *t, struct ktracer_lib_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* LIBKTRACER_H */
