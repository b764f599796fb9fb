#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (once) a small debug kernel from Debian's linux-source-6.12 (the
# newest LTS source Debian 12 has):
# tinyconfig + scripts/debug-kernel.config (KASAN, lockdep, kmemleak,
# DEBUG_ATOMIC_SLEEP, ...). The build tree is cached outside the repo in
# $KTRACER_CACHE/debug-kernel-<source version>-<config hash>/ and doubles
# as the KDIR for building ktracer.ko against it. Prints that directory.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${KTRACER_CACHE:-$HOME/.cache/ktracer}
FRAG=$HERE/debug-kernel.config
"$HERE/setup.sh"
KSRC=$(sed -n 's/^KT_KSRC := //p' "$CACHE/env.mk")
SVER=${KSRC##*/linux-source-}
HASH=$(sha256sum "$FRAG" | cut -c1-12)
OUT=$CACHE/debug-kernel-$SVER-$HASH

if [ -e "$OUT/.ok" ]; then
	echo "$OUT"
	exit 0
fi

echo "debug-kernel: building $OUT (3-5 minutes on 2 cores)" >&2
rm -rf "$OUT" && mkdir -p "$OUT"
make -s -C "$KSRC" O="$OUT" tinyconfig >/dev/null
"$KSRC/scripts/kconfig/merge_config.sh" -m -O "$OUT" "$OUT/.config" "$FRAG" >/dev/null
make -s -C "$KSRC" O="$OUT" olddefconfig >/dev/null
bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=y | "# CONFIG_"*" is not set")
		grep -qx "$line" "$OUT/.config" ||
		{ echo "debug-kernel: '$line' did not survive olddefconfig" >&2; bad=1; } ;;
	esac
done < "$FRAG"
[ $bad = 0 ] || exit 1

# "modules" for Module.symvers, which modules built against this tree
# need: 6.12's tree writes only vmlinux.symvers without it (6.1's wrote
# both), and modpost then finds no kernel symbol at all.
start=$(date +%s)
if ! make -s -C "$KSRC" O="$OUT" -j"$(nproc)" bzImage modules modules_prepare \
	> "$OUT/build.log" 2>&1; then
	tail -n 30 "$OUT/build.log" >&2
	echo "debug-kernel: build failed, full log in $OUT/build.log" >&2
	exit 1
fi
echo "debug-kernel: built in $(($(date +%s) - start)) s" >&2
touch "$OUT/.ok"
# Builds for other sources or configs are of no further use.
for old in "$CACHE"/debug-kernel-*; do
	[ "$old" = "$OUT" ] || rm -rf "$old"
done
echo "$OUT"
