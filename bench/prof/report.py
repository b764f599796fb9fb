#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""report.py: insn_prof's counts per guest address, as functions.

    report.py INSNS KALLSYMS RESULTS PROGRAM OUTDIR [TOP]

INSNS is the plugin's output ("VADDR COUNT" lines), KALLSYMS the guest's
/proc/kallsyms (code symbols, modules' with their "[module]"), RESULTS the
guest's results log (ops_bench's KT-PROF and KT-PROF-MAP lines), PROGRAM the
static ops_bench the guest ran (its symbols, by nm). Kernel addresses go to
the kallsyms symbol at or below them, the program's to its own, the vDSO's
to "[vdso]". Prints a summary and the TOP functions (default 25) by
instructions per op; writes OUTDIR/functions.txt (every function) and
OUTDIR/addrs.txt (every address, as symbol+offset, with its count).
"""
import bisect
import subprocess
import sys

KERNEL = 0xFFFF800000000000
FAR = 0x10000  # farther than this past a symbol: not that symbol's code


class Symbols:
    def __init__(self, entries):
        entries.sort()
        self.addrs = [a for a, _, _ in entries]
        self.entries = entries

    def find(self, addr):
        i = bisect.bisect_right(self.addrs, addr) - 1
        if i < 0 or addr - self.addrs[i] >= FAR:
            return None
        return self.entries[i]


def kallsyms(path):
    entries = []
    with open(path) as f:
        for line in f:
            w = line.split()
            if len(w) < 3 or w[1] not in "tTwW":
                continue
            where = w[3].strip("[]") if len(w) > 3 else "vmlinux"
            entries.append((int(w[0], 16), w[2], where))
    if not entries or all(a == 0 for a, _, _ in entries):
        sys.exit("report.py: %s has no symbol addresses (kptr_restrict?)" % path)
    return Symbols(entries)


def program_symbols(path):
    out = subprocess.run(["nm", "-n", "--defined-only", path], check=True,
                         capture_output=True, text=True).stdout
    name = path.rsplit("/", 1)[-1]
    entries = []
    for line in out.splitlines():
        w = line.split()
        if len(w) == 3 and w[1] in "tTwWi":
            entries.append((int(w[0], 16), w[2], name))
    return Symbols(entries)


def main():
    if len(sys.argv) not in (6, 7):
        sys.exit(__doc__)
    insns, ksyms, results, program, outdir = sys.argv[1:6]
    top = int(sys.argv[6]) if len(sys.argv) > 6 else 25

    prof = None
    maps = []
    with open(results, errors="replace") as f:
        for line in f:
            w = line.split()
            if w[:1] == ["KT-PROF"] and len(w) == 5:
                prof = (w[1], w[2], int(w[3]), float(w[4]))
            elif w[:1] == ["KT-PROF-MAP"] and len(w) == 4:
                maps.append((int(w[1], 16), int(w[2], 16), w[3]))
    if not prof:
        sys.exit("report.py: no KT-PROF line in %s" % results)
    name, unit, units, ns = prof

    counts = []
    with open(insns) as f:
        head = f.readline().split()
        meta = dict(w.split("=", 1) for w in head[2:])
        if meta.get("start") != "1" or meta.get("stop") != "1":
            sys.exit("report.py: the window's markers ran start=%s stop=%s times, not once each"
                     % (meta.get("start"), meta.get("stop")))
        for line in f:
            a, c = line.split()
            counts.append((int(a, 16), int(c)))

    ks = kallsyms(ksyms)
    us = program_symbols(program)
    funcs = {}   # (symbol, where) -> count
    parts = {}   # where -> count
    total = 0
    with open(outdir + "/addrs.txt", "w") as out:
        for addr, c in counts:
            total += c
            if addr >= KERNEL:
                s = ks.find(addr)
                key = (s[1], s[2]) if s else ("[unknown kernel]", "vmlinux")
            else:
                s = us.find(addr)
                key = (s[1], s[2]) if s else None
                for lo, hi, m in maps:
                    if lo <= addr < hi:
                        s, key = None, (m, m.strip("[]"))
                if key is None:
                    key = ("[unknown user]", "user")
            label = "%s+%#x" % (s[1], addr - s[0]) if s else key[0]
            out.write("%016x %10d %10.3f %s [%s]\n" % (addr, c, c / units, label, key[1]))
            funcs[key] = funcs.get(key, 0) + c
            group = key[1] if addr >= KERNEL else "user"
            parts[group] = parts.get(group, 0) + c

    ranked = sorted(funcs.items(), key=lambda kv: -kv[1])
    with open(outdir + "/functions.txt", "w") as out:
        for (sym, where), c in ranked:
            out.write("%10.3f %12d %s [%s]\n" % (c / units, c, sym, where))

    per = "per " + unit
    print("profile of %s: %d %ss in the window, %d guest instructions counted"
          % (name, units, unit, total))
    print("  counted:  %8.1f instructions %s" % (total / units, per))
    print("  clock:    %8.1f instructions %s (CLOCK_MONOTONIC across the window, -icount)"
          % (ns / units, per))
    kernel = sum(c for g, c in parts.items() if g != "user")
    print("  kernel:   %8.1f %s, of which:" % (kernel / units, per))
    for group, c in sorted(parts.items(), key=lambda kv: -kv[1]):
        if group != "user":
            print("    %-12s %8.1f" % (group, c / units))
    print("  user:     %8.1f %s (the program and the vDSO)"
          % (parts.get("user", 0) / units, per))
    print()
    print("| # | instructions %s | %% | cumulative %% | function | in |" % per)
    print("| ---: | ---: | ---: | ---: | --- | --- |")
    cum = 0
    for i, ((sym, where), c) in enumerate(ranked[:top], 1):
        cum += c
        print("| %d | %.2f | %.1f | %.1f | %s | %s |"
              % (i, c / units, 100 * c / total, 100 * cum / total, sym, where))
    rest = total - cum
    if rest:
        print("| | %.2f | %.1f | 100.0 | (%d other functions) | |"
              % (rest / units, 100 * rest / total, len(ranked) - top))


if __name__ == "__main__":
    main()
