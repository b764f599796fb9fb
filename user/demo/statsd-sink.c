// SPDX-License-Identifier: GPL-2.0
/*
 * statsd-sink: capture StatsD datagrams, for the demo's VM, which has no
 * StatsD daemon (and no network: it listens on loopback).
 *
 *	statsd-sink PORT FILE
 *
 * Binds 127.0.0.1:PORT (UDP) and appends every datagram to FILE, ending
 * each with a newline if it does not end with one. On SIGTERM or SIGINT
 * it closes FILE and prints "datagrams=N bytes=N largest=N" on stdout.
 * Exit status: 0, or 1 with a message on stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	unsigned long datagrams = 0, bytes = 0, largest = 0;
	struct sigaction sa = { .sa_handler = on_signal };
	char buf[65536];
	FILE *out;
	ssize_t n;
	char *end;
	long port;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: statsd-sink PORT FILE\n");
		return 2;
	}
	port = strtol(argv[1], &end, 10);
	if (*end || port <= 0 || port > 65535) {
		fprintf(stderr, "statsd-sink: bad port '%s'\n", argv[1]);
		return 2;
	}
	/* No SA_RESTART: recv() returns EINTR and the loop sees stop. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	out = fopen(argv[2], "w");
	if (!out) {
		fprintf(stderr, "statsd-sink: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	addr.sin_port = htons((unsigned short)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		fprintf(stderr, "statsd-sink: bind 127.0.0.1:%ld: %s\n", port,
			strerror(errno));
		return 1;
	}
	while (!stop) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "statsd-sink: recv: %s\n", strerror(errno));
			return 1;
		}
		datagrams++;
		bytes += (unsigned long)n;
		if ((unsigned long)n > largest)
			largest = (unsigned long)n;
		if (fwrite(buf, 1, (size_t)n, out) != (size_t)n ||
		    (n && buf[n - 1] != '\n' && fputc('\n', out) == EOF)) {
			fprintf(stderr, "statsd-sink: %s: %s\n", argv[2],
				strerror(errno));
			return 1;
		}
		fflush(out);
	}
	if (fclose(out)) {
		fprintf(stderr, "statsd-sink: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	printf("datagrams=%lu bytes=%lu largest=%lu\n", datagrams, bytes, largest);
	return 0;
}
