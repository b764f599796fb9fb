#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install and cache everything ktracer's build, lint and VM tests need.
# Idempotent: a second run checks and returns in well under a second.
#
# Uses apt-get only. Outside the repository, in $KTRACER_CACHE
# (default ~/.cache/ktracer), it keeps:
#   debs/                        the downloaded linux-image .deb
#   kernel-<kver>/               that package unpacked with dpkg-deb -x,
#                                and its modules.dep (busybox depmod)
#   linux-source-<pkgver>/       Debian's linux-source-6.1 tarball, unpacked
#   env.mk                       the resolved paths, included by the Makefile
#
# The kernel version is that of Debian's linux-headers-amd64 package, never
# the running kernel's: the host may run any kernel, the VM boots this one.
set -euo pipefail

CACHE=${KTRACER_CACHE:-$HOME/.cache/ktracer}
export DEBIAN_FRONTEND=noninteractive

PKGS=(linux-headers-amd64 linux-source-6.1 qemu-system-x86 busybox-static
      cpio sparse gcc make libc6-dev bc flex bison libelf-dev libssl-dev
      xz-utils perl python3 pkg-config nodejs clang libclang-rt-14-dev)

die() { echo "setup: error: $*" >&2; exit 1; }
say() { echo "setup: $*" >&2; }

installed() {
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

missing=()
for p in "${PKGS[@]}"; do
	installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || die "need root to apt-get install: ${missing[*]}"
	say "installing ${missing[*]}"
	apt-get update -q >/dev/null || die "apt-get update failed"
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
		die "apt-get install ${missing[*]} failed"
fi

# Debian's own nodejs leaves npm to a package of its own.
if ! command -v npm >/dev/null; then
	[ "$(id -u)" = 0 ] || die "need root to apt-get install npm"
	say "installing npm"
	apt-get install -y -q --no-install-recommends npm >/dev/null ||
		die "apt-get install npm failed"
fi

# linux-headers-amd64 depends on linux-headers-<kver>-amd64: that names the ABI.
KVER=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 |
	sed -n 's/.*linux-headers-\([0-9][^ ,]*-amd64\).*/\1/p')
[ -n "$KVER" ] || die "cannot read the kernel version from linux-headers-amd64"
HVER=$(dpkg-query -W -f='${Version}' "linux-headers-$KVER")
KDIR=/usr/src/linux-headers-$KVER
UTS=$(sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' "$KDIR/include/generated/utsrelease.h" 2>/dev/null || true)
[ "$UTS" = "$KVER" ] ||
	die "$KDIR/include/generated/utsrelease.h says '$UTS', package says '$KVER'"

# The matching image, unpacked without running its maintainer scripts.
KIMG=$CACHE/kernel-$KVER
if [ ! -e "$KIMG/.ok-$HVER" ]; then
	mkdir -p "$CACHE/debs"
	chown _apt "$CACHE/debs" 2>/dev/null || true	# apt's sandbox user
	rm -f "$CACHE/debs/linux-image-$KVER"_*.deb
	say "downloading linux-image-$KVER"
	(cd "$CACHE/debs" && apt-get download -q "linux-image-$KVER" >/dev/null 2>&1) ||
		(cd "$CACHE/debs" && apt-get update -q >/dev/null && apt-get download -q "linux-image-$KVER" >/dev/null) ||
		die "apt-get download linux-image-$KVER failed"
	deb=$(ls "$CACHE/debs/linux-image-$KVER"_*.deb)
	IVER=$(dpkg-deb -f "$deb" Version)
	[ "$IVER" = "$HVER" ] ||
		die "linux-image-$KVER is $IVER but linux-headers-$KVER is $HVER: run 'apt-get update && apt-get install linux-headers-amd64' so that both come from the same release"
	rm -rf "$KIMG" && mkdir -p "$KIMG"
	dpkg-deb -x "$deb" "$KIMG"
	[ -f "$KIMG/boot/vmlinuz-$KVER" ] || die "no vmlinuz-$KVER in $deb"
	touch "$KIMG/.ok-$HVER"
fi
# The package leaves modules.dep to its postinst; the rig reads it to put
# the modules that tests load, with what they depend on, in the VM.
if [ ! -e "$KIMG/.ok-depmod" ]; then
	say "depmod for the unpacked linux-image-$KVER"
	/bin/busybox depmod -b "$KIMG" "$KVER" ||
		die "busybox depmod -b $KIMG $KVER failed"
	touch "$KIMG/.ok-depmod"
fi

# Debian's kernel source: kselftest headers, checkpatch.pl, the debug kernel.
SVER=$(dpkg-query -W -f='${Version}' linux-source-6.1)
KSRC=$CACHE/linux-source-$SVER
if [ ! -e "$KSRC/.ok" ]; then
	say "unpacking linux-source-6.1 $SVER (about a minute)"
	rm -rf "$KSRC" "$KSRC.tmp" && mkdir -p "$KSRC.tmp"
	tar -C "$KSRC.tmp" -xaf /usr/src/linux-source-6.1.tar.xz --strip-components=1
	touch "$KSRC.tmp/.ok"
	mv "$KSRC.tmp" "$KSRC"
fi

cat > "$CACHE/env.mk.tmp" <<EOM
# Written by scripts/setup.sh; do not edit.
KT_KVER := $KVER
KT_KPKG := $HVER
KT_KDIR := $KDIR
KT_KIMAGE := $KIMG/boot/vmlinuz-$KVER
KT_KMODULES := $KIMG/lib/modules/$KVER
KT_KSRC := $KSRC
EOM
mv "$CACHE/env.mk.tmp" "$CACHE/env.mk"
