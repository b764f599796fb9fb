// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The example at the top of libktracer.h, as a program: threads that
 * record requests in the slots of one span event, a gauge of the
 * requests in flight, and a log line each. Built against an installed
 * libktracer through pkg-config by `make -C user/lib test`.
 *
 *	example [DEVICE]
 *
 * Without the device (or the module) it runs untraced: every op on a
 * NULL queue returns 0.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <libktracer.h>

#define THREADS		4
#define REQUESTS	100

struct ctx {
	struct ktracer *t;
	uint32_t request, inflight, line;
	unsigned int id;
	int errors;
};

static void *worker(void *arg)
{
	struct ctx *c = arg;
	struct ktracer_queue *q = NULL;
	char msg[64];
	unsigned int i;
	int n;

	if (c->t && ktracer_queue_open(c->t, &q))
		c->errors++;
	for (i = 0; i < REQUESTS; i++) {
		c->errors += !!ktracer_start(q, c->request, c->id, i);
		c->errors += !!ktracer_gauge(q, c->inflight, 1);
		n = snprintf(msg, sizeof(msg), "worker %u request %u", c->id, i);
		c->errors += !!ktracer_log(q, c->line, msg, (size_t)n);
		c->errors += !!ktracer_stop(q, c->request, c->id, i);
	}
	c->errors += !!ktracer_queue_close(q);
	return NULL;
}

int main(int argc, char **argv)
{
	struct ktracer_lib_options opts;
	struct ktracer_lib_stats st;
	struct ctx c[THREADS];
	pthread_t th[THREADS];
	struct ktracer *t;
	uint32_t request = 0, inflight = 0, line = 0;
	int err, errors = 0, i;

	memset(&opts, 0, sizeof(opts));
	opts.size = sizeof(opts);
	opts.device = argc > 1 ? argv[1] : NULL;
	err = ktracer_open(&t, &opts);
	if (err)
		fprintf(stderr, "example: %s: %s: running untraced\n",
			opts.device ? opts.device : KTRACER_DEVICE, strerror(-err));
	if (t && (ktracer_declare(t, "example.request", KTRACER_KIND_SPAN,
				  THREADS, &request) ||
		  ktracer_declare(t, "example.inflight", KTRACER_KIND_GAUGE, 0,
				  &inflight) ||
		  ktracer_declare(t, "example.line", KTRACER_KIND_LOG, 0, &line)))
		errors++;

	for (i = 0; i < THREADS; i++) {
		c[i] = (struct ctx){ .t = t, .request = request,
				     .inflight = inflight, .line = line, .id = i };
		if (pthread_create(&th[i], NULL, worker, &c[i]))
			return 1;
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		errors += c[i].errors;
	}
	if (t && !ktracer_get_stats(t, &st))
		printf("example: %llu ops queued, %llu applied, %llu failed\n",
		       (unsigned long long)st.queued,
		       (unsigned long long)st.applied,
		       (unsigned long long)st.failed);
	errors += !!ktracer_close(t);
	if (errors)
		fprintf(stderr, "example: %d errors\n", errors);
	return errors ? 1 : 0;
}
