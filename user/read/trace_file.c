// SPDX-License-Identifier: GPL-2.0
/* ktracer-read: ending the trace file, also when the disk is full. */

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace_file.h"

/* Events given up at most to make room for the ending. */
#define KR_CUT_TRIES	256

/*
 * Where the file @fd is cut: before the comma and newline that open the
 * last event (whole or not) starting before @limit, or at 0 if there is
 * no newline before it (the header is then written again). -1 if the
 * file cannot be read.
 */
static off_t kr_cut_point(int fd, off_t limit)
{
	char buf[4096];
	off_t end, from;
	ssize_t n, i;
	char prev;

	for (end = limit; end > 0; end = from) {
		from = end > (off_t)sizeof(buf) ? end - (off_t)sizeof(buf) : 0;
		n = pread(fd, buf, (size_t)(end - from), from);
		if (n != end - from)
			return -1;
		for (i = n - 1; i >= 0; i--) {
			if (buf[i] != '\n')
				continue;
			if (from + i == 0)
				return 0;
			if (i > 0)
				prev = buf[i - 1];
			else if (pread(fd, &prev, 1, from - 1) != 1)
				return -1;
			return prev == ',' ? from + i - 1 : from + i;
		}
	}
	return 0;
}

/* Cut @fd at @cut and end @w there. */
static int kr_trace_cut(struct kr_json *w, int fd, off_t cut,
			const struct kr_arg *sum, unsigned int nsum,
			uint64_t *size)
{
	struct kr_out *o = w->out;

	if (ftruncate(fd, cut) || lseek(fd, cut, SEEK_SET) != cut)
		return -1;
	o->err = 0;
	o->len = 0;
	o->bytes = (uint64_t)cut;
	if (!cut)
		kr_json_begin(w, o);
	w->ended = false;
	if (kr_json_end(w, sum, nsum))
		return -1;
	*size = o->bytes;
	return 0;
}

int kr_trace_end(struct kr_json *w, int fd, const struct kr_arg *sum,
		 unsigned int nsum, bool *cut, uint64_t *size)
{
	struct stat st;
	int err = kr_json_end(w, sum, nsum);
	off_t at, limit;
	unsigned int tries;

	*cut = false;
	*size = w->out ? w->out->bytes : 0;
	if (!err || fstat(fd, &st) || !S_ISREG(st.st_mode))
		return err;
	/*
	 * At the last whole event, with the summary, or, should it not fit,
	 * without. Cutting frees only whole blocks: if even the ending does
	 * not fit, the events before give theirs, one at a time.
	 */
	for (limit = st.st_size, tries = 0; tries < KR_CUT_TRIES; tries++) {
		at = kr_cut_point(fd, limit);
		if (at < 0)
			break;
		if ((!tries && !kr_trace_cut(w, fd, at, sum, nsum, size)) ||
		    !kr_trace_cut(w, fd, at, NULL, 0, size)) {
			*cut = true;
			break;
		}
		if (!at)
			break;
		limit = at;
	}
	return err;
}
