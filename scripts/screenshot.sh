#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# screenshot.sh [TRACE.json [OUT.png]]: draw a trace (default demo/trace.json,
# which `make demo` brings back) in the Chrome DevTools Performance panel,
# headless, and save it (default docs/timeline.png, the README's picture).
# The DevTools front end is Chromium's own (Debian's `chromium`, installed
# here with apt-get if missing), served by a headless Chromium on its
# remote debugging port; playwright-core (npm, pinned by
# scripts/screenshot/package-lock.json, installed once by
# scripts/npm-cache.sh) drives another to load the trace into the panel, as
# "Load profile" does. Not part of `make check`: `make screenshot`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
here=$root/scripts/screenshot
trace=$(realpath "${1:-$root/demo/trace.json}")
out=$(realpath -m "${2:-$root/docs/timeline.png}")

[ -f "$trace" ] || { echo "screenshot.sh: no $trace: run make demo first" >&2; exit 1; }
if ! command -v chromium > /dev/null; then
	apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
fi
modules=$("$root/scripts/npm-cache.sh" "$here" screenshot)

# The Chromium that serves the DevTools front end, on a port it picks.
tmp=$(mktemp -d)
chromium --headless=new --no-sandbox --disable-gpu --remote-debugging-port=0 \
	--user-data-dir="$tmp" about:blank > "$tmp.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$tmp" "$tmp.log"' EXIT
for _ in $(seq 100); do
	[ -s "$tmp/DevToolsActivePort" ] && break
	sleep 0.2
done
port=$(head -n1 "$tmp/DevToolsActivePort" 2>/dev/null) ||
	{ echo "screenshot.sh: chromium did not start; its log:" >&2; cat "$tmp.log" >&2; exit 1; }

node "$here/shot.mjs" "$modules" "http://127.0.0.1:$port" "$trace" "$out"
echo "$out: $(stat -c %s "$out") bytes, $trace in the DevTools Performance panel"
