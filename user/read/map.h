/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktracer-read: a hash map of u64 keys to fixed-size values that never
 * holds more than a set number of entries, so that a reader's memory stays
 * bounded however long it runs. When it is full, the half least recently
 * used is evicted (the owner is told about each entry first).
 */
#ifndef KR_MAP_H
#define KR_MAP_H

#include <stddef.h>
#include <stdint.h>

/*
 * Slots per bit of kr_map.dirty: a block that never held an entry is
 * skipped by whatever walks the whole table (each, clear, eviction), so a
 * big, sparsely used map costs what it holds, not what it could hold.
 */
#define KR_MAP_BLOCK	64

typedef void (*kr_map_fn)(void *ctx, uint64_t key, void *val);

struct kr_map {
	unsigned char *slot;	/* cap entries: key + 1 (0: free), stamp, value */
	uint64_t *dirty;	/* a bit per KR_MAP_BLOCK slots ever filled */
	size_t cap, mask, n, max, vsize, esize;
	unsigned int shift;	/* 64 - log2(cap): the hash's top bits index */
	uint64_t tick;		/* one per lookup: an entry's stamp is its last */
	uint64_t evicted;
	kr_map_fn evict;	/* NULL, or told of each entry evicted */
	void *ctx;
};

/* Room for @max entries of @vsize bytes each; 0, or -1 (errno ENOMEM). */
int kr_map_init(struct kr_map *m, size_t max, size_t vsize, kr_map_fn evict,
		void *ctx);
void kr_map_free(struct kr_map *m);

/* The value of @key (not UINT64_MAX), or NULL. */
void *kr_map_get(struct kr_map *m, uint64_t key);
/*
 * The value of @key, added zeroed if absent (*created then true). Adding
 * to a full map evicts first. Any value pointer held before is stale.
 */
void *kr_map_put(struct kr_map *m, uint64_t key, int *created);
void kr_map_del(struct kr_map *m, uint64_t key);
/* Call @fn on every entry; @fn must not add or remove. */
void kr_map_each(struct kr_map *m, kr_map_fn fn, void *ctx);
void kr_map_clear(struct kr_map *m);

#endif /* KR_MAP_H */
