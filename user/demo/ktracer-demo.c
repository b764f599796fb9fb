// SPDX-License-Identifier: GPL-2.0
/*
 * ktracer-demo: a small instrumented program, what `make demo` traces.
 *
 *	ktracer-demo [--kevents] [--io DEVICE]
 *
 * THREADS worker threads each serve REQUESTS requests. A request is a
 * span of "demo.request" in the worker's slot, with two "demo.step"
 * spans nested inside it (parse, then execute, in the worker's slot of
 * that event), a getppid() and a write() to a pipe (some syscalls), and
 * with --io a 4 KiB O_DIRECT read of DEVICE (a block request). Each
 * request sets the gauge "demo.inflight" and adds its bytes to the counter
 * "demo.bytes"; every tenth logs a line to "demo.log". Then the main
 * thread opens three slots of "demo.abandoned" and cancels them.
 *
 * With --kevents the program switches ktracer's kernel sources on for
 * itself (sched, task, irq, softirq, syscall with a filter of its own pid,
 * and block if available) and off at the end: it must run as root.
 *
 * It prints what it did, "KT-DEMO-EXPECT <what> <n>" lines, so that the
 * trace and the StatsD lines can be checked against them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <libktracer.h>

#define THREADS		4
#define REQUESTS	50
#define ABANDONED	3
#define IO_SIZE		4096

struct demo {
	struct ktracer *t;
	uint32_t request, step, inflight, bytes, log, abandoned;
	const char *io;
	int pipe[2];
	int active;			/* requests in flight, all threads */
};

struct worker {
	struct demo *d;
	unsigned int n;
	int err;
};

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("ktracer-demo: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

/* A call of libktracer: any error ends the demo with its name. */
#define KT(call) do {							\
	int __r = (call);						\
	if (__r)							\
		die("%s: %s", #call, strerror(-__r));			\
} while (0)

/* One request: the work between START and STOP of demo.request. */
static void serve(struct worker *w, struct ktracer_queue *q,
		  unsigned int req, void *iobuf, int iofd)
{
	struct demo *d = w->d;
	uint64_t bytes = 64 + req % 7;
	char line[64];
	int len;

	KT(ktracer_start(q, d->request, w->n, req));
	KT(ktracer_gauge(q, d->inflight,
			 __atomic_add_fetch(&d->active, 1, __ATOMIC_RELAXED)));

	KT(ktracer_start(q, d->step, w->n, 0));	/* parse */
	if (syscall(SYS_getppid) < 0)
		die("getppid: %s", strerror(errno));
	KT(ktracer_stop(q, d->step, w->n, 0));

	KT(ktracer_start(q, d->step, w->n, 1));	/* execute */
	if (write(d->pipe[1], line, 1) != 1)
		die("write to pipe: %s", strerror(errno));
	if (iofd >= 0 && pread(iofd, iobuf, IO_SIZE,
			       (off_t)(w->n * REQUESTS + req) * IO_SIZE) != IO_SIZE)
		die("read %s: %s", d->io, strerror(errno));
	KT(ktracer_stop(q, d->step, w->n, 1));

	KT(ktracer_count(q, d->bytes, bytes));
	if (req % 10 == 0) {
		len = snprintf(line, sizeof(line), "worker %u: request %u \"done\"",
			       w->n, req);
		KT(ktracer_log(q, d->log, line, (size_t)len));
	}
	KT(ktracer_gauge(q, d->inflight,
			 __atomic_sub_fetch(&d->active, 1, __ATOMIC_RELAXED)));
	KT(ktracer_stop(q, d->request, w->n, bytes));
}

static void *worker(void *arg)
{
	struct worker *w = arg;
	struct ktracer_queue *q;
	void *iobuf = NULL;
	int iofd = -1;
	unsigned int req;

	KT(ktracer_queue_open(w->d->t, &q));
	if (w->d->io) {
		iofd = open(w->d->io, O_RDONLY | O_DIRECT | O_CLOEXEC);
		if (iofd < 0)
			die("%s: %s", w->d->io, strerror(errno));
		if (posix_memalign(&iobuf, IO_SIZE, IO_SIZE))
			die("no memory for the IO buffer");
	}
	for (req = 0; req < REQUESTS; req++)
		serve(w, q, req, iobuf, iofd);
	KT(ktracer_queue_close(q));
	if (iofd >= 0)
		close(iofd);
	free(iobuf);
	return NULL;
}

/* Kernel sources on (for this process) or off; returns those set. */
static uint32_t kevents(const char *dev, int on)
{
	struct ktracer_kevents k = { .size = sizeof(k) };
	int32_t self = getpid();
	int fd = open(dev, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		die("%s: %s", dev, strerror(errno));
	if (ioctl(fd, KTRACER_IOC_KEVENTS, &k))
		die("KTRACER_IOC_KEVENTS (query): %s", strerror(errno));
	k.flags = KTRACER_KEVENTS_SOURCES | KTRACER_KEVENTS_PIDS;
	k.sources = on ? k.available : 0;
	k.pids = on ? (uintptr_t)&self : 0;
	k.npids = on ? 1 : 0;
	if (ioctl(fd, KTRACER_IOC_KEVENTS, &k))
		die("KTRACER_IOC_KEVENTS sources=%#x: %s", k.sources,
		    strerror(errno));
	close(fd);
	return k.sources;
}

int main(int argc, char **argv)
{
	struct ktracer_queue *q;
	struct worker w[THREADS];
	pthread_t th[THREADS];
	struct demo d = { 0 };
	uint32_t sources = 0;
	int use_kevents = 0, i;
	char sink[THREADS * REQUESTS];

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--kevents"))
			use_kevents = 1;
		else if (!strcmp(argv[i], "--io") && i + 1 < argc)
			d.io = argv[++i];
		else
			die("usage: ktracer-demo [--kevents] [--io DEVICE]");
	}
	if (pipe(d.pipe))
		die("pipe: %s", strerror(errno));

	KT(ktracer_open(&d.t, NULL));
	if (!d.t)
		die("%s: not available", KTRACER_DEVICE);
	if (use_kevents)
		sources = kevents(KTRACER_DEVICE, 1);
	KT(ktracer_declare(d.t, "demo.request", KTRACER_KIND_SPAN, THREADS, &d.request));
	KT(ktracer_declare(d.t, "demo.step", KTRACER_KIND_SPAN, THREADS, &d.step));
	KT(ktracer_declare(d.t, "demo.inflight", KTRACER_KIND_GAUGE, 0, &d.inflight));
	KT(ktracer_declare(d.t, "demo.bytes", KTRACER_KIND_COUNTER, 0, &d.bytes));
	KT(ktracer_declare(d.t, "demo.log", KTRACER_KIND_LOG, 0, &d.log));
	KT(ktracer_declare(d.t, "demo.abandoned", KTRACER_KIND_SPAN, ABANDONED,
			   &d.abandoned));

	for (i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .d = &d, .n = (unsigned int)i };
		if (pthread_create(&th[i], NULL, worker, &w[i]))
			die("pthread_create failed");
	}
	for (i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	if (read(d.pipe[0], sink, sizeof(sink)) != (ssize_t)sizeof(sink))
		die("read from pipe: %s", strerror(errno));

	KT(ktracer_queue_open(d.t, &q));
	for (i = 0; i < ABANDONED; i++)
		KT(ktracer_start(q, d.abandoned, (uint32_t)i, (uint64_t)i));
	KT(ktracer_cancel(q, d.abandoned));
	KT(ktracer_queue_close(q));
	KT(ktracer_close(d.t));
	if (use_kevents)
		kevents(KTRACER_DEVICE, 0);

	printf("KT-DEMO-EXPECT span demo.request %d\n", THREADS * REQUESTS);
	printf("KT-DEMO-EXPECT span demo.step %d\n", 2 * THREADS * REQUESTS);
	printf("KT-DEMO-EXPECT cancel demo.abandoned %d\n", ABANDONED);
	printf("KT-DEMO-EXPECT log demo.log %d\n", THREADS * ((REQUESTS + 9) / 10));
	printf("KT-DEMO-EXPECT gauge demo.inflight %d\n", 2 * THREADS * REQUESTS);
	printf("KT-DEMO-EXPECT counter demo.bytes %llu\n",
	       (unsigned long long)THREADS * (REQUESTS * 64ULL +
		(REQUESTS / 7) * 21ULL + (REQUESTS % 7) * (REQUESTS % 7 - 1) / 2));
	printf("KT-DEMO-EXPECT kernel-sources %#x\n", sources);
	if (d.io)
		printf("KT-DEMO-EXPECT io %d\n", THREADS * REQUESTS);
	return 0;
}
