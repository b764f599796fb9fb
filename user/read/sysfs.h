/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktracer-read: what sysfs tells of block devices. The root is "/sys"
 * unless the environment variable KTRACER_SYSFS names another directory
 * (laid out as sysfs is: dev/block/MAJ:MIN/uevent), as the tests do.
 */
#ifndef KR_SYSFS_H
#define KR_SYSFS_H

#include <stddef.h>
#include <stdint.h>

#define KR_DEVNAME_MAX	32	/* bytes of a device name kept */

/* $KTRACER_SYSFS if set and not empty, else "/sys". */
const char *kr_sysfs_root(void);

/*
 * The name of block device @dev (major << 20 | minor, as records carry
 * it): DEVNAME= of @root/dev/block/MAJ:MIN/uevent, e.g. "nullb0", cut to
 * KR_DEVNAME_MAX bytes, into @buf. Its length, or 0 if there is none.
 */
size_t kr_sysfs_devname(const char *root, uint32_t dev,
			char buf[KR_DEVNAME_MAX]);

#endif /* KR_SYSFS_H */
