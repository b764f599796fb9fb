#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Validate a Chrome trace written by ktracer-read.

Strict: the bytes must be UTF-8, the text JSON (RFC 8259: no NaN, no
duplicate keys), and the document a trace as ktracer-read lays it out:
{"displayTimeUnit", "traceEvents", "otherData"}, every event of a known
phase with the fields that phase needs; on every (pid, tid) track the
slices (complete "X", and "B"/"E" pairs, each "E" right after its "B",
with the same name and args) and instants nest: none overlaps another
partly, whether times are read exactly or as an importer reads them (in
doubles, minus the track's first ts, an "X" ending at ts + dur); async
slices ("b"/"e") pair by cat and id, and never overlap on one id.

Usage: check_json.py FILE...   Exit 0 if every file passes.
"""
import json
import sys
from decimal import Decimal

PHASES = {"X", "B", "E", "b", "e", "i", "C", "M"}
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


def check_async(ev, ph, ts, asyncs):
    cat, aid = ev.get("cat"), ev.get("id")
    if not isinstance(cat, str) or isinstance(aid, bool) or \
            not isinstance(aid, (int, str)):
        raise Bad("async event without cat and id: %r" % ev)
    key = (ev["pid"], cat, aid)
    if ph == "b":
        if key in asyncs:
            raise Bad("async %r begins again before it ends: %r" % (key, ev))
        asyncs[key] = (ns(ts), ev)
        return
    begin = asyncs.pop(key, None)
    if begin is None or begin[1]["name"] != ev["name"] or ns(ts) < begin[0]:
        raise Bad("async end without its begin: %r" % ev)


def check_event(ev, tracks, named, pending, asyncs):
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
    if ph in "be":
        check_async(ev, ph, ts, asyncs)
        return
    if ph == "B":
        if (pid, tid) in pending:
            raise Bad("B before the E of the one before: %r" % ev)
        pending[(pid, tid)] = ev
        return
    if ph == "E":
        b = pending.pop((pid, tid), None)
        if b is None or b["name"] != ev["name"] or \
                b.get("args") != ev.get("args") or ts < b["ts"]:
            raise Bad("E not the end of the B before it: %r, %r" % (b, ev))
        tracks.setdefault((pid, tid), []).append(
            (ns(b["ts"]), ns(ts - b["ts"]), ev, float(b["ts"]), float(ts)))
        return
    if ph == "C":
        if not args or not all(isinstance(v, (int, Decimal)) and
                               not isinstance(v, bool) for v in args.values()):
            raise Bad("counter without numeric args: %r" % ev)
        return
    if ph == "i":
        if ev.get("s") != "t":
            raise Bad("instant not on a thread: %r" % ev)
        tracks.setdefault((pid, tid), []).append(
            (ns(ts), 0, ev, float(ts), float(ts)))
        return
    dur = number(ev, "dur")
    if dur < 0:
        raise Bad("negative dur: %r" % ev)
    tracks.setdefault((pid, tid), []).append(
        (ns(ts), ns(dur), ev, float(ts), float(dur)))


def nest(track, spans, how):
    # Outer first: by start, then the longer first.
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    stack = []
    for start, end, ev in spans:
        while stack and stack[-1][1] <= start:
            stack.pop()
        if stack and end > stack[-1][1]:
            raise Bad("track %r: %r overlaps %r (%s)" %
                      (track, ev, stack[-1][2], how))
        stack.append((start, end, ev))


def check_nesting(tracks):
    for track, spans in tracks.items():
        nest(track, [(s[0], s[0] + s[1], s[2]) for s in spans], "exactly")
        # As speedscope reads them: doubles, the track's first ts taken
        # off every ts, an X's end that ts plus dur (a B/E pair's end is
        # its E's ts, and X's dur is a fifth member: whichever applies).
        first = min(s[3] for s in spans)
        nest(track, [(s[3] - first, (s[3] - first) + s[4]
                      if s[2]["ph"] == "X" else s[4] - first, s[2])
                     for s in spans], "in doubles")


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
    tracks, named, pending, asyncs = {}, set(), {}, {}
    for ev in doc["traceEvents"]:
        check_event(ev, tracks, named, pending, asyncs)
    if pending:
        raise Bad("B without its E: %r" % list(pending.values())[0])
    if asyncs:
        raise Bad("async b without its e: %r" % list(asyncs.values())[0][1])
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
