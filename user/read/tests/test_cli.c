// SPDX-License-Identifier: GPL-2.0
/*
 * The command line, without a kernel: help, usage errors (exit 2) and
 * the runtime errors a host can cause (exit 1), each one clear message.
 */

#include <stdlib.h>

#include "tests.h"

/* Run ktracer-read with @args; its exit status, its stderr in @err. */
static int ku_cli(const char *args, char *err, size_t errlen)
{
	const char *bin = getenv("KR_READ_BIN"), *dir = getenv("KR_TEST_OUT");
	char cmd[1024], path[512];
	FILE *f;
	size_t n;
	int st;

	snprintf(path, sizeof(path), "%s/cli.err", dir ? dir : ".");
	snprintf(cmd, sizeof(cmd), "%s %s >/dev/null 2>%s",
		 bin ? bin : "build/ktracer-read", args, path);
	st = ku_run(cmd);
	f = fopen(path, "r");
	n = f ? fread(err, 1, errlen - 1, f) : 0;
	err[n] = '\0';
	if (f)
		fclose(f);
	return st;
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
