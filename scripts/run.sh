#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh: `make run PROG=path/to/static-binary [ARGS="..."] [KVER=...]
# [OUT=dir]`. Builds ktracer.ko, ktracer and a StatsD sink, boots the
# kernel KVER (default Debian's 6.1; also 6.12's) in qemu with
# kt.run=prog, where scripts/vm/prog-run records PROG ARGS with
# `ktracer record -o trace.json --statsd 127.0.0.1:8125 -- PROG ARGS`,
# and brings back into OUT (default build/run/<prog>-<timestamp>/):
#	trace.json	the Chrome trace: open it in ui.perfetto.dev
#	statsd.txt	the StatsD lines ktracer sent, as received
#	trace.txt	debugfs "trace" after the recording
#	record.txt	ktracer record's messages and summary, and PROG's
#			stderr
#	output.txt	PROG's stdout
#	status.txt	PROG's exit status
# PROG runs in a busybox initramfs without libc: link it statically.
# Exits non-zero if something did not build, the VM run was not clean
# (scripts/vm/verdict.sh) or a file did not come back; not for PROG's
# own exit status, which it prints.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$KT_ROOT"

prog=${PROG:-}
[ -n "$prog" ] || { echo "make run: PROG=path/to/static-binary is needed" >&2; exit 2; }
[ -f "$prog" ] && [ -x "$prog" ] || { echo "make run: $prog: not an executable file" >&2; exit 2; }
if file -L "$prog" 2>/dev/null | grep -q 'dynamically linked'; then
	echo "make run: $prog is dynamically linked: the VM has no libc (link it with -static)" >&2
	exit 2
fi
kver=${KVER:-$KT_KVER}
case "$kver" in
"$KT_KVER") kdir=$KT_KDIR image=$KT_KIMAGE ;;
"$KT_612_KVER") kdir=$KT_612_KDIR image=$KT_612_KIMAGE ;;
*) echo "make run: KVER=$kver: not one of $KT_KVER, $KT_612_KVER" >&2; exit 2 ;;
esac
name=${prog##*/}
dir=$KT_BUILD/run-vm
out=${OUT:-$KT_BUILD/run/$name-$(date +%Y%m%d-%H%M%S)}

rm -rf "$dir"
mkdir -p "$dir/guest" "$out"
echo "# building ktracer.ko for $kver, ktracer and statsd-sink"
quiet "building ktracer.ko" "$dir/modules.log" \
	kt_kbuild "$kdir" "$dir/ktracer" Kbuild module uapi --
quiet "building ktracer" "$dir/read.log" \
	make -C user/read B="$KT_BUILD/read-static" LDFLAGS=-static
quiet "building statsd-sink" "$dir/sink.log" gcc -std=c11 -O2 -static -pthread \
	-Wall -Wextra -Werror -o "$dir/guest/statsd-sink" user/demo/statsd-sink.c
cp "$KT_BUILD/read-static/ktracer" "$dir/guest/"
cp "$prog" "$dir/guest/$name"
echo "$name" > "$dir/guest/prog"
printf '%s\n' "${ARGS:-}" > "$dir/guest/args"
install -m 755 scripts/vm/prog-run "$dir/guest/run"
scripts/vm/mkinitramfs.sh -p "$dir/guest" "$dir/initramfs.cpio.gz" \
	"$dir/ktracer/ktracer.ko"

echo "# booting $kver in qemu (TCG), recording $name ${ARGS:-}..."
scripts/vm/run.sh "$image" "$dir/initramfs.cpio.gz" "$dir/vm" kt.run=prog &
vm=$!
# The VM's progress as it comes: boot, module, recording, the end.
seen=0
while kill -0 $vm 2>/dev/null; do
	sleep 1
	[ -f "$dir/vm/results.log" ] || continue
	n=$(wc -l < "$dir/vm/results.log")
	[ "$n" -gt "$seen" ] || continue
	sed -n "$((seen + 1)),${n}p" "$dir/vm/results.log" | tr -d '\r' |
		grep -E '^(KT-BEGIN|KT-INSMOD|KT-PROG|KT-DEMO|KT-END)' |
		sed -e 's/^KT-BEGIN /#   booted: /' \
		    -e 's/^KT-INSMOD /#   insmod ktracer.ko: /' \
		    -e 's/^KT-PROG /#   /' -e 's/^KT-DEMO run /#   recorded: /' \
		    -e 's/^KT-END$/#   the VM is done/' || true
	seen=$n
done
wait $vm
echo "# $(cat "$dir/vm/vm.info")"
kt_vm_results "$dir/vm" run || exit 1
kt_vm_files "$dir/vm" "$out" "make run" trace.json statsd.txt trace.txt record.txt \
	output.txt status.txt || exit 1

echo "# $name's output:"
sed 's/^/#   /' "$out/output.txt"
echo "# $name exited with status $(cat "$out/status.txt")"
sed 's/^/# /' "$out/record.txt"
echo "# $(grep -c . "$out/statsd.txt") StatsD lines, $(grep -c . "$out/trace.txt") lines of debugfs trace"
echo "$out/trace.json: $(stat -c %s "$out/trace.json") bytes: open it in https://ui.perfetto.dev"
echo "$out/: statsd.txt trace.txt record.txt output.txt status.txt"
