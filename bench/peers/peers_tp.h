/* SPDX-License-Identifier: GPL-2.0 */
/*
 * peers_tp.h: the LTTng-UST tracepoint provider of bench/peers/peers.c.
 * One event, peers:op, with what a ktracer START record carries of the
 * program's: the event's id, the slot and a 64-bit argument (the time
 * comes with every LTTng event; ktracer's record also has the pid and
 * tid, which LTTng records only with the vpid/vtid contexts added).
 */
#undef TRACEPOINT_PROVIDER
#define TRACEPOINT_PROVIDER peers

#undef TRACEPOINT_INCLUDE
#define TRACEPOINT_INCLUDE "./peers_tp.h"

#if !defined(PEERS_TP_H) || defined(TRACEPOINT_HEADER_MULTI_READ)
#define PEERS_TP_H

#include <lttng/tracepoint.h>

TRACEPOINT_EVENT(peers, op,
	TP_ARGS(uint32_t, event, uint32_t, slot, uint64_t, arg),
	TP_FIELDS(
		ctf_integer(uint32_t, event, event)
		ctf_integer(uint32_t, slot, slot)
		ctf_integer(uint64_t, arg, arg)
	)
)

#endif /* PEERS_TP_H */

#include <lttng/tracepoint-event.h>
