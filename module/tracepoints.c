// SPDX-License-Identifier: GPL-2.0
/* The one place ktracer's own tracepoints (kt_trace.h) are defined. */

#include <linux/jump_label.h>

#define CREATE_TRACE_POINTS
#include "kt_trace.h"

/* How many of the events have a probe: see kt_tracing(). */
DEFINE_STATIC_KEY_FALSE(kt_tracing_key);

/* Called as an event gets its first probe, under tracepoints_mutex. */
int kt_tp_reg(void)
{
	static_branch_inc(&kt_tracing_key);
	return 0;
}

/* ...and as it loses its last one. */
void kt_tp_unreg(void)
{
	static_branch_dec(&kt_tracing_key);
}
