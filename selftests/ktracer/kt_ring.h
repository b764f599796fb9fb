/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A reader of ktracer's per-CPU buffers that follows the head/tail
 * protocol of uapi/linux/ktracer.h to the letter, and checks every record
 * it consumes.
 *
 * A test maps every CPU's buffer (kt_rings_map), does its work, then
 * consumes what was recorded (kt_rings_consume or kt_collect). A record
 * that breaks the documented format makes the consumer print what it
 * found and return -EBADMSG.
 */
#ifndef KT_RING_H
#define KT_RING_H

#include <stdbool.h>

#include "kt_test.h"

#define KT_REC_HDR	((uint32_t)sizeof(struct ktracer_record))
#define KT_REC_MAX	(KT_REC_HDR + KTRACER_LOG_MAX)

struct kt_ring {
	int cpu;
	size_t page_size;
	uint64_t data_size;
	size_t meta_len;
	const struct ktracer_state *state;
	struct ktracer_reader *reader;		/* the one writable page */
	const struct ktracer_meta *meta;	/* meta page, then the data */
	const unsigned char *data;
	/* What this reader consumed so far. */
	uint64_t records;	/* neither PAD nor LOST: counted in read */
	uint64_t pads;
	uint64_t losts;		/* LOST records... */
	uint64_t lost_sum;	/* ...and the sum of their arg */
	uint64_t retries;	/* OVERWRITE: copies dropped, tail moved */
	uint64_t next;		/* the tail this reader left behind */
	uint64_t skips;		/* times the kernel had moved it since */
	uint64_t by_type[KTRACER_REC_SWITCH + 1];	/* consumed, PAD and LOST too */
	uint64_t kernel;	/* consumed with KTRACER_RECF_KERNEL */
	/*
	 * Consume as OVERWRITE's protocol says whatever the mode: for a
	 * reader that may see the mode switched while it reads.
	 */
	bool cas;
};

/* One consumed record, copied out of the buffer. */
struct kt_rec {
	struct ktracer_record hdr;
	unsigned char msg[KTRACER_LOG_MAX + 1];	/* hdr.len bytes, then NUL */
	int cpu;
	uint64_t pos;		/* where it started: its tail */
	uint64_t skips;		/* its ring's skips when it was consumed */
};

/* Called once per consumed record but PAD; returns 0, or -errno to stop. */
typedef int (*kt_rec_fn)(void *ctx, const struct kt_rec *rec);

static inline int kt_ring_map(int fd, const struct ktracer_state *st,
			      int cpu, struct kt_ring *r)
{
	size_t ps = st->page_size;
	off_t base = (off_t)(1 + (uint64_t)cpu * st->cpu_pages) * ps;
	void *p;

	memset(r, 0, sizeof(*r));
	r->cpu = cpu;
	r->state = st;
	r->page_size = ps;
	r->data_size = st->data_size;
	if (st->cpu_pages != 2 + st->data_size / ps)
		return -EPROTO;
	r->meta_len = (st->cpu_pages - 1) * ps;
	p = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, base);
	if (p == MAP_FAILED)
		return -errno;
	r->reader = p;
	p = mmap(NULL, r->meta_len, PROT_READ, MAP_SHARED, fd, base + ps);
	if (p == MAP_FAILED) {
		int err = -errno;

		munmap(r->reader, ps);
		r->reader = NULL;
		return err;
	}
	r->meta = p;
	r->data = (const unsigned char *)p + ps;
	r->next = __atomic_load_n(&r->reader->tail, __ATOMIC_ACQUIRE);
	return 0;
}

static inline void kt_ring_unmap(struct kt_ring *r)
{
	if (r->meta)
		munmap((void *)r->meta, r->meta_len);
	if (r->reader)
		munmap(r->reader, r->page_size);
	r->meta = NULL;
	r->reader = NULL;
}

static inline uint64_t kt_ring_unread(const struct kt_ring *r)
{
	return __atomic_load_n(&r->meta->head, __ATOMIC_ACQUIRE) -
	       __atomic_load_n(&r->reader->tail, __ATOMIC_ACQUIRE);
}

static inline const char *kt_rec_type_name(unsigned int type)
{
	static const char *const names[] = {
		"?", "PAD", "LOST", "START", "STOP", "CANCEL", "GAUGE",
		"COUNT", "LOG", "SWITCH",
	};

	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "?";
}

/*
 * The shape of a kernel source's record (uapi/linux/ktracer.h, "Kernel
 * events"): NULL if @h is one the table allows in CPU @r->cpu's buffer,
 * else what is wrong with it. Spans on a CPU use it as their slot.
 */
static inline const char *kt_kev_shape(const struct kt_ring *r,
				       const struct ktracer_record *h)
{
	bool span = h->type == KTRACER_REC_START || h->type == KTRACER_REC_STOP;
	bool on_cpu = h->event == KTRACER_KEV_RUNNING ||
		      h->event == KTRACER_KEV_IRQ ||
		      h->event == KTRACER_KEV_SOFTIRQ;

	if (h->flags & (KTRACER_RECF_USER_TS | KTRACER_RECF_CLOSE))
		return "USER_TS or CLOSE on a kernel record";
	if (h->type == KTRACER_REC_SWITCH) {
		if (h->event != KTRACER_KEV_RUNNING)
			return "a SWITCH of another event than sched.running";
		if (h->slot != (uint32_t)r->cpu)
			return "a SWITCH whose slot is not the CPU";
		if (h->len != sizeof(struct ktracer_switch))
			return "a SWITCH without its struct ktracer_switch";
		if (!h->tid || !(uint32_t)h->arg || !(h->arg >> 32))
			return "a SWITCH from or to the idle task";
		return NULL;
	}
	switch (h->event) {
	case KTRACER_KEV_RUNNING:
	case KTRACER_KEV_IRQ:
	case KTRACER_KEV_SOFTIRQ:
	case KTRACER_KEV_SYSCALL:
	case KTRACER_KEV_BLOCK:
		if (!span)
			return "a kernel span's record neither START nor STOP";
		break;
	default:
		if (h->type != KTRACER_REC_LOG)
			return "a kernel instant that is not a LOG";
		if (h->slot)
			return "a kernel instant with a slot";
		if (!h->len || h->len > KTRACER_COMM_MAX)
			return "a kernel instant without its comm";
		if (h->event == KTRACER_KEV_WAKEUP && h->extra >= r->state->nr_cpus)
			return "sched.wakeup to a CPU that does not exist";
		return NULL;
	}
	if (on_cpu && h->slot != (uint32_t)r->cpu)
		return "a span on a CPU whose slot is not the CPU";
	if (h->event == KTRACER_KEV_SYSCALL && (h->slot || h->extra))
		return "syscall with a slot or an extra";
	if (h->event == KTRACER_KEV_BLOCK) {
		if (h->slot >= KTRACER_BLOCK_INFLIGHT)
			return "block.rq slot past the in-flight table";
		if (h->len != sizeof(struct ktracer_block))
			return "block.rq without its struct ktracer_block";
		return NULL;
	}
	if (h->event == KTRACER_KEV_SOFTIRQ && h->arg > 9)
		return "softirq of a vector above 9";
	if (h->type == KTRACER_REC_STOP)
		return h->len ? "a kernel STOP with a message" : NULL;
	switch (h->event) {
	case KTRACER_KEV_RUNNING:
		if (h->arg > 139)
			return "sched.running START with a prio above 139";
		if (!h->len || h->len > KTRACER_COMM_MAX)
			return "sched.running START without its comm";
		return NULL;
	case KTRACER_KEV_IRQ:
		return h->len ? NULL : "irq START without its handler's name";
	default:
		return h->len ? "a kernel START with a message it has none of" :
				NULL;
	}
}

/* A SWITCH's message (its header is checked): NULL, or what is wrong. */
static inline const char *kt_switch_shape(const struct kt_rec *rec)
{
	struct ktracer_switch sw;

	memcpy(&sw, rec->msg, sizeof(sw));
	if (sw.next_prio > 139)
		return "a SWITCH to a prio above 139";
	if (!sw.next_comm[0])
		return "a SWITCH without next's comm";
	return NULL;
}

/*
 * A SWITCH @sw as the two records it stands for (uapi/linux/ktracer.h,
 * "The SWITCH record"): prev's STOP into @stop, next's START into @start,
 * both where @sw was.
 */
static inline void kt_switch_split(const struct kt_rec *sw, struct kt_rec *stop,
				   struct kt_rec *start)
{
	struct ktracer_switch s;
	size_t len;

	memcpy(&s, sw->msg, sizeof(s));
	*stop = *sw;
	memset(stop->msg, 0, sizeof(stop->msg));
	stop->hdr.type = KTRACER_REC_STOP;
	stop->hdr.pid = sw->hdr.arg >> 32;
	stop->hdr.tid = (uint32_t)sw->hdr.arg;
	stop->hdr.arg = s.prev_state;
	stop->hdr.len = 0;
	stop->hdr.size = KT_REC_HDR;
	*start = *sw;
	memset(start->msg, 0, sizeof(start->msg));
	len = strnlen(s.next_comm, sizeof(s.next_comm));
	memcpy(start->msg, s.next_comm, len);
	start->hdr.type = KTRACER_REC_START;
	start->hdr.arg = s.next_prio;
	start->hdr.extra = 0;
	start->hdr.len = len;
	start->hdr.size = KT_REC_HDR + ((len + 7) & ~7u);
}

/*
 * Copy the record at @pos into @rec and check it against the format.
 * NULL if it is well formed, else what is wrong with it.
 */
static inline const char *kt_rec_copy(const struct kt_ring *r, uint64_t pos,
				      uint64_t head, struct kt_rec *rec)
{
	uint64_t off = pos & (r->data_size - 1);
	const struct ktracer_record *h = &rec->hdr;
	uint32_t i, padded;
	const char *why;

	memset(rec, 0, sizeof(*rec));
	rec->cpu = r->cpu;
	rec->pos = pos;
	/* size, type, flags and event: all a short PAD record has. */
	memcpy(&rec->hdr, r->data + off, 8);
	if (h->size < 8 || h->size % 8)
		return "size not a multiple of 8";
	if (off + h->size > r->data_size)
		return "record runs past the end of the data";
	if (pos + h->size > head)
		return "record runs past head";
	if (h->type == KTRACER_REC_PAD) {
		/* A batch leaves whole records' worth, the end any size. */
		if (off + h->size != r->data_size && h->size % KT_REC_HDR)
			return "PAD not up to the end of the data nor of whole records";
		if (h->flags || h->event)
			return "PAD with flags or event";
		return NULL;
	}
	if (h->size < KT_REC_HDR)
		return "record shorter than its header";
	memcpy(&rec->hdr, r->data + off, KT_REC_HDR);
	if (h->type < KTRACER_REC_LOST || h->type > KTRACER_REC_SWITCH)
		return "unknown type";
	if (h->type == KTRACER_REC_SWITCH && !(h->flags & KTRACER_RECF_KERNEL))
		return "a SWITCH not from the kernel";
	if (h->flags & ~(KTRACER_RECF_USER_TS | KTRACER_RECF_CLOSE |
			 KTRACER_RECF_KERNEL | KTRACER_RECF_REGION))
		return "unknown flags";
	if ((h->flags & KTRACER_RECF_CLOSE) && h->type != KTRACER_REC_CANCEL)
		return "CLOSE flag on a record other than CANCEL";
	if ((h->flags & KTRACER_RECF_REGION) &&
	    (h->type < KTRACER_REC_START || h->type > KTRACER_REC_CANCEL ||
	     h->flags & KTRACER_RECF_KERNEL))
		return "REGION flag on a record other than a program's span";
	if ((h->type == KTRACER_REC_LOST) != (h->event == 0))
		return "event 0 on a record other than LOST, or LOST with one";
	if (!(h->flags & KTRACER_RECF_KERNEL) !=
	    (h->event == 0 || h->event > KTRACER_KEV_LAST))
		return "KERNEL flag on a user event, or a kernel event without it";
	if (h->flags & KTRACER_RECF_KERNEL) {
		why = kt_kev_shape(r, h);
		if (why)
			return why;
	} else if (h->type == KTRACER_REC_START) {
		if (h->len > KTRACER_TEXT_MAX)
			return "START text len out of range";
	} else if ((h->type == KTRACER_REC_LOG) != (h->len != 0)) {
		return h->len ? "len on a record other than LOG or START" :
				"LOG without a message";
	}
	if (!h->len)
		return h->size == KT_REC_HDR ? NULL : "size is not the header's";
	if (h->len > KTRACER_LOG_MAX)
		return "message len out of range";
	padded = (h->len + 7) & ~7u;
	if (h->size != KT_REC_HDR + padded)
		return "size does not match the message's len";
	memcpy(rec->msg, r->data + off + KT_REC_HDR, padded);
	for (i = h->len; i < padded; i++)
		if (rec->msg[i])
			return "message not padded with zeros";
	rec->msg[h->len] = '\0';
	if (h->type == KTRACER_REC_SWITCH)
		return kt_switch_shape(rec);
	/* A comm or an irq handler's name: text, without its NUL. */
	if ((h->flags & KTRACER_RECF_KERNEL) && h->event != KTRACER_KEV_BLOCK &&
	    strlen((const char *)rec->msg) != h->len)
		return "NUL in a kernel record's comm or name";
	return NULL;
}

static inline void kt_rec_dump(const struct kt_ring *r, uint64_t pos,
			       uint64_t tail, uint64_t head, const char *why)
{
	const unsigned char *p = r->data + (pos & (r->data_size - 1));
	uint64_t left = r->data_size - (pos & (r->data_size - 1));
	unsigned int i;

	fprintf(stderr, "# ktracer cpu %d: bad record at %llu (tail %llu head %llu data_size %llu): %s\n#  ",
		r->cpu, (unsigned long long)pos, (unsigned long long)tail,
		(unsigned long long)head, (unsigned long long)r->data_size,
		why);
	for (i = 0; i < KT_REC_HDR && i < left; i++)
		fprintf(stderr, "%02x%s", p[i], i % 8 == 7 ? " " : "");
	fprintf(stderr, "\n");
}

/*
 * Consume every record of @r in [tail, head): the protocol's reader side,
 * for the mode the state page shows. Returns the number of records counted
 * in reader->read (neither PAD nor LOST); -EBADMSG on a malformed record
 * or an impossible head/tail; or the -errno @fn returned.
 */
static inline int64_t kt_ring_consume(struct kt_ring *r, kt_rec_fn fn,
				      void *ctx)
{
	bool overwrite = r->cas ||
			 __atomic_load_n(&r->state->mode, __ATOMIC_RELAXED) ==
			 KTRACER_MODE_OVERWRITE;
	int64_t n = 0;
	struct kt_rec rec;

	for (;;) {
		uint64_t tail, head, cur;
		const char *why;
		int ret;

		/* The reader owns the tail, but OVERWRITE moves it too. */
		tail = __atomic_load_n(&r->reader->tail, __ATOMIC_ACQUIRE);
		/* [R1] pairs with the kernel's [K2] */
		head = __atomic_load_n(&r->meta->head, __ATOMIC_ACQUIRE);
		/*
		 * Records between the tail this reader left and the one it
		 * finds were freed unread (OVERWRITE; DISCARD never moves it).
		 */
		if (tail != r->next) {
			r->skips++;
			r->next = tail;
		}
		if (tail == head)
			return n;
		why = NULL;
		if (tail > head)
			why = "tail ahead of head";
		else if (tail % 8)
			why = "tail not a multiple of 8";
		else if (!overwrite && head - tail > r->data_size)
			why = "more than data_size unread";
		if (why) {
			kt_rec_dump(r, tail, tail, head, why);
			return -EBADMSG;
		}

		why = kt_rec_copy(r, tail, head, &rec);
		rec.skips = r->skips;
		if (overwrite) {
			/*
			 * The kernel may have freed and rewritten the record
			 * while it was copied. Only a tail it has not moved
			 * proves the copy whole.
			 */
			if (why) {
				__atomic_thread_fence(__ATOMIC_SEQ_CST);
				cur = __atomic_load_n(&r->reader->tail,
						      __ATOMIC_SEQ_CST);
				if (cur != tail) {
					r->retries++;
					continue;
				}
			} else {
				cur = tail;
				/* [R4] pairs with the kernel's [K3] */
				if (!__atomic_compare_exchange_n(
						&r->reader->tail, &cur,
						tail + rec.hdr.size, false,
						__ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST)) {
					r->retries++;
					continue;
				}
			}
		}
		if (why) {
			kt_rec_dump(r, tail, tail, head, why);
			return -EBADMSG;
		}
		if (!overwrite)
			/* [R3] pairs with the kernel's [K1] */
			__atomic_store_n(&r->reader->tail, tail + rec.hdr.size,
					 __ATOMIC_RELEASE);
		r->next = tail + rec.hdr.size;
		r->by_type[rec.hdr.type]++;
		r->kernel += !!(rec.hdr.flags & KTRACER_RECF_KERNEL);

		switch (rec.hdr.type) {
		case KTRACER_REC_PAD:
			r->pads++;
			continue;
		case KTRACER_REC_LOST:
			r->losts++;
			r->lost_sum += rec.hdr.arg;
			break;
		default:
			__atomic_store_n(&r->reader->read,
					 r->reader->read + 1, __ATOMIC_RELAXED);
			r->records++;
			n++;
		}
		if (fn) {
			ret = fn(ctx, &rec);
			if (ret)
				return ret;
		}
	}
}

/*
 * Check the records in [tail, head) of a buffer nobody writes to any more,
 * without consuming them: how many would count in reader->read (neither
 * PAD nor LOST), or -EBADMSG.
 */
static inline int64_t kt_ring_count_unread(const struct kt_ring *r)
{
	uint64_t tail = __atomic_load_n(&r->reader->tail, __ATOMIC_ACQUIRE);
	uint64_t head = __atomic_load_n(&r->meta->head, __ATOMIC_ACQUIRE);
	uint64_t pos;
	struct kt_rec rec;
	const char *why;
	int64_t n = 0;

	if (tail > head || tail % 8 || head - tail > r->data_size) {
		kt_rec_dump(r, tail, tail, head, "impossible tail and head");
		return -EBADMSG;
	}
	for (pos = tail; pos < head; pos += rec.hdr.size) {
		why = kt_rec_copy(r, pos, head, &rec);
		if (why) {
			kt_rec_dump(r, pos, tail, head, why);
			return -EBADMSG;
		}
		n += rec.hdr.type != KTRACER_REC_PAD &&
		     rec.hdr.type != KTRACER_REC_LOST;
	}
	return n;
}

/* Every CPU's buffer, and the state page they are described by. */
struct kt_rings {
	int nr;
	const struct ktracer_state *state;
	struct kt_ring *ring;
};

static inline void kt_rings_unmap(struct kt_rings *rs)
{
	int i;

	for (i = 0; rs->ring && i < rs->nr; i++)
		kt_ring_unmap(&rs->ring[i]);
	free(rs->ring);
	rs->ring = NULL;
	kt_unmap_state(rs->state);
	rs->state = NULL;
	rs->nr = 0;
}

static inline int kt_rings_map(int fd, struct kt_rings *rs)
{
	const struct ktracer_state *st;
	int i, err;

	memset(rs, 0, sizeof(*rs));
	st = kt_map_state(fd);
	if (st == MAP_FAILED)
		return -errno;
	rs->state = st;
	if (st->magic != KTRACER_STATE_MAGIC || st->nr_cpus == 0) {
		kt_rings_unmap(rs);
		return -EPROTO;
	}
	rs->ring = calloc(st->nr_cpus, sizeof(*rs->ring));
	if (!rs->ring) {
		kt_rings_unmap(rs);
		return -ENOMEM;
	}
	rs->nr = st->nr_cpus;
	for (i = 0; i < rs->nr; i++) {
		err = kt_ring_map(fd, st, i, &rs->ring[i]);
		if (err) {
			kt_rings_unmap(rs);
			return err;
		}
	}
	return 0;
}

/* Consume every CPU once, to head. Records counted, or an error. */
static inline int64_t kt_rings_consume(struct kt_rings *rs, kt_rec_fn fn,
				       void *ctx)
{
	int64_t n, total = 0;
	int i;

	for (i = 0; i < rs->nr; i++) {
		n = kt_ring_consume(&rs->ring[i], fn, ctx);
		if (n < 0)
			return n;
		total += n;
	}
	return total;
}

/* Empty every CPU's buffer through the protocol. */
static inline int64_t kt_drain_all(int fd)
{
	struct kt_rings rs;
	int64_t n;
	int err;

	err = kt_rings_map(fd, &rs);
	if (err)
		return err;
	n = kt_rings_consume(&rs, NULL, NULL);
	kt_rings_unmap(&rs);
	return n;
}

/* A growing array of consumed records. */
struct kt_recs {
	struct kt_rec *v;
	size_t n, cap;
	size_t switches;	/* SWITCH records kt_recs_add_split() split */
};

static inline int kt_recs_add(void *ctx, const struct kt_rec *rec)
{
	struct kt_recs *rs = ctx;
	struct kt_rec *v;

	if (rs->n == rs->cap) {
		v = realloc(rs->v, (rs->cap ? rs->cap * 2 : 64) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		rs->v = v;
		rs->cap = rs->cap ? rs->cap * 2 : 64;
	}
	rs->v[rs->n++] = *rec;
	return 0;
}

/*
 * As kt_recs_add(), a SWITCH as the STOP and START it stands for (and
 * counted in rs->switches): for a test of sched.running spans whatever
 * records the kernel writes them with.
 */
static inline int kt_recs_add_split(void *ctx, const struct kt_rec *rec)
{
	struct kt_recs *rs = ctx;
	struct kt_rec stop, start;
	int ret;

	if (rec->hdr.type != KTRACER_REC_SWITCH)
		return kt_recs_add(rs, rec);
	rs->switches++;
	kt_switch_split(rec, &stop, &start);
	ret = kt_recs_add(rs, &stop);
	return ret ? ret : kt_recs_add(rs, &start);
}

static inline void kt_recs_free(struct kt_recs *rs)
{
	free(rs->v);
	memset(rs, 0, sizeof(*rs));
}

/* Consume every CPU into @out (LOST records included, PAD not). */
static inline int64_t kt_collect(struct kt_rings *rs, struct kt_recs *out)
{
	return kt_rings_consume(rs, kt_recs_add, out);
}

/*
 * In a test: empty *@recs, then consume every CPU of @rings into it;
 * a malformed record fails the test.
 */
#define KT_COLLECT(rings, recs) do {					\
	int64_t __kt_n;							\
	kt_recs_free(recs);						\
	__kt_n = kt_collect(rings, recs);				\
	ASSERT_LE(0, __kt_n) TH_LOG("consuming: %s", strerror(-__kt_n));	\
} while (0)

/* The same, each SWITCH as its STOP and START (kt_recs_add_split). */
#define KT_COLLECT_SPLIT(rings, recs) do {				\
	int64_t __kt_n;							\
	kt_recs_free(recs);						\
	__kt_n = kt_rings_consume(rings, kt_recs_add_split, recs);	\
	ASSERT_LE(0, __kt_n) TH_LOG("consuming: %s", strerror(-__kt_n));	\
} while (0)

/* One line of /sys/kernel/debug/ktracer/stats. */
struct kt_stats {
	unsigned long long written, bytes, lost, overwritten, read, unread;
	unsigned long long tail_resets;
};

#define KT_STATS_HEADER "# cpu written bytes lost overwritten read unread tail_resets"

/*
 * Parse the stats file into @out[0..nr-1]: 0, or -EBADMSG if a line is
 * not in the documented format, a CPU is missing or a line is extra.
 */
static inline int kt_stats_read(struct kt_stats *out, int nr)
{
	char *buf = kt_read_file(KT_DEBUGFS "/stats", NULL);
	char *line, *save = NULL;
	int cpu = 0, err = 0;

	if (!buf)
		return -errno;
	line = strtok_r(buf, "\n", &save);
	if (!line || strcmp(line, KT_STATS_HEADER)) {
		fprintf(stderr, "# stats: bad header '%s'\n", line ? line : "");
		free(buf);
		return -EBADMSG;
	}
	while ((line = strtok_r(NULL, "\n", &save))) {
		struct kt_stats s;
		unsigned int c;
		int end = -1;

		if (sscanf(line, "cpu%u written=%llu bytes=%llu lost=%llu overwritten=%llu read=%llu unread=%llu tail_resets=%llu%n",
			   &c, &s.written, &s.bytes, &s.lost, &s.overwritten,
			   &s.read, &s.unread, &s.tail_resets, &end) != 8 ||
		    end != (int)strlen(line) || (int)c != cpu || cpu >= nr) {
			fprintf(stderr, "# stats: bad line '%s'\n", line);
			err = -EBADMSG;
			break;
		}
		out[cpu++] = s;
	}
	if (!err && cpu != nr) {
		fprintf(stderr, "# stats: %d CPUs, want %d\n", cpu, nr);
		err = -EBADMSG;
	}
	free(buf);
	return err;
}

/*
 * The accounting identity of uapi/linux/ktracer.h, for one CPU, at a
 * moment when no writer is mid-record.
 */
static inline bool kt_stats_balanced(const struct kt_stats *s)
{
	return s->written == s->read + s->lost + s->overwritten + s->unread;
}

#endif /* KT_RING_H */
