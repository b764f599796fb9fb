// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/ktracer/: human-readable state and controls.
 *
 * debugfs failures are not fatal: the device works without it (for
 * instance under lockdown), so errors are reported and otherwise ignored.
 */

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/printk.h>

#include "ktracer.h"

static struct dentry *kt_debugfs_dir;

void kt_debugfs_init(void)
{
	kt_debugfs_dir = debugfs_create_dir("ktracer", NULL);
	if (IS_ERR(kt_debugfs_dir)) {
		pr_warn("debugfs unavailable (%ld)\n", PTR_ERR(kt_debugfs_dir));
		return;
	}
	debugfs_create_bool("enabled", 0644, kt_debugfs_dir, &kt_enabled);
}

void kt_debugfs_exit(void)
{
	debugfs_remove(kt_debugfs_dir);
	kt_debugfs_dir = NULL;
}
