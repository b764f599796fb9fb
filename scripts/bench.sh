#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh: what ktracer's operations cost, as `make bench` runs it.
# Builds ktracer.ko (and kt_splat.ko, which the initramfs carries) against
# Debian's kernel headers and every bench/*.c as a static program, boots
# Debian's kernel in qemu with kt.run=bench, and prints the programs'
# "KT-RESULT <name> <ns_per_op>" lines as a table, with the ratios to
# getppid() and to ftrace's trace_marker, and whether each target is met.
#
# The guest runs under TCG, so the absolute numbers are slow; the ratios
# are what the targets are about. A benchmark is not a test: a missed
# target is reported, not failed. Exits non-zero only if something did
# not build, the VM run was not clean (scripts/vm/verdict.sh) or a result
# is missing. Logs stay in build/bench/vm/.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$KT_ROOT"

dir=$KT_BUILD/bench
names=(getppid ioctl_floor trace_marker span_op batch_op disabled)

# quiet WHAT LOG CMD...: run CMD into LOG; on failure show its end, exit 1.
quiet() {
	local what=$1 log=$2
	shift 2
	if ! "$@" > "$log" 2>&1; then
		echo "bench: $what failed; the end of $log:" >&2
		tail -n 30 "$log" >&2
		exit 1
	fi
}

rm -rf "$dir"
mkdir -p "$dir/bin" "$dir/no-tests"

quiet "building the modules" "$dir/modules.log" \
	kt_build_modules "$KT_KDIR" "$dir"

for src in bench/*.c; do
	prog=$(basename "$src" .c)
	quiet "building $src" "$dir/$prog.log" \
		gcc -O2 -static -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror \
		-I"$KT_ROOT/uapi" -o "$dir/bin/$prog" "$src"
done

"$KT_ROOT/scripts/vm/mkinitramfs.sh" "$dir/initramfs.cpio.gz" \
	"$dir/ktracer/ktracer.ko" "$dir/rig/kt_splat.ko" "$dir/no-tests" "$dir/bin"

echo "# booting $KT_KVER in qemu (TCG) with kt.run=bench ..."
"$KT_ROOT/scripts/vm/run.sh" "$KT_KIMAGE" "$dir/initramfs.cpio.gz" "$dir/vm" kt.run=bench
echo "# $(cat "$dir/vm/vm.info")"

results=$dir/vm/results.clean
tr -d '\r' < "$dir/vm/results.log" > "$results"

# What the bench programs printed, KT- lines aside: their own tables, or
# why they gave up.
show_output() {
	grep -v -e '^KT-' -e '^$' "$results" | sed 's/^/# /' || true
}

if ! "$KT_ROOT/scripts/vm/verdict.sh" "$dir/vm" bench; then
	show_output
	echo "# last lines of $dir/vm/console.log:"
	tr -d '\r' < "$dir/vm/console.log" | tail -n 25 | sed 's/^/#   /'
	exit 1
fi
show_output

declare -A ns
missing=
for name in "${names[@]}"; do
	v=$(awk -v n="$name" '$1 == "KT-RESULT" && $2 == n { v = $3 } END { print v }' "$results")
	if [[ ! "$v" =~ ^[0-9]+(\.[0-9]+)?$ ]]; then
		missing="$missing $name"
		continue
	fi
	ns[$name]=$v
done
if [ -n "$missing" ]; then
	echo "bench: no KT-RESULT for:$missing (see $results)" >&2
	exit 1
fi

# ratio A B: A / B, or "-" if B is 0.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (b + 0 == 0) { print "-"; exit }
		r = a / b
		printf(r < 1 ? "%.3fx\n" : "%.2fx\n", r)
	}'
}

echo
echo "| operation | ns/op | ratio to getppid | ratio to trace_marker |"
echo "| --- | ---: | ---: | ---: |"
for name in "${names[@]}"; do
	echo "| $name | ${ns[$name]} | $(ratio "${ns[$name]}" "${ns[getppid]}") | $(ratio "${ns[$name]}" "${ns[trace_marker]}") |"
done
echo

# target WHAT NAME LIMIT BASE: is NAME's ns/op at most LIMIT times BASE's?
target() {
	local what=$1 name=$2 limit=$3 base=$4 r verdict
	r=$(ratio "${ns[$name]}" "${ns[$base]}")
	verdict=$(awk -v a="${ns[$name]}" -v b="${ns[$base]}" -v l="$limit" \
		'BEGIN { print (a <= l * b) ? "met" : "MISSED" }')
	echo "target: $what <= ${limit}x $base: $r $verdict"
}

target "span op" span_op 1.0 trace_marker
target "span op" span_op 1.6 getppid
target "batch op" batch_op 0.1 trace_marker
target "disabled" disabled 0.02 getppid
exit 0
