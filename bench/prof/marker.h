/* SPDX-License-Identifier: GPL-2.0 */
/*
 * marker.h: the two instructions that open and close the window in which
 * insn_prof.c, a qemu TCG plugin, counts guest instructions. Each is a
 * 7-byte `nopl disp32(%rax)` whose displacement is a magic number: a
 * no-op on any x86-64 CPU, and a byte pattern no compiler emits, so the
 * plugin finds it by its bytes alone, in any process, without symbols
 * or registers.
 */
#ifndef KT_PROF_MARKER_H
#define KT_PROF_MARKER_H

#define KT_PROF_START	0x4b545031	/* "1PTK" */
#define KT_PROF_STOP	0x4b545030	/* "0PTK" */

/* The instruction's bytes: 0f 1f 80, then the magic, little-endian. */
#define KT_PROF_MARKER_LEN	7

#ifdef __x86_64__
/* A compiler barrier too: nothing moves across the window's edges. */
#define KT_PROF_MARK(magic) \
	__asm__ volatile("nopl %c0(%%rax)" :: "i" (magic) : "memory")
#endif

#endif /* KT_PROF_MARKER_H */
