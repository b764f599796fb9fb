// SPDX-License-Identifier: GPL-2.0
/*
 * The reader of ktracer-read (`ktracer read`) and `ktracer record`: reads
 * ktracer's per-CPU buffers as they fill and streams them out as a Chrome
 * trace (JSON) and as StatsD metrics, until it is interrupted, its
 * --duration ends or its caller's event comes. `ktracer-read --help`
 * says how.
 *
 * The pipeline: each CPU's buffer is consumed into a FIFO (ring.c), the
 * FIFOs are merged in timestamp order (merge.c), records become trace
 * events and metrics (model.c), which the Chrome writer (json.c) and the
 * StatsD aggregator (statsd.c) format. This file is the command line
 * both commands share, the loop around poll(), and the wiring.
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "reader.h"
#include "sysfs.h"
#include "trace_file.h"

#define KR_DEFAULT_EVENTS	"/sys/kernel/debug/ktracer/events"
#define KR_POLL_MS		100		/* longest sleep between reads */
#define KR_WINDOW_NS		5000000ull	/* reorder window: 5 ms */
#define KR_FIFO_TOTAL		(8u << 20)	/* FIFO bytes, all CPUs */
#define KR_FIFO_MIN		(256u << 10)	/* ...but this at least each */
#define KR_OUT_BUF		(1u << 20)

volatile sig_atomic_t kr_stop_signal;

static void kr_on_signal(int sig)
{
	kr_stop_signal = sig;
}

static void kr_usage(FILE *f)
{
	fputs(
"Usage: ktracer-read [OPTION]...\n"
"Read ktracer's per-CPU buffers as they fill, and stream what they hold as a\n"
"Chrome trace (JSON, for ui.perfetto.dev or chrome://tracing) and/or as StatsD\n"
"metrics, until interrupted (Ctrl-C, SIGTERM) or --duration ends.\n"
"\n"
"  -o, --output FILE           write the Chrome trace to FILE ('-': stdout)\n"
"      --statsd HOST:PORT      send StatsD metrics over UDP to HOST:PORT\n"
"      --statsd-interval SECS  seconds between StatsD sends (default 10)\n"
"      --prefix PREFIX         metric name prefix (default \"ktracer.\")\n"
"      --tags                  add DogStatsD tags host:H,pid:P to the metrics\n"
"  -d, --duration SECS         stop after SECS seconds\n"
"  -q, --quiet                 no status line, no summary on stderr\n"
"      --device PATH           the device (default " KTRACER_DEVICE ")\n"
"      --events PATH           its event names (default\n"
"                              " KR_DEFAULT_EVENTS ")\n"
"  -h, --help                  show this help and exit\n"
"  -V, --version               show the version and exit\n"
"\n"
"At least one of --output and --statsd is needed. Reading the buffers needs\n"
"root or CAP_PERFMON.\n"
"\n"
"Environment: KTRACER_SYSFS, the sysfs root that block devices are named from\n"
"(default /sys).\n"
"\n"
"Exit status: 0 success, 1 runtime error (device, permissions, output),\n"
"2 usage error.\n", f);
}

int kr_usage_error(const struct kr_opts *o, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", o->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s'.\n", o->help_cmd);
	return KR_EXIT_USAGE;
}

static uint64_t kr_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * KR_NS + (uint64_t)ts.tv_nsec;
}

/* SECS, a positive decimal up to a year, as ns; 0 if it is not one. */
static uint64_t kr_seconds(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 366.0 * 86400)
		return 0;
	return (uint64_t)(v * 1e9) ? (uint64_t)(v * 1e9) : 1;
}

/* "HOST:PORT" or "[V6]:PORT". 0, or -1. */
static int kr_hostport(const char *arg, struct kr_opts *o)
{
	const char *colon, *host = arg;
	size_t hl;
	long port;
	char *end;

	if (*arg == '[') {
		colon = strchr(arg, ']');
		if (!colon || colon[1] != ':')
			return -1;
		host = arg + 1;
		hl = (size_t)(colon - host);
		colon++;
	} else {
		colon = strrchr(arg, ':');
		if (!colon || memchr(arg, ':', (size_t)(colon - arg)))
			return -1;
		hl = (size_t)(colon - arg);
	}
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (!hl || hl >= sizeof(o->statsd_host) || errno || end == colon + 1 ||
	    *end || port < 1 || port > 65535)
		return -1;
	memcpy(o->statsd_host, host, hl);
	o->statsd_host[hl] = '\0';
	snprintf(o->statsd_port, sizeof(o->statsd_port), "%ld", port);
	return 0;
}

int kr_parse(int argc, char **argv, struct kr_opts *o)
{
	enum { OPT_STATSD = 256, OPT_INTERVAL, OPT_PREFIX, OPT_TAGS,
	       OPT_DEVICE, OPT_EVENTS };
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "statsd", required_argument, NULL, OPT_STATSD },
		{ "statsd-interval", required_argument, NULL, OPT_INTERVAL },
		{ "prefix", required_argument, NULL, OPT_PREFIX },
		{ "tags", no_argument, NULL, OPT_TAGS },
		{ "duration", required_argument, NULL, 'd' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "device", required_argument, NULL, OPT_DEVICE },
		{ "events", required_argument, NULL, OPT_EVENTS },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		/* ktracer record's own */
		{ "pid", required_argument, NULL, 'p' },
		{ "mode", required_argument, NULL, 'm' },
		{ "buffer-size", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 }
	};
	const struct option *longopts = opts;
	struct option read_opts[sizeof(opts) / sizeof(opts[0])];
	const char *optstring = ":o:d:qhV";
	const char *metric_opt = NULL;
	int c;

	o->interval_ns = 10 * KR_NS;
	o->prefix = "ktracer.";
	o->device = KTRACER_DEVICE;
	o->events = KR_DEFAULT_EVENTS;
	if (o->record) {
		/* Options end at the command: "record -q ls -l". */
		optstring = "+:o:d:qhVe:p:m:b:";
	} else {
		/* the table ends, for ktracer-read, at record's own */
		memcpy(read_opts, opts, sizeof(opts));
		for (c = 0; strcmp(read_opts[c].name, "pid"); c++)
			;
		memset(&read_opts[c], 0, sizeof(read_opts[c]));
		longopts = read_opts;
	}
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		switch (c) {
		case 'e':
		case 'p':
		case 'm':
		case 'b':
			if (kr_record_opt(o, c, optarg))
				return KR_EXIT_USAGE;
			break;
		case 'o':
			if (!*optarg)
				return kr_usage_error(o, "--output: an empty file name");
			o->output = optarg;
			break;
		case OPT_STATSD:
			if (kr_hostport(optarg, o))
				return kr_usage_error(o, "--statsd '%s': want HOST:PORT (or [IPV6]:PORT), port 1-65535",
						      optarg);
			o->statsd = optarg;
			break;
		case OPT_INTERVAL:
			metric_opt = "--statsd-interval";
			o->interval_ns = kr_seconds(optarg);
			if (!o->interval_ns)
				return kr_usage_error(o, "--statsd-interval '%s': want a number of seconds above 0",
						      optarg);
			break;
		case OPT_PREFIX:
			if (strlen(optarg) > KR_STATSD_PREFIX_MAX)
				return kr_usage_error(o, "--prefix: at most %d bytes",
						      KR_STATSD_PREFIX_MAX);
			o->prefix = optarg;
			metric_opt = "--prefix";
			break;
		case OPT_TAGS:
			o->tags = true;
			break;
		case 'd':
			o->duration_ns = kr_seconds(optarg);
			if (!o->duration_ns)
				return kr_usage_error(o, "--duration '%s': want a number of seconds above 0",
						      optarg);
			break;
		case 'q':
			o->quiet = true;
			break;
		case OPT_DEVICE:
			o->device = optarg;
			break;
		case OPT_EVENTS:
			o->events = optarg;
			break;
		case 'h':
			if (o->record)
				kr_record_usage(stdout);
			else
				kr_usage(stdout);
			return KR_EXIT_OK;
		case 'V':
			if (o->record)
				kr_print_version(o->device);
			else
				printf("ktracer-read, for ktracer ABI %d.%d\n",
				       KTRACER_ABI_MAJOR, KTRACER_ABI_MINOR);
			return KR_EXIT_OK;
		case ':':
			return kr_usage_error(o, "option '%s' needs a value",
					      argv[optind - 1]);
		default:
			if (optopt)
				return kr_usage_error(o, "unknown option '-%c'", optopt);
			return kr_usage_error(o, "unknown option '%s'",
					      argv[optind - 1]);
		}
	}
	if (o->record) {
		c = kr_statsd_check(o, metric_opt);
		return c >= 0 ? c : kr_record_check(o, argc - optind,
						    argv + optind);
	}
	if (optind < argc)
		return kr_usage_error(o, "unexpected argument '%s'", argv[optind]);
	if (!o->output && !o->statsd)
		return kr_usage_error(o, "nothing to do: give --output FILE and/or --statsd HOST:PORT");
	return kr_statsd_check(o, metric_opt);
}

int kr_statsd_check(const struct kr_opts *o, const char *metric_opt)
{
	if (!o->statsd && (o->tags || metric_opt))
		return kr_usage_error(o, "%s needs --statsd",
				      o->tags ? "--tags" : metric_opt);
	return -1;
}

/* ---- what the model asks of the system -------------------------------------- */

static void kr_reload_names(void *ctx, struct kr_names *names)
{
	struct kr_reader *rd = ctx;
	char err[512];

	if (kr_device_names(&rd->dev, names, rd->o.events, err,
			    sizeof(err)) &&
	    !rd->names_warned && !rd->o.quiet) {
		rd->names_warned = true;
		fprintf(stderr, "%s: %s; events are named by id\n", rd->o.prog,
			err);
	}
}

static int kr_comm(void *ctx, uint32_t pid, uint32_t tid,
		   char buf[KTRACER_COMM_MAX])
{
	(void)ctx;
	return kr_proc_comm(pid, tid, buf);
}

static int kr_udp_send(void *ctx, const void *buf, size_t len)
{
	ssize_t n = send(*(const int *)ctx, buf, len,
			 MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0)
		return errno;
	return (size_t)n == len ? 0 : EMSGSIZE;
}

/* ---- setting up ----------------------------------------------------------- */

static int kr_statsd_open(struct kr_reader *rd)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM };
	struct addrinfo *res, *ai;
	struct kr_statsd_cfg cfg;
	char host[256] = "";
	int err;

	err = getaddrinfo(rd->o.statsd_host, rd->o.statsd_port, &hints, &res);
	if (err) {
		fprintf(stderr, "%s: --statsd %s: %s\n", rd->o.prog, rd->o.statsd,
			gai_strerror(err));
		return -1;
	}
	rd->sock = -1;
	for (ai = res; ai && rd->sock < 0; ai = ai->ai_next) {
		rd->sock = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
				  ai->ai_protocol);
		if (rd->sock >= 0 && connect(rd->sock, ai->ai_addr,
					     ai->ai_addrlen)) {
			err = errno;
			close(rd->sock);
			rd->sock = -1;
			errno = err;
		}
	}
	freeaddrinfo(res);
	if (rd->sock < 0) {
		fprintf(stderr, "%s: --statsd %s: %s\n", rd->o.prog, rd->o.statsd,
			strerror(errno));
		return -1;
	}
	gethostname(host, sizeof(host) - 1);
	cfg = (struct kr_statsd_cfg){
		.prefix = rd->o.prefix, .tags = rd->o.tags, .host = host,
		.send = kr_udp_send, .ctx = &rd->sock,
		.log = rd->o.quiet ? NULL : stderr, .dest = rd->o.statsd,
	};
	if (kr_statsd_init(&rd->statsd, &cfg)) {
		fprintf(stderr, "%s: %s\n", rd->o.prog, strerror(ENOMEM));
		return -1;
	}
	rd->metrics = true;
	return 0;
}

static int kr_output_open(struct kr_reader *rd)
{
	const char *path = rd->o.output;

	if (!strcmp(path, "-")) {
		rd->out_fd = STDOUT_FILENO;
	} else {
		rd->out_fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
				  0644);
		if (rd->out_fd < 0) {
			fprintf(stderr, "%s: cannot write %s: %s\n", rd->o.prog,
				path, strerror(errno));
			return -1;
		}
	}
	if (kr_out_init(&rd->out, KR_OUT_BUF, kr_write_fd, &rd->out_fd)) {
		fprintf(stderr, "%s: %s\n", rd->o.prog, strerror(ENOMEM));
		return -1;
	}
	rd->trace = true;
	kr_json_begin(&rd->json, &rd->out);
	return 0;
}

/*
 * Can the trace file be written? Asked before anything else, so that a
 * run that cannot write says so first, without opening (or truncating)
 * the file yet.
 */
static int kr_output_check(const struct kr_reader *rd, const char *path)
{
	char dir[4096], *slash;
	struct stat st;
	int ok;

	if (!strcmp(path, "-"))
		return 0;
	if (!stat(path, &st)) {
		if (S_ISDIR(st.st_mode)) {
			errno = EISDIR;
			ok = -1;
		} else {
			ok = access(path, W_OK);
		}
	} else if (errno != ENOENT) {
		ok = -1;
	} else {
		snprintf(dir, sizeof(dir), "%s", path);
		slash = strrchr(dir, '/');
		if (slash == dir)
			slash[1] = '\0';
		else if (slash)
			*slash = '\0';
		ok = access(slash ? dir : ".", W_OK | X_OK);
	}
	if (ok)
		fprintf(stderr, "%s: cannot write %s: %s\n", rd->o.prog, path,
			strerror(errno));
	return ok;
}

/*
 * One reader (`ktracer read` or `ktracer record`) at a time: two would
 * each consume a part of the records. A POSIX record lock on the device,
 * held on the descriptor we read through and dropped by the kernel
 * however we end; F_GETLK names the holder to the second, refused.
 */
static int kr_lock(struct kr_reader *rd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int err;

	if (!fcntl(rd->dev.fd, F_SETLK, &fl))
		return 0;
	err = errno;
	fl = (struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET };
	if (fcntl(rd->dev.fd, F_GETLK, &fl)) {
		/*
		 * A kernel without file locks (CONFIG_FILE_LOCKING=n)
		 * answers F_SETLK with EACCES and F_GETLK with EINVAL:
		 * there is no lock to take, and readers are not kept out.
		 */
		if (err == EACCES && errno == EINVAL)
			return 0;
	} else if ((err == EAGAIN || err == EACCES) && fl.l_type != F_UNLCK) {
		fprintf(stderr, "%s: another recording is running (pid %d)\n",
			rd->o.prog, (int)fl.l_pid);
		return -1;
	}
	fprintf(stderr, "%s: locking %s: %s\n", rd->o.prog, rd->o.device,
		strerror(err));
	return -1;
}

int kr_reader_open(struct kr_reader *rd)
{
	char err[512];

	if (rd->o.output && kr_output_check(rd, rd->o.output))
		return -1;
	if (kr_device_open(&rd->dev, rd->o.device, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", rd->o.prog, err);
		return -1;
	}
	return kr_lock(rd);
}

int kr_reader_setup(struct kr_reader *rd)
{
	struct kr_model_cfg mc;
	size_t fifo;
	char err[512];
	unsigned int cpu;

	rd->dev.data_size = rd->dev.state->data_size;	/* as configured now */
	rd->rings = calloc(rd->dev.ncpu, sizeof(*rd->rings));
	rd->ringp = calloc(rd->dev.ncpu, sizeof(*rd->ringp));
	fifo = KR_FIFO_TOTAL / rd->dev.ncpu;
	if (fifo < KR_FIFO_MIN)
		fifo = KR_FIFO_MIN;
	if (!rd->rings || !rd->ringp ||
	    kr_merge_init(&rd->merge, rd->dev.ncpu, fifo, KR_WINDOW_NS)) {
		fprintf(stderr, "%s: %s\n", rd->o.prog, strerror(ENOMEM));
		return -1;
	}
	if (kr_device_map(&rd->dev, rd->rings, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", rd->o.prog, err);
		return -1;
	}
	for (cpu = 0; cpu < rd->dev.ncpu; cpu++) {
		rd->ringp[cpu] = &rd->rings[cpu];
		rd->rings[cpu].log = stderr;
		/* Wake when a quarter is in: three quarters left to fill. */
		__atomic_store_n(&rd->rings[cpu].reader->watermark,
				 rd->dev.data_size / 4, __ATOMIC_RELAXED);
	}
	kr_names_init(&rd->names);
	kr_reload_names(rd, &rd->names);
	if (rd->o.statsd && kr_statsd_open(rd))
		return -1;
	/* The trace file last: a run that cannot start leaves none. */
	if (rd->o.output && kr_output_open(rd))
		return -1;

	rd->outs.json = rd->trace ? &rd->json : NULL;
	rd->outs.statsd = rd->metrics ? &rd->statsd : NULL;
	mc = (struct kr_model_cfg){
		.ncpu = rd->dev.ncpu, .names = &rd->names, .ctx = rd,
		.reload_names = kr_reload_names, .comm = kr_comm,
		.sysfs = kr_sysfs_root(),
		.sink = kr_outputs_sink(&rd->outs),
	};
	rd->model = kr_model_new(&mc);
	if (!rd->model) {
		fprintf(stderr, "%s: %s\n", rd->o.prog, strerror(ENOMEM));
		return -1;
	}
	if (!rd->o.quiet && !rd->o.record && !__atomic_load_n(&rd->dev.state->enabled,
					     __ATOMIC_RELAXED))
		fprintf(stderr, "%s: note: recording is off (echo 1 > /sys/kernel/debug/ktracer/enable)\n", rd->o.prog);
	return 0;
}

/* ---- the loop --------------------------------------------------------------- */

static void kr_cycle(struct kr_reader *rd, bool final)
{
	kr_read_cycle(rd->ringp, rd->dev.ncpu, &rd->merge, rd->model, kr_now(),
		      final);
}

static void kr_totals(const struct kr_reader *rd, uint64_t *read,
		      uint64_t *lost)
{
	kr_read_totals(rd->ringp, rd->dev.ncpu, read, lost);
}

static void kr_statsd_tell(struct kr_reader *rd)
{
	uint64_t read, lost;

	kr_totals(rd, &read, &lost);
	kr_statsd_reader(&rd->statsd, read - rd->read_told,
			 lost - rd->lost_told);
	rd->read_told = read;
	rd->lost_told = lost;
	kr_statsd_emit(&rd->statsd);
}

static void kr_status(struct kr_reader *rd, uint64_t now, bool last)
{
	uint64_t read, lost, bytes = rd->trace ? rd->out.bytes + rd->out.len : 0;
	double secs = (double)(now - rd->status_at) / 1e9;
	int n;

	if (!rd->status)
		return;
	if (last) {
		fprintf(stderr, "\r%*s\r", rd->status_len, "");
		return;
	}
	kr_totals(rd, &read, &lost);
	n = fprintf(stderr, "\r%s: %.0f events/s, %llu lost, %.1f MiB written ",
		    rd->o.prog, secs > 0 ? (double)(read - rd->status_records) / secs : 0.0,
		    (unsigned long long)lost, (double)bytes / (1 << 20));
	if (n < rd->status_len)
		fprintf(stderr, "%*s", rd->status_len - n, "");
	rd->status_len = n;
	rd->status_at = now;
	rd->status_records = read;
}

/* Read until a signal, the duration's end, the caller's event or an error. */
int kr_reader_run(struct kr_reader *rd)
{
	uint64_t start = kr_now(), now, next_emit = start + rd->o.interval_ns;
	uint64_t next_status = start + KR_NS, deadline;
	struct pollfd pfd[2] = {
		{ .fd = rd->dev.fd, .events = POLLIN },
		{ .fd = rd->wait_fd, .events = POLLIN },
	};
	int ret = KR_EXIT_OK, timeout;

	rd->status_at = start;
	while (!kr_stop_signal) {
		kr_cycle(rd, false);
		now = kr_now();
		if (rd->trace && rd->out.err)
			break;
		if (rd->metrics && now >= next_emit) {
			kr_statsd_tell(rd);
			next_emit = now + rd->o.interval_ns;
		}
		if (now >= next_status) {
			kr_status(rd, now, false);
			next_status = now + KR_NS;
		}
		if (rd->o.duration_ns && now - start >= rd->o.duration_ns)
			break;
		deadline = now + KR_POLL_MS * 1000000ull;
		if (rd->o.duration_ns && start + rd->o.duration_ns < deadline)
			deadline = start + rd->o.duration_ns;
		if (rd->metrics && next_emit < deadline)
			deadline = next_emit;
		timeout = (int)((deadline - now + 999999) / 1000000);
		if (poll(pfd, rd->on_wait ? 2 : 1, timeout) < 0 &&
		    errno != EINTR) {
			fprintf(stderr, "%s: poll on %s: %s\n", rd->o.prog,
				rd->o.device, strerror(errno));
			ret = KR_EXIT_ERROR;
			break;
		}
		if (rd->on_wait && (pfd[1].revents & POLLIN) &&
		    rd->on_wait(rd))
			break;
	}
	if (rd->before_drain)
		rd->before_drain(rd);
	kr_cycle(rd, true);
	kr_model_finish(rd->model);
	kr_status(rd, kr_now(), true);
	return ret;
}

/* ---- the end ---------------------------------------------------------------- */

static uint64_t kr_skipped(const struct kr_reader *rd, const char **why)
{
	const struct kr_model_stats *ms = kr_model_stats(rd->model);
	uint64_t n = 0, most = 0, k;
	unsigned int cpu, i;

	*why = NULL;
	for (i = 1; i < KR_BAD__NR; i++) {
		k = ms->skipped[i];
		for (cpu = 0; cpu < rd->dev.ncpu; cpu++)
			k += rd->rings[cpu].st.skipped[i];
		n += k;
		if (k > most) {
			most = k;
			*why = kr_why_str(i);
		}
	}
	return n;
}

int kr_reader_finish(struct kr_reader *rd, int ret)
{
	const struct kr_model_stats *ms = kr_model_stats(rd->model);
	uint64_t read, lost, skipped, resyncs = 0;
	const char *why;
	unsigned int cpu;
	uint64_t size;
	bool cut;
	int err;

	kr_totals(rd, &read, &lost);
	skipped = kr_skipped(rd, &why);
	for (cpu = 0; cpu < rd->dev.ncpu; cpu++)
		resyncs += rd->rings[cpu].st.resyncs;
	if (rd->trace) {
		char abi[24];
		struct kr_arg sum[] = {
			{ .key = "tool", .klen = 4, .type = KR_ARG_STR,
			  .len = (uint32_t)strlen(rd->o.prog),
			  .v.str = rd->o.prog },
			{ .key = "abi", .klen = 3, .type = KR_ARG_STR },
			{ .key = "cpus", .klen = 4, .v.u = rd->dev.ncpu },
			{ .key = "records", .klen = 7, .v.u = read },
			{ .key = "events", .klen = 6, .v.u = ms->events },
			{ .key = "lost", .klen = 4, .v.u = ms->lost },
			{ .key = "overwritten", .klen = 11, .v.u = ms->overwritten },
			{ .key = "late", .klen = 4, .v.u = rd->merge.late },
			{ .key = "skipped", .klen = 7, .v.u = skipped },
			{ .key = "unreadable_bytes", .klen = 16,
			  .v.u = ms->corrupt_bytes },
			{ .key = "open_at_end", .klen = 11, .v.u = ms->open_at_end },
		};

		sum[1].len = (uint32_t)snprintf(abi, sizeof(abi), "%u.%u",
						rd->dev.abi_major,
						rd->dev.abi_minor);
		sum[1].v.str = abi;
		err = kr_trace_end(&rd->json, rd->out_fd, sum,
				   sizeof(sum) / sizeof(sum[0]), &cut, &size);
		if (rd->out_fd != STDOUT_FILENO && close(rd->out_fd) && !err)
			err = errno;
		rd->out_fd = -1;
		if (err) {
			fprintf(stderr, "%s: writing %s: %s\n", rd->o.prog,
				strcmp(rd->o.output, "-") ? rd->o.output :
				"stdout", strerror(err));
			if (cut)
				fprintf(stderr, "%s: %s cut at its last whole event: %llu bytes of valid JSON\n", rd->o.prog,
					rd->o.output, (unsigned long long)size);
			ret = KR_EXIT_ERROR;
		}
	}
	if (rd->metrics)
		kr_statsd_tell(rd);
	if (rd->o.quiet)
		return ret;
	fprintf(stderr, "%s: %llu records, %llu events, %llu lost", rd->o.prog,
		(unsigned long long)read, (unsigned long long)ms->events,
		(unsigned long long)lost);
	if (rd->trace)
		fprintf(stderr, ", %llu bytes to %s",
			(unsigned long long)rd->out.bytes,
			strcmp(rd->o.output, "-") ? rd->o.output : "stdout");
	if (rd->metrics)
		fprintf(stderr, ", %llu datagrams to %s (%llu not sent)",
			(unsigned long long)rd->statsd.st.datagrams,
			rd->o.statsd,
			(unsigned long long)rd->statsd.st.send_errors);
	fputc('\n', stderr);
	if (skipped)
		fprintf(stderr, "%s: %llu records left out (mostly: %s)\n", rd->o.prog,
			(unsigned long long)skipped, why);
	if (resyncs)
		fprintf(stderr, "%s: %llu unreadable stretches skipped\n", rd->o.prog,
			(unsigned long long)resyncs);
	if (kr_stop_signal)
		fprintf(stderr, "%s: stopped by %s\n", rd->o.prog,
			strsignal(kr_stop_signal));
	return ret;
}

void kr_reader_free(struct kr_reader *rd)
{
	if (rd->out_fd >= 0 && rd->out_fd != STDOUT_FILENO)
		close(rd->out_fd);
	kr_out_free(&rd->out);
	if (rd->metrics)
		kr_statsd_free(&rd->statsd);
	if (rd->sock >= 0)
		close(rd->sock);
	kr_model_free(rd->model);
	kr_names_free(&rd->names);
	kr_merge_free(&rd->merge);
	free(rd->ringp);
	free(rd->rings);
	kr_device_close(&rd->dev);
	free(rd);
}

void kr_reader_abort(struct kr_reader *rd)
{
	if (rd->trace)
		kr_json_end(&rd->json, NULL, 0);
	kr_reader_free(rd);
}

struct kr_reader *kr_reader_new(const struct kr_opts *o)
{
	struct kr_reader *rd = calloc(1, sizeof(*rd));

	if (!rd) {
		fprintf(stderr, "%s: %s\n", o->prog, strerror(ENOMEM));
		return NULL;
	}
	rd->o = *o;
	rd->sock = -1;
	rd->out_fd = -1;
	rd->wait_fd = -1;
	rd->dev.fd = -1;
	return rd;
}

void kr_signals(void)
{
	struct sigaction sa = { .sa_handler = kr_on_signal };

	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void kr_print_version(const char *device)
{
	struct ktracer_version v = { .size = sizeof(v) };
	char mod[32] = "no module";
	int fd = open(device, O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && !ioctl(fd, KTRACER_IOC_VERSION, &v))
		snprintf(mod, sizeof(mod), "module %u.%u", v.major, v.minor);
	if (fd >= 0)
		close(fd);
	printf("ktracer %s (ABI %d.%d; %s)\n", KR_VERSION, KTRACER_ABI_MAJOR,
	       KTRACER_ABI_MINOR, mod);
}

int kr_read_main(int argc, char **argv, const char *prog,
		 const char *help_cmd)
{
	struct kr_opts o = { .prog = prog, .help_cmd = help_cmd };
	struct kr_reader *rd;
	int ret;

	ret = kr_parse(argc, argv, &o);
	if (ret >= 0)
		return ret;
	rd = kr_reader_new(&o);
	if (!rd)
		return KR_EXIT_ERROR;
	kr_signals();
	if (kr_reader_open(rd) || kr_reader_setup(rd)) {
		kr_reader_abort(rd);
		return KR_EXIT_ERROR;
	}
	rd->status = !rd->o.quiet && isatty(STDERR_FILENO);
	ret = kr_reader_run(rd);
	ret = kr_reader_finish(rd, ret);
	kr_reader_free(rd);
	return ret;
}
