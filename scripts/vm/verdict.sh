#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# verdict.sh OUTDIR LABEL [CPUS]
# Judge a VM run from what the guest printed (run.sh's logs), never from
# qemu's exit status. Prints one TAP-style line per kselftest result and
# a last line for the run itself:
#   ok LABEL: run is clean
# which holds only if the VM booted at least CPUS CPUs (default 2: the per-CPU
# tests need them; `make bench`'s instruction counts boot 1), insmod succeeded, every test program ran to exit 0
# with as many results as its plan announced, rmmod succeeded and left
# nothing behind, kmemleak (when present) found nothing that is not from
# boot (scripts/vm/init says why that is excluded, and prints the rest), /init reached
# its end, and no kernel splat appeared in either log. Exits 0 if and
# only if every line printed is "ok"; OUTDIR/verdict holds the reasons.
set -uo pipefail

out=$1 label=$2 cpus=${3:-2}
splat='BUG:|WARNING:|Oops|Call Trace|Kernel panic|KASAN:|unreferenced object|possible recursive locking|inconsistent lock state|possible circular locking|DEBUG_LOCKS_WARN_ON|lockdep: .*turning off|INFO: lockdep is turned off|scheduling while atomic|sleeping function called from invalid context'

[ -f "$out/results.log" ] || { echo "not ok $label: run is clean # no results.log"; exit 1; }

tr -d '\r' < "$out/results.log" | awk -v label="$label" -v want_cpus="$cpus" '
function fail(why) { reasons = reasons "; " why }
function flush_prog() {
	if (prog == "")
		return
	if (plan < 0)
		fail(prog ": no TAP plan")
	else if (nres != plan)
		fail(prog ": " nres " of " plan " results")
}
/^KT-BEGIN/		{
	begun = 1
	norun = / run=none/
	for (i = 2; i <= NF; i++)
		if ($i ~ /^cpus=/ && substr($i, 6) + 0 < want_cpus)
			fail("booted " $i ", not " want_cpus)
}
/^KT-INSMOD rc=0( |$)/	{ insmod = 1 }
/^KT-RUN /		{ prog = $2; plan = -1; nres = 0 }
/^1\.\.[0-9]+$/		{ plan = substr($0, 4) + 0 }
/^(not )?ok [0-9]+ /	{
	line = $0
	bad = sub(/^not ok [0-9]+ /, "", line)
	if (!bad)
		sub(/^ok [0-9]+ /, "", line)
	printf "%s %s: %s: %s\n", bad ? "not ok" : "ok", label, prog, line
	nres++
	if (bad)
		failed++
}
/^KT-TEST /		{
	flush_prog()
	if ($3 != "rc=0")
		fail($2 " exited " substr($3, 4))
	prog = ""
	ran++
}
/^KT-(BENCH|DEMO) /	{ if ($3 != "rc=0") fail($2 " exited " substr($3, 4)); ran++ }
/^KT-SPLAT /		{ if ($3 != "rc=0") fail("kt_splat insmod " $3) }
/^KT-RMMOD rc=0$/	{ rmmod = 1 }
/^KT-LEFTOVER/		{ if ($2 != "none") fail("rmmod left" substr($0, 12)) }
/^KT-KMEMLEAK /		{ if ($2 != "leaks=0") fail("kmemleak " $2) }
/^KT-END$/		{ ended = 1 }
END {
	flush_prog()
	if (!begun)
		fail("/init never started")
	if (!insmod)
		fail("insmod ktracer.ko failed")
	if (!ran && !norun)
		fail("no test program ran")
	if (failed)
		fail(failed " test(s) failed")
	if (!rmmod)
		fail("rmmod ktracer failed")
	if (!ended)
		fail("/init did not finish")
	print substr(reasons, 3) > "/dev/stderr"
}' 2>"$out/verdict"
reasons=$(cat "$out/verdict")

if hits=$(grep -a -h -E "$splat" "$out/console.log" "$out/results.log" 2>/dev/null); then
	reasons="${reasons:+$reasons; }kernel splat: $(echo "$hits" | head -n 1)"
	echo "$hits" | head -n 20 | sed 's/^/# /'
fi

echo "$reasons" > "$out/verdict"
if [ -n "$reasons" ]; then
	echo "not ok $label: run is clean # $reasons"
	exit 1
fi
echo "ok $label: run is clean"
