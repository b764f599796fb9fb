// SPDX-License-Identifier: GPL-2.0
/*
 * ktracer: one binary, two names. As `ktracer-read` it is the reader
 * (reader.c); as `ktracer` it takes a command: `record` (cmd_record.c) or
 * `read` (the reader again, `ktracer read ARGS` == `ktracer-read ARGS`).
 */

#include <stdio.h>
#include <string.h>

#include "reader.h"

static void kr_main_usage(FILE *f)
{
	fputs(
"Usage: ktracer COMMAND [OPTION]...\n"
"       ktracer --help | --version\n"
"ktracer's command line: record programs and the kernel into a Chrome trace\n"
"(JSON, for ui.perfetto.dev) and StatsD metrics.\n"
"\n"
"Commands:\n"
"  record   set the kernel sources up, run a command (or attach to processes,\n"
"           or take the whole system), record until it ends, put every\n"
"           setting back ('ktracer record --help')\n"
"  read     read what the buffers hold as they fill, changing nothing: the\n"
"           same as ktracer-read ('ktracer read --help')\n"
"\n"
"  -h, --help      show this help and exit\n"
"  -V, --version   show ktracer's version, its ABI and the loaded module's\n"
"\n"
"Exit status: 0 success, 1 error, 2 usage error; `ktracer record -- CMD`\n"
"exits with CMD's status.\n", f);
}

int main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');

	base = base ? base + 1 : argv[0];
	if (!strcmp(base, "ktracer-read"))
		return kr_read_main(argc, argv, "ktracer-read",
				    "ktracer-read --help");
	if (argc < 2) {
		fputs("ktracer: a command is needed: record or read\nTry 'ktracer --help'.\n",
		      stderr);
		return KR_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "record"))
		return kr_record_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "read"))
		return kr_read_main(argc - 1, argv + 1, "ktracer-read",
				    "ktracer read --help");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		kr_main_usage(stdout);
		return KR_EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		kr_print_version(KTRACER_DEVICE);
		return KR_EXIT_OK;
	}
	fprintf(stderr, "ktracer: unknown command '%s'\nTry 'ktracer --help'.\n",
		argv[1]);
	return KR_EXIT_USAGE;
}
