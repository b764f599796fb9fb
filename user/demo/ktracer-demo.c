// SPDX-License-Identifier: GPL-2.0
/*
 * ktracer-demo: a small thread-pool server, what `make demo` traces.
 *
 *	ktracer-demo [--kevents] [--io DEVICE]
 *
 * The main thread "accepts" REQUESTS requests: it writes each one's
 * number to a pipe, the work queue, and starts the task
 * "demo.queue_wait" in the request's slot. THREADS workers read
 * requests from that pipe; the one that gets a request stops its
 * queue_wait (a task handed between threads) and serves it in the region
 * "demo.request", whose text is the request's URL, with three regions
 * nested in it: "demo.parse" (a getppid()), "demo.db" (with --io a 4 KiB
 * O_DIRECT read of DEVICE, a block request) and "demo.respond" (the
 * response written to a second pipe). The gauge "demo.inflight" counts
 * the requests being served, the counter "demo.bytes" adds up the
 * responses, and every tenth request fails: the worker logs an error to
 * "demo.log" naming its thread. At the end, of three upstream calls
 * (tasks of "demo.upstream") the main thread ends two and cancels the
 * third, a timeout: one slot.
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
#define REQUESTS	200		/* also the slots of demo.queue_wait */
#define UPSTREAM	3		/* the last one times out */
#define IO_SIZE		4096

struct demo {
	struct ktracer *t;
	uint32_t request, parse, db, respond, queue_wait, upstream;
	uint32_t inflight, bytes, log;
	const char *io;
	int work[2], out[2];		/* the work queue, the responses */
	int active;			/* requests being served */
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

static uint64_t response_size(uint32_t req)
{
	return 64 + req % 7;
}

/* One request, on a worker thread. */
static void serve(struct demo *d, uint32_t req, void *iobuf, int iofd)
{
	char url[64], body[128] = { 0 }, msg[96];
	uint64_t bytes = response_size(req);
	int len;

	snprintf(url, sizeof(url), "GET /items/%u?user=%u", req, req % 13);
	KT(ktracer_stop(d->t, d->queue_wait, req, req));
	KTRACER_REGION_TEXT(d->t, d->request, url);
	KT(ktracer_gauge(d->t, d->inflight,
			 __atomic_add_fetch(&d->active, 1, __ATOMIC_RELAXED)));

	KT(ktracer_region_begin(d->t, d->parse, NULL));
	if (syscall(SYS_getppid) < 0)
		die("getppid: %s", strerror(errno));
	KT(ktracer_region_end(d->t, d->parse));

	KT(ktracer_region_begin(d->t, d->db, NULL));
	if (iofd >= 0 && pread(iofd, iobuf, IO_SIZE, (off_t)req * IO_SIZE) != IO_SIZE)
		die("read %s: %s", d->io, strerror(errno));
	KT(ktracer_region_end(d->t, d->db));

	KT(ktracer_region_begin(d->t, d->respond, NULL));
	if (write(d->out[1], body, bytes) != (ssize_t)bytes)
		die("write to pipe: %s", strerror(errno));
	KT(ktracer_count(d->t, d->bytes, bytes));
	if (req % 10 == 0) {
		len = snprintf(msg, sizeof(msg), "tid %ld: %s: 503 db busy",
			       (long)syscall(SYS_gettid), url);
		KT(ktracer_log(d->t, d->log, msg, (size_t)len));
	}
	KT(ktracer_region_end(d->t, d->respond));
	KT(ktracer_gauge(d->t, d->inflight,
			 __atomic_sub_fetch(&d->active, 1, __ATOMIC_RELAXED)));
}

static void *worker(void *arg)
{
	struct demo *d = arg;
	void *iobuf = NULL;
	int iofd = -1;
	uint32_t req;
	ssize_t n;

	if (d->io) {
		iofd = open(d->io, O_RDONLY | O_DIRECT | O_CLOEXEC);
		if (iofd < 0)
			die("%s: %s", d->io, strerror(errno));
		if (posix_memalign(&iobuf, IO_SIZE, IO_SIZE))
			die("no memory for the IO buffer");
	}
	/* A pipe's reads and writes of 4 bytes are atomic: a work queue. */
	while ((n = read(d->work[0], &req, sizeof(req))) == sizeof(req))
		serve(d, req, iobuf, iofd);
	if (n)
		die("read from the work queue: %s", n < 0 ? strerror(errno) : "short");
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

static void declare(struct demo *d)
{
	struct ktracer *t = d->t;

	KT(ktracer_declare(t, "demo.request", KTRACER_KIND_SPAN, 0, &d->request));
	KT(ktracer_declare(t, "demo.parse", KTRACER_KIND_SPAN, 0, &d->parse));
	KT(ktracer_declare(t, "demo.db", KTRACER_KIND_SPAN, 0, &d->db));
	KT(ktracer_declare(t, "demo.respond", KTRACER_KIND_SPAN, 0, &d->respond));
	KT(ktracer_declare(t, "demo.queue_wait", KTRACER_KIND_SPAN, REQUESTS,
			   &d->queue_wait));
	KT(ktracer_declare(t, "demo.upstream", KTRACER_KIND_SPAN, UPSTREAM,
			   &d->upstream));
	KT(ktracer_declare(t, "demo.inflight", KTRACER_KIND_GAUGE, 0, &d->inflight));
	KT(ktracer_declare(t, "demo.bytes", KTRACER_KIND_COUNTER, 0, &d->bytes));
	KT(ktracer_declare(t, "demo.log", KTRACER_KIND_LOG, 0, &d->log));
}

int main(int argc, char **argv)
{
	static char sink[REQUESTS * 128];
	pthread_t th[THREADS];
	struct demo d = { 0 };
	uint64_t total = 0;
	uint32_t sources = 0, req;
	int use_kevents = 0, i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--kevents"))
			use_kevents = 1;
		else if (!strcmp(argv[i], "--io") && i + 1 < argc)
			d.io = argv[++i];
		else
			die("usage: ktracer-demo [--kevents] [--io DEVICE]");
	}
	if (pipe(d.work) || pipe(d.out))
		die("pipe: %s", strerror(errno));

	KT(ktracer_open(&d.t, NULL));
	if (!d.t)
		die("%s: not available", KTRACER_DEVICE);
	if (use_kevents)
		sources = kevents(KTRACER_DEVICE, 1);
	declare(&d);

	for (i = 0; i < THREADS; i++)
		if (pthread_create(&th[i], NULL, worker, &d))
			die("pthread_create failed");
	for (req = 0; req < REQUESTS; req++) {	/* accept */
		KT(ktracer_start(d.t, d.queue_wait, req, req));
		if (write(d.work[1], &req, sizeof(req)) != sizeof(req))
			die("write to the work queue: %s", strerror(errno));
		total += response_size(req);
	}
	close(d.work[1]);			/* no more requests */
	for (i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	if (read(d.out[0], sink, sizeof(sink)) != (ssize_t)total)
		die("read the responses: %s", strerror(errno));

	for (i = 0; i < UPSTREAM; i++)
		KT(ktracer_start(d.t, d.upstream, (uint32_t)i, (uint64_t)i));
	for (i = 0; i < UPSTREAM - 1; i++)
		KT(ktracer_stop(d.t, d.upstream, (uint32_t)i, 0));
	KT(ktracer_cancel_slot(d.t, d.upstream, UPSTREAM - 1));	/* timeout */
	KT(ktracer_close(d.t));
	if (use_kevents)
		kevents(KTRACER_DEVICE, 0);

	printf("KT-DEMO-EXPECT threads %d\n", THREADS);
	printf("KT-DEMO-EXPECT region demo.request %d\n", REQUESTS);
	printf("KT-DEMO-EXPECT region demo.parse %d\n", REQUESTS);
	printf("KT-DEMO-EXPECT region demo.db %d\n", REQUESTS);
	printf("KT-DEMO-EXPECT region demo.respond %d\n", REQUESTS);
	printf("KT-DEMO-EXPECT task demo.queue_wait %d\n", REQUESTS);
	printf("KT-DEMO-EXPECT task demo.upstream %d\n", UPSTREAM - 1);
	printf("KT-DEMO-EXPECT cancel demo.upstream 1\n");
	printf("KT-DEMO-EXPECT log demo.log %d\n", (REQUESTS + 9) / 10);
	printf("KT-DEMO-EXPECT gauge demo.inflight %d\n", 2 * REQUESTS);
	printf("KT-DEMO-EXPECT counter demo.bytes %llu\n", (unsigned long long)total);
	printf("KT-DEMO-EXPECT kernel-sources %#x\n", sources);
	if (d.io)
		printf("KT-DEMO-EXPECT io %d\n", REQUESTS);
	return 0;
}
