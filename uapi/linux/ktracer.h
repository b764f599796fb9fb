/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ktracer: the user-space ABI of /dev/ktracer.
 *
 * This header is the whole contract between ktracer.ko and the programs
 * that use it. It is meant to be read top to bottom.
 *
 * The device
 * ----------
 * ktracer.ko registers the misc device /dev/ktracer. Its mode is the
 * module parameter dev_mode, 0600 by default; a udev rule may hand it to
 * a group. Whoever can open it may record their own events and ask for
 * the version. Commands that change what is traced for everybody or read
 * other processes' records need CAP_PERFMON (or CAP_SYS_ADMIN) and fail
 * with EPERM without it, whoever opened the file: each command below says
 * whether it is privileged.
 *
 * Versioning
 * ----------
 * KTRACER_ABI_MAJOR changes only when an existing command changes meaning;
 * a program built against another major must refuse to run.
 * KTRACER_ABI_MINOR grows when commands or struct fields are added; a
 * program may use what its header knows once KTRACER_IOC_VERSION has
 * reported a minor at least as large.
 *
 * How every command's argument is passed
 * --------------------------------------
 * Every argument is a struct whose first member is "__u32 size", set by
 * the caller to sizeof() the struct as its header defines it. That makes
 * structs extensible without new ioctl numbers:
 *
 *  - size below the first published size of the struct,
 *    or above 4096:                             EINVAL
 *  - size larger than the kernel knows, and the
 *    bytes past the kernel's struct not all zero: E2BIG (the caller asked
 *    for something this kernel cannot do)
 *  - a member named "flags" with an unknown bit: EINVAL
 *  - a member named "__reserved*" not zero:     EINVAL
 *  - an argument pointer the kernel cannot read
 *    or write:                                  EFAULT
 *
 * When a command writes results back, it writes the first
 * min(caller's size, kernel's size) bytes and sets "size" to that number.
 * A failed command changes nothing, neither in the kernel nor in the
 * caller's struct (EFAULT while writing results back excepted).
 *
 * All members are fixed-width and naturally aligned, so a 32-bit process
 * on a 64-bit kernel passes the very same bytes. Pointers, when a command
 * takes one, travel as __u64.
 *
 * Unknown ioctl numbers fail with ENOTTY.
 */
#ifndef _UAPI_LINUX_KTRACER_H
#define _UAPI_LINUX_KTRACER_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define KTRACER_DEVICE		"/dev/ktracer"

#define KTRACER_ABI_MAJOR	1
#define KTRACER_ABI_MINOR	0

/* Registered in no table yet; 0xB8 is unused in ioctl-number.rst. */
#define KTRACER_IOC_MAGIC	0xB8

/* Largest "size" any command accepts. */
#define KTRACER_ARG_SIZE_MAX	4096

/*
 * KTRACER_IOC_VERSION - which ABI does this module speak?
 * Unprivileged.
 *
 *	struct ktracer_version v = { .size = sizeof(v) };
 *
 *	if (ioctl(fd, KTRACER_IOC_VERSION, &v) < 0 ||
 *	    v.major != KTRACER_ABI_MAJOR)
 *		refuse to run;
 */
struct ktracer_version {
	__u32 size;	/* in/out: sizeof(struct ktracer_version) */
	__u32 flags;	/* in: none defined, must be 0 */
	__u32 major;	/* out: KTRACER_ABI_MAJOR of the module */
	__u32 minor;	/* out: KTRACER_ABI_MINOR of the module */
};

#define KTRACER_VERSION_SIZE_VER0	16

/*
 * KTRACER_IOC_ENABLE - switch recording on or off for everybody.
 * Privileged (CAP_PERFMON or CAP_SYS_ADMIN).
 *
 * Tracing is on when the module loads. While it is off, nothing is
 * recorded. /sys/kernel/debug/ktracer/enabled shows the state.
 */
struct ktracer_enable {
	__u32 size;		/* in: sizeof(struct ktracer_enable) */
	__u32 flags;		/* in: none defined, must be 0 */
	__u32 enable;		/* in: 1 to record, 0 to stop; else EINVAL */
	__u32 __reserved;	/* in: must be 0 */
};

#define KTRACER_ENABLE_SIZE_VER0	16

#define KTRACER_IOC_VERSION	_IOWR(KTRACER_IOC_MAGIC, 0x00, struct ktracer_version)
#define KTRACER_IOC_ENABLE	_IOW(KTRACER_IOC_MAGIC, 0x01, struct ktracer_enable)

#endif /* _UAPI_LINUX_KTRACER_H */
