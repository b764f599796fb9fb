// SPDX-License-Identifier: GPL-2.0
//
// check-import.mjs MODULES [--bad BAD.json] TRACE.json...
//
// Imports each trace as two viewers do, and checks that neither warns:
//  - speedscope (its release bundle, as the browser runs it: the bundle's
//    importProfileGroupFromText, everything console.warn()s counted);
//  - the Chrome DevTools trace engine (what the Performance panel runs:
//    its Warnings handler).
// MODULES is the node_modules directory run.sh installed them in. BAD is
// a trace speedscope must warn about (slices that overlap in doubles):
// the check can fail.
// Prints one "ok"/"not ok" line per viewer; exits 1 if any failed.
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import {pathToFileURL} from 'node:url';

const [modules, ...traces] = process.argv.slice(2);
let bad = null;
if (traces[0] === '--bad') {
  bad = traces[1];
  traces.splice(0, 2);
}
if (!modules || !traces.length) {
  console.error('usage: check-import.mjs MODULES [--bad BAD.json] TRACE.json...');
  process.exit(2);
}

let failed = 0;
const check = (ok, what, why = '') => {
  console.log(`${ok ? 'ok' : 'not ok'} ${what}${ok || !why ? '' : ' # ' + why}`);
  if (!ok)
    failed++;
};

// speedscope ships a browser bundle only: run it in a context of its own
// with what its import path touches, and take its importer before it
// renders its UI (which fails without a document: that is expected).
function loadSpeedscope() {
  const dir = path.join(modules, 'speedscope/dist/release');
  const file = fs.readdirSync(dir).find(f => /^speedscope-.*\.js$/.test(f));
  let src = fs.readFileSync(path.join(dir, file), 'utf8');
  const fn = src.match(/async function (\w+)\(t,e\)\{return\(await \w+\)\.importProfileGroupFromText\(t,e\)\}/);
  if (!fn)
    throw new Error(`${file}: no importProfileGroupFromText`);
  src = src.replace(fn[0], `${fn[0]}globalThis.__ktImport=${fn[1]};`);
  const warnings = [];
  const say = kind => (...a) => warnings.push(kind + a.map(String).join(' '));
  const ctx = {
    console: {log() {}, info() {}, debug() {}, warn: say(''), error: say('error: ')},
    TextDecoder, TextEncoder, setTimeout, clearTimeout, URL, atob, btoa,
    performance, navigator: {userAgent: 'node', platform: 'linux'},
    location: {hash: '', search: '', href: ''},
    addEventListener() {}, removeEventListener() {},
    matchMedia: () => ({matches: false, addEventListener() {}, addListener() {}}),
    localStorage: {getItem: () => null, setItem() {}},
    requestAnimationFrame() {}, devicePixelRatio: 1,
    document: new Proxy({}, {get: (t, k) => k === 'body' ? null : () => ({})}),
  };
  ctx.window = ctx.self = ctx.globalThis = ctx;
  vm.createContext(ctx);
  try {
    vm.runInContext(src, ctx, {filename: file});
  } catch {
    // its UI, with no document to render in
  }
  if (!ctx.__ktImport)
    throw new Error(`${file}: the importer was not reached`);
  return {version: JSON.parse(fs.readFileSync(path.join(modules, 'speedscope/package.json'))).version,
          warnings, import: ctx.__ktImport};
}

const ss = loadSpeedscope();
const Trace = await import(pathToFileURL(path.join(modules,
  '@paulirish/trace_engine/models/trace/trace.js')).href);
// The engine wants a DOMRect, which Node has not.
globalThis.DOMRect ??= class DOMRect {
  constructor(x = 0, y = 0, width = 0, height = 0) {
    Object.assign(this, {x, y, width, height});
  }
};

if (bad) {
  ss.warnings.length = 0;
  await ss.import(path.basename(bad), fs.readFileSync(bad, 'utf8'));
  check(ss.warnings.length > 0,
        `speedscope ${ss.version} warns about ${path.basename(bad)}: ${ss.warnings.length} warnings`);
}

// Per viewer: the traces it warned about (or failed on), and counts.
const seen = {ss: [], engine: []};
let profiles = 0, threads = 0;
for (const trace of traces) {
  const name = path.basename(trace);
  const text = fs.readFileSync(trace, 'utf8');

  ss.warnings.length = 0;
  try {
    const group = await ss.import(name, text);
    profiles += group?.profiles?.length ?? 0;
  } catch (e) {
    ss.warnings.push(String(e));
  }
  if (ss.warnings.length)
    seen.ss.push(`${name}: ${ss.warnings.slice(0, 2).join(' | ')}`);

  const model = Trace.TraceModel.Model.createWithAllHandlers();
  await model.parse(JSON.parse(text).traceEvents);
  const data = model.parsedTrace(0).data;
  const warnings = [...data.Warnings.perWarning.keys()];
  for (const proc of data.Renderer.processes.values())
    threads += proc.threads.size;
  if (warnings.length)
    seen.engine.push(`${name}: ${warnings.join(', ')}`);
}
check(!seen.ss.length,
      `speedscope ${ss.version} imports ${traces.length} traces (${profiles} profiles) with no warning`,
      seen.ss.join(' || '));
check(!seen.engine.length,
      `the DevTools trace engine imports ${traces.length} traces (${threads} threads) with no warning`,
      seen.engine.join(' || '));
process.exit(failed ? 1 : 0);
