// SPDX-License-Identifier: GPL-2.0
/*
 * peers: ktracer next to its peers, ftrace, LTTng and perf, on the same
 * workloads in the same boot (make bench-peers, scripts/bench-peers.sh).
 *
 * Run as root in the VM that scripts/bench-peers.sh boots (one vCPU,
 * qemu -icount shift=0,sleep=off: one ns of CLOCK_MONOTONIC is one guest
 * instruction), with ktracer.ko loaded and lttng-sessiond running; perf,
 * lttng and babeltrace2 in PATH. Pinned to CPU 0.
 *
 * Kernel events: a workload runs N iterations with one tracer on:
 *
 *	sched	the pipe ping-pong of bench.h (sched_bench's): per round
 *		trip two sched_switch and one or two sched_waking
 *	syscall	getppid() in a loop: per call a system call's entry and exit
 *	irq	a 16-byte line written to ttyS2 (scripts/vm/run.sh's third
 *		port, alone on IRQ 5) and tcdrain()ed: qemu's 8250 sends
 *		it at once, in the one interrupt that starts it (an
 *		irq_handler_entry and _exit of serial8250_interrupt), and
 *		nothing waits, so the CPU never idles (which would move
 *		the -icount clock)
 *
 *	none	nothing traced (the baseline)
 *	ktracer	ktracer's SCHED source (every process), its SYSCALL source
 *		(a pid filter of this process, as the source needs one), or
 *		its IRQ source (a START and a STOP per handler)
 *	ftrace	sched:sched_switch and sched:sched_waking,
 *		raw_syscalls:sys_enter and sys_exit, or
 *		irq:irq_handler_entry and irq_handler_exit
 *	lttng	a kernel session in snapshot mode, its channel in overwrite
 *		mode, 1 MiB per CPU (4 sub-buffers of 256 KiB): events
 *		sched_switch and sched_waking, the getppid system call
 *		(--syscall getppid: its entry and exit), or
 *		irq_handler_entry and irq_handler_exit; created for the
 *		run, destroyed after it
 *	perf	perf record -a of sched:sched_switch,sched:sched_waking,
 *		raw_syscalls:sys_enter,raw_syscalls:sys_exit, or
 *		irq:irq_handler_entry,irq:irq_handler_exit, into a file
 *		in /tmp (tmpfs), 1 MiB of mmap buffer per CPU; its
 *		workload is "peers --hold" (this program), which tells this
 *		process once perf records and exits when told to, so that
 *		perf's start and end are outside the timed window
 *
 * Every tracer has 1 MiB per CPU and overwrites when full (ftrace's
 * buffer_size_kb is set to 1024, ktracer's buffers to 1 MiB in OVERWRITE
 * mode) but perf, whose reader consumes as it goes: perf record runs on
 * the same CPU, and what it costs to keep up is perf's cost.
 *
 * Program events: an op N times (8192, or a multiple of it for the short
 * ops, so that every run lasts 7 ms or more: see ops[]), per op:
 *
 *	getppid		the reference: a system call that does nothing
 *	kt_region	libktracer's ktracer_region_begin() and _end(), per
 *			op (half a pair), end to end: the call, the clock
 *			read, the queue entry and the kernel's drain into
 *			the buffer (a ktracer_flush() closes the window)
 *	kt_batch	KTRACER_IOC_BATCH of 64 span STARTs and STOPs, per op
 *	ust		tracepoint(peers, op, event, slot, arg): LTTng-UST,
 *			into a started session (snapshot, overwrite, 1 MiB
 *			per CPU, per-UID buffers)
 *	ust_off		the same with no session: the tracepoint's check
 *	trace_marker	a 40-byte write() to ftrace's trace_marker
 *	lttng_logger	a 40-byte write() to /proc/lttng-logger, recorded by
 *			a kernel session with the lttng_logger event
 *
 * Rounds: each round runs every configuration once, in turn (none,
 * ktracer, ftrace, lttng, perf for each workload, then each op), so that
 * whatever drifts hits them alike; ust_off is measured first, before any
 * UST session exists. Each run enables its tracer, makes SETTLE untimed
 * iterations (switching a tracepoint on patches the kernel's text, which
 * qemu translates again), times N, and disables it. A checked round that
 * does not count comes first (it fills ktracer's and ftrace's buffers,
 * which overwrite in every counted round). A kernel workload's cost per
 * event is, per round, its time minus the baseline's of the same round,
 * over the events the tracer recorded of a round trip (sched: the
 * ping-pong's switches and wake-ups vary a little with each tracer's
 * cost), over the 2 of a system call (syscall: perf records more, its
 * own system calls) or over the events recorded of a line (irq: 2 an
 * interrupt, one interrupt a line); the median over the rounds is reported with the
 * fastest and slowest round, and every round's figure on a KT-PEER-R
 * line.
 *
 * Nothing counts before its recording has been read back: after every
 * run the tracer that was on must have recorded at least the events its
 * iterations make, and ktracer and ftrace, when off, nothing.
 *	ktracer	its meta page's count of records written on CPU 0, none
 *		lost (3 records a round trip at least, as ftrace: a switch
 *		between two recorded tasks is one SWITCH record, a wake-up
 *		one LOG; 2 per system call; 2 per interrupt)
 *	ftrace	entries + overrun of per_cpu/cpu0/stats (3 events a round
 *		trip, see bench.h's ping-pong; 2 per system call; 1 per
 *		trace_marker write)
 *	lttng	`lttng stop`, `lttng snapshot record`, babeltrace2's
 *		sink.utils.counter over the snapshot, `lttng destroy`
 *		(a kernel session exists only for its run) or `lttng
 *		clear` (the UST session)
 *		(N is chosen so that a run fits in the 1 MiB ring)
 *	perf	`perf script | wc -l` over the run's perf.data
 *	libktracer's stats: every op applied, none dropped or refused
 * and for irq, /proc/interrupts from before the tracer is on to after it
 * is off: ttyS2's IRQ served at least one interrupt a line, and the
 * tracer recorded 2 events for each of them, and no more than 2 for
 * each interrupt of every line in that window (the results' port, IRQ
 * 3, interrupts when a line of progress goes out meanwhile).
 *
 * Output: "KT-PEER-R <workload> <tracer> <per event, each round>",
 * "KT-PEER-K <workload> <tracer> <per event> <min> <max> <recorded per
 * iteration>" (and "KT-PEER-K <workload> none 0 0 0 0 <per iteration>")
 * and "KT-PEER-P <op> <per op> <min> <max> <recorded per op>" lines, then
 * the tables for people. Exits 0 if
 * everything was measured and verified, 1 otherwise.
 *
 * Progress goes to stdout as "# ..." lines, one per run with the guest's
 * clock. Every step runs under an alarm (STEP_S seconds of the guest's
 * clock, which under -icount counts instructions when busy and jumps
 * ahead when the guest idles, so a blocked step ends quickly): when it
 * rings, "KT-PEERS-FAIL timeout: <step>" and exit 1.
 *
 * "peers ROUNDS" runs that many rounds (default 7).
 */
#define TRACEPOINT_DEFINE
#define TRACEPOINT_CREATE_PROBES
#include "peers_tp.h"

#include <sys/syscall.h>
#include <termios.h>

#include <libktracer.h>

#include "../bench.h"

#define ROUNDS_MAX	15
#define SETTLE		64	/* untimed iterations after a tracer is on */
#define SCHED_N		2000	/* round trips of a run: ~0.5 MB of LTTng */
#define SYSCALL_N	4000	/* getppid() calls of a run: fits LTTng's ring */
#define IRQ_N		4000	/* serial lines of a run: ~0.2 MB of LTTng */
#define OPS_N		8192	/* ops of a run (a multiple of BATCH_OPS) */
#define BATCH_OPS	64
#define BUF_BYTES	(1u << 20)	/* every tracer's buffer per CPU */
#define CMD_LOG		"/tmp/peers-cmd.log"
#define PERF_DATA	"/tmp/peers-perf.data"
#define STEP_S		60	/* the alarm of a step, guest seconds */
#define SNAPSHOTS	"/tmp/peers-snapshots"
#define IRQ_TTY		"ttyS2"	/* scripts/vm/run.sh's third port, IRQ 5 */

/*
 * A line to IRQ_TTY: 16 bytes, the 16550A's FIFO, so that the interrupt
 * that starts it sends it whole (qemu's 8250 sends every byte at once).
 */
static const char irq_line[] = "peers: irq load\n";
_Static_assert(sizeof(irq_line) - 1 == 16, "16 bytes");

/* 40 bytes, like ops_bench's trace_marker payload. */
static const char line40[] = "ktracer peers: a 40-byte trace line ...\n";
_Static_assert(sizeof(line40) - 1 == 40, "40 bytes");

enum tracer { NONE, KTRACER, FTRACE, LTTNG, PERF, NTRACERS };
enum workload { SCHED, SYSCALL, IRQ, NWORKLOADS };

static const char *const tracer_name[NTRACERS] = {
	"none", "ktracer", "ftrace", "lttng", "perf"
};

/* What each tracer records of a workload. */
static const struct {
	const char *name;
	unsigned long n;
	const char *ftrace[2];		/* events/.../enable */
	uint32_t kt_source;
	const char *lttng_session, *lttng_events;
	const char *perf_events;
	double min[NTRACERS];		/* recorded per iteration, at least */
	double events;			/* per iteration; 0: as recorded */
} work[NWORKLOADS] = {
	[SCHED] = {
		.name = "sched", .n = SCHED_N,
		.ftrace = { "events/sched/sched_switch/enable",
			    "events/sched/sched_waking/enable" },
		.kt_source = KTRACER_SRC_SCHED,
		.lttng_session = "ksched",
		.lttng_events = "sched_switch,sched_waking",
		.perf_events = "sched:sched_switch,sched:sched_waking",
		.min = { 0, 3, 3, 3, 3 },
	},
	[SYSCALL] = {
		.name = "syscall", .n = SYSCALL_N,
		.ftrace = { "events/raw_syscalls/sys_enter/enable",
			    "events/raw_syscalls/sys_exit/enable" },
		.kt_source = KTRACER_SRC_SYSCALL,
		.lttng_session = "ksys",
		.lttng_events = "--syscall getppid",
		.perf_events = "raw_syscalls:sys_enter,raw_syscalls:sys_exit",
		.min = { 0, 2, 2, 2, 2 },
		.events = 2,
	},
	[IRQ] = {
		.name = "irq", .n = IRQ_N,
		.ftrace = { "events/irq/irq_handler_entry/enable",
			    "events/irq/irq_handler_exit/enable" },
		.kt_source = KTRACER_SRC_IRQ,
		.lttng_session = "kirq",
		.lttng_events = "irq_handler_entry,irq_handler_exit",
		.perf_events = "irq:irq_handler_entry,irq:irq_handler_exit",
		.min = { 0, 2, 2, 2, 2 },
	},
};

static int kt_fd = -1, marker_fd = -1, logger_fd = -1, irq_fd = -1;
static unsigned int irq_no;	/* IRQ_TTY's interrupt */
static const struct ktracer_state *state;
static const volatile struct ktracer_meta *meta;	/* CPU 0's */
static struct ktracer *lib;
static uint32_t region_id, span_id;
static struct ktracer_op batch_ops[BATCH_OPS];
static struct ktracer_batch batch;
static struct pingpong pp = PINGPONG_INIT;
static pid_t self, parent, perf_pid;
static int rounds = 7;
static char exe[256];		/* this program, for perf's child */

/* ------------------------------------------------------------------ */
/* Steps                                                               */

static char step_msg[256];
static size_t step_len;

static void on_alarm(int sig)
{
	ssize_t ignored;

	(void)sig;
	ignored = write(STDOUT_FILENO, step_msg, step_len);
	(void)ignored;
	if (perf_pid > 0)
		kill(perf_pid, SIGKILL);
	if (pp.child > 0)
		kill(pp.child, SIGKILL);
	_exit(1);
}

/* What the alarm says: the step's name, and the command it runs if any. */
static void step_say(const char *name, const char *cmd)
{
	snprintf(step_msg, sizeof(step_msg), "\nKT-PEERS-FAIL timeout: %s%s%s (%d s)\n",
		 name, cmd ? ": " : "", cmd ? cmd : "", STEP_S);
	step_len = strlen(step_msg);
}

static char step_name[192];

/* A new step: named on stdout, with the guest's clock, under an alarm. */
static void __attribute__((format(printf, 1, 2))) step(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(step_name, sizeof(step_name), fmt, ap);
	va_end(ap);
	step_say(step_name, NULL);
	printf("# %.2f s %s\n", now_ns() / 1e9, step_name);
	alarm(STEP_S);
}

/* A command of the step, on stdout too: the alarm names it. */
static void step_cmd(const char *cmd)
{
	step_say(step_name, cmd);
	printf("# %.2f s   $ %s\n", now_ns() / 1e9, cmd);
}

/* ------------------------------------------------------------------ */
/* Commands                                                            */

/* Run "sh -c CMD" with its output in CMD_LOG; die, showing it, on failure. */
static void __attribute__((format(printf, 1, 2))) run_cmd(const char *fmt, ...)
{
	char cmd[1024], full[1200];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "%s > " CMD_LOG " 2>&1", cmd);
	step_cmd(cmd);
	fflush(stdout);
	st = system(full);
	if (st) {
		fprintf(stderr, "peers: `%s` failed (status %#x); it said:\n",
			cmd, st);
		fflush(stderr);
		if (system("cat " CMD_LOG " >&2"))
			fprintf(stderr, "(cannot show " CMD_LOG ")\n");
		die("a command failed");
	}
}

/* The first number that "sh -c CMD" prints; die if it prints none. */
static uint64_t __attribute__((format(printf, 1, 2))) cmd_number(const char *fmt, ...)
{
	char cmd[1024], buf[256];
	unsigned long long v;
	va_list ap;
	FILE *f;
	int got = 0, st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	step_cmd(cmd);
	fflush(stdout);
	f = popen(cmd, "r");
	if (!f)
		die("popen `%s`: %s", cmd, strerror(errno));
	while (fgets(buf, sizeof(buf), f))
		if (!got && sscanf(buf, " %llu", &v) == 1)
			got = 1;
	st = pclose(f);
	if (st || !got)
		die("`%s` gave no number (status %#x)", cmd, st);
	return v;
}

/* ------------------------------------------------------------------ */
/* ktracer                                                             */

static void kt_kevents_set(uint32_t sources, const int32_t *pids, uint32_t npids)
{
	struct ktracer_kevents k = {
		.size = sizeof(k),
		.flags = KTRACER_KEVENTS_SOURCES | KTRACER_KEVENTS_PIDS,
		.sources = sources,
		.pids = (uintptr_t)pids,
		.npids = npids,
	};

	if (ioctl(kt_fd, KTRACER_IOC_KEVENTS, &k))
		die("KTRACER_IOC_KEVENTS sources=%#x npids=%u: %s", sources,
		    npids, strerror(errno));
	if (k.sources != sources)
		die("KTRACER_IOC_KEVENTS sources=%#x: %#x on", sources, k.sources);
}

static void open_ktracer(void)
{
	struct ktracer_kevents k = { .size = sizeof(k) };
	const char *why;
	int err;

	kt_fd = kt_open(&state, NULL);
	if (ioctl(kt_fd, KTRACER_IOC_KEVENTS, &k))
		die("KTRACER_IOC_KEVENTS: %s", strerror(errno));
	if ((k.available & (KTRACER_SRC_SCHED | KTRACER_SRC_SYSCALL | KTRACER_SRC_IRQ)) !=
	    (KTRACER_SRC_SCHED | KTRACER_SRC_SYSCALL | KTRACER_SRC_IRQ))
		die("ktracer's SCHED, SYSCALL and IRQ sources are not all available (%#x)",
		    k.available);
	if (k.sources)
		die("ktracer's sources %#x are on already", k.sources);
	err = kt_config(kt_fd, KTRACER_CONFIG_MODE | KTRACER_CONFIG_BUFFER_SIZE,
			KTRACER_MODE_OVERWRITE, BUF_BYTES);
	if (err)
		die("KTRACER_IOC_CONFIG OVERWRITE, %u bytes: %s", BUF_BYTES,
		    strerror(-err));
	err = kt_enable(kt_fd, 1);
	if (err)
		die("KTRACER_IOC_ENABLE: %s", strerror(-err));
	meta = kt_meta(kt_fd, state, 0, &why);
	if (!meta)
		die("CPU 0's meta page: %s", why);

	span_id = kt_register_span(kt_fd, "peers.batch");
	for (int i = 0; i < BATCH_OPS; i++)
		batch_ops[i] = (struct ktracer_op){
			.size = sizeof(struct ktracer_op),
			.op = i & 1 ? KTRACER_OP_STOP : KTRACER_OP_START,
			.event = span_id,
		};
	batch = (struct ktracer_batch){
		.size = sizeof(batch),
		.ops = (uintptr_t)batch_ops,
		.count = BATCH_OPS,
		.op_size = sizeof(struct ktracer_op),
	};

	err = ktracer_open(&lib, NULL);
	if (err)
		die("ktracer_open: %s", strerror(err));
	err = ktracer_declare(lib, "peers.region", KTRACER_KIND_SPAN, 1, &region_id);
	if (err)
		die("ktracer_declare peers.region: %s", strerror(err));
}

/* ------------------------------------------------------------------ */
/* ftrace                                                              */

static void open_tracefs(void)
{
	char buf[16];

	tracefs_mount();
	tracefs_read("events/enable", buf, sizeof(buf));
	if (buf[0] != '0')
		die("ftrace events are on already");
	tracefs_set("buffer_size_kb", "1024");
	tracefs_set("options/overwrite", "1");
	tracefs_set("tracing_on", "1");
	marker_fd = open(TRACEFS "/trace_marker", O_WRONLY | O_CLOEXEC);
	if (marker_fd < 0)
		die("open trace_marker: %s", strerror(errno));
}

/* ------------------------------------------------------------------ */
/* Interrupts                                                          */

/*
 * The interrupts /proc/interrupts counts, on all CPUs: irq_no's in *port,
 * every numbered line's (those irq_handler_entry sees; the local APIC's
 * timer, LOC, is not one) in *all.
 */
static void irq_counts(uint64_t *port, uint64_t *all)
{
	static char text[16384];
	char *save = NULL, *p, *end;
	int found = 0, fd;
	ssize_t len;

	fd = open("/proc/interrupts", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open /proc/interrupts: %s", strerror(errno));
	len = read(fd, text, sizeof(text) - 1);
	if (len < 0)
		die("read /proc/interrupts: %s", strerror(errno));
	close(fd);
	text[len] = '\0';
	*port = *all = 0;
	for (char *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long irq = strtoul(line, &p, 10);
		uint64_t n = 0;

		if (p == line || *p != ':')
			continue;	/* the CPUs' header, NMI, LOC, ... */
		/* One column per CPU, then the chip's name. */
		for (p++; ; p = end) {
			unsigned long long c = strtoull(p, &end, 10);

			if (end == p)
				break;
			n += c;
		}
		*all += n;
		if (irq == irq_no) {
			*port += n;
			found = 1;
		}
	}
	if (!found)
		die("/proc/interrupts has no line for IRQ %u (" IRQ_TTY "'s)", irq_no);
}

/*
 * IRQ_TTY, opened for the run (its interrupt is requested when it is
 * opened) and put into a known state: raw, no flow control in either
 * direction and no modem lines to wait for, so that a write is sent as
 * it is, at once, and tcdrain() returns once it is out.
 */
static void open_serial(void)
{
	struct termios tio;
	char buf[32];
	uint64_t port, all;
	int fd;
	ssize_t len;

	irq_fd = open("/dev/" IRQ_TTY, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (irq_fd < 0)
		die("open /dev/" IRQ_TTY ": %s", strerror(errno));
	if (tcgetattr(irq_fd, &tio))
		die("tcgetattr " IRQ_TTY ": %s", strerror(errno));
	cfmakeraw(&tio);
	tio.c_iflag &= ~(IXON | IXOFF | IXANY);
	tio.c_cflag &= ~CRTSCTS;
	tio.c_cflag |= CLOCAL;
	if (cfsetspeed(&tio, B115200) || tcsetattr(irq_fd, TCSANOW, &tio))
		die("tcsetattr " IRQ_TTY ": %s", strerror(errno));
	if (tcflush(irq_fd, TCIOFLUSH) || tcdrain(irq_fd))
		die("tcflush, tcdrain " IRQ_TTY ": %s", strerror(errno));

	fd = open("/sys/class/tty/" IRQ_TTY "/irq", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open /sys/class/tty/" IRQ_TTY "/irq: %s", strerror(errno));
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		die("read /sys/class/tty/" IRQ_TTY "/irq: %s", strerror(errno));
	buf[len] = '\0';
	irq_no = strtoul(buf, NULL, 10);
	if (!irq_no)
		die(IRQ_TTY " has no interrupt (irq %s)", buf);
	irq_counts(&port, &all);
	printf("# " IRQ_TTY ": IRQ %u, %llu interrupts so far, %llu on all lines\n",
	       irq_no, (unsigned long long)port, (unsigned long long)all);
}

/* n lines to IRQ_TTY, each out before the next: how many failed. */
static unsigned long loop_irq(unsigned long n)
{
	unsigned long fails = 0;

	for (unsigned long i = 0; i < n; i++)
		fails += write(irq_fd, irq_line, sizeof(irq_line) - 1) !=
			 sizeof(irq_line) - 1 || tcdrain(irq_fd);
	return fails;
}

/* ------------------------------------------------------------------ */
/* LTTng                                                               */

static void lttng_session(const char *name, const char *domain,
			  const char *events)
{
	run_cmd("lttng create %s --snapshot --output=/tmp/peers-lttng/%s",
		name, name);
	run_cmd("lttng enable-channel %s -s %s --subbuf-size=256K --num-subbuf=4 --overwrite c",
		domain, name);
	run_cmd("lttng enable-event %s -s %s -c c %s", domain, name, events);
}

/*
 * The UST session lives on (it touches only this process's tracepoint);
 * a kernel session is made for its run and destroyed after it, as an
 * enabled kernel event of a session that is not started keeps LTTng's
 * probe on the tracepoint (a system call event, the system call
 * tracepoints: every process's system calls take the slow path).
 */
static void open_lttng(void)
{
	lttng_session("ust", "-u", "peers:op");
	logger_fd = open("/proc/lttng-logger", O_WRONLY | O_CLOEXEC);
	if (logger_fd < 0)
		die("open /proc/lttng-logger: %s", strerror(errno));
}

/* Stop session S, take its snapshot and count the events; clear it, or destroy it. */
static uint64_t lttng_count(const char *s, int destroy)
{
	uint64_t n;

	run_cmd("lttng stop %s", s);
	run_cmd("rm -rf " SNAPSHOTS " && lttng snapshot record -s %s " SNAPSHOTS, s);
	n = cmd_number("babeltrace2 " SNAPSHOTS " -c sink.utils.counter 2>/dev/null");
	run_cmd("rm -rf " SNAPSHOTS " && lttng %s %s", destroy ? "destroy" : "clear", s);
	return n;
}

/* ------------------------------------------------------------------ */
/* perf                                                                */

/* During the warm-up: what perf recorded, by event, and what it lost. */
static int perf_diag = 1;
static int perf_hold = -1;	/* its end closed: perf's workload exits */

/*
 * perf record -a of workload w's events, its workload "peers --hold R H"
 * (this program), which perf starts once its events are on: it writes a
 * byte into R, then waits for the end of H. Returns once that byte came:
 * perf is recording.
 */
static void perf_start(enum workload w)
{
	int ready[2], hold[2];
	char rbuf[16], hbuf[16], c;

	if (pipe(ready) || pipe(hold))
		die("pipe: %s", strerror(errno));
	snprintf(rbuf, sizeof(rbuf), "%d", ready[1]);
	snprintf(hbuf, sizeof(hbuf), "%d", hold[0]);
	step_cmd("perf record -a -- peers --hold");
	fflush(stdout);
	perf_pid = fork();
	if (perf_pid < 0)
		die("fork: %s", strerror(errno));
	if (!perf_pid) {
		int fd = open(CMD_LOG, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		close(ready[0]);
		close(hold[1]);
		execlp("perf", "perf", "record", "-q", "-a", "-m", "1M", "-B", "-N",
		       "-e", work[w].perf_events, "-o", PERF_DATA, "--",
		       exe, "--hold", rbuf, hbuf, (char *)NULL);
		_exit(127);
	}
	close(ready[1]);
	close(hold[0]);
	perf_hold = hold[1];
	if (read(ready[0], &c, 1) != 1)
		die("perf record did not start its workload");
	close(ready[0]);
}

/* End perf's workload, wait for perf; the samples in its file. */
static uint64_t perf_stop(void)
{
	uint64_t n;
	int status;

	close(perf_hold);
	perf_hold = -1;
	if (waitpid(perf_pid, &status, 0) != perf_pid)
		die("waitpid perf: %s", strerror(errno));
	perf_pid = 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fflush(stdout);
		if (system("cat " CMD_LOG " >&2"))
			fprintf(stderr, "(cannot show " CMD_LOG ")\n");
		die("perf record exited with status %#x", status);
	}
	n = cmd_number("perf script -i " PERF_DATA " 2>/dev/null | wc -l");
	if (perf_diag) {
		step_cmd("perf script -F event | sort | uniq -c; perf report --stats");
		fflush(stdout);
		if (system("perf script -i " PERF_DATA " -F event 2>/dev/null | sort | uniq -c | sed 's/^/# perf: /'; "
			   "perf report -i " PERF_DATA " --stats 2>&1 | grep -i -e lost -e 'SAMPLE events' | sed 's/^/# perf: /'"))
			printf("# perf: no diagnostics\n");
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* Kernel workloads                                                    */

static void tracer_on(enum tracer t, enum workload w)
{
	switch (t) {
	case NONE:
		break;
	case KTRACER:
		if (w == SYSCALL)
			kt_kevents_set(work[w].kt_source, &self, 1);
		else
			kt_kevents_set(work[w].kt_source, NULL, 0);
		break;
	case FTRACE:
		for (int i = 0; i < 2; i++)
			tracefs_set(work[w].ftrace[i], "1");
		break;
	case LTTNG:
		lttng_session(work[w].lttng_session, "-k", work[w].lttng_events);
		run_cmd("lttng start %s", work[w].lttng_session);
		break;
	case PERF:
		perf_start(w);
		break;
	default:
		break;
	}
}

/* Off again: what it recorded, for LTTng and perf (others: counters). */
static uint64_t tracer_off(enum tracer t, enum workload w)
{
	switch (t) {
	case KTRACER:
		kt_kevents_set(0, NULL, 0);
		return 0;
	case FTRACE:
		for (int i = 0; i < 2; i++)
			tracefs_set(work[w].ftrace[i], "0");
		return 0;
	case LTTNG:
		return lttng_count(work[w].lttng_session, 1);
	case PERF:
		return perf_stop();
	default:
		return 0;
	}
}

static unsigned long loop_getppid(unsigned long n)
{
	unsigned long fails = 0;

	for (unsigned long i = 0; i < n; i++)
		fails += syscall(SYS_getppid) != parent;
	return fails;
}

static unsigned long loop_work(enum workload w, unsigned long n)
{
	switch (w) {
	case SCHED:
		return pingpong(&pp, n);
	case SYSCALL:
		return loop_getppid(n);
	case IRQ:
		return loop_irq(n);
	default:
		return n;
	}
}

/* Results: ns (instructions) per iteration of each round, recorded per iteration. */
static double kt_ns[NWORKLOADS][NTRACERS][ROUNDS_MAX];
static double kt_rec[NWORKLOADS][NTRACERS], kt_recr[NWORKLOADS][NTRACERS][ROUNDS_MAX];

struct snap {
	uint64_t kt_written, kt_lost, kt_over, ftrace, ftrace_over;
	uint64_t irq_port, irq_all;	/* /proc/interrupts */
};

/*
 * The counters; /proc/interrupts' too if irqs, for the irq workload only:
 * the ping-pong's wake-ups follow how much this process ran between its
 * runs, and its figures stay comparable with those of earlier trees.
 */
static void snap(struct snap *s, int irqs)
{
	s->kt_written = meta->written;
	s->kt_lost = meta->lost;
	s->kt_over = meta->overwritten;
	s->ftrace = ftrace_events(0);
	s->ftrace_over = ftrace_stat(0, "overrun");
	s->irq_port = s->irq_all = 0;
	if (irqs)
		irq_counts(&s->irq_port, &s->irq_all);
}

/*
 * What tracer t recorded between before and after (n iterations), given
 * what tracer_off() counted; dies if ktracer lost records or a tracer
 * that was off recorded.
 */
static uint64_t recorded(const char *what, enum tracer t, const struct snap *b,
			 const struct snap *a, uint64_t counted)
{
	uint64_t kt = a->kt_written - b->kt_written, ft = a->ftrace - b->ftrace;

	if (a->kt_lost != b->kt_lost)
		die("%s: ktracer lost %llu records in OVERWRITE mode", what,
		    (unsigned long long)(a->kt_lost - b->kt_lost));
	if (t != KTRACER && kt)
		die("%s: ktracer recorded %llu records while off", what,
		    (unsigned long long)kt);
	if (t != FTRACE && ft)
		die("%s: ftrace recorded %llu events while off", what,
		    (unsigned long long)ft);
	return t == KTRACER ? kt : t == FTRACE ? ft : counted;
}

/*
 * The irq workload's interrupts: IRQ_TTY's, at least one a line (qemu
 * sends a line whole in the interrupt that starts it), each recorded by
 * the tracer that was on as an entry and an exit (ktracer: a START and a
 * STOP), within what the other lines' interrupts in the same window
 * could add (the results' port, IRQ 3, when a line of progress went out
 * while the tracer was on).
 */
static void irq_check(const char *what, enum tracer t, const struct snap *b,
		      const struct snap *a, uint64_t got, unsigned long lines)
{
	uint64_t port = a->irq_port - b->irq_port;
	uint64_t others = a->irq_all - b->irq_all - port;

	printf("# %s: %llu interrupts of IRQ %u, %llu of other lines\n", what,
	       (unsigned long long)port, irq_no, (unsigned long long)others);
	if (port < lines)
		die("%s: IRQ %u served %llu interrupts for %lu lines", what,
		    irq_no, (unsigned long long)port, lines);
	if (t != NONE && (got < 2 * port || got > 2 * (port + others)))
		die("%s: recorded %llu events for %llu interrupts of IRQ %u and %llu of other lines",
		    what, (unsigned long long)got, (unsigned long long)port,
		    irq_no, (unsigned long long)others);
}

/* One run of workload w under tracer t: ns per iteration. */
static double run_kernel(enum workload w, enum tracer t, unsigned long n,
			 double *rec)
{
	char what[64];
	struct snap b, a;
	unsigned long fails;
	uint64_t counted, got;
	double t0, t1;

	snprintf(what, sizeof(what), "%s/%s", work[w].name, tracer_name[t]);
	step("%s %s, %lu iterations", work[w].name, tracer_name[t], n);
	snap(&b, w == IRQ);
	tracer_on(t, w);
	fails = loop_work(w, SETTLE);
	t0 = now_ns();
	fails += loop_work(w, n);
	t1 = now_ns();
	counted = tracer_off(t, w);
	snap(&a, w == IRQ);
	if (t == KTRACER)
		printf("# %s: %llu records, %llu overwritten\n", what,
		       (unsigned long long)(a.kt_written - b.kt_written),
		       (unsigned long long)(a.kt_over - b.kt_over));
	if (t == FTRACE)
		printf("# %s: %llu events, %llu overwritten\n", what,
		       (unsigned long long)(a.ftrace - b.ftrace),
		       (unsigned long long)(a.ftrace_over - b.ftrace_over));
	if (fails)
		die("%s: %lu of %lu iterations failed", what, fails, n + SETTLE);
	got = recorded(what, t, &b, &a, counted);
	if ((double)got < work[w].min[t] * (n + SETTLE))
		die("%s: recorded %llu events in %lu iterations, fewer than %.0f each",
		    what, (unsigned long long)got, n + SETTLE, work[w].min[t]);
	if (w == IRQ)
		irq_check(what, t, &b, &a, got, n + SETTLE);
	*rec = (double)got / (n + SETTLE);
	return (t1 - t0) / n;
}

/* ------------------------------------------------------------------ */
/* Program events                                                      */

enum op { GETPPID, KT_REGION, KT_BATCH, UST, UST_OFF, MARKER, LOGGER, NOPS };

/*
 * @runs: OPS_N times this many ops a run. Something in the VM preempts
 * whatever runs about every 4 ms of guest clock (a tick's wake-up: 20 000
 * to 45 000 instructions of another task, one involuntary context switch
 * in getrusage()), so a run of a few ms has one or none by chance, and
 * its median jumps between rounds; every run of an op lasts 7 ms or more
 * (ust's, 8.9 ms, is as long as its ring allows), so that each pays its
 * share as the others do.
 */
static const struct {
	const char *name, *what;
	enum tracer tracer;	/* whose counters must move */
	double min;		/* recorded per op, at least */
	unsigned int runs;
} ops[NOPS] = {
	[GETPPID] = { "getppid", "getppid(), the reference", NONE, 0, 4 },
	[KT_REGION] = { "kt_region", "libktracer region begin or end, end to end", KTRACER, 1, 4 },
	[KT_BATCH] = { "kt_batch", "ktracer KTRACER_IOC_BATCH of 64, per op", KTRACER, 1, 8 },
	[UST] = { "ust", "LTTng-UST tracepoint(), started session", LTTNG, 1, 1 },
	[UST_OFF] = { "ust_off", "LTTng-UST tracepoint(), no session", NONE, 0, 1 },
	[MARKER] = { "trace_marker", "write(trace_marker, 40 bytes)", FTRACE, 1, 1 },
	[LOGGER] = { "lttng_logger", "write(/proc/lttng-logger, 40 bytes)", LTTNG, 1, 1 },
};

static double op_ns[NOPS][ROUNDS_MAX], op_rec[NOPS];
static struct ktracer_lib_stats lib_was;

/* n ops (n even where ops come in pairs); how many failed. */
static unsigned long loop_op(enum op o, unsigned long n)
{
	unsigned long fails = 0;

	switch (o) {
	case GETPPID:
		return loop_getppid(n);
	case KT_REGION:
		for (unsigned long i = 0; i < n; i += 2) {
			fails += ktracer_region_begin(lib, region_id, NULL) != 0;
			fails += ktracer_region_end(lib, region_id) != 0;
		}
		return fails + (ktracer_flush(lib) != 0);
	case KT_BATCH:
		for (unsigned long i = 0; i < n; i += BATCH_OPS)
			fails += ioctl(kt_fd, KTRACER_IOC_BATCH, &batch) != 0;
		return fails;
	case UST:
	case UST_OFF:
		for (unsigned long i = 0; i < n; i++)
			tracepoint(peers, op, region_id, 0, i);
		return 0;
	case MARKER:
		for (unsigned long i = 0; i < n; i++)
			fails += write(marker_fd, line40, 40) != 40;
		return fails;
	case LOGGER:
		for (unsigned long i = 0; i < n; i++)
			fails += write(logger_fd, line40, 40) != 40;
		return fails;
	default:
		return n;
	}
}

static double run_op(enum op o, unsigned long n, double *rec)
{
	const char *what = ops[o].name;
	struct ktracer_lib_stats st;
	unsigned long fails;
	uint64_t counted = 0, got;
	struct snap b, a;
	double t0, t1;

	step("%s, %lu ops", what, n);
	snap(&b, 0);
	if (o == UST)
		run_cmd("lttng start ust");
	if (o == LOGGER) {
		lttng_session("klog", "-k", "lttng_logger");
		run_cmd("lttng start klog");
	}
	fails = loop_op(o, SETTLE);
	t0 = now_ns();
	fails += loop_op(o, n);
	t1 = now_ns();
	if (o == UST)
		counted = lttng_count("ust", 0);
	if (o == LOGGER)
		counted = lttng_count("klog", 1);
	snap(&a, 0);
	if (fails)
		die("%s: %lu of %lu ops failed", what, fails, n + SETTLE);
	got = recorded(what, ops[o].tracer, &b, &a, counted);
	if ((double)got < ops[o].min * (n + SETTLE))
		die("%s: recorded %llu events for %lu ops, fewer than %.0f each",
		    what, (unsigned long long)got, n + SETTLE, ops[o].min);
	if (o == KT_REGION) {
		if (ktracer_get_stats(lib, &st))
			die("ktracer_get_stats: %s", strerror(errno));
		if (st.dropped != lib_was.dropped || st.refused != lib_was.refused ||
		    st.applied - lib_was.applied != n + SETTLE)
			die("kt_region: libktracer applied %llu of %lu ops (dropped %llu, refused %llu)",
			    (unsigned long long)(st.applied - lib_was.applied),
			    n + SETTLE,
			    (unsigned long long)(st.dropped - lib_was.dropped),
			    (unsigned long long)(st.refused - lib_was.refused));
		lib_was = st;
	}
	*rec = (double)got / (n + SETTLE);
	return (t1 - t0) / n;
}

/* ------------------------------------------------------------------ */
/* Report                                                              */

static void ratio(char *buf, size_t size, double a, double b)
{
	if (b > 0)
		snprintf(buf, size, "%.2fx", a / b);
	else
		snprintf(buf, size, "-");
}

static void report(void)
{
	double per_ev[NWORKLOADS][NTRACERS][3], base[NWORKLOADS][3];
	double added[NWORKLOADS][NTRACERS][3], per_op[NOPS][3];
	char r1[16], r2[16];

	/*
	 * Per event: a round trip's added instructions over the events the
	 * tracer recorded of it (the switches and wake-ups of the ping-pong
	 * vary a little with what each tracer costs); a system call's over
	 * its 2, entry and exit (perf records more: its own system calls);
	 * a serial line's over the events recorded of it (an entry and an
	 * exit an interrupt, about one interrupt a line).
	 */
	for (int w = 0; w < NWORKLOADS; w++) {
		double v[ROUNDS_MAX];

		for (int r = 0; r < rounds; r++)
			v[r] = kt_ns[w][NONE][r];
		printf("KT-PEER-R %s none", work[w].name);
		for (int r = 0; r < rounds; r++)
			printf(" %.1f", v[r]);
		printf("\n");
		median_n(v, rounds, &base[w][0], &base[w][1], &base[w][2]);
		for (int t = KTRACER; t < NTRACERS; t++) {
			double a[ROUNDS_MAX];

			printf("KT-PEER-R %s %s", work[w].name, tracer_name[t]);
			for (int r = 0; r < rounds; r++) {
				a[r] = kt_ns[w][t][r] - kt_ns[w][NONE][r];
				v[r] = a[r] / (work[w].events ? work[w].events :
					       kt_recr[w][t][r]);
				printf(" %.1f", v[r]);
			}
			printf("\n");
			median_n(a, rounds, &added[w][t][0], &added[w][t][1], &added[w][t][2]);
			median_n(v, rounds, &per_ev[w][t][0], &per_ev[w][t][1], &per_ev[w][t][2]);
			printf("KT-PEER-K %s %s %.1f %.1f %.1f %.3f\n", work[w].name,
			       tracer_name[t], per_ev[w][t][0], per_ev[w][t][1],
			       per_ev[w][t][2], kt_rec[w][t]);
		}
		printf("KT-PEER-K %s none 0 0 0 0 %.1f\n", work[w].name,
		       base[w][0]);
	}
	for (int o = 0; o < NOPS; o++) {
		double v[ROUNDS_MAX];

		for (int r = 0; r < rounds; r++)
			v[r] = op_ns[o][r];
		median_n(v, rounds, &per_op[o][0], &per_op[o][1], &per_op[o][2]);
		printf("KT-PEER-P %s %.1f %.1f %.1f %.3f\n", ops[o].name,
		       per_op[o][0], per_op[o][1], per_op[o][2], op_rec[o]);
	}

	printf("\n## Kernel events: guest instructions added per event, median of %d rounds [fastest, slowest round]\n\n",
	       rounds);
	printf("| workload | untraced, per iteration | tracer | added per iteration | recorded per iteration | per event | range | x ftrace | x LTTng |\n");
	printf("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
	for (int w = 0; w < NWORKLOADS; w++)
		for (int t = KTRACER; t < NTRACERS; t++) {
			ratio(r1, sizeof(r1), per_ev[w][t][0], per_ev[w][FTRACE][0]);
			ratio(r2, sizeof(r2), per_ev[w][t][0], per_ev[w][LTTNG][0]);
			printf("| %s | %.0f | %s | %.0f | %.2f | %.1f | %.1f-%.1f | %s | %s |\n",
			       work[w].name, base[w][0], tracer_name[t],
			       added[w][t][0], kt_rec[w][t], per_ev[w][t][0],
			       per_ev[w][t][1], per_ev[w][t][2], r1, r2);
		}
	printf("\n## Program events: guest instructions per op, median of %d rounds [fastest, slowest round]\n\n",
	       rounds);
	printf("| op | what | per op | range | x trace_marker | x ust | recorded per op |\n");
	printf("| --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
	for (int o = 0; o < NOPS; o++) {
		ratio(r1, sizeof(r1), per_op[o][0], per_op[MARKER][0]);
		ratio(r2, sizeof(r2), per_op[o][0], per_op[UST][0]);
		printf("| %s | %s | %.1f | %.1f-%.1f | %s | %s | %.2f |\n",
		       ops[o].name, ops[o].what, per_op[o][0], per_op[o][1],
		       per_op[o][2], r1, r2, op_rec[o]);
	}
}

/* ------------------------------------------------------------------ */

/* The VM is thrown away after the run: stop what would go on running. */
static int restore(void)
{
	alarm(0);
	pingpong_kill(&pp);
	if (perf_pid > 0) {
		close(perf_hold);
		kill(perf_pid, SIGKILL);
		waitpid(perf_pid, NULL, 0);
		perf_pid = 0;
	}
	return 0;
}

/*
 * perf record's workload: tell the parent perf is recording (a byte into
 * fd R), then wait for the end of fd H.
 */
static int hold_main(char **argv)
{
	int r = atoi(argv[0]), h = atoi(argv[1]);
	char c = 'r';

	if (write(r, &c, 1) != 1)
		return 1;
	close(r);
	while (read(h, &c, 1) > 0)
		;
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	double rec;
	ssize_t len;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && !strcmp(argv[1], "--hold"))
		return hold_main(argv + 2);
	if (sigaction(SIGALRM, &sa, NULL))
		die("sigaction SIGALRM: %s", strerror(errno));
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len <= 0 || len >= (ssize_t)sizeof(exe) - 1)
		die("readlink /proc/self/exe: %s", strerror(errno));
	exe[len] = '\0';
	if (argc > 1)
		rounds = atoi(argv[1]);
	if (rounds < 1 || rounds > ROUNDS_MAX)
		die("rounds: 1..%d", ROUNDS_MAX);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		die("ignore SIGPIPE: %s", strerror(errno));
	pin_cpu(0);
	self = getpid();
	parent = getppid();
	step("opening ktracer and ftrace");
	open_ktracer();
	open_tracefs();
	open_serial();
	pingpong_start(&pp, 0);
	if (ktracer_get_stats(lib, &lib_was))
		die("ktracer_get_stats: %s", strerror(errno));

	/* Before any UST session exists. */
	run_op(UST_OFF, OPS_N, &rec);
	for (int r = 0; r < rounds; r++)
		op_ns[UST_OFF][r] = run_op(UST_OFF, OPS_N, &op_rec[UST_OFF]);
	printf("# ust_off measured; creating the LTTng sessions\n");

	step("creating the LTTng sessions");
	open_lttng();
	/*
	 * A checked round, not counted: it also fills ktracer's and
	 * ftrace's buffers, which overwrite from then on, as in every
	 * counted round (LTTng's are cleared after every run).
	 */
	for (int w = 0; w < NWORKLOADS; w++)
		for (int t = 0; t < NTRACERS; t++)
			run_kernel(w, t, work[w].n, &rec);
	for (int o = 0; o < NOPS; o++)
		if (o != UST_OFF)
			run_op(o, OPS_N * ops[o].runs, &rec);
	perf_diag = 0;
	printf("# warm-up done: every tracer recorded; %d rounds\n", rounds);

	for (int r = 0; r < rounds; r++) {
		for (int w = 0; w < NWORKLOADS; w++)
			for (int t = 0; t < NTRACERS; t++) {
				kt_ns[w][t][r] = run_kernel(w, t, work[w].n, &rec);
				kt_rec[w][t] += rec / rounds;
				kt_recr[w][t][r] = rec;
			}
		for (int o = 0; o < NOPS; o++) {
			if (o == UST_OFF)
				continue;
			op_ns[o][r] = run_op(o, OPS_N * ops[o].runs, &rec);
			op_rec[o] += rec / rounds;
		}
		printf("# round %d of %d done\n", r + 1, rounds);
	}
	step("report");
	pingpong_stop(&pp);
	report();
	alarm(0);
	return 0;
}
