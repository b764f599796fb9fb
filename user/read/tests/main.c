// SPDX-License-Identifier: GPL-2.0
/*
 * ktracer-read's host tests: run every test, one "ok"/"not ok" line each,
 * then "N passed, N failed". No kernel needed: records are built in
 * memory with the uapi structs.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "tests.h"

static int ku_failures;

void ku_fail(const char *file, int line, const char *expr, const char *fmt, ...)
{
	va_list ap;

	ku_failures++;
	printf("#   %s:%d: CHECK(%s) failed", file, line, expr);
	if (fmt) {
		fputs(": ", stdout);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	putchar('\n');
}

int ku_buf_write(void *ctx, const void *p, size_t n)
{
	struct ku_buf *b = ctx;
	char *np;

	if (b->fail)
		return b->fail;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (cap < b->len + n + 1)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np)
			return ENOMEM;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

void ku_buf_free(struct ku_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

const char *ku_buf_str(struct ku_buf *b)
{
	if (!b->p)
		ku_buf_write(b, "", 0);
	return b->p ? b->p : "";
}

size_t ku_count(const char *hay, const char *needle)
{
	size_t n = 0, l = strlen(needle);

	while ((hay = strstr(hay, needle))) {
		n++;
		hay += l;
	}
	return n;
}

int ku_run(const char *cmd)
{
	int st = system(cmd);

	return st < 0 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

bool ku_json_valid(const char *name, const char *doc, size_t len)
{
	const char *dir = getenv("KR_TEST_OUT"), *py = getenv("KR_PYTHON");
	const char *check = getenv("KR_CHECK_JSON");
	char path[512], cmd[1200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.json", dir ? dir : ".", name);
	f = fopen(path, "wb");
	if (!f || fwrite(doc, 1, len, f) != len || fclose(f)) {
		printf("#   cannot write %s\n", path);
		return false;
	}
	snprintf(cmd, sizeof(cmd), "%s %s %s", py ? py : "python3",
		 check ? check : "tests/check_json.py", path);
	return ku_run(cmd) == 0;
}

#define KU_ENTRY(fn) { #fn, fn },

static const struct {
	const char *name;
	void (*fn)(void);
} ku_tests[] = {
	KU_TESTS(KU_ENTRY)
};

int main(int argc, char **argv)
{
	size_t i, n = sizeof(ku_tests) / sizeof(ku_tests[0]);
	int passed = 0, failed = 0, before;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n1..%zu\n", n);
	for (i = 0; i < n; i++) {
		if (argc > 1 && !strstr(ku_tests[i].name, argv[1])) {
			printf("ok %zu - %s # SKIP not selected\n", i + 1,
			       ku_tests[i].name);
			continue;
		}
		before = ku_failures;
		ku_tests[i].fn();
		if (ku_failures == before) {
			passed++;
			printf("ok %zu - %s\n", i + 1, ku_tests[i].name);
		} else {
			failed++;
			printf("not ok %zu - %s\n", i + 1, ku_tests[i].name);
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
