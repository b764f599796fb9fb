#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh DEMODIR: check what `make demo` brought back (trace.json,
# statsd.txt, demo.txt) with the Chrome DevTools trace engine and the
# reference StatsD daemon, installed from the npm registry at the
# versions package-lock.json pins (npm ci, scripts off), under node from
# Debian (scripts/setup.sh installs nodejs and npm).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
demo=$1

if [ ! -f "$here/node_modules/.package-lock.json" ] ||
   [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
	(cd "$here" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >&2
fi
rc=0
node "$here/check-trace.mjs" "$demo/trace.json" "$demo/demo.txt" || rc=1
node "$here/check-statsd.mjs" "$demo/statsd.txt" "$demo/demo.txt" "$demo/trace.json" || rc=1
exit $rc
