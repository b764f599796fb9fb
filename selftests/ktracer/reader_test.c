// SPDX-License-Identifier: GPL-2.0
/*
 * ktracer-read against the real module: the static reader built from
 * user/read (/selftests/ktracer-read, next to this test) runs while a
 * writer records spans, and
 *  - stopped by SIGINT or SIGTERM, exits 0 and leaves one valid JSON
 *    text (RFC 8259, kt_json.h) holding every span the writer made;
 *  - keeps the module loaded: delete_module() fails with EWOULDBLOCK
 *    (EAGAIN) while it has the device open, and the reader goes on;
 *  - on a full disk (a 64 KiB tmpfs) exits 1 naming the file and the
 *    cause, and the file is valid JSON, cut at its last whole event;
 *  - writing to a pipe nobody reads exits 1 with "Broken pipe", killed
 *    by no signal;
 *  - sending StatsD to a port nobody listens on (ECONNREFUSED) says so
 *    once, counts, and ends the trace as usual: exit 0 (skipped on a
 *    kernel without networking).
 */

#define _GNU_SOURCE
#include <libgen.h>
#include <net/if.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "kt_json.h"
#include "kt_test.h"

#define RD_OUT		"/tmp/reader.json"
#define RD_ERR		"/tmp/reader.err"
#define RD_FULL		"/tmp/reader-full"

static char rd_bin[4096];

/*
 * Start the reader with @args (NULL-terminated), its stdout the write end
 * of @pipe_fds if not NULL; this process keeps neither end.
 */
static pid_t rd_start(const char *const *args, const int *pipe_fds)
{
	const char *argv[16] = { "ktracer-read" };
	unsigned int i;
	pid_t pid;
	int err;

	for (i = 0; args[i] && i < 14; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	if (!rd_bin[0]) {
		ssize_t n = readlink("/proc/self/exe", rd_bin,
				     sizeof(rd_bin) - 1);

		if (n < 0)
			return -1;
		rd_bin[n] = '\0';
		snprintf(rd_bin, sizeof(rd_bin), "%s/ktracer-read",
			 dirname(strdup(rd_bin)));
	}
	pid = fork();
	if (pid) {
		if (pipe_fds) {
			close(pipe_fds[0]);	/* nobody reads */
			close(pipe_fds[1]);
		}
		return pid;
	}
	err = open(RD_ERR, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(err, 2);
	if (pipe_fds) {
		dup2(pipe_fds[1], 1);
		close(pipe_fds[0]);
	}
	execv(rd_bin, (char *const *)argv);
	_exit(127);
}

/* Wait until the reader has its buffers mapped: it says so in nothing,
 * so give it the time a TCG guest needs. */
static void rd_settle(void)
{
	usleep(700 * 1000);
}

/* @n spans of "rd.span" from a file of this process; 0, or -errno. */
static int rd_write(unsigned int n)
{
	int fd = kt_open(), ret = 0;
	uint32_t id;
	unsigned int i;

	if (fd < 0)
		return fd;
	id = kt_register_id(fd, KTRACER_KIND_SPAN, 1, "rd.span");
	if (!id)
		ret = -EINVAL;
	for (i = 0; !ret && i < n; i++) {
		ret = kt_op(fd, KTRACER_OP_START, id, 0, i);
		if (!ret)
			ret = kt_op(fd, KTRACER_OP_STOP, id, 0, i);
	}
	close(fd);
	return ret;
}

/*
 * Start the reader, let it map the buffers, write @n spans, give it
 * @wait_ms to read them: its pid, or -1.
 */
static pid_t rd_run(const char *const *args, const int *pipe_fds,
		    unsigned int n, unsigned int wait_ms)
{
	pid_t pid = rd_start(args, pipe_fds);

	if (pid < 0)
		return -1;
	rd_settle();
	if (rd_write(n)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	usleep(wait_ms * 1000);
	return pid;
}

/* Stop @pid with @sig: its wait status. */
static int rd_stop(pid_t pid, int sig)
{
	int st = -1;

	kill(pid, sig);
	waitpid(pid, &st, 0);
	return st;
}

/* The reader stopped by @sig exited with @code. */
#define ASSERT_STOPS(pid, sig, code) do {				\
	int __st = rd_stop(pid, sig);					\
	ASSERT_TRUE(WIFEXITED(__st)) TH_LOG("status %#x", __st);	\
	ASSERT_EQ(code, WEXITSTATUS(__st));				\
} while (0)

/* The reader's stderr, read into @err, holds @n times @needle. */
#define ASSERT_STDERR(err, needle, n) do {				\
	size_t __len;							\
	err = kt_read_file(RD_ERR, &__len);				\
	ASSERT_NE(NULL, err);						\
	ASSERT_EQ((size_t)(n), kt_count(err, needle))			\
		TH_LOG("stderr: %s", err);				\
} while (0)

/* @path holds one valid JSON text with @spans spans at least: its text. */
#define ASSERT_TRACE(path, spans, doc) do {				\
	size_t __len = 0, __off = 0;					\
	const char *__why = NULL;					\
	doc = kt_read_file(path, &__len);				\
	ASSERT_NE(NULL, doc) TH_LOG("%s: cannot read", path);		\
	ASSERT_TRUE(kt_json_check(doc, __len, &__off, &__why))		\
		TH_LOG("%s: not JSON at byte %zu of %zu: %s", path,	\
		       __off, __len, __why);				\
	ASSERT_LE((size_t)(spans), kt_count(doc, "\"name\":\"rd.span\""))	\
		TH_LOG("%s: %zu spans, want %u", path,			\
		       kt_count(doc, "\"name\":\"rd.span\""), (spans));	\
} while (0)

static void rd_signal(struct __test_metadata *_metadata, int sig)
{
	const char *args[] = { "-q", "-o", RD_OUT, NULL };
	char *doc;
	pid_t pid;

	pid = rd_run(args, NULL, 300, 300);
	ASSERT_LT(0, pid);
	ASSERT_STOPS(pid, sig, 0);
	ASSERT_TRACE(RD_OUT, 300u, doc);
	free(doc);
}

TEST(sigint)
{
	rd_signal(_metadata, SIGINT);
}

TEST(sigterm)
{
	rd_signal(_metadata, SIGTERM);
}

/*
 * The reader holds /dev/ktracer open: the module cannot go. Linux 6.1's
 * delete_module() fails at once with EWOULDBLOCK (== EAGAIN) when the
 * module is in use (busybox rmmod passes O_NONBLOCK; without it the
 * answer is the same).
 */
TEST(unload_while_reading)
{
	const char *args[] = { "-q", "-o", RD_OUT, NULL };
	char *doc;
	pid_t pid;

	pid = rd_run(args, NULL, 100, 0);
	ASSERT_LT(0, pid);
	ASSERT_ERRNO(EWOULDBLOCK, syscall(SYS_delete_module, "ktracer",
					  O_NONBLOCK));
	ASSERT_ERRNO(EWOULDBLOCK, syscall(SYS_delete_module, "ktracer", 0));
	ASSERT_EQ(0, access(KTRACER_DEVICE, F_OK));
	ASSERT_RET(0, rd_write(100));
	usleep(300 * 1000);
	ASSERT_STOPS(pid, SIGINT, 0);
	ASSERT_TRACE(RD_OUT, 200u, doc);
	free(doc);
}

TEST(disk_full)
{
	const char *args[] = { "-q", "-o", RD_FULL "/trace.json", NULL };
	char *doc, *err;
	pid_t pid;

	mkdir(RD_FULL, 0755);
	ASSERT_EQ(0, mount("tmpfs", RD_FULL, "tmpfs", 0, "size=64k"));
	pid = rd_run(args, NULL, 2000, 500);	/* about 300 KB of JSON */
	ASSERT_LT(0, pid);
	ASSERT_STOPS(pid, SIGINT, 1);
	ASSERT_STDERR(err, "writing " RD_FULL "/trace.json: No space left on device", 1);
	free(err);
	ASSERT_STDERR(err, "cut at its last whole event", 1);
	free(err);
	ASSERT_TRACE(RD_FULL "/trace.json", 100u, doc);
	free(doc);
	umount(RD_FULL);
}

TEST(broken_pipe)
{
	const char *args[] = { "-q", "-o", "-", NULL };
	char *err;
	int fds[2];
	pid_t pid;

	ASSERT_EQ(0, pipe(fds));
	pid = rd_run(args, fds, 50, 200);
	ASSERT_LT(0, pid);
	ASSERT_STOPS(pid, SIGINT, 1);
	ASSERT_STDERR(err, "writing stdout: Broken pipe", 1);
	free(err);
}

/* The loopback interface up (the VM's /init leaves it down). */
static int rd_lo_up(void)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM, 0), ret = 0;

	if (s < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr))
		ret = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!ret && ioctl(s, SIOCSIFFLAGS, &ifr))
		ret = -errno;
	close(s);
	return ret;
}

TEST(statsd_refused)
{
	const char *args[] = { "-o", RD_OUT, "--statsd", "127.0.0.1:9",
			       "--statsd-interval", "0.1", NULL };
	char *doc, *err;
	pid_t pid;
	int st;

	st = rd_lo_up();
	if (st == -ENOSYS || st == -EAFNOSUPPORT)
		SKIP(return, "this kernel has no networking (the debug kernel)");
	ASSERT_EQ(0, st) TH_LOG("lo up: %s", strerror(-st));
	pid = rd_run(args, NULL, 100, 800);	/* several sends, refused */
	ASSERT_LT(0, pid);
	ASSERT_RET(0, rd_write(100));
	usleep(300 * 1000);
	ASSERT_STOPS(pid, SIGINT, 0);
	ASSERT_STDERR(err, "not sent: Connection refused", 1);
	ASSERT_NE(NULL, strstr(err, "datagrams to 127.0.0.1:9 ("))
		TH_LOG("stderr: %s", err);
	ASSERT_EQ(0, kt_count(err, "datagrams to 127.0.0.1:9 (0 not sent)"))
		TH_LOG("stderr: %s", err);
	free(err);
	ASSERT_TRACE(RD_OUT, 200u, doc);
	free(doc);
}

TEST_HARNESS_MAIN
