// Checks the portal's demo the way a person sees it:
//   node tests/runtimes/web.mjs <report.json> [screenshot.png]
// Starts web/serve.mjs on a free port of 127.0.0.1, opens /web/?demo&now=<fixed>
// in headless Chromium, waits for the status to render, and writes what the
// page shows: the module hashes, the license state, the sections, any error.
// The server and the browser are shut down on every path; waits are bounded.

import { startPortalServer } from './serve_portal.mjs';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';

const EXECUTABLE = process.env.ENTITLE_CHROMIUM || '/usr/bin/chromium';
const NOW = '2026-11-22T10:00:00Z';
const [reportPath, screenshotPath] = process.argv.slice(2);
if (!reportPath) {
  console.error('usage: node tests/runtimes/web.mjs <report.json> [screenshot.png]');
  process.exit(2);
}

function startServer(state) {
  const { child, listening } = startPortalServer();
  state.server = child;
  return listening;
}

async function run(state) {
  if (!existsSync(EXECUTABLE)) throw new Error(`${EXECUTABLE} is missing: run \`bash tests/setup.sh\``);
  const { chromium } = await import('playwright-core');
  const port = await startServer(state);
  state.browser = await chromium.launch({
    executablePath: EXECUTABLE,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 60_000,
  });
  const page = await state.browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  await page.goto(`http://127.0.0.1:${port}/web/?demo&nosw&now=${NOW}`, { timeout: 30_000 });
  await page.waitForFunction(
    () => ['shown', 'refused'].includes(document.body.dataset.state)
      || document.getElementById('progress').classList.contains('failed'),
    null,
    { timeout: 60_000 },
  );
  if (screenshotPath) await page.screenshot({ path: screenshotPath, fullPage: true });
  const shown = await page.evaluate(() => ({
    progress: document.getElementById('progress').textContent,
    failed: document.body.dataset.state !== 'shown',
    shaActual: document.getElementById('sha-actual').textContent.trim(),
    shaExpected: document.getElementById('sha-expected').textContent.trim(),
    shaVerdict: document.getElementById('sha-verdict').textContent.trim(),
    headings: Array.from(document.querySelectorAll('#views h2'), (h) => h.textContent.trim()),
    licenseState: document.querySelector('#v-license .badge')?.dataset.code ?? null,
    quotaRows: document.querySelectorAll('#v-quotas [data-metric]').length,
    request: window.entitle.lastStatusRequest ?? '',
    answer: document.getElementById('answer-json').textContent,
    pinned: document.getElementById('pinned').hidden ? null : document.getElementById('pinned').textContent,
  }));
  return { now: NOW, problems, ...shown };
}

async function shutdown(state) {
  if (state.browser) await state.browser.close().catch(() => {});
  if (state.server && state.server.exitCode === null) state.server.kill('SIGTERM');
}

const state = { server: null, browser: null };
const watchdog = setTimeout(async () => {
  console.error('web check: no result within 120 s');
  await shutdown(state);
  process.exit(3);
}, 120_000);
let exitCode = 0;
try {
  await writeFile(reportPath, JSON.stringify(await run(state)));
} catch (error) {
  exitCode = 1;
  console.error(`web check: ${error && error.stack ? error.stack : error}`);
} finally {
  await shutdown(state);
  clearTimeout(watchdog);
}
process.exit(exitCode);
