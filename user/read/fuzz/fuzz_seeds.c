// SPDX-License-Identifier: GPL-2.0
/*
 * The seed corpus of ktracer-read's fuzzer: inputs (fuzz_read.h) that
 * describe valid streams, as ktracer.ko writes them: an events file,
 * spans, gauges, counters and logs of programs, the kernel's records,
 * LOST records, read cycles between writes, in both modes and several
 * buffer and FIFO sizes. The fuzzer mutates them into broken ones.
 *
 *	fuzz_seeds DIR		writes DIR/seed-NN
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/ktracer.h>

#include "fuzz_read.h"

struct seed {
	unsigned char b[16384];
	size_t n;
};

static void put(struct seed *s, const void *p, size_t n)
{
	if (s->n + n > sizeof(s->b))
		return;
	memcpy(s->b + s->n, p, n);
	s->n += n;
}

static void put8(struct seed *s, unsigned int v)
{
	unsigned char c = (unsigned char)v;

	put(s, &c, 1);
}

static void put_le(struct seed *s, uint64_t v, unsigned int bytes)
{
	while (bytes--) {
		put8(s, (unsigned int)(v & 0xff));
		v >>= 8;
	}
}

static void rec(struct seed *s, unsigned int cpu, uint8_t type, uint8_t flags,
		uint32_t event, uint64_t ts, uint32_t pid, uint32_t tid,
		uint32_t slot, uint64_t arg, uint64_t extra, const char *msg,
		unsigned int len)
{
	struct ktracer_record r = {
		.type = type, .flags = flags, .event = event, .ts = ts,
		.pid = pid, .tid = tid, .slot = slot, .arg = arg,
		.extra = extra,
	};

	put8(s, cpu << 4 | KF_REC);
	put(s, &r, sizeof(r));
	put8(s, len);
	put(s, msg, len);
}

static void cycle(struct seed *s, uint32_t dt)
{
	put8(s, KF_CYCLE);
	put_le(s, dt, 4);
}

static const char names[] =
	"20 span 4 db.query\n21 gauge 1 queue.depth\n22 counter 1 bytes\n"
	"23 log 1 app.log\n24 span 1 http \"req\"\n";

static void gen(struct seed *s, unsigned int seed, unsigned int ncpu,
		unsigned int flags, unsigned int size_log, unsigned int fifo,
		unsigned int dgram)
{
	static const char comm[] = "worker-thread";
	uint64_t ts = 1000000;
	unsigned int i, cpu;
	uint32_t pid = 100 + seed, tid;

	s->n = 0;
	put8(s, ncpu - 1);
	put8(s, flags | (size_log - 6) << 4);
	put8(s, fifo);
	put8(s, dgram);
	put8(s, KF_NAMES);
	put8(s, sizeof(names) - 1);
	put(s, names, sizeof(names) - 1);
	put8(s, KF_COMM);
	put8(s, 6);
	put(s, "worker", 6);
	srand(seed);
	for (i = 0; i < 40 + seed * 7; i++) {
		cpu = (unsigned int)rand() % ncpu;
		tid = pid + (unsigned int)rand() % 3;
		ts += 1000 + (unsigned int)rand() % 50000;
		switch (rand() % 9) {
		case 0:
			rec(s, cpu, KTRACER_REC_START, 0, 20, ts, pid, tid,
			    i % 4, i, 0, NULL, 0);
			rec(s, cpu, KTRACER_REC_STOP, 0, 20, ts + 700, pid,
			    tid, i % 4, i, 700, NULL, 0);
			break;
		case 1:
			rec(s, cpu, KTRACER_REC_GAUGE, 0, 21, ts, pid, tid, 0,
			    (uint64_t)-(int64_t)i, 0, NULL, 0);
			break;
		case 2:
			rec(s, cpu, KTRACER_REC_COUNT, 0, 22, ts, pid, tid, 0,
			    i, i * (i + 1) / 2, NULL, 0);
			break;
		case 3:
			rec(s, cpu, KTRACER_REC_LOG, 0, 23, ts, pid, tid, 0, 0,
			    0, "a \"log\" line\n\xc3\xa9", 16);
			break;
		case 4: {
			struct ktracer_switch sw = {
				.prev_state = 1, .next_prio = 120,
				.next_comm = "worker",
			};

			rec(s, cpu, KTRACER_REC_START, KTRACER_RECF_KERNEL,
			    KTRACER_KEV_RUNNING, ts, pid, tid, cpu, 120, 0,
			    comm, sizeof(comm) - 1);
			rec(s, cpu, KTRACER_REC_SWITCH, KTRACER_RECF_KERNEL,
			    KTRACER_KEV_RUNNING, ts + 600, pid, pid + 3, cpu,
			    (uint64_t)pid << 32 | tid, 600, (const char *)&sw,
			    sizeof(sw));
			rec(s, cpu, KTRACER_REC_STOP, KTRACER_RECF_KERNEL,
			    KTRACER_KEV_RUNNING, ts + 900, pid, pid + 3, cpu, 1,
			    300, NULL, 0);
			break;
		}
		case 5:
			rec(s, cpu, KTRACER_REC_START, KTRACER_RECF_KERNEL,
			    KTRACER_KEV_IRQ, ts, 0, 0, cpu, 11, 0, "eth0", 4);
			rec(s, cpu, KTRACER_REC_STOP, KTRACER_RECF_KERNEL,
			    KTRACER_KEV_IRQ, ts + 300, 0, 0, cpu, 11, 300,
			    NULL, 0);
			break;
		case 6:
			rec(s, cpu, KTRACER_REC_START, KTRACER_RECF_KERNEL,
			    KTRACER_KEV_SYSCALL, ts, pid, tid, 0, 39, 0, NULL,
			    0);
			rec(s, cpu, KTRACER_REC_STOP, KTRACER_RECF_KERNEL,
			    KTRACER_KEV_SYSCALL, ts + 200, pid, tid, 0, 0, 0,
			    NULL, 0);
			break;
		case 7: {
			struct ktracer_block b = {
				.dev = 8 << 20, .sector = i, .bytes = 4096,
			};

			rec(s, cpu, KTRACER_REC_START, KTRACER_RECF_KERNEL,
			    KTRACER_KEV_BLOCK, ts, pid, tid, i % 8, 0, 0,
			    (const char *)&b, sizeof(b));
			rec(s, cpu, KTRACER_REC_STOP, KTRACER_RECF_KERNEL,
			    KTRACER_KEV_BLOCK, ts + 5000, pid, tid, i % 8, 0,
			    5000, (const char *)&b, sizeof(b));
			break;
		}
		default:
			rec(s, cpu, KTRACER_REC_LOG, KTRACER_RECF_KERNEL,
			    KTRACER_KEV_FORK, ts, pid + 1, pid + 1, 0, tid,
			    pid, "child", 5);
			rec(s, cpu, KTRACER_REC_LOST, 0, 0, ts + 1, 0, 0, 0,
			    3, 0, NULL, 0);
		}
		if (rand() % 4 == 0)
			cycle(s, 1000 + (unsigned int)rand() % 100000);
		if (flags & 2 && rand() % 16 == 0)
			put8(s, KF_EMIT);
	}
	rec(s, 0, KTRACER_REC_CANCEL, KTRACER_RECF_CLOSE, 20, ts + 1, pid,
	    pid, 1, 0, 50, NULL, 0);
	put8(s, KF_EMIT);
}

int main(int argc, char **argv)
{
	struct seed *s = malloc(sizeof(*s));
	char path[4096];
	unsigned int i;
	FILE *f;

	if (argc != 2 || !s) {
		fprintf(stderr, "usage: fuzz_seeds DIR\n");
		return 2;
	}
	for (i = 0; i < 24; i++) {
		gen(s, i, 1 + i % KF_CPUS, i % 8, 9 + i % 8, i % 8,
		    i % 3 ? 0 : 40 + i);
		snprintf(path, sizeof(path), "%s/seed-%02u", argv[1], i);
		f = fopen(path, "wb");
		if (!f || fwrite(s->b, 1, s->n, f) != s->n || fclose(f)) {
			perror(path);
			return 1;
		}
	}
	free(s);
	return 0;
}
