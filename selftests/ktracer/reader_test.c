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
 * Start the reader with @args (NULL-terminated) and stdout on @out_fd;
 * @close_fd (if >= 0) is closed in the reader.
 */
static pid_t rd_start(const char *const *args, int out_fd, int close_fd)
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
	if (pid)
		return pid;
	err = open(RD_ERR, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(err, 2);
	if (out_fd >= 0)
		dup2(out_fd, 1);
	if (close_fd >= 0)
		close(close_fd);
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

static size_t rd_count(const char *hay, const char *needle)
{
	size_t n = 0, l = strlen(needle);

	while ((hay = strstr(hay, needle))) {
		n++;
		hay += l;
	}
	return n;
}

/* Stop @pid with @sig: its wait status. */
static int rd_stop(pid_t pid, int sig)
{
	int st = -1;

	kill(pid, sig);
	waitpid(pid, &st, 0);
	return st;
}

/* @path holds one valid JSON text with @spans spans at least: its text. */
#define ASSERT_TRACE(path, spans, doc) do {				\
	size_t __len = 0, __off = 0;					\
	const char *__why = NULL;					\
	doc = kt_read_file(path, &__len);				\
	ASSERT_NE(NULL, doc) TH_LOG("%s: cannot read", path);		\
	ASSERT_TRUE(kt_json_check(doc, __len, &__off, &__why))		\
		TH_LOG("%s: not JSON at byte %zu of %zu: %s", path,	\
		       __off, __len, __why);				\
	ASSERT_LE((size_t)(spans), rd_count(doc, "\"name\":\"rd.span\""))	\
		TH_LOG("%s: %zu spans, want %u", path,			\
		       rd_count(doc, "\"name\":\"rd.span\""), (spans));	\
} while (0)

static void rd_signal(struct __test_metadata *_metadata, int sig)
{
	const char *args[] = { "-q", "-o", RD_OUT, NULL };
	char *doc;
	pid_t pid;
	int st;

	pid = rd_start(args, -1, -1);
	ASSERT_LT(0, pid);
	rd_settle();
	ASSERT_RET(0, rd_write(300));
	usleep(300 * 1000);
	st = rd_stop(pid, sig);
	ASSERT_TRUE(WIFEXITED(st)) TH_LOG("status %#x", st);
	ASSERT_EQ(0, WEXITSTATUS(st));
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
	int st;

	pid = rd_start(args, -1, -1);
	ASSERT_LT(0, pid);
	rd_settle();
	ASSERT_RET(0, rd_write(100));
	ASSERT_ERRNO(EWOULDBLOCK, syscall(SYS_delete_module, "ktracer",
					  O_NONBLOCK));
	ASSERT_ERRNO(EWOULDBLOCK, syscall(SYS_delete_module, "ktracer", 0));
	ASSERT_EQ(0, access(KTRACER_DEVICE, F_OK));
	ASSERT_RET(0, rd_write(100));
	usleep(300 * 1000);
	st = rd_stop(pid, SIGINT);
	ASSERT_TRUE(WIFEXITED(st)) TH_LOG("status %#x", st);
	ASSERT_EQ(0, WEXITSTATUS(st));
	ASSERT_TRACE(RD_OUT, 200u, doc);
	free(doc);
}

TEST(disk_full)
{
	const char *args[] = { "-q", "-o", RD_FULL "/trace.json", NULL };
	char *doc, *err;
	size_t len;
	pid_t pid;
	int st;

	mkdir(RD_FULL, 0755);
	ASSERT_EQ(0, mount("tmpfs", RD_FULL, "tmpfs", 0, "size=64k"));
	pid = rd_start(args, -1, -1);
	ASSERT_LT(0, pid);
	rd_settle();
	ASSERT_RET(0, rd_write(2000));	/* about 300 KB of JSON */
	usleep(500 * 1000);
	st = rd_stop(pid, SIGINT);
	ASSERT_TRUE(WIFEXITED(st)) TH_LOG("status %#x", st);
	ASSERT_EQ(1, WEXITSTATUS(st));
	err = kt_read_file(RD_ERR, &len);
	ASSERT_NE(NULL, err);
	ASSERT_NE(NULL, strstr(err, "writing " RD_FULL "/trace.json: No space left on device"))
		TH_LOG("stderr: %s", err);
	ASSERT_NE(NULL, strstr(err, "cut at its last whole event"))
		TH_LOG("stderr: %s", err);
	free(err);
	ASSERT_TRACE(RD_FULL "/trace.json", 100u, doc);
	free(doc);
	umount(RD_FULL);
}

TEST(broken_pipe)
{
	const char *args[] = { "-q", "-o", "-", NULL };
	char *err;
	size_t len;
	int fds[2], st;
	pid_t pid;

	ASSERT_EQ(0, pipe(fds));
	pid = rd_start(args, fds[1], fds[0]);
	ASSERT_LT(0, pid);
	close(fds[1]);
	close(fds[0]);		/* nobody reads */
	rd_settle();
	ASSERT_RET(0, rd_write(50));
	usleep(200 * 1000);
	st = rd_stop(pid, SIGINT);
	ASSERT_TRUE(WIFEXITED(st)) TH_LOG("status %#x", st);
	ASSERT_EQ(1, WEXITSTATUS(st));
	err = kt_read_file(RD_ERR, &len);
	ASSERT_NE(NULL, err);
	ASSERT_NE(NULL, strstr(err, "writing stdout: Broken pipe"))
		TH_LOG("stderr: %s", err);
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
	size_t len;
	pid_t pid;
	int st;

	st = rd_lo_up();
	if (st == -ENOSYS || st == -EAFNOSUPPORT)
		SKIP(return, "this kernel has no networking (the debug kernel)");
	ASSERT_EQ(0, st) TH_LOG("lo up: %s", strerror(-st));
	pid = rd_start(args, -1, -1);
	ASSERT_LT(0, pid);
	rd_settle();
	ASSERT_RET(0, rd_write(100));
	usleep(800 * 1000);	/* several sends, refused */
	ASSERT_RET(0, rd_write(100));
	usleep(300 * 1000);
	st = rd_stop(pid, SIGINT);
	ASSERT_TRUE(WIFEXITED(st)) TH_LOG("status %#x", st);
	ASSERT_EQ(0, WEXITSTATUS(st));
	err = kt_read_file(RD_ERR, &len);
	ASSERT_NE(NULL, err);
	ASSERT_EQ(1, rd_count(err, "not sent: Connection refused"))
		TH_LOG("stderr: %s", err);
	ASSERT_NE(NULL, strstr(err, "datagrams to 127.0.0.1:9 ("))
		TH_LOG("stderr: %s", err);
	ASSERT_EQ(0, rd_count(err, "datagrams to 127.0.0.1:9 (0 not sent)"))
		TH_LOG("stderr: %s", err);
	free(err);
	ASSERT_TRACE(RD_OUT, 200u, doc);
	free(doc);
}

TEST_HARNESS_MAIN
