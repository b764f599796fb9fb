// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/ktracer: the misc device and its ioctl dispatch.
 */

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <uapi/linux/ktracer.h>

#include "ktracer.h"

static ushort dev_mode = 0600;
module_param(dev_mode, ushort, 0444);
MODULE_PARM_DESC(dev_mode, "permissions of /dev/ktracer (default 0600; see README for a udev rule)");

static long kt_ioc_version(void __user *uarg)
{
	struct ktracer_version v;
	int ret;

	ret = kt_uarg_in(&v, sizeof(v), KTRACER_VERSION_SIZE_VER0, uarg);
	if (ret)
		return ret;
	if (v.flags)
		return -EINVAL;
	v.major = KTRACER_ABI_MAJOR;
	v.minor = KTRACER_ABI_MINOR;
	return kt_uarg_out(uarg, &v, sizeof(v));
}

static long kt_ioc_enable(void __user *uarg)
{
	struct ktracer_enable e;
	int ret;

	if (!perfmon_capable())
		return -EPERM;
	ret = kt_uarg_in(&e, sizeof(e), KTRACER_ENABLE_SIZE_VER0, uarg);
	if (ret)
		return ret;
	if (e.flags || e.__reserved || e.enable > 1)
		return -EINVAL;
	WRITE_ONCE(kt_enabled, e.enable);
	return 0;
}

static long kt_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case KTRACER_IOC_VERSION:
		return kt_ioc_version(uarg);
	case KTRACER_IOC_ENABLE:
		return kt_ioc_enable(uarg);
	}
	return -ENOTTY;
}

static const struct file_operations kt_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= kt_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice kt_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "ktracer",
	.fops	= &kt_fops,
};

int kt_dev_init(void)
{
	if (dev_mode & ~0777) {
		pr_err("dev_mode=%#o: only permission bits (0777) allowed\n",
		       dev_mode);
		return -EINVAL;
	}
	kt_misc.mode = dev_mode;
	return misc_register(&kt_misc);
}

void kt_dev_exit(void)
{
	misc_deregister(&kt_misc);
}
