// SPDX-License-Identifier: GPL-2.0
/*
 * Size-first ioctl arguments: every struct starts with "__u32 size", the
 * size the caller's header gave it. The rules are spelled out in
 * uapi/linux/ktracer.h; this file is their only implementation.
 */

#include <linux/kernel.h>
#include <linux/uaccess.h>
#include <uapi/linux/ktracer.h>

#include "ktracer.h"

/*
 * Read an argument of at least @minsize bytes into @dst (@ksize bytes, the
 * kernel's view of the struct). A shorter caller struct is zero-extended;
 * a longer one must be zero past @ksize (-E2BIG otherwise). On success
 * dst's size member holds the caller's size.
 */
int kt_uarg_in(void *dst, size_t ksize, size_t minsize,
	       const void __user *uarg)
{
	u32 usize;
	int ret;

	/*
	 * The common case, a caller built against this very header, in one
	 * user access: copy the struct, then look at its size. @dst is left
	 * for the general path to overwrite if the size is another.
	 */
	if (copy_from_user(dst, uarg, ksize) == 0 && *(u32 *)dst == ksize)
		return 0;
	if (get_user(usize, (const u32 __user *)uarg))
		return -EFAULT;
	if (usize < minsize || usize > KTRACER_ARG_SIZE_MAX)
		return -EINVAL;
	ret = copy_struct_from_user(dst, ksize, uarg, usize);
	if (ret)
		return ret;
	/* The caller may have changed size between the two reads. */
	*(u32 *)dst = usize;
	return 0;
}

/*
 * Write results back: min(caller's size, @ksize) bytes, with the size
 * member set to that number. @src must come from kt_uarg_in().
 */
int kt_uarg_out(void __user *uarg, void *src, size_t ksize)
{
	u32 n = min_t(u32, *(u32 *)src, ksize);

	*(u32 *)src = n;
	return copy_to_user(uarg, src, n) ? -EFAULT : 0;
}
