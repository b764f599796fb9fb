// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/ktracer/: the buffers as text, and controls.
 *
 *	trace		records of all CPUs in timestamp order (text.c)
 *	stats		per-CPU counters
 *	events		the registered events
 *	enable		1 or 0: recording on or off
 *	mode		discard or overwrite
 *	buffer_size_kb	KiB of records per CPU
 *	reset		write anything: empty the buffers
 *	kevents		kernel sources and the pid filter (kevents.c)
 *
 * debugfs is root's (mode 0700 at its root); the files are 0600 or 0400.
 * Failures to create them are not fatal: the device works without them
 * (for instance under lockdown), so errors are reported and ignored.
 */

#include <linux/capability.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/printk.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/user_namespace.h>
#include <linux/xarray.h>

#include "ktracer.h"

static struct dentry *kt_debugfs_dir;

/*
 * The files are root's, but a file opened by root may be handed to
 * anyone: the controls check the writer's privilege too, as the ioctls
 * do, and the files that show other processes' data (trace, stats,
 * events, kevents) the reader's, at each read.
 */
static int kt_may_control(void)
{
	return perfmon_capable() ? 0 : -EPERM;
}

ssize_t kt_seq_read(struct file *file, char __user *ubuf, size_t count,
		    loff_t *ppos)
{
	return kt_may_control() ?: seq_read(file, ubuf, count, ppos);
}

/*
 * A write to a control: the writer's privilege first, then the short
 * write copied into buf, NUL-terminated; the word in it, blanks trimmed.
 */
static char *kt_get_word(char *buf, size_t size, const char __user *ubuf,
			 size_t count)
{
	if (kt_may_control())
		return ERR_PTR(-EPERM);
	if (count >= size)
		return ERR_PTR(-EINVAL);
	if (copy_from_user(buf, ubuf, count))
		return ERR_PTR(-EFAULT);
	buf[count] = '\0';
	return strim(buf);
}

/* Read handler body for a one-line file: format it, hand out a piece. */
static __printf(4, 5) ssize_t kt_read_line(char __user *ubuf, size_t count,
					    loff_t *ppos, const char *fmt, ...)
{
	char buf[32];
	va_list args;
	int n;

	va_start(args, fmt);
	n = vscnprintf(buf, sizeof(buf), fmt, args);
	va_end(args);
	return simple_read_from_buffer(ubuf, count, ppos, buf, n);
}

static ssize_t kt_enable_read(struct file *file, char __user *ubuf,
			      size_t count, loff_t *ppos)
{
	return kt_read_line(ubuf, count, ppos, "%d\n", kt_is_enabled());
}

static ssize_t kt_enable_write(struct file *file, const char __user *ubuf,
			       size_t count, loff_t *ppos)
{
	char buf[8];
	char *word = kt_get_word(buf, sizeof(buf), ubuf, count);
	bool on;

	if (IS_ERR(word))
		return PTR_ERR(word);
	if (kstrtobool(word, &on))
		return -EINVAL;
	kt_set_enabled(on);
	return count;
}

static const struct file_operations kt_enable_fops = {
	.owner	= THIS_MODULE,
	.read	= kt_enable_read,
	.write	= kt_enable_write,
	.llseek	= default_llseek,
};

static const char *const kt_modes[] = {
	[KTRACER_MODE_DISCARD]		= "discard",
	[KTRACER_MODE_OVERWRITE]	= "overwrite",
};

static ssize_t kt_mode_read(struct file *file, char __user *ubuf,
			    size_t count, loff_t *ppos)
{
	return kt_read_line(ubuf, count, ppos, "%s\n", kt_modes[kt_buf_mode()]);
}

static ssize_t kt_mode_write(struct file *file, const char __user *ubuf,
			     size_t count, loff_t *ppos)
{
	char buf[16];
	char *word = kt_get_word(buf, sizeof(buf), ubuf, count);
	int mode;

	if (IS_ERR(word))
		return PTR_ERR(word);
	for (mode = KTRACER_MODE_DISCARD; mode < ARRAY_SIZE(kt_modes); mode++)
		if (!strcmp(word, kt_modes[mode]))
			return kt_buf_set_mode(mode) ?: count;
	return -EINVAL;
}

static const struct file_operations kt_mode_fops = {
	.owner	= THIS_MODULE,
	.read	= kt_mode_read,
	.write	= kt_mode_write,
	.llseek	= default_llseek,
};

static ssize_t kt_size_read(struct file *file, char __user *ubuf,
			    size_t count, loff_t *ppos)
{
	return kt_read_line(ubuf, count, ppos, "%llu\n", kt_buf_data_size() >> 10);
}

static ssize_t kt_size_write(struct file *file, const char __user *ubuf,
			     size_t count, loff_t *ppos)
{
	char buf[24];
	char *word = kt_get_word(buf, sizeof(buf), ubuf, count);
	ssize_t ret;
	u64 kb;

	if (IS_ERR(word))
		return PTR_ERR(word);
	if (kstrtou64(word, 10, &kb) || kb > (KTRACER_BUFFER_MAX >> 10))
		return -EINVAL;
	ret = kt_buf_resize(kb << 10);
	return ret ? ret : count;
}

static const struct file_operations kt_size_fops = {
	.owner	= THIS_MODULE,
	.read	= kt_size_read,
	.write	= kt_size_write,
	.llseek	= default_llseek,
};

static ssize_t kt_reset_write(struct file *file, const char __user *ubuf,
			      size_t count, loff_t *ppos)
{
	int ret = kt_may_control() ?: kt_buf_reset();

	return ret ? ret : count;
}

static const struct file_operations kt_reset_fops = {
	.owner	= THIS_MODULE,
	.write	= kt_reset_write,
	.llseek	= noop_llseek,
};

/*
 * DEFINE_SHOW_ATTRIBUTE() with the reader's privilege checked at each
 * read. Every file's owner is the module: an open file holds it, so that
 * the module cannot be unloaded while one is open (EWOULDBLOCK).
 */
#define KT_SHOW_FOPS(name)						\
static int name##_open(struct inode *inode, struct file *file)		\
{									\
	return single_open(file, name##_show, inode->i_private);	\
}									\
									\
static const struct file_operations name##_fops = {			\
	.owner		= THIS_MODULE,					\
	.open		= name##_open,					\
	.read		= kt_seq_read,					\
	.llseek		= seq_lseek,					\
	.release	= single_release,				\
}

static int kt_stats_show(struct seq_file *m, void *v)
{
	struct ktracer_meta *meta;
	struct kt_buffers *b;
	struct kt_cpu_buf *cb;
	u64 head, tail;
	unsigned int cpu;

	seq_puts(m, "# cpu written bytes lost overwritten read unread tail_resets\n");
	rcu_read_lock();
	b = rcu_dereference(kt_bufs);
	for (cpu = 0; cpu < b->nr_cpus; cpu++) {
		cb = &b->cpu[cpu];
		meta = cb->meta;
		/* Pairs with [K2] in kt_publish(): the records before head. */
		head = smp_load_acquire(&meta->head);
		tail = READ_ONCE(cb->reader->tail);
		seq_printf(m, "cpu%u written=%llu bytes=%llu lost=%llu overwritten=%llu read=%llu unread=%llu tail_resets=%llu\n",
			   cpu, READ_ONCE(meta->written), READ_ONCE(meta->bytes),
			   READ_ONCE(meta->lost), READ_ONCE(meta->overwritten),
			   READ_ONCE(cb->reader->read),
			   kt_buf_count(cb, tail, head),
			   READ_ONCE(meta->tail_resets));
	}
	rcu_read_unlock();
	return 0;
}

KT_SHOW_FOPS(kt_stats);

static int kt_events_show(struct seq_file *m, void *v)
{
	struct kt_event *ev;
	unsigned long id;

	seq_puts(m, "# id kind slots uid name\n");
	/* Under RCU: a name reclaimed meanwhile is freed after it. */
	rcu_read_lock();
	xa_for_each(kt_event_xa(), id, ev)
		seq_printf(m, "%lu %s %u %u %s\n", id, kt_kind_name(ev->kind),
			   ev->slots, from_kuid_munged(&init_user_ns, ev->owner),
			   ev->name);
	rcu_read_unlock();
	return 0;
}

KT_SHOW_FOPS(kt_events);

static int kt_kevents_show(struct seq_file *m, void *v)
{
	kt_kev_show(m);
	return 0;
}

static int kt_kevents_open(struct inode *inode, struct file *file)
{
	return single_open(file, kt_kevents_show, NULL);
}

/* Room for every source and KTRACER_PIDS_MAX pids, with some to spare. */
#define KT_KEVENTS_WRITE_MAX	1024

static ssize_t kt_kevents_write(struct file *file, const char __user *ubuf,
				size_t count, loff_t *ppos)
{
	char *buf;
	int ret;

	if (kt_may_control())
		return -EPERM;
	if (count > KT_KEVENTS_WRITE_MAX)
		return -EINVAL;
	buf = memdup_user_nul(ubuf, count);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	ret = kt_kev_write(buf);
	kfree(buf);
	return ret ? ret : count;
}

static const struct file_operations kt_kevents_fops = {
	.owner		= THIS_MODULE,
	.open		= kt_kevents_open,
	.read		= kt_seq_read,
	.write		= kt_kevents_write,
	.llseek		= seq_lseek,
	.release	= single_release,
};

void kt_debugfs_init(void)
{
	struct dentry *d;

	d = debugfs_create_dir("ktracer", NULL);
	if (IS_ERR(d)) {
		pr_warn("debugfs unavailable (%ld)\n", PTR_ERR(d));
		return;
	}
	kt_debugfs_dir = d;
	debugfs_create_file("trace", 0400, d, NULL, &kt_trace_fops);
	debugfs_create_file("stats", 0400, d, NULL, &kt_stats_fops);
	debugfs_create_file("events", 0400, d, NULL, &kt_events_fops);
	debugfs_create_file("enable", 0600, d, NULL, &kt_enable_fops);
	debugfs_create_file("mode", 0600, d, NULL, &kt_mode_fops);
	debugfs_create_file("buffer_size_kb", 0600, d, NULL, &kt_size_fops);
	debugfs_create_file("reset", 0200, d, NULL, &kt_reset_fops);
	debugfs_create_file("kevents", 0600, d, NULL, &kt_kevents_fops);
}

void kt_debugfs_exit(void)
{
	debugfs_remove(kt_debugfs_dir);
	kt_debugfs_dir = NULL;
}
