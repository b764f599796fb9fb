/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktracer-read: the records of uapi/linux/ktracer.h, checked one by one.
 *
 * The buffers are written by the kernel, but a reader never trusts what it
 * maps: every record is framed (a size the walk can follow) and checked
 * (a type, an event and a length that agree) before anything uses it.
 */
#ifndef KR_RECORD_H
#define KR_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <linux/ktracer.h>

#define KR_REC_HDR	((uint32_t)sizeof(struct ktracer_record))
#define KR_REC_MAX	(KR_REC_HDR + KTRACER_LOG_MAX)

/*
 * Flags the reader sets on the LOST records it writes itself into its
 * copy of a stream; cleared from whatever the buffers carry.
 */
#define KR_RECF_OVERWRITTEN	0x80	/* arg records freed unread (OVERWRITE) */
#define KR_RECF_CORRUPT		0x40	/* arg bytes skipped: not records */
#define KR_RECF_READER		(KR_RECF_OVERWRITTEN | KR_RECF_CORRUPT)

/* Why a record was left out; counted per reason. */
enum kr_why {
	KR_OK = 0,
	KR_BAD_SHORT,		/* shorter than the record header */
	KR_BAD_TYPE,		/* unknown record type */
	KR_BAD_EVENT,		/* event id 0 or above KTRACER_EVENT_ID_MAX */
	KR_BAD_LEN,		/* len and size disagree */
	KR_BAD_KIND,		/* a type its (kernel) event never has */
	KR_BAD_SLOT,		/* slot out of range for its event */
	KR_BAD_PAYLOAD,		/* message is not what its event carries */
	KR_BAD_UNPAIRED,	/* STOP whose START was never seen */
	KR_BAD_OVERLAP,		/* would not nest on any track */
	KR_BAD_FULL,		/* no room left in a bounded table */
	KR_BAD__NR
};

const char *kr_why_str(enum kr_why why);

enum kr_frame {
	KR_FRAME_OK,	/* a record of *size bytes starts here */
	KR_FRAME_CUT,	/* fewer bytes left than the record says it has */
	KR_FRAME_BAD	/* a size no record can have: the walk cannot go on */
};

/* Can a walk step over the record at @p, @avail bytes being readable? */
static inline enum kr_frame kr_frame(const unsigned char *p, size_t avail,
				     uint32_t *size)
{
	uint16_t s;

	if (avail < 8)
		return KR_FRAME_CUT;
	memcpy(&s, p, sizeof(s));
	*size = s;
	if (s < 8 || s % 8)
		return KR_FRAME_BAD;
	return s > avail ? KR_FRAME_CUT : KR_FRAME_OK;
}

/*
 * Is the framed record @r (r->size bytes readable) one a reader can use?
 * PAD is OK: the caller skips it. Inline: every record read passes here.
 */
static inline enum kr_why kr_rec_check(const struct ktracer_record *r)
{
	if (r->type == KTRACER_REC_PAD)
		return KR_OK;
	if (r->size < KR_REC_HDR)
		return KR_BAD_SHORT;
	if (r->type < KTRACER_REC_LOST || r->type > KTRACER_REC_SWITCH)
		return KR_BAD_TYPE;
	if (r->type == KTRACER_REC_LOST ? r->event != 0 :
	    r->event == 0 || r->event > KTRACER_EVENT_ID_MAX)
		return KR_BAD_EVENT;
	if (r->len > KTRACER_LOG_MAX ||
	    r->size != KR_REC_HDR + ((r->len + 7) & ~7u))
		return KR_BAD_LEN;
	return KR_OK;
}

static inline const unsigned char *kr_rec_msg(const struct ktracer_record *r)
{
	return (const unsigned char *)(r + 1);
}

#endif /* KR_RECORD_H */
