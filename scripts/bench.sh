#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh: what ktracer's operations cost, as `make bench` runs it.
# Builds ktracer.ko (and kt_splat.ko, which the initramfs carries) against
# Debian's kernel headers and every bench/*.c as a static program, and
# boots Debian's kernel in qemu with kt.run=bench twice, on one vCPU:
#
#   icount  qemu's -icount shift=0,sleep=off: one ns of the guest's clock
#           is one guest instruction, so the programs' CLOCK_MONOTONIC
#           deltas are instruction counts, the same to 0.01 from one boot
#           to the next. The targets are judged on these.
#   tcg     plain TCG: wall time, which moves by up to 2x between boots
#           and weighs emulation artefacts (a `rep movsb` runs byte by
#           byte); shown next to the counts, for what a cost is in time.
#
# It prints two tables from the programs' "KT-RESULT <name> <value>"
# lines: ops_bench's cost per op (or pair), with ratios to the references
# measured in the same boot (getppid, an unknown ioctl, trace_marker,
# the batched op), and sched_bench's cost per pipe round trip on one CPU,
# with what ftrace's sched_switch + sched_waking events and ktracer's
# SCHED source add, per round trip and per kernel event. Then each target,
# the figure it is judged on, the value and whether it is met.
#
# A benchmark is not a test: a missed target is reported, not failed.
# Exits non-zero only if something did not build, a VM run was not clean
# (scripts/vm/verdict.sh) or a result is missing; an op the module cannot
# run (the queues before ABI 2.1) is "n/a". KT_BENCH_BOOTS="icount tcg"
# (the default) chooses the boots. Logs stay in build/bench/<boot>/.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$KT_ROOT"

dir=$KT_BUILD/bench
boots=${KT_BENCH_BOOTS:-icount tcg}
# What every boot must report; ops_bench's other ops may be n/a.
refs=(getppid ioctl_floor trace_marker span_op batch_op disabled)
sched_names=(pipe_base pipe_ftrace pipe_ktracer)

rm -rf "$dir"
mkdir -p "$dir/bin" "$dir/no-tests"

quiet "building the modules" "$dir/modules.log" \
	kt_build_modules "$KT_KDIR" "$dir"

quiet "building libktracer" "$dir/lib.log" kt_bench_lib "$dir"
for src in bench/*.c; do
	prog=$(basename "$src" .c)
	quiet "building $src" "$dir/$prog.log" \
		kt_bench_prog "$src" "$dir/bin/$prog" "$dir"
done

"$KT_ROOT/scripts/vm/mkinitramfs.sh" "$dir/initramfs.cpio.gz" \
	"$dir/ktracer/ktracer.ko" "$dir/rig/kt_splat.ko" "$dir/no-tests" "$dir/bin"

# What the bench programs of boot B printed, KT- lines aside: their own
# tables, or why they gave up.
show_output() {
	grep -v -e '^KT-' -e '^$' "$dir/$1/results.clean" | sed "s/^/# $1: /" || true
}

# boot B: one VM run with kt.run=bench, judged. One vCPU in both boots
# (qemu 7.2 hangs at "Booting SMP configuration" with -icount and two),
# in one host thread (the accel -icount needs). qemu's CPU does not say
# its TSC is invariant, so ktracer is told to trust it (trust_tsc=1):
# the *_tsc ops then measure the library's clock, rdtsc.
boot() {
	local b=$1 icount=
	[ "$b" = icount ] && icount=shift=0,sleep=off
	echo "# booting $KT_KVER in qemu (tcg,thread=single, 1 vCPU${icount:+, -icount $icount}) with kt.run=bench ..."
	KT_VM_ACCEL=tcg,thread=single KT_VM_SMP=1 KT_VM_ICOUNT=$icount \
		"$KT_ROOT/scripts/vm/run.sh" "$KT_KIMAGE" "$dir/initramfs.cpio.gz" \
		"$dir/$b" kt.run=bench ktracer.trust_tsc=1
	echo "# $b: $(cat "$dir/$b/vm.info")"
	tr -d '\r' < "$dir/$b/results.log" > "$dir/$b/results.clean"
	if ! "$KT_ROOT/scripts/vm/verdict.sh" "$dir/$b" "bench-$b" 1; then
		show_output "$b"
		echo "# last lines of $dir/$b/console.log:"
		tr -d '\r' < "$dir/$b/console.log" | tail -n 25 | sed 's/^/#   /'
		exit 1
	fi
	show_output "$b"
}

# val[B:NAME]: boot B's value of NAME, "n/a", or unset; evs[B:NAME]: a
# sched config's events per round trip; ops: ops_bench's names, in order.
declare -A val evs unit what na
ops=()
for b in $boots; do
	boot "$b"
	while read -r tag name rest; do
		case "$tag" in
		KT-OP)
			if [ -z "${unit[$name]:-}" ]; then
				ops+=("$name")
				unit[$name]=${rest%% *}
				what[$name]=${rest#* }
			fi ;;
		KT-RESULT)
			val[$b:$name]=${rest%% *}
			[ "${rest%% *}" != n/a ] || na[$name]=${rest#n/a }
			;;
		KT-EVENTS) evs[$b:$name]=$rest ;;
		esac
	done < "$dir/$b/results.clean"
	missing=
	for name in "${refs[@]}" "${sched_names[@]}"; do
		[[ "${val[$b:$name]:-}" =~ ^[0-9]+(\.[0-9]+)?$ ]] || missing="$missing $name"
	done
	if [ -n "$missing" ]; then
		echo "bench: no KT-RESULT from the $b boot for:$missing (see $dir/$b/results.clean)" >&2
		exit 1
	fi
done

# calc EXPR A B: EXPR of a and b, "-" if either is not a number (a boot
# not run, an op n/a) or b is 0 where EXPR divides.
calc() {
	awk -v e="$1" -v a="$2" -v b="${3:-1}" 'BEGIN {
		if (a !~ /^-?[0-9.]+$/ || b !~ /^-?[0-9.]+$/) { print "-"; exit }
		if (e == "ratio") {
			if (b + 0 == 0) { print "-"; exit }
			r = a / b
			printf(r < 1 ? "%.3fx\n" : "%.2fx\n", r)
		} else if (e == "over") {
			printf("%+.0f\n", a - b)
		} else if (e == "div") {
			printf(b + 0 ? "%.1f\n" : "-\n", b + 0 ? a / b : 0)
		} else if (e == "minus") {
			printf("%.1f\n", a - b)
		} else {
			printf(a < 100 ? "%.2f\n" : "%.1f\n", a)
		}
	}'
}

# v B NAME: boot B's value of NAME, or "-".
v() {
	echo "${val[$1:$2]:--}"
}

echo
echo "## ktracer's ops (bench/ops_bench.c): guest instructions (icount boot) and TCG ns (tcg boot) per op"
echo
echo "| operation | per | instructions | x getppid | over ENOTTY floor | x trace_marker | x batch_op | TCG ns | x getppid | x trace_marker |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for name in "${ops[@]}"; do
	if [ -n "${na[$name]:-}" ]; then
		echo "| $name | ${unit[$name]} | n/a: ${na[$name]} | | | | | | | |"
		continue
	fi
	i=$(v icount "$name") t=$(v tcg "$name")
	echo "| $name | ${unit[$name]} | $(calc num "$i") | $(calc ratio "$i" "$(v icount getppid)")" \
		"| $(calc over "$i" "$(v icount ioctl_floor)") | $(calc ratio "$i" "$(v icount trace_marker)")" \
		"| $(calc ratio "$i" "$(v icount batch_op)") | $(calc num "$t")" \
		"| $(calc ratio "$t" "$(v tcg getppid)") | $(calc ratio "$t" "$(v tcg trace_marker)") |"
done
echo
for name in "${ops[@]}"; do
	echo "- $name: ${what[$name]}"
done

# added B NAME: what NAME adds to pipe_base's round trip in boot B.
added() {
	calc minus "$(v "$1" "$2")" "$(v "$1" pipe_base)"
}
# kernel events per round trip: those ftrace recorded (sched_switch and
# sched_waking, the tracepoints ktracer's SCHED source records).
kev=${evs[icount:pipe_ftrace]:-${evs[tcg:pipe_ftrace]:-}}

echo
echo "## The scheduler (bench/sched_bench.c): a pipe ping-pong between two processes on CPU 0"
echo
echo "| config | instructions per round trip | added | recorded per round trip | added per kernel event | added per record | TCG ns per round trip | added |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for name in "${sched_names[@]}"; do
	a=$(added icount "$name")
	rec=${evs[icount:$name]:-${evs[tcg:$name]:-}}
	echo "| $name | $(calc num "$(v icount "$name")") | $a | $rec | $(calc div "$a" "$kev")" \
		"| $(calc div "$a" "$rec") | $(calc num "$(v tcg "$name")") | $(added tcg "$name") |"
done
echo
echo "Kernel events per round trip: $kev (the sched_switch and sched_waking events ftrace recorded);"
echo "ktracer writes one record per switch (a SWITCH; a STOP or START alone where one side is not recorded) and one per wake-up."

# target WHAT BASIS VALUE LIMIT: a line "target: WHAT: VALUE <= LIMIT
# [BASIS]: met|MISSED", or n/a when VALUE is not a number.
target() {
	local label=$1 basis=$2 value=$3 limit=$4
	awk -v w="$label" -v s="$basis" -v a="$value" -v l="$limit" 'BEGIN {
		if (a !~ /^-?[0-9.]+$/ || l !~ /^-?[0-9.]+$/) {
			printf("target: %s [%s]: n/a (%s)\n", w, s, a)
			exit
		}
		printf("target: %s: %.2f <= %.2f [%s]: %s\n", w, a, l, s,
		       a <= l ? "met" : "MISSED")
	}'
}
# x LIMIT B NAME: LIMIT times boot B's NAME ("-" if unknown).
x() {
	awk -v l="$1" -v a="$(v "$2" "$3")" \
		'BEGIN { if (a ~ /^[0-9.]+$/) print l * a; else print "-" }'
}
# na_or B NAME: NAME's value, or why it is n/a.
na_or() {
	if [ -n "${na[$2]:-}" ]; then echo "${na[$2]}"; else v "$1" "$2"; fi
}

ik="guest instructions, icount boot"
kt_ev=$(calc div "$(added icount pipe_ktracer)" "$kev")
ft_ev=$(calc div "$(added icount pipe_ftrace)" "$kev")
echo
echo "## Targets (information, not a test: a miss does not fail make bench)"
echo
# The program's ops are judged on the clock the library reads: the TSC
# where the kernel makes TSC queues, else CLOCK_MONOTONIC.
qop() {
	if [ -z "${na[${1}_tsc]:-}" ] && [ -n "${val[icount:${1}_tsc]:-}" ]; then
		echo "${1}_tsc"
	else
		echo "$1"
	fi
}
j_queue_op=$(qop queue_op)
j_queue_op_1k=$(qop queue_op_1k)
j_queue_write=$(qop queue_write)
j_region_pair=$(qop region_pair)
j_region_1k=$(qop region_pair_1k)
# End to end, an op pays its share of the FLUSH that drains it. A busy
# thread's queue is drained 1024 entries or more at a time (the periodic
# drain, or the library's FLUSH at 3/4 of its 2048-entry ring): the
# targets are judged there. FLUSH every 64 ops is the costly extreme.
target "program op end to end, a busy thread's cadence ($j_queue_op_1k: call, clock read, entry, drain and record), instructions" \
	"$ik" "$(na_or icount "$j_queue_op_1k")" 200
target "the same with a FLUSH every 64 ops ($j_queue_op), instructions" \
	"$ik" "$(na_or icount "$j_queue_op")" 200
target "program op, the program's part alone ($j_queue_write), instructions" \
	"$ik" "$(na_or icount "$j_queue_write")" 60
target "region begin+end pair end to end, a busy thread's cadence ($j_region_1k, two ops), instructions" \
	"$ik" "$(na_or icount "$j_region_1k")" 400
target "the same with a FLUSH every 32 pairs ($j_region_pair), instructions" \
	"$ik" "$(na_or icount "$j_region_pair")" 400
target "batched op (batch_op) vs a 40-byte trace_marker write, <= 0.1x" \
	"$ik" "$(v icount batch_op)" "$(x 0.1 icount trace_marker)"
target "single op (span_op) vs the ENOTTY floor (ioctl_floor) + 300" \
	"$ik" "$(v icount span_op)" "$(calc minus "$(v icount ioctl_floor)" -300)"
target "per kernel event, ktracer SCHED vs ftrace sched_switch+sched_waking, <= 0.6x" \
	"$ik, pipe ping-pong, added per event" "$kt_ev" \
	"$(awk -v f="$ft_ev" 'BEGIN { if (f ~ /^[0-9.]+$/) print 0.6 * f; else print "-" }')"
target "per kernel event <= 0.5x LTTng's" "LTTng is not in this VM: make bench-peers" \
	"not measured here" -
target "program op end to end <= 0.2x LTTng-UST's tracepoint()" \
	"LTTng-UST is not in this VM: make bench-peers" "not measured here" -
target "span op (span_op) vs a 40-byte trace_marker write, <= 1.0x" \
	"$ik" "$(v icount span_op)" "$(v icount trace_marker)"
# The disabled path makes no system call: a load and a branch, with the
# loop around them (an increment, a compare, a jump) about 7 instructions.
target "disabled check (disabled): no system call, instructions" \
	"$ik, the loop's own included" "$(v icount disabled)" 10

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
echo "target: reader >= 20 M records/s per core (JSON, 10 M) [host CPU time]: ${rate} M" \
	"$(awk -v a="$rate" 'BEGIN { print (a >= 20) ? "met" : "MISSED" }')"
# Instructions per record, which do not move with the host's load:
# valgrind's count of a 1 M-record JSON run minus the writer's alone.
irefs() {
	valgrind --tool=callgrind --callgrind-out-file=/dev/null \
		"$KT_BUILD/read-bench/read_bench" 1000000 "$1" 2>&1 >/dev/null |
		awk '/Collected :/ { print $NF }'
}
ipr=$(awk -v a="$(irefs json)" -v b="$(irefs gen)" \
	'BEGIN { if (a > 0 && b > 0) printf("%.0f\n", (a - b) / 1e6); else print "-" }')
echo "reader: $ipr instructions per record (JSON, 1 M records, valgrind --tool=callgrind; the writer's own taken out)"
echo "target: reader peak RSS < 32 MiB, the same for 1 M and 10 M records [host]:" \
	"${rss1} and ${rss10} MiB $(awk -v a="$rss1" -v b="$rss10" \
	'BEGIN { print (b < 32 && b - a < 1) ? "met" : "MISSED" }')"
exit 0
