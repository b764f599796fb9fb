#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# lint.sh: checkpatch.pl --strict on every module and uapi file, version
# tests only in module/compat.h, and sparse (C=2) and a W=1 build against
# each kernel's headers (Debian 12's 6.1 and 6.12, sid's newest in the sid
# chroot, with its own gcc and sparse). Prints one
# "ok"/"not ok" line per check, with the findings as "#" lines, and exits
# non-zero on any finding.
set -uo pipefail
. "$(dirname "$0")/env.sh"
cd "$KT_ROOT"

# The tracked files: an in-tree build leaves generated ones
# (module/kt_syscalls.h) that are not ours to lint.
mapfile -t files < <(git ls-files 'module/*.[ch]' 'uapi/linux/*.h' \
	'selftests/rig/*.c')
# compat.h is where kernel versions are told apart, as checkpatch (written
# for in-tree code) would have nowhere.
compat_ignore=LINUX_VERSION_CODE,CONSTANT_COMPARISON,MACRO_ARG_UNUSED
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

checkpatch() {
	perl "$KT_KSRC/scripts/checkpatch.pl" --strict --no-tree --quiet --terse \
		--show-types "$@" 2>&1 |
		grep -v '^total: 0 errors, 0 warnings, 0 checks'
}
{
	checkpatch -f $(printf '%s\n' "${files[@]}" | grep -vx module/compat.h)
	checkpatch --ignore "$compat_ignore" -f module/compat.h
} > "$log"
result "checkpatch.pl --strict (${#files[@]} files)" "$log"

grep -n -E 'LINUX_VERSION_CODE|KERNEL_VERSION' module/*.c module/*.h |
	grep -v '^module/compat.h:' > "$log"
result "kernel version tests only in module/compat.h" "$log"

# Only findings count; kbuild's own chatter does not.
findings='warning:|error:|: note:'
rm -rf "$KT_BUILD/lint"

# lint_kernel NAME KDIR: sparse and W=1 against one kernel's headers
# (in the chroot KT_CHROOT, if set).
lint_kernel() {
	local name=$1 kdir=$2 out=$KT_BUILD/lint/$1

	kt_kbuild "$kdir" "$out/sparse" Kbuild module uapi -- C=2 > "$log.full" 2>&1
	grep -E "$findings" "$log.full" > "$log"
	grep -q '^  CHECK ' "$log.full" || echo "sparse never ran: no CHECK lines" >> "$log"
	rm -f "$log.full"
	result "$name: sparse C=2" "$log"

	kt_kbuild "$kdir" "$out/w1" Kbuild module uapi -- W=1 2>&1 |
		grep -E "$findings" > "$log"
	result "$name: W=1 build of ktracer.ko" "$log"

	kt_kbuild "$kdir" "$out/rig" selftests/rig/Kbuild selftests/rig/kt_splat.c -- W=1 2>&1 |
		grep -E "$findings" > "$log"
	result "$name: W=1 build of kt_splat.ko" "$log"
}

lint_kernel "$KT_KVER" "$KT_KDIR"
lint_kernel "$KT_612_KVER" "$KT_612_KDIR"
# (sid's sparse: the chroot's, with the stand-in checker-valid.sh that
# setup.sh gives its headers)
KT_CHROOT=$KT_SID_ROOT lint_kernel "$KT_SID_KVER" "$KT_SID_KDIR"

exit $rc
