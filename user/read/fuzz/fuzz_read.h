/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktracer-read's fuzzer: what an input is. The fuzzer (fuzz_read.c) and
 * the generator of its seed corpus (fuzz_seeds.c) share it.
 *
 * An input describes a mapping as a broken or hostile kernel could leave
 * it, and drives the reader over it:
 *
 *	byte 0	CPUs - 1 (mod KF_CPUS)
 *	byte 1	bit 0: OVERWRITE mode; bit 1: StatsD; bit 2: tags;
 *		bit 3: no trace; bits 4-7: data size 2^(6 + v % 9), 64 B to
 *		16 KiB per CPU (small: wraps and overruns come quickly)
 *	byte 2	FIFO bytes per CPU: 1 KiB << (v % 4) (the merge rounds up)
 *	byte 3	StatsD datagram size: 0 default, else 64 + v * 4
 *
 * then operations, each one byte: the low nibble is the operation, the
 * high nibble picks the CPU (mod CPUs), and its arguments follow. An
 * input that ends in the middle of one reads zeros.
 */
#ifndef KF_FUZZ_READ_H
#define KF_FUZZ_READ_H

#include <stdbool.h>
#include <stddef.h>

#define KF_CPUS		4
#define KF_HDR		4

enum kf_op {
	/* a record, framed as the kernel frames it: 48 header bytes (size
	 * and len are overwritten), then a message length byte and the
	 * message; a PAD fills the end of the data if it does not fit */
	KF_REC = 0,
	/* raw bytes at an offset of the data: u16 offset, u8 n, n bytes */
	KF_RAW,
	/* head += u16 (any value), published */
	KF_HEAD_ADD,
	/* meta->head = u64 */
	KF_HEAD_SET,
	/* reader->tail = u64 (OVERWRITE lets the kernel move it) */
	KF_TAIL_SET,
	/* a meta counter: u8 which (written, bytes, lost, overwritten,
	 * data_size, tail_resets, magic), u64 value */
	KF_META_SET,
	/* a read cycle at now += u32 */
	KF_CYCLE,
	/* switch DISCARD / OVERWRITE under the reader */
	KF_MODE,
	/* StatsD: the reader's totals, and an emit */
	KF_EMIT,
	/* the events file says: u8 n, n bytes (the header is prepended
	 * when bit 0 of the op's CPU nibble is clear) */
	KF_NAMES,
	/* a PAD or LOST record at head: u8 type, u16 size, u64 arg */
	KF_FILLER,
	/* the clock: now = u64 */
	KF_NOW,
	/* the comm look-up: u8 n (0xff: fails), n bytes */
	KF_COMM,
	/* a record header as given, size and len too (a huge len, a size
	 * that is no record's), at head; then head += u16 and published */
	KF_REC_RAW,
	KF_OPS
};

/* kt_json_check(), without coverage (fuzz_check.c). */
bool kf_json_check(const char *s, size_t len, size_t *err_off,
		   const char **why);

#endif /* KF_FUZZ_READ_H */
