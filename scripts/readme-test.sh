#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# readme-test.sh [README]: run every command of README.md as the README
# says (scripts/check.sh readme; docs/testing.md, "The README's
# commands"). Each fenced block is one result, named by its first line in
# the README; a failing command is reported with its own line number.
#
#   ```sh        on the host, in a fresh copy of the tree, in order. sudo
#                runs the command as is (the test is root already); an
#                install goes to a staging root (DESTDIR, INSTALL_MOD_PATH)
#                and pkg-config looks there; `uname -r` answers the kernel
#                the VM boots (Debian's), whose headers are installed.
#   ```sh vm     in the VM, as root, after the host blocks, in order, with
#                the staging root installed as / and the host blocks'
#                products in the working directory. udev's part is played
#                after each block: the ```udev block's GROUP and MODE are
#                given to /dev/ktracer, as udev does when it appears.
#   ```sh real   needs what neither has (udev, dkms, user accounts, file
#                capabilities, a browser, minutes of qemu): checked with
#                `bash -n` only.
#   ```sh suite  make targets that `make check` runs as stages of their
#                own: checked with `make -n` here.
# Other blocks (```c, ```text, ```udev, indented ones) are not commands.
# A ```sh block with another tag fails.
set -uo pipefail
. "$(dirname "$0")/env.sh"
cd "$KT_ROOT" || exit 1

readme=$(realpath "${1:-README.md}")
name=${readme##*/}
dir=$KT_BUILD/readme
rm -rf "$dir"
mkdir -p "$dir/blocks" "$dir/bin" "$dir/root" "$dir/guest/files"

# The blocks, one file each: blocks/N.TAG with the README line of its
# first command in blocks/N.line; the udev rule in udev.rules.
awk -v out="$dir/blocks" -v udev="$dir/udev.rules" '
/^```/ && !inb {
	inb = 1; lang = $1; sub(/^```/, "", lang); tag = $2
	if (lang == "sh") { n++; f = sprintf("%s/%03d.%s", out, n, tag == "" ? "host" : tag)
		print NR + 1 > sprintf("%s/%03d.line", out, n); printf "" > f }
	next
}
/^```/ && inb { inb = 0; lang = ""; next }
inb && lang == "sh" { print > f }
inb && lang == "udev" { print > udev }
' "$readme"

run_at() {	# run_at FILE LINE: FILE's commands with bash -e, failing at README line
	local off=$(($2 - 1))
	bash -c 'set -eE -o pipefail
		trap '\''echo "'"$name"':$(('"$off"' + LINENO)): exited $?" >&2'\'' ERR
		. "$0"' "$1"
}

# The host: a copy of the tree as git has it (with uncommitted changes).
src=$dir/src
mkdir -p "$src"
git ls-files -z -co --exclude-standard | grep -z -v '^demo/' |
	xargs -0 cp --parents -t "$src" 2>/dev/null
touch "$dir/stamp"
printf '#!/bin/sh\nexec "$@"\n' > "$dir/bin/sudo"
printf '#!/bin/sh\n[ "$*" = -r ] && { echo "%s"; exit 0; }\nexec /bin/uname "$@"\n' \
	"$KT_KVER" > "$dir/bin/uname"
chmod 755 "$dir/bin/sudo" "$dir/bin/uname"
[ -d "/lib/modules/$KT_KVER/build" ] || ln -s "$KT_KDIR" "/lib/modules/$KT_KVER/build" 2>/dev/null

result() {	# result OK|FAIL LINE TAG FILE [LOG]
	local what
	what=$(grep -m1 -v '^[[:space:]]*\(#\|$\)' "$4" | cut -c1-60)
	if [ "$1" = OK ]; then
		echo "ok readme: $name:$2 ($3) $what"
	else
		echo "not ok readme: $name:$2 ($3) $what"
		[ -z "${5:-}" ] || tail -n 15 "$5" | sed 's/^/# /'
	fi
}

host_ok=1
t0=$(date +%s)
for f in "$dir"/blocks/*.*; do
	case "$f" in *.line) continue ;; esac
	tag=${f##*.} line=$(cat "${f%.*}.line") log=$f.log
	case "$tag" in
	host)
		tb=$(date +%s)
		if (cd "$src" && PATH=$dir/bin:$PATH DESTDIR=$dir/root INSTALL_MOD_PATH=$dir/root \
			PKG_CONFIG_PATH=$dir/root/usr/local/lib/pkgconfig \
			PKG_CONFIG_SYSROOT_DIR=$dir/root MAKEFLAGS=-j"$(nproc)" \
			run_at "$f" "$line") > "$log" 2>&1; then
			result OK "$line" host "$f"
			echo "# $(($(date +%s) - tb)) s"
		else
			result FAIL "$line" host "$f" "$log"
			host_ok=
		fi ;;
	real)
		if bash -n "$f" > "$log" 2>&1; then
			echo "ok readme: $name:$line (real) $(head -n1 "$f" | cut -c1-50) # SKIP a real machine's: bash -n only"
		else
			result FAIL "$line" real "$f" "$log"
		fi ;;
	suite)
		if (cd "$src" && awk '{ print $1, $2 }' "$f" | grep -v '^#' |
			while read -r mk target; do
				[ "$mk" = make ] && [ -n "$target" ] || { echo "not a make target: $mk $target"; exit 1; }
				grep -q "^$target:" Makefile || { echo "make $target: no such target"; exit 1; }
			done) > "$log" 2>&1; then
			echo "ok readme: $name:$line (suite) $(head -n1 "$f" | cut -c1-50) # SKIP a stage of make check: target checked only"
		else
			result FAIL "$line" suite "$f" "$log"
		fi ;;
	vm) ;;
	*) result FAIL "$line" "unknown tag $tag" "$f" ;;
	esac
done

# The VM: the staging root, the host blocks' products (files they made at
# the top of the tree), and user/read built static (the VM has no libc) in
# place of the staged programs.
[ -n "$host_ok" ] || { echo "not ok readme: the VM's blocks # a host block failed"; exit 0; }
g=$dir/guest
# The objects of the README's `make user`, linked again.
cp -a "$src/build/read" "$dir/static"
find "$dir/static" -maxdepth 1 -type f -delete
if ! make -C "$src/user/read" B="$dir/static" LDFLAGS=-static > "$dir/static.log" 2>&1; then
	echo "not ok readme: the programs built static for the VM"
	tail -n 15 "$dir/static.log" | sed 's/^/# /'
	exit 0
fi
for p in "$dir"/root/usr/local/bin/*; do
	[ -e "$dir/static/${p##*/}" ] && cp "$dir/static/${p##*/}" "$p"
done
find "$src" -maxdepth 1 -type f -newer "$dir/stamp" -exec cp -t "$g/files" {} +
cp -a "$dir/root" "$g/root"
cp "$dir"/blocks/*.vm "$dir"/blocks/*.line "$g/" 2>/dev/null
[ ! -f "$dir/udev.rules" ] || cp "$dir/udev.rules" "$g/"
install -m 755 scripts/readme-guest.sh "$g/run"
ko=$(find "$dir/root/lib/modules" -name ktracer.ko | head -n1)
[ -n "$ko" ] || { echo "not ok readme: the VM's blocks # no ktracer.ko was installed"; exit 0; }
: > "$dir/no-splat.ko"
mkdir -p "$dir/no-tests"
scripts/vm/mkinitramfs.sh -d "$g" "$dir/initramfs.cpio.gz" "$ko" "$dir/no-splat.ko" "$dir/no-tests"
echo "# host blocks and builds: $(($(date +%s) - t0)) s"
t0=$(date +%s)
scripts/vm/run.sh "$KT_KIMAGE" "$dir/initramfs.cpio.gz" "$dir/vm" kt.run=demo > "$dir/vm.log" 2>&1
tr -d '\r' < "$dir/vm/results.log" | sed -n 's/^KT-README //p'
scripts/vm/verdict.sh "$dir/vm" "readme: the VM ($KT_KVER)" | sed -n '$p'
echo "# the VM: $(($(date +%s) - t0)) s"
