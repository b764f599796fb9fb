// SPDX-License-Identifier: GPL-2.0
//
// What the demo's checks share: the "ok"/"not ok" lines, and what the demo
// says it did.
import fs from 'node:fs';

// A checker for one part (LABEL); check.failed counts what did not hold.
export function checker(label) {
  const check = (ok, what, why = '') => {
    console.log(`${ok ? 'ok' : 'not ok'} demo: ${label}: ${what}${ok || !why ? '' : ' # ' + why}`);
    if (!ok)
      check.failed++;
  };
  check.failed = 0;
  return check;
}

// "KT-DEMO-EXPECT KIND NAME N" lines of DEMO.txt: {"KIND NAME": N}.
export function demoExpect(path) {
  const expect = {};
  for (const line of fs.readFileSync(path, 'utf8').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === 'KT-DEMO-EXPECT')
      expect[f.slice(1, -1).join(' ')] = Number(f.at(-1));
  }
  return expect;
}

// The paired slices of a trace's EVENTS: B/E pairs on their track, the E
// closing the innermost B (kind "slice": regions on their thread's track,
// block requests on their device's), and tasks (kind "task": b/e pairs of
// cat "task" by id). Each {kind, name, track, ts, end, b, e, args};
// unpaired counts the E without a matching B.
export function programSpans(events) {
  const track = e => `${e.pid}/${e.tid}`;
  const spans = [], open = new Map(), tasks = new Map();
  let unpaired = 0;
  const pair = (kind, b, e) => spans.push({kind, name: b.name, track: track(b), ts: b.ts,
                                           end: e.ts, b, e, args: {...b.args, ...e.args}});
  for (const e of events) {
    if (e.ph === 'B') {
      if (!open.has(track(e)))
        open.set(track(e), []);
      open.get(track(e)).push(e);
    } else if (e.ph === 'E') {
      const b = open.get(track(e))?.pop();
      if (b && b.name === e.name)
        pair('slice', b, e);
      else
        unpaired++;
    } else if (e.cat === 'task' && e.ph === 'b') {
      tasks.set(`${e.name}/${e.id}`, e);
    } else if (e.cat === 'task' && e.ph === 'e' && tasks.has(`${e.name}/${e.id}`)) {
      pair('task', tasks.get(`${e.name}/${e.id}`), e);
      tasks.delete(`${e.name}/${e.id}`);
    }
  }
  return {spans, unpaired, track};
}

// A span that ended: not cancelled, open at the end or cut.
export const ended = s => !s.args?.cancelled && !s.args?.open && !s.args?.stop_lost &&
  !s.args?.closed;
