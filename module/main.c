// SPDX-License-Identifier: GPL-2.0
/*
 * ktracer: spans, metrics and kernel events on one timeline.
 */

#include <linux/module.h>
#include <linux/kernel.h>
#include <uapi/linux/ktracer.h>

#include "ktracer.h"

static uint buffer_kb = 512;
module_param(buffer_kb, uint, 0444);
MODULE_PARM_DESC(buffer_kb, "KiB of records per CPU at load, a power of two (default 512)");

static int __init kt_mod_init(void)
{
	int ret;

	ret = kt_events_init();
	if (ret)
		return ret;
	ret = kt_buf_init((u64)buffer_kb << 10);
	if (ret)
		goto err_events;
	kt_kev_init();
	kt_debugfs_init();
	kt_clock_init();

	/* Last: once the device exists, user space may call in. */
	ret = kt_dev_init();
	if (ret)
		goto err_debugfs;

	pr_info("ABI %u.%u loaded, %u KiB per CPU\n", KTRACER_ABI_MAJOR,
		KTRACER_ABI_MINOR, buffer_kb);
	return 0;

err_debugfs:
	kt_debugfs_exit();
	kt_kev_exit();
	kt_buf_exit();
err_events:
	kt_events_exit();
	return ret;
}

static void __exit kt_mod_exit(void)
{
	kt_dev_exit();
	kt_debugfs_exit();
	kt_kev_exit();
	kt_buf_exit();
	kt_events_exit();
}

module_init(kt_mod_init);
module_exit(kt_mod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("ktracer: app spans, metrics and kernel events in per-CPU buffers");
MODULE_VERSION("0.2");
