// SPDX-License-Identifier: GPL-2.0
/*
 * `ktracer record` against the real module: the static binary built from
 * user/read (/selftests/ktracer, next to this test)
 *  - records a command that forks a child which execs and makes system
 *    calls: the trace (valid JSON) has the parent's system calls and
 *    scheduler slices under its comm, and the child's too when the module
 *    follows a process tree (ABI 2.3; before, it says it cannot);
 *  - exits with the command's status: 3 for exit 3, 137 for SIGKILL,
 *    127 for a missing command, 126 for a file it cannot execute;
 *  - refuses a second recording while one runs, naming its pid;
 *  - puts back the mode, buffer size, enable, sources and pid filter;
 *  - refuses an unprivileged user (naming CAP_PERFMON), a missing module
 *    and a source this kernel does not have;
 *  - stops after -d, and attaches to a running process with -p.
 */

#define _GNU_SOURCE
#include <libgen.h>
#include <signal.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "kt_json.h"
#include "kt_test.h"

#define REC_OUT		"/tmp/record.json"
#define REC_ERR		"/tmp/record.err"
#define REC_PIDS	"/tmp/record.pids"

static char rec_bin[4096];

/* Start `ktracer CMD ARGS...` (NULL-terminated), stderr to REC_ERR. */
static pid_t rec_start_cmd(const char *cmd, const char *const *args,
			   bool unprivileged)
{
	const char *argv[24] = { "ktracer", cmd };
	unsigned int i;
	pid_t pid;
	int fd;

	for (i = 0; args[i] && i < 20; i++)
		argv[i + 2] = args[i];
	argv[i + 2] = NULL;
	if (!rec_bin[0]) {
		ssize_t n = readlink("/proc/self/exe", rec_bin,
				     sizeof(rec_bin) - 1);

		if (n < 0)
			return -1;
		rec_bin[n] = '\0';
		snprintf(rec_bin, sizeof(rec_bin), "%s/ktracer",
			 dirname(strdup(rec_bin)));
	}
	pid = fork();
	if (pid)
		return pid;
	fd = open(REC_ERR, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	dup2(fd, 2);
	if (unprivileged && (kt_drop_privileges() || geteuid() == 0))
		_exit(100);
	execv(rec_bin, (char *const *)argv);
	_exit(99);
}

/* The same for `ktracer record ARGS...`. */
static pid_t rec_start(const char *const *args, bool unprivileged)
{
	return rec_start_cmd("record", args, unprivileged);
}

/* Its exit status, as a shell shows it (128 + N: killed by N). */
static int rec_wait(pid_t pid)
{
	int st;

	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int rec_run(const char *const *args)
{
	return rec_wait(rec_start(args, false));
}

/* The recorder's stderr holds @needle. */
#define ASSERT_SAID(needle) do {					\
	char *__err = kt_read_file(REC_ERR, NULL);			\
	ASSERT_NE(NULL, __err);						\
	ASSERT_NE(NULL, strstr(__err, needle))				\
		TH_LOG("want '%s' in: %s", needle, __err);		\
	free(__err);							\
} while (0)

/* REC_OUT is one valid JSON text: into @doc. */
#define ASSERT_JSON(doc) do {						\
	size_t __len = 0, __off = 0;					\
	const char *__why = NULL;					\
	doc = kt_read_file(REC_OUT, &__len);				\
	ASSERT_NE(NULL, doc);						\
	ASSERT_TRUE(kt_json_check(doc, __len, &__off, &__why))		\
		TH_LOG("not JSON at byte %zu of %zu: %s", __off, __len,	\
		       __why);						\
} while (0)

/* Events of category @cat of process @pid in @doc. */
static size_t rec_events(const char *doc, int pid, const char *cat)
{
	char needle[64];
	const char *p = doc;
	size_t n = 0;

	snprintf(needle, sizeof(needle), "\"pid\":%d,", pid);
	while ((p = strstr(p, needle))) {
		const char *end = strchr(p, '\n');
		const char *c = strstr(p, cat);

		if (c && (!end || c < end))
			n++;
		p += strlen(needle);
	}
	return n;
}

static uint32_t rec_module_minor(void)
{
	struct ktracer_version v = { .size = sizeof(v) };
	int fd = kt_open();

	if (fd < 0 || ioctl(fd, KTRACER_IOC_VERSION, &v))
		v.minor = 0;
	if (fd >= 0)
		close(fd);
	return v.minor;
}

/*
 * sh (comm "sh") writes its pid, starts busybox (comm "busybox") which
 * writes its own and reads a file, then exits 3.
 */
TEST(command_tree)
{
	const char *args[] = {
		"-o", REC_OUT, "--", "/bin/sh", "-c",
		"echo $$ > " REC_PIDS "; /bin/busybox sh -c 'echo $$ >> "
		REC_PIDS "; cat /proc/version > /dev/null'; exit 3", NULL };
	int parent = 0, child = 0;
	char *doc;
	FILE *f;

	unlink(REC_PIDS);
	ASSERT_EQ(3, rec_run(args));
	f = fopen(REC_PIDS, "r");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(2, fscanf(f, "%d %d", &parent, &child));
	fclose(f);
	ASSERT_JSON(doc);
	ASSERT_LT(0u, rec_events(doc, parent, "\"cat\":\"syscall\""))
		TH_LOG("no syscall of the command (pid %d)", parent);
	ASSERT_LT(0u, rec_events(doc, parent, "\"cat\":\"sched\""));
	ASSERT_LT(0u, rec_events(doc, parent, "\"args\":{\"name\":\"sh\"}"));
	if (rec_module_minor() >= 3) {
		ASSERT_LT(0u, rec_events(doc, child, "\"cat\":\"syscall\""))
			TH_LOG("no syscall of the child (pid %d)", child);
		ASSERT_LT(0u, rec_events(doc, child, "\"cat\":\"sched\""));
		ASSERT_LT(0u, rec_events(doc, child,
					 "\"args\":{\"name\":\"busybox\"}"));
	} else {
		ASSERT_EQ(0u, rec_events(doc, child, "\"cat\":\"syscall\""));
		ASSERT_SAID("cannot follow the processes a command starts");
	}
	/* exit_group ends at the task's exit: not open at the end */
	ASSERT_EQ(0u, kt_count(doc, "\"name\":\"exit_group\",\"cat\":\"syscall\",\"args\":{\"nr\":231,\"open\":true}"));
	free(doc);
}

TEST(killed_by_signal)
{
	const char *args[] = { "-q", "-o", REC_OUT, "--", "/bin/sh", "-c",
			       "kill -KILL $$", NULL };
	char *doc;

	ASSERT_EQ(137, rec_run(args));
	ASSERT_JSON(doc);
	free(doc);
}

TEST(command_not_found)
{
	const char *args[] = { "-q", "-o", REC_OUT, "--", "/no/such/cmd",
			       NULL };

	ASSERT_EQ(127, rec_run(args));
	ASSERT_SAID("ktracer record: cannot run '/no/such/cmd': No such file or directory");
}

TEST(command_not_executable)
{
	const char *args[] = { "-q", "-o", REC_OUT, "--", "/tmp/record-noexec",
			       NULL };
	int fd = open("/tmp/record-noexec", O_WRONLY | O_CREAT | O_TRUNC,
		      0644);

	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(126, rec_run(args));
	ASSERT_SAID("ktracer record: cannot run '/tmp/record-noexec': Permission denied");
}

/* Whether the kernel has file locks: without, F_GETLK is EINVAL. */
static bool rec_file_locks(void)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd = kt_open();
	bool ok = fd >= 0 && !fcntl(fd, F_GETLK, &fl);

	if (fd >= 0)
		close(fd);
	return ok;
}

/* Whether a process holds the recording lock on the device. */
static pid_t rec_lock_holder(void)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd = kt_open();
	pid_t p = 0;

	if (fd >= 0 && !fcntl(fd, F_GETLK, &fl) && fl.l_type != F_UNLCK)
		p = fl.l_pid;
	if (fd >= 0)
		close(fd);
	return p;
}

TEST(second_recording_refused)
{
	const char *first[] = { "-q", "-o", REC_OUT, "-d", "30", NULL };
	const char *second[] = { "-q", "-o", "/tmp/record2.json", "-d", "1",
				 NULL };
	char want[96];
	pid_t pid, holder = 0;
	int i;

	if (!rec_file_locks())
		SKIP(return, "this kernel has no file locks (CONFIG_FILE_LOCKING)");
	pid = rec_start(first, false);
	ASSERT_LT(0, pid);
	for (i = 0; i < 200 && holder != pid; i++) {
		usleep(50 * 1000);
		holder = rec_lock_holder();
	}
	ASSERT_EQ(pid, holder);
	ASSERT_EQ(1, rec_run(second));
	snprintf(want, sizeof(want),
		 "ktracer record: another recording is running (pid %d)", pid);
	ASSERT_SAID(want);
	/* Nor may a reader take a part of the records meanwhile. */
	ASSERT_EQ(1, rec_wait(rec_start_cmd("read", second, false)));
	snprintf(want, sizeof(want),
		 "ktracer-read: another recording is running (pid %d)", pid);
	ASSERT_SAID(want);
	kill(pid, SIGINT);
	ASSERT_EQ(0, rec_wait(pid));
}

struct rec_settings {
	uint32_t mode, enabled, sources;
	uint64_t size;
	struct kt_kevents_file kev;
};

static int rec_settings(int fd, struct rec_settings *s)
{
	const struct ktracer_state *st = kt_map_state(fd);
	struct ktracer_kevents k;
	int ret;

	if (st == MAP_FAILED)
		return -errno;
	s->mode = st->mode;
	s->enabled = st->enabled;
	s->size = st->data_size;
	kt_unmap_state(st);
	ret = kt_kevents(fd, 0, 0, NULL, 0, &k);
	s->sources = k.sources;
	return ret ? ret : kt_kevents_read(&s->kev);
}

TEST(settings_restored)
{
	const char *args[] = { "-q", "-o", REC_OUT, "-m", "discard", "-b",
			       "64K", "-e", "sched,task,syscall", "--",
			       "/bin/true", NULL };
	struct rec_settings before, after;
	int32_t self = getpid();
	int fd = kt_open();

	ASSERT_LE(0, fd);
	ASSERT_RET(0, kt_config(fd, KTRACER_CONFIG_MODE |
				KTRACER_CONFIG_BUFFER_SIZE,
				KTRACER_MODE_OVERWRITE, 32 << 10));
	ASSERT_RET(0, kt_set_enable(fd, 0));
	ASSERT_RET(0, kt_kevents(fd, KTRACER_KEVENTS_SOURCES |
				 KTRACER_KEVENTS_PIDS, KTRACER_SRC_SCHED |
				 KTRACER_SRC_SYSCALL, &self, 1, NULL));
	ASSERT_RET(0, rec_settings(fd, &before));
	ASSERT_EQ(0, rec_run(args));
	ASSERT_RET(0, rec_settings(fd, &after));
	EXPECT_EQ(KTRACER_MODE_OVERWRITE, after.mode);
	EXPECT_EQ(32u << 10, after.size);
	EXPECT_EQ(0u, after.enabled);
	EXPECT_EQ(before.sources, after.sources);
	EXPECT_EQ(before.kev.on, after.kev.on);
	EXPECT_EQ(1, after.kev.npids);
	EXPECT_EQ(self, after.kev.pids[0]);
	ASSERT_RET(0, kt_close_restored(fd));
}

TEST(unprivileged)
{
	const char *args[] = { "-q", "-o", "/tmp/record-nobody.json", "--",
			       "/bin/true", NULL };

	ASSERT_EQ(1, rec_wait(rec_start(args, true)));
	ASSERT_SAID("CAP_PERFMON");
}

TEST(no_module)
{
	const char *args[] = { "-q", "-o", REC_OUT, "--", "/bin/true", NULL };

	ASSERT_RET(0, kt_module_unload());
	EXPECT_EQ(1, rec_run(args));
	ASSERT_RET(0, kt_module_load());
	ASSERT_SAID("ktracer record: /dev/ktracer: No such file or directory: is ktracer.ko loaded?");
}

TEST(source_unavailable)
{
	const char *names[] = { "sched", "task", "irq", "softirq", "syscall",
				"block" };
	const char *args[] = { "-q", "-o", REC_OUT, "-e", NULL, "--",
			       "/bin/true", NULL };
	struct ktracer_kevents k;
	char want[96];
	int fd = kt_open(), i;

	ASSERT_LE(0, fd);
	ASSERT_RET(0, kt_kevents(fd, 0, 0, NULL, 0, &k));
	close(fd);
	for (i = 0; i < 6 && (k.available & (1u << i)); i++)
		;
	if (i == 6)
		SKIP(return, "this kernel has every source");
	args[4] = names[i];
	ASSERT_EQ(1, rec_run(args));
	snprintf(want, sizeof(want),
		 "ktracer record: source '%s' is not available on this kernel",
		 names[i]);
	ASSERT_SAID(want);
}

TEST(duration)
{
	const char *args[] = { "-q", "-o", REC_OUT, "-d", "1", NULL };
	uint64_t t0 = kt_now(), dt;
	char *doc;

	ASSERT_EQ(0, rec_run(args));
	dt = kt_now() - t0;
	ASSERT_LE(KT_NSEC_PER_SEC, dt);
	ASSERT_GT(60 * KT_NSEC_PER_SEC, dt);
	ASSERT_JSON(doc);
	ASSERT_LT(0u, kt_count(doc, "\"cat\":\"sched\""));
	free(doc);
}

TEST(attach_pid)
{
	const char *args[] = { "-q", "-o", REC_OUT, "-d", "1", "-p", NULL,
			       NULL };
	char pidarg[16];
	char *doc;
	pid_t worker = fork();

	ASSERT_LE(0, worker);
	if (!worker) {
		for (;;) {
			getppid();
			usleep(1000);
		}
	}
	snprintf(pidarg, sizeof(pidarg), "%d", worker);
	args[6] = pidarg;
	EXPECT_EQ(0, rec_run(args));
	kill(worker, SIGKILL);
	waitpid(worker, NULL, 0);
	ASSERT_JSON(doc);
	ASSERT_LT(0u, rec_events(doc, worker, "\"name\":\"getppid\""))
		TH_LOG("no getppid of pid %d", worker);
	free(doc);
}

TEST_HARNESS_MAIN
