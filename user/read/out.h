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

/* "00" "01" ... "99" */
extern const char kr_digits[200];

/* Two digits of @v < 100. */
static inline char *kr_put2(char *p, uint32_t v)
{
	memcpy(p, kr_digits + v * 2, 2);
	return p + 2;
}

/* 1 to 4 digits of @v < 10000. */
static inline char *kr_put_1to4(char *p, uint32_t v)
{
	uint32_t h;

	if (v < 100) {
		if (v < 10) {
			*p = (char)('0' + v);
			return p + 1;
		}
		return kr_put2(p, v);
	}
	h = v / 100;
	if (h < 10)
		*p++ = (char)('0' + h);
	else
		p = kr_put2(p, h);
	return kr_put2(p, v % 100);
}

/* Exactly 4 digits of @v < 10000. */
static inline char *kr_put4(char *p, uint32_t v)
{
	kr_put2(p, v / 100);
	return kr_put2(p + 2, v % 100);
}

/* 1 to 8 digits of @v < 100000000. */
static inline char *kr_put_1to8(char *p, uint32_t v)
{
	if (v < 10000)
		return kr_put_1to4(p, v);
	p = kr_put_1to4(p, v / 10000);
	return kr_put4(p, v % 10000);
}

/* Exactly 8 digits of @v < 100000000. */
static inline char *kr_put8(char *p, uint32_t v)
{
	kr_put4(p, v / 10000);
	return kr_put4(p + 4, v % 10000);
}

/*
 * Integers, two digits at a time from a table, in groups that do not
 * depend on each other: a 64-bit number is at most three groups of eight.
 * Inline: the writers' numbers are formatted where they go, no calls.
 */
__attribute__((always_inline))
static inline char *kr_fmt_u64(char *p, uint64_t v)
{
	uint64_t rest;

	if (v < 100000000)
		return kr_put_1to8(p, (uint32_t)v);
	if (v < 10000000000000000ull) {
		p = kr_put_1to8(p, (uint32_t)(v / 100000000));
		return kr_put8(p, (uint32_t)(v % 100000000));
	}
	rest = v % 10000000000000000ull;
	p = kr_put_1to4(p, (uint32_t)(v / 10000000000000000ull));
	p = kr_put8(p, (uint32_t)(rest / 100000000));
	return kr_put8(p, (uint32_t)(rest % 100000000));
}

static inline char *kr_fmt_s64(char *p, int64_t v)
{
	if (v >= 0)
		return kr_fmt_u64(p, (uint64_t)v);
	*p++ = '-';
	return kr_fmt_u64(p, -(uint64_t)v);
}

/*
 * "000" to "999", four bytes each: how many of the three digits the
 * number needs without leading zeros (1 to 3), then the digits. One byte
 * more at the end, so that every entry can be read as four from its
 * second byte.
 */
extern const char kr_digits3[4001];

/*
 * Three digits of @v < 1000. It stores four bytes: the caller writes
 * over the fourth (a group of digits is always followed by more).
 */
static inline char *kr_put3_over(char *p, uint32_t v)
{
	memcpy(p, kr_digits3 + 4 * v + 1, 4);
	return p + 3;
}

/* 1 to 3 digits of @v < 1000, stored as kr_put3_over stores them. */
static inline char *kr_put_1to3_over(char *p, uint32_t v)
{
	const char *e = kr_digits3 + 4 * v;
	uint32_t n = (unsigned char)e[0];

	memcpy(p, e + 4 - n, 4);	/* v < 100 reads into the next entry */
	return p + n;
}

/* The digits of @us >= 10^9, stored as kr_put3_over stores them. */
char *kr_fmt_us_int_big(char *p, uint64_t us);

/*
 * @ns as microseconds with exactly 3 decimals, no sign: three digits at a
 * time from a table, and nothing stored past the end (the decimals are
 * the exact last bytes). Inline: every event has a "ts".
 */
__attribute__((always_inline))
static inline char *kr_fmt_us_mag(char *p, uint64_t ns)
{
	uint64_t us = ns / 1000;
	uint32_t frac = (uint32_t)(ns - us * 1000), u = (uint32_t)us;

	if (__builtin_expect(us >= 1000000000, 0)) {
		p = kr_fmt_us_int_big(p, us);
	} else if (u >= 1000000) {
		p = kr_put_1to3_over(p, u / 1000000);
		p = kr_put3_over(p, u / 1000 % 1000);
		p = kr_put3_over(p, u % 1000);
	} else if (u >= 1000) {
		p = kr_put_1to3_over(p, u / 1000);
		p = kr_put3_over(p, u % 1000);
	} else {
		p = kr_put_1to3_over(p, u);
	}
	memcpy(p, kr_digits3 + 4 * frac, 4);	/* its count, and 3 digits */
	p[0] = '.';
	return p + 4;
}

/* @ns nanoseconds as microseconds with 3 decimals: "-12.345". */
static inline char *kr_fmt_us(char *p, int64_t ns)
{
	uint64_t mag = (uint64_t)ns;

	if (ns < 0) {
		*p++ = '-';
		mag = -mag;
	}
	return kr_fmt_us_mag(p, mag);
}

/* @a - @b nanoseconds, as kr_fmt_us, for any two u64 times. */
static inline char *kr_fmt_us_diff(char *p, uint64_t a, uint64_t b)
{
	uint64_t mag = a - b;

	if (a < b) {
		*p++ = '-';
		mag = b - a;
	}
	return kr_fmt_us_mag(p, mag);
}

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
