// SPDX-License-Identifier: GPL-2.0
/*
 * The device node, KTRACER_IOC_VERSION, KTRACER_IOC_ENABLE and the rules
 * every size-first argument follows (uapi/linux/ktracer.h).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "kselftest_harness.h"
#include "kt_test.h"

FIXTURE(dev) {
	int fd;
};

FIXTURE_SETUP(dev)
{
	self->fd = open(KTRACER_DEVICE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", KTRACER_DEVICE,
				       strerror(errno));
}

FIXTURE_TEARDOWN(dev)
{
	close(self->fd);
}

/* The suite runs against a module loaded with default parameters. */
TEST(device_node)
{
	struct stat st;
	char param[16];

	ASSERT_EQ(0, kt_read_text("/sys/module/ktracer/parameters/dev_mode",
				  param, sizeof(param)));
	EXPECT_STREQ("384", param);	/* 0600 */
	ASSERT_EQ(0, stat(KTRACER_DEVICE, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0600, st.st_mode & 07777);
	EXPECT_EQ(10, major(st.st_rdev));	/* MISC_MAJOR */
	EXPECT_EQ(0, st.st_uid);
	ASSERT_EQ(0, stat(KT_DEBUGFS, &st));
	EXPECT_TRUE(S_ISDIR(st.st_mode));
}

TEST_F(dev, version)
{
	struct ktracer_version v = { .size = sizeof(v) };

	ASSERT_EQ(0, ioctl(self->fd, KTRACER_IOC_VERSION, &v));
	EXPECT_EQ(KTRACER_VERSION_SIZE_VER0, v.size);
	EXPECT_EQ(KTRACER_ABI_MAJOR, v.major);
	EXPECT_EQ(KTRACER_ABI_MINOR, v.minor);
	EXPECT_EQ(0, v.flags);
}

/* A newer caller's larger struct works if its extra bytes are zero. */
TEST_F(dev, version_larger_struct)
{
	struct {
		struct ktracer_version v;
		uint64_t future[2];
	} big;

	memset(&big, 0, sizeof(big));
	big.v.size = sizeof(big);
	ASSERT_EQ(0, ioctl(self->fd, KTRACER_IOC_VERSION, &big));
	EXPECT_EQ(KTRACER_VERSION_SIZE_VER0, big.v.size);
	EXPECT_EQ(KTRACER_ABI_MAJOR, big.v.major);
	EXPECT_EQ(0, big.future[0]);
	EXPECT_EQ(0, big.future[1]);

	memset(&big, 0, sizeof(big));
	big.v.size = sizeof(big);
	big.future[1] = 1;
	ASSERT_ERRNO(E2BIG, ioctl(self->fd, KTRACER_IOC_VERSION, &big));
	EXPECT_EQ(0, big.v.major);	/* nothing written back */
}

TEST_F(dev, wrong_size)
{
	static const uint32_t bad[] = { 0, 4, KTRACER_VERSION_SIZE_VER0 - 1,
					KTRACER_ARG_SIZE_MAX + 1, UINT32_MAX };
	struct ktracer_version v;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&v, 0, sizeof(v));
		v.size = bad[i];
		ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_VERSION, &v));
		EXPECT_EQ(0, v.major);
	}
}

TEST_F(dev, unknown_flags)
{
	struct ktracer_version v = { .size = sizeof(v), .flags = 1 };

	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_VERSION, &v));
	v.flags = 1u << 31;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_VERSION, &v));
	EXPECT_EQ(0, v.major);
}

TEST_F(dev, bad_pointer)
{
	void *unmapped = mmap(NULL, 4096, PROT_NONE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct ktracer_version *ro;

	ASSERT_NE(MAP_FAILED, unmapped);
	ASSERT_ERRNO(EFAULT, ioctl(self->fd, KTRACER_IOC_VERSION, NULL));
	ASSERT_ERRNO(EFAULT, ioctl(self->fd, KTRACER_IOC_VERSION, unmapped));

	/* Readable but not writable: the results cannot be written back. */
	ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	ro->size = sizeof(*ro);
	ASSERT_EQ(0, mprotect(ro, 4096, PROT_READ));
	ASSERT_ERRNO(EFAULT, ioctl(self->fd, KTRACER_IOC_VERSION, ro));
	munmap(ro, 4096);
	munmap(unmapped, 4096);
}

TEST_F(dev, unknown_ioctl)
{
	struct ktracer_version v = { .size = sizeof(v) };
	uint64_t word = 0;

	ASSERT_ERRNO(ENOTTY, ioctl(self->fd, _IO(KTRACER_IOC_MAGIC, 0x7f)));
	/* Known number, other direction or size: another command. */
	ASSERT_ERRNO(ENOTTY, ioctl(self->fd, _IOR(KTRACER_IOC_MAGIC, 0x00,
						  struct ktracer_version), &v));
	ASSERT_ERRNO(ENOTTY, ioctl(self->fd, _IOWR(KTRACER_IOC_MAGIC, 0x00,
						   uint64_t), &word));
	/* Another driver's magic. */
	ASSERT_ERRNO(ENOTTY, ioctl(self->fd, _IOR('T', 0x01, int), &word));
}

TEST_F(dev, enable)
{
	char state[8];

	ASSERT_EQ(0, kt_set_enable(self->fd, 0));
	ASSERT_EQ(0, kt_read_text(KT_DEBUGFS "/enable", state, sizeof(state)));
	EXPECT_STREQ("0", state);
	ASSERT_EQ(0, kt_set_enable(self->fd, 1));
	ASSERT_EQ(0, kt_read_text(KT_DEBUGFS "/enable", state, sizeof(state)));
	EXPECT_STREQ("1", state);
}

TEST_F(dev, enable_invalid)
{
	struct ktracer_enable e = { .size = sizeof(e), .enable = 0 };
	char state[8];

	e.enable = 2;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_ENABLE, &e));
	e.enable = 0;
	e.flags = 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_ENABLE, &e));
	e.flags = 0;
	e.__reserved = 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_ENABLE, &e));
	e.__reserved = 0;
	e.size = KTRACER_ENABLE_SIZE_VER0 - 4;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_ENABLE, &e));
	ASSERT_ERRNO(EFAULT, ioctl(self->fd, KTRACER_IOC_ENABLE, NULL));

	/* None of those switched tracing off. */
	ASSERT_EQ(0, kt_read_text(KT_DEBUGFS "/enable", state, sizeof(state)));
	EXPECT_STREQ("1", state);
}

static void kt_open_unprivileged(int unused)
{
	/* Default dev_mode 0600: only root may open. */
	if (open(KTRACER_DEVICE, O_RDWR) != -1)
		_exit(1);
	if (errno != EACCES)
		_exit(2);
}

TEST(unprivileged_open)
{
	ASSERT_EQ(0, kt_run_unprivileged(kt_open_unprivileged, -1));
}

static void kt_commands_unprivileged(int fd)
{
	struct ktracer_version v = { .size = sizeof(v) };

	/* Unprivileged commands work on a file someone else opened... */
	if (ioctl(fd, KTRACER_IOC_VERSION, &v) || v.major != KTRACER_ABI_MAJOR)
		_exit(1);
	/* ...privileged ones fail, before any argument is looked at. */
	if (kt_set_enable(fd, 0) != -EPERM)
		_exit(2);
	if (ioctl(fd, KTRACER_IOC_ENABLE, NULL) != -1 || errno != EPERM)
		_exit(3);
}

/*
 * Privilege is the caller's, not the opener's: a file opened by root and
 * passed to an unprivileged process does not carry root's rights. The
 * parent, still root, then checks through debugfs that nothing changed.
 */
TEST_F(dev, unprivileged_commands)
{
	char state[8];

	ASSERT_EQ(0, kt_run_unprivileged(kt_commands_unprivileged, self->fd));
	ASSERT_EQ(0, kt_read_text(KT_DEBUGFS "/enable", state, sizeof(state)));
	EXPECT_STREQ("1", state);
}

TEST_HARNESS_MAIN
