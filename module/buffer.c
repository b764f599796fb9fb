// SPDX-License-Identifier: GPL-2.0
/*
 * The per-CPU buffers and the state page.
 *
 * Each CPU has one vmalloc_user() area: the reader page (user-writable),
 * the meta page and the data, mapped to user space read-only. A writer
 * touches only its own CPU's buffer, with preemption disabled and no
 * locks: it reserves space by moving the local head with a cmpxchg, so
 * an interrupt or NMI that writes meanwhile reserves the space after it.
 * Only the outermost writer publishes the head (and the counters), after
 * every nested writer has finished: the scheme of perf's ring buffer
 * (kernel/events/ring_buffer.c). The protocol and its barriers, [K1] to
 * [K3] here and [R1] to [R4] for the reader, are documented in
 * uapi/linux/ktracer.h.
 *
 * The buffers are replaced whole (resize, reset) under kt_config_lock
 * while nobody has them mapped; writers find them through RCU, their
 * preemption-disabled sections being read-side critical sections, and
 * the old ones are freed after synchronize_rcu().
 */

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "compat.h"
#include "ktracer.h"

/* A reader moving its tail under us this often gets the record dropped. */
#define KT_TAIL_RETRIES	16
/*
 * OVERWRITE frees this many bytes more than a record needs (at most an
 * eighth of the buffer), as far as published records go: a full buffer
 * moves the reader's tail ([K3]) once per so many bytes, not once per
 * record, as ftrace's overwrite frees a page at a time.
 */
#define KT_OVERWRITE_AHEAD	8192
/* No position: not 8-aligned, so never a tail nor a checkpoint's head. */
#define KT_POS_NONE		U64_MAX

struct kt_buffers __rcu *kt_bufs;
DECLARE_WAIT_QUEUE_HEAD(kt_wait);

static DEFINE_MUTEX(kt_config_lock);	/* kt_bufs and the state page */
static atomic_t kt_mapped = ATOMIC_INIT(0);	/* CPU buffer mappings */
struct ktracer_state *kt_state;		/* page 0 of the mmap space */

void kt_set_enabled(bool on)
{
	WRITE_ONCE(kt_state->enabled, on);
}

u32 kt_buf_mode(void)
{
	return READ_ONCE(kt_state->mode);
}

int kt_buf_set_mode(u32 mode)
{
	if (mode != KTRACER_MODE_DISCARD && mode != KTRACER_MODE_OVERWRITE)
		return -EINVAL;
	WRITE_ONCE(kt_state->mode, mode);
	return 0;
}

u64 kt_buf_data_size(void)
{
	return READ_ONCE(kt_state->data_size);
}

static void kt_wake(struct irq_work *work)
{
	wake_up_all(&kt_wait);
}

/* The reader's wake-up threshold, from its untrusted page. */
static u64 kt_watermark(struct kt_cpu_buf *cb)
{
	u64 wm = READ_ONCE(cb->reader->watermark);

	return wm && wm <= cb->mask + 1 ? wm : (cb->mask + 1) / 2;
}

/* Counters that move only when records are lost: to be published. */
static void kt_meta_dirty(struct kt_cpu_buf *cb)
{
	WRITE_ONCE(cb->meta_dirty, true);
}

/*
 * Wake-ups are edge-triggered: a writer looks at the reader's page and
 * for waiters only once its head reaches cb->wake_at, the position where
 * the unread bytes cross the watermark, and wakes the waiters at most
 * once per crossing: not again until the reader has consumed something.
 * Below the watermark, or with a reader that does not read, a waiter
 * costs the writers nothing.
 *
 * Called by the outermost writer, still nested (no other writer of this
 * CPU runs it meanwhile), after it published @head; @at is the wake_at
 * it found reached. wake_at only moves forward here, with a cmpxchg from
 * @at: kt_buf_poll() may have lowered it meanwhile for a waiter whose
 * crossing comes earlier (a lowered watermark, a tail that moved since
 * we looked), and that one must stay.
 */
static void kt_wake_check(struct kt_cpu_buf *cb, u64 head, u64 at)
{
	u64 tail, wm, next = cb->wake_next;

	/*
	 * wake_at is also the next checkpoint's boundary, if that comes
	 * first, so that the inline commit tests one position: reached, and
	 * wake_at as we set it (not lowered by poll()) and short of the
	 * crossing we computed last, there is no crossing to look for.
	 */
	if (at == cb->wake_set && head < next)
		goto set;
	/*
	 * Our head is published before we read the tail, watermark and
	 * kt_wait; pairs with the smp_mb() in kt_buf_poll() after
	 * poll_wait(): either its poll() sees our head or we see it waiting.
	 */
	smp_mb();
	tail = READ_ONCE(cb->reader->tail);
	wm = kt_watermark(cb);
	if (head - tail < wm) {
		next = tail + wm;	/* the crossing for this tail */
	} else {
		next = head + wm;
		/* Ordered after our head by the smp_mb() above. */
		if (tail != cb->woken_tail && waitqueue_active(&kt_wait)) {
			cb->woken_tail = tail;
			irq_work_queue(&cb->wake);
		}
	}
	cb->wake_next = next;
set:
	cb->wake_set = min(next, READ_ONCE(cb->ck_at));
	cmpxchg_relaxed(&cb->wake_at, at, cb->wake_set);
}

/*
 * The outermost writer publishes @head, the first at or past ck_at: make
 * it the checkpoint (struct kt_ck) of every chunk, of 1 << ck_shift
 * bytes, that begins in (the last published head, @head], the first head
 * published at or after the chunk's start. Nothing is mid-record on this
 * CPU but us, who are done writing, so written - lost records lie before
 * @head: unless an interrupt placed or dropped one since we read head,
 * which a moved head or meta_dirty tells (the retry in kt_publish()
 * comes back here). Only the outermost writer writes checkpoints, so
 * one at a time; a nested writer that reads one meanwhile (kt_ck_find())
 * finds pos not a checkpoint's until both words are.
 */
static void kt_checkpoint(struct kt_cpu_buf *cb, u64 head)
{
	u64 count = local64_read(&cb->written) - local64_read(&cb->lost);
	u64 k = READ_ONCE(cb->ck_at) >> cb->ck_shift;
	u64 last = head >> cb->ck_shift;
	struct kt_ck *ck;

	barrier();
	if (head != local64_read(&cb->head) || READ_ONCE(cb->meta_dirty))
		return;
	/* Not the chunks a buffer behind: so a checkpoint lies in its lap. */
	if (last - k > cb->ck_mask)
		k = last - cb->ck_mask;
	for (; k <= last; k++) {
		ck = &cb->ck[k & cb->ck_mask];
		WRITE_ONCE(ck->pos, KT_POS_NONE);
		barrier();
		WRITE_ONCE(ck->count, count);
		barrier();
		WRITE_ONCE(ck->pos, head);
	}
	WRITE_ONCE(cb->ck_at, (last + 1) << cb->ck_shift);
}

/*
 * The general publication, out of line: kt_buf_commit() (ktracer.h) comes
 * here when the write is nested, counters moved that move only when
 * records are lost, the head reached wake_at, or an interrupt wrote
 * after it read head. Publish head and counters if this is the
 * outermost writer; otherwise leave it to that writer, which is
 * suspended under us and publishes when it resumes. Ends the write
 * begun by local_inc(&cb->nest).
 */
void kt_publish(struct kt_cpu_buf *cb)
{
	struct ktracer_meta *meta = cb->meta;
	u64 head, at;

	if (local_read(&cb->nest) > 1) {
		local_dec(&cb->nest);
		return;
	}
again:
	head = local64_read(&cb->head);
	WRITE_ONCE(meta->written, local64_read(&cb->written));
	WRITE_ONCE(meta->bytes, local64_read(&cb->bytes));
	if (unlikely(READ_ONCE(cb->meta_dirty))) {
		WRITE_ONCE(cb->meta_dirty, false);
		barrier();	/* an interrupt's loss after this sets it again */
		WRITE_ONCE(meta->lost, local64_read(&cb->lost));
		WRITE_ONCE(meta->overwritten, local64_read(&cb->overwritten));
		WRITE_ONCE(meta->tail_resets, local64_read(&cb->tail_resets));
	}
	if (unlikely(head >= READ_ONCE(cb->ck_at)))
		kt_checkpoint(cb, head);
	/* [K2]: the records and counters before the head; pairs with [R1]. */
	smp_store_release(&meta->head, head);
	at = READ_ONCE(cb->wake_at);
	if (unlikely(head >= at)) {
		kt_wake_check(cb, head, at);	/* still nested */
		if (!kt_publish_done(cb, head))
			goto again;
	} else if (unlikely(!kt_publish_done(cb, head))) {
		goto again;
	}
}

/*
 * Walk the records from @from while before @stop, none past @end: the
 * position reached, where a record breaks the record rule or the first
 * at or past @stop; the records that count (not PAD or LOST) in *@n.
 */
static u64 kt_walk(struct kt_cpu_buf *cb, u64 from, u64 stop, u64 end,
		   u64 *n)
{
	struct ktracer_record *r;
	unsigned int size;
	u64 t;

	*n = 0;
	for (t = from; t < stop; t += size) {
		r = kt_rec_at(cb, t, end, &size);
		if (!r)
			break;
		if (kt_rec_counts(r))
			(*n)++;
	}
	return t;
}

/*
 * The checkpoint OVERWRITE frees up to: the furthest one in [@goal,
 * @want], past @tail and published (not past @published); its position,
 * and its count in *@count, or 0 if none is. A chunk's entry is of the
 * current lap only if it is not before the chunk's start (an entry of
 * the lap before is before it: kt_checkpoint()). Where heads are
 * published at most three chunks apart (a record or a block at a time),
 * one lies in the last three chunks before @want, which begin after
 * @goal: found.
 */
static u64 kt_ck_find(const struct kt_cpu_buf *cb, u64 tail, u64 goal,
		      u64 want, u64 published, u64 *count)
{
	u64 k, pos;
	const struct kt_ck *ck;

	for (k = want >> cb->ck_shift; k >= goal >> cb->ck_shift; k--) {
		ck = &cb->ck[k & cb->ck_mask];
		pos = READ_ONCE(ck->pos);
		barrier();	/* count is pos's: see kt_checkpoint() */
		if (pos >= k << cb->ck_shift && pos >= goal && pos <= want &&
		    pos > tail && pos <= published) {
			*count = READ_ONCE(ck->count);
			return pos;
		}
		if (!k)
			break;
	}
	return 0;
}

/*
 * OVERWRITE: free the oldest records so that [tail, @new) fits, up to
 * KT_OVERWRITE_AHEAD bytes more (or as many as are published), moving
 * the reader's tail with a cmpxchg before anything is overwritten ([K3]).
 * Only published records are freed: an interrupted writer's space never.
 *
 * The new tail is a checkpoint where there is one; from the tail we set
 * at the last one (ow_tail), what is freed is counted without reading a
 * record: the difference of the two counts. From any other tail (the
 * reader moved it) the records are walked and counted, each checked
 * against the record rule (the tail is the reader's to write).
 */
static bool kt_overwrite(struct kt_cpu_buf *cb, u64 head, u64 new)
{
	u64 size = cb->mask + 1;
	u64 ahead = min_t(u64, KT_OVERWRITE_AHEAD, size / 8);
	u64 published = READ_ONCE(cb->meta->head);
	u64 tail, t, stop, freed, ck, count = 0;
	unsigned int tries;

	for (tries = 0; tries < KT_TAIL_RETRIES; tries++) {
		tail = READ_ONCE(cb->reader->tail);
		if (!kt_tail_valid(cb, tail, published)) {
			if (cmpxchg(&cb->reader->tail, tail, published) == tail) {
				local64_inc(&cb->tail_resets);
				kt_meta_dirty(cb);
			}
			continue;
		}
		if (new - tail <= size)
			return true;
		ck = kt_ck_find(cb, tail, new - size, new - size + ahead,
				published, &count);
		if (ck && tail == READ_ONCE(cb->ow_tail)) {
			/*
			 * ow_count is ow_tail's unless an interrupt set both
			 * since we read ow_tail; it moved the tail to do so,
			 * and our cmpxchg below fails.
			 */
			barrier();
			t = ck;
			freed = count - READ_ONCE(cb->ow_count);
		} else {
			stop = ck ? ck : new - size + ahead;
			t = kt_walk(cb, tail, stop, published, &freed);
			if (t != ck)
				ck = 0;
		}
		if (new - t > size) {
			/*
			 * Either what is left to free is an interrupted
			 * writer's, not published: the record is dropped. Or
			 * the tail we read went stale while we walked: the
			 * reader consumed past it and an interrupt wrote over
			 * what it consumed, so that we walked over new data.
			 * The tail tells which; only a moved one can do that.
			 */
			if (READ_ONCE(cb->reader->tail) == tail)
				return false;
			continue;
		}
		/*
		 * [K3]: full barrier before we overwrite; pairs with [R4].
		 * Not cached as DISCARD's tail is: the reader consumes up to
		 * a tail it read, with a cmpxchg, so only a cmpxchg that sees
		 * the tail it read tells whether the reader is copying out
		 * the records we are about to free.
		 */
		if (cmpxchg(&cb->reader->tail, tail, t) == tail) {
			local64_add(freed, &cb->overwritten);
			kt_meta_dirty(cb);
			/* ow_tail last: see the fast case above. */
			WRITE_ONCE(cb->ow_tail, KT_POS_NONE);
			barrier();
			WRITE_ONCE(cb->ow_count, count);
			barrier();
			if (ck)
				WRITE_ONCE(cb->ow_tail, t);
			return true;
		}
	}
	return false;
}

void kt_fill_pad(void *p, unsigned int size)
{
	struct ktracer_record *r = p;

	memset(p, 0, size);
	r->size = size;
	r->type = KTRACER_REC_PAD;
}

/*
 * DISCARD: room for [head, new) once the cached tail says no? [K1]: the
 * reader's tail is read with acquire, which orders every later data
 * write on this CPU after it (those of later records that reuse the
 * cached value too, which a control dependency would not); pairs with
 * the reader's [R3]. Only a valid tail is cached, and the cache is
 * behind the reader's tail unless the reader moved it back, over bytes
 * it had consumed: nothing unread is written over.
 */
noinline bool kt_discard_room(struct kt_cpu_buf *cb, u64 head, u64 new)
{
	u64 tail = smp_load_acquire(&cb->reader->tail);	/* [K1] */

	if (!kt_tail_valid(cb, tail, head) || new - tail > cb->mask + 1)
		return false;
	WRITE_ONCE(cb->tail_cache, tail);
	return true;
}

/*
 * OVERWRITE's claim when the reader's tail leaves no room or makes no
 * sense, out of line: kt_claim() with the oldest records freed to make
 * room (kt_overwrite()).
 */
noinline u64 kt_claim_overwrite(struct kt_cpu_buf *cb, unsigned int need)
{
	u64 head, new;

	do {
		head = local64_read(&cb->head);
		new = kt_claim_end(cb, head, need);
		if (!kt_overwrite(cb, head, new))
			return 0;
	} while (local64_cmpxchg(&cb->head, head, new) != head);
	kt_claim_pad(cb, head, new, need);
	return new;
}

/*
 * kt_buf_reserve() (ktracer.h) once its write has begun and counted the
 * record, when writers nest too deep or records wait to be told lost:
 * the LOST record first, with @ts, the time of the record that follows.
 */
struct ktracer_record *kt_buf_reserve_rest(struct kt_wctx *w,
					   unsigned int size, u64 ts)
{
	struct kt_cpu_buf *cb = w->cb;
	struct ktracer_record *r;
	unsigned int need = size;
	u64 lost;

	if (unlikely(local_read(&cb->nest) > KT_NEST_MAX))
		return kt_buf_drop(cb, 0);

	lost = local64_xchg(&cb->lost_pending, 0);
	if (lost)
		need += sizeof(*r);
	w->end = kt_claim(cb, need);
	if (unlikely(!w->end))
		return kt_buf_drop(cb, lost);

	r = (struct ktracer_record *)(cb->data + ((w->end - need) & cb->mask));
	if (lost) {
		memset(r, 0, sizeof(*r));
		r->size = sizeof(*r);
		r->type = KTRACER_REC_LOST;
		r->ts = ts;
		r->arg = lost;
		r++;
	}
	local64_add(size, &cb->bytes);
	return r;
}

/*
 * The record kt_buf_reserve() counted is dropped, and @lost records that
 * were waiting to be told lost still are: counted, the write ended.
 */
struct ktracer_record *kt_buf_drop(struct kt_cpu_buf *cb, u64 lost)
{
	local64_add(lost, &cb->lost_pending);
	local64_inc(&cb->lost);
	local64_inc(&cb->lost_pending);
	kt_meta_dirty(cb);
	kt_publish(cb);
	return NULL;
}

/*
 * Reserve @size bytes for @nrec records at once, as a batch writes them;
 * they must all be filled, or the unused end given back with
 * kt_buf_shrink(), before kt_buf_commit(). Returns NULL, having counted
 * nothing and begun no write, if recording is off, they do not all fit
 * or records are waiting to be told lost: the caller then writes them
 * one by one with kt_buf_reserve().
 */
struct ktracer_record *kt_buf_reserve_block(struct kt_wctx *w,
					    unsigned int size,
					    unsigned int nrec)
{
	struct kt_cpu_buf *cb;

	if (unlikely(!kt_is_enabled()))
		return NULL;
	cb = kt_begin(w);
	if (unlikely(local_read(&cb->nest) > KT_NEST_MAX ||
		     local64_read(&cb->lost_pending)))
		goto fail;
	w->end = kt_claim(cb, size);
	if (unlikely(!w->end))
		goto fail;
	local64_add(nrec, &cb->written);
	local64_add(size, &cb->bytes);
	return (struct ktracer_record *)(cb->data + ((w->end - size) & cb->mask));
fail:
	kt_publish(cb);
	return NULL;
}

/*
 * The last @size bytes of a block, meant for @nrec records, stay unused:
 * given back if nobody reserved after them, else left as a PAD record.
 */
void kt_buf_shrink(struct kt_wctx *w, void *unused, unsigned int size,
		   unsigned int nrec)
{
	struct kt_cpu_buf *cb = w->cb;

	local64_sub(nrec, &cb->written);
	local64_sub(size, &cb->bytes);
	if (local64_cmpxchg(&cb->head, w->end, w->end - size) != w->end)
		kt_fill_pad(unused, size);	/* an interrupt wrote after */
}

/* The record reserved is not one "written" counts (a LOST record). */
void kt_buf_uncount(struct kt_wctx *w)
{
	local64_dec(&w->cb->written);
}

/* Records (not PAD or LOST) in [from, to) of a buffer; bounded walk. */
u64 kt_buf_count(struct kt_cpu_buf *cb, u64 from, u64 to)
{
	u64 n = 0;

	if (kt_tail_valid(cb, from, to))
		kt_walk(cb, from, to, to, &n);
	return n;
}

static void kt_buffers_free(struct kt_buffers *b)
{
	unsigned int cpu;

	if (!b)
		return;
	for (cpu = 0; cpu < b->nr_cpus; cpu++) {
		irq_work_sync(&b->cpu[cpu].wake);
		vfree(b->cpu[cpu].area);
		kvfree(b->cpu[cpu].ck);
	}
	kfree(b);
}

static struct kt_buffers *kt_buffers_alloc(u64 data_size)
{
	unsigned int cpu, nr = nr_cpu_ids;
	struct kt_buffers *b;
	struct kt_cpu_buf *cb;

	b = kzalloc(struct_size(b, cpu, nr), GFP_KERNEL);
	if (!b)
		return NULL;
	b->nr_cpus = nr;
	b->data_size = data_size;
	b->cpu_pages = 2 + data_size / PAGE_SIZE;
	for (cpu = 0; cpu < nr; cpu++) {
		cb = &b->cpu[cpu];
		init_irq_work(&cb->wake, kt_wake);
		cb->area = vmalloc_user((size_t)b->cpu_pages * PAGE_SIZE);
		if (!cb->area)
			goto err;
		cb->reader = cb->area;
		cb->meta = cb->area + PAGE_SIZE;
		cb->data = cb->area + 2 * PAGE_SIZE;
		cb->mask = data_size - 1;
		cb->meta->magic = KTRACER_META_MAGIC;
		cb->meta->cpu = cpu;
		cb->meta->data_size = data_size;
		cb->woken_tail = U64_MAX;	/* not a tail: not 8-aligned */
		/*
		 * Checkpoints: four per KT_OVERWRITE_AHEAD of data (16 bytes
		 * per 2 KiB, as ftrace spends about 48 per 4 KiB page), so
		 * that a full buffer finds one to free up to where heads
		 * are published every three chunks (kt_ck_find()). Zeroed,
		 * the first says that no record lies before position 0, as
		 * ow_tail and ow_count do: true.
		 */
		cb->ck_shift = ilog2(min_t(u64, KT_OVERWRITE_AHEAD,
					   data_size / 8)) - 2;
		cb->ck_mask = (data_size >> cb->ck_shift) - 1;
		cb->ck = kvcalloc(cb->ck_mask + 1, sizeof(*cb->ck),
				  GFP_KERNEL_ACCOUNT);
		if (!cb->ck)
			goto err;
	}
	return b;
err:
	kt_buffers_free(b);
	return NULL;
}

/*
 * Replace the buffers with new ones of @data_size, if nothing is mapped.
 * Writers still on the old ones run with preemption disabled, and an
 * irq_work may be pending on them: the old buffers are freed after a
 * grace period, in process context (irq_work_sync() sleeps), and with
 * kt_config_lock dropped so that nobody waits on it meanwhile.
 */
static int kt_buffers_replace(u64 data_size)
{
	struct kt_buffers *old, *new;

	new = kt_buffers_alloc(data_size);
	if (!new)
		return -ENOMEM;
	mutex_lock(&kt_config_lock);
	if (atomic_read(&kt_mapped)) {
		mutex_unlock(&kt_config_lock);
		kt_buffers_free(new);
		return -EBUSY;
	}
	old = rcu_replace_pointer(kt_bufs, new, lockdep_is_held(&kt_config_lock));
	WRITE_ONCE(kt_state->data_size, data_size);
	WRITE_ONCE(kt_state->cpu_pages, new->cpu_pages);
	mutex_unlock(&kt_config_lock);

	synchronize_rcu();
	kt_buffers_free(old);
	return 0;
}

static bool kt_size_valid(u64 size)
{
	return size >= KTRACER_BUFFER_MIN && size <= KTRACER_BUFFER_MAX &&
	       is_power_of_2(size) && size >= PAGE_SIZE;
}

int kt_buf_resize(u64 data_size)
{
	if (!kt_size_valid(data_size))
		return -EINVAL;
	return kt_buffers_replace(data_size);
}

int kt_buf_reset(void)
{
	return kt_buffers_replace(READ_ONCE(kt_state->data_size));
}

/*
 * The pages of a mapping are found again on every fault, not inserted
 * once at mmap(): user space may zap them (madvise(MADV_DONTNEED), memory
 * tooling) and must find the same pages when it touches them again, as
 * with perf's perf_mmap_fault(). The areas are vmalloc_user() memory that
 * lives as long as the mapping: the state page as long as the module (a
 * mapping holds the file, the file the module), the CPU buffers because
 * they are not replaced while kt_mapped counts a mapping of them.
 */
vm_fault_t kt_fault_page(struct vm_fault *vmf, void *area,
			 unsigned long nr_pages, unsigned long index)
{
	if (index >= nr_pages)
		return VM_FAULT_SIGBUS;
	vmf->page = vmalloc_to_page(area + index * PAGE_SIZE);
	if (!vmf->page)
		return VM_FAULT_SIGBUS;
	get_page(vmf->page);
	return 0;
}

static vm_fault_t kt_state_fault(struct vm_fault *vmf)
{
	return kt_fault_page(vmf, kt_state, 1, vmf->pgoff);
}

/* vm_private_data: the struct kt_buffers mapped, stable while mapped. */
static vm_fault_t kt_buf_fault(struct vm_fault *vmf)
{
	struct kt_buffers *b = vmf->vma->vm_private_data;
	unsigned long cpu;

	if (!vmf->pgoff)
		return VM_FAULT_SIGBUS;
	cpu = (vmf->pgoff - 1) / b->cpu_pages;
	if (cpu >= b->nr_cpus)
		return VM_FAULT_SIGBUS;
	return kt_fault_page(vmf, b->cpu[cpu].area, b->cpu_pages,
			     (vmf->pgoff - 1) % b->cpu_pages);
}

/*
 * A mapping of a CPU buffer is counted in kt_mapped for as long as it
 * exists: mmap() counts the first one; the kernel opens every copy it
 * makes (fork() gives the child one, mremap() moves one to a new vma,
 * munmap() of a part splits one in two) and closes each as it goes.
 */
static void kt_vm_open(struct vm_area_struct *vma)
{
	atomic_inc(&kt_mapped);
}

static void kt_vm_close(struct vm_area_struct *vma)
{
	atomic_dec(&kt_mapped);
}

static const struct vm_operations_struct kt_state_vm_ops = {
	.fault	= kt_state_fault,
};

static const struct vm_operations_struct kt_buf_vm_ops = {
	.open	= kt_vm_open,
	.close	= kt_vm_close,
	.fault	= kt_buf_fault,
};

/*
 * Page 0: the state page, read-only, for anyone who opened the file.
 * Then each CPU's buffer (privileged): reader page (the only writable
 * one), meta page, data. See "mmap" in uapi/linux/ktracer.h. Every
 * mapping's flags are set in kt_mmap_flags() alone: never expanded
 * (mremap() cannot grow it past its area), never in a core dump, never
 * made writable by mprotect() unless it is a reader page.
 */
static void kt_mmap_flags(struct vm_area_struct *vma, bool writable)
{
	if (!writable)
		vm_flags_clear(vma, VM_MAYWRITE);
	vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
}

int kt_buf_mmap(struct file *file, struct vm_area_struct *vma)
{
	unsigned long pgoff = vma->vm_pgoff, npages = vma_pages(vma);
	unsigned long cpu, first;
	struct kt_buffers *b;
	bool writable;
	int ret;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (pgoff == 0) {
		if (npages != 1)
			return -EINVAL;
		if (vma->vm_flags & VM_WRITE)
			return -EPERM;
		kt_mmap_flags(vma, false);
		vma->vm_ops = &kt_state_vm_ops;
		return 0;
	}
	if (!perfmon_capable())
		return -EPERM;

	mutex_lock(&kt_config_lock);
	b = rcu_dereference_protected(kt_bufs, lockdep_is_held(&kt_config_lock));
	cpu = (pgoff - 1) / b->cpu_pages;
	first = (pgoff - 1) % b->cpu_pages;
	ret = -EINVAL;
	if (cpu >= b->nr_cpus || npages > b->cpu_pages - first)
		goto out;
	writable = first == 0 && npages == 1;
	ret = -EPERM;
	if (!writable && (vma->vm_flags & VM_WRITE))
		goto out;
	kt_mmap_flags(vma, writable);
	vma->vm_private_data = b;
	vma->vm_ops = &kt_buf_vm_ops;
	atomic_inc(&kt_mapped);
	ret = 0;
out:
	mutex_unlock(&kt_config_lock);
	return ret;
}

/*
 * A waiter's crossing is at @at: make the writers look for waiters there
 * at the latest. Only ever lowers wake_at, so that it cannot undo what a
 * writer or another waiter needs; see kt_wake_check().
 */
static void kt_wake_lower(struct kt_cpu_buf *cb, u64 at)
{
	u64 old = READ_ONCE(cb->wake_at), prev;

	while (at < old) {
		prev = cmpxchg_relaxed(&cb->wake_at, old, at);
		if (prev == old)
			break;
		old = prev;
	}
}

__poll_t kt_buf_poll(struct file *file, struct poll_table_struct *wait)
{
	struct kt_buffers *b;
	struct kt_cpu_buf *cb;
	__poll_t mask = 0;
	unsigned int cpu;
	u64 head, tail, wm;

	poll_wait(file, &kt_wait, wait);
	/*
	 * Pairs with the smp_mb() in kt_wake_check(), which a writer runs
	 * after publishing a head that reaches its wake_at: our wait queue
	 * entry is visible before we read the heads and tails, so either we
	 * see the writer's head or it sees us on kt_wait and wakes us.
	 * Without it both can read the other's old value, and poll() sleeps
	 * through data above the watermark (as ring_buffer_poll_wait() and
	 * sock_poll_wait() know).
	 */
	smp_mb();
	rcu_read_lock();
	b = rcu_dereference(kt_bufs);
	for (cpu = 0; cpu < b->nr_cpus && !mask; cpu++) {
		cb = &b->cpu[cpu];
		/* Pairs with [K2] in kt_publish(). */
		head = smp_load_acquire(&cb->meta->head);
		tail = READ_ONCE(cb->reader->tail);
		wm = kt_watermark(cb);
		if (head - tail >= wm)
			mask = EPOLLIN | EPOLLRDNORM;
		else
			kt_wake_lower(cb, tail + wm);
	}
	rcu_read_unlock();
	return mask;
}

int kt_buf_init(u64 data_size)
{
	int ret;

	if (!kt_size_valid(data_size)) {
		pr_err("buffer size %llu: a power of two, %u to %u bytes\n",
		       data_size, KTRACER_BUFFER_MIN, KTRACER_BUFFER_MAX);
		return -EINVAL;
	}
	kt_state = vmalloc_user(PAGE_SIZE);
	if (!kt_state)
		return -ENOMEM;
	kt_state->magic = KTRACER_STATE_MAGIC;
	kt_state->abi_major = KTRACER_ABI_MAJOR;
	kt_state->abi_minor = KTRACER_ABI_MINOR;
	kt_state->enabled = 1;
	kt_state->mode = KTRACER_MODE_DISCARD;
	kt_state->nr_cpus = nr_cpu_ids;
	kt_state->page_size = PAGE_SIZE;

	ret = kt_buffers_replace(data_size);
	if (ret)
		vfree(kt_state);
	return ret;
}

/* Nobody can write any more: the device and all its files are gone. */
void kt_buf_exit(void)
{
	struct kt_buffers *b = rcu_dereference_protected(kt_bufs, 1);

	RCU_INIT_POINTER(kt_bufs, NULL);
	synchronize_rcu();
	kt_buffers_free(b);
	vfree(kt_state);
}
