// SPDX-License-Identifier: GPL-2.0
/* ktracer-read: why records were left out, in words (the checks: record.h). */

#include "record.h"

const char *kr_why_str(enum kr_why why)
{
	static const char *const str[KR_BAD__NR] = {
		[KR_OK]			= "ok",
		[KR_BAD_SHORT]		= "shorter than a record header",
		[KR_BAD_TYPE]		= "unknown record type",
		[KR_BAD_EVENT]		= "event id out of range",
		[KR_BAD_LEN]		= "len and size disagree",
		[KR_BAD_KIND]		= "record type not its event's kind",
		[KR_BAD_SLOT]		= "slot out of range",
		[KR_BAD_PAYLOAD]	= "message not what the event carries",
		[KR_BAD_UNPAIRED]	= "STOP without its START",
		[KR_BAD_OVERLAP]	= "span would not nest on a track",
		[KR_BAD_FULL]		= "bounded table full",
	};

	return (unsigned int)why < KR_BAD__NR ? str[why] : "?";
}
