/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by ktracer's kselftests.
 */
#ifndef KT_TEST_H
#define KT_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include <linux/ktracer.h>

#define KT_DEBUGFS "/sys/kernel/debug/ktracer"

/* Assert that @call fails with exactly @err. */
#define ASSERT_ERRNO(err, call) do {					\
	errno = 0;							\
	ASSERT_EQ(-1, (call));						\
	ASSERT_EQ((err), errno) TH_LOG("%s: want %s, got %s", #call,	\
				       strerror(err), strerror(errno));	\
} while (0)

/* Read a small text file into @buf, without the trailing newline. */
static inline int kt_read_text(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

/* Drop to an unprivileged uid/gid for the rest of this (forked) test. */
static inline int kt_drop_privileges(void)
{
	if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
	    setresuid(65534, 65534, 65534))
		return -errno;
	return 0;
}

#endif /* KT_TEST_H */
