// SPDX-License-Identifier: GPL-2.0
/*
 * ktracer-read: consuming one CPU's buffer. The barriers are the ones
 * uapi/linux/ktracer.h names, "The head/tail protocol":
 *
 *  [R1] head is loaded with acquire, pairing with the kernel's release of
 *       it [K2]: the records before head are there to be read.
 *  [R4] OVERWRITE: the kernel may free and rewrite records under us, moving
 *       the tail first with a cmpxchg [K3]. We copy first, then consume
 *       with a compare-and-exchange from the tail we copied at: if it
 *       fails, the copy may be torn and is dropped. One cmpxchg covers a
 *       run of records: while the tail stayed where we read it, the kernel
 *       freed none of them.
 *
 * We consume that way in DISCARD mode too, rather than with [R3]'s plain
 * store-release: root may switch the mode while we copy, and a switch to
 * OVERWRITE can free the very records we are copying. In DISCARD the
 * kernel never moves the tail, so the cmpxchg always succeeds; it costs
 * one locked instruction per run of records, and its full barrier orders
 * our copy before the tail's move as [R3]'s release would, pairing with
 * the kernel's [K1].
 *
 * Records are copied out in runs, straight into the CPU's FIFO, then
 * walked: the walk frames every record, counts it, and turns a record it
 * cannot use into a PAD of the same size in our copy, so that nothing
 * after it gives it out.
 */

#include <inttypes.h>
#include <stdarg.h>

#include "ring.h"

/* A bound on retries of one pull, should the kernel keep freeing. */
#define KR_PULL_TRIES	64
/*
 * Bytes consumed at most per pull: the merge then takes them while they
 * are still in the cache, before the next CPU's are copied.
 */
#define KR_PULL_MAX	(64u << 10)
/* Messages one ring writes to its log; then it only counts. */
#define KR_REPORTS_MAX	8

void kr_ring_init(struct kr_ring *r, unsigned int cpu,
		  struct ktracer_reader *reader,
		  const struct ktracer_meta *meta, const unsigned char *data,
		  uint64_t data_size)
{
	memset(r, 0, sizeof(*r));
	r->cpu = cpu;
	r->reader = reader;
	r->meta = meta;
	r->data = data;
	r->data_size = data_size;
	r->overwritten_seen = __atomic_load_n(&meta->overwritten,
					      __ATOMIC_RELAXED);
	r->lost_base = __atomic_load_n(&meta->lost, __ATOMIC_RELAXED);
}

__attribute__((format(printf, 2, 3)))
static void kr_ring_report(struct kr_ring *r, const char *fmt, ...)
{
	va_list ap;

	if (!r->log || r->reports >= KR_REPORTS_MAX)
		return;
	r->reports++;
	fprintf(r->log, "ktracer-read: cpu %u: ", r->cpu);
	va_start(ap, fmt);
	vfprintf(r->log, fmt, ap);
	va_end(ap);
	if (r->reports == KR_REPORTS_MAX)
		fputs(" (further problems on this CPU are only counted)", r->log);
	fputc('\n', r->log);
}

uint64_t kr_ring_unread(const struct kr_ring *r)
{
	/* [R1] */
	uint64_t head = __atomic_load_n(&r->meta->head, __ATOMIC_ACQUIRE);

	return head - __atomic_load_n(&r->reader->tail, __ATOMIC_ACQUIRE);
}

/* Copy [pos, pos + len) of the data, which may wrap around its end. */
static void kr_copy(const struct kr_ring *r, unsigned char *dst, uint64_t pos,
		    size_t len)
{
	size_t off = (size_t)(pos & (r->data_size - 1));
	size_t first = len < r->data_size - off ? len : r->data_size - off;

	memcpy(dst, r->data + off, first);
	if (first < len)
		memcpy(dst + first, r->data, len - first);
}

struct kr_walk {
	size_t end;		/* bytes of whole records from the start */
	uint64_t records, pads, losts, lost;
	uint64_t first_ts;	/* of the first record but PAD; 0: none */
	const char *bad;	/* why the walk stopped short, if it did */
};

/*
 * Walk the copy @p of [pos, pos + len); @at_head: pos + len is the head,
 * so a record running past it is corrupt rather than cut by our room.
 */
static void kr_walk(struct kr_ring *r, unsigned char *p, size_t len,
		    uint64_t pos, int at_head, struct kr_walk *w)
{
	struct ktracer_record *rec;
	enum kr_why why;
	uint32_t size;
	size_t off = 0;

	memset(w, 0, sizeof(*w));
	while (off < len) {
		switch (kr_frame(p + off, len - off, &size)) {
		case KR_FRAME_BAD:
			w->bad = "size not a multiple of 8";
			goto out;
		case KR_FRAME_CUT:
			if (at_head)
				w->bad = "record runs past head";
			goto out;
		case KR_FRAME_OK:
			break;
		}
		if (((pos + off) & (r->data_size - 1)) + size > r->data_size) {
			w->bad = "record runs past the end of the data";
			goto out;
		}
		rec = (struct ktracer_record *)(p + off);
		if (size >= KR_REC_HDR)
			rec->flags &= ~KR_RECF_READER;
		why = kr_rec_check(rec);
		if (rec->type == KTRACER_REC_PAD || why != KR_OK) {
			if (why != KR_OK) {
				r->st.skipped[why]++;
				rec->type = KTRACER_REC_PAD;
			} else {
				w->pads++;
			}
		} else if (rec->type == KTRACER_REC_LOST) {
			w->losts++;
			w->lost = w->lost + rec->arg < w->lost ?
				  UINT64_MAX : w->lost + rec->arg;
		} else {
			w->records++;
		}
		if (rec->type != KTRACER_REC_PAD && !w->first_ts)
			w->first_ts = rec->ts;
		off += size;
	}
out:
	w->end = off;
}

/* Put a LOST record of the reader's own at @p. */
static void kr_put_lost(unsigned char *p, uint8_t flags, uint64_t n,
			uint64_t ts)
{
	struct ktracer_record rec = {
		.size = KR_REC_HDR, .type = KTRACER_REC_LOST, .flags = flags,
		.ts = ts, .arg = n,
	};

	memcpy(p, &rec, sizeof(rec));
}

static uint64_t kr_sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

/* Give up on [tail, head): move the tail to head and say so. */
static void kr_resync(struct kr_ring *r, struct kr_fifo *q, uint64_t tail,
		      uint64_t head, uint64_t now, const char *why)
{
	__u64 cur = tail;
	uint64_t skipped = head - tail;
	unsigned char *p;
	size_t room;

	if (!__atomic_compare_exchange_n(&r->reader->tail, &cur, head, 0,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return;		/* the kernel moved it: try again */
	r->st.resyncs++;
	r->st.resync_bytes = kr_sat_add(r->st.resync_bytes, skipped);
	kr_ring_report(r, "%s at offset %" PRIu64 " (tail %" PRIu64
		       ", head %" PRIu64 ", data_size %" PRIu64
		       "): skipped %" PRIu64 " bytes",
		       why, tail & (r->data_size - 1), tail, head,
		       r->data_size, skipped);
	p = kr_fifo_space(q, &room);
	if (room >= KR_REC_HDR) {
		kr_put_lost(p, KR_RECF_CORRUPT, skipped,
			    q->last_ts > now ? q->last_ts : now);
		kr_fifo_commit(q, KR_REC_HDR);
	}
}

/*
 * OVERWRITE: records the kernel freed unread since we last looked, told
 * by a LOST of our own before what we read next.
 */
static uint64_t kr_overwritten(const struct kr_ring *r)
{
	return __atomic_load_n(&r->meta->overwritten, __ATOMIC_RELAXED) -
	       r->overwritten_seen;
}

uint64_t kr_ring_pull(struct kr_ring *r, struct kr_fifo *q, uint64_t now)
{
	uint64_t consumed = 0, tail, head, avail, ow;
	__u64 cur;
	unsigned int tries = 0;
	struct kr_walk w;
	unsigned char *p;
	size_t room, len, pre;

	q->drained = false;
	while (tries++ < KR_PULL_TRIES) {
		tail = __atomic_load_n(&r->reader->tail, __ATOMIC_ACQUIRE);
		/* [R1] pairs with the kernel's [K2] */
		head = __atomic_load_n(&r->meta->head, __ATOMIC_ACQUIRE);
		if (tail == head) {
			q->drained = true;
			break;
		}
		if (tail > head || tail % 8 || head - tail > r->data_size) {
			if (head - tail > r->data_size &&
			    __atomic_load_n(&r->reader->tail,
					    __ATOMIC_SEQ_CST) != tail)
				continue;	/* it moved as we looked */
			kr_resync(r, q, tail, head, now,
				  tail > head ? "tail ahead of head" :
				  tail % 8 ? "tail not a multiple of 8" :
				  "more than data_size unread");
			continue;
		}
		if (consumed >= KR_PULL_MAX)
			break;		/* enough for now: merge, then more */
		p = kr_fifo_space(q, &room);
		if (!room)
			break;		/* full: the merge must make room */
		if (room > KR_PULL_MAX)
			room = KR_PULL_MAX;
		ow = kr_overwritten(r);
		pre = ow ? KR_REC_HDR : 0;
		avail = head - tail;
		len = room - pre < avail ? (room - pre) & ~(size_t)7 : avail;
		kr_copy(r, p + pre, tail, len);
		kr_walk(r, p + pre, len, tail, len == avail, &w);

		cur = tail;
		/* [R4] pairs with the kernel's [K3], and in DISCARD [K1] */
		if (!__atomic_compare_exchange_n(&r->reader->tail, &cur,
						 tail + w.end, 0,
						 __ATOMIC_SEQ_CST,
						 __ATOMIC_SEQ_CST)) {
			r->st.retries++;
			continue;	/* the copy may be torn */
		}
		if (!w.end && !w.bad)
			break;	/* a record larger than the room: merge first */
		if (pre) {
			kr_put_lost(p, KR_RECF_OVERWRITTEN, ow,
				    w.first_ts ? w.first_ts : now);
			r->overwritten_seen += ow;
			r->st.overwritten = kr_sat_add(r->st.overwritten, ow);
		}
		kr_fifo_commit(q, pre + w.end);
		__atomic_store_n(&r->reader->read, r->reader->read + w.records,
				 __ATOMIC_RELAXED);
		r->st.records += w.records;
		r->st.pads += w.pads;
		r->st.losts += w.losts;
		r->st.lost = kr_sat_add(r->st.lost, w.lost);
		consumed += w.end;
		if (w.bad) {
			/*
			 * OVERWRITE: a copy taken while the kernel rewrote
			 * the data looks corrupt; only a tail it did not move
			 * proves it is.
			 */
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			cur = __atomic_load_n(&r->reader->tail,
					      __ATOMIC_SEQ_CST);
			if (cur != tail + w.end) {
				r->st.retries++;
				continue;
			}
			kr_resync(r, q, tail + w.end, head, now, w.bad);
			continue;
		}
		if (w.end == avail) {
			q->drained = true;
			break;
		}
	}
	q->fill_ts = now;
	return consumed;
}

void kr_ring_finish(struct kr_ring *r, struct kr_fifo *q, uint64_t ts)
{
	uint64_t lost = __atomic_load_n(&r->meta->lost, __ATOMIC_RELAXED) -
			r->lost_base;
	uint64_t ow = kr_overwritten(r);
	unsigned char *p;
	size_t room;

	/*
	 * Drops before we began whose LOST we read make the stream tell more
	 * than the difference: then nothing is missing.
	 */
	if (lost > r->st.lost) {
		p = kr_fifo_space(q, &room);
		if (room < KR_REC_HDR)
			return;
		lost -= r->st.lost;
		kr_put_lost(p, 0, lost, ts);
		kr_fifo_commit(q, KR_REC_HDR);
		r->st.losts++;
		r->st.lost = kr_sat_add(r->st.lost, lost);
	}
	/* Mode OVERWRITE: freed after the last record we read. */
	if (ow) {
		p = kr_fifo_space(q, &room);
		if (room < KR_REC_HDR)
			return;
		kr_put_lost(p, KR_RECF_OVERWRITTEN, ow, ts);
		kr_fifo_commit(q, KR_REC_HDR);
		r->overwritten_seen += ow;
		r->st.overwritten = kr_sat_add(r->st.overwritten, ow);
	}
}
