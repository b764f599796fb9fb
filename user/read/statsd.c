// SPDX-License-Identifier: GPL-2.0
/* ktracer-read: the StatsD aggregator (see statsd.h). */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "out.h"
#include "statsd.h"

#define KR_STATSD_KEYS	4096

enum { KR_AGG_SPAN = 1, KR_AGG_GAUGE, KR_AGG_COUNT };

struct kr_agg {
	uint8_t kind;
	uint8_t len;
	char name[KTRACER_NAME_MAX];	/* sanitized */
	uint32_t pid;
	uint64_t min, max, sum, count;	/* spans, ns */
	int64_t last;			/* gauges */
	uint64_t total;			/* counters */
};

static uint64_t kr_sat(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

static int kr_name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

size_t kr_statsd_name(char *dst, size_t cap, const char *src, size_t len)
{
	size_t i;

	if (!cap)
		return 0;
	if (len > cap - 1)
		len = cap - 1;
	for (i = 0; i < len; i++)
		dst[i] = kr_name_char((unsigned char)src[i]) ? src[i] : '_';
	dst[len] = '\0';
	return len;
}

int kr_statsd_init(struct kr_statsd *s, const struct kr_statsd_cfg *cfg)
{
	const char *prefix = cfg->prefix ? cfg->prefix : "ktracer.";
	const char *host = cfg->host ? cfg->host : "";
	size_t i;

	memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
	if (!s->cfg.max_datagram)
		s->cfg.max_datagram = KR_STATSD_DATAGRAM;
	s->prefix_len = kr_statsd_name(s->prefix, sizeof(s->prefix), prefix,
				       strlen(prefix));
	/* A tag value may also hold ':' and '/'. */
	s->tag_host_len = kr_statsd_name(s->tag_host, sizeof(s->tag_host),
					 host, strlen(host));
	for (i = 0; i < s->tag_host_len; i++)
		if (host[i] == ':' || host[i] == '/')
			s->tag_host[i] = host[i];
	s->dgram = malloc(s->cfg.max_datagram);
	if (!s->dgram || kr_map_init(&s->agg, cfg->max_keys ? cfg->max_keys :
				     KR_STATSD_KEYS, sizeof(struct kr_agg),
				     NULL, NULL)) {
		free(s->dgram);
		return ENOMEM;
	}
	return 0;
}

void kr_statsd_free(struct kr_statsd *s)
{
	kr_map_free(&s->agg);
	free(s->dgram);
	memset(s, 0, sizeof(*s));
}

/* The aggregate of (kind, id, pid), made if there is room; or NULL. */
static struct kr_agg *kr_agg(struct kr_statsd *s, unsigned int kind,
			     uint32_t id, const char *name, size_t len,
			     uint32_t pid)
{
	uint64_t key;
	struct kr_agg *a;

	if (!s->cfg.tags)
		pid = 0;
	key = (uint64_t)kind << 60 | (uint64_t)(id & 0xfffffff) << 32 | pid;
	a = kr_map_get(&s->agg, key);
	if (a)
		return a;
	if (s->agg.n >= s->agg.max) {
		s->st.dropped++;
		return NULL;
	}
	a = kr_map_put(&s->agg, key, NULL);
	a->kind = (uint8_t)kind;
	a->pid = pid;
	a->len = (uint8_t)kr_statsd_name(a->name, sizeof(a->name), name, len);
	a->min = UINT64_MAX;
	return a;
}

void kr_statsd_span(struct kr_statsd *s, uint32_t id, const char *name,
		    size_t len, uint32_t pid, uint64_t dur)
{
	struct kr_agg *a = kr_agg(s, KR_AGG_SPAN, id, name, len, pid);

	if (!a)
		return;
	if (dur < a->min)
		a->min = dur;
	if (dur > a->max)
		a->max = dur;
	a->sum = kr_sat(a->sum, dur);
	a->count = kr_sat(a->count, 1);
}

void kr_statsd_gauge(struct kr_statsd *s, uint32_t id, const char *name,
		     size_t len, uint32_t pid, int64_t value)
{
	struct kr_agg *a = kr_agg(s, KR_AGG_GAUGE, id, name, len, pid);

	if (a)
		a->last = value;
}

void kr_statsd_count(struct kr_statsd *s, uint32_t id, const char *name,
		     size_t len, uint32_t pid, uint64_t add)
{
	struct kr_agg *a = kr_agg(s, KR_AGG_COUNT, id, name, len, pid);

	if (a)
		a->total = kr_sat(a->total, add);
}

void kr_statsd_reader(struct kr_statsd *s, uint64_t read, uint64_t lost)
{
	s->read = kr_sat(s->read, read);
	s->lost = kr_sat(s->lost, lost);
}

static void kr_dgram_send(struct kr_statsd *s)
{
	int err;

	if (!s->dlen)
		return;
	err = s->cfg.send(s->cfg.ctx, s->dgram, s->dlen);
	if (err) {
		s->st.send_errors++;
		s->st.last_error = err;
		s->emit_errors++;
	} else {
		s->st.datagrams++;
	}
	s->dlen = 0;
}

/* Add @n bytes of lines (one, or two that must travel together). */
static void kr_dgram_add(struct kr_statsd *s, const char *line, size_t n,
			 unsigned int lines)
{
	if (n > s->cfg.max_datagram) {
		s->st.dropped += lines;
		return;
	}
	if (s->dlen && s->dlen + 1 + n > s->cfg.max_datagram)
		kr_dgram_send(s);
	if (s->dlen)
		s->dgram[s->dlen++] = '\n';
	memcpy(s->dgram + s->dlen, line, n);
	s->dlen += n;
	s->st.lines += lines;
}

/* "<prefix><name><suffix>:" */
static char *kr_line_name(const struct kr_statsd *s, char *p, const char *name,
			  size_t len, const char *suffix)
{
	p = kr_fmt_lit(p, s->prefix, s->prefix_len);
	p = kr_fmt_lit(p, name, len);
	p = kr_fmt_lit(p, suffix, strlen(suffix));
	*p++ = ':';
	return p;
}

/* "|g" or "|c", then the tags. */
static char *kr_line_end(const struct kr_statsd *s, char *p, char type,
			 const struct kr_agg *a)
{
	*p++ = '|';
	*p++ = type;
	if (!s->cfg.tags)
		return p;
	p = kr_put(p, "|#host:");
	p = kr_fmt_lit(p, s->tag_host, s->tag_host_len);
	if (a) {
		p = kr_put(p, ",pid:");
		p = kr_fmt_u64(p, a->pid);
	}
	return p;
}

/* Room for one line: prefix, name, suffix, a value, tags. */
#define KR_LINE_MAX	(KR_STATSD_PREFIX_MAX + KTRACER_NAME_MAX + 200)

static void kr_emit_us(struct kr_statsd *s, const struct kr_agg *a,
		       const char *suffix, uint64_t ns, char type)
{
	char line[KR_LINE_MAX], *p;

	p = kr_line_name(s, line, a->name, a->len, suffix);
	p = kr_fmt_us(p, (int64_t)(ns > INT64_MAX ? INT64_MAX : ns));
	p = kr_line_end(s, p, type, a);
	kr_dgram_add(s, line, (size_t)(p - line), 1);
}

static void kr_emit_agg(void *ctx, uint64_t key, void *val)
{
	struct kr_statsd *s = ctx;
	const struct kr_agg *a = val;
	char line[2 * KR_LINE_MAX], *p;

	(void)key;
	switch (a->kind) {
	case KR_AGG_SPAN:
		kr_emit_us(s, a, "_us.min", a->min, 'g');
		kr_emit_us(s, a, "_us.max", a->max, 'g');
		kr_emit_us(s, a, "_us.avg", a->sum / a->count, 'g');
		kr_emit_us(s, a, "_us.sum", a->sum, 'c');
		p = kr_line_name(s, line, a->name, a->len, "_us.count");
		p = kr_fmt_u64(p, a->count);
		p = kr_line_end(s, p, 'c', a);
		kr_dgram_add(s, line, (size_t)(p - line), 1);
		break;
	case KR_AGG_GAUGE:
		p = line;
		if (a->last < 0) {
			/* "-5|g" would subtract 5: set 0 first, then -5. */
			p = kr_line_name(s, p, a->name, a->len, "");
			p = kr_put(p, "0");
			p = kr_line_end(s, p, 'g', a);
			*p++ = '\n';
		}
		p = kr_line_name(s, p, a->name, a->len, "");
		p = kr_fmt_s64(p, a->last);
		p = kr_line_end(s, p, 'g', a);
		kr_dgram_add(s, line, (size_t)(p - line), a->last < 0 ? 2 : 1);
		break;
	default:
		p = kr_line_name(s, line, a->name, a->len, "");
		p = kr_fmt_u64(p, a->total);
		p = kr_line_end(s, p, 'c', a);
		kr_dgram_add(s, line, (size_t)(p - line), 1);
	}
}

static void kr_emit_reader(struct kr_statsd *s, const char *what, uint64_t n)
{
	char line[KR_LINE_MAX], *p;

	p = kr_line_name(s, line, "reader.", 7, what);
	p = kr_fmt_u64(p, n);
	p = kr_line_end(s, p, 'c', NULL);
	kr_dgram_add(s, line, (size_t)(p - line), 1);
}

uint64_t kr_statsd_emit(struct kr_statsd *s)
{
	uint64_t sent = s->st.datagrams, failed;

	s->emit_errors = 0;
	kr_map_each(&s->agg, kr_emit_agg, s);
	kr_emit_reader(s, "read", s->read);
	kr_emit_reader(s, "lost", s->lost);
	kr_dgram_send(s);
	kr_map_clear(&s->agg);
	s->read = 0;
	s->lost = 0;
	s->st.emits++;
	failed = s->emit_errors;
	if (failed && s->cfg.log && !s->told) {
		s->told = true;
		fprintf(s->cfg.log,
			"ktracer-read: statsd: %llu of %llu datagrams to %s not sent: %s (further failures are only counted)\n",
			(unsigned long long)failed,
			(unsigned long long)(failed + s->st.datagrams - sent),
			s->cfg.dest ? s->cfg.dest : "?",
			strerror(s->st.last_error));
	}
	return failed;
}
