#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh [STAGE...]: ktracer's whole test suite, as `make check` runs it.
# Stages (default: all, in this order):
#   (selftests: builds the kselftests once; added before debian/debug)
#   lint     checkpatch --strict, sparse C=2, W=1 (scripts/lint.sh)
#   uapi     the uapi header alone, as C90 and C11
#   debian   kselftests in a VM booting Debian 12's kernel (6.1), and the
#            rig's self-check: a planted WARN must turn that run red
#   debian612  the same on Debian 12's 6.12 LTS kernel
#   sid      the same on Debian sid's newest kernel, its modules built in
#            the sid chroot (with sid's gcc)
#   user     libktracer's and ktracer-read's host tests (no kernel)
#   debug    the kselftests on the debug kernel (KASAN, lockdep, kmemleak,
#            ...; built from linux-source-6.12)
#            with panic_on_warn=1 oops=panic, and the self-check: a planted
#            use-after-free and a planted leak must each turn it red
#   demo     make demo in the VM, its trace checked by the Chrome DevTools
#            trace engine and its StatsD lines by the reference daemon
#   readme   every command of README.md, run as the README says: on the
#            host, and in a VM booting Debian's kernel (scripts/readme-test.sh)
#   stress   (not in the default list; `make stress`) the full-length
#            stress, fuzz and load/unload kselftests on Debian's kernel,
#            which `debian` and `debug` run shortened
#
# KT_TESTS=a_test,b_test runs only those kselftests in the VMs (and
# skips the planted-fault runs when set), for a quick run while working.
#
# Prints one numbered "ok"/"not ok" line per result and closes with
# "N passed, N failed", exiting non-zero if anything failed.
set -uo pipefail
. "$(dirname "$0")/env.sh"
cd "$KT_ROOT"

stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(lint uapi user debian debian612 sid debug demo readme)
case " ${stages[*]} " in
*" debian "* | *" debian612 "* | *" sid "* | *" debug "* | *" stress "*)
	stages=(selftests "${stages[@]}") ;;
esac

n=0 passed=0 failed=0 skipped=0
t0=$(date +%s)

# Number and count the "ok"/"not ok" lines of a stage; pass the rest on.
tally() {
	local l
	while IFS= read -r l; do
		case "$l" in
		"ok "*"# SKIP"*) n=$((n + 1)); skipped=$((skipped + 1)); echo "ok $n ${l#ok }" ;;
		"ok "*) n=$((n + 1)); passed=$((passed + 1)); echo "ok $n ${l#ok }" ;;
		"not ok "*) n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n ${l#not ok }" ;;
		*) echo "$l" ;;
		esac
	done
}

# step NAME CMD...: one result for a command, its output shown on failure.
step() {
	local name=$1 log
	shift
	log=$(mktemp)
	if "$@" > "$log" 2>&1; then
		echo "ok $name"
	else
		echo "not ok $name"
		tail -n 30 "$log" | sed 's/^/# /'
	fi
	rm -f "$log"
}

stage_lint() {
	"$KT_ROOT/scripts/lint.sh"
}

uapi_test() {	# uapi_test STD
	gcc -std="$1" -Wall -Wextra -Werror -pedantic -I"$KT_ROOT/uapi" \
		-o "$KT_BUILD/uapi/header_test-$1" selftests/uapi/header_test.c &&
		"$KT_BUILD/uapi/header_test-$1"
}

stage_uapi() {
	mkdir -p "$KT_BUILD/uapi"
	step "uapi: linux/ktracer.h alone, -std=c90 -pedantic, layout holds" uapi_test c90
	step "uapi: linux/ktracer.h alone, -std=c11 -pedantic, layout holds" uapi_test c11
}

build_selftests() {
	rm -rf "$KT_BUILD/selftests"
	make -j"$(nproc)" -C selftests/ktracer KSFT_INC="$KT_KSRC/tools/testing/selftests" \
		OUTPUT="$KT_BUILD/selftests"
}

# vm_boot KERNEL INITRD OUTDIR ARGS...: scripts/vm/run.sh, once. A kernel
# that dies before /init fails the run like any other death (verdict.sh).
vm_boot() {
	"$KT_ROOT/scripts/vm/run.sh" "$@"
}

# vm_suite STAGE KVER KDIR KERNEL "KERNEL ARGS" "MODULES" PLANT...: build
# the modules for one kernel (in the chroot KT_CHROOT, if set), boot it
# with the kselftests (and MODULES of its image, whose /lib/modules/KVER is
# KT_VM_KMODULES, for them to load), then once per planted fault. Results
# say "STAGE KVER:"; logs are in build/STAGE/.
vm_suite() {
	local label="$1 $2" kdir=$3 kernel=$4 args=$5 mods=$6 dir=$KT_BUILD/$1 plant what want
	local extra=()
	shift 6

	step "$label: build ktracer.ko and kt_splat.ko" kt_build_modules "$kdir" "$dir"
	[ -f "$dir/ktracer/ktracer.ko" ] && [ -x "$KT_BUILD/selftests/abi_test" ] || return 0
	if [ -n "$mods" ]; then
		step "$label: $mods.ko and its dependencies for the tests" \
			extra_modules "${KT_VM_KMODULES:-$KT_KMODULES}" "$dir/extra" $mods
		extra=(-x "$dir/extra")
	fi
	"$KT_ROOT/scripts/vm/mkinitramfs.sh" "${extra[@]}" "$dir/initramfs.cpio.gz" \
		"$dir/ktracer/ktracer.ko" "$dir/rig/kt_splat.ko" "$KT_BUILD/selftests"

	# The planted-fault VMs are independent of the main one, and each is
	# judged only by its own logs. The first plant (give the longest
	# first) boots alongside the main VM; more VMs than that at once only
	# contend for the two cores, so the others follow.
	plant_vm() {
		vm_boot "$kernel" "$dir/initramfs.cpio.gz" "$dir/vm-$1" \
			$args kt.run=none "kt.splat=$1"
	}
	[ -z "${KT_TESTS:-}" ] || set --
	[ $# -eq 0 ] || plant_vm "$1" &
	vm_boot "$kernel" "$dir/initramfs.cpio.gz" "$dir/vm" $args \
		${KT_FUZZ_SEED:+kt.fuzz_seed=$KT_FUZZ_SEED} \
		${KT_TESTS:+kt.tests=$KT_TESTS}
	wait
	for plant in "${@:2}"; do
		plant_vm "$plant"
	done
	echo "# $label: $(cat "$dir/vm/vm.info")"
	if ! "$KT_ROOT/scripts/vm/verdict.sh" "$dir/vm" "$label"; then
		echo "# last lines of $dir/vm/console.log:"
		tr -d '\r' < "$dir/vm/console.log" | tail -n 25 | sed 's/^/#   /'
	fi

	# The rig's self-check: each planted fault must turn the run red, and
	# for the reason planted (not, say, a boot that never got going). The
	# tests are skipped there: they have their own run.
	for plant in "$@"; do
		case "$plant" in
		warn) what="planted WARN"; want="kernel splat: .*WARNING:" ;;
		uaf) what="planted use-after-free"; want="kernel splat: .*KASAN" ;;
		leak) what="planted leak"; want="kmemleak leaks=[1-9]" ;;
		*) echo "not ok $label: rig: unknown plant '$plant'"; continue ;;
		esac
		echo "# $label, $what: $(cat "$dir/vm-$plant/vm.info")"
		if "$KT_ROOT/scripts/vm/verdict.sh" "$dir/vm-$plant" "$label $plant" > /dev/null; then
			echo "not ok $label: rig: a $what turns the run red # the run was judged clean"
		elif grep -q -E "$want" "$dir/vm-$plant/verdict"; then
			echo "ok $label: rig: a $what turns the run red"
		else
			echo "not ok $label: rig: a $what turns the run red # red, but not for that: $(cat "$dir/vm-$plant/verdict")"
		fi
	done
}

# Host tests of the user side, each ending in its own summary.
stage_user() {
	step "user: libktracer host tests (ASan, UBSan, TSan, install)" \
		make -C user/lib test O="$KT_BUILD/lib"
	step "user: ktracer-read host tests (ASan, UBSan)" \
		make -C user/read test B="$KT_BUILD/read"
	trace_check "$KT_BUILD/read/test-out"
	fuzz_read FUZZ_TIME=45 "45 s"
}

# The traces the reader's tests wrote in $1, imported by speedscope and
# the DevTools trace engine: no warning (scripts/trace-check).
trace_check() {
	local t out rc=0

	t=$(ls "$1"/*.json 2>/dev/null | grep -v /layout_check_) || {
		echo "not ok user: speedscope and DevTools import the reader's traces # no traces in $1"
		return 0
	}
	# shellcheck disable=SC2086
	out=$("$KT_ROOT/scripts/trace-check/run.sh" \
		--bad "$1/layout_check_bad.json" $t 2>&1) || rc=$?
	grep -E '^(not )?ok ' <<< "$out" | sed 's/^\(not \)\{0,1\}ok /&user: /'
	if [ $rc -ne 0 ] && ! grep -q '^not ok ' <<< "$out"; then
		echo "not ok user: speedscope and DevTools import the reader's traces"
		tail -n 20 <<< "$out" | sed 's/^/# /'
	fi
}

# ktracer-read's libFuzzer harness, for $1 (RUNS=N or FUZZ_TIME=SECS),
# said as $2; its numbers as a comment.
fuzz_read() {
	local log

	log=$(mktemp)
	if make -C user/read fuzz B="$KT_BUILD/read" "$1" > "$log" 2>&1; then
		echo "ok user: ktracer-read fuzzer, $2 (libFuzzer, ASan, UBSan)"
	else
		echo "not ok user: ktracer-read fuzzer, $2 (libFuzzer, ASan, UBSan)"
		grep -E -A 30 "ERROR|invalid JSON|datagram|bad StatsD|runtime error" "$log" |
			head -n 40 | sed 's/^/# /'
	fi
	grep -E "^Done [0-9]+ runs|average_exec_per_sec" "$log" | sed 's/^/# fuzz: /'
	rm -f "$log"
}

# The demo, and what it brought back checked by node tools.
stage_demo() {
	step "demo: make demo in the VM" "$KT_ROOT/scripts/demo.sh"
	if [ -f "$KT_ROOT/demo/trace.json" ]; then
		"$KT_ROOT/scripts/demo-check/run.sh" "$KT_ROOT/demo"
		step "demo: speedscope 1.25 imports trace.json with no warning" \
			"$KT_ROOT/scripts/trace-check/run.sh" "$KT_ROOT/demo/trace.json"
	fi
	step "demo: make run records user/demo/tree (fork, exec) in the VM" run_check
	[ -f "$KT_BUILD/run-check/trace.json" ] || return 0
	step "demo: make run's trace.json imports with no warning" \
		"$KT_ROOT/scripts/trace-check/run.sh" "$KT_BUILD/run-check/trace.json"
}

# make run on a small static program that forks a child that execs: the
# files come back, the program exited 0, its system calls are in the trace.
run_check() {
	local out=$KT_BUILD/run-check
	rm -rf "$out" && mkdir -p "$KT_BUILD/tree" &&
	gcc -std=c11 -O2 -static -Wall -Wextra -Werror \
		-o "$KT_BUILD/tree/tree" "$KT_ROOT/user/demo/tree.c" &&
	make -C "$KT_ROOT" run PROG="$KT_BUILD/tree/tree" ARGS=5 OUT="$out" &&
	[ "$(cat "$out/status.txt")" = 0 ] &&
	grep -q '^tree: child [0-9]* wrote 5 lines$' "$out/output.txt" &&
	grep -q '"name":"process_name","args":{"name":"tree"}' "$out/trace.json" &&
	grep -q '"name":"exit_group","cat":"syscall","args":{"nr":231,"exited":true}' "$out/trace.json" &&
	grep -q '^ktracer record: [0-9]* records' "$out/record.txt"
}

# Every command of README.md (scripts/readme-test.sh prints the results).
stage_readme() {
	"$KT_ROOT/scripts/readme-test.sh"
}

# The kselftests are the same programs for every kernel: built once.
stage_selftests() {
	step "build kselftests" build_selftests
}

stage_debian() {
	vm_suite debian "$KT_KVER" "$KT_KDIR" "$KT_KIMAGE" "" null_blk warn
}

# qemu's TCG CPU has no constant_tsc nor nonstop_tsc, so ktracer makes no
# TSC queues there unless told to trust the TSC: 6.1 runs as a user's
# machine without them would (the library falls back to CLOCK_MONOTONIC),
# the other kernels with trust_tsc=1, so that the TSC queues' conversion
# and the library's rdtsc path run through the whole suite.
tsc=ktracer.trust_tsc=1

stage_debian612() {
	KT_VM_KMODULES=$KT_612_KMODULES vm_suite debian612 "$KT_612_KVER" \
		"$KT_612_KDIR" "$KT_612_KIMAGE" "$tsc" null_blk warn
}

stage_sid() {
	KT_CHROOT=$KT_SID_ROOT KT_VM_KMODULES=$KT_SID_KMODULES vm_suite sid \
		"$KT_SID_KVER" "$KT_SID_KDIR" "$KT_SID_KIMAGE" "$tsc" null_blk warn
}

# The kselftests that run for minutes with KT_STRESS=1 (seconds without).
stress_tests=fuzz_test,stress_test,load_test

stage_stress() {
	fuzz_read RUNS=10000000 "10,000,000 inputs"
	KT_VM_TIMEOUT=5400 vm_suite stress "$KT_KVER" "$KT_KDIR" "$KT_KIMAGE" \
		"kt.stress=1 kt.tests=$stress_tests" null_blk
}

stage_debug() {
	local kdir

	kdir=$("$KT_ROOT/scripts/debug-kernel.sh") || {
		echo "not ok debug: build the debug kernel"
		return 0
	}
	# no5lvl: qemu's -cpu max has LA57, so the kernel ran on 5-level
	# page tables, and 6.1's arch_cpu_finalize_init() runs
	# identify_boot_cpu() with interrupts on: identify_cpu() zeroes
	# boot_cpu_data.x86_capability and reads CPUID again, and until
	# then pgtable_l5_enabled() (X86_FEATURE_LA57, not yet patched by
	# alternatives) is false. An interrupt in that window that KASAN
	# checks (memcpy() of a 5-level address, 0xff11...) found the
	# address below the 4-level KASAN_SHADOW_START: "KASAN:
	# wild-memory-access" in do_raw_spin_lock() <- handle_edge_irq(),
	# write at ff110000001920a8, interrupted identify_cpu+0x3ab <-
	# arch_cpu_finalize_init() <- start_kernel(), and a panic before
	# /init: 1 boot of 10 up to /init (2 of about 12 before that).
	# With no5lvl: 0 of 11 (same host, load 6-14). The Debian kernel
	# (no KASAN) keeps LA57.
	KT_VM_MEM=256 vm_suite debug "$(cat "$kdir/include/config/kernel.release")" \
		"$kdir" "$kdir/arch/x86/boot/bzImage" \
		"no5lvl panic_on_warn=1 oops=panic $tsc" "" leak uaf
}

for s in "${stages[@]}"; do
	case "$s" in
	lint|uapi|selftests|user|debian|debian612|sid|debug|demo|readme|stress) ;;
	*) echo "check.sh: unknown stage '$s' (lint, uapi, user, debian, debian612, sid, debug, demo, readme, stress)" >&2; exit 2 ;;
	esac
	echo "# == $s =="
	ts=$(date +%s)
	tally < <("stage_$s")
	echo "# $s took $(($(date +%s) - ts)) s"
done

echo "# total $(($(date +%s) - t0)) s"
summary="$passed passed, $failed failed"
[ $skipped = 0 ] || summary="$summary, $skipped skipped"
echo "$summary"
[ $failed = 0 ] && [ $n -gt 0 ]
