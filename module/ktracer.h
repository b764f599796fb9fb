/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktracer: declarations shared between the module's files.
 */
#ifndef _KTRACER_H
#define _KTRACER_H

#include <linux/types.h>
#include <linux/compiler.h>

/* Whether anything is recorded; flipped by KTRACER_IOC_ENABLE and debugfs. */
extern bool kt_enabled;

/* uarg.c: size-first ioctl arguments (see uapi/linux/ktracer.h). */
int kt_uarg_in(void *dst, size_t ksize, size_t minsize,
	       const void __user *uarg);
int kt_uarg_out(void __user *uarg, void *src, size_t ksize);

/* dev.c: the /dev/ktracer misc device. */
int kt_dev_init(void);
void kt_dev_exit(void);

/* debugfs.c: /sys/kernel/debug/ktracer/. */
void kt_debugfs_init(void);
void kt_debugfs_exit(void);

#endif /* _KTRACER_H */
