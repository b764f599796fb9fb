// SPDX-License-Identifier: GPL-2.0
/*
 * Writing one record to this CPU's buffer, from any context: task, soft
 * or hard interrupt, NMI. The only other writer is a batch, which fills
 * a block of records at once (kt_apply_block() in tracer.c).
 */

#include <linux/preempt.h>
#include <linux/string.h>

#include "ktracer.h"

/* Write @d if tracing is on; a full buffer drops it (counted). */
void kt_write(const struct kt_rec *d)
{
	unsigned int pad = ALIGN(d->len, 8) - d->len;
	unsigned int size = sizeof(struct ktracer_record) + d->len + pad;
	struct ktracer_record *r;
	struct kt_wctx w;

	if (!kt_is_enabled())
		return;
	preempt_disable_notrace();
	r = kt_buf_reserve(&w, size, d->ts);
	if (r) {
		/* A queue's LOST record counts nowhere, as the buffer's own. */
		if (d->type == KTRACER_REC_LOST)
			kt_buf_uncount(&w);
		kt_fill(r, d, size);
		if (d->len) {
			memcpy(r + 1, d->msg, d->len);
			memset((u8 *)(r + 1) + d->len, 0, pad);
		}
		kt_buf_commit(&w);
	}
	preempt_enable_notrace();
}
