// SPDX-License-Identifier: GPL-2.0
/* ktracer-read: the table of event names. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "out.h"

static void kr_name_fill(struct kr_evname *e, const char *name, size_t len)
{
	if (len > KTRACER_NAME_MAX - 1)
		len = KTRACER_NAME_MAX - 1;
	memcpy(e->name, name, len);
	e->name[len] = '\0';
	e->len = (uint16_t)len;
	e->json_len = (uint16_t)(kr_fmt_json_str(e->json, name, len) - e->json);
}

void kr_names_init(struct kr_names *n)
{
	static const struct {
		const char *name;
		uint8_t kind;
	} kev[KTRACER_KEV_LAST + 1] = {
		[KTRACER_KEV_RUNNING]	= { "sched.running", KTRACER_KIND_SPAN },
		[KTRACER_KEV_WAKEUP]	= { "sched.wakeup", KTRACER_KIND_LOG },
		[KTRACER_KEV_FORK]	= { "task.fork", KTRACER_KIND_LOG },
		[KTRACER_KEV_EXEC]	= { "task.exec", KTRACER_KIND_LOG },
		[KTRACER_KEV_EXIT]	= { "task.exit", KTRACER_KIND_LOG },
		[KTRACER_KEV_IRQ]	= { "irq", KTRACER_KIND_SPAN },
		[KTRACER_KEV_SOFTIRQ]	= { "softirq", KTRACER_KIND_SPAN },
		[KTRACER_KEV_SYSCALL]	= { "syscall", KTRACER_KIND_SPAN },
		[KTRACER_KEV_BLOCK]	= { "block.rq", KTRACER_KIND_SPAN },
	};
	uint32_t id;

	memset(n, 0, sizeof(*n));
	n->none.asked = true;
	kr_name_fill(&n->none, "event#?", 7);
	for (id = 1; id <= KTRACER_KEV_LAST; id++)
		kr_names_set(n, id, kev[id].kind, 0, kev[id].name,
			     strlen(kev[id].name));
}

void kr_names_free(struct kr_names *n)
{
	unsigned int b;

	for (b = 0; b < KR_NAMES_BLOCKS; b++)
		free(n->blk[b]);
	memset(n->blk, 0, sizeof(n->blk));
}

/* Allocate @id's block, every id in it unknown; NULL without memory. */
static struct kr_evname *kr_names_block(struct kr_names *n, uint32_t id)
{
	uint32_t b = id / KR_NAMES_BLOCK, i;
	struct kr_evname *blk;
	char buf[32];
	int len;

	blk = calloc(KR_NAMES_BLOCK, sizeof(*blk));
	if (!blk) {
		n->nomem++;
		return NULL;
	}
	for (i = 0; i < KR_NAMES_BLOCK; i++) {
		len = snprintf(buf, sizeof(buf), "event#%u",
			       b * KR_NAMES_BLOCK + i);
		kr_name_fill(&blk[i], buf, (size_t)len);
	}
	n->blk[b] = blk;
	return blk;
}

struct kr_evname *kr_names_get_new(struct kr_names *n, uint32_t id)
{
	struct kr_evname *blk;

	if (id > KTRACER_EVENT_ID_MAX)
		id = 0;
	blk = n->blk[id / KR_NAMES_BLOCK];
	if (!blk) {
		blk = kr_names_block(n, id);
		if (!blk)
			return &n->none;
	}
	return &blk[id % KR_NAMES_BLOCK];
}

bool kr_names_set(struct kr_names *n, uint32_t id, uint32_t kind,
		  uint32_t slots, const char *name, size_t len)
{
	struct kr_evname *e;

	if (id == 0 || id > KTRACER_EVENT_ID_MAX)
		return false;
	e = kr_names_get(n, id);
	if (e == &n->none)
		return false;
	e->known = true;
	e->kind = kind <= KTRACER_KIND_LOG ? (uint8_t)kind : 0;
	e->slots = slots;
	kr_name_fill(e, name, len);
	return true;
}

static uint32_t kr_kind_of(const char *s, size_t len)
{
	static const char *const kinds[] = {
		[KTRACER_KIND_SPAN]	= "span",
		[KTRACER_KIND_GAUGE]	= "gauge",
		[KTRACER_KIND_COUNTER]	= "counter",
		[KTRACER_KIND_LOG]	= "log",
	};
	uint32_t k;

	for (k = KTRACER_KIND_SPAN; k <= KTRACER_KIND_LOG; k++)
		if (strlen(kinds[k]) == len && !memcmp(kinds[k], s, len))
			return k;
	return 0;
}

/* A decimal number of at most 10 digits at *@s, before @end. */
static bool kr_num(const char **s, const char *end, uint32_t *v)
{
	uint64_t x = 0;
	const char *p = *s;

	while (p < end && *p >= '0' && *p <= '9' && p - *s < 10)
		x = x * 10 + (uint64_t)(*p++ - '0');
	if (p == *s || x > UINT32_MAX)
		return false;
	*s = p;
	*v = (uint32_t)x;
	return true;
}

/* "ID KIND SLOTS UID NAME" from [s, end), no newline. */
static bool kr_line(struct kr_names *n, const char *s, const char *end)
{
	uint32_t id, slots, kind, uid;
	const char *k;

	if (!kr_num(&s, end, &id) || s == end || *s++ != ' ')
		return false;
	for (k = s; s < end && *s != ' '; s++)
		;
	kind = kr_kind_of(k, (size_t)(s - k));
	if (s == end || *s++ != ' ' || !kr_num(&s, end, &slots) ||
	    s == end || *s++ != ' ' || !kr_num(&s, end, &uid) ||
	    s == end || *s++ != ' ' || s == end)
		return false;
	return kr_names_set(n, id, kind, slots, s, (size_t)(end - s));
}

int kr_names_parse(struct kr_names *n, const char *text, size_t len)
{
	const char *end = text + len, *s = text, *nl;
	size_t hl = strlen(KR_EVENTS_HEADER);
	int count = 0;

	if (len < hl || memcmp(text, KR_EVENTS_HEADER, hl) ||
	    (len > hl && text[hl] != '\n'))
		return -1;
	s += hl;
	while (s < end) {
		if (*s == '\n') {
			s++;
			continue;
		}
		nl = memchr(s, '\n', (size_t)(end - s));
		if (!nl)
			nl = end;
		if (kr_line(n, s, nl))
			count++;
		else
			n->lines_bad++;
		s = nl;
	}
	return count;
}
