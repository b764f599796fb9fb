// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs "trace": every CPU's unread records as text, one per line, in
 * timestamp order across CPUs. The file streams: it merges the CPUs'
 * buffers by timestamp with a cursor per CPU, copying one checked record
 * at a time, so that an open file holds a few bytes per CPU and one
 * record whatever the buffers' size. What it shows is what was unread
 * when it was opened ([tail, head) of each buffer then), less what a
 * reader or OVERWRITE frees meanwhile; reading it consumes nothing.
 *
 *	[001] 12.345678 120/121 db.query start slot=0 arg=42
 *	[001] 12.345700 120/121 db.query stop slot=0 arg=0 dur_ns=22000
 *	[001] 12.345800 120/122 request start slot=1 arg=0 region text="GET /"
 *	[000] 12.400000 [LOST 5 EVENTS]
 */

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/overflow.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>

#include "ktracer.h"

/* One CPU's place in the merge. */
struct kt_cursor {
	u64 first;			/* the tail when the file was opened */
	u64 pos;			/* the next record */
	u64 end;			/* the head when the file was opened */
	u64 lost;			/* lost, not yet told, then */
	struct ktracer_record hdr;	/* the next record's header: a copy */
	bool have;			/* hdr is the next line */
	bool told;			/* the LOST line was taken */
	bool done;
};

struct kt_iter {
	struct kt_buffers *bufs;	/* only compared: the buffers opened */
	u64 nr;				/* lines when the file was opened */
	u64 lost_ts;
	loff_t idx;			/* cur is line idx; 0: none */
	u32 cpu;			/* cur's */
	u32 mode;
	u32 nr_cpus;
	struct {
		struct ktracer_record rec;
		u8 msg[KTRACER_LOG_MAX];	/* printed as rec's payload */
	} cur;
	struct kt_cursor c[];
};

/* kt_print_rec() finds the message right after the header. */
static_assert(offsetof(struct kt_iter, cur.msg) ==
	      offsetof(struct kt_iter, cur.rec) + sizeof(struct ktracer_record));

/*
 * The next line of one CPU into c->hdr, or c->done. Called under RCU
 * with the buffers the file was opened on.
 *
 * The buffer can change under us: in OVERWRITE, writers free records by
 * moving the tail, then write over them; a reader that consumes lets
 * writers reuse the space too. So, as a reader does ([R2]), the header is
 * copied, then the tail read again: if it passed the record, the copy may
 * be torn (its size too), and the walk goes on from the tail. A copy
 * that was not torn is then checked by the record rule, kt_rec_ok():
 * what the bytes say is never trusted to stay inside the data.
 */
static void kt_cur_load(struct kt_iter *it, struct kt_cpu_buf *cb,
			struct kt_cursor *c)
{
	u64 tail, head, off;
	unsigned int size;
	size_t n;

	while (!c->have && !c->done) {
		if (c->pos >= c->end) {
			if (c->lost && !c->told) {
				memset(&c->hdr, 0, sizeof(c->hdr));
				c->hdr.size = sizeof(c->hdr);
				c->hdr.type = KTRACER_REC_LOST;
				c->hdr.ts = it->lost_ts;
				c->hdr.arg = c->lost;
				c->have = true;
			} else {
				c->done = true;
			}
			return;
		}
		/* A PAD at the end of the data may be shorter than a header. */
		off = c->pos & cb->mask;
		n = min_t(u64, sizeof(c->hdr), cb->mask + 1 - off);
		memset(&c->hdr, 0, sizeof(c->hdr));
		memcpy(&c->hdr, cb->data + off, n);
		/* [T1]: the copy before the tail; pairs with [K3]. */
		smp_rmb();
		tail = READ_ONCE(cb->reader->tail);
		if (tail > c->pos) {
			/* Pairs with [K2] in kt_publish(). */
			head = smp_load_acquire(&cb->meta->head);
			if (!kt_tail_valid(cb, tail, head))
				c->pos = c->end;
			else
				c->pos = tail;
			continue;
		}
		if (!kt_rec_ok(cb, c->pos, c->end, &c->hdr, &size)) {
			c->pos = c->end;	/* a corrupt tail: no more */
			continue;
		}
		if (c->hdr.type == KTRACER_REC_PAD)
			c->pos += size;
		else
			c->have = true;
	}
}

/* The buffers the file was opened on, under RCU; NULL if replaced. */
static struct kt_buffers *kt_iter_bufs(struct kt_iter *it)
{
	struct kt_buffers *b = rcu_dereference(kt_bufs);

	return b == it->bufs ? b : NULL;
}

/*
 * Take c's line into it->cur, its message too; false if the message
 * went stale while copied ([T1] again), and the cursor moved on.
 */
static bool kt_cur_take(struct kt_iter *it, struct kt_cpu_buf *cb,
			struct kt_cursor *c)
{
	u32 len = min_t(u32, c->hdr.len, KTRACER_LOG_MAX);
	u64 tail;

	c->have = false;
	it->cur.rec = c->hdr;
	if (c->pos >= c->end) {		/* the LOST line */
		c->told = true;
		return true;
	}
	/* kt_rec_ok(): the message is inside the record, so the data. */
	memcpy(it->cur.msg, cb->data + ((c->pos + sizeof(c->hdr)) & cb->mask),
	       len);
	it->cur.rec.len = len;
	smp_rmb();	/* [T1] */
	tail = READ_ONCE(cb->reader->tail);
	if (tail > c->pos) {
		kt_cur_load(it, cb, c);	/* from the tail */
		return false;
	}
	c->pos += c->hdr.size;
	return true;
}

/* The next line into it->cur, CPUs merged by timestamp; false at the end. */
static bool kt_iter_next(struct kt_iter *it)
{
	struct kt_cursor *c, *best;
	struct kt_buffers *b;
	bool ok = false;
	u32 cpu;

	rcu_read_lock();
	b = kt_iter_bufs(it);
	while (b) {
		best = NULL;
		for (cpu = 0; cpu < it->nr_cpus; cpu++) {
			c = &it->c[cpu];
			kt_cur_load(it, &b->cpu[cpu], c);
			if (c->have && (!best || c->hdr.ts < best->hdr.ts))
				best = c;
		}
		if (!best)
			break;
		cpu = best - it->c;
		if (kt_cur_take(it, &b->cpu[cpu], best)) {
			it->cpu = cpu;
			it->idx++;
			ok = true;
			break;
		}
	}
	rcu_read_unlock();
	return ok;
}

/* Back to the first line. */
static void kt_iter_rewind(struct kt_iter *it)
{
	struct kt_cursor *c;
	u32 cpu;

	for (cpu = 0; cpu < it->nr_cpus; cpu++) {
		c = &it->c[cpu];
		c->pos = c->first;
		c->have = false;
		c->told = false;
		c->done = false;
	}
	it->idx = 0;
}

static struct kt_iter *kt_iter_open(void)
{
	struct kt_cursor *c;
	struct kt_cpu_buf *cb;
	struct kt_buffers *b;
	struct kt_iter *it;
	u64 head, tail;
	u32 cpu, n;

	rcu_read_lock();
	n = rcu_dereference(kt_bufs)->nr_cpus;	/* the same for all buffers */
	rcu_read_unlock();
	it = kvzalloc(struct_size(it, c, n), GFP_KERNEL_ACCOUNT);
	if (!it)
		return NULL;
	it->nr_cpus = n;
	it->mode = kt_buf_mode();
	it->lost_ts = ktime_get_mono_fast_ns();

	rcu_read_lock();
	b = rcu_dereference(kt_bufs);
	it->bufs = b;
	for (cpu = 0; cpu < n; cpu++) {
		cb = &b->cpu[cpu];
		c = &it->c[cpu];
		head = smp_load_acquire(&cb->meta->head);	/* as [R1] */
		tail = READ_ONCE(cb->reader->tail);
		c->end = head;
		c->first = kt_tail_valid(cb, tail, head) ? tail : head;
		c->lost = local64_read(&cb->lost_pending);
	}
	rcu_read_unlock();

	/* The header tells how many lines: count them, one CPU at a time. */
	kt_iter_rewind(it);
	for (cpu = 0; cpu < n; cpu++) {
		c = &it->c[cpu];
		rcu_read_lock();
		b = kt_iter_bufs(it);
		while (b) {
			kt_cur_load(it, &b->cpu[cpu], c);
			if (!c->have)
				break;
			it->nr++;
			c->have = false;
			if (c->pos >= c->end)
				c->told = true;
			else
				c->pos += c->hdr.size;
		}
		rcu_read_unlock();
		cond_resched();
	}
	kt_iter_rewind(it);
	return it;
}

static void kt_print_msg(struct seq_file *m, const char *key, const u8 *p,
			 u32 len)
{
	u32 i;

	seq_printf(m, " %s=\"", key);
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
	u32 len = r->len;	/* checked, and copied, by kt_cur_take() */
	const struct ktracer_block *b = (const void *)(r + 1);

	if (r->flags & KTRACER_RECF_KERNEL && r->event == KTRACER_KEV_BLOCK &&
	    len == sizeof(*b)) {
		seq_printf(m, " dev=%u:%u op=%u sector=%llu bytes=%u error=%d",
			   MAJOR(b->dev), MINOR(b->dev), b->op, b->sector,
			   b->bytes, b->error);
		return;
	}
	/* A program's START carries a text; the kernel's, a comm. */
	kt_print_msg(m, r->type == KTRACER_REC_START &&
		     !(r->flags & KTRACER_RECF_KERNEL) ? "text" : "msg",
		     (const u8 *)(r + 1), len);
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
	if (r->flags & KTRACER_RECF_REGION)
		seq_puts(m, " region");
	if (r->len)
		kt_print_payload(m, r);
	seq_putc(m, '\n');
}

static void *kt_trace_start(struct seq_file *m, loff_t *pos)
{
	struct kt_iter *it = m->private;

	if (*pos == 0)
		return SEQ_START_TOKEN;
	if (*pos < it->idx)
		kt_iter_rewind(it);
	while (it->idx < *pos)
		if (!kt_iter_next(it))
			return NULL;
	return &it->cur;
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
	struct kt_iter *it = m->private;

	if (v == SEQ_START_TOKEN) {
		seq_printf(m, "# ktracer: %llu records, mode %s\n", it->nr,
			   it->mode == KTRACER_MODE_OVERWRITE ?
			   "overwrite" : "discard");
		seq_puts(m, "# [cpu] seconds.usecs pid/tid event phase fields\n");
		return 0;
	}
	kt_print_rec(m, it->cpu, &it->cur.rec);
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
	struct kt_iter *it = kt_iter_open();
	int ret;

	if (!it)
		return -ENOMEM;
	ret = seq_open(file, &kt_trace_sops);
	if (ret) {
		kvfree(it);
		return ret;
	}
	((struct seq_file *)file->private_data)->private = it;
	return 0;
}

static int kt_trace_release(struct inode *inode, struct file *file)
{
	kvfree(((struct seq_file *)file->private_data)->private);
	return seq_release(inode, file);
}

const struct file_operations kt_trace_fops = {
	.owner		= THIS_MODULE,
	.open		= kt_trace_open,
	.read		= kt_seq_read,
	.llseek		= seq_lseek,
	.release	= kt_trace_release,
};
