// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What an op costs the library, in instructions: each loop_* function
 * makes N ops of one kind through the library's real code, against the
 * unit tests' stand-in kernel (fake.c) with a ring large enough (1 MiB,
 * 32768 entries) that no op drops or asks for a drain. bench.sh runs it under valgrind's
 * callgrind, collecting inside one loop at a time.
 *
 *	bench			run every loop once (a check that it works)
 */
#include <stdio.h>

#include "fake.h"

#define N	8192

static struct ktracer *t;
static uint32_t region, task, gauge;

__attribute__((noinline)) void loop_gauge(void)
{
	for (int i = 0; i < N; i++)
		ktracer_gauge(t, gauge, i);
}

__attribute__((noinline)) void loop_task(void)
{
	for (int i = 0; i < N / 2; i++) {
		ktracer_start(t, task, 1, i);
		ktracer_stop(t, task, 1, i);
	}
}

__attribute__((noinline)) void loop_region(void)
{
	for (int i = 0; i < N / 2; i++) {
		ktracer_region_begin(t, region, NULL);
		ktracer_region_end(t, region);
	}
}

__attribute__((noinline)) void loop_off(void)
{
	for (int i = 0; i < N; i++)
		ktracer_gauge(t, gauge, i);
}

int main(void)
{
	static struct fake f;
	struct ktracer_lib_options o = { .size = sizeof(o),
					 .ring_size = KTRACER_QUEUE_RING_MAX };
	struct ktracer_state st;
	size_t want = 3 * N + 1;

	fake_init(&f);
	f.tsc_error = 0;	/* TSC queues, where the library asks for them */
	if (fake_tracer(&f, &o, &t, &st) ||
	    ktracer_declare(t, "region", KTRACER_KIND_SPAN, 4, &region) ||
	    ktracer_declare(t, "task", KTRACER_KIND_SPAN, 4, &task) ||
	    ktracer_declare(t, "gauge", KTRACER_KIND_GAUGE, 0, &gauge) ||
	    ktracer_gauge(t, gauge, 0))	/* the thread's queue, first */
		return 1;
	fake_drain(&f);
	loop_gauge();
	fake_drain(&f);
	loop_task();
	fake_drain(&f);
	loop_region();
	fake_drain(&f);
	st.enabled = 0;
	loop_off();
	if (f.nlog != want || f.refused || ktracer_close(t)) {
		fprintf(stderr, "bench: %zu records (want %zu), %llu refused\n",
			f.nlog, want, (unsigned long long)f.refused);
		return 1;
	}
	fake_fini(&f);
	return 0;
}
