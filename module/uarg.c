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
 * Copy @size bytes (a multiple of 8) from user space in 8-byte loads.
 * For the few dozen bytes of an ioctl argument, copy_from_user() costs
 * more in its setup, and byte by byte where it is "rep movsb", than the
 * loads themselves. Returns 0 or -EFAULT.
 */
int kt_copy_words_in(void *dst, const void __user *src, size_t size)
{
	const u64 __user *s = src;
	u64 *d = dst;
	size_t i;

	if (!user_access_begin(src, size))
		return -EFAULT;
	for (i = 0; i < size / 8; i++)
		unsafe_get_user(d[i], &s[i], efault);
	user_access_end();
	return 0;
efault:
	user_access_end();
	return -EFAULT;
}

/* The other way: @size bytes (a multiple of 8) to user space. */
static int kt_copy_words_out(void __user *dst, const void *src, size_t size)
{
	const u64 *s = src;
	u64 __user *d = dst;
	size_t i;

	if (!user_access_begin(dst, size))
		return -EFAULT;
	for (i = 0; i < size / 8; i++)
		unsafe_put_user(s[i], &d[i], efault);
	user_access_end();
	return 0;
efault:
	user_access_end();
	return -EFAULT;
}

/*
 * Read an argument of at least @minsize bytes into @dst (@ksize bytes, the
 * kernel's view of the struct). A shorter caller struct is zero-extended;
 * a longer one must be zero past @ksize (-E2BIG otherwise). @ksize is a
 * multiple of 8, as every ktracer argument's size is. On success
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
	if (kt_copy_words_in(dst, uarg, ksize) == 0 && *(u32 *)dst == ksize)
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
	if (n == ksize)
		return kt_copy_words_out(uarg, src, n);
	return copy_to_user(uarg, src, n) ? -EFAULT : 0;
}
