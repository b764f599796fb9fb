// SPDX-License-Identifier: GPL-2.0
//
// node shot.mjs NODE_MODULES DEVTOOLS_URL TRACE OUT.png: open the Chrome
// DevTools front end that a headless Chromium serves on its remote
// debugging port (DEVTOOLS_URL, http://127.0.0.1:PORT), load TRACE into
// its Performance panel as "Load profile" does, expand the program's
// process and threads and the kernel's tracks, and save the panel as
// OUT.png. The panel opens on the whole trace: it is given the stretch
// from the first demo.request to the last (2 ms either side), so that the
// picture shows the requests whatever the run's timing.
//
// The tracks are drawn on a canvas: they are clicked at the places the
// panel draws them in a 1600x1000 window (the process, then its five
// threads from the last up, then "kernel" below them).
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const [modules, devtools, whole, out] = process.argv.slice(2);
const { chromium } = createRequire(join(modules, 'x.js'))('playwright-core');

const doc = JSON.parse(readFileSync(whole, 'utf8'));
const req = doc.traceEvents.filter((e) => e.name === 'demo.request').map((e) => Number(e.ts));
if (!req.length)
	throw new Error(`${whole}: no demo.request in it`);
const from = Math.min(...req) - 2000, to = Math.max(...req) + 2000;
doc.traceEvents = doc.traceEvents.filter((e) => e.ph === 'M' ||
	(Number(e.ts) >= from && Number(e.ts) <= to));
const trace = `${out}.trace.json`;
writeFileSync(trace, JSON.stringify(doc));
const browser = await chromium.launch({
	executablePath: process.env.KT_CHROMIUM || '/usr/bin/chromium',
	args: ['--no-sandbox'],
});
try {
	const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
	const wait = (ms) => page.waitForTimeout(ms);

	await page.goto(`${devtools}/devtools/trace_app.html`);
	await wait(3000);
	await page.keyboard.press('Escape');	// "Debugging connection was closed": there is no page to debug
	await page.getByText('Performance', { exact: true }).first().click();
	await page.locator('input[type=file]').first().setInputFiles(trace, { timeout: 20000 });
	await wait(8000);
	const close = page.locator('[aria-label="Close"]');
	for (let i = 0; i < await close.count(); i++)
		await close.nth(i).click({ timeout: 1000 }).catch(() => {});
	await page.locator('[aria-label="Hide sidebar"]').first().click({ timeout: 2000 }).catch(() => {});
	await wait(500);
	await page.mouse.click(10, 129);
	await wait(1000);
	for (const y of [229, 209, 188, 167, 145]) {
		await page.mouse.click(20, y);
		await wait(700);
	}
	await page.mouse.click(8, 471);
	await wait(700);
	await page.mouse.move(1590, 990);
	await wait(1000);
	await page.screenshot({ path: out, clip: { x: 0, y: 0, width: 1600, height: 600 } });
} finally {
	await browser.close();
	rmSync(trace, { force: true });
}
