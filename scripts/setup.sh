#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install and cache everything ktracer's build, lint and VM tests need.
# Idempotent: a second run checks and returns in well under a second.
#
# Uses apt-get (and Debian's debootstrap) only. Three kernels, each built
# for with the compiler its headers were built with:
#   Debian 12's own, 6.1    linux-headers-amd64 on the host
#   Debian 12's 6.12 LTS    linux-headers-6.12.<n>+deb12-amd64 on the host,
#                           <n> that of linux-source-6.12
#   Debian sid's newest     linux-headers-amd64 in a sid chroot (minbase,
#                           debootstrap, from the host's own Debian mirror)
# Outside the repository, in $KTRACER_CACHE (default ~/.cache/ktracer):
#   debs/                        the downloaded linux-image .debs
#   kernel-<kver>/               each unpacked with dpkg-deb -x, and its
#                                modules.dep (busybox depmod)
#   linux-source-<pkgver>/       Debian's linux-source-6.12 tarball, unpacked:
#                                kselftest headers, checkpatch, debug kernel
#   sid/                         the sid chroot (its linux-headers-amd64,
#                                gcc, make, sparse)
#   env.mk                       the resolved paths, included by the Makefile
#
# The kernel versions are those of Debian's packages, never the running
# kernel's: the host may run any kernel, the VM boots these. The sid
# kernel is resolved when the chroot is made; remove $KTRACER_CACHE/sid
# to move to a newer one.
set -euo pipefail

CACHE=${KTRACER_CACHE:-$HOME/.cache/ktracer}
export DEBIAN_FRONTEND=noninteractive

PKGS=(linux-headers-amd64 linux-source-6.12 debootstrap qemu-system-x86 busybox-static
      cpio sparse gcc make libc6-dev bc flex bison libelf-dev libssl-dev
      xz-utils perl python3 pkg-config nodejs clang libclang-rt-14-dev valgrind)

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

# unpack_image KVER VERSION [CHROOT]: linux-image-KVER at VERSION, downloaded
# with apt-get (in CHROOT if given) and unpacked without running its
# maintainer scripts into $CACHE/kernel-KVER, with the modules.dep that the
# package leaves to its postinst: the rig reads it to put the modules that
# tests load, with what they depend on, in the VM. Where the image package
# is split (sid's: linux-binary-KVER has vmlinuz, linux-modules-KVER the
# modules), the packages of KVER it depends on are unpacked with it.
unpack_image() {
	local kver=$1 ver=$2 root=${3:-} img=$CACHE/kernel-$1 dl deb iver
	local -a in=() pkgs

	if [ ! -e "$img/.ok-$ver" ]; then
		if [ -n "$root" ]; then
			dl=$root/var/cache/kt-debs
			in=(chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin)
		else
			dl=$CACHE/debs
		fi
		mkdir -p "$dl"
		chown _apt "$dl" 2>/dev/null || true	# apt's sandbox user
		rm -f "$dl"/linux-*"-$kver"_*.deb
		# shellcheck disable=SC2207
		pkgs=("linux-image-$kver" $("${in[@]}" apt-cache show --no-all-versions \
			"linux-image-$kver" 2>/dev/null | sed -n 's/^Depends: //p' |
			tr ',|' '\n\n' | awk -v s="-$kver" '
				{ n = $1; if (substr(n, length(n) - length(s) + 1) == s) print n }'))
		say "downloading ${pkgs[*]}"
		"${in[@]}" sh -c "cd ${dl#"$root"} && apt-get download -q ${pkgs[*]}" >/dev/null 2>&1 ||
			"${in[@]}" sh -c "cd ${dl#"$root"} && apt-get update -q && apt-get download -q ${pkgs[*]}" >/dev/null ||
			die "apt-get download ${pkgs[*]} failed"
		deb=$(ls "$dl/linux-image-$kver"_*.deb)
		iver=$(dpkg-deb -f "$deb" Version)
		[ "$iver" = "$ver" ] ||
			die "linux-image-$kver is $iver but linux-headers-$kver is $ver: run 'apt-get update && apt-get install linux-headers-amd64' so that both come from the same release"
		rm -rf "$img" && mkdir -p "$img"
		for deb in "$dl"/linux-*"-$kver"_*.deb; do
			dpkg-deb -x "$deb" "$img" || die "dpkg-deb -x $deb failed"
		done
		rm -f "$dl"/linux-*"-$kver"_*.deb
		# Newer packages keep the kernel and its modules in /usr/lib/modules
		# only: link them to where the rig and depmod look.
		if [ -f "$img/usr/lib/modules/$kver/vmlinuz" ]; then
			[ -e "$img/lib" ] || ln -s usr/lib "$img/lib"
			mkdir -p "$img/boot"
			ln -sf "../usr/lib/modules/$kver/vmlinuz" "$img/boot/vmlinuz-$kver"
		fi
		[ -f "$img/boot/vmlinuz-$kver" ] || die "no vmlinuz-$kver in ${pkgs[*]}"
		touch "$img/.ok-$ver"
	fi
	if [ ! -e "$img/.ok-depmod" ]; then
		say "depmod for the unpacked linux-image-$kver"
		/bin/busybox depmod -b "$img" "$kver" ||
			die "busybox depmod -b $img $kver failed"
		touch "$img/.ok-depmod"
	fi
}

unpack_image "$KVER" "$HVER"
KIMG=$CACHE/kernel-$KVER

# Debian's kernel source: kselftest headers, checkpatch.pl, the debug kernel.
SVER=$(dpkg-query -W -f='${Version}' linux-source-6.12)
KSRC=$CACHE/linux-source-${SVER//\~/_}
if [ ! -e "$KSRC/.ok" ]; then
	say "unpacking linux-source-6.12 $SVER (about a minute)"
	rm -rf "$KSRC" "$KSRC.tmp" && mkdir -p "$KSRC.tmp"
	tar -C "$KSRC.tmp" -xaf /usr/src/linux-source-6.12.tar.xz --strip-components=1
	touch "$KSRC.tmp/.ok"
	mv "$KSRC.tmp" "$KSRC"
fi

# Debian 12's 6.12 LTS: the headers of the same upstream release as
# linux-source-6.12 (6.12.<n>-1~deb12u1 -> 6.12.<n>+deb12-amd64). They
# depend on an image package: the unsigned one, whose modules nothing loads
# on the host.
K612=${SVER%%-*}+deb12-amd64
if ! installed "linux-headers-$K612"; then
	[ "$(id -u)" = 0 ] || die "need root to apt-get install linux-headers-$K612"
	say "installing linux-headers-$K612"
	apt-get install -y -q --no-install-recommends "linux-headers-$K612" \
		"linux-image-$K612-unsigned" >/dev/null ||
		die "apt-get install linux-headers-$K612 failed"
fi
H612=$(dpkg-query -W -f='${Version}' "linux-headers-$K612")
unpack_image "$K612" "$H612"

# Debian sid's newest kernel, built for in a sid chroot made with
# debootstrap from the mirror the host's apt uses: its headers want sid's
# gcc, and sid's packages never go into the host.
SID=$CACHE/sid
if [ ! -e "$SID/.ok" ]; then
	[ "$(id -u)" = 0 ] || die "need root to debootstrap sid"
	# (cat fails on a pattern that matches nothing: || true for pipefail)
	mirror=$( (cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		/etc/apt/sources.list.d/*.sources 2>/dev/null || true) |
		sed -n -e 's|^deb \(\[[^]]*\] \)\?\(https\?://[^ ]*/debian\)/\? .*|\2|p' \
			-e 's|^URIs: *\(https\?://[^ ]*/debian\)/\?$|\1|p' | awk 'NR == 1')
	[ -n "$mirror" ] || die "no Debian mirror in /etc/apt/sources.list*"
	say "debootstrap sid from $mirror into $SID (a few minutes)"
	rm -rf "$SID" "$SID.tmp"
	debootstrap --variant=minbase sid "$SID.tmp" "$mirror" > "$CACHE/sid.log" 2>&1 ||
		die "debootstrap sid failed; see $CACHE/sid.log"
	# The chroot's apt trusts the mirror as the host's does (a mirror
	# that is a dated snapshot has a Release file past its Valid-Until).
	# (apt-config shell, not a pipe into grep -q: under pipefail its
	# early exit fails the pipe)
	cvu=
	eval "$(apt-config shell cvu Acquire::Check-Valid-Until)"
	if [ "$cvu" = false ]; then
		echo 'Acquire::Check-Valid-Until "false";' \
			> "$SID.tmp/etc/apt/apt.conf.d/99ktracer"
	fi
	chroot "$SID.tmp" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive sh -c 'apt-get update -q &&
		apt-get install -y -q --no-install-recommends linux-headers-amd64 \
			gcc make libc6-dev sparse' >> "$CACHE/sid.log" 2>&1 ||
		die "apt-get install in the sid chroot failed; see $CACHE/sid.log"
	touch "$SID.tmp/.ok"
	mv "$SID.tmp" "$SID"
fi
SIDKVER=$(chroot "$SID" dpkg-query -W -f='${Depends}' linux-headers-amd64 |
	sed -n 's/.*linux-headers-\([0-9][^ ,]*-amd64\).*/\1/p')
[ -n "$SIDKVER" ] || die "cannot read the kernel version of sid's linux-headers-amd64"
SIDHVER=$(chroot "$SID" dpkg-query -W -f='${Version}' "linux-headers-$SIDKVER")
unpack_image "$SIDKVER" "$SIDHVER" "$SID"
# kbuild runs sparse (C=2) only once its scripts/checker-valid.sh has
# vouched for it, and sid's headers package lacks that script: give the
# headers' source tree a stand-in that does what it does.
SIDCOMMON=$SID/usr/src/linux-headers-${SIDKVER%-amd64}-common
if [ ! -e "$SIDCOMMON/scripts/checker-valid.sh" ]; then
	install -m 755 "$(dirname "$0")/sid/checker-valid.sh" "$SIDCOMMON/scripts/checker-valid.sh"
fi

cat > "$CACHE/env.mk.tmp" <<EOM
# Written by scripts/setup.sh; do not edit.
KT_KVER := $KVER
KT_KPKG := $HVER
KT_KDIR := $KDIR
KT_KIMAGE := $KIMG/boot/vmlinuz-$KVER
KT_KMODULES := $KIMG/lib/modules/$KVER
KT_KSRC := $KSRC
KT_612_KVER := $K612
KT_612_KDIR := /usr/src/linux-headers-$K612
KT_612_KIMAGE := $CACHE/kernel-$K612/boot/vmlinuz-$K612
KT_612_KMODULES := $CACHE/kernel-$K612/lib/modules/$K612
KT_SID_ROOT := $SID
KT_SID_KVER := $SIDKVER
KT_SID_KDIR := /usr/src/linux-headers-$SIDKVER
KT_SID_KIMAGE := $CACHE/kernel-$SIDKVER/boot/vmlinuz-$SIDKVER
KT_SID_KMODULES := $CACHE/kernel-$SIDKVER/lib/modules/$SIDKVER
EOM
mv "$CACHE/env.mk.tmp" "$CACHE/env.mk"
