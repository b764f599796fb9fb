// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs "trace": every CPU's unread records as text, one per line, in
 * timestamp order across CPUs. Opening the file takes a snapshot (a copy
 * of [tail, head) of each buffer, sorted); reading it consumes nothing.
 *
 *	[001] 12.345678 120/121 db.query start slot=0 arg=42
 *	[001] 12.345700 120/121 db.query stop slot=0 arg=0 dur_ns=22000
 *	[000] 12.400000 [LOST 5 EVENTS]
 */

#include <linux/fs.h>
#include <linux/seq_file.h>
#include <linux/sort.h>
#include <linux/timekeeping.h>
#include <linux/vmalloc.h>

#include "ktracer.h"

struct kt_snap_rec {
	u64 ts;
	u64 pos;	/* in its CPU's buffer */
	u32 cpu;
	u32 off;	/* of the record in kt_snap.data */
};

struct kt_snap {
	u8 *data;
	size_t used, size;
	struct kt_snap_rec *recs;
	size_t nr, cap;
};

static int kt_snap_cmp(const void *a, const void *b)
{
	const struct kt_snap_rec *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	if (x->cpu != y->cpu)
		return x->cpu < y->cpu ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;	/* buffer order */
}

static void kt_snap_add(struct kt_snap *s, u32 cpu, u64 pos, const void *rec,
			u32 size)
{
	const struct ktracer_record *r = rec;

	if (s->nr == s->cap || s->used + size > s->size)
		return;
	memcpy(s->data + s->used, rec, size);
	s->recs[s->nr].ts = r->ts;
	s->recs[s->nr].pos = pos;
	s->recs[s->nr].cpu = cpu;
	s->recs[s->nr].off = s->used;
	s->nr++;
	s->used += size;
}

/* Copy one CPU's records in [tail, head), PAD left out. */
static void kt_snap_cpu(struct kt_snap *s, struct kt_cpu_buf *cb, u32 cpu)
{
	u64 head = smp_load_acquire(&cb->meta->head);	/* as a reader's [R1] */
	u64 tail = READ_ONCE(cb->reader->tail), t;
	size_t first = s->nr, i, keep;
	struct ktracer_record *r;
	unsigned int size;
	struct ktracer_record lost = {
		.size = sizeof(lost), .type = KTRACER_REC_LOST,
	};

	if (!kt_tail_valid(cb, tail, head))
		return;
	for (t = tail; t < head; t += size) {
		r = kt_rec_at(cb, t, &size);
		if (!r)
			break;
		if (r->type != KTRACER_REC_PAD)
			kt_snap_add(s, cpu, t, r, size);
	}

	/*
	 * OVERWRITE: a writer moves the tail before it overwrites ([K3]), so
	 * what was copied from below the tail as it is now may be torn.
	 */
	smp_rmb();
	t = READ_ONCE(cb->reader->tail);
	if (t > tail) {
		for (i = first, keep = first; i < s->nr; i++)
			if (s->recs[i].pos >= t)
				s->recs[keep++] = s->recs[i];
		s->nr = keep;
	}

	lost.arg = local64_read(&cb->lost_pending);
	if (lost.arg) {
		lost.ts = ktime_get_mono_fast_ns();
		kt_snap_add(s, cpu, head, &lost, sizeof(lost));
	}
}

static struct kt_snap *kt_snap_take(void)
{
	struct kt_snap *s = kzalloc(sizeof(*s), GFP_KERNEL);
	struct kt_buffers *b;
	u32 cpu;

	if (!s)
		return NULL;
	rcu_read_lock();
	b = rcu_dereference(kt_bufs);
	s->size = (size_t)b->nr_cpus * (b->data_size + sizeof(struct ktracer_record));
	s->cap = s->size / sizeof(struct ktracer_record);
	rcu_read_unlock();

	s->data = vmalloc(s->size);
	s->recs = vmalloc_array(s->cap, sizeof(*s->recs));
	if (!s->data || !s->recs)
		goto err;

	rcu_read_lock();
	b = rcu_dereference(kt_bufs);
	for (cpu = 0; cpu < b->nr_cpus; cpu++)
		kt_snap_cpu(s, &b->cpu[cpu], cpu);
	rcu_read_unlock();
	sort(s->recs, s->nr, sizeof(*s->recs), kt_snap_cmp, NULL);
	return s;
err:
	vfree(s->recs);
	vfree(s->data);
	kfree(s);
	return NULL;
}

static void kt_print_msg(struct seq_file *m, const u8 *p, u32 len)
{
	u32 i;

	seq_puts(m, " msg=\"");
	for (i = 0; i < len; i++) {
		if (p[i] == '"' || p[i] == '\\')
			seq_printf(m, "\\%c", p[i]);
		else if (p[i] >= 0x20 && p[i] <= 0x7e)
			seq_putc(m, p[i]);
		else
			seq_printf(m, "\\x%02x", p[i]);
	}
	seq_putc(m, '"');
}

/* What follows the header: a block request, or a message. */
static void kt_print_payload(struct seq_file *m, const struct ktracer_record *r)
{
	u32 len = min_t(u32, r->len, r->size - sizeof(*r));
	const struct ktracer_block *b = (const void *)(r + 1);

	if (r->flags & KTRACER_RECF_KERNEL && r->event == KTRACER_KEV_BLOCK &&
	    len == sizeof(*b)) {
		seq_printf(m, " dev=%u:%u op=%u sector=%llu bytes=%u error=%d",
			   MAJOR(b->dev), MINOR(b->dev), b->op, b->sector,
			   b->bytes, b->error);
		return;
	}
	kt_print_msg(m, (const u8 *)(r + 1), len);
}

static const char *const kt_phases[] = {
	[KTRACER_REC_START]	= "start",
	[KTRACER_REC_STOP]	= "stop",
	[KTRACER_REC_CANCEL]	= "cancel",
	[KTRACER_REC_GAUGE]	= "gauge",
	[KTRACER_REC_COUNT]	= "count",
	[KTRACER_REC_LOG]	= "log",
};

static void kt_print_rec(struct seq_file *m, u32 cpu,
			 const struct ktracer_record *r)
{
	struct kt_event *ev;

	seq_printf(m, "[%03u] %llu.%06llu", cpu, r->ts / NSEC_PER_SEC,
		   (r->ts % NSEC_PER_SEC) / NSEC_PER_USEC);
	if (r->type == KTRACER_REC_LOST) {
		seq_printf(m, " [LOST %llu EVENTS]\n", r->arg);
		return;
	}
	/* An idle name may be reclaimed meanwhile: freed after RCU. */
	rcu_read_lock();
	ev = kt_event_get(r->event);
	seq_printf(m, " %u/%u %s %s", r->pid, r->tid, ev ? ev->name : "?",
		   r->type < ARRAY_SIZE(kt_phases) && kt_phases[r->type] ?
		   kt_phases[r->type] : "?");
	rcu_read_unlock();
	switch (r->type) {
	case KTRACER_REC_START:
		seq_printf(m, " slot=%u arg=%llu", r->slot, r->arg);
		break;
	case KTRACER_REC_STOP:
		seq_printf(m, " slot=%u arg=%llu dur_ns=%llu", r->slot, r->arg,
			   r->extra);
		break;
	case KTRACER_REC_CANCEL:
		seq_printf(m, " slot=%u dur_ns=%llu%s", r->slot, r->extra,
			   r->flags & KTRACER_RECF_CLOSE ? " close" : "");
		break;
	case KTRACER_REC_GAUGE:
		seq_printf(m, " value=%lld", (s64)r->arg);
		break;
	case KTRACER_REC_COUNT:
		seq_printf(m, " add=%llu total=%llu", r->arg, r->extra);
		break;
	}
	if (r->len)
		kt_print_payload(m, r);
	seq_putc(m, '\n');
}

static void *kt_trace_start(struct seq_file *m, loff_t *pos)
{
	struct kt_snap *s = m->private;

	if (*pos == 0)
		return SEQ_START_TOKEN;
	return *pos <= s->nr ? pos : NULL;
}

static void *kt_trace_next(struct seq_file *m, void *v, loff_t *pos)
{
	++*pos;
	return kt_trace_start(m, pos);
}

static void kt_trace_stop(struct seq_file *m, void *v)
{
}

static int kt_trace_show(struct seq_file *m, void *v)
{
	struct kt_snap *s = m->private;
	struct kt_snap_rec *sr;

	if (v == SEQ_START_TOKEN) {
		seq_printf(m, "# ktracer: %zu records, mode %s\n", s->nr,
			   kt_buf_mode() == KTRACER_MODE_OVERWRITE ?
			   "overwrite" : "discard");
		seq_puts(m, "# [cpu] seconds.usecs pid/tid event phase fields\n");
		return 0;
	}
	sr = &s->recs[*(loff_t *)v - 1];
	kt_print_rec(m, sr->cpu, (struct ktracer_record *)(s->data + sr->off));
	return 0;
}

static const struct seq_operations kt_trace_sops = {
	.start	= kt_trace_start,
	.next	= kt_trace_next,
	.stop	= kt_trace_stop,
	.show	= kt_trace_show,
};

static int kt_trace_open(struct inode *inode, struct file *file)
{
	struct kt_snap *s = kt_snap_take();
	int ret;

	if (!s)
		return -ENOMEM;
	ret = seq_open(file, &kt_trace_sops);
	if (ret) {
		vfree(s->recs);
		vfree(s->data);
		kfree(s);
		return ret;
	}
	((struct seq_file *)file->private_data)->private = s;
	return 0;
}

static int kt_trace_release(struct inode *inode, struct file *file)
{
	struct kt_snap *s = ((struct seq_file *)file->private_data)->private;

	vfree(s->recs);
	vfree(s->data);
	kfree(s);
	return seq_release(inode, file);
}

const struct file_operations kt_trace_fops = {
	.open		= kt_trace_open,
	.read		= seq_read,
	.llseek		= seq_lseek,
	.release	= kt_trace_release,
};
