/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktracer-read: StatsD metrics, aggregated over an interval and sent as
 * datagrams of several lines, none longer than max_datagram bytes:
 *
 *	<prefix><event>_us.min:<µs>|g      per span event, complete spans only
 *	<prefix><event>_us.max:<µs>|g      (cancelled ones are left out);
 *	<prefix><event>_us.avg:<µs>|g      microseconds, three decimals
 *	<prefix><event>_us.sum:<µs>|c
 *	<prefix><event>_us.count:<n>|c
 *	<prefix><event>:<value>|g          per gauge event: the last value
 *	<prefix><event>:<sum>|c            per counter event: the adds of
 *	                                   the interval
 *	<prefix>reader.read:<n>|c          records the reader consumed,
 *	<prefix>reader.lost:<n>|c          and was told were lost
 *
 * With tags, each line ends in DogStatsD tags "|#host:H,pid:P" (reader
 * lines: host only), and events are aggregated per process. Sums and
 * counts saturate. Names keep [A-Za-z0-9_.-]; any other byte becomes '_'.
 * Everything is reset after each emit.
 */
#ifndef KR_STATSD_H
#define KR_STATSD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "map.h"

#define KR_STATSD_DATAGRAM	1400
#define KR_STATSD_PREFIX_MAX	128

/* Sends one datagram: 0, or an errno. */
typedef int (*kr_send_fn)(void *ctx, const void *buf, size_t len);

struct kr_statsd_cfg {
	const char *prefix;	/* "ktracer." */
	bool tags;
	const char *host;	/* the host tag's value */
	size_t max_datagram;	/* 0: KR_STATSD_DATAGRAM */
	size_t max_keys;	/* aggregates in an interval; 0: default */
	kr_send_fn send;
	void *ctx;
	FILE *log;		/* the first failed send is reported here */
	const char *dest;	/* "host:port", for those reports */
};

struct kr_statsd_stats {
	uint64_t emits, datagrams, lines;
	uint64_t send_errors;	/* datagrams not sent */
	uint64_t dropped;	/* values with no room for their aggregate */
	int last_error;		/* errno of the last failed send */
};

struct kr_statsd {
	struct kr_statsd_cfg cfg;
	char prefix[KR_STATSD_PREFIX_MAX + 1];
	char tag_host[80];
	size_t prefix_len, tag_host_len;
	struct kr_map agg;
	uint64_t read, lost;	/* the reader's own, this interval */
	char *dgram;		/* the datagram being filled */
	size_t dlen;
	uint64_t emit_errors;	/* failed sends of the current emit */
	bool told;		/* a failure was reported to cfg.log */
	struct kr_statsd_stats st;
};

int kr_statsd_init(struct kr_statsd *s, const struct kr_statsd_cfg *cfg);
void kr_statsd_free(struct kr_statsd *s);

/* One completed span of event @id (named @name, @len bytes), @dur ns. */
void kr_statsd_span(struct kr_statsd *s, uint32_t id, const char *name,
		    size_t len, uint32_t pid, uint64_t dur);
void kr_statsd_gauge(struct kr_statsd *s, uint32_t id, const char *name,
		     size_t len, uint32_t pid, int64_t value);
void kr_statsd_count(struct kr_statsd *s, uint32_t id, const char *name,
		     size_t len, uint32_t pid, uint64_t add);
/* The reader consumed @read records and was told of @lost lost. */
void kr_statsd_reader(struct kr_statsd *s, uint64_t read, uint64_t lost);

/* Send everything aggregated, then reset. Returns the datagrams not sent. */
uint64_t kr_statsd_emit(struct kr_statsd *s);

/* @src as a StatsD-safe name into @dst (room for @cap); its length. */
size_t kr_statsd_name(char *dst, size_t cap, const char *src, size_t len);

#endif /* KR_STATSD_H */
