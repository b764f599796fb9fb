// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The example at the top of libktracer.h and README.md, as a program:
 * threads that handle requests, each a region with a text and a nested
 * region, and a log line. Built against an installed libktracer through
 * pkg-config by `make -C user/lib test`.
 *
 *	example [DEVICE]
 *
 * Without the device (or the module) it runs untraced: every op on a
 * NULL tracer returns 0.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <libktracer.h>

#define THREADS		4
#define REQUESTS	100

static struct ktracer *t;
static uint32_t req, db, line;

static int handle(unsigned int worker, unsigned int i)
{
	char url[64];
	int n = snprintf(url, sizeof(url), "GET /item/%u/%u", worker, i);
	KTRACER_REGION_TEXT(t, req, url);	/* ends with the function */
	int err = ktracer_region_begin(t, db, NULL);

	err |= ktracer_region_end(t, db);
	return err | ktracer_log(t, line, url, (size_t)n);
}

static void *worker(void *arg)
{
	unsigned int i, id = (unsigned int)(uintptr_t)arg;
	intptr_t errors = 0;

	for (i = 0; i < REQUESTS; i++)
		errors += !!handle(id, i);
	return (void *)errors;
}

int main(int argc, char **argv)
{
	struct ktracer_lib_options opts;
	struct ktracer_lib_stats st;
	pthread_t th[THREADS];
	void *ret;
	int err, errors = 0;
	unsigned int i;

	memset(&opts, 0, sizeof(opts));
	opts.size = sizeof(opts);
	opts.device = argc > 1 ? argv[1] : NULL;
	err = ktracer_open(&t, &opts);
	if (err)
		fprintf(stderr, "example: %s: %s: running untraced\n",
			opts.device ? opts.device : KTRACER_DEVICE, strerror(-err));
	if (t && (ktracer_declare(t, "example.request", KTRACER_KIND_SPAN, 0, &req) ||
		  ktracer_declare(t, "example.db", KTRACER_KIND_SPAN, 0, &db) ||
		  ktracer_declare(t, "example.line", KTRACER_KIND_LOG, 0, &line)))
		errors++;

	for (i = 0; i < THREADS; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)i))
			return 1;
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], &ret);
		errors += (int)(intptr_t)ret;
	}
	if (t && !ktracer_flush(t) && !ktracer_get_stats(t, &st))
		printf("example: %llu ops applied, %llu refused, %llu dropped\n",
		       (unsigned long long)st.applied,
		       (unsigned long long)st.refused,
		       (unsigned long long)st.dropped);
	errors += !!ktracer_close(t);
	if (errors)
		fprintf(stderr, "example: %d errors\n", errors);
	return errors ? 1 : 0;
}
