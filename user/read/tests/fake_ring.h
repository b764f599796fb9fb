/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A CPU buffer in memory, written as ktracer.ko writes its own: records
 * reserved at head, PAD to the end of the data when a record does not
 * fit there, LOST records for what a full buffer dropped (DISCARD), the
 * oldest records freed with a cmpxchg of the reader's tail (OVERWRITE),
 * head published with a release store, meta counters kept. The reader
 * under test (ring.c) consumes it through the same pointers as a real
 * mapping. Used by the tests and by the benchmark.
 */
#ifndef KU_FAKE_RING_H
#define KU_FAKE_RING_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "ring.h"

struct fake_ring {
	struct ktracer_reader *reader;
	struct ktracer_meta *meta;
	unsigned char *data;
	uint64_t size;
	uint64_t head;			/* the writer's, published to meta */
	uint64_t lost_pending;
	uint32_t *mode;
	struct kr_ring ring;		/* the reader's side of it */
};

static inline int fake_init(struct fake_ring *f, unsigned int cpu,
			    uint64_t size, uint32_t *mode)
{
	memset(f, 0, sizeof(*f));
	f->reader = calloc(1, 4096);
	f->meta = calloc(1, 4096);
	f->data = aligned_alloc(4096, size);
	if (!f->reader || !f->meta || !f->data)
		return -1;
	memset(f->data, 0, size);
	f->size = size;
	f->mode = mode;
	f->meta->magic = KTRACER_META_MAGIC;
	f->meta->cpu = cpu;
	f->meta->data_size = size;
	kr_ring_init(&f->ring, cpu, f->reader, f->meta, f->data, size);
	return 0;
}

static inline void fake_free(struct fake_ring *f)
{
	free(f->reader);
	free(f->meta);
	free(f->data);
	memset(f, 0, sizeof(*f));
}

static inline bool fake_counts(const struct ktracer_record *r)
{
	return r->type != KTRACER_REC_PAD && r->type != KTRACER_REC_LOST;
}

/* OVERWRITE: free the oldest records until [tail, @new) fits ([K3]). */
static inline bool fake_overwrite(struct fake_ring *f, uint64_t new)
{
	__u64 tail;
	uint64_t t, freed;
	const struct ktracer_record *r;

	for (int tries = 0; tries < 16; tries++) {
		tail = __atomic_load_n(&f->reader->tail, __ATOMIC_ACQUIRE);
		if (new - tail <= f->size)
			return true;
		freed = 0;
		for (t = tail; new - t > f->size; t += r->size) {
			if (t >= f->head)
				return false;
			r = (const void *)(f->data + (t & (f->size - 1)));
			freed += fake_counts(r);
		}
		if (__atomic_compare_exchange_n(&f->reader->tail,
						&tail, t, false,
						__ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST)) {
			f->meta->overwritten += freed;
			return true;
		}
	}
	return false;
}

static inline void fake_publish(struct fake_ring *f)
{
	/* [K2] */
	__atomic_store_n(&f->meta->head, f->head, __ATOMIC_RELEASE);
}

/*
 * Write @h (its size, len set by this call from @len) and @msg; publish
 * now if @publish. False if it was dropped (DISCARD, full).
 */
static inline bool fake_write(struct fake_ring *f,
			      const struct ktracer_record *h, const void *msg,
			      uint32_t len, bool publish)
{
	uint32_t size = KR_REC_HDR + ((len + 7) & ~7u);
	uint64_t lost = f->lost_pending;
	uint64_t need = size + (lost ? KR_REC_HDR : 0);
	uint64_t off = f->head & (f->size - 1);
	uint64_t pad = off + need > f->size ? f->size - off : 0;
	uint64_t new = f->head + pad + need, tail;
	struct ktracer_record *r;

	f->meta->written++;
	if (*f->mode == KTRACER_MODE_OVERWRITE) {
		if (!fake_overwrite(f, new))
			goto drop;
	} else {
		tail = __atomic_load_n(&f->reader->tail, __ATOMIC_ACQUIRE);
		if (new - tail > f->size)
			goto drop;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);	/* [K1] */
	}
	if (pad) {
		r = (void *)(f->data + off);
		memset(r, 0, pad);
		r->size = (uint16_t)pad;
		r->type = KTRACER_REC_PAD;
	}
	r = (void *)(f->data + ((f->head + pad) & (f->size - 1)));
	if (lost) {
		memset(r, 0, KR_REC_HDR);
		r->size = KR_REC_HDR;
		r->type = KTRACER_REC_LOST;
		r->ts = h->ts;
		r->arg = lost;
		r++;
		f->lost_pending = 0;
	}
	memcpy(r, h, KR_REC_HDR);
	r->size = (uint16_t)size;
	r->len = len;
	if (len) {
		memset((unsigned char *)(r + 1) + len, 0, size - KR_REC_HDR - len);
		memcpy(r + 1, msg, len);
	}
	f->meta->bytes += size;
	f->head = new;
	if (publish)
		fake_publish(f);
	return true;
drop:
	f->meta->lost++;
	f->lost_pending++;
	return false;
}

/* A record header, for fake_write. */
static inline struct ktracer_record fake_rec(uint8_t type, uint32_t event,
					     uint64_t ts, uint32_t pid,
					     uint32_t tid, uint32_t slot,
					     uint64_t arg, uint64_t extra)
{
	struct ktracer_record r = {
		.type = type, .event = event, .ts = ts, .pid = pid,
		.tid = tid, .slot = slot, .arg = arg, .extra = extra,
	};

	return r;
}

#endif /* KU_FAKE_RING_H */
