/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktracer-read's host tests: a small harness. Each test is a function; a
 * CHECK that fails prints where and what, and fails its test. main.c runs
 * them all and ends with "N passed, N failed".
 */
#ifndef KU_UNIT_H
#define KU_UNIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "out.h"

__attribute__((format(printf, 4, 5)))
void ku_fail(const char *file, int line, const char *expr, const char *fmt, ...);

#define CHECK(cond) do {						\
	if (!(cond))							\
		ku_fail(__FILE__, __LINE__, #cond, NULL);		\
} while (0)

#define CHECKF(cond, ...) do {						\
	if (!(cond))							\
		ku_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);	\
} while (0)

#define CHECK_EQ(a, b) do {						\
	unsigned long long __a = (unsigned long long)(a);		\
	unsigned long long __b = (unsigned long long)(b);		\
	if (__a != __b)							\
		ku_fail(__FILE__, __LINE__, #a " == " #b,		\
			"%llu != %llu", __a, __b);			\
} while (0)

/* @hay holds @needle (both NUL-terminated). */
#define CHECK_HAS(hay, needle)						\
	CHECKF(strstr((hay), (needle)), "missing: %s", (needle))
#define CHECK_HASNT(hay, needle)					\
	CHECKF(!strstr((hay), (needle)), "present: %s", (needle))

/* A growing buffer, as a kr_write_fn target. */
struct ku_buf {
	char *p;
	size_t len, cap;
	int fail;		/* errno to fail writes with, 0: none */
};

int ku_buf_write(void *ctx, const void *p, size_t n);
void ku_buf_free(struct ku_buf *b);
/* NUL-terminated view (the NUL is not counted in len). */
const char *ku_buf_str(struct ku_buf *b);

/* Occurrences of @needle in @hay. */
size_t ku_count(const char *hay, const char *needle);

/*
 * Write @doc to the test output directory as @name.json and validate it
 * with tests/check_json.py (strict JSON, UTF-8, trace layout, nesting).
 * True if valid.
 */
bool ku_json_valid(const char *name, const char *doc, size_t len);

/* Run a shell command; its exit status, or -1. */
int ku_run(const char *cmd);

/* A deterministic generator for the tests that need noise. */
static inline uint64_t ku_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

#endif /* KU_UNIT_H */
