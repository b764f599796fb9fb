// SPDX-License-Identifier: GPL-2.0
//
// check-statsd.mjs STATSD.txt DEMO.txt TRACE.json
//
// Replays the StatsD lines ktracer-read sent during the demo into the
// reference daemon (npm "statsd", bound to 127.0.0.1, flushing never
// during the check), reads its totals back through its management port,
// and checks them against what the demo says it did (KT-DEMO-EXPECT lines)
// and against the spans of the trace: span counts, the counter's total,
// the gauge's last value, and timing sums within rounding of the trace's
// durations. Prints one "ok"/"not ok" line per check; exits 1 if any
// failed.
import {spawn} from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import {checker, demoExpect, ended, programSpans} from './common.mjs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {createRequire} from 'node:module';

const [statsdPath, demoPath, tracePath] = process.argv.slice(2);
if (!statsdPath || !demoPath || !tracePath) {
  console.error('usage: check-statsd.mjs STATSD.txt DEMO.txt TRACE.json');
  process.exit(2);
}
const PREFIX = 'ktracer.';
// The spans the demo ends, regions and tasks: each a StatsD timer.
const TIMED = ['demo.request', 'demo.parse', 'demo.db', 'demo.respond', 'demo.queue_wait'];

const check = checker('statsd');

const expect = demoExpect(demoPath);
const lines = fs.readFileSync(statsdPath, 'utf8').split('\n').filter(l => l);
check(lines.length > 0, `${lines.length} lines to replay`);

// A free port pair for the daemon: ask the OS for two.
async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const {port} = s.address();
      s.close(() => resolve(port));
    }).on('error', reject);
  });
}
const port = await freePort();
const mgmtPort = await freePort();

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ktracer-statsd-'));
const config = path.join(dir, 'config.js');
fs.writeFileSync(config, `{
  address: "127.0.0.1", port: ${port},
  mgmt_address: "127.0.0.1", mgmt_port: ${mgmtPort},
  flushInterval: 3600000, backends: [], deleteIdleStats: false
}\n`);
const require = createRequire(import.meta.url);
const daemonMain = path.join(path.dirname(require.resolve('statsd/package.json')), 'stats.js');
const daemon = spawn(process.execPath, [daemonMain, config], {stdio: ['ignore', 'pipe', 'pipe']});
let daemonLog = '';
daemon.stdout.on('data', d => { daemonLog += d; });
daemon.stderr.on('data', d => { daemonLog += d; });

// One management command; its answer ends in END ("health" in a line).
function mgmt(cmd) {
  return new Promise((resolve, reject) => {
    let out = '';
    const c = net.connect(mgmtPort, '127.0.0.1', () => c.write(cmd + '\n'));
    c.setTimeout(5000, () => c.destroy(new Error(`statsd: no answer to ${cmd}`)));
    c.on('data', d => {
      out += d;
      if (out.includes('END') || (cmd === 'health' && out.includes('\n'))) {
        c.destroy();
        resolve(out);
      }
    });
    c.on('error', reject);
  });
}

// The daemon is up when its management port answers.
async function waitUp() {
  for (let i = 0; i < 100; i++) {
    try {
      await mgmt('health');
      return;
    } catch {
      await new Promise(r => setTimeout(r, 100));
    }
  }
  throw new Error('statsd did not start: ' + daemonLog);
}

try {
  await waitUp();
  // Datagrams of at most 1400 bytes, whole lines, as the reader sent them.
  const sock = dgram.createSocket('udp4');
  let dgramBuf = '';
  const send = s => new Promise((res, rej) =>
    sock.send(s, port, '127.0.0.1', e => (e ? rej(e) : res())));
  for (const l of lines) {
    if (dgramBuf && dgramBuf.length + 1 + l.length > 1400) {
      await send(dgramBuf);
      dgramBuf = '';
    }
    dgramBuf += (dgramBuf ? '\n' : '') + l;
  }
  if (dgramBuf)
    await send(dgramBuf);
  sock.close();

  // Until the daemon has taken every line in (it counts them itself).
  const parse = s => JSON.parse(s.replace(/END\s*$/, '').trim()
    .replace(/'/g, '"').replace(/([{,]\s*)([A-Za-z_][\w.]*)\s*:/g, '$1"$2":') || '{}');
  let counters = {}, gauges = {};
  for (let i = 0; i < 100; i++) {
    counters = parse(await mgmt('counters'));
    gauges = parse(await mgmt('gauges'));
    if ((counters['statsd.metrics_received'] ?? 0) >= lines.length)
      break;
    await new Promise(r => setTimeout(r, 100));
  }
  check(counters['statsd.metrics_received'] === lines.length &&
        !counters['statsd.bad_lines_seen'],
        `the daemon took every line in (${counters['statsd.metrics_received']} of ${lines.length}, ${counters['statsd.bad_lines_seen'] ?? 0} bad)`);

  const c = name => counters[PREFIX + name];
  const g = name => gauges[PREFIX + name];
  for (const ev of TIMED) {
    const want = expect[`region ${ev}`] ?? expect[`task ${ev}`];
    check(c(`${ev}_us.count`) === want,
          `${ev}_us.count totals ${c(`${ev}_us.count`)}, the demo made ${want} spans`);
  }
  check(c('demo.bytes') === expect['counter demo.bytes'],
        `demo.bytes totals ${c('demo.bytes')}, the demo added ${expect['counter demo.bytes']}`);
  check(g('demo.inflight') === 0, `demo.inflight's last value is ${g('demo.inflight')}, as the demo left it`);
  check(c('demo.upstream_us.count') === expect['task demo.upstream'],
        `demo.upstream_us.count is ${c('demo.upstream_us.count')}: the cancelled slot is not timed`);

  // Timings against the trace: the sum of durations, within a microsecond
  // a span (the reader sends whole microseconds).
  const {spans} = programSpans(JSON.parse(fs.readFileSync(tracePath, 'utf8')).traceEvents);
  for (const ev of TIMED) {
    const durs = spans.filter(s => s.name === ev && ended(s)).map(s => s.end - s.ts);
    const sum = durs.reduce((a, b) => a + b, 0);
    const got = c(`${ev}_us.sum`);
    check(Math.abs(got - sum) <= durs.length,
          `${ev}_us.sum ${got} matches the trace's ${sum.toFixed(1)} us`);
  }
} finally {
  daemon.kill();
  fs.rmSync(dir, {recursive: true, force: true});
}
process.exit(check.failed ? 1 : 0);
