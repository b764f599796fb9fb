// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl fuzzer: several threads on several files throw valid and
 * random commands at /dev/ktracer (every KTRACER_IOC_* and numbers it
 * does not know; struct sizes too small, too big, with non-zero tails;
 * random flags, reserved fields, event ids, slots, values, timestamps,
 * LOG messages and lengths; batches with huge counts and pointers that
 * are unmapped, read-only or run into an unmapped page) while other
 * threads map and unmap the state, reader, meta and data pages with
 * valid and invalid offsets, lengths and protections, replace the files
 * under the workers, switch modes, sizes, recording and kernel sources,
 * and consume the buffers through the head/tail protocol.
 *
 * Every call must succeed or fail with an errno uapi/linux/ktracer.h
 * documents for that command (the table below); anything else is printed
 * with its arguments and fails the test. Afterwards the counters of every
 * CPU must balance: written == read + lost + overwritten + unread.
 *
 * KT_FUZZ_SEED=N picks the seed (printed either way). KT_STRESS=1 runs
 * FULL_CALLS calls; otherwise a short run, bounded by calls and by time,
 * shorter still on the debug kernel.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "kt_test.h"
#include "kt_ring.h"
#include "kt_seq.h"

#define FULL_CALLS	10000000ULL
#define FULL_SECS	3300
#define SHORT_CALLS	150000ULL	/* ~30 s on Debian's kernel under TCG */
#define SHORT_SECS	45		/* whichever comes first */
#define DEBUG_CALLS	10000ULL	/* KASAN, lockdep, kmemleak */
#define DEBUG_SECS	40

#define NR_WORKERS	4
#define NR_FDS		4
#define MAX_FAIL_PRINTS	20
#define ARG_BUF		8192
#define BATCH_OPS	(KTRACER_BATCH_MAX + 8)
#define MAX_ERRNO	134

/* What the fuzzer does, as the histogram names it. */
enum cmd {
	C_VERSION, C_ENABLE, C_REGISTER, C_OP, C_BATCH, C_CONFIG, C_RESET,
	C_KEVENTS, C_QUEUE, C_FLUSH, C_NAMES, C_UNKNOWN, C_MMAP, C_MPROTECT,
	NR_CMDS
};

static const char *const cmd_names[NR_CMDS] = {
	"VERSION", "ENABLE", "REGISTER", "OP", "BATCH", "CONFIG", "RESET",
	"KEVENTS", "QUEUE", "FLUSH", "NAMES", "unknown-ioctl", "mmap",
	"mprotect",
};

/* A command is its number without the size bits. */
#define IOC_SIZE_BITS	((unsigned long)_IOC_SIZEMASK << _IOC_SIZESHIFT)

static const unsigned long ioc_of[C_UNKNOWN] = {
	KTRACER_IOC_VERSION, KTRACER_IOC_ENABLE, KTRACER_IOC_REGISTER,
	KTRACER_IOC_OP, KTRACER_IOC_BATCH, KTRACER_IOC_CONFIG,
	KTRACER_IOC_RESET, KTRACER_IOC_KEVENTS, KTRACER_IOC_QUEUE,
	KTRACER_IOC_FLUSH, KTRACER_IOC_NAMES,
};

/* Kernel's sizeof() of each command's struct. */
static const uint32_t ksize_of[C_UNKNOWN] = {
	sizeof(struct ktracer_version), sizeof(struct ktracer_enable),
	sizeof(struct ktracer_register), sizeof(struct ktracer_op),
	sizeof(struct ktracer_batch), sizeof(struct ktracer_config),
	sizeof(struct ktracer_reset), sizeof(struct ktracer_kevents),
	sizeof(struct ktracer_queue), sizeof(struct ktracer_flush),
	sizeof(struct ktracer_names),
};

static const uint32_t ver0_of[C_UNKNOWN] = {
	KTRACER_VERSION_SIZE_VER0, KTRACER_ENABLE_SIZE_VER0,
	KTRACER_REGISTER_SIZE_VER0, KTRACER_OP_SIZE_VER0,
	KTRACER_BATCH_SIZE_VER0, KTRACER_CONFIG_SIZE_VER0,
	KTRACER_RESET_SIZE_VER0, KTRACER_KEVENTS_SIZE_VER0,
	KTRACER_QUEUE_SIZE_VER0, KTRACER_FLUSH_SIZE_VER0,
	KTRACER_NAMES_SIZE_VER0,
};

/*
 * The errnos uapi/linux/ktracer.h documents, per command, for a caller
 * with CAP_PERFMON. Every struct argument may fail with EINVAL (size,
 * flags, reserved, a member no flag selects), E2BIG (non-zero bytes past
 * the kernel's struct) and EFAULT (a pointer the kernel cannot read or
 * write); BATCH's ops each as an OP, and with the same three. mmap and mprotect:
 * the "mmap" section's EINVAL and EPERM, ENOMEM when the address space
 * has no room, and EACCES for mprotect adding PROT_WRITE.
 */
#define ARGS_ERR EINVAL, E2BIG, EFAULT
#define OP_ERR	 ARGS_ERR, ENOENT, ERANGE, EBUSY, EMSGSIZE
static const int allowed[NR_CMDS][10] = {
	[C_VERSION]	= { ARGS_ERR },
	[C_ENABLE]	= { ARGS_ERR },
	[C_REGISTER]	= { ARGS_ERR, ENAMETOOLONG, EEXIST, EBUSY, ENOSPC },
	[C_OP]		= { OP_ERR },
	[C_BATCH]	= { OP_ERR },
	[C_CONFIG]	= { ARGS_ERR, EBUSY, ENOMEM },
	[C_RESET]	= { ARGS_ERR, EBUSY },
	[C_KEVENTS]	= { ARGS_ERR, EOPNOTSUPP, ENOMEM, ESRCH },
	[C_QUEUE]	= { ARGS_ERR, EOPNOTSUPP, ENOENT, ENOSPC, ENOMEM },
	[C_FLUSH]	= { ARGS_ERR },
	[C_NAMES]	= { ARGS_ERR },
	[C_UNKNOWN]	= { ENOTTY },
	[C_MMAP]	= { EINVAL, EPERM, ENOMEM },
	[C_MPROTECT]	= { EACCES, ENOMEM },
};

/* Events: a fixed set of names (the event table is shared and finite). */
enum { EV_SPAN0, EV_SPAN1, EV_GAUGE, EV_COUNT, EV_LOG0, EV_LOG1, NR_EV };
static const struct { const char *name; uint32_t kind, slots; } evdef[NR_EV] = {
	{ "fuzz.span0", KTRACER_KIND_SPAN, 4 },
	{ "fuzz.span1", KTRACER_KIND_SPAN, 1 },
	{ "fuzz.gauge", KTRACER_KIND_GAUGE, 0 },
	{ "fuzz.count", KTRACER_KIND_COUNTER, 0 },
	{ "fuzz.log0", KTRACER_KIND_LOG, 0 },
	{ "fuzz.log1", KTRACER_KIND_LOG, 0 },
};

/* Names whose kind and slots the first random REGISTER decides. */
static const char *const free_names[] = {
	"fuzz.x0", "fuzz.x1", "fuzz.x2", "fuzz.x3",
	"fuzz.x4", "fuzz.x5", "fuzz.x6", "fuzz.x7",
};

#define NR_FREE (sizeof(free_names) / sizeof(free_names[0]))

static struct {
	uint64_t seed, max_calls;
	uint64_t deadline;	/* kt_now() */
	long ps;
	int nr_cpus;
	int fds[NR_FDS];	/* always ktracer files: replaced with dup2() */
	uint32_t ev[NR_EV];
	const unsigned char *ro;	/* read-only: valid ops, a batch */
	unsigned char *none;		/* PROT_NONE */
	atomic_bool stop;
	atomic_bool calm;	/* the end: no more RESET or resizing */
	atomic_ullong calls;
	atomic_int failures;
	atomic_ullong hist[NR_CMDS][MAX_ERRNO + 1];
	atomic_ullong consumed, bad_records;
} g;

/* One thread's state: its random stream, buffers, an edge page. */
struct wctx {
	uint64_t rng;
	int id;
	unsigned char *arg;		/* ARG_BUF bytes */
	struct ktracer_op *ops;		/* BATCH_OPS ops (or bytes for bigger) */
	unsigned char *opbuf;		/* BATCH_OPS * 64 bytes */
	unsigned char *edge;		/* one page, PROT_NONE after it */
	char msg[KTRACER_LOG_MAX + 16];
};

static uint64_t rnd(struct wctx *w)
{
	uint64_t z = (w->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t below(struct wctx *w, uint32_t n)
{
	return rnd(w) % n;
}

/* True with probability @pct percent. */
static bool pct(struct wctx *w, unsigned int p)
{
	return below(w, 100) < p;
}

static bool is_allowed(int cmd, int err)
{
	unsigned int i;

	for (i = 0; i < sizeof(allowed[0]) / sizeof(allowed[0][0]); i++)
		if (allowed[cmd][i] == err)
			return true;
	return false;
}

static void fail(const char *fmt, ...)
{
	va_list ap;

	if (atomic_fetch_add(&g.failures, 1) >= MAX_FAIL_PRINTS)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "# FUZZ FAIL (seed %llu): ", (unsigned long long)g.seed);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void dump_arg(const char *what, const void *p, size_t len)
{
	const unsigned char *b = p;
	char line[3 * 96 + 1];
	size_t i;

	if (!p || len == 0)
		return;
	if (len > 96)
		len = 96;
	for (i = 0; i < len; i++)
		sprintf(line + 3 * i, "%02x ", b[i]);
	fprintf(stderr, "#   %s: %s\n", what, line);
}

/*
 * Count a call's result; a result the header does not allow fails the
 * test, with the command, its number, its argument and the errno.
 */
static void account(int cmd, long ret, int err, unsigned long nr,
		    const void *arg, const void *shown, size_t shown_len)
{
	int e = ret == 0 ? 0 : err;

	atomic_fetch_add(&g.calls, 1);
	if (e < 0 || e > MAX_ERRNO)
		e = MAX_ERRNO;
	atomic_fetch_add(&g.hist[cmd][e], 1);
	if (ret == 0 || (ret == -1 && is_allowed(cmd, err)))
		return;
	fail("%s (%#lx, arg %p) returned %ld, errno %d (%s)", cmd_names[cmd],
	     nr, arg, ret, err, strerror(err));
	if (atomic_load(&g.failures) <= MAX_FAIL_PRINTS)
		dump_arg("arg", shown, shown_len);
}

static int pick_fd(struct wctx *w)
{
	return g.fds[below(w, NR_FDS)];
}

/* An address the kernel must refuse. */
static uint64_t bad_ptr(struct wctx *w)
{
	static const uint64_t v[] = {
		0, 8, 0xffff888000000000ULL, 0xffffffff81000000ULL,
		0x00007ffffffff000ULL, 0xfffffffffffff000ULL,
	};

	if (pct(w, 50))
		return (uintptr_t)g.none + below(w, g.ps);
	return v[below(w, sizeof(v) / sizeof(v[0]))];
}

/* Set a struct's size: mostly its own, else too small, too big, a tail. */
static uint32_t fuzz_size(struct wctx *w, int cmd, unsigned char *b)
{
	uint32_t k = ksize_of[cmd], v0 = ver0_of[cmd], size = k, at;

	if (pct(w, 85))
		goto out;
	switch (below(w, 9)) {
	case 0: size = 0; break;
	case 1: size = v0 - 1; break;
	case 2: size = below(w, v0); break;
	case 3: size = k + 8 * (1 + below(w, 4)); break;
	case 4: size = KTRACER_ARG_SIZE_MAX; break;
	case 5: size = KTRACER_ARG_SIZE_MAX + 1 + below(w, 4); break;
	case 6: size = rnd(w); break;
	default:
		/* Too big, with a non-zero byte past the kernel's struct. */
		size = k + 1 + below(w, KTRACER_ARG_SIZE_MAX - k);
		at = k + below(w, size - k);
		b[at] = 1 + below(w, 255);
		break;
	}
out:
	memcpy(b, &size, sizeof(size));
	return size;
}

/*
 * Where the argument goes: @b (ARG_BUF bytes, the struct at its start),
 * or somewhere the kernel cannot read all of it.
 */
static void *place(struct wctx *w, unsigned char *b, size_t len)
{
	size_t k;

	if (pct(w, 94))
		return b;
	switch (below(w, 3)) {
	case 0:
		return (void *)(uintptr_t)bad_ptr(w);
	case 1:
		/* The struct runs into a PROT_NONE page. */
		k = len > 1 ? 1 + below(w, len - 1) : 1;
		if (k > (size_t)g.ps)
			k = g.ps;
		memcpy(w->edge + g.ps - k, b, k);
		return w->edge + g.ps - k;
	default:
		/* Read-only: the valid batch; nothing can be written back. */
		return (void *)g.ro;
	}
}

static uint32_t fuzz_flags(struct wctx *w, uint32_t valid)
{
	if (pct(w, 90))
		return valid;
	return pct(w, 50) ? 1u << below(w, 32) : (uint32_t)rnd(w);
}

static uint32_t fuzz_reserved(struct wctx *w)
{
	return pct(w, 95) ? 0 : 1u << below(w, 32);
}

static uint32_t fuzz_event(struct wctx *w)
{
	if (pct(w, 90))
		return g.ev[below(w, NR_EV)];
	switch (below(w, 4)) {
	case 0: return 0;
	case 1: return 1 + below(w, KTRACER_KEV_LAST);	/* the kernel's */
	case 2: return g.ev[0] + 1 + below(w, 64);
	default: return rnd(w);
	}
}

static uint64_t fuzz_ts(struct wctx *w)
{
	uint64_t now;

	if (pct(w, 85))
		return 0;
	now = kt_now();
	switch (below(w, 5)) {
	case 0: return now - below(w, 1000000);
	case 1: return now;
	case 2: return now + KT_NSEC_PER_SEC;	/* the future */
	case 3: return 1;			/* the past */
	default: return rnd(w);
	}
}

/* A LOG's message address and length. */
static void fuzz_msg(struct wctx *w, struct ktracer_op *op, unsigned int bad)
{
	uint32_t len = 1 + below(w, KTRACER_LOG_MAX);
	unsigned int i;

	if (pct(w, bad)) {
		switch (below(w, 4)) {
		case 0: len = 0; break;
		case 1: len = KTRACER_LOG_MAX + 1; break;
		case 2: len = rnd(w); break;
		default: len = KTRACER_LOG_MAX; break;
		}
	}
	op->len = len;
	if (!pct(w, bad)) {
		for (i = 0; i < 8; i++)
			w->msg[below(w, KTRACER_LOG_MAX)] = rnd(w);
		op->value = (uintptr_t)w->msg;
		return;
	}
	switch (below(w, 3)) {
	case 0:
		op->value = bad_ptr(w);
		break;
	case 1:
		/* Readable up to an unmapped page, at most len - 1 bytes. */
		op->value = (uintptr_t)(w->edge + g.ps -
			(len > 1 && len <= KTRACER_LOG_MAX ? 1 + below(w, len - 1) : 1));
		break;
	default:
		op->value = (uintptr_t)g.ro;	/* read-only: fine to read */
		break;
	}
}

/* One op; one in @bad percent gets a random member. */
static void fuzz_op(struct wctx *w, struct ktracer_op *op, unsigned int bad)
{
	uint32_t ev = below(w, NR_EV);

	memset(op, 0, sizeof(*op));
	op->size = sizeof(*op);
	switch (ev) {
	case EV_SPAN0:
	case EV_SPAN1:
		op->op = KTRACER_OP_START + below(w, 3);
		if (op->op != KTRACER_OP_CANCEL)
			op->slot = below(w, evdef[ev].slots + pct(w, bad));
		break;
	case EV_GAUGE: op->op = KTRACER_OP_GAUGE; break;
	case EV_COUNT: op->op = KTRACER_OP_COUNT; break;
	default: op->op = KTRACER_OP_LOG; break;
	}
	op->event = g.ev[ev];
	op->value = rnd(w);
	if (op->op == KTRACER_OP_LOG)
		fuzz_msg(w, op, bad);
	if (pct(w, bad)) {
		switch (below(w, 8)) {
		case 0: op->op = pct(w, 50) ? 0 : 7 + below(w, 0xfff0); break;
		case 1: op->op = 1 + below(w, 6); break;
		case 2: op->event = fuzz_event(w); break;
		case 3: op->slot = pct(w, 50) ? KTRACER_SLOTS_MAX : rnd(w); break;
		case 4: op->len = rnd(w) % 512; break;
		case 5: op->flags = fuzz_flags(w, 0); break;
		case 6: op->__reserved = fuzz_reserved(w); break;
		default: op->value = (uintptr_t)w->msg; op->len = below(w, 300); break;
		}
	}
	op->ts = pct(w, bad) ? fuzz_ts(w) : 0;
}

static void do_ioctl(struct wctx *w, int cmd, unsigned long nr,
		     unsigned char *b, size_t len)
{
	void *p = place(w, b, len);
	long ret;
	int fd = pick_fd(w);

	/*
	 * The size in the number is not looked at: a number built for a
	 * larger or smaller struct is the same command.
	 */
	if (cmd != C_UNKNOWN && pct(w, 5))
		nr = (nr & ~IOC_SIZE_BITS) |
		     (unsigned long)below(w, 1 << _IOC_SIZEBITS) << _IOC_SIZESHIFT;
	errno = 0;
	ret = ioctl(fd, nr, p);
	account(cmd, ret, errno, nr, p, b, len);
	if (ret)
		return;
	/* What a success must have written back. */
	if (p != b)
		return;
	if (cmd == C_VERSION &&
	    ((struct ktracer_version *)b)->major != KTRACER_ABI_MAJOR)
		fail("VERSION: major %u", ((struct ktracer_version *)b)->major);
	if (cmd == C_REGISTER && !((struct ktracer_register *)b)->id)
		fail("REGISTER: id 0");
	if (cmd == C_BATCH && ((struct ktracer_batch *)b)->done !=
			      ((struct ktracer_batch *)b)->count)
		fail("BATCH: success with done %u of %u",
		     ((struct ktracer_batch *)b)->done,
		     ((struct ktracer_batch *)b)->count);
}

static void fuzz_version(struct wctx *w)
{
	struct ktracer_version *v = (void *)w->arg;

	v->flags = fuzz_flags(w, 0);
	do_ioctl(w, C_VERSION, KTRACER_IOC_VERSION, w->arg,
		 fuzz_size(w, C_VERSION, w->arg));
}

static void fuzz_enable(struct wctx *w)
{
	struct ktracer_enable *e = (void *)w->arg;

	e->flags = fuzz_flags(w, 0);
	e->enable = pct(w, 75) ? 1 : pct(w, 90) ? 0 : rnd(w);
	e->__reserved = fuzz_reserved(w);
	do_ioctl(w, C_ENABLE, KTRACER_IOC_ENABLE, w->arg,
		 fuzz_size(w, C_ENABLE, w->arg));
}

static void fuzz_register(struct wctx *w)
{
	struct ktracer_register *r = (void *)w->arg;
	unsigned int e = below(w, NR_EV), i;
	const char *name = evdef[e].name;

	r->flags = fuzz_flags(w, 0);
	r->kind = evdef[e].kind;
	r->slots = evdef[e].slots;
	r->__reserved = fuzz_reserved(w);
	if (pct(w, 20)) {
		name = free_names[below(w, NR_FREE)];
		r->kind = pct(w, 90) ? 1 + below(w, 4) : rnd(w);
		r->slots = r->kind == KTRACER_KIND_SPAN ?
			   1 + below(w, 8) : 0;
	}
	if (pct(w, 10)) {
		switch (below(w, 4)) {
		case 0: r->kind = rnd(w) % 8; break;
		case 1: r->slots = pct(w, 50) ? KTRACER_SLOTS_MAX + 1 : rnd(w); break;
		case 2: r->slots = 0; break;
		default: r->slots = KTRACER_SLOTS_MAX; break;
		}
	}
	strcpy(r->name, name);
	if (pct(w, 8)) {
		switch (below(w, 5)) {
		case 0: r->name[0] = '\0'; break;			/* empty */
		case 1: r->name[below(w, strlen(name))] = 1 + below(w, 0x1f); break;
		case 2: r->name[below(w, strlen(name))] = 0x7f + below(w, 0x80); break;
		case 3:		/* no NUL in KTRACER_NAME_MAX bytes */
			for (i = 0; i < KTRACER_NAME_MAX; i++)
				r->name[i] = 'a' + i % 26;
			break;
		default:	/* a kernel event's name */
			strcpy(r->name, pct(w, 50) ? "sched.running" : "irq");
			break;
		}
	}
	do_ioctl(w, C_REGISTER, KTRACER_IOC_REGISTER, w->arg,
		 fuzz_size(w, C_REGISTER, w->arg));
}

static void fuzz_one_op(struct wctx *w)
{
	fuzz_op(w, (struct ktracer_op *)w->arg, 15);
	do_ioctl(w, C_OP, KTRACER_IOC_OP, w->arg, fuzz_size(w, C_OP, w->arg));
}

static void fuzz_batch(struct wctx *w)
{
	struct ktracer_batch *b = (void *)w->arg;
	uint32_t count = 1 + below(w, 32), op_size = sizeof(struct ktracer_op);
	uint32_t i, n;
	unsigned char *ops = w->opbuf;

	if (pct(w, 2))
		count = KTRACER_BATCH_MAX - below(w, 2);
	if (pct(w, 10)) {
		switch (below(w, 5)) {
		case 0: count = 0; break;
		case 1: count = KTRACER_BATCH_MAX + 1 + below(w, 2); break;
		case 2: count = rnd(w); break;
		case 3: op_size = pct(w, 50) ? KTRACER_OP_SIZE_VER0 - 1 - below(w, 8) :
				  KTRACER_ARG_SIZE_MAX + 1; break;
		default: op_size = 48 + 8 * below(w, 3); break;
		}
	}
	n = count < BATCH_OPS && (uint64_t)count * op_size <= BATCH_OPS * 64ULL ?
	    count : 0;
	memset(ops, 0, (size_t)n * op_size);
	for (i = 0; i < n; i++) {
		struct ktracer_op *op = (void *)(ops + (size_t)i * op_size);

		/* Mostly valid: a batch stops at its first failure. */
		fuzz_op(w, op, i + 1 == n ? 10 : 1);
		op->size = op_size;
		if (op_size > sizeof(*op) && pct(w, 2))
			ops[(size_t)i * op_size + sizeof(*op) + below(w, op_size - sizeof(*op))] = 1;
		if (pct(w, 1))
			op->size = sizeof(*op) + 8;	/* not op_size */
	}
	b->flags = fuzz_flags(w, 0);
	b->ops = (uintptr_t)ops;
	b->count = count;
	b->op_size = op_size;
	b->done = 0;
	b->error = 0;
	if (pct(w, 6)) {
		switch (below(w, 4)) {
		case 0: b->ops = bad_ptr(w); break;
		case 1:	/* the array runs into a PROT_NONE page */
			n = 1 + below(w, 4);
			memcpy(w->edge + g.ps - n * sizeof(struct ktracer_op) / 2,
			       ops, n * sizeof(struct ktracer_op) / 2);
			b->ops = (uintptr_t)(w->edge + g.ps -
					     n * sizeof(struct ktracer_op) / 2);
			b->count = n;
			b->op_size = sizeof(struct ktracer_op);
			break;
		case 2: b->ops = (uintptr_t)g.ro + 64; break;	/* read-only */
		default: b->ops = (uintptr_t)b; break;	/* overlaps the batch */
		}
	}
	do_ioctl(w, C_BATCH, KTRACER_IOC_BATCH, w->arg,
		 fuzz_size(w, C_BATCH, w->arg));
}

static void fuzz_config(struct wctx *w)
{
	struct ktracer_config *c = (void *)w->arg;

	c->flags = fuzz_flags(w, below(w, 4));
	c->mode = pct(w, 95) ? 1 + below(w, 2) : rnd(w);
	/* Mostly 0 where no flag selects it, as it must be. */
	if (!(c->flags & KTRACER_CONFIG_MODE) && pct(w, 90))
		c->mode = 0;
	c->__reserved = fuzz_reserved(w);
	/* Valid sizes up to 1 MiB: the debug VM has 256 MiB in all. */
	c->buffer_size = (uint64_t)KTRACER_BUFFER_MIN << below(w, 8);
	/* The last stretch keeps its counters for the accounting check. */
	if (atomic_load_explicit(&g.calm, memory_order_relaxed))
		c->flags &= ~KTRACER_CONFIG_BUFFER_SIZE;
	if (!(c->flags & KTRACER_CONFIG_BUFFER_SIZE) && pct(w, 90))
		c->buffer_size = 0;
	if (pct(w, 10)) {
		switch (below(w, 4)) {
		case 0: c->buffer_size += 8; break;
		case 1: c->buffer_size = (uint64_t)KTRACER_BUFFER_MAX << 1; break;
		case 2: c->buffer_size = KTRACER_BUFFER_MIN / 2; break;
		default: c->buffer_size = rnd(w) | 1; break;
		}
	}
	do_ioctl(w, C_CONFIG, KTRACER_IOC_CONFIG, w->arg,
		 fuzz_size(w, C_CONFIG, w->arg));
}

static void fuzz_reset(struct wctx *w)
{
	struct ktracer_reset *r = (void *)w->arg;

	r->flags = fuzz_flags(w, 0);
	do_ioctl(w, C_RESET, KTRACER_IOC_RESET, w->arg,
		 fuzz_size(w, C_RESET, w->arg));
}

static void fuzz_kevents(struct wctx *w)
{
	struct ktracer_kevents *k = (void *)w->arg;
	int32_t *pids = (int32_t *)w->opbuf;
	uint32_t i;

	k->flags = fuzz_flags(w, below(w, 4));
	/* SCHED, TASK and SYSCALL of this process; IRQ and SOFTIRQ. */
	k->sources = rnd(w) & (KTRACER_SRC_ALL & ~KTRACER_SRC_BLOCK);
	if (pct(w, 5))
		k->sources = rnd(w);
	k->npids = below(w, 4);
	for (i = 0; i < KTRACER_PIDS_MAX + 2; i++)
		pids[i] = getpid();
	if (k->npids)
		pids[below(w, k->npids)] = pct(w, 80) ? 1 : pct(w, 50) ? 0 : -1;
	if (pct(w, 5))
		k->npids = pct(w, 50) ? KTRACER_PIDS_MAX + 1 : rnd(w);
	else if (pct(w, 5))
		k->npids = KTRACER_PIDS_MAX;
	k->pids = pct(w, 95) ? (uintptr_t)pids : bad_ptr(w);
	k->__reserved = fuzz_reserved(w);
	/* Mostly 0 where no flag selects it, as it must be. */
	if (!(k->flags & KTRACER_KEVENTS_SOURCES) && pct(w, 90))
		k->sources = 0;
	if (!(k->flags & KTRACER_KEVENTS_PIDS) && pct(w, 90)) {
		k->pids = 0;
		k->npids = 0;
	}
	do_ioctl(w, C_KEVENTS, KTRACER_IOC_KEVENTS, w->arg,
		 fuzz_size(w, C_KEVENTS, w->arg));
}

/*
 * Scribble over a queue this process just created: entries that look
 * like ops (on the fuzzer's events, ts near now) or random words, and a
 * head anywhere near the tail. The drains must refuse what they cannot
 * use and apply the rest, whatever the bytes.
 */
static void scribble_queue(struct wctx *w, int fd,
			   const struct ktracer_queue *q)
{
	struct ktracer_qring *qr;
	uint64_t *word, now = kt_now();
	struct ktracer_qentry *e;
	uint32_t i, n = q->ring_size / KTRACER_QENTRY_SIZE;

	qr = mmap(NULL, q->map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		  q->offset);
	if (qr == MAP_FAILED) {
		/* Another fd of the fuzzer's may have replaced it meanwhile. */
		if (errno != EINVAL && errno != ENOMEM && errno != EACCES)
			fail("mmap of queue %u: %s", q->id, strerror(errno));
		return;
	}
	e = (void *)((char *)qr + (q->map_size - q->ring_size));
	for (i = 0; i < n; i++) {
		if (pct(w, 80)) {
			e[i].op = below(w, KTRACER_OP_LOG + 2);
			e[i].flags = pct(w, 80) ? below(w, 8) : rnd(w);
			e[i].event = fuzz_event(w);
			e[i].slot = below(w, 6);
			e[i].len = pct(w, 70) ? below(w, 300) : rnd(w);
			e[i].value = pct(w, 50) ? 0 : rnd(w);
			e[i].ts = pct(w, 90) ? now - below(w, 100000) : rnd(w);
		} else {
			word = (uint64_t *)&e[i];
			word[0] = rnd(w);
			word[1] = rnd(w);
			word[2] = rnd(w);
			word[3] = rnd(w);
		}
	}
	qr->dropped = pct(w, 90) ? below(w, 4) : rnd(w);
	__atomic_store_n(&qr->head, pct(w, 80) ?
			 (uint64_t)below(w, n + 1) * KTRACER_QENTRY_SIZE :
			 pct(w, 50) ? (uint64_t)below(w, 2 * q->ring_size) :
			 rnd(w),
			 __ATOMIC_RELEASE);
	munmap(qr, q->map_size);
}

static void fuzz_queue(struct wctx *w)
{
	struct ktracer_queue *q = (void *)w->arg;
	int fd = pick_fd(w);
	long ret;

	q->flags = fuzz_flags(w, pct(w, 20) ? KTRACER_QUEUE_ADOPT :
			      pct(w, 25) ? KTRACER_QUEUE_TSC : 0);
	/* Small rings: a file may hold KTRACER_FILE_QUEUES_MAX of them. */
	if (!(q->flags & KTRACER_QUEUE_ADOPT) || pct(w, 5))
		q->ring_size = pct(w, 90) ?
			(uint32_t)KTRACER_QUEUE_RING_MIN << below(w, 2) :
			(uint32_t)rnd(w);
	if (q->flags & KTRACER_QUEUE_ADOPT || pct(w, 5))
		q->id = below(w, 8);
	q->size = sizeof(*q);
	errno = 0;
	ret = ioctl(fd, KTRACER_IOC_QUEUE, q);
	account(C_QUEUE, ret, errno, KTRACER_IOC_QUEUE, q, w->arg, sizeof(*q));
	if (!ret && pct(w, 50))
		scribble_queue(w, fd, q);
}

static void fuzz_flush(struct wctx *w)
{
	struct ktracer_flush *f = (void *)w->arg;

	f->flags = fuzz_flags(w, below(w, 4));
	if (f->flags & KTRACER_FLUSH_INTERVAL || pct(w, 5))
		f->interval_ms = pct(w, 90) ? 1 + below(w, 200) : rnd(w);
	do_ioctl(w, C_FLUSH, KTRACER_IOC_FLUSH, w->arg,
		 fuzz_size(w, C_FLUSH, w->arg));
}

/* The name table, a few entries from anywhere, into good or bad memory. */
static void fuzz_names(struct wctx *w)
{
	struct ktracer_names *n = (void *)w->arg;

	n->flags = fuzz_flags(w, 0);
	n->start = pct(w, 90) ? below(w, 64) : rnd(w);
	/* Never more than opbuf holds, unless too many to be accepted. */
	n->count = pct(w, 90) ? below(w, BATCH_OPS * 64 /
					sizeof(struct ktracer_name)) :
		   KTRACER_NAMES_MAX + 1 + below(w, 1 << 20);
	n->buf = pct(w, 95) ? (uintptr_t)w->opbuf : bad_ptr(w);
	do_ioctl(w, C_NAMES, KTRACER_IOC_NAMES, w->arg,
		 fuzz_size(w, C_NAMES, w->arg));
}

/* A number in ktracer's range that is none of its commands. */
static void fuzz_unknown(struct wctx *w)
{
	unsigned long nr;
	int i;

	do {
		nr = _IOC(below(w, 4), KTRACER_IOC_MAGIC,
			  pct(w, 70) ? below(w, 12) : below(w, 256),
			  pct(w, 50) ? ksize_of[below(w, C_UNKNOWN)] :
				       below(w, 1 << _IOC_SIZEBITS));
		for (i = 0; i < C_UNKNOWN; i++)
			if ((nr & ~IOC_SIZE_BITS) == (ioc_of[i] & ~IOC_SIZE_BITS))
				break;
	} while (i < C_UNKNOWN);
	memset(w->arg, 0, 128);
	fuzz_size(w, below(w, C_UNKNOWN), w->arg);
	do_ioctl(w, C_UNKNOWN, nr, w->arg, 128);
}

/* Replace one of the shared files under the other threads. */
static void reopen(struct wctx *w)
{
	int fd = kt_open(), i;

	if (fd < 0) {
		fail("open: %s", strerror(-fd));
		return;
	}
	for (i = 0; i < NR_EV; i++)
		if (pct(w, 90) && kt_register(fd, evdef[i].kind, evdef[i].slots,
					      evdef[i].name) != g.ev[i])
			fail("REGISTER %s on a new file: not id %u",
			     evdef[i].name, g.ev[i]);
	if (dup2(fd, g.fds[below(w, NR_FDS)]) < 0)
		fail("dup2: %s", strerror(errno));
	close(fd);
}

/* A file of this thread's own, used a little and closed with spans open. */
static void private_file(struct wctx *w)
{
	int fd = kt_open(), i;

	if (fd < 0) {
		fail("open: %s", strerror(-fd));
		return;
	}
	for (i = 0; i < 8; i++) {
		struct ktracer_op *op = (void *)w->arg;
		long ret;

		if (i < 2) {
			int64_t id = kt_register(fd, evdef[i].kind, evdef[i].slots,
						 evdef[i].name);

			if (id < 0 && id != -EEXIST)
				fail("REGISTER %s: %s", evdef[i].name,
				     strerror(-id));
			continue;
		}
		fuzz_op(w, op, 10);
		errno = 0;
		ret = ioctl(fd, KTRACER_IOC_OP, op);
		account(C_OP, ret, errno, KTRACER_IOC_OP, op, op, sizeof(*op));
	}
	close(fd);
}

static void *worker(void *p)
{
	struct wctx *w = p;
	unsigned int r;

	while (!atomic_load_explicit(&g.stop, memory_order_relaxed)) {
		memset(w->arg, 0, KTRACER_ARG_SIZE_MAX + 64);
		r = below(w, 10000);
		if (r < 4000)
			fuzz_one_op(w);
		else if (r < 5800)
			fuzz_batch(w);
		else if (r < 7300)
			fuzz_register(w);
		else if (r < 7600)
			fuzz_version(w);
		else if (r < 7800)
			fuzz_queue(w);
		else if (r < 7950)
			fuzz_flush(w);
		else if (r < 8000)
			fuzz_names(w);
		else if (r < 9000)
			fuzz_unknown(w);
		else if (r < 9400)
			fuzz_enable(w);
		else if (r < 9600)
			fuzz_config(w);
		else if (r < 9800 && !atomic_load_explicit(&g.calm,
							    memory_order_relaxed))
			fuzz_reset(w);
		else if (r < 9815)
			fuzz_kevents(w);
		else if (r < 9900)
			reopen(w);
		else
			private_file(w);
	}
	return NULL;
}

/* Map, touch and unmap pieces of the files, valid and not. */
static void *mapper(void *p)
{
	struct wctx *w = p;
	struct { void *addr; size_t len; int prot; } maps[4] = { 0 };
	unsigned int i;

	while (!atomic_load_explicit(&g.stop, memory_order_relaxed)) {
		const struct ktracer_state *st;
		unsigned long cpu_pages, pg, npg;
		int prot, flags = MAP_SHARED, fd = pick_fd(w);
		void *a;

		i = below(w, 4);
		if (maps[i].addr) {
			if (maps[i].prot & PROT_READ) {
				volatile const unsigned char *c = maps[i].addr;
				size_t off;

				for (off = 0; off < maps[i].len; off += g.ps)
					(void)c[off];
			}
			if (pct(w, 20)) {
				int ret;

				errno = 0;
				ret = mprotect(maps[i].addr, g.ps,
					       PROT_READ | PROT_WRITE);
				account(C_MPROTECT, ret, errno, 0,
					maps[i].addr, NULL, 0);
			}
			munmap(maps[i].addr, maps[i].len);
			maps[i].addr = NULL;
			if (pct(w, 30))
				usleep(1000);
			continue;
		}
		if (pct(w, 2)) {
			/* A while with nothing mapped: CONFIG and RESET can work. */
			for (i = 0; i < 4; i++)
				if (maps[i].addr)
					munmap(maps[i].addr, maps[i].len);
			memset(maps, 0, sizeof(maps));
			usleep(5000);
			continue;
		}
		st = kt_map_state(fd);
		if (st == MAP_FAILED) {
			fail("mapping the state page: %s", strerror(errno));
			usleep(1000);
			continue;
		}
		cpu_pages = st->cpu_pages;
		pg = 1 + below(w, g.nr_cpus) * cpu_pages;
		switch (below(w, 6)) {
		case 0: pg = 0; npg = 1; break;		/* state */
		case 1: npg = 1; break;			/* reader */
		case 2: pg += 1; npg = 1 + below(w, cpu_pages - 1); break; /* meta.. */
		case 3: pg += 2 + below(w, cpu_pages - 2); npg = 1; break; /* data */
		case 4: npg = cpu_pages; break;		/* the whole buffer */
		default:
			pg = below(w, 2 + g.nr_cpus * cpu_pages);
			npg = 1 + below(w, cpu_pages + 2);
			break;
		}
		kt_unmap_state(st);
		prot = pct(w, 70) ? PROT_READ : pct(w, 50) ? PROT_READ | PROT_WRITE :
		       pct(w, 50) ? PROT_WRITE : PROT_NONE;
		if (pct(w, 5))
			flags = MAP_PRIVATE;
		errno = 0;
		a = mmap(NULL, npg * g.ps, prot, flags, fd, pg * g.ps);
		account(C_MMAP, a == MAP_FAILED ? -1 : 0, errno, pg,
			NULL, NULL, 0);
		if (a != MAP_FAILED) {
			maps[i].addr = a;
			maps[i].len = npg * g.ps;
			maps[i].prot = prot;
		}
	}
	for (i = 0; i < 4; i++)
		if (maps[i].addr)
			munmap(maps[i].addr, maps[i].len);
	return NULL;
}

/* Consume every CPU's records through the protocol, now and then. */
static void *consumer(void *p)
{
	struct wctx *w = p;

	while (!atomic_load_explicit(&g.stop, memory_order_relaxed)) {
		struct kt_rings rs;
		int64_t n;
		int i, round;

		if (kt_rings_map(pick_fd(w), &rs)) {
			usleep(2000);
			continue;
		}
		/*
		 * The size may have changed before the buffers were mapped;
		 * the mode may change at any time.
		 */
		for (i = 0; i < rs.nr; i++) {
			if (rs.ring[i].meta->data_size != rs.ring[i].data_size ||
			    rs.ring[i].meta->cpu != (uint32_t)i)
				break;
			rs.ring[i].cas = true;
		}
		for (round = 0; i == rs.nr && round < 4; round++) {
			n = kt_rings_consume(&rs, NULL, NULL);
			if (n < 0) {
				fail("consuming: %s", strerror(-n));
				break;
			}
			atomic_fetch_add(&g.consumed, n);
			usleep(1000);
		}
		kt_rings_unmap(&rs);
		usleep(2000 + 1000 * below(w, 8));
	}
	return NULL;
}

static void *xmmap(size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* A thread's buffers; NULL if memory ran out. */
static struct wctx *wctx_new(int id)
{
	struct wctx *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->id = id;
	w->rng = g.seed * 0x100000001b3ULL + id;
	w->arg = xmmap(ARG_BUF, PROT_READ | PROT_WRITE);
	w->opbuf = xmmap(BATCH_OPS * 64, PROT_READ | PROT_WRITE);
	w->edge = xmmap(2 * g.ps, PROT_READ | PROT_WRITE);
	if (!w->arg || !w->opbuf || !w->edge ||
	    mprotect(w->edge + g.ps, g.ps, PROT_NONE))
		return NULL;
	memset(w->msg, 'm', sizeof(w->msg));
	return w;
}

static void print_histogram(void)
{
	unsigned long long tot_err[MAX_ERRNO + 1] = { 0 }, n;
	int c, e;

	for (c = 0; c < NR_CMDS; c++) {
		unsigned long long tot = 0;
		char line[1024];
		int len = 0;

		for (e = 0; e <= MAX_ERRNO; e++) {
			n = atomic_load(&g.hist[c][e]);
			if (!n)
				continue;
			tot += n;
			tot_err[e] += n;
			len += snprintf(line + len, sizeof(line) - len, " %s=%llu",
					e ? strerrorname_np(e) ?: "?" : "ok", n);
		}
		printf("# fuzz: %-13s %10llu:%s\n", cmd_names[c], tot, line);
	}
	for (e = 0; e <= MAX_ERRNO; e++)
		if (tot_err[e])
			printf("# fuzz: errno %-12s %10llu\n",
			       e ? strerrorname_np(e) ?: "?" : "ok", tot_err[e]);
}

FIXTURE(fuzz) {
	int fd;
	struct wctx *w[NR_WORKERS + 2];
};

FIXTURE_SETUP(fuzz)
{
	const char *s = getenv("KT_FUZZ_SEED");
	bool stress = getenv("KT_STRESS") && !strcmp(getenv("KT_STRESS"), "1");
	bool debug = access("/sys/kernel/debug/kmemleak", F_OK) == 0;
	struct ktracer_batch *b;
	struct ktracer_op *op;
	unsigned char *ro;
	int i;

	g.seed = s && *s ? strtoull(s, NULL, 0) : kt_now() ^ getpid();
	g.max_calls = stress ? FULL_CALLS : debug ? DEBUG_CALLS : SHORT_CALLS;
	g.deadline = kt_now() + (uint64_t)(stress ? FULL_SECS : debug ?
					   DEBUG_SECS : SHORT_SECS) * KT_NSEC_PER_SEC;
	g.ps = sysconf(_SC_PAGESIZE);
	g.nr_cpus = kt_nr_cpus();
	printf("# fuzz: seed %llu (KT_FUZZ_SEED=%llu to repeat), up to %llu calls or %d s%s\n",
	       (unsigned long long)g.seed, (unsigned long long)g.seed,
	       (unsigned long long)g.max_calls,
	       stress ? FULL_SECS : debug ? DEBUG_SECS : SHORT_SECS,
	       debug ? " (debug kernel)" : "");

	self->fd = kt_open();
	ASSERT_LE(0, self->fd) TH_LOG("open: %s", strerror(-self->fd));
	ASSERT_RET(0, kt_kevents_off(self->fd));
	ASSERT_RET(0, kt_restore_defaults(self->fd));
	for (i = 0; i < NR_EV; i++) {
		int64_t id = kt_register(self->fd, evdef[i].kind, evdef[i].slots,
					 evdef[i].name);

		ASSERT_LT(0, id) TH_LOG("%s: %s", evdef[i].name, strerror(-id));
		g.ev[i] = id;
	}
	for (i = 0; i < NR_FDS; i++) {
		g.fds[i] = kt_open();
		ASSERT_LE(0, g.fds[i]);
	}

	/* Read-only: a valid batch of 4 GAUGE ops at +64, pointing at them. */
	ro = xmmap(g.ps, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, ro);
	b = (void *)ro;
	b->size = sizeof(*b);
	b->ops = (uintptr_t)(ro + 64);
	b->count = 4;
	b->op_size = sizeof(*op);
	for (i = 0; i < 4; i++) {
		op = (void *)(ro + 64 + i * sizeof(*op));
		*op = kt_mkop(KTRACER_OP_GAUGE, g.ev[EV_GAUGE], 0, i);
	}
	ASSERT_EQ(0, mprotect(ro, g.ps, PROT_READ));
	g.ro = ro;
	g.none = xmmap(g.ps, PROT_NONE);
	ASSERT_NE(NULL, g.none);
	for (i = 0; i < NR_WORKERS + 2; i++) {
		self->w[i] = wctx_new(i);
		ASSERT_NE(NULL, self->w[i]);
	}
}

FIXTURE_TEARDOWN(fuzz)
{
	int i;

	for (i = 0; i < NR_FDS; i++)
		if (g.fds[i] > 0)
			close(g.fds[i]);
	if (self->fd >= 0)
		EXPECT_EQ(0, kt_close_restored(self->fd));
}

TEST_F_TIMEOUT(fuzz, ioctls, FULL_SECS + 200)
{
	pthread_t th[NR_WORKERS + 2];
	struct kt_stats st[KT_MAX_CPUS];
	uint64_t t0 = kt_now(), t;
	unsigned int shown = 0;
	int i;

	ASSERT_GE(KT_MAX_CPUS, g.nr_cpus);
	for (i = 0; i < NR_WORKERS; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, worker, self->w[i]));
	ASSERT_EQ(0, pthread_create(&th[i], NULL, mapper, self->w[i]));
	i++;
	ASSERT_EQ(0, pthread_create(&th[i], NULL, consumer, self->w[i]));
	/* The last tenth: no RESET or resize, so that the counters add up. */
	while (atomic_load(&g.calls) < g.max_calls && kt_now() < g.deadline &&
	       atomic_load(&g.failures) < MAX_FAIL_PRINTS) {
		if (atomic_load(&g.calls) >= g.max_calls / 10 * 9 ||
		    kt_now() >= g.deadline - (g.deadline - t0) / 10)
			atomic_store(&g.calm, true);
		usleep(20000);
		/* A long run says how far it got, once a minute. */
		if (kt_now() - t0 >= (shown + 1) * 60 * KT_NSEC_PER_SEC) {
			shown++;
			printf("# fuzz: %llu calls after %u min\n",
			       (unsigned long long)atomic_load(&g.calls), shown);
			fflush(stdout);
		}
	}
	atomic_store(&g.stop, true);
	for (i = 0; i < NR_WORKERS + 2; i++)
		pthread_join(th[i], NULL);
	t = kt_now() - t0;

	printf("# fuzz: %llu calls in %.1f s (%.0f/s), %llu records consumed\n",
	       (unsigned long long)atomic_load(&g.calls), t / 1e9,
	       atomic_load(&g.calls) / (t / 1e9),
	       (unsigned long long)atomic_load(&g.consumed));
	print_histogram();
	EXPECT_EQ(0, atomic_load(&g.failures));

	/* Every writer stopped: the files' spans closed, no kernel source. */
	for (i = 0; i < NR_FDS; i++) {
		close(g.fds[i]);
		g.fds[i] = -1;
	}
	ASSERT_RET(0, kt_kevents_off(self->fd));
	ASSERT_RET(0, kt_stats_read(st, g.nr_cpus));
	for (i = 0; i < g.nr_cpus; i++) {
		printf("# fuzz: cpu%d written %llu read %llu lost %llu overwritten %llu unread %llu tail_resets %llu\n",
		       i, st[i].written, st[i].read, st[i].lost,
		       st[i].overwritten, st[i].unread, st[i].tail_resets);
		EXPECT_TRUE(kt_stats_balanced(&st[i])) TH_LOG("cpu %d", i);
	}
}

TEST_HARNESS_MAIN
