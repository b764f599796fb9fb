# SPDX-License-Identifier: GPL-2.0
# Sourced by the rig's scripts: run setup (idempotent) and load the paths
# it resolved (KT_KVER, KT_KDIR, KT_KIMAGE, KT_KMODULES, KT_KSRC; the same
# as KT_612_* for Debian's 6.12 and KT_SID_* for sid's kernel, whose KDIR is
# in the chroot KT_SID_ROOT).
KT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KTRACER_CACHE=${KTRACER_CACHE:-$HOME/.cache/ktracer}
export KTRACER_CACHE
"$KT_ROOT/scripts/setup.sh" || { echo "not ok setup: scripts/setup.sh failed (its error is above)"; echo "0 passed, 1 failed"; exit 1; }
eval "$(sed -n 's/^\(KT_[A-Z0-9_]*\) := \(.*\)$/\1="\2"/p' "$KTRACER_CACHE/env.mk")"
KT_BUILD=$KT_ROOT/build

# kt_kbuild KDIR OUTDIR SRC... -- MAKEARGS...: build an external module
# from a copy of SRC (files and directories, relative to KT_ROOT) in
# a fresh OUTDIR, so that builds for several kernels and lint passes never share
# object files with each other or with the source tree. With KT_CHROOT set,
# KDIR is a path in that chroot and the build runs there (with its
# compiler), in a directory of the chroot that OUTDIR links to.
kt_kbuild() {
	local kdir=$1 out=$2 m
	shift 2
	rm -rf "$out" && mkdir -p "${out%/*}" || return 1
	if [ -n "${KT_CHROOT:-}" ]; then
		m=/kt/$(echo "$out" | sha256sum | cut -c1-16)
		rm -rf "$KT_CHROOT$m" && mkdir -p "$KT_CHROOT$m" &&
			ln -s "$KT_CHROOT$m" "$out" || return 1
	else
		m=$out
		mkdir -p "$out" || return 1
	fi
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		cp -a "$KT_ROOT/$1" "$out/"
		shift
	done
	shift
	if [ -z "${KT_CHROOT:-}" ]; then
		make -j"$(nproc)" -C "$kdir" M="$m" "$@" modules
		return
	fi
	# objtool reads /proc: a private mount of it, gone with the command.
	unshare -m --propagation private sh -c 'mount -t proc proc "$0/proc" &&
		exec chroot "$0" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"' \
		"$KT_CHROOT" make -j"$(nproc)" -C "$kdir" M="$m" "$@" modules
}

# kt_build_modules KDIR DIR: ktracer.ko in DIR/ktracer and the rig's
# test-only kt_splat.ko in DIR/rig, both for the kernel in KDIR.
kt_build_modules() {
	kt_kbuild "$1" "$2/ktracer" Kbuild module uapi -- &&
		kt_kbuild "$1" "$2/rig" selftests/rig/Kbuild selftests/rig/kt_splat.c --
}

# kt_bench_lib DIR: libktracer.a in DIR/lib, which the bench programs link.
kt_bench_lib() {
	make -C "$KT_ROOT/user/lib" O="$1/lib" "$1/lib/libktracer.a"
}

# kt_bench_prog SRC OUT DIR: one of bench/*.c, static, for the VM's
# /bench, with DIR's libktracer.a (kt_bench_lib).
kt_bench_prog() {
	gcc -O2 -static -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror \
		-I"$KT_ROOT/uapi" -I"$KT_ROOT/user/include" -o "$2" "$1" \
		"$3/lib/libktracer.a" -pthread
}

# extra_modules KMODULES OUTDIR MODULE...: MODULE.ko of the unpacked
# kernel image whose /lib/modules/<kver> is KMODULES and every module it
# depends on (its modules.dep), into OUTDIR, with the file load.order
# naming them in an order they load in.
extra_modules() {
	local KT_KMODULES=$1 out=$2 m path
	local -A seen=()
	shift 2
	rm -rf "$out" && mkdir -p "$out" && : > "$out/load.order" || return 1

	# add PATH: PATH's dependencies, then PATH (relative to KT_KMODULES).
	add() {
		local dep m
		[ -z "${seen[$1]:-}" ] || return 0
		seen[$1]=1
		for dep in $(sed -n "s|^$1: *||p" "$KT_KMODULES/modules.dep"); do
			add "$dep" || return 1
		done
		# Debian compresses modules since 6.3: the VM's insmod takes them
		# plain.
		m=$(basename "$1")
		case "$1" in
		*.ko) cp "$KT_KMODULES/$1" "$out/" ;;
		*.ko.xz) m=${m%.xz}; xz -dc "$KT_KMODULES/$1" > "$out/$m" ;;
		*) echo "$1: unknown module compression"; return 1 ;;
		esac && echo "$m" >> "$out/load.order"
	}
	for m; do
		path=$(sed -n "s|^\(\(.*/\)\?$m\.ko[.a-z]*\):.*|\1|p" "$KT_KMODULES/modules.dep")
		[ -n "$path" ] || { echo "$m: not in $KT_KMODULES/modules.dep"; return 1; }
		add "$path" || return 1
	done
	cat "$out/load.order"
}

# quiet WHAT LOG CMD...: run CMD into LOG; on failure show the end of LOG
# and exit 1. For the scripts that build before they boot a VM.
quiet() {
	local what=$1 log=$2
	shift 2
	if ! "$@" > "$log" 2>&1; then
		echo "${0##*/}: $what failed; the end of $log:" >&2
		tail -n 30 "$log" >&2
		exit 1
	fi
}

# kt_vm_results VMDIR MODE: the guest's results with \r stripped, in
# VMDIR/results.clean; fails, showing what the guest said and the
# console's last lines, unless verdict.sh judges the MODE run clean.
kt_vm_results() {
	tr -d '\r' < "$1/results.log" > "$1/results.clean"
	"$KT_ROOT/scripts/vm/verdict.sh" "$1" "$2" && return 0
	grep -v -e '^KT-' -e '^[A-Za-z0-9+/=]*$' "$1/results.clean" | sed 's/^/# /' || true
	echo "# last lines of $1/console.log:"
	tr -d '\r' < "$1/console.log" | tail -n 25 | sed 's/^/#   /'
	return 1
}

# kt_vm_files VMDIR OUT WHO FILE...: the FILEs the guest sent, gzipped and
# in base64 between KT-FILE-BEGIN/END lines, into OUT; WHO names the
# caller in the error if one did not come back.
kt_vm_files() {
	local vm=$1 out=$2 who=$3 f
	shift 3
	for f in "$@"; do
		awk -v f="$f" '$1 == "KT-FILE-END" && $2 == f { on = 0 }
			       on { print }
			       $1 == "KT-FILE-BEGIN" && $2 == f { on = 1 }' \
			"$vm/results.clean" | base64 -d | gunzip > "$out/$f" ||
			{ echo "$who: $f did not come back from the VM" >&2; return 1; }
	done
}
