// SPDX-License-Identifier: GPL-2.0
/*
 * kt_splat: a test-only module that misbehaves on load, on purpose.
 *
 * The VM rig loads it in its self-check to prove that a kernel splat turns
 * a run red: "insmod kt_splat.ko mode=warn" WARNs, "mode=uaf" reads freed
 * memory (KASAN on the debug kernel reports it), "mode=leak" loses an
 * allocation (kmemleak on the debug kernel reports it). It is never built
 * into ktracer.ko nor installed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

static char *mode = "warn";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "how to misbehave: warn, uaf or leak");

static void *kt_splat_lost;

static int __init kt_splat_init(void)
{
	char *p;

	if (!strcmp(mode, "warn")) {
		WARN(1, "planted WARN\n");
	} else if (!strcmp(mode, "uaf")) {
		p = kmalloc(64, GFP_KERNEL);
		if (!p)
			return -ENOMEM;
		kfree(p);
		OPTIMIZER_HIDE_VAR(p);
		pr_info("planted use-after-free read: %d\n", READ_ONCE(p[8]));
	} else if (!strcmp(mode, "leak")) {
		kt_splat_lost = kmalloc(128, GFP_KERNEL);
		OPTIMIZER_HIDE_VAR(kt_splat_lost);
		kt_splat_lost = NULL;
		pr_info("planted leak of 128 bytes\n");
	} else {
		return -EINVAL;
	}
	return 0;
}

static void __exit kt_splat_exit(void)
{
}

module_init(kt_splat_init);
module_exit(kt_splat_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("ktracer test rig: planted splats");
