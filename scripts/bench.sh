#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh: what ktracer's operations cost, as `make bench` runs it.
# Builds ktracer.ko (and kt_splat.ko, which the initramfs carries) against
# Debian's kernel headers and every bench/*.c as a static program, boots
# Debian's kernel in qemu with kt.run=bench, and prints the programs'
# "KT-RESULT <name> <ns>" lines as two tables: ops_bench's ns per op, with
# the ratios to getppid() and to ftrace's trace_marker; sched_bench's ns
# per pipe round trip, with what ftrace's sched_switch event and
# ktracer's SCHED source add to it; then whether each target is met.
#
# The guest runs under TCG, so the absolute numbers are slow; the ratios
# and differences are what the targets are about. A benchmark is not a test: a missed
# target is reported, not failed. Exits non-zero only if something did
# not build, the VM run was not clean (scripts/vm/verdict.sh) or a result
# is missing. Logs stay in build/bench/vm/.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$KT_ROOT"

dir=$KT_BUILD/bench
names=(getppid ioctl_floor trace_marker span_op batch_op disabled)
sched_names=(pipe_base pipe_ftrace pipe_ktracer)

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

# One host thread runs both vCPUs, in turns, whatever run.sh's default.
# With a thread per vCPU, a vCPU woken by the other's IPI waits for the
# host to schedule its thread, and sched_bench's round trips between CPU 0
# and CPU 1 measured mostly that: up to twice as long from one run to the
# next.
export KT_VM_ACCEL=${KT_VM_ACCEL:-tcg,thread=single}
echo "# booting $KT_KVER in qemu ($KT_VM_ACCEL) with kt.run=bench ..."
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
for name in "${names[@]}" "${sched_names[@]}"; do
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

# added NAME: NAME's ns over pipe_base's, to the ns.
added() {
	awk -v a="${ns[$1]}" -v b="${ns[pipe_base]}" 'BEGIN { printf("%.0f\n", a - b) }'
}

# at_most A B [L]: "met" if A <= L times B (L: 1), else "MISSED".
at_most() {
	awk -v a="$1" -v b="$2" -v l="${3:-1}" \
		'BEGIN { print (a <= l * b) ? "met" : "MISSED" }'
}

# ops_cells NAME, sched_cells NAME: a row's cells after the name and ns.
ops_cells() {
	echo "$(ratio "${ns[$1]}" "${ns[getppid]}") | $(ratio "${ns[$1]}" "${ns[trace_marker]}")"
}
sched_cells() {
	added "$1"
}

# table HEADER CELLS NAME...: a markdown table under HEADER ("a | b | c",
# the first two columns the name and its ns), a row per NAME.
table() {
	local header=$1 cells=$2 name
	shift 2
	echo
	echo "| $header |"
	echo "| --- $(sed 's/[^|]//g; s/|/| ---: /g' <<< "$header")|"
	for name; do
		echo "| $name | ${ns[$name]} | $("$cells" "$name") |"
	done
}

table "operation | ns/op | ratio to getppid | ratio to trace_marker" \
	ops_cells "${names[@]}"
table "config | ns per round trip | added over pipe_base" \
	sched_cells "${sched_names[@]}"
echo

# target WHAT NAME LIMIT BASE: is NAME's ns/op at most LIMIT times BASE's?
target() {
	local what=$1 name=$2 limit=$3 base=$4
	echo "target: $what <= ${limit}x $base: $(ratio "${ns[$name]}" "${ns[$base]}")" \
		"$(at_most "${ns[$name]}" "${ns[$base]}" "$limit")"
}

target "span op" span_op 1.0 trace_marker
target "span op" span_op 1.6 getppid
target "batch op" batch_op 0.1 trace_marker
target "disabled" disabled 0.02 getppid
kt_added=$(added pipe_ktracer)
ft_added=$(added pipe_ftrace)
echo "target: ktracer sched added cost <= ftrace sched_switch added cost:" \
	"${kt_added}ns vs ${ft_added}ns $(at_most "$kt_added" "$ft_added")"

# ktracer-read's conversion, on the host: synthetic buffers of 1 M and
# 10 M records through the Chrome writer (user/read/bench/).
echo
echo "# ktracer-read on the host (make -C user/read bench):"
quiet "ktracer-read's benchmark" "$dir/read-bench.log" \
	make -s -C user/read bench B="$KT_BUILD/read-bench"
sed 's/^/# /' "$dir/read-bench.log"
# field KIND N WORD OFF: on read_bench's KIND N line, the field OFF after
# WORD (-1: the one before it).
field() {
	awk -v k="$1" -v n="$2" -v w="$3" -v o="$4" '$2 == k && $3 == n {
		for (i = 4; i <= NF; i++) if ($i == w) { print $(i + o); exit } }' \
		"$dir/read-bench.log"
}
rate=$(field json 10000000 M -1)
rss1=$(field json 1000000 RSS 1)
rss10=$(field json 10000000 RSS 1)
echo "target: reader >= 20 M records/s per core (JSON, 10 M): ${rate} M" \
	"$(at_most 20 "$rate")"
echo "target: reader peak RSS < 32 MiB, the same for 1 M and 10 M records:" \
	"${rss1} and ${rss10} MiB $(awk -v a="$rss1" -v b="$rss10" \
	'BEGIN { print (b < 32 && b - a < 1) ? "met" : "MISSED" }')"
exit 0
