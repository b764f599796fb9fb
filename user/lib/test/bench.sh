#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# bench.sh BENCH: the library's instructions per op, counted by valgrind's
# callgrind inside each loop of BENCH (bench.c), without the loop's own
# instructions and without clock_gettime() (valgrind runs without the
# vDSO: its clock_gettime is a system call, not what a program runs).
set -eu
bench=$1
n=8192
command -v valgrind >/dev/null || { echo "bench: no valgrind: skipped"; exit 0; }
"$bench"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for loop in gauge task region off; do
	valgrind -q --tool=callgrind --callgrind-out-file="$out" \
		--collect-atstart=no --toggle-collect="loop_$loop" "$bench"
	callgrind_annotate "$out" 2>/dev/null | awk -v n=$n -v loop=$loop '
		/PROGRAM TOTALS/ { gsub(",", "", $1); total = $1 }
		/:loop_|clock_gettime/ && !/PROGRAM/ {
			gsub(",", "", $1); drop += $1 }
		END { printf "KT-LIB %s %.1f\n", loop, (total - drop) / n }'
done
