// SPDX-License-Identifier: GPL-2.0
/*
 * insn_prof: a qemu TCG plugin (system emulation, x86-64 guest, one vCPU)
 * that counts the guest instructions executed at each guest virtual
 * address between two marker instructions (marker.h), user and kernel
 * alike, and writes them out when qemu exits:
 *
 *	qemu-system-x86_64 -plugin insn_prof.so,out=FILE ...
 *
 * FILE: a line "# insn_prof start=S stop=T" (how many times each marker
 * ran: a clean window is 1 and 1), then "VADDR COUNT" lines, VADDR in hex,
 * sorted. Only the first START and the first STOP after it count.
 *
 * How: every translated block gets a record of its instructions' addresses
 * and an inline counter (QEMU_PLUGIN_INLINE_ADD_U64, bumped at the block's
 * start, after -icount's budget check: a block that is not run is not
 * counted). START zeroes every block's counter, STOP adds each block's
 * count to each of its instructions' addresses. A block left in the middle
 * by an exception counts whole; `rep` string instructions count once per
 * iteration, as -icount does. The counters are plain: one vCPU in one
 * host thread (-accel tcg,thread=single), which the plugin insists on.
 *
 * qemu 7.2 (Debian's) implements plugin API version 1. Its header,
 * include/qemu/qemu-plugin.h, is in no Debian binary package: what this
 * plugin uses of it is declared below, with 7.2's types and signatures.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "marker.h"

/* ---- qemu 7.2's plugin API (QEMU_PLUGIN_VERSION 1), the parts used ---- */

#define QEMU_PLUGIN_EXPORT	__attribute__((visibility("default")))
#define QEMU_PLUGIN_VERSION	1

typedef uint64_t qemu_plugin_id_t;

typedef struct qemu_info_t {
	const char *target_name;
	struct {
		int min;
		int cur;
	} version;
	bool system_emulation;
	union {
		struct {
			int smp_vcpus;
			int max_vcpus;
		} system;
	};
} qemu_info_t;

struct qemu_plugin_tb;
struct qemu_plugin_insn;

enum qemu_plugin_cb_flags {
	QEMU_PLUGIN_CB_NO_REGS,
	QEMU_PLUGIN_CB_R_REGS,
	QEMU_PLUGIN_CB_RW_REGS,
};

enum qemu_plugin_op {
	QEMU_PLUGIN_INLINE_ADD_U64,
};

typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index,
					    void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id,
					       struct qemu_plugin_tb *tb);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
					   qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb,
					      enum qemu_plugin_op op,
					      void *ptr, uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
					    qemu_plugin_vcpu_udata_cb_t cb,
					    enum qemu_plugin_cb_flags flags,
					    void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb,
						 size_t idx);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id,
				    qemu_plugin_udata_cb_t cb, void *userdata);
void qemu_plugin_outs(const char *string);

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;
QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
					   const qemu_info_t *info,
					   int argc, char **argv);

/* ---- the profile ---- */

/* One translated block: its counter and its instructions' addresses. */
struct block {
	uint64_t execs;		/* the inline counter */
	struct block *next;
	uint64_t vaddr;		/* of the first instruction */
	uint32_t n;
	uint8_t len[];		/* each instruction's length in bytes */
};

struct hit {
	uint64_t vaddr, count;
};

static const char *out_path;
static struct block *blocks;		/* every block ever translated */
static unsigned int starts, stops;	/* marker executions */
static bool counting, done;
static struct hit *hits;		/* the window's, sorted, merged */
static size_t nhits;
static uint64_t total;

static void fail(const char *what)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "insn_prof: %s\n", what);
	qemu_plugin_outs(msg);
	fprintf(stderr, "%s", msg);
	exit(1);
}

static void start_window(unsigned int vcpu, void *udata)
{
	(void)vcpu;
	(void)udata;
	starts++;
	if (counting || done)
		return;
	for (struct block *b = blocks; b; b = b->next)
		b->execs = 0;
	counting = true;
}

static int cmp_hit(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;

	return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

static void stop_window(unsigned int vcpu, void *udata)
{
	size_t n = 0, cap = 0;

	(void)vcpu;
	(void)udata;
	stops++;
	if (!counting)
		return;
	counting = false;
	done = true;
	for (struct block *b = blocks; b; b = b->next)
		if (b->execs)
			cap += b->n;
	hits = malloc((cap ? cap : 1) * sizeof(*hits));
	if (!hits)
		fail("out of memory");
	for (struct block *b = blocks; b; b = b->next) {
		uint64_t va = b->vaddr;

		if (!b->execs)
			continue;
		for (uint32_t i = 0; i < b->n; va += b->len[i++]) {
			hits[n++] = (struct hit){ va, b->execs };
			total += b->execs;
		}
	}
	qsort(hits, n, sizeof(*hits), cmp_hit);
	for (size_t i = 0; i < n; i++) {
		if (nhits && hits[nhits - 1].vaddr == hits[i].vaddr)
			hits[nhits - 1].count += hits[i].count;
		else
			hits[nhits++] = hits[i];
	}
}

/* The magic of a marker instruction, or 0. */
static uint32_t marker_of(const struct qemu_plugin_insn *insn)
{
	const uint8_t *p = qemu_plugin_insn_data(insn);

	if (qemu_plugin_insn_size(insn) != KT_PROF_MARKER_LEN ||
	    p[0] != 0x0f || p[1] != 0x1f || p[2] != 0x80)
		return 0;
	return (uint32_t)p[3] | (uint32_t)p[4] << 8 | (uint32_t)p[5] << 16 |
	       (uint32_t)p[6] << 24;
}

static void translated(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t n = qemu_plugin_tb_n_insns(tb);
	struct block *b = malloc(sizeof(*b) + n);
	uint64_t va;

	(void)id;
	if (!b)
		fail("out of memory");
	b->execs = 0;
	b->n = n;
	b->vaddr = n ? qemu_plugin_insn_vaddr(qemu_plugin_tb_get_insn(tb, 0)) : 0;
	va = b->vaddr;
	for (size_t i = 0; i < n; va += b->len[i++]) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);

		/* x86's blocks are straight runs of bytes: len[] places them. */
		if (qemu_plugin_insn_vaddr(insn) != va)
			fail("a block's instructions are not contiguous");
		b->len[i] = qemu_plugin_insn_size(insn);
		switch (marker_of(insn)) {
		case KT_PROF_START:
			qemu_plugin_register_vcpu_insn_exec_cb(insn, start_window,
							       QEMU_PLUGIN_CB_NO_REGS, NULL);
			break;
		case KT_PROF_STOP:
			qemu_plugin_register_vcpu_insn_exec_cb(insn, stop_window,
							       QEMU_PLUGIN_CB_NO_REGS, NULL);
			break;
		}
	}
	b->next = blocks;
	blocks = b;
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
						 &b->execs, 1);
}

static void write_out(qemu_plugin_id_t id, void *udata)
{
	FILE *f = fopen(out_path, "w");

	(void)id;
	(void)udata;
	if (!f) {
		fprintf(stderr, "insn_prof: %s: %s\n", out_path, strerror(errno));
		return;
	}
	fprintf(f, "# insn_prof start=%u stop=%u insns=%" PRIu64 " addrs=%zu\n",
		starts, stops, total, nhits);
	for (size_t i = 0; i < nhits; i++)
		fprintf(f, "%" PRIx64 " %" PRIu64 "\n", hits[i].vaddr, hits[i].count);
	if (fclose(f))
		fprintf(stderr, "insn_prof: %s: %s\n", out_path, strerror(errno));
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
					   const qemu_info_t *info,
					   int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "out=", 4)) {
			out_path = argv[i] + 4;
		} else {
			fprintf(stderr, "insn_prof: unknown argument %s (takes out=FILE)\n",
				argv[i]);
			return 1;
		}
	}
	if (!out_path || !*out_path) {
		fprintf(stderr, "insn_prof: needs out=FILE\n");
		return 1;
	}
	if (strcmp(info->target_name, "x86_64") || !info->system_emulation ||
	    info->system.max_vcpus != 1) {
		fprintf(stderr, "insn_prof: needs qemu-system-x86_64 with one vCPU (-smp 1), not %s with %d\n",
			info->target_name,
			info->system_emulation ? info->system.max_vcpus : 0);
		return 1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, translated);
	qemu_plugin_register_atexit_cb(id, write_out, NULL);
	return 0;
}
