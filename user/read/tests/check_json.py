#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Validate a Chrome trace written by ktracer-read.

Strict: the bytes must be UTF-8, the text JSON (RFC 8259: no NaN, no
duplicate keys), and the document a trace as ktracer-read lays it out:
{"displayTimeUnit", "traceEvents", "otherData"}, every event of a known
phase with the fields that phase needs, and on every (pid, tid) track the
complete events ("X") and instants nest: none overlaps another partly.

Usage: check_json.py FILE...   Exit 0 if every file passes.
"""
import json
import sys
from decimal import Decimal

PHASES = {"X", "i", "C", "M"}
META = {"process_name", "thread_name", "process_sort_index",
        "thread_sort_index"}


class Bad(Exception):
    pass


def no_dups(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise Bad("duplicate key in %r" % keys)
    return dict(pairs)


def no_const(name):
    raise Bad("not JSON: %s" % name)


def ns(x):
    """µs with three decimals (read exactly, as Decimal), as integer ns."""
    return int(x * 1000)


def number(ev, key):
    v = ev.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, Decimal)):
        raise Bad("%s: %r is not a number in %r" % (key, v, ev))
    return v


def check_event(ev, tracks, named):
    if not isinstance(ev, dict):
        raise Bad("event is not an object: %r" % ev)
    ph = ev.get("ph")
    if ph not in PHASES:
        raise Bad("unknown ph %r" % ph)
    if not isinstance(ev.get("name"), str):
        raise Bad("name is not a string: %r" % ev)
    pid = number(ev, "pid")
    tid = number(ev, "tid") if ph != "C" else None
    args = ev.get("args", {})
    if not isinstance(args, dict):
        raise Bad("args is not an object: %r" % ev)
    if ph == "M":
        if ev["name"] not in META:
            raise Bad("unknown metadata %r" % ev)
        if ev["name"].endswith("_name"):
            if not isinstance(args.get("name"), str):
                raise Bad("metadata without a name: %r" % ev)
            if ev["name"] == "thread_name":
                named.add((pid, tid))
        elif not isinstance(args.get("sort_index"), int):
            raise Bad("sort metadata without sort_index: %r" % ev)
        return
    ts = number(ev, "ts")
    if ph == "C":
        if not args or not all(isinstance(v, (int, Decimal)) and
                               not isinstance(v, bool) for v in args.values()):
            raise Bad("counter without numeric args: %r" % ev)
        return
    if ph == "i":
        if ev.get("s") != "t":
            raise Bad("instant not on a thread: %r" % ev)
        tracks.setdefault((pid, tid), []).append((ns(ts), 0, ev))
        return
    dur = number(ev, "dur")
    if dur < 0:
        raise Bad("negative dur: %r" % ev)
    tracks.setdefault((pid, tid), []).append((ns(ts), ns(dur), ev))


def check_nesting(tracks):
    for track, spans in tracks.items():
        # Outer first: by start, then the longer first.
        spans.sort(key=lambda s: (s[0], -s[1]))
        stack = []
        for start, dur, ev in spans:
            end = start + dur
            while stack and stack[-1][1] <= start:
                stack.pop()
            if stack and end > stack[-1][1]:
                raise Bad("track %r: %r overlaps %r" %
                          (track, ev, stack[-1][2]))
            stack.append((start, end, ev))


def check(path):
    with open(path, "rb") as f:
        data = f.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Bad("not UTF-8: %s" % e)
    try:
        doc = json.loads(text, object_pairs_hook=no_dups,
                         parse_constant=no_const, parse_float=Decimal)
    except ValueError as e:
        raise Bad("not JSON: %s" % e)
    if not isinstance(doc, dict) or \
            list(doc.keys()) != ["displayTimeUnit", "traceEvents",
                                 "otherData"]:
        raise Bad("top level is not the trace object: %r" %
                  (list(doc.keys()) if isinstance(doc, dict) else doc))
    if not isinstance(doc["traceEvents"], list):
        raise Bad("traceEvents is not an array")
    tracks, named = {}, set()
    for ev in doc["traceEvents"]:
        check_event(ev, tracks, named)
    check_nesting(tracks)
    for pid, tid in tracks:
        # Synthetic tracks (spans, CPUs, devices) are always named.
        if tid >= 0x40000000 and (pid, tid) not in named:
            raise Bad("track (%d, %d) has no thread_name" % (pid, tid))
    return len(doc["traceEvents"])


def main():
    ok = True
    for path in sys.argv[1:]:
        try:
            check(path)
        except (Bad, OSError) as e:
            print("check_json: %s: %s" % (path, e), file=sys.stderr)
            ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
