#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh TRACE.json...: import ktracer-read's traces with speedscope and
# the Chrome DevTools trace engine (check-import.mjs), which must report
# no warning. Both come from the npm registry at the versions
# package-lock.json pins (npm ci, scripts off), installed once into
# $KTRACER_CACHE/npm (outside the tree), under node from Debian
# (scripts/setup.sh installs nodejs and npm).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${KTRACER_CACHE:-$HOME/.cache/ktracer}/npm
dir=$cache/trace-check-$(cat "$here/package.json" "$here/package-lock.json" |
			 sha256sum | cut -c1-16)

if [ ! -f "$dir/node_modules/.package-lock.json" ]; then
	rm -rf "$dir.tmp"
	mkdir -p "$dir.tmp"
	cp "$here/package.json" "$here/package-lock.json" "$dir.tmp/"
	(cd "$dir.tmp" &&
	 npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >&2
	rm -rf "$dir"
	mv "$dir.tmp" "$dir"
fi
exec node "$here/check-import.mjs" "$dir/node_modules" "$@"
