// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/ktracer/ against hostile bytes and a module that
 * wants to go:
 *
 *  - "trace" never reads outside what it walks, whatever the buffers hold
 *    and wherever a reader's tail points: a LOG whose message is a fake
 *    header, the tail moved onto it, shows no line of it;
 *  - in OVERWRITE, with writers freeing records while "trace" is read,
 *    every line is a record that was written, never a message's bytes
 *    taken for a header;
 *  - an open "trace" holds a few bytes, not a copy of the buffers;
 *  - while any debugfs file is open, delete_module() fails with
 *    EWOULDBLOCK; closed, the module unloads and loads again;
 *  - a control's word is trimmed of blanks.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "kt_test.h"
#include "kt_ring.h"

#define LOG_NAME	"debugfs.test.log"
#define FAKE_PID	4242	/* a fake header's pid: shows if one is parsed */
#define READS		200	/* reads of "trace" under OVERWRITE writers */
#define READS_NS	(20 * KT_NSEC_PER_SEC)	/* or for so long, if less */
#define HOLD_FILES	4	/* "trace" files held open at once */
#define HOLD_MAX_KB	(8 << 10)	/* what they may take, all of them */

FIXTURE(dbgfs) {
	int fd;
	int cpu;
	uint32_t log;
	struct kt_rings rings;
};

FIXTURE_SETUP(dbgfs)
{
	self->fd = kt_open_fresh_pinned(&self->cpu);
	ASSERT_LE(0, self->fd) TH_LOG("fresh start: %s", strerror(-self->fd));
	self->log = kt_register_id(self->fd, KTRACER_KIND_LOG, 0, LOG_NAME);
	ASSERT_NE(0, self->log);
}

FIXTURE_TEARDOWN(dbgfs)
{
	kt_rings_unmap(&self->rings);
	if (self->fd >= 0) {
		EXPECT_EQ(0, kt_restore_defaults(self->fd));
		close(self->fd);
	}
}

/* A header as a LOG's message: what a walk landing on it would parse. */
static struct ktracer_record fake_header(uint32_t event, uint16_t size,
					 uint32_t len)
{
	struct ktracer_record f;

	memset(&f, 0, sizeof(f));
	f.size = size;
	f.type = KTRACER_REC_START;
	f.event = event;
	f.pid = FAKE_PID;
	f.tid = FAKE_PID;
	f.len = len;
	f.arg = 0x4141414141414141ULL;
	return f;
}

/* The records in buffer the header counts; -1 if it is not there. */
static long long header_records(const char *text)
{
	struct kt_trace_head h;

	return kt_trace_head(text, &h) ? -1 : (long long)h.records;
}

/* Record lines (not comments) of @text. */
static int count_lines(const char *text)
{
	const char *p;
	int n = 0;

	for (p = text; *p; p = strchr(p, '\n') + 1) {
		if (!strchr(p, '\n'))
			return -1;	/* every line ends */
		n += *p != '#';
	}
	return n;
}

/*
 * Whatever the bytes a reader's tail points at, the walk stops where they
 * break the record rule (a size below a header, a message longer than its
 * record): no line, no read outside the buffer.
 */
TEST_F(dbgfs, fake_header_tail)
{
	static const struct { uint16_t size; uint32_t len; } fakes[] = {
		{ 8, 0x7fffff00 }, { 8, 0 }, { 40, 8 },
		{ KT_REC_HDR, 0x7fffff00 }, { KT_REC_HDR, 1 },
		{ KT_REC_HDR + 8, 9 }, { 0xfff8, 0 },
	};
	struct ktracer_record f;
	struct kt_ring *r;
	uint64_t tail;
	char *text;
	size_t i;

	for (i = 0; i < sizeof(fakes) / sizeof(fakes[0]); i++) {
		f = fake_header(self->log, fakes[i].size, fakes[i].len);
		ASSERT_RET(0, kt_reset(self->fd));
		ASSERT_RET(0, kt_log(self->fd, self->log, &f, sizeof(f)));
		ASSERT_RET(0, kt_log(self->fd, self->log, &f, sizeof(f)));
		ASSERT_RET(0, kt_rings_map(self->fd, &self->rings));
		r = &self->rings.ring[self->cpu];
		tail = __atomic_load_n(&r->reader->tail, __ATOMIC_ACQUIRE);
		/* Onto the first record's message: the fake header. */
		__atomic_store_n(&r->reader->tail, tail + KT_REC_HDR,
				 __ATOMIC_RELEASE);

		text = kt_read_file(KT_DEBUGFS "/trace", NULL);
		ASSERT_NE(NULL, text) TH_LOG("size %u len %#x: %s",
					     fakes[i].size, fakes[i].len,
					     strerror(errno));
		EXPECT_EQ(0, header_records(text)) TH_LOG("%s", text);
		EXPECT_EQ(0, count_lines(text)) TH_LOG("%s", text);
		free(text);
		/* The counts walk by the same rule. */
		text = kt_read_file(KT_DEBUGFS "/stats", NULL);
		ASSERT_NE(NULL, text);
		free(text);
		kt_rings_unmap(&self->rings);
	}
}

/* The writers' messages: a fake header, then @i % 8 bytes more. */
#define NR_MSGS	8

static void make_msg(unsigned char *msg, uint32_t event, int i)
{
	struct ktracer_record f = fake_header(event, KT_REC_HDR, 0);

	memcpy(msg, &f, sizeof(f));
	memset(msg + sizeof(f), 'a' + i, i);
}

/* msg as the trace escapes it. */
static void escape(char *out, const unsigned char *msg, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < len; i++) {
		if (msg[i] == '"' || msg[i] == '\\')
			out += sprintf(out, "\\%c", msg[i]);
		else if (msg[i] < 0x20 || msg[i] > 0x7e)
			out += sprintf(out, "\\x%02x", msg[i]);
		else
			*out++ = msg[i];
	}
	*out = '\0';
}

/* Write the messages round and round, pinned to @cpu, until *@stop. */
static void hammer(int fd, uint32_t event, int cpu, volatile int *stop)
{
	unsigned char msg[NR_MSGS][KT_REC_HDR + NR_MSGS];
	int i;

	if (kt_pin_cpu(cpu))
		_exit(2);
	for (i = 0; i < NR_MSGS; i++)
		make_msg(msg[i], event, i);
	for (i = 0; !*stop; i = (i + 1) % NR_MSGS)
		if (kt_log(fd, event, msg[i], KT_REC_HDR + i))
			_exit(3);
	_exit(0);
}

/* A LOST line, or one of the writers' messages: 0; else -1. */
static int check_line(const char *line, const char (*want)[512],
		      const pid_t *pids, int nr)
{
	static const char prefix[] = LOG_NAME " log msg=\"";
	unsigned int cpu;
	unsigned long long sec, usec, lost;
	struct kt_trace_line l;
	const char *rest;
	int i, n = 0;

	if (sscanf(line, "[%u] %llu.%llu [LOST %llu EVENTS]%n", &cpu, &sec,
		   &usec, &lost, &n) == 4 && !line[n])
		return 0;
	if (kt_trace_line(line, &l) ||
	    strncmp(l.rest, prefix, strlen(prefix)))
		return -1;
	rest = l.rest + strlen(prefix);
	for (i = 0; i < nr && pids[i] != (pid_t)l.pid; i++)
		;
	if (i == nr || l.pid != l.tid)
		return -1;
	for (i = 0; i < NR_MSGS; i++)
		if (!strncmp(rest, want[i], strlen(want[i])) &&
		    !strcmp(rest + strlen(want[i]), "\""))
			return 0;
	return -1;
}

/*
 * OVERWRITE, the smallest buffers, a writer on every CPU whose messages
 * are headers: "trace" read over and over while records are freed under
 * it shows only whole records that were written.
 */
TEST_F_TIMEOUT(dbgfs, overwrite_torn, 120)
{
	char want[NR_MSGS][512], *text, *p, *nl;
	unsigned char msg[KT_REC_HDR + NR_MSGS];
	int nr = kt_nr_cpus(), i, reads, status, bad = 0;
	long long lines = 0;
	volatile int *stop;
	uint64_t until;
	pid_t *pids;

	for (i = 0; i < NR_MSGS; i++) {
		make_msg(msg, self->log, i);
		escape(want[i], msg, KT_REC_HDR + i);
	}
	ASSERT_RET(0, kt_config(self->fd, KTRACER_CONFIG_MODE |
				KTRACER_CONFIG_BUFFER_SIZE,
				KTRACER_MODE_OVERWRITE, KTRACER_BUFFER_MIN));
	stop = mmap(NULL, sizeof(*stop), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, stop);
	*stop = 0;
	pids = calloc(nr, sizeof(*pids));
	ASSERT_NE(NULL, pids);
	for (i = 0; i < nr; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (pids[i] == 0)
			hammer(self->fd, self->log, i, stop);
	}

	/*
	 * A slow machine (an emulated CPU the writers share with us) reads
	 * fewer times, within the harness's time, rather than time out.
	 */
	until = kt_now() + READS_NS;
	for (reads = 0; reads < READS && bad < 5 &&
	     (reads < 10 || kt_now() < until); reads++) {
		text = kt_read_file(KT_DEBUGFS "/trace", NULL);
		if (!text) {
			TH_LOG("read %d: %s", reads, strerror(errno));
			bad++;
			continue;
		}
		for (p = text; (nl = strchr(p, '\n')); p = nl + 1) {
			*nl = '\0';
			if (*p == '#')
				continue;
			lines++;
			if (check_line(p, want, pids, nr)) {
				TH_LOG("read %d: not a record written: '%s'",
				       reads, p);
				bad++;
			}
		}
		EXPECT_EQ('\0', *p) TH_LOG("a line without its end: '%s'", p);
		free(text);
	}

	*stop = 1;
	for (i = 0; i < nr; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		EXPECT_EQ(0, status) TH_LOG("writer %d: %#x", i, status);
	}
	free(pids);
	munmap((void *)stop, sizeof(*stop));
	EXPECT_EQ(0, bad);
	EXPECT_LT(0, lines);
	TH_LOG("%d reads, %lld lines", reads, lines);
}

/* MemAvailable in KiB; -1 if not found. */
static long long mem_available(void)
{
	char *text = kt_read_file("/proc/meminfo", NULL), *p;
	long long kb = -1;

	if (!text)
		return -1;
	p = strstr(text, "MemAvailable:");
	if (p)
		kb = strtoll(p + strlen("MemAvailable:"), NULL, 10);
	free(text);
	return kb;
}

/*
 * Large buffers: opening "trace" HOLD_FILES times, each read a little,
 * takes nowhere near one buffer's memory.
 */
TEST_F(dbgfs, trace_memory_bounded)
{
	unsigned char msg[KTRACER_LOG_MAX];
	int fds[HOLD_FILES], i;
	long long before, after;
	uint64_t size;
	char buf[256];

	/*
	 * The largest buffers that leave the VM room (the debug kernel's
	 * has less): a copy of them per file would be far over the bound.
	 */
	size = KTRACER_BUFFER_MAX;
	while (size > 4 * HOLD_MAX_KB * 1024ULL &&
	       (size >> 10) * kt_nr_cpus() * 4 > (uint64_t)mem_available())
		size /= 2;
	ASSERT_RET(0, kt_config(self->fd, KTRACER_CONFIG_BUFFER_SIZE, 0, size));
	memset(msg, 'm', sizeof(msg));
	for (i = 0; i < 1000; i++)
		ASSERT_RET(0, kt_log(self->fd, self->log, msg, sizeof(msg)));

	before = mem_available();
	ASSERT_LT(0, before);
	for (i = 0; i < HOLD_FILES; i++) {
		fds[i] = open(KT_DEBUGFS "/trace", O_RDONLY);
		ASSERT_LE(0, fds[i]) TH_LOG("open %d: %s", i, strerror(errno));
		ASSERT_LT(0, read(fds[i], buf, sizeof(buf)));
	}
	after = mem_available();
	for (i = 0; i < HOLD_FILES; i++)
		close(fds[i]);
	TH_LOG("%llu KiB per CPU; MemAvailable %lld KiB before, %lld KiB with %d files open",
	       (unsigned long long)size >> 10, before, after, HOLD_FILES);
	EXPECT_GT(HOLD_MAX_KB, before - after);
}

/* A control's word is trimmed: "  overwrite\n" is overwrite. */
TEST_F(dbgfs, control_word_trimmed)
{
	char buf[32];

	ASSERT_RET(0, kt_write_text(KT_DEBUGFS "/mode", "  overwrite\n"));
	ASSERT_RET(0, kt_read_text(KT_DEBUGFS "/mode", buf, sizeof(buf)));
	EXPECT_STREQ("overwrite", buf);
	ASSERT_RET(0, kt_write_text(KT_DEBUGFS "/mode", "\tdiscard \n"));
	ASSERT_RET(0, kt_read_text(KT_DEBUGFS "/mode", buf, sizeof(buf)));
	EXPECT_STREQ("discard", buf);
	ASSERT_RET(0, kt_write_text(KT_DEBUGFS "/enable", " 0 \n"));
	ASSERT_RET(0, kt_read_text(KT_DEBUGFS "/enable", buf, sizeof(buf)));
	EXPECT_STREQ("0", buf);
	ASSERT_RET(0, kt_write_text(KT_DEBUGFS "/buffer_size_kb", " 64\n"));
	ASSERT_RET(0, kt_read_text(KT_DEBUGFS "/buffer_size_kb", buf,
				   sizeof(buf)));
	EXPECT_STREQ("64", buf);
	ASSERT_RET(-EINVAL, kt_write_text(KT_DEBUGFS "/mode", "over write"));
}

static const struct { const char *name; int flags; } files[] = {
	{ "trace", O_RDONLY }, { "stats", O_RDONLY }, { "events", O_RDONLY },
	{ "enable", O_RDWR }, { "mode", O_RDWR }, { "buffer_size_kb", O_RDWR },
	{ "reset", O_WRONLY }, { "kevents", O_RDWR },
};

/*
 * While a debugfs file is open the module is in use: delete_module()
 * fails with EWOULDBLOCK and the file still works. All closed, it
 * unloads, and loads again.
 */
TEST(unload_with_debugfs_open)
{
	char path[128], buf[64];
	size_t i;
	int fd;

	ASSERT_TRUE(kt_module_loaded());
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), KT_DEBUGFS "/%s", files[i].name);
		fd = open(path, files[i].flags);
		ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
		EXPECT_EQ(-EWOULDBLOCK, kt_module_unload())
			TH_LOG("%s open: %s", files[i].name, strerror(errno));
		if (!kt_module_loaded()) {
			/* Closing it now could crash: leave it open. */
			TH_LOG("unloaded with %s open", files[i].name);
			break;
		}
		if (files[i].flags != O_WRONLY)
			EXPECT_LE(0, read(fd, buf, sizeof(buf)))
				TH_LOG("%s: %s", files[i].name, strerror(errno));
		close(fd);
	}
	if (kt_module_loaded())
		ASSERT_RET(0, kt_module_unload());
	ASSERT_RET(0, kt_module_load());
	EXPECT_EQ(0, access(KT_DEBUGFS "/trace", F_OK));
}

TEST_HARNESS_MAIN
