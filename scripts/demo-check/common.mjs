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
