// SPDX-License-Identifier: GPL-2.0
//
// check-trace.mjs TRACE.json DEMO.txt
//
// Loads the demo's trace with the Chrome DevTools trace engine (what the
// Performance panel runs) and checks it against what the demo says it did
// (its KT-DEMO-EXPECT lines): the engine reports no warning; every region
// the demo made is there once, nested on its worker's own track beside
// that thread's kernel records, the request's URL in its args; tasks are
// async slices handed from the acceptor to a worker; the one cancelled
// slot is marked; logs are on the thread that logged; and the kernel's
// tracks are there. Prints one "ok"/"not ok" line per check; exits 1 if
// any failed.
import fs from 'node:fs';
import {checker, demoExpect, ended, programSpans} from './common.mjs';
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

// The tracks the engine found, and its complete events by name.
const spans = new Map();
let threads = 0;
for (const proc of data.Renderer.processes.values()) {
  for (const thread of proc.threads.values()) {
    threads++;
    for (const e of thread.entries) {
      if (!spans.has(e.name))
        spans.set(e.name, []);
      spans.get(e.name).push(e);
    }
  }
}
check(threads > 0, `the engine found tracks (${threads})`);

// Regions: B/E pairs on their thread's own track, (pid, tid), nested;
// tasks: async b/e pairs.
const {spans: program, unpaired, track} = programSpans(events);
check(unpaired === 0, 'every region\'s E closes the innermost B of its thread',
      `${unpaired} do not`);
const regions = program.filter(s => s.kind === 'slice' && s.name.startsWith('demo.'));
const done = ended;
const named = name => regions.filter(r => r.name === name && done(r));
for (const name of ['demo.request', 'demo.parse', 'demo.db', 'demo.respond']) {
  const want = expect[`region ${name}`];
  const got = named(name).length;
  check(got === want, `${name}: ${got} regions, the demo made ${want}`);
}
{
  const requests = named('demo.request');
  const urls = requests.filter(r => /^GET \/items\/\d+\?user=\d+$/.test(r.b.args?.text ?? ''));
  check(urls.length === requests.length && requests.length > 0,
        `every demo.request has its URL in args.text (${urls.length} of ${requests.length})`);
  let outside = 0;
  for (const name of ['demo.parse', 'demo.db', 'demo.respond'])
    for (const s of named(name))
      if (!requests.some(r => r.track === s.track && r.ts <= s.ts && s.end <= r.end))
        outside++;
  check(outside === 0, 'parse, db and respond lie inside a demo.request on their own thread',
        `${outside} do not`);
  // The workers' tracks: each also has the system calls of that thread.
  const workers = new Set(requests.map(r => r.track));
  const kernelOn = new Set(events.filter(e => e.cat === 'syscall').map(track));
  const bare = [...workers].filter(w => !kernelOn.has(w));
  // (A worker the scheduler kept waiting may have served none.)
  const main = [...workers].filter(w => w.split('/')[0] === w.split('/')[1]);
  check(workers.size > 0 && workers.size <= expect['threads'] && !main.length && !bare.length,
        `requests on ${workers.size} worker threads (of ${expect['threads']}), none on the main thread, each beside that thread's system calls`,
        `on main: ${main.join(', ') || 'none'}; without system calls: ${bare.join(', ') || 'none'}`);
}

// Tasks: async b/e pairs of cat "task"; queue_wait started by the main
// thread, ended by a worker.
const tasks = name => program.filter(s => s.kind === 'task' && s.name === name);
{
  const qw = tasks('demo.queue_wait').filter(done);
  const want = expect['task demo.queue_wait'];
  check(qw.length === want, `demo.queue_wait: ${qw.length} tasks, the demo made ${want}`);
  const handed = qw.filter(p => p.b.tid === p.b.pid && p.e.tid !== p.e.pid).length;
  check(handed === qw.length && handed > 0,
        `each demo.queue_wait begins on the acceptor and ends on a worker (${handed} of ${qw.length})`);
  const up = tasks('demo.upstream');
  check(up.filter(done).length === expect['task demo.upstream'],
        `demo.upstream: ${up.filter(done).length} ended tasks, the demo ended ${expect['task demo.upstream']}`);
  const cancelled = up.filter(p => p.args.cancelled).length;
  check(cancelled === expect['cancel demo.upstream'],
        `demo.upstream: ${cancelled} cancelled, the demo cancelled one slot (${expect['cancel demo.upstream']})`);
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
{
  const logs = events.filter(e => e.ph === 'i' && e.name === 'demo.log');
  const own = logs.filter(e => String(e.args?.msg).startsWith(`tid ${e.tid}:`)).length;
  check(own === logs.length && own > 0,
        `each demo.log is on the thread its message names (${own} of ${logs.length})`);
}

// The kernel: running-task spans on per-CPU tracks, and, with IO, block
// requests.
check(regions.length > 0 && [...spans.keys()].some(n => !n.startsWith('demo.')),
      'kernel spans are on the timeline too');
if (expect['io'] !== undefined) {
  // B/E pairs on the device's track.
  const blocks = program.filter(s => s.b.cat === 'block').length;
  check(blocks >= expect['io'], `${blocks} block requests, the demo read ${expect['io']} times`);
  // Their tracks are named from sysfs: the demo reads /dev/nullb0.
  const tracks = events.filter(e => e.ph === 'M' && e.name === 'thread_name' &&
                               String(e.args?.name).startsWith('block '))
                       .map(e => e.args.name);
  check(tracks.includes('block nullb0'),
        `block tracks named after the device: ${tracks.join(', ') || 'none'}`);
}

process.exit(check.failed ? 1 : 0);
