// SPDX-License-Identifier: GPL-2.0
/*
 * ktracer-read: the bounded map. Open addressing with linear probing, at
 * most half full; removal shifts the entries after it back (no
 * tombstones), so lookups stay short however many entries come and go.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "map.h"

struct kr_slot {
	uint64_t key;	/* key + 1; 0: free */
	uint64_t stamp;
};

static inline struct kr_slot *kr_slot_at(const struct kr_map *m, size_t i)
{
	return (struct kr_slot *)(m->slot + i * m->esize);
}

static inline bool kr_block_dirty(const struct kr_map *m, size_t i)
{
	size_t b = i / KR_MAP_BLOCK;

	return m->dirty[b / 64] & (1ull << (b % 64));
}

static inline void kr_block_mark(struct kr_map *m, size_t i)
{
	size_t b = i / KR_MAP_BLOCK;

	m->dirty[b / 64] |= 1ull << (b % 64);
}

/* The first slot at or after @i in a block that may hold entries. */
static size_t kr_next_dirty(const struct kr_map *m, size_t i)
{
	while (i < m->cap && !kr_block_dirty(m, i))
		i = (i / KR_MAP_BLOCK + 1) * KR_MAP_BLOCK;
	return i;
}

static size_t kr_dirty_words(size_t cap)
{
	return ((cap + KR_MAP_BLOCK - 1) / KR_MAP_BLOCK + 63) / 64;
}

static inline size_t kr_home(const struct kr_map *m, uint64_t key1)
{
	return (size_t)((key1 * 0x9e3779b97f4a7c15ull) >> m->shift);
}

int kr_map_init(struct kr_map *m, size_t max, size_t vsize, kr_map_fn evict,
		void *ctx)
{
	size_t cap = 16;
	unsigned int bits = 4;

	memset(m, 0, sizeof(*m));
	if (max < 2)
		max = 2;
	while (cap < 2 * max) {
		cap *= 2;
		bits++;
	}
	m->esize = (sizeof(struct kr_slot) + vsize + 7) & ~(size_t)7;
	m->slot = calloc(cap, m->esize);
	m->dirty = calloc(kr_dirty_words(cap), sizeof(*m->dirty));
	if (!m->slot || !m->dirty) {
		kr_map_free(m);
		errno = ENOMEM;
		return -1;
	}
	m->cap = cap;
	m->mask = cap - 1;
	m->shift = 64 - bits;
	m->max = max;
	m->vsize = vsize;
	m->evict = evict;
	m->ctx = ctx;
	return 0;
}

void kr_map_free(struct kr_map *m)
{
	free(m->slot);
	free(m->dirty);
	memset(m, 0, sizeof(*m));
}

static size_t kr_find(const struct kr_map *m, uint64_t key1, int *found)
{
	size_t i = kr_home(m, key1);
	struct kr_slot *s;

	for (;; i = (i + 1) & m->mask) {
		s = kr_slot_at(m, i);
		if (s->key == key1 || !s->key) {
			*found = s->key != 0;
			return i;
		}
	}
}

void *kr_map_get(struct kr_map *m, uint64_t key)
{
	int found;
	size_t i = kr_find(m, key + 1, &found);
	struct kr_slot *s = kr_slot_at(m, i);

	if (!found)
		return NULL;
	s->stamp = ++m->tick;
	return s + 1;
}

/* Free slot @i, moving back the entries of its probe run that may go. */
static void kr_del_at(struct kr_map *m, size_t i)
{
	size_t j = i, home;
	struct kr_slot *s;

	for (;;) {
		j = (j + 1) & m->mask;
		s = kr_slot_at(m, j);
		if (!s->key)
			break;
		home = kr_home(m, s->key);
		/* Can the entry at j live at i? Only if i is on its way. */
		if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
			memcpy(kr_slot_at(m, i), s, m->esize);
			i = j;
		}
	}
	memset(kr_slot_at(m, i), 0, m->esize);
	m->n--;
}

void kr_map_del(struct kr_map *m, uint64_t key)
{
	int found;
	size_t i = kr_find(m, key + 1, &found);

	if (found)
		kr_del_at(m, i);
}

/* Evict every entry not looked up in the last n/2 lookups: half, at least. */
static void kr_evict_old(struct kr_map *m)
{
	uint64_t keep = m->tick - m->n / 2;
	struct kr_slot *s;
	size_t i = 0;

	/* A move by kr_del_at() is into a slot that was full: dirty. */
	while ((i = kr_next_dirty(m, i)) < m->cap) {
		s = kr_slot_at(m, i);
		if (s->key && s->stamp <= keep) {
			if (m->evict)
				m->evict(m->ctx, s->key - 1, s + 1);
			m->evicted++;
			kr_del_at(m, i);	/* may move another entry to i */
			continue;
		}
		i++;
	}
}

void *kr_map_put(struct kr_map *m, uint64_t key, int *created)
{
	int found;
	size_t i = kr_find(m, key + 1, &found);
	struct kr_slot *s;

	if (!found && m->n >= m->max) {
		kr_evict_old(m);
		i = kr_find(m, key + 1, &found);
	}
	s = kr_slot_at(m, i);
	if (!found) {
		memset(s, 0, m->esize);
		s->key = key + 1;
		kr_block_mark(m, i);
		m->n++;
	}
	s->stamp = ++m->tick;
	if (created)
		*created = !found;
	return s + 1;
}

void kr_map_each(struct kr_map *m, kr_map_fn fn, void *ctx)
{
	struct kr_slot *s;
	size_t i;

	for (i = 0; (i = kr_next_dirty(m, i)) < m->cap; i++) {
		s = kr_slot_at(m, i);
		if (s->key)
			fn(ctx, s->key - 1, s + 1);
	}
}

void kr_map_clear(struct kr_map *m)
{
	size_t i, end;

	for (i = 0; (i = kr_next_dirty(m, i)) < m->cap; i = end) {
		end = i + KR_MAP_BLOCK < m->cap ? i + KR_MAP_BLOCK : m->cap;
		memset(kr_slot_at(m, i), 0, (end - i) * m->esize);
	}
	memset(m->dirty, 0, kr_dirty_words(m->cap) * sizeof(*m->dirty));
	m->n = 0;
}
