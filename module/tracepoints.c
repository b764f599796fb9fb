// SPDX-License-Identifier: GPL-2.0
/* The one place ktracer's own tracepoints (kt_trace.h) are defined. */

#define CREATE_TRACE_POINTS
#include "kt_trace.h"
