#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh: `make demo`. Builds ktracer.ko, libktracer, ktracer-read and
# the demo program (user/demo/), boots Debian's kernel in qemu with
# kt.run=demo, where user/demo/run starts ktracer-read and a StatsD sink
# on loopback, runs ktracer-demo (a thread-pool server: regions, tasks,
# a one-slot cancel, a gauge, a counter, logs, syscalls, IO on null_blk)
# with kernel sources on, and stops. Brings back to demo/ in the repository:
#	trace.json	the Chrome trace: open it in ui.perfetto.dev or
#			Chrome DevTools (Performance, "Load profile")
#	statsd.txt	the StatsD lines ktracer-read sent, as received
#	demo.txt	what the demo did (KT-DEMO-EXPECT lines)
#	reader.txt	ktracer-read's summary
# and prints a summary. Exits non-zero if something did not build, the VM
# run was not clean (scripts/vm/verdict.sh) or a file did not come back.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$KT_ROOT"

dir=$KT_BUILD/demo
out=$KT_ROOT/demo
cc=(gcc -std=c11 -O2 -static -Wall -Wextra -Werror -pthread)

rm -rf "$dir"
mkdir -p "$dir/guest" "$dir/no-tests" "$out"
rm -f "$out"/*.json "$out"/*.txt

quiet "building the modules" "$dir/modules.log" kt_build_modules "$KT_KDIR" "$dir"
quiet "building libktracer" "$dir/lib.log" make -C user/lib O="$dir/lib"
quiet "building ktracer-read" "$dir/read.log" \
	make -C user/read B="$dir/read" LDFLAGS=-static
quiet "building ktracer-demo" "$dir/demo.log" "${cc[@]}" -Iuser/include -Iuapi \
	-o "$dir/guest/ktracer-demo" user/demo/ktracer-demo.c "$dir/lib/libktracer.a"
quiet "building statsd-sink" "$dir/sink.log" "${cc[@]}" \
	-o "$dir/guest/statsd-sink" user/demo/statsd-sink.c
cp "$dir/read/ktracer-read" "$dir/guest/"
install -m 755 user/demo/run "$dir/guest/run"
quiet "collecting null_blk.ko" "$dir/extra.log" extra_modules "$KT_KMODULES" "$dir/extra" null_blk

scripts/vm/mkinitramfs.sh -x "$dir/extra" -d "$dir/guest" "$dir/initramfs.cpio.gz" \
	"$dir/ktracer/ktracer.ko" "$dir/rig/kt_splat.ko" "$dir/no-tests"
echo "# booting $KT_KVER in qemu (TCG) with kt.run=demo ..."
scripts/vm/run.sh "$KT_KIMAGE" "$dir/initramfs.cpio.gz" "$dir/vm" kt.run=demo
echo "# $(cat "$dir/vm/vm.info")"

kt_vm_results "$dir/vm" demo || exit 1
kt_vm_files "$dir/vm" "$out" demo trace.json statsd.txt demo.txt reader.txt || exit 1

echo
echo "# what the demo did (demo/demo.txt):"
sed -n 's/^KT-DEMO-EXPECT /#   /p' "$out/demo.txt"
echo "# what ktracer-read saw (demo/reader.txt):"
sed 's/^/#   /' "$out/reader.txt"
echo "# StatsD: $(grep -c . "$out/statsd.txt") lines in demo/statsd.txt; the timings:"
grep -E '_us\.(min|max|avg|count):' "$out/statsd.txt" | head -n 12 | sed 's/^/#   /'
echo
echo "demo/trace.json: $(stat -c %s "$out/trace.json") bytes. Open it in https://ui.perfetto.dev"
echo "(Open trace file) or in Chrome DevTools (Performance panel, Load profile)."
