/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An RFC 8259 syntax checker: one JSON text, by recursive descent. Only
 * says whether @len bytes are one valid JSON value with optional white
 * space around it; builds nothing. Strings must be valid UTF-8 (RFC 8259
 * section 8.1) with no raw control character and only the escapes of
 * section 7; \u escapes of surrogates must pair up. Numbers follow the
 * grammar of section 6 exactly (no leading zeros, no "+", no bare ".").
 * Nesting deeper than KT_JSON_DEPTH is refused rather than recursed into.
 *
 * Used by the kselftests on ktracer-read's output, and by the reader's
 * fuzzer on what the reader writes.
 */
#ifndef KT_JSON_H
#define KT_JSON_H

#include <stdbool.h>
#include <stddef.h>

#define KT_JSON_DEPTH	512

struct kt_json {
	const unsigned char *p, *end;
	const unsigned char *start;
	unsigned int depth;
	const char *err;	/* why it is not valid; NULL: it is */
};

static bool kt_json_value(struct kt_json *j);

static inline bool kt_json_fail(struct kt_json *j, const char *why)
{
	if (!j->err)
		j->err = why;
	return false;
}

static inline void kt_json_ws(struct kt_json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
				 *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static inline bool kt_json_lit(struct kt_json *j, const char *lit)
{
	for (; *lit; lit++, j->p++)
		if (j->p >= j->end || *j->p != (unsigned char)*lit)
			return kt_json_fail(j, "bad literal");
	return true;
}

static inline bool kt_json_digits(struct kt_json *j)
{
	if (j->p >= j->end || *j->p < '0' || *j->p > '9')
		return kt_json_fail(j, "digit expected");
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return true;
}

/* number = [ minus ] int [ frac ] [ exp ] */
static inline bool kt_json_number(struct kt_json *j)
{
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0') {
		j->p++;
		if (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			return kt_json_fail(j, "leading zero");
	} else if (!kt_json_digits(j)) {
		return false;
	}
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (!kt_json_digits(j))
			return false;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!kt_json_digits(j))
			return false;
	}
	return true;
}

static inline int kt_json_hex4(struct kt_json *j)
{
	int v = 0, i, c;

	if (j->end - j->p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		c = *j->p++;
		if (c >= '0' && c <= '9')
			v = v * 16 + c - '0';
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = v * 16 + c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/* The valid UTF-8 sequence at p (p < end): its length, or 0. */
static inline size_t kt_json_utf8(const unsigned char *p,
				  const unsigned char *end)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < len || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

static inline bool kt_json_string(struct kt_json *j)
{
	size_t n;
	int u, lo;

	j->p++;		/* the opening quote */
	for (;;) {
		if (j->p >= j->end)
			return kt_json_fail(j, "unterminated string");
		if (*j->p == '"') {
			j->p++;
			return true;
		}
		if (*j->p < 0x20)
			return kt_json_fail(j, "control character in string");
		if (*j->p != '\\') {
			n = kt_json_utf8(j->p, j->end);
			if (!n)
				return kt_json_fail(j, "invalid UTF-8");
			j->p += n;
			continue;
		}
		j->p++;
		if (j->p >= j->end)
			return kt_json_fail(j, "unterminated escape");
		switch (*j->p++) {
		case '"': case '\\': case '/': case 'b': case 'f':
		case 'n': case 'r': case 't':
			break;
		case 'u':
			u = kt_json_hex4(j);
			if (u < 0)
				return kt_json_fail(j, "bad \\u escape");
			if (u >= 0xdc00 && u <= 0xdfff)
				return kt_json_fail(j, "lone low surrogate");
			if (u >= 0xd800 && u <= 0xdbff) {
				if (j->end - j->p < 2 || j->p[0] != '\\' ||
				    j->p[1] != 'u')
					return kt_json_fail(j, "lone high surrogate");
				j->p += 2;
				lo = kt_json_hex4(j);
				if (lo < 0xdc00 || lo > 0xdfff)
					return kt_json_fail(j, "lone high surrogate");
			}
			break;
		default:
			return kt_json_fail(j, "bad escape");
		}
	}
}

static inline bool kt_json_container(struct kt_json *j, unsigned char close)
{
	bool first = true;

	if (++j->depth > KT_JSON_DEPTH)
		return kt_json_fail(j, "nested too deep");
	j->p++;		/* '[' or '{' */
	kt_json_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		j->depth--;
		return true;
	}
	for (;;) {
		if (!first) {
			kt_json_ws(j);
			if (j->p < j->end && *j->p == close) {
				j->p++;
				j->depth--;
				return true;
			}
			if (j->p >= j->end || *j->p != ',')
				return kt_json_fail(j, close == ']' ?
						    "',' or ']' expected" :
						    "',' or '}' expected");
			j->p++;
			kt_json_ws(j);
		}
		first = false;
		if (close == '}') {
			if (j->p >= j->end || *j->p != '"')
				return kt_json_fail(j, "member name expected");
			if (!kt_json_string(j))
				return false;
			kt_json_ws(j);
			if (j->p >= j->end || *j->p != ':')
				return kt_json_fail(j, "':' expected");
			j->p++;
		}
		if (!kt_json_value(j))
			return false;
	}
}

static bool kt_json_value(struct kt_json *j)
{
	kt_json_ws(j);
	if (j->p >= j->end)
		return kt_json_fail(j, "value expected");
	switch (*j->p) {
	case '{':
		return kt_json_container(j, '}');
	case '[':
		return kt_json_container(j, ']');
	case '"':
		return kt_json_string(j);
	case 't':
		return kt_json_lit(j, "true");
	case 'f':
		return kt_json_lit(j, "false");
	case 'n':
		return kt_json_lit(j, "null");
	default:
		if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
			return kt_json_number(j);
		return kt_json_fail(j, "value expected");
	}
}

/*
 * Is @s[0..len) one JSON text? If not, and @err_off is not NULL, the
 * offset where it went wrong and why (a static string) are given back.
 */
static inline bool kt_json_check(const void *s, size_t len, size_t *err_off,
				 const char **why)
{
	struct kt_json j = {
		.p = s, .end = (const unsigned char *)s + len, .start = s,
	};

	if (kt_json_value(&j)) {
		kt_json_ws(&j);
		if (j.p == j.end)
			return true;
		kt_json_fail(&j, "text after the value");
	}
	if (err_off)
		*err_off = (size_t)(j.p - j.start);
	if (why)
		*why = j.err;
	return false;
}

#endif /* KT_JSON_H */
