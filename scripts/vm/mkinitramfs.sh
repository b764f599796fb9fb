#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkinitramfs.sh [-x MODDIR] [-d DEMODIR] [-p PROGDIR] [-r ROOTDIR] OUT.cpio.gz KTRACER.KO [SPLAT.KO TESTDIR [BENCHDIR]]
# An initramfs with busybox-static, /init, the modules and every
# program in TESTDIR (run by /init in kt.run=test) and BENCHDIR. With -x,
# MODDIR's files (the kernel's own modules that tests load, and their
# load.order) go to /lib/modules/extra/; with -d, DEMODIR's to /demo
# (kt.run=demo runs /demo/run); with -p, PROGDIR's to /prog (kt.run=prog
# runs /prog/run: make run, which needs no tests nor kt_splat.ko); with
# -r, ROOTDIR's tree over all that (make bench-peers: programs, their
# shared libraries and kernel modules at the paths they have on the host).
set -euo pipefail

extra= demo= prog= root=
while [ $# -gt 0 ]; do
	case "$1" in
	-x) extra=$2; shift 2 ;;
	-d) demo=$2; shift 2 ;;
	-p) prog=$2; shift 2 ;;
	-r) root=$2; shift 2 ;;
	*) break ;;
	esac
done
out=$1 ko=$2 splat=${3:-} tests=${4:-} bench=${5:-}
here=$(cd "$(dirname "$0")" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

chmod 755 "$stage"
mkdir -p "$stage"/{bin,dev,proc,sys,tmp,lib/modules,selftests,bench}
cp /bin/busybox "$stage/bin/busybox"
install -m 755 "$here/init" "$stage/init"
cp "$ko" ${splat:+"$splat"} "$stage/lib/modules/"
[ -z "$tests" ] || cp -r "$tests"/. "$stage/selftests/"
[ -z "$bench" ] || cp -r "$bench"/. "$stage/bench/"
if [ -n "$extra" ]; then
	mkdir -p "$stage/lib/modules/extra"
	cp -r "$extra"/. "$stage/lib/modules/extra/"
fi
if [ -n "$demo" ]; then
	mkdir -p "$stage/demo"
	cp -r "$demo"/. "$stage/demo/"
fi
if [ -n "$prog" ]; then
	mkdir -p "$stage/prog"
	cp -r "$prog"/. "$stage/prog/"
fi
[ -z "$root" ] || cp -a "$root"/. "$stage/"
chmod 1777 "$stage/tmp"
(cd "$stage" && find . -print0 | cpio --null -o -H newc --owner=0:0 --quiet) |
	gzip -1 > "$out"
