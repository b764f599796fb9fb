#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# npm-cache.sh DIR NAME: the packages DIR/package-lock.json pins, from the
# npm registry (npm ci, scripts off), installed once into
# $KTRACER_CACHE/npm/NAME-HASH (outside the tree; HASH of DIR's
# package.json and package-lock.json), under node from Debian
# (scripts/setup.sh installs nodejs and npm). Prints its node_modules.
set -euo pipefail
here=$1
cache=${KTRACER_CACHE:-$HOME/.cache/ktracer}/npm
dir=$cache/$2-$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -c1-16)

if [ ! -f "$dir/node_modules/.package-lock.json" ]; then
	rm -rf "$dir.tmp"
	mkdir -p "$dir.tmp"
	cp "$here/package.json" "$here/package-lock.json" "$dir.tmp/"
	(cd "$dir.tmp" &&
	 npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >&2
	rm -rf "$dir"
	mv "$dir.tmp" "$dir"
fi
echo "$dir/node_modules"
