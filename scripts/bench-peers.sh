#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-peers.sh: ktracer next to ftrace, LTTng and perf, as `make
# bench-peers` runs it (not part of make check). One boot of Debian's 6.1
# kernel (the one `make setup` caches) in qemu with -icount
# shift=0,sleep=off and one vCPU, so that the guest's clock counts guest
# instructions, in which bench/peers/peers.c measures every tracer on the
# same workloads, in turns, and reads every recording back
# (docs/benchmarks.md, "ktracer and its peers").
#
# The peers come from Debian's packages, installed with apt-get when this
# runs (and only what is missing): lttng-tools (lttng, lttng-sessiond,
# lttng-consumerd), liblttng-ust-dev (LTTng-UST, which peers.c is built
# with), babeltrace2 (counts LTTng's events), linux-perf and kmod (whose
# depmod makes the modules.dep.bin that lttng-sessiond's libkmod reads).
# LTTng's kernel modules are built from lttng-modules-dkms's source
# (apt-get download, unpacked; dkms is never installed), with
# bench/peers/lttng-modules-*.patch applied, against Debian's 6.1
# headers, once, into $KTRACER_CACHE/lttng-modules-<version>-<kver>
# (7 minutes on a 2-core host). The initramfs gets those programs, their shared
# libraries (ldd) at the host's paths, LTTng's modules in
# /lib/modules/<kver>/extra, LTTng's session.xsd, babeltrace2's plugins,
# and bench/peers/run as /prog/run (kt.run=prog).
#
# KT_PEERS_ROUNDS (default 7) sets the rounds. Prints the guest's tables
# and the targets that need LTTng; exits non-zero if something did not
# build, the VM run was not clean or a result is missing. Logs stay in
# build/bench-peers/.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$KT_ROOT"

dir=$KT_BUILD/bench-peers
rounds=${KT_PEERS_ROUNDS:-7}
export DEBIAN_FRONTEND=noninteractive

rm -rf "$dir"
mkdir -p "$dir"

# The packages, where missing.
pkgs=(lttng-tools liblttng-ust-dev babeltrace2 linux-perf kmod)
missing=()
for p in "${pkgs[@]}"; do
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || { echo "bench-peers: need root to apt-get install ${missing[*]}" >&2; exit 1; }
	echo "# installing ${missing[*]}"
	quiet "apt-get install ${missing[*]}" "$dir/apt.log" \
		sh -c 'apt-get install -y -q --no-install-recommends "$@" ||
			{ apt-get update -q && apt-get install -y -q --no-install-recommends "$@"; }' \
		sh "${missing[@]}"
fi

# LTTng's modules, built once per version and kernel.
lmver=$(apt-cache show --no-all-versions lttng-modules-dkms 2>/dev/null | sed -n 's/^Version: //p')
[ -n "$lmver" ] || { echo "bench-peers: apt-cache knows no lttng-modules-dkms (apt-get update?)" >&2; exit 1; }
lm=$KTRACER_CACHE/lttng-modules-$lmver-$KT_KVER
build_lttng_modules() {
	local dl=$KTRACER_CACHE/debs p
	rm -rf "$lm" "$lm.tmp" && mkdir -p "$lm.tmp" "$dl" || return 1
	chown _apt "$dl" 2>/dev/null || true	# apt's sandbox user
	rm -f "$dl"/lttng-modules-dkms_*.deb
	(cd "$dl" && apt-get download -q "lttng-modules-dkms=$lmver") || return 1
	dpkg-deb -x "$dl"/lttng-modules-dkms_*.deb "$lm.tmp/deb" || return 1
	rm -f "$dl"/lttng-modules-dkms_*.deb
	mv "$lm.tmp"/deb/usr/src/lttng-modules-* "$lm.tmp/src" || return 1
	for p in bench/peers/lttng-modules-*.patch; do
		echo "applying $p"
		patch -d "$lm.tmp/src" -p1 < "$p" || return 1
	done
	make -j"$(nproc)" -C "$KT_KDIR" M="$lm.tmp/src" modules CONFIG_LTTNG=m || return 1
	mkdir -p "$lm.tmp/ko"
	find "$lm.tmp/src" -name '*.ko' -exec cp {} "$lm.tmp/ko/" \;
	mv "$lm.tmp" "$lm"
}
if [ ! -d "$lm/ko" ]; then
	echo "# building lttng-modules $lmver for $KT_KVER into $lm (7 minutes on a 2-core host, once)"
	quiet "building lttng-modules" "$dir/lttng-modules.log" build_lttng_modules
fi

quiet "building the modules" "$dir/modules.log" \
	kt_build_modules "$KT_KDIR" "$dir"
quiet "building libktracer" "$dir/lib.log" \
	make -C user/lib O="$dir/lib" "$dir/lib/libktracer.a"
mkdir -p "$dir/prog"
quiet "building bench/peers/peers.c" "$dir/peers.log" \
	gcc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iuapi \
	-Iuser/include -Ibench/peers -o "$dir/prog/peers" bench/peers/peers.c \
	"$dir/lib/libktracer.a" -llttng-ust -ldl -pthread
install -m 755 bench/peers/run "$dir/prog/run"

# The initramfs's extra tree: each program and plugin with the shared
# libraries ldd finds for it, at the host's paths.
root=$dir/root
mkdir -p "$root"
add_files() {
	local f
	for f; do
		mkdir -p "$root$(dirname "$f")"
		cp -L "$f" "$root$f"
	done
}
add_elf() {
	local f
	add_files "$@"
	for f; do
		# shellcheck disable=SC2046
		add_files $(ldd "$f" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }
					   $1 ~ /^\// { print $1 }')
	done
}
lib=/usr/lib/x86_64-linux-gnu
add_elf /usr/bin/lttng /usr/bin/lttng-sessiond "$lib/lttng/libexec/lttng-consumerd" \
	/usr/bin/babeltrace2 "$lib"/babeltrace2/plugins/*.so /usr/bin/perf \
	"$dir/prog/peers" "$(readlink -f "$lib/liblttng-ust-tracepoint.so.1")"
cp -P "$lib/liblttng-ust-tracepoint.so.1" "$root$lib/"
rm -rf "$root$dir"	# peers itself goes to /prog
add_files /usr/share/xml/lttng/session.xsd
mkdir -p "$root/lib/modules/$KT_KVER/extra"
cp "$lm"/ko/*.ko "$root/lib/modules/$KT_KVER/extra/"
# libkmod loads every index or none: the built-in modules' too.
cp "$KT_KMODULES"/modules.builtin "$KT_KMODULES"/modules.builtin.modinfo \
	"$root/lib/modules/$KT_KVER/"
find "$root/lib/modules/$KT_KVER/extra" -name '*.ko' -printf 'extra/%f\n' \
	> "$root/lib/modules/$KT_KVER/modules.order"
/sbin/depmod -b "$root" "$KT_KVER"

"$KT_ROOT/scripts/vm/mkinitramfs.sh" -p "$dir/prog" -r "$root" \
	"$dir/initramfs.cpio.gz" "$dir/ktracer/ktracer.ko"
echo "# initramfs: $(du -h "$dir/initramfs.cpio.gz" | cut -f1)"

echo "# booting $KT_KVER in qemu (tcg,thread=single, 1 vCPU, -icount shift=0,sleep=off), $rounds rounds (about 2 minutes of qemu) ..."
KT_VM_ACCEL=tcg,thread=single KT_VM_SMP=1 KT_VM_ICOUNT=shift=0,sleep=off \
	KT_VM_MEM=2048 "$KT_ROOT/scripts/vm/run.sh" "$KT_KIMAGE" \
	"$dir/initramfs.cpio.gz" "$dir/vm" kt.run=prog \
	kt.peers_rounds="$rounds" ktracer.trust_tsc=1
echo "# $(cat "$dir/vm/vm.info")"
vm=$dir/vm
tr -d '\r' < "$vm/results.log" > "$vm/results.clean"
if ! "$KT_ROOT/scripts/vm/verdict.sh" "$vm" bench-peers 1; then
	grep -v -e '^KT-' -e '^[A-Za-z0-9+/=]*$' "$vm/results.clean" | sed 's/^/# /' || true
	kt_vm_files "$vm" "$vm" bench-peers dmesg.txt sessiond.log cmd.log 2>/dev/null || true
	echo "# last lines of $vm/console.log:"
	tr -d '\r' < "$vm/console.log" | tail -n 25 | sed 's/^/#   /'
	exit 1
fi

# The guest's tables, and its notes.
grep -v -e '^KT-' -e '^$' "$vm/results.clean" || true
if ! grep -q '^KT-PEER-K sched lttng ' "$vm/results.clean" ||
   ! grep -q '^KT-PEER-K irq lttng ' "$vm/results.clean" ||
   ! grep -q '^KT-PEER-P ust ' "$vm/results.clean"; then
	echo "bench-peers: results missing (see $vm/results.clean)" >&2
	exit 1
fi

# The targets that need LTTng (make bench prints them as not measured).
awk '
$1 == "KT-PEER-K" { ev[$2 ":" $3] = $4 }
$1 == "KT-PEER-P" { op[$2] = $3 }
function target(what, basis, a, l) {
	printf("target: %s: %.1f <= %.1f [%s]: %s\n", what, a, l, basis,
	       a <= l ? "met" : "MISSED")
}
END {
	print ""
	print "## Targets (information, not a test)"
	print ""
	target("per kernel event <= 0.5x LTTng'"'"'s, sched (ktracer SCHED vs LTTng sched_switch+sched_waking)",
	       "guest instructions added per event", ev["sched:ktracer"], 0.5 * ev["sched:lttng"])
	target("per kernel event <= 0.5x LTTng'"'"'s, syscall (ktracer SYSCALL vs LTTng getppid entry+exit)",
	       "guest instructions added per event", ev["syscall:ktracer"], 0.5 * ev["syscall:lttng"])
	target("per kernel event <= 0.5x LTTng'"'"'s, irq (ktracer IRQ vs LTTng irq_handler_entry+exit)",
	       "guest instructions added per event", ev["irq:ktracer"], 0.5 * ev["irq:lttng"])
	target("program op end to end (kt_region) <= 0.2x LTTng-UST'"'"'s tracepoint() (ust)",
	       "guest instructions per op", op["kt_region"], 0.2 * op["ust"])
}' "$vm/results.clean"
exit 0
