/* SPDX-License-Identifier: GPL-2.0 */
/*
 * uapi/linux/ktracer.h must stand alone (it is included first, before any
 * libc header), build as C90 and C11 with -Wall -Wextra -Werror -pedantic,
 * and keep the layout the ABI promises: every struct starts with its size,
 * has no padding, and its first published size never changes.
 */
#include <linux/ktracer.h>

#include <stddef.h>
#include <stdio.h>

/* C90 has no _Static_assert: a negative array size fails the build. */
#define KT_ASSERT(name, cond) typedef char kt_assert_##name[(cond) ? 1 : -1]

KT_ASSERT(version_size, sizeof(struct ktracer_version) == KTRACER_VERSION_SIZE_VER0);
KT_ASSERT(version_size_first, offsetof(struct ktracer_version, size) == 0);
KT_ASSERT(enable_size, sizeof(struct ktracer_enable) == KTRACER_ENABLE_SIZE_VER0);
KT_ASSERT(enable_size_first, offsetof(struct ktracer_enable, size) == 0);
KT_ASSERT(register_size, sizeof(struct ktracer_register) == KTRACER_REGISTER_SIZE_VER0);
KT_ASSERT(op_size, sizeof(struct ktracer_op) == KTRACER_OP_SIZE_VER1);
KT_ASSERT(op_ver0, offsetof(struct ktracer_op, text) == KTRACER_OP_SIZE_VER0);
KT_ASSERT(queue_size, sizeof(struct ktracer_queue) == KTRACER_QUEUE_SIZE_VER0);
KT_ASSERT(flush_size, sizeof(struct ktracer_flush) == KTRACER_FLUSH_SIZE_VER0);
KT_ASSERT(qentry_size, sizeof(struct ktracer_qentry) == KTRACER_QENTRY_SIZE);
KT_ASSERT(qring_clock, offsetof(struct ktracer_qring, clock) == 16);
KT_ASSERT(qring_head, offsetof(struct ktracer_qring, head) == 64);
KT_ASSERT(qring_tail, offsetof(struct ktracer_qring, tail) == 128);
KT_ASSERT(qring_size, sizeof(struct ktracer_qring) == 168);
KT_ASSERT(batch_size, sizeof(struct ktracer_batch) == KTRACER_BATCH_SIZE_VER0);
KT_ASSERT(config_size, sizeof(struct ktracer_config) == KTRACER_CONFIG_SIZE_VER0);
KT_ASSERT(reset_size, sizeof(struct ktracer_reset) == KTRACER_RESET_SIZE_VER0);
KT_ASSERT(kevents_size, sizeof(struct ktracer_kevents) == KTRACER_KEVENTS_SIZE_VER0);
KT_ASSERT(names_size, sizeof(struct ktracer_names) == KTRACER_NAMES_SIZE_VER0);
KT_ASSERT(names_size_24, KTRACER_NAMES_SIZE_VER0 == 24);
KT_ASSERT(name_size, sizeof(struct ktracer_name) == 80);
KT_ASSERT(name_name, offsetof(struct ktracer_name, name) == 16);
KT_ASSERT(names_buf, offsetof(struct ktracer_names, buf) == 16);
KT_ASSERT(block_size, sizeof(struct ktracer_block) == 24);
KT_ASSERT(kernel_events, KTRACER_KEV_LAST == 9);
KT_ASSERT(record_size, sizeof(struct ktracer_record) == 48);
KT_ASSERT(record_aligned, sizeof(struct ktracer_record) % 8 == 0);
KT_ASSERT(reader_size, sizeof(struct ktracer_reader) == 24);
KT_ASSERT(meta_size, sizeof(struct ktracer_meta) == 72);
KT_ASSERT(state_size, sizeof(struct ktracer_state) == 48);
KT_ASSERT(magic, KTRACER_IOC_MAGIC == 0xBC);

static int check(const char *what, unsigned long got, unsigned long want)
{
	if (got == want)
		return 0;
	fprintf(stderr, "uapi: %s is %lu, the ABI says %lu\n", what, got, want);
	return 1;
}

int main(void)
{
	int bad = 0;

	/* The ioctl numbers are ABI: they change only with KTRACER_ABI_MAJOR. */
	bad |= check("KTRACER_IOC_VERSION", KTRACER_IOC_VERSION, 0xc010bc00UL);
	bad |= check("KTRACER_IOC_ENABLE", KTRACER_IOC_ENABLE, 0x4010bc01UL);
	bad |= check("KTRACER_IOC_REGISTER", KTRACER_IOC_REGISTER, 0xc058bc02UL);
	/* (OP's number grew with its struct in minor 1: the size in a
	 * number is not looked at, 0x4028bc03 reaches the same command) */
	bad |= check("KTRACER_IOC_OP", KTRACER_IOC_OP, 0x4030bc03UL);
	bad |= check("KTRACER_IOC_BATCH", KTRACER_IOC_BATCH, 0xc020bc04UL);
	bad |= check("KTRACER_IOC_CONFIG", KTRACER_IOC_CONFIG, 0x4018bc05UL);
	bad |= check("KTRACER_IOC_RESET", KTRACER_IOC_RESET, 0x4008bc06UL);
	bad |= check("KTRACER_IOC_KEVENTS", KTRACER_IOC_KEVENTS, 0xc020bc07UL);
	bad |= check("KTRACER_IOC_QUEUE", KTRACER_IOC_QUEUE, 0xc020bc08UL);
	bad |= check("KTRACER_IOC_FLUSH", KTRACER_IOC_FLUSH, 0xc020bc09UL);
	bad |= check("KTRACER_IOC_NAMES", KTRACER_IOC_NAMES, 0xc018bc0aUL);
	bad |= check("offsetof(ktracer_record, ts)",
		     offsetof(struct ktracer_record, ts), 8);
	bad |= check("offsetof(ktracer_record, extra)",
		     offsetof(struct ktracer_record, extra), 40);
	bad |= check("offsetof(ktracer_meta, head)",
		     offsetof(struct ktracer_meta, head), 24);
	bad |= check("offsetof(ktracer_batch, done)",
		     offsetof(struct ktracer_batch, done), 24);
	bad |= check("offsetof(ktracer_version, minor)",
		     offsetof(struct ktracer_version, minor), 12);
	bad |= check("offsetof(ktracer_enable, __reserved)",
		     offsetof(struct ktracer_enable, __reserved), 12);
	return bad;
}
