/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktracer-read: event ids to names, kinds and slot counts, as the debugfs
 * file "events" lists them:
 *
 *	# id kind slots name
 *	1 span 2 sched.running
 *	10 span 4 db query
 *
 * (the name is the rest of the line, spaces and all). The kernel's own
 * events, ids 1 to KTRACER_KEV_LAST, are known without the file.
 */
#ifndef KR_NAMES_H
#define KR_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/ktracer.h>

#define KR_EVENTS_HEADER	"# id kind slots uid name"

struct kr_evname {
	bool known;		/* named by the file or the kernel's table */
	bool asked;		/* unknown, and the file was read again for it */
	uint8_t kind;		/* enum ktracer_kind; 0 if unknown */
	uint16_t len;
	uint32_t slots;
	char name[KTRACER_NAME_MAX];	/* len bytes, NUL after */
	uint16_t json_len;
	char json[KTRACER_NAME_MAX * 6 + 2];	/* as a JSON string */
};

/*
 * Ids come in blocks of KR_NAMES_BLOCK entries, each allocated when one of
 * its ids is first named or looked up: a trace names a few ids of the
 * 16383, and the whole table would be 7 MiB.
 */
#define KR_NAMES_BLOCK	64
#define KR_NAMES_BLOCKS	(KTRACER_EVENT_ID_MAX / KR_NAMES_BLOCK + 1)

struct kr_names {
	struct kr_evname *blk[KR_NAMES_BLOCKS];
	uint64_t lines_bad;	/* lines of the file that could not be read */
	uint64_t nomem;		/* ids left unnamed: no memory for a block */
	struct kr_evname none;	/* what an id of a block not allocated gets */
};

/* Every id unknown ("event#ID") but the kernel's own. */
void kr_names_init(struct kr_names *n);
void kr_names_free(struct kr_names *n);
/*
 * Name @id (1..KTRACER_EVENT_ID_MAX); a longer name is cut. False (and
 * counted in nomem) if its block could not be allocated.
 */
bool kr_names_set(struct kr_names *n, uint32_t id, uint32_t kind,
		  uint32_t slots, const char *name, size_t len);
/*
 * Read the events file's text: the ids it lists become known. Returns the
 * number of events read, or -1 if @text does not start with the header.
 */
int kr_names_parse(struct kr_names *n, const char *text, size_t len);

/* kr_names_get()'s way out of line: @id's block is not there yet. */
struct kr_evname *kr_names_get_new(struct kr_names *n, uint32_t id);

/*
 * @id's entry ("event#ID" if it was never named; ids past the table are
 * id 0's). Never NULL: without memory for its block, n->none, named
 * "event#?" and marked asked, so that nobody reads the names again for it.
 * Inline: the model looks up a name for most records.
 */
static inline struct kr_evname *kr_names_get(struct kr_names *n, uint32_t id)
{
	struct kr_evname *blk = id <= KTRACER_EVENT_ID_MAX ?
				n->blk[id / KR_NAMES_BLOCK] : NULL;

	if (__builtin_expect(blk != NULL, 1))
		return &blk[id % KR_NAMES_BLOCK];
	return kr_names_get_new(n, id);
}

#endif /* KR_NAMES_H */
