#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh TRACE.json...: import ktracer-read's traces with speedscope and
# the Chrome DevTools trace engine (check-import.mjs), which must report
# no warning. Both come from the npm registry at the versions
# package-lock.json pins (npm ci, scripts off), installed once into
# $KTRACER_CACHE/npm by scripts/npm-cache.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
modules=$("$here/../npm-cache.sh" "$here" trace-check)
exec node "$here/check-import.mjs" "$modules" "$@"
