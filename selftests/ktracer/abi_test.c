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

TEST(device_node)
{
	struct stat st;

	ASSERT_EQ(0, stat(KTRACER_DEVICE, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0666, st.st_mode & 07777);
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

static int kt_enable(int fd, uint32_t on)
{
	struct ktracer_enable e = { .size = sizeof(e), .enable = on };

	return ioctl(fd, KTRACER_IOC_ENABLE, &e);
}

TEST_F(dev, enable)
{
	char state[8];

	ASSERT_EQ(0, kt_enable(self->fd, 0));
	ASSERT_EQ(0, kt_read_text(KT_DEBUGFS "/enabled", state, sizeof(state)));
	EXPECT_STREQ("N", state);
	ASSERT_EQ(0, kt_enable(self->fd, 1));
	ASSERT_EQ(0, kt_read_text(KT_DEBUGFS "/enabled", state, sizeof(state)));
	EXPECT_STREQ("Y", state);
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
	ASSERT_EQ(0, kt_read_text(KT_DEBUGFS "/enabled", state, sizeof(state)));
	EXPECT_STREQ("Y", state);
}

/*
 * Unprivileged callers may ask the version but not switch tracing. The
 * checks run in a child that drops privileges; the parent, still root,
 * then checks through debugfs (mode 0700) that nothing changed.
 */
TEST(unprivileged)
{
	char state[8];
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct ktracer_version v = { .size = sizeof(v) };
		int fd;

		ASSERT_EQ(0, kt_drop_privileges());
		ASSERT_NE(0, geteuid());
		fd = open(KTRACER_DEVICE, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd) TH_LOG("0666 device: %s", strerror(errno));
		ASSERT_EQ(0, ioctl(fd, KTRACER_IOC_VERSION, &v));
		ASSERT_EQ(KTRACER_ABI_MAJOR, v.major);
		ASSERT_ERRNO(EPERM, kt_enable(fd, 0));
		/* EPERM before any argument check: no probing the ABI. */
		ASSERT_ERRNO(EPERM, ioctl(fd, KTRACER_IOC_ENABLE, NULL));
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, kt_read_text(KT_DEBUGFS "/enabled", state, sizeof(state)));
	EXPECT_STREQ("Y", state);
}

TEST_HARNESS_MAIN
