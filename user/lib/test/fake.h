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
 *
 * KTRACER_QUEUE_TSC: by default refused with EINVAL, as a kernel of ABI
 * minor 1 does; with tsc_error 0 (x86-64 only) such queues are made and
 * their entries' TSC converted to CLOCK_MONOTONIC at each drain, by the
 * rate measured between fake_init() and the drain's beginning (an anchor
 * pair of rdtsc and CLOCK_MONOTONIC at each end). As in the kernel, an
 * entry after the drain's beginning waits for the next drain, one after
 * the head was read (in the future) or 0 converts to 0, refused.
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
	bool tsc;		/* KTRACER_QUEUE_TSC */
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
	/* QUEUE with KTRACER_QUEUE_TSC fails with this, if not 0 (-EINVAL). */
	int tsc_error;
	/* A TSC queue says KTRACER_QCLOCK_MONOTONIC (a kernel that lies). */
	bool tsc_lie;
	/* TSC queues: CLOCK_MONOTONIC and the TSC at fake_init(). */
	uint64_t ns0, tsc0;
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
