/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktracer: the reader both commands run (`ktracer read`, alias
 * ktracer-read, and `ktracer record`): the command line they share, the
 * device mapped, the loop around poll() that reads the buffers until a
 * signal, the duration's end or the caller's own event, and the end: the
 * trace file closed, the last StatsD sent, the summary.
 */
#ifndef KR_READER_H
#define KR_READER_H

#include <signal.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>

#include "device.h"
#include "pipeline.h"

#define KR_EXIT_OK	0
#define KR_EXIT_ERROR	1
#define KR_EXIT_USAGE	2

#define KR_NS		1000000000ull
#define KR_VERSION	"2.4"

/* What `ktracer record` adds to the options. */
struct kr_record_opts {
	uint32_t sources;	/* KTRACER_SRC_*; 0: the default */
	bool sources_given;
	int32_t pids[KTRACER_PIDS_MAX];
	unsigned int npids;
	uint32_t mode;		/* 0: leave it */
	uint64_t buffer_size;	/* 0: leave it */
	char **cmd;		/* NULL: no command */
};

struct kr_opts {
	const char *prog;	/* message prefix: "ktracer-read" */
	const char *help_cmd;	/* "ktracer-read --help" */
	bool record;		/* ktracer record: its options too */
	const char *output;	/* NULL: no trace */
	const char *statsd;	/* NULL: no metrics */
	char statsd_host[256], statsd_port[8];
	uint64_t interval_ns;
	const char *prefix;
	bool tags, quiet;
	uint64_t duration_ns;	/* 0: until interrupted */
	const char *device, *events;
	struct kr_record_opts rec;
};

struct kr_reader {
	struct kr_opts o;
	struct kr_device dev;
	struct kr_ring *rings;
	struct kr_ring **ringp;		/* &rings[cpu], as kr_read_cycle takes them */
	struct kr_merge merge;
	struct kr_names names;
	struct kr_model *model;
	bool trace, metrics;
	int out_fd;
	struct kr_out out;
	struct kr_json json;
	int sock;
	struct kr_statsd statsd;
	struct kr_outputs outs;
	bool names_warned;
	uint64_t read_told, lost_told;	/* to StatsD so far */
	bool status;			/* a live status line on stderr */
	uint64_t status_at, status_records;
	int status_len;
	/* The caller's own event: poll @wait_fd too, call @on_wait when it
	 * is readable; it returns true to stop. */
	int wait_fd;
	bool (*on_wait)(struct kr_reader *rd);
	/* Called once reading stops, before the last drain. */
	void (*before_drain)(struct kr_reader *rd);
	void *ctx;
};

/* Set by SIGINT and SIGTERM: the one thing a signal handler touches. */
extern volatile sig_atomic_t kr_stop_signal;

/*
 * Parse @argv into @o (o->prog, help_cmd and record set by the caller):
 * -1 to go on, or the exit status (help, version, a usage error).
 */
int kr_parse(int argc, char **argv, struct kr_opts *o);
__attribute__((format(printf, 2, 3)))
int kr_usage_error(const struct kr_opts *o, const char *fmt, ...);
/* The StatsD options' check; as kr_parse. */
int kr_statsd_check(const struct kr_opts *o, const char *metric_opt);
/* ktracer record's options -e -p -m -b: 0, or -1 said (usage). */
int kr_record_opt(struct kr_opts *o, int c, const char *arg);
/* ktracer record's checks once parsed, @cmd its command: as kr_parse. */
int kr_record_check(struct kr_opts *o, int argc, char **cmd);
/* "ktracer 2.3 (ABI 2.3; module 2.2)" for @device. */
void kr_print_version(const char *device);

/* A new reader for @o's options (copied), or NULL. */
struct kr_reader *kr_reader_new(const struct kr_opts *o);
void kr_signals(void);
/* Open the device (state page only): 0, or -1 said on stderr. */
int kr_reader_open(struct kr_reader *rd);
/* Map the buffers, open the outputs: 0, or -1 said. */
int kr_reader_setup(struct kr_reader *rd);
/* Read until a signal, the duration, @on_wait; then drain. Exit status. */
int kr_reader_run(struct kr_reader *rd);
/* The trace's end, the last metrics, the summary. Exit status. */
int kr_reader_finish(struct kr_reader *rd, int ret);
/* After a failed open or setup: the trace file ended, all freed. */
void kr_reader_abort(struct kr_reader *rd);
void kr_reader_free(struct kr_reader *rd);

/* `ktracer read`, `ktracer-read`. */
int kr_read_main(int argc, char **argv, const char *prog,
		 const char *help_cmd);
/* `ktracer record`. */
int kr_record_main(int argc, char **argv);
void kr_record_usage(FILE *f);

#endif /* KR_READER_H */
