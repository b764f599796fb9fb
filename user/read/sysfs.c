// SPDX-License-Identifier: GPL-2.0
/* ktracer-read: block device names from sysfs (see sysfs.h). */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sysfs.h"

const char *kr_sysfs_root(void)
{
	const char *root = getenv("KTRACER_SYSFS");

	return root && *root ? root : "/sys";
}

size_t kr_sysfs_devname(const char *root, uint32_t dev,
			char buf[KR_DEVNAME_MAX])
{
	char path[4096], text[4096];
	const char *p, *end, *eol;
	ssize_t n;
	size_t len;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/dev/block/%u:%u/uevent",
			     root, dev >> 20, dev & 0xfffff) >= sizeof(path))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, text, sizeof(text));
	close(fd);
	if (n <= 0)
		return 0;
	end = text + n;
	for (p = text; p < end; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		if ((size_t)(eol - p) > 8 && !memcmp(p, "DEVNAME=", 8)) {
			len = (size_t)(eol - p) - 8;
			if (len > KR_DEVNAME_MAX)
				len = KR_DEVNAME_MAX;
			memcpy(buf, p + 8, len);
			return len;
		}
	}
	return 0;
}
