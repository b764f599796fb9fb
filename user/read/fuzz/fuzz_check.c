// SPDX-License-Identifier: GPL-2.0
/*
 * The fuzzer's JSON check, kt_json.h, in a file of its own: built with
 * the sanitizers but without the fuzzer's coverage, which is for the
 * reader's code, not for the checker's.
 */

#include "fuzz_read.h"
#include "kt_json.h"

bool kf_json_check(const char *s, size_t len, size_t *err_off,
		   const char **why)
{
	return kt_json_check(s, len, err_off, why);
}
