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

	ret = kt_uarg_in(&e, sizeof(e), KTRACER_ENABLE_SIZE_VER0, uarg);
	if (ret)
		return ret;
	if (e.flags || e.__reserved || e.enable > 1)
		return -EINVAL;
	kt_set_enabled(e.enable);
	return 0;
}

static long kt_ioc_config(void __user *uarg)
{
	const u32 known = KTRACER_CONFIG_MODE | KTRACER_CONFIG_BUFFER_SIZE;
	struct ktracer_config c;
	int ret;

	ret = kt_uarg_in(&c, sizeof(c), KTRACER_CONFIG_SIZE_VER0, uarg);
	if (ret)
		return ret;
	if (c.flags & ~known || c.__reserved)
		return -EINVAL;
	/* What no flag selects must be 0, to be given a meaning later. */
	if ((!(c.flags & KTRACER_CONFIG_MODE) && c.mode) ||
	    (!(c.flags & KTRACER_CONFIG_BUFFER_SIZE) && c.buffer_size))
		return -EINVAL;
	if (c.flags & KTRACER_CONFIG_MODE &&
	    c.mode != KTRACER_MODE_DISCARD && c.mode != KTRACER_MODE_OVERWRITE)
		return -EINVAL;
	/* Resize first: it is the part that can fail. */
	if (c.flags & KTRACER_CONFIG_BUFFER_SIZE) {
		ret = kt_buf_resize(c.buffer_size);
		if (ret)
			return ret;
	}
	if (c.flags & KTRACER_CONFIG_MODE)
		kt_buf_set_mode(c.mode);
	return 0;
}

static long kt_ioc_reset(void __user *uarg)
{
	struct ktracer_reset r;
	int ret;

	ret = kt_uarg_in(&r, sizeof(r), KTRACER_RESET_SIZE_VER0, uarg);
	if (ret)
		return ret;
	if (r.flags)
		return -EINVAL;
	return kt_buf_reset();
}

/*
 * A command is its type, number and direction; the size bits of the
 * number are not looked at, the struct's own size member rules (see
 * "How every command's argument is passed"). A program built against a
 * header whose struct has grown thus reaches the same command.
 */
#define KT_IOC_SIZE_BITS	(_IOC_SIZEMASK << _IOC_SIZESHIFT)
#define KT_IOC_CMD(nr)		((nr) & ~KT_IOC_SIZE_BITS)

static noinline long kt_ioctl_cmd(struct file *file, unsigned int cmd,
				  unsigned long arg)
{
	struct kt_tracer *t = file->private_data;
	void __user *uarg = (void __user *)arg;

	cmd = KT_IOC_CMD(cmd);
	switch (cmd) {
	case KT_IOC_CMD(KTRACER_IOC_VERSION):
		return kt_ioc_version(uarg);
	case KT_IOC_CMD(KTRACER_IOC_REGISTER):
		return kt_ioc_register(t, uarg);
	case KT_IOC_CMD(KTRACER_IOC_OP):
		return kt_ioc_op(t, uarg);
	case KT_IOC_CMD(KTRACER_IOC_BATCH):
		return kt_ioc_batch(t, uarg);
	case KT_IOC_CMD(KTRACER_IOC_QUEUE):
		return kt_ioc_queue(kt_tracer_qset(t), uarg);
	case KT_IOC_CMD(KTRACER_IOC_FLUSH):
		return kt_ioc_flush(kt_tracer_qset(t), uarg);
	case KT_IOC_CMD(KTRACER_IOC_ENABLE):
	case KT_IOC_CMD(KTRACER_IOC_CONFIG):
	case KT_IOC_CMD(KTRACER_IOC_RESET):
	case KT_IOC_CMD(KTRACER_IOC_KEVENTS):
	case KT_IOC_CMD(KTRACER_IOC_NAMES):
		/* Privilege first: no probing of the arguments without it. */
		if (!perfmon_capable())
			return -EPERM;
		if (cmd == KT_IOC_CMD(KTRACER_IOC_NAMES))
			return kt_ioc_names(uarg);
		if (cmd == KT_IOC_CMD(KTRACER_IOC_ENABLE))
			return kt_ioc_enable(uarg);
		if (cmd == KT_IOC_CMD(KTRACER_IOC_CONFIG))
			return kt_ioc_config(uarg);
		if (cmd == KT_IOC_CMD(KTRACER_IOC_KEVENTS))
			return kt_ioc_kevents(uarg);
		return kt_ioc_reset(uarg);
	}
	return -ENOTTY;
}

/*
 * KTRACER_IOC_OP of this header's size, the command a program makes
 * most, first: before anything else is looked at or put on the stack.
 */
static long kt_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	if (likely(cmd == KTRACER_IOC_OP))
		return kt_ioc_op(file->private_data, (void __user *)arg);
	return kt_ioctl_cmd(file, cmd, arg);
}

static int kt_open(struct inode *inode, struct file *file)
{
	struct kt_tracer *t = kt_tracer_new(file);

	if (!t)
		return -ENOMEM;
	file->private_data = t;
	return nonseekable_open(inode, file);
}

/*
 * The file is released once its last descriptor is closed and its last
 * mapping unmapped (a mapping holds the file): its queues are drained,
 * then the spans it left open cancelled.
 */
static int kt_release(struct inode *inode, struct file *file)
{
	kt_tracer_free(file->private_data);
	return 0;
}

/* A queue's window, or the state page and the buffers. */
static int kt_mmap(struct file *file, struct vm_area_struct *vma)
{
	if (kt_queue_pgoff(vma->vm_pgoff))
		return kt_queue_mmap(kt_tracer_qset(file->private_data), vma);
	return kt_buf_mmap(file, vma);
}

static const struct file_operations kt_fops = {
	.owner		= THIS_MODULE,
	.open		= kt_open,
	.release	= kt_release,
	.unlocked_ioctl	= kt_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= kt_mmap,
	.poll		= kt_buf_poll,
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
