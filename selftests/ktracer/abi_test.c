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

	/* The number a newer header's KTRACER_IOC_VERSION would be. */
	const unsigned long cmd = _IOWR(KTRACER_IOC_MAGIC, 0x00, big);

	ASSERT_NE(KTRACER_IOC_VERSION, cmd);
	memset(&big, 0, sizeof(big));
	big.v.size = sizeof(big);
	ASSERT_EQ(0, ioctl(self->fd, cmd, &big));
	EXPECT_EQ(KTRACER_VERSION_SIZE_VER0, big.v.size);
	EXPECT_EQ(KTRACER_ABI_MAJOR, big.v.major);
	EXPECT_EQ(0, big.future[0]);
	EXPECT_EQ(0, big.future[1]);

	memset(&big, 0, sizeof(big));
	big.v.size = sizeof(big);
	big.future[1] = 1;
	ASSERT_ERRNO(E2BIG, ioctl(self->fd, cmd, &big));
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
	ASSERT_ERRNO(ENOTTY, ioctl(self->fd, _IOWR(KTRACER_IOC_MAGIC, 0x0b,
						   struct ktracer_version), &v));
	/* Known number, other direction: another command. */
	ASSERT_ERRNO(ENOTTY, ioctl(self->fd, _IOR(KTRACER_IOC_MAGIC, 0x00,
						  struct ktracer_version), &v));
	/* Another driver's magic, and the one of ABI major 1. */
	ASSERT_ERRNO(ENOTTY, ioctl(self->fd, _IOR('T', 0x01, int), &word));
	ASSERT_ERRNO(ENOTTY, ioctl(self->fd, _IOWR(0xB8, 0x00,
						   struct ktracer_version), &v));
	EXPECT_EQ(0, v.major);
}

/*
 * Every command, reached by numbers that encode other sizes than its
 * struct's (as a program built against a later or earlier header would
 * pass): the struct's size member rules, the number's size is ignored.
 * A larger struct with zeros past the kernel's works, with a non-zero
 * byte there it is E2BIG; any other direction is ENOTTY.
 */
#define CMD_BUF	256

struct cmd_case {
	const char *name;
	unsigned long nr;
	uint32_t ksize;
};

static const struct cmd_case cmd_cases[] = {
	{ "VERSION", KTRACER_IOC_VERSION, sizeof(struct ktracer_version) },
	{ "ENABLE", KTRACER_IOC_ENABLE, sizeof(struct ktracer_enable) },
	{ "REGISTER", KTRACER_IOC_REGISTER, sizeof(struct ktracer_register) },
	{ "OP", KTRACER_IOC_OP, sizeof(struct ktracer_op) },
	{ "BATCH", KTRACER_IOC_BATCH, sizeof(struct ktracer_batch) },
	{ "CONFIG", KTRACER_IOC_CONFIG, sizeof(struct ktracer_config) },
	{ "RESET", KTRACER_IOC_RESET, sizeof(struct ktracer_reset) },
	{ "KEVENTS", KTRACER_IOC_KEVENTS, sizeof(struct ktracer_kevents) },
	{ "QUEUE", KTRACER_IOC_QUEUE, sizeof(struct ktracer_queue) },
	{ "FLUSH", KTRACER_IOC_FLUSH, sizeof(struct ktracer_flush) },
	{ "NAMES", KTRACER_IOC_NAMES, sizeof(struct ktracer_names) },
};

/* A valid argument of command @i in @buf, of @size bytes. */
static void cmd_arg(unsigned int i, void *buf, uint32_t size, uint32_t gauge,
		    struct ktracer_op *op)
{
	memset(buf, 0, CMD_BUF);
	switch (i) {
	case 1:
		((struct ktracer_enable *)buf)->enable = 1;
		break;
	case 2:
		((struct ktracer_register *)buf)->kind = KTRACER_KIND_GAUGE;
		strcpy(((struct ktracer_register *)buf)->name, "abi.gauge");
		break;
	case 3:
		*(struct ktracer_op *)buf = kt_mkop(KTRACER_OP_GAUGE, gauge,
						    0, 1);
		break;
	case 4:
		*op = kt_mkop(KTRACER_OP_GAUGE, gauge, 0, 2);
		((struct ktracer_batch *)buf)->ops = (uintptr_t)op;
		((struct ktracer_batch *)buf)->count = 1;
		((struct ktracer_batch *)buf)->op_size = sizeof(*op);
		break;
	case 8:
		((struct ktracer_queue *)buf)->ring_size = KTRACER_QUEUE_RING_MIN;
		break;
	}
	memcpy(buf, &size, sizeof(size));
}

TEST_F(dev, every_command_any_size)
{
	static const uint32_t delta[] = { 8, 64, 4096 - 128 };
	unsigned char buf[CMD_BUF + 4096];
	struct ktracer_op op;
	unsigned int i, j, dir;
	uint32_t gauge, k;
	unsigned long nr;

	gauge = kt_register_id(self->fd, KTRACER_KIND_GAUGE, 0, "abi.gauge");
	ASSERT_NE(0, gauge);
	for (i = 0; i < sizeof(cmd_cases) / sizeof(cmd_cases[0]); i++) {
		const struct cmd_case *c = &cmd_cases[i];

		k = c->ksize;
		/* Numbers for smaller structs, the struct of this header. */
		for (j = 0; j < 3; j++) {
			nr = _IOC(_IOC_DIR(c->nr), KTRACER_IOC_MAGIC,
				  _IOC_NR(c->nr), j == 0 ? 0 : j == 1 ? 4 : k - 8);
			cmd_arg(i, buf, k, gauge, &op);
			EXPECT_EQ(0, ioctl(self->fd, nr, buf))
				TH_LOG("%s as %#lx: %s", c->name, nr, strerror(errno));
		}
		/* Larger structs, with the number that says so. */
		for (j = 0; j < sizeof(delta) / sizeof(delta[0]); j++) {
			nr = _IOC(_IOC_DIR(c->nr), KTRACER_IOC_MAGIC,
				  _IOC_NR(c->nr), k + delta[j]);
			memset(buf, 0, sizeof(buf));
			cmd_arg(i, buf, k + delta[j], gauge, &op);
			EXPECT_EQ(0, ioctl(self->fd, nr, buf))
				TH_LOG("%s of %u bytes as %#lx: %s", c->name,
				       k + delta[j], nr, strerror(errno));
			cmd_arg(i, buf, k + delta[j], gauge, &op);
			buf[k + delta[j] - 1] = 1;
			errno = 0;
			EXPECT_EQ(-1, ioctl(self->fd, nr, buf));
			EXPECT_EQ(E2BIG, errno)
				TH_LOG("%s of %u bytes, tail not 0, as %#lx: %s",
				       c->name, k + delta[j], nr, strerror(errno));
		}
		/* The size field's largest value. */
		nr = _IOC(_IOC_DIR(c->nr), KTRACER_IOC_MAGIC, _IOC_NR(c->nr),
			  _IOC_SIZEMASK);
		cmd_arg(i, buf, k, gauge, &op);
		EXPECT_EQ(0, ioctl(self->fd, nr, buf))
			TH_LOG("%s as %#lx: %s", c->name, nr, strerror(errno));
		/* Every other direction, whatever the size: no command. */
		for (dir = 0; dir < 4; dir++) {
			if (dir == _IOC_DIR(c->nr))
				continue;
			for (j = 0; j < 2; j++) {
				nr = _IOC(dir, KTRACER_IOC_MAGIC, _IOC_NR(c->nr),
					  j ? k : k + 8);
				cmd_arg(i, buf, k, gauge, &op);
				errno = 0;
				EXPECT_EQ(-1, ioctl(self->fd, nr, buf));
				EXPECT_EQ(ENOTTY, errno)
					TH_LOG("%s as %#lx", c->name, nr);
			}
		}
	}
	ASSERT_EQ(0, kt_set_enable(self->fd, 1));
}

/*
 * Where flags say which members a command uses, the members no flag
 * selects must be 0, so that they can be given a meaning later.
 */
TEST_F(dev, unselected_members_einval)
{
	struct ktracer_kevents k;
	struct ktracer_config c;
	int32_t pid = getpid();
	const struct ktracer_state *st;

	st = mmap(NULL, sysconf(_SC_PAGESIZE), PROT_READ, MAP_SHARED,
		  self->fd, 0);
	ASSERT_NE(MAP_FAILED, st);
	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.mode = KTRACER_MODE_OVERWRITE;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_CONFIG, &c));
	c.flags = KTRACER_CONFIG_BUFFER_SIZE;
	c.buffer_size = KT_DEFAULT_BUFFER;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_CONFIG, &c));
	c.flags = KTRACER_CONFIG_MODE;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_CONFIG, &c));
	c.flags = 0;
	c.mode = 0;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_CONFIG, &c));
	EXPECT_EQ(KT_DEFAULT_MODE, st->mode);
	c.buffer_size = 0;
	ASSERT_EQ(0, ioctl(self->fd, KTRACER_IOC_CONFIG, &c));
	munmap((void *)st, sysconf(_SC_PAGESIZE));

	memset(&k, 0, sizeof(k));
	k.size = sizeof(k);
	k.sources = KTRACER_SRC_IRQ;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_KEVENTS, &k));
	k.flags = KTRACER_KEVENTS_PIDS;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_KEVENTS, &k));
	k.flags = 0;
	k.sources = 0;
	k.pids = (uintptr_t)&pid;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_KEVENTS, &k));
	k.flags = KTRACER_KEVENTS_SOURCES;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_KEVENTS, &k));
	k.pids = 0;
	k.npids = 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_KEVENTS, &k));
	k.flags = 0;
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, KTRACER_IOC_KEVENTS, &k));
	EXPECT_EQ(0, k.available);	/* nothing written back */
	k.npids = 0;
	ASSERT_EQ(0, ioctl(self->fd, KTRACER_IOC_KEVENTS, &k));
	EXPECT_EQ(0, k.sources);	/* nothing was switched on */
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
