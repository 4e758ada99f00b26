// Headless Chromium (playwright-core driving the system's Chromium) and the Claims Viewer app
// (app/: a launch page and a redirect page using SMART client-js), served from an origin of its
// own: what the browser suites share.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

import { ARTIFACTS, serve } from './sandbox.mjs';

const appDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'app');
const require = createRequire(import.meta.url);
const BUNDLE = join(dirname(require.resolve('fhirclient/package.json')), 'build', 'fhir-client.js');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
export const SHOTS = join(ARTIFACTS, 'screenshots');
export const VIEWPORTS = {
  desktop: { viewport: { width: 1280, height: 800 } },
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 },
};

/** The app's origin: a static server on its own port, different from the sandbox's. */
export async function startApp() {
  const files = {
    '/launch.html': ['text/html', join(appDir, 'launch.html')],
    '/index.html': ['text/html', join(appDir, 'index.html')],
    '/app.css': ['text/css', join(appDir, 'app.css')],
    '/fhir-client.js': ['text/javascript', BUNDLE],
  };
  return serve((req, res) => {
    const file = files[new URL(req.url, 'http://app').pathname];
    if (!file) { res.writeHead(404); return res.end(); }
    res.writeHead(200, { 'content-type': `${file[0]}; charset=utf-8`, 'cache-control': 'no-store' });
    res.end(readFileSync(file[1]));
  });
}

/** A fresh Chromium profile at one of the two sizes; records console output and page errors. */
export async function openBrowser(size, log) {
  const profile = mkdtempSync(join(tmpdir(), 'payer-sandbox-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: ARGS, ...VIEWPORTS[size],
  });
  const page = context.pages()[0] || await context.newPage();
  page.on('console', (m) => log.push(`[${size}] console.${m.type()}: ${m.text()} (${page.url()})`));
  page.on('pageerror', (e) => log.push(`[${size}] pageerror: ${e.message} (${page.url()})`));
  page.on('requestfailed', (r) => log.push(`[${size}] requestfailed: ${r.url()} ${r.failure()?.errorText}`));
  return {
    page,
    async close() { await context.close(); rmSync(profile, { recursive: true, force: true }); },
  };
}

export async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Waits for the app to settle; `expected` is the state it must settle in. */
export async function waitForApp(page, expected = 'ready') {
  await page.waitForFunction(() => document.body && document.body.dataset.state, null, { timeout: 20_000 });
  const state = await page.evaluate(() => document.body.dataset.state);
  assert.equal(state, expected, await page.locator('#status').textContent());
}
