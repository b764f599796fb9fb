#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# prof.sh OP [UNITS [TOP]]: where the guest instructions of one of
# ops_bench's measurements go, function by function, kernel and program.
#
# Builds ktracer.ko and ops_bench as make bench does, and the qemu plugin
# bench/prof/insn_prof.c; boots Debian's kernel as bench.sh's icount boot
# does (tcg,thread=single, one vCPU, -icount shift=0,sleep=off,
# ktracer.trust_tsc=1; and nokaslr, so that addresses stay put from one
# run to the next) with kt.run=prof: ops_bench runs OP's loop for UNITS ops
# (default 65536) between two marker instructions, and the plugin counts
# the instructions executed at each guest address between them. The guest
# then sends its /proc/kallsyms. bench/prof/report.py prints the counts
# per op, next to the clock's (the -icount figure make bench reports), and
# the TOP functions (default 25). Everything stays in build/prof/OP/:
# functions.txt (every function), addrs.txt (every address as
# symbol+offset: with `objdump -d` of ktracer.ko, the hot instructions).
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$KT_ROOT"

op=${1:?usage: prof.sh OP [UNITS [TOP]] (OP: a measurement of bench/ops_bench.c, e.g. queue_op)}
units=${2:-65536}
top=${3:-25}
case "$op$units$top" in
*[!a-z0-9_]*) echo "prof.sh: OP is a measurement's name, UNITS and TOP numbers" >&2; exit 1 ;;
esac
dir=$KT_BUILD/prof/$op

rm -rf "$dir"
mkdir -p "$dir/bin" "$dir/no-tests"

quiet "building the modules" "$dir/modules.log" \
	kt_build_modules "$KT_KDIR" "$dir"
quiet "building libktracer" "$dir/lib.log" kt_bench_lib "$dir"
quiet "building bench/ops_bench.c" "$dir/ops_bench.log" \
	kt_bench_prog bench/ops_bench.c "$dir/bin/ops_bench" "$dir"
quiet "building bench/prof/insn_prof.c" "$dir/insn_prof.log" \
	gcc -O2 -shared -fPIC -fvisibility=hidden -std=gnu11 -Wall -Wextra -Werror \
	-o "$dir/insn_prof.so" bench/prof/insn_prof.c

"$KT_ROOT/scripts/vm/mkinitramfs.sh" "$dir/initramfs.cpio.gz" \
	"$dir/ktracer/ktracer.ko" "$dir/rig/kt_splat.ko" "$dir/no-tests" "$dir/bin"

echo "# booting $KT_KVER in qemu (tcg,thread=single, 1 vCPU, -icount shift=0,sleep=off, insn_prof) with kt.run=prof kt.prof=$op,$units ..."
KT_VM_ACCEL=tcg,thread=single KT_VM_SMP=1 KT_VM_ICOUNT=shift=0,sleep=off \
	KT_VM_PLUGIN="$dir/insn_prof.so,out=$dir/vm/insns.txt" \
	"$KT_ROOT/scripts/vm/run.sh" "$KT_KIMAGE" "$dir/initramfs.cpio.gz" \
	"$dir/vm" kt.run=prof "kt.prof=$op,$units" ktracer.trust_tsc=1 nokaslr
echo "# $(cat "$dir/vm/vm.info")"
# kallsyms, gzipped, in base64 between KT-FILE lines, out of the log the
# verdict reads: its splat patterns ("Oops", "BUG:") turn up in base64.
mv "$dir/vm/results.log" "$dir/vm/results.raw"
tr -d '\r' < "$dir/vm/results.raw" |
	awk '$1 == "KT-FILE-END" && $2 == "kallsyms" { on = 0 }
	     on { print > "/dev/stderr"; next }
	     $1 == "KT-FILE-BEGIN" && $2 == "kallsyms" { on = 1 }
	     { print }' 2> "$dir/kallsyms.b64" > "$dir/vm/results.log"
cp "$dir/vm/results.log" "$dir/vm/results.clean"
if ! "$KT_ROOT/scripts/vm/verdict.sh" "$dir/vm" "prof-$op" 1 >/dev/null; then
	echo "prof.sh: the VM run was not clean: $(cat "$dir/vm/verdict")" >&2
	grep -v '^KT-' "$dir/vm/results.clean" | sed 's/^/#   /' >&2 || true
	echo "# last lines of $dir/vm/console.log:" >&2
	tr -d '\r' < "$dir/vm/console.log" | tail -n 25 | sed 's/^/#   /' >&2
	exit 1
fi
[ -s "$dir/vm/insns.txt" ] ||
	{ echo "prof.sh: the plugin wrote no $dir/vm/insns.txt; see $dir/vm/qemu.log" >&2; exit 1; }
base64 -d "$dir/kallsyms.b64" | gunzip > "$dir/kallsyms" ||
	{ echo "prof.sh: /proc/kallsyms did not come back from the VM" >&2; exit 1; }

python3 bench/prof/report.py "$dir/vm/insns.txt" "$dir/kallsyms" \
	"$dir/vm/results.clean" "$dir/bin/ops_bench" "$dir" "$top" | tee "$dir/profile.txt"
