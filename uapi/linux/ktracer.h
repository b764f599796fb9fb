/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ktracer: the user-space ABI of /dev/ktracer.
 *
 * This header is the whole contract between ktracer.ko and the programs
 * that use it. It is meant to be read top to bottom.
 *
 * The device
 * ----------
 * ktracer.ko registers the misc device /dev/ktracer. Its mode is the
 * module parameter dev_mode, 0600 by default; a udev rule may hand it to
 * a group. Whoever can open it may record their own events and ask for
 * the version. Commands that change what is traced for everybody or read
 * other processes' records need CAP_PERFMON (or CAP_SYS_ADMIN) and fail
 * with EPERM without it, whoever opened the file: each command below says
 * whether it is privileged. The same holds for the debugfs files
 * (/sys/kernel/debug/ktracer/, root's): a control written, or trace,
 * stats, events or kevents read, by a process without CAP_PERFMON fails
 * with EPERM, even on a file root opened.
 *
 * Unloading
 * ---------
 * The module is in use, and cannot be unloaded, while any file of it is
 * open (/dev/ktracer, or any file of /sys/kernel/debug/ktracer/) or any
 * of its pages is mapped (a mapping holds its file, even once the
 * descriptor is closed): delete_module(2) with O_NONBLOCK, as rmmod
 * calls it, then fails with EAGAIN (EWOULDBLOCK; rmmod says "Module
 * ktracer is in use") and changes nothing. Once every file is closed and
 * unmapped it succeeds, whatever kernel sources are on: they are
 * detached first.
 *
 * Versioning
 * ----------
 * KTRACER_ABI_MAJOR changes only when an existing command changes meaning
 * or number; a program built against another major must refuse to run.
 * KTRACER_ABI_MINOR grows when commands or struct fields are added; a
 * program may use what its header knows once KTRACER_IOC_VERSION has
 * reported a minor at least as large. (Major 2 moved the commands from
 * magic 0xB8 to 0xBC: major 1's numbers fail with ENOTTY.)
 *
 * Minor 1 added per-thread queues (KTRACER_IOC_QUEUE, KTRACER_IOC_FLUSH),
 * the op flags (regions, cancelling one slot, a START's text) with the
 * member "text" of struct ktracer_op, the record flag KTRACER_RECF_REGION
 * and START records with text; and slot counts became the file's own (a
 * name registered again with another slot count is no longer EEXIST).
 *
 * Minor 2 added queues whose entries carry the x86 TSC as their ts
 * (KTRACER_QUEUE_TSC, struct ktracer_qring's member "clock"), converted
 * by the kernel when it drains them.
 *
 * Minor 3 added following a process tree (KTRACER_KEVENTS_FOLLOW) and
 * reading the name table through the device (KTRACER_IOC_NAMES).
 *
 * Minor 4 added the SWITCH record (KTRACER_REC_SWITCH, struct
 * ktracer_switch): one record for a context switch between two recorded
 * tasks, where SCHED wrote a STOP and a START before.
 *
 * How every command's argument is passed
 * --------------------------------------
 * Every argument is a struct whose first member is "__u32 size", set by
 * the caller to sizeof() the struct as its header defines it. That makes
 * structs extensible without new ioctl numbers:
 *
 *  - size below the first published size of the struct,
 *    or above 4096:                             EINVAL
 *  - size larger than the kernel knows, and the
 *    bytes past the kernel's struct not all zero: E2BIG (the caller asked
 *    for something this kernel cannot do)
 *  - a member named "flags" with an unknown bit: EINVAL
 *  - a member named "__reserved*" not zero:     EINVAL
 *  - an input member that no flag selects (where
 *    a command's flags say which members to use)
 *    not zero:                                  EINVAL (so that it can be
 *    given a meaning later)
 *  - an argument pointer the kernel cannot read
 *    or write:                                  EFAULT
 *
 * When a command writes results back, it writes the first
 * min(caller's size, kernel's size) bytes and sets "size" to that number.
 * A failed command changes nothing, neither in the kernel nor in the
 * caller's struct (EFAULT while writing results back excepted; BATCH
 * says what it applied, below).
 *
 * All members are fixed-width and naturally aligned, so a 32-bit process
 * on a 64-bit kernel passes the very same bytes. Pointers, when a command
 * takes one, travel as __u64.
 *
 * The command numbers
 * -------------------
 * A command is known by the type (KTRACER_IOC_MAGIC), number and
 * direction of its ioctl number; the size encoded in it is not looked
 * at: the struct's "size" member rules. A program built against a later
 * header, whose struct has grown (and with it the size in the number),
 * thus reaches the same command and gets the answers above. A number
 * with an unknown type, number or direction fails with ENOTTY.
 */
#ifndef _UAPI_LINUX_KTRACER_H
#define _UAPI_LINUX_KTRACER_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define KTRACER_DEVICE		"/dev/ktracer"

#define KTRACER_ABI_MAJOR	2
#define KTRACER_ABI_MINOR	4

/*
 * No driver in Linux uses 0xBC: Documentation/userspace-api/ioctl/
 * ioctl-number.rst lists none, from 6.1 to the 2025 mainline (which has
 * 0xB8 twice, mrvl_cn10k_dpi.h and mshv.h, and 0xBA).
 */
#define KTRACER_IOC_MAGIC	0xBC

/* Largest "size" any command accepts. */
#define KTRACER_ARG_SIZE_MAX	4096

/*
 * KTRACER_IOC_VERSION - which ABI does this module speak?
 * Unprivileged.
 *
 *	struct ktracer_version v = { .size = sizeof(v) };
 *
 *	if (ioctl(fd, KTRACER_IOC_VERSION, &v) < 0 ||
 *	    v.major != KTRACER_ABI_MAJOR)
 *		refuse to run;
 */
struct ktracer_version {
	__u32 size;	/* in/out: sizeof(struct ktracer_version) */
	__u32 flags;	/* in: none defined, must be 0 */
	__u32 major;	/* out: KTRACER_ABI_MAJOR of the module */
	__u32 minor;	/* out: KTRACER_ABI_MINOR of the module */
};

#define KTRACER_VERSION_SIZE_VER0	16

/*
 * KTRACER_IOC_ENABLE - switch recording on or off for everybody.
 * Privileged (CAP_PERFMON or CAP_SYS_ADMIN).
 *
 * Tracing is on when the module loads. While it is off, operations still
 * succeed and keep the slot state (so a STOP after re-enabling finds its
 * START), but nothing is recorded. Programs see the state without a
 * system call in struct ktracer_state (below).
 */
struct ktracer_enable {
	__u32 size;		/* in: sizeof(struct ktracer_enable) */
	__u32 flags;		/* in: none defined, must be 0 */
	__u32 enable;		/* in: 1 to record, 0 to stop; else EINVAL */
	__u32 __reserved;	/* in: must be 0 */
};

#define KTRACER_ENABLE_SIZE_VER0	16

/*
 * Events
 * ------
 * A program names what it records once, and gets an id back. A name
 * belongs to the user who registered it: its owner is the effective uid
 * that opened the file. Registering the same name with the same kind
 * again, from any file of the same owner, returns the same id, whatever
 * slot count each file gives (slots are the file's, below); another user
 * registering that name gets an event of its own,
 * with another id, its own counter total and its own kind. So no user
 * can take a name from another, fill the table for it, or add to its
 * counters. The kernel's own events (ids 1 to KTRACER_KEV_LAST, see
 * "Kernel events") are everybody's, and nobody can register their names.
 *
 * Ids run from 1 to KTRACER_EVENT_ID_MAX. Each user holds at most
 * KTRACER_EVENTS_MAX names. A name is in use while a file that registered
 * it is open; a name no open file uses stays in the table, with its id,
 * so that a reader still names the records of a program that exited,
 * until space is needed: when its owner registers a new name with
 * KTRACER_EVENTS_MAX names held, or when no id is free, the least
 * recently released idle name is reclaimed (its id then names something
 * else; ids are handed out in turn, so one comes back only after the
 * others have been used). A reader that must name old records reads the
 * events file (see ktracer-read) before their names can go.
 *
 * A span event has "slots": how many instances may be open at once, as
 * with several requests in flight. Slot i of an event is open from its
 * START to its STOP. Slots belong to the open file: one file is one
 * tracer, shared by all the threads of a program, and two files never
 * see each other's slots, nor their slot counts: each file has the count
 * it registered the event with. A file must register an event (again)
 * before it uses it, which is where its slots are allocated. A file that
 * registers an event again with another slot count gets its slots
 * resized to it, all closed (EBUSY, and nothing changes, while any of its
 * slots of that event is open). One file holds at most
 * KTRACER_FILE_SLOTS_MAX slots, over all its span events.
 *
 * What a file costs the kernel (a few hundred bytes, a chunk of about
 * 1.5 KiB per 64 consecutive ids it registered, 8 bytes a slot, and the
 * names) is charged to the memory cgroup of the task that made the call.
 *
 * KTRACER_IOC_REGISTER. Unprivileged. Errors:
 *	EINVAL		unknown kind, flags or reserved; slots out of range
 *			(spans: 1..KTRACER_SLOTS_MAX, others: 0); empty name,
 *			or a byte outside printable ASCII (0x20-0x7e)
 *	ENAMETOOLONG	no NUL in the first KTRACER_NAME_MAX bytes of name
 *	EEXIST		this owner registered the name with another kind,
 *			or it is one of the kernel's own
 *	EBUSY		this file registered the event with another slot
 *			count and has a slot of it open
 *	ENOSPC		this owner holds KTRACER_EVENTS_MAX names, all in use
 *			by open files; or every id is taken by a name in use
 *			(it takes KTRACER_EVENT_ID_MAX / KTRACER_EVENTS_MAX,
 *			about 16, users at their quota); or this file would
 *			hold more than KTRACER_FILE_SLOTS_MAX slots
 *	ENOMEM		out of memory (or over the cgroup's limit): nothing
 *			was registered, nothing is left
 */
#define KTRACER_NAME_MAX	64	/* bytes, with the NUL */
#define KTRACER_EVENTS_MAX	1024	/* names one user holds */
#define KTRACER_EVENT_ID_MAX	16383	/* ids: 1..KTRACER_EVENT_ID_MAX */
#define KTRACER_FILE_SLOTS_MAX	16384	/* slots one file holds */
#define KTRACER_SLOTS_MAX	1024	/* slots of one span event */

enum ktracer_kind {
	KTRACER_KIND_SPAN	= 1,	/* START/STOP/CANCEL on slots */
	KTRACER_KIND_GAUGE	= 2,	/* GAUGE: last value wins */
	KTRACER_KIND_COUNTER	= 3,	/* COUNT: saturating total */
	KTRACER_KIND_LOG	= 4	/* LOG: an instant with a message */
};

struct ktracer_register {
	__u32 size;		/* in: sizeof(struct ktracer_register) */
	__u32 flags;		/* in: none defined, must be 0 */
	__u32 kind;		/* in: enum ktracer_kind */
	__u32 slots;		/* in: spans: 1..KTRACER_SLOTS_MAX; else 0 */
	char name[KTRACER_NAME_MAX];	/* in: NUL-terminated */
	__u32 id;		/* out: the event's id, never 0 */
	__u32 __reserved;	/* in: must be 0 */
};

#define KTRACER_REGISTER_SIZE_VER0	88

/*
 * KTRACER_IOC_NAMES (minor 3) - read the name table, as debugfs "events"
 * shows it, through the device. Privileged exactly as reading the
 * buffers is (CAP_PERFMON or CAP_SYS_ADMIN): whoever may read the
 * records may name them, debugfs or not.
 *
 * Writes up to count entries, in id order, of the events whose id is at
 * least start (0 or 1: from the first), the kernel's own included, into
 * the array at buf; sets count to the entries written and start to the
 * id to pass next, 0 when no event is left after them. A whole table:
 *
 *	struct ktracer_name v[256];
 *	struct ktracer_names n = { .size = sizeof(n) };
 *
 *	do {
 *		n.buf = (__u64)(uintptr_t)v;
 *		n.count = 256;
 *		if (ioctl(fd, KTRACER_IOC_NAMES, &n) < 0)
 *			fail;
 *		use v[0..n.count-1];
 *	} while (n.start);
 *
 * An entry's uid is its owner as the caller's user namespace sees it
 * (the overflow uid, 65534 by default, if it is not mapped there); the
 * kernel's own events have uid 0. Its slots are as debugfs "events"
 * shows them (the kernel's spans on CPUs: one per possible CPU). The
 * table may change between two calls (a name registered, an idle one
 * reclaimed): each call shows it as it was while that call read it.
 * Errors:
 *	EPERM	no CAP_PERFMON (or CAP_SYS_ADMIN)
 *	EINVAL	flags not 0; count above KTRACER_NAMES_MAX; start above
 *		KTRACER_EVENT_ID_MAX
 *	EFAULT	buf cannot be written: the entries before the one that
 *		could not be stay written, nothing else (count, start)
 *		is
 * A module older than minor 3 answers ENOTTY: a reader then falls back
 * to debugfs "events".
 */
#define KTRACER_NAMES_MAX	4096	/* entries one call writes */

struct ktracer_name {
	__u32 id;
	__u8 kind;		/* enum ktracer_kind */
	__u8 __pad[3];		/* out: 0 */
	__u32 slots;		/* as debugfs "events" shows */
	__u32 uid;		/* owner in the caller's user ns; kernel's: 0 */
	char name[KTRACER_NAME_MAX];	/* NUL-terminated */
};

struct ktracer_names {
	__u32 size;		/* in/out: sizeof(struct ktracer_names) */
	__u32 flags;		/* in: none defined, must be 0 */
	__u32 start;		/* in: lowest id wanted (0, 1: the first);
				 * out: the id to pass next, 0: none left
				 */
	__u32 count;		/* in: entries buf holds, at most
				 * KTRACER_NAMES_MAX; out: entries written
				 */
	__u64 buf;		/* in: address of struct ktracer_name[count] */
};

#define KTRACER_NAMES_SIZE_VER0		24

/*
 * Operations
 * ----------
 * One struct ktracer_op is one thing that happened. KTRACER_IOC_OP applies
 * one; KTRACER_IOC_BATCH applies an array of them in one system call.
 *
 * Every op may carry the time it happened ("ts", CLOCK_MONOTONIC
 * nanoseconds, the clock of every record), so that a library can queue
 * ops and submit them later without moving them in time; ts == 0 means
 * "when this call began" (one clock read per call, so all the ts == 0
 * ops of one batch share it). A ts in the future, or older than the
 * file's bound, is refused with EINVAL: a program can delay its records,
 * not rewrite the past. (A library that queues per thread flushes all
 * its queues together for that reason.)
 *
 * The bound is the start of the latest OP or BATCH call of this file
 * that applied at least one op. A call that applies nothing (it fails at
 * its first op, whatever the errno, or is refused as a whole) does not
 * move it; a call that applies at least one op, even if a later op of it
 * fails, moves it to that call's start, never backwards: when threads
 * call at once, the latest start wins, whatever order the calls end in.
 * A call's start is never older than the bound it found.
 *
 * Op flags (minor 1), each allowed on the ops named, EINVAL elsewhere:
 *
 *	KTRACER_OPF_REGION	START, STOP, CANCEL: the slot is a region, a
 *				span of the thread that records it, nested
 *				in its other regions; its records carry
 *				KTRACER_RECF_REGION, and a reader draws them
 *				on that thread's own track. Without it a span
 *				is a task: it may start on one thread and
 *				stop on another, and is drawn on a track of
 *				its own. The kernel keeps regions and tasks
 *				alike; the flag only tells readers.
 *	KTRACER_OPF_SLOT	CANCEL: close only "slot" (ENOENT if it is
 *				not open). Without it CANCEL closes every
 *				open slot of the event, and slot must be 0.
 *	KTRACER_OPF_TEXT	START: the span carries a text of len bytes
 *				(1..KTRACER_TEXT_MAX, any bytes; a reader
 *				shows it as the span's argument), at the
 *				address "text" (KTRACER_IOC_OP and BATCH) or
 *				inline (a queue's entries, below). Without
 *				it, len and text must be 0.
 *
 * Errors, the same for OP, for each op of a BATCH and for each entry of a
 * queue:
 *	EINVAL	unknown op, flags or reserved; a flag on an op it is not
 *		allowed on; the event is not of the op's kind; slot, len
 *		or text non-zero where the op has none; ts in the future
 *		or older than the bound
 *	ENOENT	no such event id, or this file has not registered it;
 *		STOP, or CANCEL with KTRACER_OPF_SLOT, on a slot that is
 *		not open
 *	ERANGE	slot >= the event's slots (this file's count)
 *	EBUSY	START on a slot that is open already (nothing recorded)
 *	EMSGSIZE LOG: len == 0 or len > KTRACER_LOG_MAX; START with
 *		KTRACER_OPF_TEXT: len == 0 or len > KTRACER_TEXT_MAX
 *	EFAULT	LOG, START's text: the bytes cannot be read
 * A failed op records nothing and changes no slot.
 */
enum ktracer_opcode {
	KTRACER_OP_START	= 1,	/* open event's slot; value: app's arg */
	KTRACER_OP_STOP		= 2,	/* close it; value: app's arg */
	KTRACER_OP_CANCEL	= 3,	/* close every open slot of event */
	KTRACER_OP_GAUGE	= 4,	/* value: the gauge, as __s64 */
	KTRACER_OP_COUNT	= 5,	/* value: amount to add */
	KTRACER_OP_LOG		= 6	/* value: message address, len: bytes */
};

#define KTRACER_LOG_MAX		256	/* bytes of one LOG message */
#define KTRACER_TEXT_MAX	128	/* bytes of one START's text */

/* struct ktracer_op's flags (minor 1) */
#define KTRACER_OPF_REGION	0x1	/* START/STOP/CANCEL: a region */
#define KTRACER_OPF_SLOT	0x2	/* CANCEL: only this slot */
#define KTRACER_OPF_TEXT	0x4	/* START: carries a text */

struct ktracer_op {
	__u32 size;		/* sizeof(struct ktracer_op) */
	__u16 op;		/* enum ktracer_opcode */
	__u16 flags;		/* KTRACER_OPF_* */
	__u32 event;		/* id from KTRACER_IOC_REGISTER */
	__u32 slot;		/* START, STOP, CANCEL with OPF_SLOT: 0..slots-1 */
	__u64 value;		/* see enum ktracer_opcode */
	__u64 ts;		/* 0, or CLOCK_MONOTONIC ns it happened */
	__u32 len;		/* LOG, START with OPF_TEXT: bytes; else 0 */
	__u32 __reserved;	/* must be 0 */
	__u64 text;		/* START with OPF_TEXT: its address (minor 1) */
};

#define KTRACER_OP_SIZE_VER0	40
#define KTRACER_OP_SIZE_VER1	48	/* + text */

/*
 * KTRACER_IOC_BATCH: apply ops[0..count-1] in order, stopping at the first
 * that fails. Unprivileged.
 *
 * If every op succeeds the call returns 0 with done == count. If op i
 * fails, ops 0..i-1 stay applied, nothing after i is, and the call fails
 * with op i's errno, after writing back done = i and error = -errno.
 * That holds for every i, 0 included, and for every way an op can fail:
 * the errors of OP above, and also
 *	EFAULT	op i cannot be read (the ops before it can, and are
 *		applied, however the array is laid out in pages)
 *	E2BIG	op_size is larger than the kernel's struct and op i has
 *		a non-zero byte past it
 *	EINVAL	op i's own size is not op_size
 * Only if the batch itself is invalid is nothing applied and done and
 * error not written (set them to 0 before the call to tell): EINVAL for
 * flags, count 0 or above KTRACER_BATCH_MAX, op_size below
 * KTRACER_OP_SIZE_VER0 or above KTRACER_ARG_SIZE_MAX; the struct's own
 * errors (size, EFAULT). (With op_size KTRACER_OP_SIZE_VER0 the ops have
 * no member "text", so KTRACER_OPF_TEXT is EINVAL.)
 *
 * A batch's records, like an OP's, name the thread that made the call.
 * A library that queues ops per thread uses the queues below instead,
 * whose records name the thread that queued them.
 */
#define KTRACER_BATCH_MAX	4096

struct ktracer_batch {
	__u32 size;		/* in: sizeof(struct ktracer_batch) */
	__u32 flags;		/* in: none defined, must be 0 */
	__u64 ops;		/* in: address of count struct ktracer_op */
	__u32 count;		/* in: 1..KTRACER_BATCH_MAX */
	__u32 op_size;		/* in: sizeof(struct ktracer_op) */
	__u32 done;		/* out: ops applied */
	__s32 error;		/* out: 0, or -errno of ops[done] */
};

#define KTRACER_BATCH_SIZE_VER0	32

/*
 * Queues (minor 1; the TSC clock, minor 2)
 * -----------------------------------------
 * A queue is a ring in memory shared with the kernel, as io_uring's
 * submission ring is: one thread of a program writes ops into it with
 * plain stores, no system call and no lock, and the kernel applies them
 * later ("drains" the queue). Its records name the thread that owns the
 * queue, the one that created it (or adopted it, below), whichever
 * thread drained it and on whichever CPU: the kernel, not the program,
 * says who the thread is. A program gives each of its threads a queue of
 * its own.
 *
 * The kernel drains every queue of a file
 *  - on KTRACER_IOC_FLUSH, from any thread of the file;
 *  - on its own, every interval (KTRACER_QUEUE_INTERVAL_DEFAULT ms unless
 *    KTRACER_IOC_FLUSH set another), so that the ops of a thread that
 *    went idle reach the buffers without the program doing anything;
 *  - when the file is released, once its last descriptor is closed and
 *    its last mapping unmapped, which happens at exit() without any clean
 *    up, at abort(), on a fatal signal and at SIGKILL: the queue's memory
 *    is the kernel's, so what a program queued is never lost with it;
 *  - when a queue is adopted.
 * A drain applies the entries of all the file's queues that it finds
 * published, in ts order (equal ts: the lower queue id first), up to
 * the time the drain began (newer entries wait for the next drain; the
 * file's release and an adoption take them all), so a task started on
 * one thread and stopped on another is applied START first whenever the
 * START was queued before the STOP. Each entry is validated
 * exactly as an op of KTRACER_IOC_OP is, plus the queue's own rules
 * below; a refused entry is counted (refused, error) and skipped, and the
 * drain goes on with the next: a queue's ops are never submitted again.
 *
 * One drain of a file runs at a time. KTRACER_IOC_FLUSH never waits for
 * another drain (a drain already running will apply what it found, and
 * the next one the rest) unless KTRACER_FLUSH_WAIT asks it to, and
 * nothing a program does with its queues waits for a system call of
 * another thread.
 *
 * KTRACER_IOC_QUEUE. Unprivileged. flags 0 creates a queue of ring_size
 * bytes (a power of two, KTRACER_QUEUE_RING_MIN..KTRACER_QUEUE_RING_MAX)
 * owned by the calling thread, with the next id (1, 2, ... in order of
 * creation; id must be 0 on input), whose entries' ts is CLOCK_MONOTONIC
 * ns; with KTRACER_QUEUE_TSC (minor 2) their ts is the TSC (below, "The
 * TSC clock"). KTRACER_QUEUE_ADOPT takes over queue "id"
 * of this file for the calling thread, which must be of the same process
 * as its owner (a thread pool gives a new thread the queue of one that
 * exited): the queue is drained first, so its earlier entries keep their
 * thread, and ring_size must be 0. Both report id, ring_size, map_size
 * and offset: map the queue with
 *
 *	mmap(NULL, q.map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
 *	     q.offset);
 *
 * Errors:
 *	EINVAL	unknown flags, reserved not 0; ring_size not a power of two
 *		in range (create) or not 0 (adopt); KTRACER_QUEUE_TSC with
 *		KTRACER_QUEUE_ADOPT (a queue keeps its clock)
 *	EOPNOTSUPP create with KTRACER_QUEUE_TSC: this kernel cannot
 *		convert the TSC (below)
 *	ENOENT	adopt: no queue "id" on this file
 *	EACCES	adopt: the queue's owner is of another process
 *	ENOSPC	this file has KTRACER_FILE_QUEUES_MAX queues
 *	ENOMEM	out of memory, or over the memory cgroup's limit (a queue's
 *		memory is charged to it)
 *
 * A queue's mapping must be MAP_SHARED, cover the whole queue (offset and
 * map_size exactly) and be made by a thread of the owner's process:
 *	EINVAL	MAP_PRIVATE, another offset or length
 *	EACCES	the caller is of another process than the queue's owner
 * It is not inherited by fork(), and madvise(MADV_DOFORK) cannot change
 * that (EINVAL): the child has nothing mapped there, and can never write
 * into, or be named by, its parent's queues (a library in the child
 * opens a tracer of its own). It cannot grow by mremap(), and other
 * processes cannot reach it through /proc/PID/mem.
 * The queue lives as long as the file.
 *
 * The queue's memory: a first page, struct ktracer_qring, then ring_size
 * bytes of entries. Positions only grow; an entry at position p is at
 * ring[p & (ring_size - 1)]. Entries are 32 bytes (struct ktracer_qentry);
 * a LOG's message or a START's text follows its entry inline, in the
 * next round_up(len, 32) bytes. An entry never wraps: where one would not
 * fit before the ring's end, the program writes a PAD entry (op 0, the
 * rest zero) that skips to the end, and the entry at the ring's start.
 *
 *	program (one thread)			kernel (a drain)
 *	--------------------			----------------
 *	[Q1] tail = load_acquire(&q->tail)	[Q3] head = load_acquire(&q->head)
 *	     (pairs with Q4: the kernel is	     (pairs with Q2)
 *	     done with the space before it)	     copy each entry in [tail,
 *	     write entries in [head, tail +	     head), then validate the
 *	     ring_size)				     copy
 *	[Q2] store_release(&q->head, head')	[Q4] store_release(&q->tail, head)
 *	     (pairs with Q3)			     (pairs with Q1)
 *
 * The kernel reads the program's fields and entries once each and trusts
 * nothing in them: a head that is not a multiple of 32, is behind tail or
 * more than ring_size ahead of it makes the drain refuse the queue as a
 * whole (refused + 1, error EINVAL, nothing applied, tail unchanged)
 * until the program fixes it; an entry that runs past head is refused
 * (EINVAL) and ends that queue's drain there (its tail moves to head).
 * Only a LOG, and a START with KTRACER_OPF_TEXT, have inline bytes, and
 * only when len is in range: any other entry is 32 bytes, whatever its
 * len (which then makes it EINVAL or EMSGSIZE). A PAD with a non-zero
 * byte is refused (EINVAL) and skips 32 bytes only. Besides the op errors
 * above, an entry is refused with EINVAL if its ts is 0, in the future,
 * or older than the queue's previous applied entry (ts never goes
 * backwards within a queue; queues are not ordered against each other
 * otherwise), or, for a queue's first entry, older than the file's
 * opening; and a LOG's value (its message is inline) must be 0.
 *
 * A full queue never blocks: the program counts the op in "dropped" and
 * goes on. The next drain writes a LOST record (event 0, the owner's
 * pid and tid, arg: how much "dropped" grew since the drain before).
 * A program may call KTRACER_IOC_FLUSH when its queue fills up, to have
 * it drained sooner.
 *
 * The TSC clock (minor 2)
 *
 * Reading CLOCK_MONOTONIC costs a program more than the rest of an op
 * (clock_gettime() through the vDSO is some 70 instructions). A queue
 * created with KTRACER_QUEUE_TSC takes instead, as each entry's ts, the
 * x86 time-stamp counter, read with two instructions:
 *
 *	static inline __u64 tsc(void)
 *	{
 *		__u32 lo, hi;
 *
 *		asm volatile("lfence; rdtsc" : "=a" (lo), "=d" (hi) :: "memory");
 *		return (__u64)hi << 32 | lo;
 *	}
 *
 * The lfence is needed because rdtsc is not ordered with the
 * instructions before it: without it the processor may read the counter
 * before earlier work (an earlier op's stores, the code being timed) is
 * done, and stamp an entry earlier than what it follows. The kernel
 * converts each entry's ts to CLOCK_MONOTONIC ns when a drain copies it
 * out of the ring, before anything else looks at it: the rules above
 * (ts 0 is still refused, the order of the merge, "not older than the
 * previous entry") and every record see nanoseconds, as for any queue.
 * The queue's "clock" says which clock it has (KTRACER_QCLOCK_*); a
 * queue keeps it for life (an adoption cannot change it).
 *
 * How the conversion works: a drain takes anchors, pairs of (the TSC,
 * CLOCK_MONOTONIC) read together, one as it begins and one once it has
 * read the heads, and converts an entry's tsc from the latest anchor
 * before it: anchor_ns - (anchor_tsc - tsc) * rate. Between the drain's
 * two anchors the rate is the one measured between them, so that an
 * entry converts to after the drain's beginning exactly when its tsc is
 * after it (the merge's rule above holds for TSC queues as it does for
 * the others). Before them, the rate is the one measured between the
 * previous drain's last anchor (at least 1 ms and at most 10 s older)
 * and this drain's first, which is CLOCK_MONOTONIC's own rate against
 * the TSC, NTP's adjustments included: an entry between the two is
 * interpolated between two exact points, its error the anchors' own
 * (tens of ns on hardware, a few us under emulation) plus how much the
 * rate changed in between (NTP slews by at most 500 ppm; typically well
 * under 1 ns a ms), and the ts of one queue do not go backwards from one
 * drain to the next. Without such an anchor (the file's first drain, or
 * drains further apart) the rate is the kernel's calibrated TSC
 * frequency (tsc_khz), and the error grows with the entry's age at the
 * drain: the calibration's error (a few ppm) times that age, 1 us for an
 * entry 1 s old at 1 ppm.
 *
 * An entry whose tsc is after the drain's last anchor (in the future: a
 * TSC value the program made up, or read on a CPU whose TSC is ahead) or
 * so old that it would convert to before the kernel's CLOCK_MONOTONIC 0
 * (or within the boot's first seconds) converts to 0, and is refused
 * with EINVAL (counted in refused and error, as any refused entry); so
 * is an entry whose tsc is 0.
 *
 * KTRACER_QUEUE_TSC is refused with EOPNOTSUPP where the kernel cannot
 * convert: not x86, or a TSC that is not constant-rate and non-stop
 * (/proc/cpuinfo's constant_tsc and nonstop_tsc; the module parameter
 * trust_tsc=1 takes the administrator's word for it, for virtual
 * machines that hide the flags), or one the kernel has marked unstable,
 * or of unknown frequency. A kernel older than minor 2
 * answers EINVAL (an unknown flag). Either way a library should create
 * the queue again without the flag, and read CLOCK_MONOTONIC. The TSC
 * must be read on the CPUs of the machine the queue's kernel runs on,
 * and the kernel must not mark it unstable later (it then converts as
 * before, with whatever error the TSC has).
 */
#define KTRACER_QUEUE_MAGIC		0x6b74726163657203ULL	/* "ktracer\3" */
#define KTRACER_QUEUE_RING_MIN		4096
#define KTRACER_QUEUE_RING_MAX		1048576
#define KTRACER_FILE_QUEUES_MAX		1024
#define KTRACER_QUEUE_INTERVAL_DEFAULT	100	/* ms */
#define KTRACER_QUEUE_INTERVAL_MAX	60000	/* ms */

/* KTRACER_IOC_QUEUE's flags */
#define KTRACER_QUEUE_ADOPT	0x1	/* take over queue "id" */
#define KTRACER_QUEUE_TSC	0x2	/* create: entries' ts is the TSC (minor 2) */

/* struct ktracer_qring's clock: what the entries' ts is (minor 2) */
#define KTRACER_QCLOCK_MONOTONIC	0	/* CLOCK_MONOTONIC ns */
#define KTRACER_QCLOCK_TSC		1	/* the x86 TSC (rdtsc) */

struct ktracer_queue {
	__u32 size;		/* in/out: sizeof(struct ktracer_queue) */
	__u32 flags;		/* in: 0 or QUEUE_TSC, or QUEUE_ADOPT */
	__u32 id;		/* in (adopt) / out: the queue's id */
	__u32 ring_size;	/* in (create) / out: bytes of entries */
	__u64 offset;		/* out: mmap offset of the queue */
	__u64 map_size;		/* out: bytes to map (a page + ring_size) */
};

#define KTRACER_QUEUE_SIZE_VER0		32

/* The first page of a queue's mapping. */
struct ktracer_qring {
	__u64 magic;		/* KTRACER_QUEUE_MAGIC */
	__u32 id;		/* the queue's id */
	__u32 ring_size;	/* bytes of entries, a power of two */
	__u32 clock;		/* KTRACER_QCLOCK_* (minor 2) */
	__u32 __pad0;
	__u64 __pad0b[5];
	/* program-owned (the kernel only reads them) */
	__u64 head;		/* end of the published entries */
	__u64 dropped;		/* ops not queued: the queue was full */
	__u64 __pad1[6];
	/* kernel-owned (the program only reads them) */
	__u64 tail;		/* end of the entries drained */
	__u64 applied;		/* entries applied */
	__u64 refused;		/* entries refused (PADs count nowhere) */
	__s32 error;		/* -errno of the latest refused entry */
	__u32 __reserved;
	__u64 last_ts;		/* ts of the latest applied entry */
};

/* One op in a queue: struct ktracer_op's members, without size and text. */
struct ktracer_qentry {
	__u16 op;		/* enum ktracer_opcode; 0: PAD */
	__u16 flags;		/* KTRACER_OPF_* */
	__u32 event;
	__u32 slot;
	__u32 len;		/* LOG, START with OPF_TEXT: inline bytes */
	__u64 value;
	__u64 ts;		/* when, not 0: ns, or TSC (QCLOCK_TSC) */
};

#define KTRACER_QENTRY_SIZE	32

/*
 * KTRACER_IOC_FLUSH. Unprivileged. Drains the file's queues now; returns
 * at once if a drain is running (busy = 1), unless KTRACER_FLUSH_WAIT
 * asks to wait for it and drain after it. With KTRACER_FLUSH_INTERVAL it
 * also sets the file's drain interval to interval_ms
 * (1..KTRACER_QUEUE_INTERVAL_MAX; otherwise interval_ms must be 0).
 * Reports the entries this call applied and refused.
 *	EINVAL	unknown flags, reserved not 0; interval_ms out of range, or
 *		not 0 without KTRACER_FLUSH_INTERVAL
 *	EINTR	a signal came while it waited (KTRACER_FLUSH_WAIT)
 */
#define KTRACER_FLUSH_WAIT	0x1	/* wait for a running drain */
#define KTRACER_FLUSH_INTERVAL	0x2	/* set the drain interval */

struct ktracer_flush {
	__u32 size;		/* in/out: sizeof(struct ktracer_flush) */
	__u32 flags;		/* in: KTRACER_FLUSH_* */
	__u32 interval_ms;	/* in: with KTRACER_FLUSH_INTERVAL */
	__u32 busy;		/* out: 1 if it found a drain running */
	__u64 applied;		/* out: entries this call applied */
	__u64 refused;		/* out: entries this call refused */
};

#define KTRACER_FLUSH_SIZE_VER0		32

/*
 * Records
 * -------
 * What the kernel writes into the buffers. Every record starts with this
 * 48-byte header, 8-byte aligned; "size" covers the header and whatever
 * follows it (a LOG's message, a START's text, a kernel record's struct:
 * len bytes, padded with zeros to a multiple of 8), so
 * a reader that does not know a type skips it. Records never contain
 * uninitialised bytes or kernel addresses.
 *
 * ts is CLOCK_MONOTONIC nanoseconds (ktime_get_mono_fast_ns(): the same
 * clock in every context, NMI included). A program's record names in
 * pid and tid the thread its op was made on: the caller of OP or BATCH,
 * or the queue's owner. Records of one CPU are in the order they were
 * reserved, which is ts order except where an interrupt wrote in the
 * middle of another record or a program supplied ts (queued ops do): a
 * reader that needs strict order sorts.
 */
enum ktracer_record_type {
	KTRACER_REC_PAD		= 1,	/* filler: skip size bytes */
	KTRACER_REC_LOST	= 2,	/* arg records were dropped here */
	KTRACER_REC_START	= 3,	/* slot opened; arg: app's arg */
	KTRACER_REC_STOP	= 4,	/* arg: app's arg; extra: ns since START */
	KTRACER_REC_CANCEL	= 5,	/* one per slot closed; extra: ns open */
	KTRACER_REC_GAUGE	= 6,	/* arg: value (__s64) */
	KTRACER_REC_COUNT	= 7,	/* arg: added; extra: total after */
	KTRACER_REC_LOG		= 8,	/* len message bytes follow */
	KTRACER_REC_SWITCH	= 9	/* a STOP and a START at once (minor 4) */
};

/* flags */
#define KTRACER_RECF_USER_TS	0x01	/* ts was supplied by the program */
#define KTRACER_RECF_CLOSE	0x02	/* CANCEL: the file was closed */
#define KTRACER_RECF_KERNEL	0x04	/* written by a kernel source */
#define KTRACER_RECF_REGION	0x08	/* START/STOP/CANCEL of a region */

struct ktracer_record {
	__u16 size;		/* bytes, this header included; % 8 == 0 */
	__u8 type;		/* enum ktracer_record_type */
	__u8 flags;		/* KTRACER_RECF_* */
	__u32 event;		/* event id; 0 for PAD and LOST */
	__u64 ts;		/* CLOCK_MONOTONIC ns */
	__u32 pid;		/* process (tgid), in the initial pid namespace */
	__u32 tid;		/* thread */
	__u32 slot;		/* START, STOP, CANCEL: the slot */
	__u32 len;		/* LOG: message bytes after the header */
	__u64 arg;
	__u64 extra;
};

/*
 * Kernel events: KTRACER_IOC_KEVENTS
 * ----------------------------------
 * ktracer also records what the kernel did, from its tracepoints, into
 * the same buffers and on the same clock as the programs' records: which
 * task ran on which CPU, interrupts, system calls, block IO. These records
 * have KTRACER_RECF_KERNEL set and use the usual record types with the
 * event ids below, which the kernel registers when the module loads (so
 * they are in the name table too; a program cannot register their names:
 * EEXIST). Each source is off until switched on.
 *
 * pid and tid say which task a record is about, which is not always the
 * one the CPU was running: a START of sched.running is about the task
 * switched to. They are the kernel's global pids (those of the initial pid
 * namespace), whoever switched the source on. Spans on a CPU
 * (sched.running, irq, softirq) use the CPU as the slot. A STOP's extra
 * is the time since its START (syscall excepted), and a STOP without a
 * recorded START is not written: a source switched on mid-span starts
 * with the next START. Instants are
 * LOG records whose message is the task's comm (at most 16 bytes, no
 * NUL).
 *
 *  id  name           type   source   pid/tid   slot   arg, extra, message
 *   1  sched.running  START  SCHED    next      CPU    arg: prio (0..139);
 *                                                     message: comm
 *                     STOP   SCHED    prev      CPU    arg: state it left
 *                                                     in (0: preempted, else
 *                                                     TASK_* it sleeps in)
 *                     SWITCH SCHED    next      CPU    the STOP of prev and
 *                                                     the START of next in
 *                                                     one record: "The SWITCH
 *                                                     record" (minor 4)
 *   2  sched.wakeup   LOG    SCHED    woken     0      arg: waker's tid;
 *                                                     extra: CPU it last
 *                                                     ran on
 *   3  task.fork      LOG    TASK     child     0      arg: parent's tid;
 *                                                     extra: parent's pid
 *   4  task.exec      LOG    TASK     task      0      arg: tid before exec
 *   5  task.exit      LOG    TASK     task      0      arg: exit code
 *   6  irq            START  IRQ      current   CPU    arg: irq number;
 *                                                     message: handler name
 *                     STOP   IRQ      current   CPU    arg: irq number
 *   7  softirq        START  SOFTIRQ  current   CPU    arg: vector (0 HI,
 *                                                     1 TIMER, 2 NET_TX,
 *                                                     3 NET_RX, 4 BLOCK,
 *                                                     5 IRQ_POLL, 6 TASKLET,
 *                                                     7 SCHED, 8 HRTIMER,
 *                                                     9 RCU)
 *                     STOP   SOFTIRQ  current   CPU    arg: vector
 *   8  syscall        START  SYSCALL  task      0      arg: syscall number
 *                     STOP   SYSCALL  task      0      arg: return value
 *                                                     (__s64); extra: 0, the
 *                                                     thread's START is the
 *                                                     previous one of its tid
 *   9  block.rq       START  BLOCK    issuer    entry  message: struct
 *                     STOP   BLOCK    issuer    entry  ktracer_block
 *
 * Block requests are matched issue to completion by the kernel's request
 * itself (not by device and sector: flushes all have sector 0) in a table
 * of KTRACER_BLOCK_INFLIGHT entries; the slot is the entry. A request's
 * START is written when it is first issued, and its STOP when it is done
 * as a whole, with the START's device, op, sector and size: a request
 * completed in parts has one STOP, after its last part, and a request
 * requeued and issued again stays one span, from its first issue. A
 * request issued again while its entry is open without a requeue (a
 * completion the table missed) gets a new START in it, and the stale
 * entry is counted in "replaced". A completion with no issue in the
 * table (issued before the source was on, or the table was full, or
 * never issued: the block layer completes a request asking for a flush,
 * an fsync()'s, after issuing a flush request of its own, which has its
 * START and STOP) writes nothing and is counted in "unmatched"; an
 * issue that finds the table full is counted in "table_full". debugfs
 * "kevents" shows these as block_unmatched, block_table_full and
 * block_replaced, and the entries open now as block_inflight: 0 once
 * every request issued while BLOCK was on is done.
 *
 * The pid filter selects the processes (and all their threads) whose
 * SCHED, TASK and SYSCALL records are written; empty, it selects every
 * process, except for SYSCALL, which never records every process: it
 * needs a filter. Its pids are process ids (a thread's tid other than
 * its process's pid names no process) as the pid namespace of the caller
 * setting it sees them, and debugfs "kevents" shows them as its reader's
 * namespace does (0: not there). The filter holds the processes, not the
 * numbers: once a process has exited the filter selects nothing for it,
 * even if its pid is given to another process. IRQ, SOFTIRQ and BLOCK
 * are about CPUs and devices, not processes, and are not filtered.
 *
 * Following a process tree (minor 3): with KTRACER_KEVENTS_FOLLOW the
 * filter also takes in every process a process of it creates (fork(),
 * vfork(), clone() without CLONE_THREAD), and theirs in turn, whatever
 * sources are on: a new process joins the filter when it is created,
 * before it first runs, so none of its SCHED, TASK and SYSCALL records
 * is missed (its task.fork record, with TASK on, included). Its threads
 * are selected already: the filter holds processes. The filter holds at
 * most KTRACER_FOLLOW_MAX processes in all, the listed ones included; a
 * process created beyond that is not followed, and is counted: debugfs
 * "kevents" shows "follow 1" while the filter follows, and "follow_full"
 * the processes it could not take (0 again with a new filter). A
 * process stays in the filter, listed on the "pids" line, until the
 * filter is replaced, also once it has exited (and, as above, its pid
 * given to another process never selects that one). The flag is valid
 * only with KTRACER_KEVENTS_PIDS and npids above 0; setting the filter
 * without it (through the ioctl or debugfs) stops following. A module
 * older than minor 3 answers EINVAL (an unknown flag): a program then
 * falls back to the listed processes.
 *
 * A kernel without one of the tracepoints (a kernel without a block
 * layer, say) cannot have that source on: "available" says which it has.
 *
 * KTRACER_IOC_KEVENTS. Privileged. Sets what flags names, then reports
 * the sources on and available (flags 0 only reports). The members that
 * flags does not name must be 0 on input:
 *	EINVAL		unknown flags or source bits; reserved not 0; npids
 *			above KTRACER_PIDS_MAX; a pid <= 0; SYSCALL on with
 *			an empty filter; sources without
 *			KTRACER_KEVENTS_SOURCES, or pids or npids without
 *			KTRACER_KEVENTS_PIDS, not 0; KTRACER_KEVENTS_FOLLOW
 *			without KTRACER_KEVENTS_PIDS, or with npids 0
 *	ESRCH		a pid names no process in the caller's pid namespace
 *	EOPNOTSUPP	a source asked for is not available
 *	EFAULT		pids cannot be read
 *	ENOMEM		no memory for the filter or to attach a source
 * On error nothing changes.
 */
enum ktracer_kernel_event {
	KTRACER_KEV_RUNNING	= 1,	/* "sched.running" */
	KTRACER_KEV_WAKEUP	= 2,	/* "sched.wakeup" */
	KTRACER_KEV_FORK	= 3,	/* "task.fork" */
	KTRACER_KEV_EXEC	= 4,	/* "task.exec" */
	KTRACER_KEV_EXIT	= 5,	/* "task.exit" */
	KTRACER_KEV_IRQ		= 6,	/* "irq" */
	KTRACER_KEV_SOFTIRQ	= 7,	/* "softirq" */
	KTRACER_KEV_SYSCALL	= 8,	/* "syscall" */
	KTRACER_KEV_BLOCK	= 9,	/* "block.rq" */
	KTRACER_KEV_LAST	= KTRACER_KEV_BLOCK
};

/*
 * Sources: each turns on the events named in the table above; SCHED's
 * tracepoints are sched_switch, sched_waking and sched_wakeup_new.
 */
#define KTRACER_SRC_SCHED	0x01	/* sched_switch, sched_waking(_new) */
#define KTRACER_SRC_TASK	0x02	/* sched_process_fork/exec/exit */
#define KTRACER_SRC_IRQ		0x04	/* irq_handler_entry/exit */
#define KTRACER_SRC_SOFTIRQ	0x08	/* softirq_entry/exit */
#define KTRACER_SRC_SYSCALL	0x10	/* raw_syscalls:sys_enter/exit */
#define KTRACER_SRC_BLOCK	0x20	/* block_rq_issue/requeue/complete */
#define KTRACER_SRC_ALL		0x3f

#define KTRACER_PIDS_MAX	64	/* processes in the pid filter */
#define KTRACER_FOLLOW_MAX	1024	/* ... once it follows (minor 3) */
#define KTRACER_BLOCK_INFLIGHT	256	/* block requests matched at once */
#define KTRACER_COMM_MAX	16	/* bytes of a comm, as TASK_COMM_LEN */

/* flags */
#define KTRACER_KEVENTS_SOURCES	0x01	/* set the sources on */
#define KTRACER_KEVENTS_PIDS	0x02	/* set the pid filter */
#define KTRACER_KEVENTS_FOLLOW	0x04	/* ... and follow it (minor 3) */

struct ktracer_kevents {
	__u32 size;		/* in/out: sizeof(struct ktracer_kevents) */
	__u32 flags;		/* in: KTRACER_KEVENTS_* */
	__u32 sources;		/* in: KTRACER_SRC_* to have on; out: on */
	__u32 available;	/* out: KTRACER_SRC_* this kernel can have */
	__u64 pids;		/* in: address of __s32 pids[npids] */
	__u32 npids;		/* in: 0: every process */
	__u32 __reserved;	/* in: must be 0 */
};

#define KTRACER_KEVENTS_SIZE_VER0	32

/* The message of a block.rq record. */
struct ktracer_block {
	__u32 dev;		/* major << 20 | minor */
	__u32 op;		/* REQ_OP_*: 0 read, 1 write, 2 flush, 3 discard */
	__u64 sector;		/* first 512-byte sector */
	__u32 bytes;		/* of the request */
	__s32 error;		/* STOP: 0 or -errno */
};

/*
 * The SWITCH record (minor 4)
 * ---------------------------
 * A context switch from a task whose sched.running span is open on the
 * CPU to a task that is recorded ends one span and begins the next at
 * the same instant. SCHED writes it as one SWITCH record of 72 bytes,
 * where it wrote a STOP and a START (112 bytes) before minor 4:
 *
 *	type	KTRACER_REC_SWITCH; flags KTRACER_RECF_KERNEL; event
 *		KTRACER_KEV_RUNNING; slot: the CPU; ts: the switch
 *	pid/tid	next's: the task switched to, as its START's
 *	arg	prev's pid << 32 | prev's tid: the task switched from
 *	extra	prev's time on the CPU: ns since the START or SWITCH that
 *		began its span, as its STOP's
 *	len	24, sizeof(struct ktracer_switch), the message: prev's
 *		state (its STOP's arg), next's prio (its START's arg) and
 *		next's comm (its START's message)
 *
 * When only one side is recorded, its record comes alone, as before: a
 * STOP if next is not (the idle task, or a process the pid filter leaves
 * out), a START if no span of prev is open on the CPU (SCHED switched on
 * while prev ran, or prev left out). A SWITCH reads as the two records
 * it stands for:
 *
 *	STOP	event, slot, ts: the SWITCH's; pid = arg >> 32,
 *		tid = arg & 0xffffffff; arg = prev_state; extra = extra
 *	START	event, slot, ts, pid, tid: the SWITCH's; arg = next_prio;
 *		message: next_comm up to its first NUL (all 16 bytes if
 *		it has none)
 *
 * An example: thread 121 of process 120 has run for 5000 ns on CPU 2 and
 * goes to sleep (TASK_INTERRUPTIBLE, 1) at ts 1000000; process 300,
 * "sh", runs next, at prio 120. SCHED writes one record:
 *
 *	SWITCH event 1, slot 2, ts 1000000, pid 300, tid 300,
 *	       arg 0x0000007800000079 (120 << 32 | 121), extra 5000, len 24,
 *	       { .prev_state = 1, .next_prio = 120, .next_comm = "sh" }
 *
 * which is what it wrote before minor 4:
 *
 *	STOP   event 1, slot 2, ts 1000000, pid 120, tid 121, arg 1,
 *	       extra 5000
 *	START  event 1, slot 2, ts 1000000, pid 300, tid 300, arg 120,
 *	       len 2, message "sh"
 *
 * and the next switch away from 300 on CPU 2 counts its extra from
 * 1000000. A reader that does not know the type skips a SWITCH, by its
 * size, as any record of a type it does not know, and then misses those
 * spans; debugfs "trace" shows it as one line, ktracer-read (2.4 on)
 * draws it as the two.
 */
struct ktracer_switch {
	__u32 prev_state;	/* TASK_* prev left in; 0: preempted */
	__u32 next_prio;	/* 0..139 */
	char next_comm[KTRACER_COMM_MAX];	/* to the first NUL, if any */
};

/*
 * The buffers: KTRACER_IOC_CONFIG, KTRACER_IOC_RESET
 * -------------------------------------------------
 * Each CPU has its own buffer of data_size bytes (a power of two). A
 * writer touches only its own CPU's buffer, with preemption disabled and
 * no locks; an interrupt or NMI that writes while a task is mid-record
 * reserves its own space after it, and only the outermost writer
 * publishes the head.
 *
 * Mode DISCARD: a full buffer drops new records (counted in "lost"; a
 * LOST record says how many, where room was found again). Mode OVERWRITE
 * (a flight recorder): the writer frees the oldest records to make room
 * (counted in "overwritten"), up to 8 KiB (at most data_size / 8) more
 * than the record (or a batch's block of records) being written needs:
 * a full buffer keeps the newest records in all of its data but that
 * margin. It frees only finished, published records, so it too drops a
 * new record, counted in "lost" and told by a LOST record as in
 * DISCARD, when it cannot make room:
 *  - interrupts that came while a record was being written on this CPU
 *    (kernel sources, below) wrote records under it that fill the rest of
 *    the buffer: they are published with the interrupted record, after it;
 *  - the reader moved its tail 16 times while one record looked for room.
 * In either mode a record is also dropped, and counted in "lost", when
 * writers nest more than 8 deep on one CPU (a task, a softirq, a hardirq
 * and an NMI are 4). So in OVERWRITE mode, with no kernel source on and
 * a reader that does not race the kernel for the tail that often, lost
 * stays 0: every record written is read, overwritten or still unread.
 *
 * KTRACER_IOC_CONFIG. Privileged. The members named by flags are set,
 * the others must be 0 (flags 0 sets nothing and succeeds):
 *	EINVAL	unknown flags or mode; buffer_size not a power of two in
 *		KTRACER_BUFFER_MIN..KTRACER_BUFFER_MAX; reserved not 0;
 *		mode without KTRACER_CONFIG_MODE, or buffer_size without
 *		KTRACER_CONFIG_BUFFER_SIZE, not 0
 *	EBUSY	buffer_size while a buffer is mapped
 *	ENOMEM	no memory for the new buffers (the old ones stay)
 * A new buffer_size empties the buffers and zeroes their counters.
 *
 * KTRACER_IOC_RESET (struct ktracer_reset). Privileged. Empties every
 * buffer and zeroes its counters; EBUSY while a buffer is mapped.
 */
enum ktracer_mode {
	KTRACER_MODE_DISCARD	= 1,
	KTRACER_MODE_OVERWRITE	= 2
};

#define KTRACER_BUFFER_MIN	(8 << 10)
#define KTRACER_BUFFER_MAX	(64 << 20)

#define KTRACER_CONFIG_MODE		0x1
#define KTRACER_CONFIG_BUFFER_SIZE	0x2

struct ktracer_config {
	__u32 size;		/* in: sizeof(struct ktracer_config) */
	__u32 flags;		/* in: KTRACER_CONFIG_*: what to set */
	__u32 mode;		/* in: enum ktracer_mode */
	__u32 __reserved;	/* in: must be 0 */
	__u64 buffer_size;	/* in: bytes of data per CPU */
};

#define KTRACER_CONFIG_SIZE_VER0	24

struct ktracer_reset {
	__u32 size;		/* in: sizeof(struct ktracer_reset) */
	__u32 flags;		/* in: none defined, must be 0 */
};

#define KTRACER_RESET_SIZE_VER0		8

/*
 * mmap
 * ----
 * The file maps, at these page offsets:
 *
 *	0			struct ktracer_state. Anyone who opened the
 *				file; read-only.
 *	1 + cpu * cpu_pages	CPU cpu's buffer, cpu_pages pages. Privileged.
 *	  + 0			struct ktracer_reader: the reader's page, the
 *				only one that may be mapped writable
 *	  + 1			struct ktracer_meta: read-only
 *	  + 2 ...		data_size bytes of records: read-only
 *
 * Every mapping must be MAP_SHARED and lie inside one of these areas
 * (the state page, or one CPU's buffer). Errors:
 *	EINVAL	MAP_PRIVATE; an offset or length past the end, or across
 *		two areas
 *	EPERM	a buffer, without privilege; PROT_WRITE on anything but
 *		exactly a reader page (and mprotect cannot add it later)
 * While a buffer is mapped, its size cannot change and RESET is refused.
 *
 * A mapping always shows the kernel's pages: after madvise(MADV_DONTNEED)
 * (or anything else that drops them from the page tables) the next access
 * brings the same pages back, and a write to a reader page still reaches
 * the kernel. A mapping a child inherits by fork(), one moved by mremap()
 * (which cannot make it larger) and each piece of one partly unmapped
 * count as mappings of the buffer until they are unmapped too.
 */
#define KTRACER_STATE_MAGIC	0x6b74726163657201ULL	/* "ktracer\1" */
#define KTRACER_META_MAGIC	0x6b74726163657202ULL	/* "ktracer\2" */

struct ktracer_state {
	__u64 magic;		/* KTRACER_STATE_MAGIC */
	__u32 abi_major;
	__u32 abi_minor;
	__u32 enabled;		/* 1 while recording: a load and a branch */
	__u32 mode;		/* enum ktracer_mode */
	__u32 nr_cpus;		/* buffers for CPUs 0..nr_cpus-1 */
	__u32 page_size;
	__u32 cpu_pages;	/* pages of one CPU's buffer, see above */
	__u32 __reserved;
	__u64 data_size;	/* bytes of records per CPU */
};

/*
 * The head/tail protocol
 * ----------------------
 * head and tail are byte positions that only grow; a record at position p
 * starts at data[p & (data_size - 1)]. The records not yet read are those
 * in [tail, head). head - tail never exceeds data_size.
 *
 * The kernel publishes meta->head after writing records; the reader
 * consumes records by advancing reader->tail, and counts them in
 * reader->read. Every barrier below names the one it pairs with:
 *
 *	kernel (writer)			reader
 *	---------------			------
 *	[K1] tail = load_acquire(&tail)	[R1] head = load_acquire(&meta->head)
 *	     (pairs with R3)		     (pairs with K2)
 *	     write the records		     read records in [tail, head)
 *	[K2] smp_store_release(		[R3] store_release(&reader->tail, t)
 *	       &meta->head, head)	     (pairs with K1: the kernel writes
 *	     (pairs with R1)		     no byte the reader is still reading)
 *
 * In DISCARD mode the kernel keeps the last tail it read and reads the
 * reader's tail again ([K1]) only when a record does not fit before that
 * one: it may write over bytes the reader consumed even after the reader
 * moves its tail back over them, never over bytes not yet consumed.
 *
 * In OVERWRITE mode the kernel reads the reader's tail ([K1]) for every
 * record, and when a record does not fit after it, advances the tail past
 * the oldest records to make room, and only then overwrites them. It
 * frees up to 8 KiB (at most an eighth of data_size) more than the record
 * needs, as far as records are published, so that the next ones fit:
 *
 *	[K3] cmpxchg(&reader->tail, old, new)   (a full barrier; pairs with R4)
 *	     write the records
 *
 * so the reader copies a record out before consuming it, and consumes it
 * with a compare-and-exchange:
 *
 *	     t = load_acquire(&reader->tail)
 *	     copy the record at t
 *	[R4] if (!compare_exchange_seq_cst(&reader->tail, t, t + size))
 *		the copy may be torn: drop it and start again from the new
 *		tail (the kernel counted the records it skipped)
 *
 * The mode may be switched while a reader reads: a reader that cannot
 * rule that out consumes with the compare-and-exchange in DISCARD mode
 * too. (It then always succeeds, unless a switch to OVERWRITE just moved
 * the tail: exactly the case where the copy may be torn.)
 *
 * A tail the kernel cannot make sense of (not a multiple of 8, behind
 * head - data_size or ahead of head) is the reader's bug: the kernel
 * drops new records once they do not fit before the last tail it could
 * use (DISCARD) or moves the tail to head and counts a tail_reset
 * (OVERWRITE); it never reads or writes outside the buffer.
 *
 * Accounting, per CPU, at any moment when no writer is mid-record:
 *	written == reader->read + lost + overwritten + records in [tail, head)
 * where PAD and LOST records count nowhere. The kernel publishes written
 * and bytes with every head, lost, overwritten and tail_resets with the
 * first head after they change: all are exact once a head is published.
 *
 * poll() on the file (a privileged reader) reports EPOLLIN when some
 * CPU's unread bytes reach its reader->watermark (0, or more than
 * data_size: data_size / 2). Wake-ups are edge-triggered: the writer
 * that crosses a watermark wakes the waiters, and nobody wakes them
 * again for that CPU until its reader has consumed something (with
 * epoll's EPOLLET, one event per crossing). A reader that starts waiting
 * just as a writer crosses the watermark is never left asleep: either
 * its poll() sees the new head or the writer sees it waiting and wakes
 * it (a full barrier in poll() after it queues itself, before it reads
 * the heads, pairs with one in the writer after it publishes the head
 * that crosses, before it looks for waiters). A reader that lowers its
 * watermark, or consumes only part of what it was woken for, is woken
 * by a record published after its next poll() finds too little to read.
 */
struct ktracer_reader {
	__u64 tail;		/* reader-owned: first byte not consumed */
	__u64 read;		/* reader-owned: records consumed */
	__u64 watermark;	/* reader-owned: wake-up threshold, bytes */
};

struct ktracer_meta {
	__u64 magic;		/* KTRACER_META_MAGIC */
	__u32 cpu;
	__u32 __reserved;
	__u64 data_size;	/* bytes of data, a power of two */
	__u64 head;		/* kernel-owned: end of published records */
	__u64 written;		/* records the CPU tried to write */
	__u64 bytes;		/* bytes of the records written to data */
	__u64 lost;		/* records dropped: see "The buffers" */
	__u64 overwritten;	/* records freed unread (OVERWRITE) */
	__u64 tail_resets;	/* times the kernel found tail corrupt */
};

#define KTRACER_IOC_VERSION	_IOWR(KTRACER_IOC_MAGIC, 0x00, struct ktracer_version)
#define KTRACER_IOC_ENABLE	_IOW(KTRACER_IOC_MAGIC, 0x01, struct ktracer_enable)
#define KTRACER_IOC_REGISTER	_IOWR(KTRACER_IOC_MAGIC, 0x02, struct ktracer_register)
#define KTRACER_IOC_OP		_IOW(KTRACER_IOC_MAGIC, 0x03, struct ktracer_op)
#define KTRACER_IOC_BATCH	_IOWR(KTRACER_IOC_MAGIC, 0x04, struct ktracer_batch)
#define KTRACER_IOC_CONFIG	_IOW(KTRACER_IOC_MAGIC, 0x05, struct ktracer_config)
#define KTRACER_IOC_RESET	_IOW(KTRACER_IOC_MAGIC, 0x06, struct ktracer_reset)
#define KTRACER_IOC_KEVENTS	_IOWR(KTRACER_IOC_MAGIC, 0x07, struct ktracer_kevents)
#define KTRACER_IOC_QUEUE	_IOWR(KTRACER_IOC_MAGIC, 0x08, struct ktracer_queue)
#define KTRACER_IOC_FLUSH	_IOWR(KTRACER_IOC_MAGIC, 0x09, struct ktracer_flush)
#define KTRACER_IOC_NAMES	_IOWR(KTRACER_IOC_MAGIC, 0x0A, struct ktracer_names)

#endif /* _UAPI_LINUX_KTRACER_H */
