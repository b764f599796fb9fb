#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# lint.sh: checkpatch.pl --strict on every module and uapi file, sparse
# (C=2) and a W=1 build, all against Debian's kernel headers. Prints one
# "ok"/"not ok" line per check, with the findings as "#" lines, and exits
# non-zero on any finding.
set -uo pipefail
. "$(dirname "$0")/env.sh"
cd "$KT_ROOT"

files=(module/*.c module/*.h uapi/linux/*.h selftests/rig/*.c)
rc=0

result() {	# result NAME LOGFILE: ok if LOGFILE is empty
	if [ -s "$2" ]; then
		echo "not ok lint: $1"
		sed 's/^/# /' "$2" | head -n 40
		rc=1
	else
		echo "ok lint: $1"
	fi
}

log=$(mktemp)
trap 'rm -f "$log"' EXIT

perl "$KT_KSRC/scripts/checkpatch.pl" --strict --no-tree --quiet --terse \
	--show-types -f "${files[@]}" 2>&1 |
	grep -v '^total: 0 errors, 0 warnings, 0 checks' > "$log"
result "checkpatch.pl --strict (${#files[@]} files)" "$log"

# Only findings count; kbuild's own chatter does not.
findings='warning:|error:|: note:'
rm -rf "$KT_BUILD/lint"
kt_kbuild "$KT_KDIR" "$KT_BUILD/lint/sparse" Kbuild module uapi -- C=2 \
	> "$log.full" 2>&1
grep -E "$findings" "$log.full" > "$log"
grep -q '^  CHECK ' "$log.full" || echo "sparse never ran: no CHECK lines" >> "$log"
rm -f "$log.full"
result "sparse C=2" "$log"

kt_kbuild "$KT_KDIR" "$KT_BUILD/lint/w1" Kbuild module uapi -- W=1 2>&1 |
	grep -E "$findings" > "$log"
result "W=1 build of ktracer.ko" "$log"

kt_kbuild "$KT_KDIR" "$KT_BUILD/lint/rig" selftests/rig/Kbuild selftests/rig/kt_splat.c -- W=1 2>&1 |
	grep -E "$findings" > "$log"
result "W=1 build of kt_splat.ko" "$log"

exit $rc
