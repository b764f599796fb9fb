/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktracer-read: a buffered output, and the formatting its writers share:
 * numbers, and JSON strings escaped per RFC 8259 from any bytes at all.
 *
 * Writers reserve room for a whole item, format it with the kr_fmt_*
 * functions (no bounds checks: the reservation is the bound), and commit.
 */
#ifndef KR_OUT_H
#define KR_OUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

/* Writes all of @p or fails: returns 0, or an errno. */
typedef int (*kr_write_fn)(void *ctx, const void *p, size_t n);

struct kr_out {
	char *buf;
	size_t cap, len;
	kr_write_fn write;
	void *ctx;
	uint64_t bytes;		/* handed to write */
	int err;		/* first errno of write; then nothing is written */
};

int kr_out_init(struct kr_out *o, size_t cap, kr_write_fn write, void *ctx);
void kr_out_free(struct kr_out *o);
/* Hand everything buffered to write: 0, or the error (also in o->err). */
int kr_out_flush(struct kr_out *o);

/* Room for @n bytes (n <= cap): where to write them. */
static inline char *kr_out_reserve(struct kr_out *o, size_t n)
{
	if (o->cap - o->len < n)
		kr_out_flush(o);
	return o->buf + o->len;
}

static inline void kr_out_commit(struct kr_out *o, char *end)
{
	o->len = (size_t)(end - o->buf);
}

/* kr_write_fn for a file descriptor (ctx: pointer to the int fd). */
int kr_write_fd(void *ctx, const void *p, size_t n);

/* Bytes each of them may write at most. */
#define KR_FMT_U64_MAX	20
#define KR_FMT_S64_MAX	20
#define KR_FMT_US_MAX	25	/* sign, 17 digits, point, 3 decimals */
#define KR_FMT_STR_MAX(n)	(6 * (size_t)(n) + 2)

char *kr_fmt_u64(char *p, uint64_t v);
char *kr_fmt_s64(char *p, int64_t v);
/* @ns nanoseconds as microseconds with 3 decimals: "-12.345". */
char *kr_fmt_us(char *p, int64_t ns);
/* @a - @b nanoseconds, as kr_fmt_us, for any two u64 times. */
char *kr_fmt_us_diff(char *p, uint64_t a, uint64_t b);

/* @n bytes of @s; a constant @n becomes a few moves. */
static inline char *kr_fmt_lit(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

/* A string literal (only: its size is taken): kr_put(p, "\"ts\":") */
#define kr_put(p, lit)	kr_fmt_lit((p), "" lit, sizeof(lit) - 1)

/*
 * The bytes @s[0..n) as a JSON string, quotes included: '"', '\\' and
 * control characters (and DEL) escaped, valid UTF-8 kept, and every byte
 * that is not part of a valid UTF-8 sequence replaced with U+FFFD.
 */
char *kr_fmt_json_str(char *p, const void *s, size_t n);

/* The length of the valid UTF-8 sequence at @s (n > 0 bytes), or 0. */
size_t kr_utf8_seq(const unsigned char *s, size_t n);

#endif /* KR_OUT_H */
