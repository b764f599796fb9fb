/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A stand-in for /dev/ktracer for libktracer's host tests: REGISTER, OP,
 * QUEUE (create, adopt), FLUSH and the queues' mappings, with the rules
 * of uapi/linux/ktracer.h. A queue is memory the fake allocates (not
 * inherited by fork(), as the kernel's): a drain validates the program's
 * head and every entry as the ABI says, applies the entries of all queues
 * in ts order (equal ts: lower queue id first) and logs what it applied,
 * each with the queue's owner thread. Used from C (unit_test.c) and C++
 * (cxx_test.cpp).
 */
#ifndef KTL_FAKE_H
#define KTL_FAKE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "libktracer.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FAKE_EVENTS	64
#define FAKE_QUEUES	64

/* A record the fake wrote: an op applied, or a LOST. */
struct fake_rec {
	uint16_t op;		/* KTRACER_OP_*, or 0 for LOST */
	uint16_t flags;
	uint32_t event, slot, len;
	uint64_t value;		/* LOST: ops dropped */
	uint64_t ts;
	int tid;		/* the queue's owner, or OP's caller */
	uint32_t queue;		/* the queue's id; 0 for OP */
	char text[KTRACER_LOG_MAX];
};

struct fake_queue {
	struct ktracer_qring *q;
	size_t map_size;
	uint32_t ring_size;
	int owner;		/* tid */
	uint64_t dropped_seen;
	bool mapped;
};

struct fake {
	pthread_mutex_t lock;	/* everything below */
	pthread_mutex_t drain;	/* one drain at a time */
	uint32_t nevents;
	struct {
		char name[KTRACER_NAME_MAX];
		uint32_t kind, slots;
		uint64_t *start;	/* spans: START time per slot, 0 closed */
	} ev[FAKE_EVENTS + 1];
	struct fake_queue queues[FAKE_QUEUES + 1];	/* by id, from 1 */
	uint32_t nqueues;
	struct fake_rec *log;
	size_t nlog, caplog;
	/* Counted calls. */
	uint32_t ioctls, ops, registers, creates, adopts;
	uint32_t flushes_wait, flushes_nowait, busy, intervals;
	uint64_t refused;
	int last_error;
	/* FLUSH without WAIT drains nothing (a drain elsewhere, stuck). */
	bool stuck;
	/* QUEUE fails with this, if not 0. */
	int queue_error;
};

void fake_init(struct fake *f);
void fake_fini(struct fake *f);
/* Drain every queue now, as a FLUSH with WAIT. */
void fake_drain(struct fake *f);
/* Point @t's system calls at @f, and its state at @state (enabled). */
void fake_attach(struct fake *f, struct ktracer *t, struct ktracer_state *state);
/* The calling thread's tid: what the fake names records after. */
int fake_tid(void);
/* A tracer with @opts (NULL: the defaults) on @f, as fake_attach() sets it. */
int fake_tracer(struct fake *f, const struct ktracer_lib_options *opts,
		struct ktracer **tp, struct ktracer_state *state);
/* Records of op @op (0: LOST) in the log. */
size_t fake_count(struct fake *f, uint16_t op);

#ifdef __cplusplus
}
#endif

#endif /* KTL_FAKE_H */
