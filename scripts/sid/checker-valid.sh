#!/bin/sh -eu
# SPDX-License-Identifier: GPL-2.0
# Put there by ktracer's scripts/setup.sh: Debian's linux-headers package
# lacks the kernel's own scripts/checker-valid.sh, without which kbuild
# never runs sparse. Like it, prints 1 if the checker given ($@) handles
# typeof_unqual() without a word on stderr.
out=$(echo 'int a; __typeof_unqual__(a) b; void f(void) { (void)b; }' |
	"$@" -Wno-decl - 2>&1 >/dev/null) || exit 0
[ -z "$out" ] && echo 1
