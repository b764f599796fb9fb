// SPDX-License-Identifier: GPL-2.0
/* ktracer-read: the buffered output and its formatting functions. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "out.h"

int kr_out_init(struct kr_out *o, size_t cap, kr_write_fn write, void *ctx)
{
	memset(o, 0, sizeof(*o));
	o->buf = malloc(cap);
	if (!o->buf)
		return ENOMEM;
	o->cap = cap;
	o->write = write;
	o->ctx = ctx;
	return 0;
}

void kr_out_free(struct kr_out *o)
{
	free(o->buf);
	memset(o, 0, sizeof(*o));
}

int kr_out_flush(struct kr_out *o)
{
	if (o->len && !o->err) {
		o->err = o->write(o->ctx, o->buf, o->len);
		if (!o->err)
			o->bytes += o->len;
	}
	o->len = 0;
	return o->err;
}

int kr_write_fd(void *ctx, const void *p, size_t n)
{
	int fd = *(const int *)ctx;
	const char *c = p;
	ssize_t w;

	while (n) {
		w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

const char kr_digits[200] =
	"0001020304050607080910111213141516171819"
	"2021222324252627282930313233343536373839"
	"4041424344454647484950515253545556575859"
	"6061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

/* The entry of "abc": how many digits are not leading zeros, the digits. */
#define KR_D3(a, b, c)	(a) ? 3 : (b) ? 2 : 1, '0' + (a), '0' + (b), '0' + (c)
#define KR_D3_10(a, b)	KR_D3(a, b, 0), KR_D3(a, b, 1), KR_D3(a, b, 2), \
			KR_D3(a, b, 3), KR_D3(a, b, 4), KR_D3(a, b, 5), \
			KR_D3(a, b, 6), KR_D3(a, b, 7), KR_D3(a, b, 8), \
			KR_D3(a, b, 9)
#define KR_D3_100(a)	KR_D3_10(a, 0), KR_D3_10(a, 1), KR_D3_10(a, 2), \
			KR_D3_10(a, 3), KR_D3_10(a, 4), KR_D3_10(a, 5), \
			KR_D3_10(a, 6), KR_D3_10(a, 7), KR_D3_10(a, 8), \
			KR_D3_10(a, 9)

const char kr_digits3[4001] = {
	KR_D3_100(0), KR_D3_100(1), KR_D3_100(2), KR_D3_100(3), KR_D3_100(4),
	KR_D3_100(5), KR_D3_100(6), KR_D3_100(7), KR_D3_100(8), KR_D3_100(9),
};

char *kr_fmt_us_int_big(char *p, uint64_t us)
{
	p = kr_fmt_u64(p, us / 1000);
	return kr_put3_over(p, (uint32_t)(us % 1000));
}

size_t kr_utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;	/* no overlong forms */
		else if (c == 0xed)
			hi = 0x9f;	/* no surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;	/* nothing above U+10FFFF */
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* Bytes that need more than copying: control, '"', '\\', DEL, non-ASCII. */
static inline int kr_plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

/*
 * Eight bytes at once (bit tricks on a u64, the first byte the lowest): a
 * mask with the top bit of each byte that needs more than copying set.
 * Bytes after the first one set may be set too (borrows and carries go
 * up from it), never those before it.
 */
static inline uint64_t kr_unplain8(const unsigned char *s)
{
	const uint64_t ones = 0x0101010101010101ull, high = ones * 0x80;
	uint64_t w;

	memcpy(&w, s, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
#define KR_HASZERO(v)	(((v) - ones) & ~(v) & high)
	return (((w + ones) | w) & high) |		/* DEL, non-ASCII */
	       ((w - ones * 0x20) & ~w & high) |	/* control */
	       KR_HASZERO(w ^ (ones * '"')) |
	       KR_HASZERO(w ^ (ones * '\\'));
#undef KR_HASZERO
}

/* The byte at s[*i] (and the rest of its UTF-8 sequence), escaped. */
static inline char *kr_fmt_json_byte(char *p, const unsigned char *s,
				     size_t n, size_t *pi)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = *pi, k;
	unsigned char c = s[i];

	if (kr_plain(c)) {
		*p++ = (char)c;
		*pi = i + 1;
		return p;
	}
	if (c >= 0x80) {
		k = kr_utf8_seq(s + i, n - i);
		if (k) {
			memcpy(p, s + i, k);
			*pi = i + k;
			return p + k;
		}
		*pi = i + 1;
		return kr_put(p, "\xef\xbf\xbd");	/* U+FFFD */
	}
	*p++ = '\\';
	switch (c) {
	case '"':
	case '\\':
		*p++ = (char)c;
		break;
	case '\b':
		*p++ = 'b';
		break;
	case '\f':
		*p++ = 'f';
		break;
	case '\n':
		*p++ = 'n';
		break;
	case '\r':
		*p++ = 'r';
		break;
	case '\t':
		*p++ = 't';
		break;
	default:
		p = kr_put(p, "u00");
		*p++ = hex[c >> 4];
		*p++ = hex[c & 15];
	}
	*pi = i + 1;
	return p;
}

char *kr_fmt_json_str(char *p, const void *str, size_t n)
{
	const unsigned char *s = str;
	size_t i = 0, k;
	uint64_t x;

	*p++ = '"';
	/*
	 * Eight bytes at a time, stored as they are, kept up to the first
	 * that needs more; that one escaped (or checked as UTF-8), and on
	 * from the next. What is left from s + i is at least 8 bytes, and
	 * makes at least 8 bytes and the quote: no store goes past the end.
	 */
	while (i + 8 <= n) {
		x = kr_unplain8(s + i);
		memcpy(p, s + i, 8);
		if (!x) {
			p += 8;
			i += 8;
			continue;
		}
		k = (size_t)__builtin_ctzll(x) / 8;
		p += k;
		i += k;
		p = kr_fmt_json_byte(p, s, n, &i);
	}
	/*
	 * Fewer than 8 left: if none of the last 8 bytes needs more, those
	 * before s + i were stored as they are too, and the 8 are stored
	 * again over them, up to the end.
	 */
	if (n >= 8 && i < n && !kr_unplain8(s + n - 8)) {
		memcpy(p - (8 - (n - i)), s + n - 8, 8);
		p += n - i;
		i = n;
	}
	while (i < n)
		p = kr_fmt_json_byte(p, s, n, &i);
	*p++ = '"';
	return p;
}
