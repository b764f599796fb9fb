/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktracer's own tracepoints: every op a program makes through
 * /dev/ktracer that succeeds fires one (CANCEL: one per slot it closes),
 * whether or not ktracer records it, so that perf, trace-cmd and
 * /sys/kernel/tracing/events/ktracer/ see the programs' spans too.
 * pid and tid name the thread the record names: the op's caller, or a
 * queue's owner (global ids). Defined by tracepoints.c; fired by tracer.c.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM ktracer

#if !defined(_KT_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _KT_TRACE_H

#include <linux/jump_label.h>
#include <linux/tracepoint.h>

#include "compat.h"
#include "ktracer.h"

/*
 * Each event counts itself in kt_tracing_key while it has a probe
 * (kt_tp_reg(), kt_tp_unreg()): the paths that apply ops by the thousand
 * test that one key (kt_tracing()) rather than each event's.
 */
DECLARE_STATIC_KEY_FALSE(kt_tracing_key);
int kt_tp_reg(void);
void kt_tp_unreg(void);

/*
 * START, STOP and CANCEL: one layout, each printing what it has: a class
 * each, as an event with its own print and a reg function must be.
 */
#define KT_SPAN_PROTO	TP_PROTO(u32 id, u32 pid, u32 tid, u32 slot, u64 arg, \
				 u64 dur)
#define KT_SPAN_ARGS	TP_ARGS(id, pid, tid, slot, arg, dur)
#define KT_SPAN_ENTRY	TP_STRUCT__entry(__string(event, kt_event_name(id)) \
					 __field(u32, pid)		\
					 __field(u32, tid)		\
					 __field(u32, slot)		\
					 __field(u64, arg)		\
					 __field(u64, dur))
#define KT_SPAN_ASSIGN	TP_fast_assign(kt_assign_str(event, kt_event_name(id)); \
				       __entry->pid = pid;		\
				       __entry->tid = tid;		\
				       __entry->slot = slot;		\
				       __entry->arg = arg;		\
				       __entry->dur = dur;)

DECLARE_EVENT_CLASS(kt_span_start, KT_SPAN_PROTO, KT_SPAN_ARGS, KT_SPAN_ENTRY,
		    KT_SPAN_ASSIGN,
		    TP_printk("pid=%u tid=%u event=%s slot=%u arg=%llu",
			      __entry->pid, __entry->tid, __get_str(event),
			      __entry->slot, __entry->arg));
DEFINE_EVENT_FN(kt_span_start, span_start, KT_SPAN_PROTO, KT_SPAN_ARGS,
		kt_tp_reg, kt_tp_unreg);

DECLARE_EVENT_CLASS(kt_span_stop, KT_SPAN_PROTO, KT_SPAN_ARGS, KT_SPAN_ENTRY,
		    KT_SPAN_ASSIGN,
		    TP_printk("pid=%u tid=%u event=%s slot=%u arg=%llu dur=%llu",
			      __entry->pid, __entry->tid, __get_str(event),
			      __entry->slot, __entry->arg, __entry->dur));
DEFINE_EVENT_FN(kt_span_stop, span_stop, KT_SPAN_PROTO, KT_SPAN_ARGS,
		kt_tp_reg, kt_tp_unreg);

DECLARE_EVENT_CLASS(kt_span_cancel, KT_SPAN_PROTO, KT_SPAN_ARGS, KT_SPAN_ENTRY,
		    KT_SPAN_ASSIGN,
		    TP_printk("pid=%u tid=%u event=%s slot=%u dur=%llu",
			      __entry->pid, __entry->tid, __get_str(event),
			      __entry->slot, __entry->dur));
DEFINE_EVENT_FN(kt_span_cancel, span_cancel, KT_SPAN_PROTO, KT_SPAN_ARGS,
		kt_tp_reg, kt_tp_unreg);

/* GAUGE (value) and COUNT (added, total). */
#define KT_METRIC_PROTO	TP_PROTO(u32 id, u32 pid, u32 tid, u64 a, u64 b)
#define KT_METRIC_ARGS	TP_ARGS(id, pid, tid, a, b)
#define KT_METRIC_ENTRY	TP_STRUCT__entry(__string(event, kt_event_name(id)) \
					 __field(u32, pid)		\
					 __field(u32, tid)		\
					 __field(u64, a)		\
					 __field(u64, b))
#define KT_METRIC_ASSIGN TP_fast_assign(kt_assign_str(event, kt_event_name(id)); \
					__entry->pid = pid;		\
					__entry->tid = tid;		\
					__entry->a = a;			\
					__entry->b = b;)

DECLARE_EVENT_CLASS(kt_gauge, KT_METRIC_PROTO, KT_METRIC_ARGS, KT_METRIC_ENTRY,
		    KT_METRIC_ASSIGN,
		    TP_printk("pid=%u tid=%u event=%s value=%lld",
			      __entry->pid, __entry->tid, __get_str(event),
			      (s64)__entry->a));
DEFINE_EVENT_FN(kt_gauge, gauge, KT_METRIC_PROTO, KT_METRIC_ARGS,
		kt_tp_reg, kt_tp_unreg);

DECLARE_EVENT_CLASS(kt_count, KT_METRIC_PROTO, KT_METRIC_ARGS, KT_METRIC_ENTRY,
		    KT_METRIC_ASSIGN,
		    TP_printk("pid=%u tid=%u event=%s added=%llu total=%llu",
			      __entry->pid, __entry->tid, __get_str(event),
			      __entry->a, __entry->b));
DEFINE_EVENT_FN(kt_count, count, KT_METRIC_PROTO, KT_METRIC_ARGS,
		kt_tp_reg, kt_tp_unreg);

/* @msg is not NUL-terminated: the event copies @len bytes and adds one. */
TRACE_EVENT_FN(log,
	       TP_PROTO(u32 id, u32 pid, u32 tid, const char *msg, u32 len),
	       TP_ARGS(id, pid, tid, msg, len),
	       TP_STRUCT__entry(__string(event, kt_event_name(id))
				__field(u32, pid)
				__field(u32, tid)
				__dynamic_array(char, msg, len + 1)),
	       TP_fast_assign(kt_assign_str(event, kt_event_name(id));
			      __entry->pid = pid;
			      __entry->tid = tid;
			      memcpy(__get_dynamic_array(msg), msg, len);
			      ((char *)__get_dynamic_array(msg))[len] = '\0';),
	       TP_printk("pid=%u tid=%u event=%s msg=%s", __entry->pid,
			 __entry->tid, __get_str(event), __get_str(msg)),
	       kt_tp_reg, kt_tp_unreg
);

#endif /* _KT_TRACE_H */

/* Out of tree: found through Kbuild's -I$(src). */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH module
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE kt_trace
#include <trace/define_trace.h>
