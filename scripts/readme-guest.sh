#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The README's ```sh vm blocks, in the VM (scripts/readme-test.sh puts
# this in /demo/run; /init runs it with kt.run=demo). /demo holds the
# blocks (N.vm, the README line of each in N.line), the staging root
# (root/), the host blocks' products (files/) and the udev rule. Prints a
# "KT-README ok"/"not ok" line per block, the README line of a command
# that failed, and one for what the udev rule grants.
here=/demo
name=README.md
export PATH=/usr/local/bin:/usr/local/sbin:/bin
export HOME=/root

say() { echo "KT-README $*"; }

ip link set lo up
rmmod ktracer		# /init loaded its own: the README loads the one it installed
cp -a "$here/root/." /
printf '#!/bin/sh\nexec "$@"\n' > /bin/sudo
chmod 755 /bin/sudo
mkdir -p /etc/modprobe.d /root /tmp/work
cat > /etc/passwd <<EOF
root:x:0:0:root:/root:/bin/sh
tracer:x:1000:1000:tracer:/tmp:/bin/sh
nobody:x:65534:65534:nobody:/tmp:/bin/sh
EOF
echo '127.0.0.1 localhost' > /etc/hosts
cat > /etc/group <<EOF
root:x:0:
tracer:x:1000:
tracing:x:1001:tracer
nogroup:x:65534:
EOF
cp -a "$here/files/." /tmp/work/
cd /tmp/work || exit 1

# udev's part: the rule's GROUP and MODE on /dev/ktracer once it exists.
udev_group=$(sed -n 's/.*GROUP="\([^"]*\)".*/\1/p' "$here/udev.rules" 2>/dev/null)
udev_mode=$(sed -n 's/.*MODE="\([^"]*\)".*/\1/p' "$here/udev.rules" 2>/dev/null)
udev() {
	[ -e /dev/ktracer ] && [ -n "$udev_group" ] || return 0
	chgrp "$udev_group" /dev/ktracer && chmod "$udev_mode" /dev/ktracer
}

# A block as a script that records, before each command, the README line
# it is on (continuation lines belong to the command before them).
script() {	# script BLOCK FIRSTLINE
	awk -v l="$2" -v name="$name" '
	BEGIN { print "set -e"; print "trap '\''rc=$?; [ $rc = 0 ] || echo \"" name ":$__l: exited $rc\"'\'' EXIT" }
	{ if (!cont) printf "__l=%d; ", l + NR - 1; print; cont = /\\$/ }' "$1"
}

has_ktracer=
command -v ktracer > /dev/null && has_ktracer=1
for f in "$here"/*.vm; do
	[ -f "$f" ] || continue
	line=$(cat "${f%.vm}.line")
	what=$(grep -m1 -v '^[[:space:]]*\(#\|$\)' "$f" | cut -c1-60)
	if [ -z "$has_ktracer" ] && grep -q -E '(^|[;&|(]) *ktracer( |$)' "$f"; then
		say "ok readme: $name:$line (vm) $what # SKIP no ktracer program (ktracer record) in this build"
		continue
	fi
	script "$f" "$line" > /tmp/block.sh
	if timeout 120 sh /tmp/block.sh > /tmp/block.log 2>&1; then
		say "ok readme: $name:$line (vm) $what"
	else
		say "not ok readme: $name:$line (vm) $what"
		tail -n 15 /tmp/block.log | sed 's/^/KT-README # /'
	fi
	udev
done

if [ -n "$udev_group" ]; then
	w="a member of $udev_group opens /dev/ktracer (the udev rule's GROUP and MODE)"
	if su -s /bin/sh tracer -c 'exec 3<>/dev/ktracer' 2> /tmp/su.log; then
		say "ok readme: $w"
	else
		say "not ok readme: $w # $(ls -l /dev/ktracer 2>&1): $(cat /tmp/su.log)"
	fi
	w="a user outside $udev_group cannot open /dev/ktracer"
	if su -s /bin/sh nobody -c 'exec 3<>/dev/ktracer' 2> /dev/null; then
		say "not ok readme: $w # $(ls -l /dev/ktracer 2>&1)"
	else
		say "ok readme: $w"
	fi
fi
# /init unloads the module at the end, and judges that.
grep -q '^ktracer ' /proc/modules || insmod /lib/modules/ktracer.ko
exit 0
