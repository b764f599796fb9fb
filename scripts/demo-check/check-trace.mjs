// SPDX-License-Identifier: GPL-2.0
//
// check-trace.mjs TRACE.json DEMO.txt
//
// Loads the demo's trace with the Chrome DevTools trace engine (what the
// Performance panel runs) and checks it against what the demo says it did
// (its KT-DEMO-EXPECT lines): the engine reports no warning, every span
// the demo made is there once, each demo.step lies inside a demo.request
// of the same slot, the cancelled spans are marked, and the kernel's
// tracks are there. Prints one "ok"/"not ok" line per check; exits 1 if
// any failed.
import fs from 'node:fs';
import {checker, demoExpect} from './common.mjs';
import * as Trace from '@paulirish/trace_engine/models/trace/trace.js';

// The engine wants a DOMRect, which Node has not.
globalThis.DOMRect ??= class DOMRect {
  constructor(x = 0, y = 0, width = 0, height = 0) {
    Object.assign(this, {x, y, width, height});
  }
};

const [tracePath, demoPath] = process.argv.slice(2);
if (!tracePath || !demoPath) {
  console.error('usage: check-trace.mjs TRACE.json DEMO.txt');
  process.exit(2);
}

const check = checker('trace');

const expect = demoExpect(demoPath);

const json = JSON.parse(fs.readFileSync(tracePath, 'utf8'));
const events = json.traceEvents ?? json;
const model = Trace.TraceModel.Model.createWithAllHandlers();
await model.parse(events);
const data = model.parsedTrace(0).data;

const warnings = [...data.Warnings.perWarning.keys()];
check(warnings.length === 0, 'the trace engine reports no warning',
      warnings.join(', '));

// Every span (complete event) the engine put on a thread, by name.
const spans = new Map();
let threads = 0;
for (const proc of data.Renderer.processes.values()) {
  for (const thread of proc.threads.values()) {
    threads++;
    for (const e of thread.entries) {
      if (e.ph !== 'X')
        continue;
      if (!spans.has(e.name))
        spans.set(e.name, []);
      spans.get(e.name).push(e);
    }
  }
}
check(threads > 0, `the engine found tracks (${threads})`);

const count = (name, pred = () => true) => (spans.get(name) ?? []).filter(pred).length;
const done = e => !e.args?.cancelled && !e.args?.open;

for (const name of ['demo.request', 'demo.step']) {
  const want = expect[`span ${name}`];
  const got = count(name, done);
  check(got === want, `${name}: ${got} spans, the demo made ${want}`);
}
{
  const want = expect['cancel demo.abandoned'];
  const got = count('demo.abandoned', e => e.args?.cancelled);
  check(got === want, `demo.abandoned: ${got} cancelled spans, the demo cancelled ${want}`);
}

// Nesting: each step inside a request of its slot (the worker's).
{
  const bySlot = new Map();
  for (const r of spans.get('demo.request') ?? []) {
    const slot = r.args?.slot;
    if (!bySlot.has(slot))
      bySlot.set(slot, []);
    bySlot.get(slot).push(r);
  }
  let outside = 0;
  for (const s of spans.get('demo.step') ?? []) {
    const inside = (bySlot.get(s.args?.slot) ?? []).some(r =>
      r.ts <= s.ts && s.ts + s.dur <= r.ts + r.dur);
    if (!inside)
      outside++;
  }
  check(outside === 0, 'every demo.step lies inside a demo.request of its slot',
        `${outside} do not`);
}

// Counters and instants are in the file (the engine keeps no list of them).
const byPh = ph => name => events.filter(e => e.ph === ph && e.name === name).length;
{
  const want = expect['gauge demo.inflight'];
  const got = byPh('C')('demo.inflight');
  check(got === want, `demo.inflight: ${got} counter events, the demo set it ${want} times`);
}
{
  const want = expect['log demo.log'];
  const got = byPh('i')('demo.log');
  check(got === want, `demo.log: ${got} instants, the demo logged ${want}`);
}

// The kernel: running-task spans on per-CPU tracks, and, with IO, block
// requests.
check(count('demo.request') > 0 && [...spans.keys()].some(n => !n.startsWith('demo.')),
      'kernel spans are on the timeline too');
if (expect['io'] !== undefined) {
  const blocks = events.filter(e => e.ph === 'X' && e.cat === 'block').length;
  check(blocks >= expect['io'], `${blocks} block requests, the demo read ${expect['io']} times`);
  // Their tracks are named from sysfs: the demo reads /dev/nullb0.
  const tracks = events.filter(e => e.ph === 'M' && e.name === 'thread_name' &&
                               String(e.args?.name).startsWith('block '))
                       .map(e => e.args.name);
  check(tracks.includes('block nullb0'),
        `block tracks named after the device: ${tracks.join(', ') || 'none'}`);
}

process.exit(check.failed ? 1 : 0);
