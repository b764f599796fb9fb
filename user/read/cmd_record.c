// SPDX-License-Identifier: GPL-2.0
/*
 * ktracer record: set the kernel sources and the pid filter up, run a
 * command (or attach to processes, or take the whole system), read the
 * buffers as `ktracer read` does until the command exits, -d ends or
 * SIGINT/SIGTERM, and put back every setting it changed.
 *
 * One recording at a time, as one reader at a time (kr_reader_open()).
 *
 * What is put back, and where it is read before: the mode, the buffer
 * size and "enabled" from the state page (mmap offset 0); the sources
 * from KTRACER_IOC_KEVENTS with flags 0; the pid filter from debugfs
 * "kevents", the only place it can be read (without it the filter is
 * left empty afterwards, and the recorder says so).
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reader.h"

#define KR_REC		"ktracer record"
#define KR_EXIT_CANNOT	126	/* the command cannot be executed */
#define KR_EXIT_NOTFOUND 127	/* the command is not there */

static const struct {
	const char *name;
	uint32_t bit;
} kr_srcs[] = {
	{ "sched", KTRACER_SRC_SCHED }, { "task", KTRACER_SRC_TASK },
	{ "irq", KTRACER_SRC_IRQ }, { "softirq", KTRACER_SRC_SOFTIRQ },
	{ "syscall", KTRACER_SRC_SYSCALL }, { "block", KTRACER_SRC_BLOCK },
	{ "all", KTRACER_SRC_ALL },
};

struct kr_rec {
	struct kr_reader *rd;
	/* as found */
	uint32_t mode, enabled, sources;
	uint64_t size;
	int32_t pids[KTRACER_PIDS_MAX];
	unsigned int npids;
	bool pids_known;
	/* what was changed */
	bool config, kevents, enable;
	/* the command */
	pid_t child;
	int pidfd, go, execfail;
	int status;		/* its wait status, once reaped */
	bool reaped;
	bool finished;		/* the trace is ended */
};

void kr_record_usage(FILE *f)
{
	fputs(
"Usage: ktracer record [OPTION]... [--] [CMD [ARG]...]\n"
"Record CMD (and every process it starts), the processes -p names, or the\n"
"whole system, into a Chrome trace (JSON, for ui.perfetto.dev) and/or StatsD\n"
"metrics: sets the kernel sources and the pid filter up, records until CMD\n"
"exits, --duration ends or SIGINT/SIGTERM, then puts every setting back.\n"
"\n"
"  -e LIST                     kernel sources, a comma list of sched, task,\n"
"                              syscall, irq, softirq, block, all (default\n"
"                              sched,task, and syscall with CMD or -p)\n"
"  -p, --pid PID[,PID...]      record these running processes\n"
"  -o, --output FILE           the Chrome trace (default trace.json; '-':\n"
"                              stdout)\n"
"      --statsd HOST:PORT      send StatsD metrics over UDP to HOST:PORT\n"
"      --statsd-interval SECS  seconds between StatsD sends (default 10)\n"
"      --prefix PREFIX         metric name prefix (default \"ktracer.\")\n"
"      --tags                  add DogStatsD tags host:H,pid:P to the metrics\n"
"  -m, --mode MODE             discard or overwrite, while recording\n"
"  -b, --buffer-size SIZE      bytes per CPU while recording, a power of two,\n"
"                              with K or M (8K to 64M)\n"
"  -d, --duration SECS         stop after SECS seconds (CMD gets SIGTERM)\n"
"  -q, --quiet                 no status line, no summary on stderr\n"
"      --device PATH           the device (default " KTRACER_DEVICE ")\n"
"      --events PATH           debugfs event names, for a module older than\n"
"                              ABI 2.3 (default /sys/kernel/debug/ktracer/events)\n"
"  -h, --help                  show this help and exit\n"
"  -V, --version               show the version and exit\n"
"\n"
"CMD is stopped before exec until the filter and sources are set, so none\n"
"of its records are missed. Recording needs root or CAP_PERFMON; one\n"
"recording runs at a time (a lock on the device). The buffers are emptied\n"
"when recording starts.\n"
"\n"
"Exit status: CMD's (128+N if a signal N killed it), or 0 without CMD;\n"
"1 error; 2 usage error; 126 CMD cannot be executed; 127 CMD not found.\n",
	      f);
}

/* ---- the command line --------------------------------------------------- */

static int kr_parse_sources(struct kr_opts *o, const char *arg)
{
	const char *s = arg, *end;
	size_t i, n;

	o->rec.sources = 0;
	do {
		end = strchr(s, ',');
		n = end ? (size_t)(end - s) : strlen(s);
		for (i = 0; i < sizeof(kr_srcs) / sizeof(kr_srcs[0]); i++)
			if (strlen(kr_srcs[i].name) == n &&
			    !memcmp(kr_srcs[i].name, s, n))
				break;
		if (i == sizeof(kr_srcs) / sizeof(kr_srcs[0]))
			return kr_usage_error(o, "-e '%.*s': not a source (sched, task, syscall, irq, softirq, block, all)",
					      (int)n, s);
		o->rec.sources |= kr_srcs[i].bit;
		s = end + 1;
	} while (end);
	o->rec.sources_given = true;
	return 0;
}

static int kr_parse_pids(struct kr_opts *o, const char *arg)
{
	const char *s = arg;
	char *end;
	long v;

	do {
		errno = 0;
		v = strtol(s, &end, 10);
		if (errno || end == s || v <= 0 || v > INT32_MAX ||
		    (*end && *end != ','))
			return kr_usage_error(o, "--pid '%s': want PID[,PID...], each above 0",
					      arg);
		if (o->rec.npids == KTRACER_PIDS_MAX)
			return kr_usage_error(o, "--pid: at most %d processes",
					      KTRACER_PIDS_MAX);
		o->rec.pids[o->rec.npids++] = (int32_t)v;
		s = end + 1;
	} while (*end);
	return 0;
}

static int kr_parse_size(struct kr_opts *o, const char *arg)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (*end == 'K' || *end == 'k')
		v <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		v <<= 20, end++;
	if (errno || end == arg || *end || v < KTRACER_BUFFER_MIN ||
	    v > KTRACER_BUFFER_MAX || (v & (v - 1)))
		return kr_usage_error(o, "--buffer-size '%s': want a power of two from 8K to 64M",
				      arg);
	o->rec.buffer_size = v;
	return 0;
}

int kr_record_opt(struct kr_opts *o, int c, const char *arg)
{
	switch (c) {
	case 'e':
		return kr_parse_sources(o, arg) ? -1 : 0;
	case 'p':
		return kr_parse_pids(o, arg) ? -1 : 0;
	case 'm':
		if (!strcmp(arg, "discard"))
			o->rec.mode = KTRACER_MODE_DISCARD;
		else if (!strcmp(arg, "overwrite"))
			o->rec.mode = KTRACER_MODE_OVERWRITE;
		else
			return kr_usage_error(o, "--mode '%s': want discard or overwrite",
					      arg) ? -1 : 0;
		return 0;
	default:
		return kr_parse_size(o, arg) ? -1 : 0;
	}
}

int kr_record_check(struct kr_opts *o, int argc, char **cmd)
{
	bool filter = argc > 0 || o->rec.npids;

	if (argc > 0 && o->rec.npids)
		return kr_usage_error(o, "--pid and a command: give one or the other");
	if (argc > 0)
		o->rec.cmd = cmd;
	if (!o->rec.sources_given)
		o->rec.sources = KTRACER_SRC_SCHED | KTRACER_SRC_TASK |
				 (filter ? KTRACER_SRC_SYSCALL : 0);
	if ((o->rec.sources & KTRACER_SRC_SYSCALL) && !filter)
		return kr_usage_error(o, "-e syscall needs processes to record: a command or --pid");
	if (!o->output)
		o->output = "trace.json";
	return -1;
}

/* ---- the settings, as found and put back ------------------------------------ */

__attribute__((format(printf, 2, 3)))
static int kr_fail(struct kr_rec *r, const char *fmt, ...)
{
	va_list ap;

	(void)r;
	fputs(KR_REC ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

static const char *kr_perm_hint(int err)
{
	return err == EPERM || err == EACCES ?
	       ": recording needs root or CAP_PERFMON" : "";
}

static int kr_kevents(struct kr_rec *r, uint32_t flags, uint32_t sources,
		      const int32_t *pids, unsigned int npids,
		      struct ktracer_kevents *out)
{
	struct ktracer_kevents k = {
		.size = sizeof(k), .flags = flags, .sources = sources,
		.pids = (uintptr_t)pids, .npids = npids,
	};

	if (!(flags & KTRACER_KEVENTS_SOURCES))
		k.sources = 0;
	if (!(flags & KTRACER_KEVENTS_PIDS))
		k.pids = 0, k.npids = 0;
	if (ioctl(r->rd->dev.fd, KTRACER_IOC_KEVENTS, &k))
		return errno;
	if (out)
		*out = k;
	return 0;
}

/* The pid filter, from debugfs "kevents" next to the events file. */
static void kr_read_filter(struct kr_rec *r)
{
	char path[4096], *text, *p, *end;
	const char *ev = r->rd->o.events, *slash = strrchr(ev, '/');
	size_t len;
	long v;

	snprintf(path, sizeof(path), "%.*skevents",
		 slash ? (int)(slash - ev + 1) : 0, ev);
	text = kr_read_file(path, 1 << 16, &len);
	if (!text)
		return;
	p = strstr(text, "\npids");
	if (!strncmp(text, "pids", 4))
		p = text - 1;
	if (p) {
		p += 5;
		r->pids_known = true;
		while (*p == ' ') {
			v = strtol(p + 1, &end, 10);
			if (end == p + 1)
				break;	/* "all" */
			if (v > 0 && r->npids < KTRACER_PIDS_MAX)
				r->pids[r->npids++] = (int32_t)v;
			p = end;
		}
	}
	free(text);
}

static int kr_save(struct kr_rec *r)
{
	const struct ktracer_state *st = r->rd->dev.state;
	const struct kr_record_opts *ro = &r->rd->o.rec;
	struct ktracer_kevents k;
	uint32_t missing;
	size_t i;
	int err;

	err = kr_kevents(r, 0, 0, NULL, 0, &k);
	if (err)
		return kr_fail(r, "%s: KTRACER_IOC_KEVENTS: %s%s",
			       r->rd->o.device, strerror(err),
			       kr_perm_hint(err));
	missing = ro->sources & ~k.available;
	for (i = 0; missing && i < sizeof(kr_srcs) / sizeof(kr_srcs[0]); i++)
		if (missing & kr_srcs[i].bit)
			return kr_fail(r, "source '%s' is not available on this kernel",
				       kr_srcs[i].name);
	r->sources = k.sources;
	r->mode = st->mode;
	r->size = st->data_size;
	r->enabled = st->enabled;
	kr_read_filter(r);
	if (!r->pids_known && !r->rd->o.quiet)
		fprintf(stderr, KR_REC ": note: the pid filter cannot be read (debugfs kevents): it is left empty afterwards\n");
	return 0;
}

static int kr_enable(struct kr_rec *r, uint32_t on)
{
	struct ktracer_enable e = { .size = sizeof(e), .enable = on };

	return ioctl(r->rd->dev.fd, KTRACER_IOC_ENABLE, &e) ? errno : 0;
}

static int kr_config(struct kr_rec *r, uint32_t mode, uint64_t size)
{
	struct ktracer_config c = {
		.size = sizeof(c),
		.flags = (mode ? KTRACER_CONFIG_MODE : 0) |
			 (size ? KTRACER_CONFIG_BUFFER_SIZE : 0),
		.mode = mode, .buffer_size = size,
	};

	return ioctl(r->rd->dev.fd, KTRACER_IOC_CONFIG, &c) ? errno : 0;
}

/* The mode and size asked for, and empty buffers: before mapping them. */
static int kr_prepare(struct kr_rec *r)
{
	const struct kr_record_opts *ro = &r->rd->o.rec;
	struct ktracer_reset z = { .size = sizeof(z) };
	uint64_t size = ro->buffer_size != r->size ? ro->buffer_size : 0;
	uint32_t mode = ro->mode != r->mode ? ro->mode : 0;
	int err;

	if (mode || size) {
		err = kr_config(r, mode, size);
		if (err)
			return kr_fail(r, "KTRACER_IOC_CONFIG: %s%s",
				       strerror(err), err == EBUSY ?
				       ": another reader has the buffers mapped" :
				       kr_perm_hint(err));
		r->config = true;
	}
	if (ioctl(r->rd->dev.fd, KTRACER_IOC_RESET, &z))
		return kr_fail(r, "KTRACER_IOC_RESET: %s%s", strerror(errno),
			       errno == EBUSY ?
			       ": another reader has the buffers mapped" : "");
	return 0;
}

/* The sources on, the filter set (following CMD's children), recording. */
static int kr_start(struct kr_rec *r)
{
	const struct kr_record_opts *ro = &r->rd->o.rec;
	uint32_t flags = KTRACER_KEVENTS_SOURCES | KTRACER_KEVENTS_PIDS;
	const int32_t *pids = ro->pids;
	unsigned int npids = ro->npids;
	int32_t child = r->child;
	int err;

	if (r->child > 0) {
		pids = &child;
		npids = 1;
		flags |= KTRACER_KEVENTS_FOLLOW;
	}
	r->kevents = true;
	err = kr_kevents(r, flags, ro->sources, pids, npids, NULL);
	if (err == EINVAL && (flags & KTRACER_KEVENTS_FOLLOW)) {
		if (!r->rd->o.quiet)
			fprintf(stderr, KR_REC ": note: module ABI %u.%u cannot follow the processes a command starts: only the command's own process is recorded\n",
				r->rd->dev.abi_major, r->rd->dev.abi_minor);
		flags &= ~KTRACER_KEVENTS_FOLLOW;
		err = kr_kevents(r, flags, ro->sources, pids, npids, NULL);
	}
	if (err == ESRCH)
		return kr_fail(r, "--pid: a process is not there (%s)",
			       strerror(err));
	if (err)
		return kr_fail(r, "KTRACER_IOC_KEVENTS: %s", strerror(err));
	err = kr_enable(r, 1);
	r->enable = true;
	if (err)
		return kr_fail(r, "KTRACER_IOC_ENABLE: %s", strerror(err));
	return 0;
}

/* Sources, filter and enable as found; before the last drain. */
static void kr_restore_kevents(struct kr_reader *rd)
{
	struct kr_rec *r = rd->ctx;
	int err;

	if (r->enable && (err = kr_enable(r, r->enabled)))
		kr_fail(r, "putting enable back: %s", strerror(err));
	r->enable = false;
	if (!r->kevents)
		return;
	r->kevents = false;
	err = kr_kevents(r, KTRACER_KEVENTS_SOURCES | KTRACER_KEVENTS_PIDS,
			 r->sources, r->pids, r->npids, NULL);
	if (err == EINVAL || err == ESRCH) {
		/* the filter's processes are gone: no filter, no syscall */
		kr_fail(r, "the pid filter's processes have exited: it is left empty, syscall off");
		err = kr_kevents(r, KTRACER_KEVENTS_SOURCES |
				 KTRACER_KEVENTS_PIDS,
				 r->sources & ~(uint32_t)KTRACER_SRC_SYSCALL,
				 NULL, 0, NULL);
	}
	if (err)
		kr_fail(r, "putting the sources back: %s", strerror(err));
}

/* Mode and buffer size as found, once the buffers are unmapped. */
static int kr_restore_config(struct kr_rec *r)
{
	int err;

	if (!r->config)
		return 0;
	err = kr_config(r, r->mode, r->size);
	if (err)
		return kr_fail(r, "putting mode and buffer size back: %s%s",
			       strerror(err), err == EBUSY ?
			       ": another reader has the buffers mapped" : "");
	return 0;
}

/* ---- the command ------------------------------------------------------------ */

/*
 * Fork CMD, stopped before exec: it reads @go until the recording is set
 * up (a byte) or abandoned (EOF), and reports a failed exec's errno
 * through a close-on-exec pipe, whose EOF says the exec succeeded.
 */
static int kr_fork(struct kr_rec *r)
{
	char **cmd = r->rd->o.rec.cmd;
	int go[2], fail[2], err;
	char c;

	if (pipe2(go, O_CLOEXEC) || pipe2(fail, O_CLOEXEC))
		return kr_fail(r, "pipe: %s", strerror(errno));
	r->child = fork();
	if (r->child < 0)
		return kr_fail(r, "fork: %s", strerror(errno));
	if (r->child == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		close(go[1]);
		close(fail[0]);
		if (read(go[0], &c, 1) != 1)
			_exit(KR_EXIT_ERROR);
		execvp(cmd[0], cmd);
		err = errno;
		if (write(fail[1], &err, sizeof(err)) < 0)
			err = errno;
		_exit(err == ENOENT ? KR_EXIT_NOTFOUND : KR_EXIT_CANNOT);
	}
	close(go[0]);
	close(fail[1]);
	r->go = go[1];
	r->execfail = fail[0];
	r->pidfd = (int)syscall(SYS_pidfd_open, r->child, 0);
	if (r->pidfd < 0)
		return kr_fail(r, "pidfd_open: %s", strerror(errno));
	return 0;
}

/* Let CMD exec: 0 if it did, else its exit status (126, 127) said. */
static int kr_release(struct kr_rec *r)
{
	ssize_t n;
	int err = 0;

	n = write(r->go, "g", 1);
	close(r->go);
	r->go = -1;
	if (n != 1) {
		kr_fail(r, "starting %s: %s", r->rd->o.rec.cmd[0],
			strerror(errno));
		return KR_EXIT_ERROR;
	}
	do
		n = read(r->execfail, &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(r->execfail);
	r->execfail = -1;
	if (n <= 0)
		return 0;
	kr_fail(r, "cannot run '%s': %s", r->rd->o.rec.cmd[0], strerror(err));
	return err == ENOENT ? KR_EXIT_NOTFOUND : KR_EXIT_CANNOT;
}

static bool kr_reap(struct kr_reader *rd)
{
	struct kr_rec *r = rd->ctx;
	pid_t p = waitpid(r->child, &r->status, WNOHANG);

	if (p == r->child)
		r->reaped = true;
	return r->reaped;
}

/* CMD still running when recording stops: SIGTERM, and its status. */
static void kr_end_child(struct kr_rec *r)
{
	if (r->child <= 0 || r->reaped)
		return;
	if (r->go >= 0) {
		close(r->go);	/* never started: it exits */
		r->go = -1;
	} else if (!kr_reap(r->rd)) {
		kill(r->child, SIGTERM);
	}
	while (!r->reaped && waitpid(r->child, &r->status, 0) < 0 &&
	       errno == EINTR)
		;
	r->reaped = true;
}

static int kr_child_status(const struct kr_rec *r)
{
	if (WIFSIGNALED(r->status))
		return 128 + WTERMSIG(r->status);
	return WEXITSTATUS(r->status);
}

/* ---- the command as a whole --------------------------------------------- */

static int kr_record(struct kr_rec *r)
{
	struct kr_reader *rd = r->rd;
	int ret, cmd_ret = KR_EXIT_OK;

	if (kr_reader_open(rd) || kr_save(r))
		return KR_EXIT_ERROR;
	if (rd->o.rec.cmd && kr_fork(r))
		return KR_EXIT_ERROR;
	if (kr_prepare(r) || kr_reader_setup(rd) || kr_start(r))
		return KR_EXIT_ERROR;
	if (rd->o.rec.cmd) {
		cmd_ret = kr_release(r);
		rd->wait_fd = r->pidfd;
		rd->on_wait = kr_reap;
	}
	rd->before_drain = kr_restore_kevents;
	rd->status = !rd->o.quiet && isatty(STDERR_FILENO);
	/* A command that could not exec exits at once, and ends it. */
	ret = kr_reader_run(rd);
	kr_end_child(r);
	ret = kr_reader_finish(rd, ret);
	r->finished = true;
	if (rd->o.rec.cmd && !cmd_ret) {
		cmd_ret = kr_child_status(r);
		if (!rd->o.quiet)
			fprintf(stderr, KR_REC ": %s %s %d\n", rd->o.rec.cmd[0],
				WIFSIGNALED(r->status) ? "killed by signal" :
				"exited with status",
				WIFSIGNALED(r->status) ? WTERMSIG(r->status) :
				WEXITSTATUS(r->status));
	}
	return ret ? ret : cmd_ret;
}

int kr_record_main(int argc, char **argv)
{
	struct kr_opts o = { .prog = KR_REC, .help_cmd = KR_REC " --help",
			     .record = true };
	struct kr_rec r = { .pidfd = -1, .go = -1, .execfail = -1 };
	int ret;

	ret = kr_parse(argc, argv, &o);
	if (ret >= 0)
		return ret;
	r.rd = kr_reader_new(&o);
	if (!r.rd)
		return KR_EXIT_ERROR;
	r.rd->ctx = &r;
	kr_signals();
	ret = kr_record(&r);
	kr_end_child(&r);
	kr_restore_kevents(r.rd);
	kr_device_unmap(&r.rd->dev);
	if (r.rd->dev.fd >= 0 && kr_restore_config(&r) && !ret)
		ret = KR_EXIT_ERROR;
	if (r.pidfd >= 0)
		close(r.pidfd);
	if (r.execfail >= 0)
		close(r.execfail);
	if (!r.finished)
		kr_reader_abort(r.rd);
	else
		kr_reader_free(r.rd);
	return ret;
}
