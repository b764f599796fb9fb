// SPDX-License-Identifier: GPL-2.0
/*
 * tree: a small program to record (make run's test): forks a child that
 * execs this program again as "tree child N", which writes N lines to
 * /dev/null and sleeps a millisecond between them; the parent waits for
 * it and exits with the child's status.
 *
 *	tree [N]	(default 20)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int child(int n)
{
	struct timespec ms = { .tv_nsec = 1000000 };
	FILE *f = fopen("/dev/null", "w");
	int i;

	if (!f) {
		perror("tree: /dev/null");
		return 1;
	}
	for (i = 0; i < n; i++) {
		fprintf(f, "line %d\n", i);
		fflush(f);
		nanosleep(&ms, NULL);
	}
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	char *self = argv[0], count[16];
	int st, n = 20;
	pid_t pid;

	if (argc == 3 && !strcmp(argv[1], "child"))
		return child(atoi(argv[2]));
	if (argc > 1)
		n = atoi(argv[1]);
	snprintf(count, sizeof(count), "%d", n);
	pid = fork();
	if (pid < 0) {
		perror("tree: fork");
		return 1;
	}
	if (pid == 0) {
		execl("/proc/self/exe", self, "child", count, (char *)NULL);
		perror("tree: exec");
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid) {
		perror("tree: waitpid");
		return 1;
	}
	printf("tree: child %d wrote %d lines\n", (int)pid, n);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
