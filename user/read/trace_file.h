/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktracer-read: ending the trace file, also when the disk is full.
 *
 * The Chrome writer (json.c) starts every event on a line of its own
 * ("\n{...}", ",\n{...}"), and nothing else it writes holds a raw
 * newline (strings escape it). So when a write fails with the file half
 * written, the last newline of the file is where the last whole event
 * ends: the file is cut there (which frees the room the cut-off bytes
 * took) and closed with the writer's usual ending, so that it stays one
 * valid JSON text holding every event written whole.
 */
#ifndef KR_TRACE_FILE_H
#define KR_TRACE_FILE_H

#include <stdbool.h>

#include "json.h"

/*
 * End the trace @w, written to the file @fd (open for reading too, so
 * that it can be cut): kr_json_end() with the
 * summary @sum. If a write failed (now or before) and @fd is a regular
 * file, it is cut at its last whole event and ended there (with the
 * summary if there is room, else without); *@cut says so and
 * *@size is the file's size then. Returns 0, or the errno of the first
 * write that failed: the file is then valid JSON if *@cut.
 */
int kr_trace_end(struct kr_json *w, int fd, const struct kr_arg *sum,
		 unsigned int nsum, bool *cut, uint64_t *size);

#endif /* KR_TRACE_FILE_H */
