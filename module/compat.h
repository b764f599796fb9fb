/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h: the one place that knows which kernel ktracer is built for.
 * Every other file is written against the newest kernel's API; what an
 * older kernel spells differently is given that newer spelling here. Each
 * shim names the kernel commit that made it necessary, and goes when the
 * oldest supported kernel (README, "Supported kernels") has that commit.
 *
 * No shim is needed for v6.12's cb787f4ac0c2 ("[tree-wide] finally take
 * no_llseek out"): no_llseek was NULL already, and ktracer's
 * file_operations simply leave .llseek unset.
 */
#ifndef _KT_COMPAT_H
#define _KT_COMPAT_H

#include <linux/version.h>
#include <linux/mm.h>

/*
 * v6.3, bc292ab00f6c ("mm: introduce vma->vm_flags wrapper functions"):
 * vma->vm_flags became const, changed only through vm_flags_set() and
 * vm_flags_clear(), which older kernels lack.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
static inline void vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags |= flags;
}

static inline void vm_flags_clear(struct vm_area_struct *vma,
				  vm_flags_t flags)
{
	vma->vm_flags &= ~flags;
}
#endif

/*
 * v6.10, 2c92ca849fcc ("tracing/treewide: Remove second parameter of
 * __assign_str()"): the source of a __string() field is named once, in
 * TP_STRUCT__entry. Older kernels take it again when assigning.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 10, 0)
#define kt_assign_str(dst, src)	__assign_str(dst, src)
#else
#define kt_assign_str(dst, src)	__assign_str(dst)
#endif

/*
 * v6.16, 3e816361e94a ("sched/tracepoints: Move and extend the
 * sched_process_exit() tracepoint"): sched_process_exit gained a
 * group_dead argument (and now fires before exit_mm()). The parameters
 * of kevents.c's probe for it, after its void *data.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 16, 0)
#define KT_SCHED_EXIT_PARAMS	struct task_struct *p
#else
#define KT_SCHED_EXIT_PARAMS	struct task_struct *p, bool group_dead
#endif

#endif /* _KT_COMPAT_H */
