// SPDX-License-Identifier: GPL-2.0
/*
 * The command line, without a kernel: help, usage errors (exit 2) and
 * the runtime errors a host can cause (exit 1), each one clear message.
 */

#include <stdlib.h>

#include "tests.h"

/* Run @bin with @args; its exit status, its stderr in @err. */
static int ku_cli_bin(const char *bin, const char *args, char *err,
		      size_t errlen)
{
	const char *dir = getenv("KR_TEST_OUT");
	char cmd[1024], path[512];
	FILE *f;
	size_t n;
	int st;

	snprintf(path, sizeof(path), "%s/cli.err", dir ? dir : ".");
	snprintf(cmd, sizeof(cmd), "%s %s >/dev/null 2>%s",
		 bin, args, path);
	st = ku_run(cmd);
	f = fopen(path, "r");
	n = f ? fread(err, 1, errlen - 1, f) : 0;
	err[n] = '\0';
	if (f)
		fclose(f);
	return st;
}

/* ktracer-read with @args. */
static int ku_cli(const char *args, char *err, size_t errlen)
{
	const char *bin = getenv("KR_READ_BIN");

	return ku_cli_bin(bin ? bin : "build/ktracer-read", args, err, errlen);
}

/* ktracer with @args. */
static int ku_kt(const char *args, char *err, size_t errlen)
{
	const char *bin = getenv("KR_BIN");

	return ku_cli_bin(bin ? bin : "build/ktracer", args, err, errlen);
}

void cli_usage_and_errors(void)
{
	const char *dir = getenv("KR_TEST_OUT");
	char err[4096], out[600];

	CHECK_EQ(ku_cli("--help", err, sizeof(err)), 0);
	CHECK_EQ(ku_cli("--version", err, sizeof(err)), 0);

	CHECK_EQ(ku_cli("", err, sizeof(err)), 2);
	CHECK_HAS(err, "nothing to do");
	CHECK_EQ(ku_cli("-o x.json --bogus", err, sizeof(err)), 2);
	CHECK_HAS(err, "unknown option '--bogus'");
	CHECK_EQ(ku_cli("-o", err, sizeof(err)), 2);
	CHECK_HAS(err, "option '-o' needs a value");
	CHECK_EQ(ku_cli("--statsd localhost", err, sizeof(err)), 2);
	CHECK_HAS(err, "want HOST:PORT");
	CHECK_EQ(ku_cli("--statsd localhost:99999", err, sizeof(err)), 2);
	CHECK_EQ(ku_cli("--statsd localhost:8125 --statsd-interval 0", err,
			sizeof(err)), 2);
	CHECK_EQ(ku_cli("-o x.json --duration soon", err, sizeof(err)), 2);
	CHECK_HAS(err, "--duration 'soon'");
	CHECK_EQ(ku_cli("-o x.json --tags", err, sizeof(err)), 2);
	CHECK_HAS(err, "--tags needs --statsd");
	CHECK_EQ(ku_cli("-o x.json extra", err, sizeof(err)), 2);

	/* runtime: the module is not there, the file cannot be written */
	snprintf(out, sizeof(out), "-o %s/cli.json --device %s/no-such-device",
		 dir, dir);
	CHECK_EQ(ku_cli(out, err, sizeof(err)), 1);
	CHECK_HAS(err, "no-such-device: No such file or directory: is ktracer.ko loaded?");
	snprintf(out, sizeof(out), "%s/cli.json", dir);
	CHECK(fopen(out, "r") == NULL);	/* a run that cannot start leaves none */
	CHECK_EQ(ku_cli("-o /no/such/dir/trace.json", err, sizeof(err)), 1);
	CHECK_HAS(err, "cannot write /no/such/dir/trace.json: No such file or directory");
	snprintf(out, sizeof(out), "-o %s", dir);
	CHECK_EQ(ku_cli(out, err, sizeof(err)), 1);
	CHECK_HAS(err, "Is a directory");
	CHECK_EQ(ku_cli("-o - --device /dev/null", err, sizeof(err)), 1);
	CHECK_HAS(err, "/dev/null: KTRACER_IOC_VERSION: Inappropriate ioctl for device: not a ktracer device");
	CHECK_EQ(ku_cli("--statsd no-such-host.invalid:8125 --device /dev/null",
			err, sizeof(err)), 1);
	CHECK_EQ(ku_count(err, "\n"), 1);	/* one message */
}

/* ktracer and ktracer record: every usage error exits 2 with its message. */
void cli_record_usage(void)
{
	static const struct {
		const char *args, *msg;
	} bad[] = {
		{ "", "ktracer: a command is needed: record or read" },
		{ "bogus", "ktracer: unknown command 'bogus'" },
		{ "record -e bogus", "-e 'bogus': not a source (sched, task, syscall, irq, softirq, block, all)" },
		{ "record -e sched,", "-e '': not a source" },
		{ "record -e syscall", "-e syscall needs processes to record: a command or --pid" },
		{ "record -e all -d 1", "-e syscall needs processes to record" },
		{ "record -p 1 -- true", "--pid and a command: give one or the other" },
		{ "record -p 0", "--pid '0': want PID[,PID...], each above 0" },
		{ "record -p 1,x", "--pid '1,x': want PID[,PID...]" },
		{ "record -p 1,", "--pid '1,': want PID[,PID...]" },
		{ "record -m fast", "--mode 'fast': want discard or overwrite" },
		{ "record -b 3K", "--buffer-size '3K': want a power of two from 8K to 64M" },
		{ "record -b 4K", "--buffer-size '4K'" },
		{ "record -b 128M", "--buffer-size '128M'" },
		{ "record -b 1X", "--buffer-size '1X'" },
		{ "record -d 0", "--duration '0': want a number of seconds above 0" },
		{ "record --tags", "--tags needs --statsd" },
		{ "record --prefix x.", "--prefix needs --statsd" },
		{ "record --statsd nohost", "--statsd 'nohost': want HOST:PORT" },
		{ "record -o ''", "--output: an empty file name" },
		{ "record --bogus", "unknown option '--bogus'" },
		{ "record -x", "unknown option '-x'" },
		{ "record -e", "option '-e' needs a value" },
		{ "read -e sched", "unknown option '-e'" },
		{ "read --pid 1 -o x", "unknown option '--pid'" },
	};
	char err[4096], args[600];
	const char *dir = getenv("KR_TEST_OUT");
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ(ku_kt(bad[i].args, err, sizeof(err)), 2);
		CHECK_HAS(err, bad[i].msg);
		CHECK_HAS(err, "--help'.");
	}
	CHECK_EQ(ku_kt("--help", err, sizeof(err)), 0);
	CHECK_EQ(ku_kt("record --help", err, sizeof(err)), 0);
	CHECK_EQ(ku_kt("read --help", err, sizeof(err)), 0);
	/* runtime, no module: exit 1, "is ktracer.ko loaded?", no trace */
	snprintf(args, sizeof(args),
		 "record -o %s/rec.json --device %s/none -- true", dir, dir);
	CHECK_EQ(ku_kt(args, err, sizeof(err)), 1);
	CHECK_HAS(err, "ktracer record: ");
	CHECK_HAS(err, "is ktracer.ko loaded?");
	snprintf(args, sizeof(args), "%s/rec.json", dir);
	CHECK(fopen(args, "r") == NULL);
	CHECK_EQ(ku_kt("record -o /no/such/dir/t.json -- true", err,
		       sizeof(err)), 1);
	CHECK_HAS(err, "ktracer record: cannot write /no/such/dir/t.json");
	CHECK_EQ(ku_kt("record -o - --device /dev/null -- true", err,
		       sizeof(err)), 1);
	CHECK_HAS(err, "not a ktracer device");
	/* `ktracer read` is ktracer-read */
	CHECK_EQ(ku_kt("read", err, sizeof(err)), 2);
	CHECK_HAS(err, "ktracer-read: nothing to do");
}
