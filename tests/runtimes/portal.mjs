// The portal end to end, as a customer uses it, in headless Chromium:
//   node tests/runtimes/portal.mjs <config.json> <report.json>
// The config (written by host/tests/portal.rs) names a running gateway, a
// license it serves, the portal's trusted key set, signed and tampered
// documents, and where screenshots go. This script serves web/ (web/serve.mjs
// on a free port, trusting the given keys), drives the page through each
// scenario and writes what the page shows; the Rust test judges it.
// The server and the browser are shut down on every path; waits are bounded.

import { startPortalServer } from './serve_portal.mjs';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

const EXECUTABLE = process.env.ENTITLE_CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const [configPath, reportPath] = process.argv.slice(2);
if (!configPath || !reportPath) {
  console.error('usage: node tests/runtimes/portal.mjs <config.json> <report.json>');
  process.exit(2);
}
const config = JSON.parse(readFileSync(configPath, 'utf8'));

function startServer(state) {
  const { child, listening } = startPortalServer({ ENTITLE_PORTAL_KEYS: config.keys });
  state.server = child;
  return listening;
}

/** Waits until the page shows a license or a refusal. */
async function settled(page) {
  await page.waitForFunction(() => ['shown', 'refused'].includes(document.body.dataset.state), null, { timeout: 60_000 });
  return page.evaluate(() => document.body.dataset.state);
}

/** Every meter as the page shows it: the text of each field, and instants by their datetime. */
function readMeters(page) {
  return page.evaluate(() => Object.fromEntries([...document.querySelectorAll('#v-quotas [data-metric]')].map((card) => {
    const fields = {};
    for (const node of card.querySelectorAll('[data-field]')) {
      const timeEl = node.querySelector('time');
      fields[node.dataset.field] = timeEl ? timeEl.getAttribute('datetime') : node.textContent.trim();
    }
    fields.state = card.querySelector('h3 .badge')?.dataset.code ?? null;
    fields.meter = card.querySelector('[role=meter]')?.getAttribute('aria-valuenow') ?? null;
    fields.plot = Boolean(card.querySelector('figure.plot svg path.used'));
    return [card.dataset.metric, fields];
  })));
}

const fieldText = (page, name) => page.evaluate((n) => document.querySelector(`[data-field="${n}"]`)?.textContent.trim() ?? null, name);

async function shot(page, name) {
  const file = path.join(config.screenshots, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

function watch(page, problems) {
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
}

async function fromGateway(browser, base, report) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  watch(page, report.problems);
  const url = `${base}/web/?gateway=${encodeURIComponent(config.gateway)}&license=${encodeURIComponent(config.license)}`;
  await page.goto(url, { timeout: 30_000 });
  const result = { state: await settled(page) };
  result.now = await page.evaluate(() => document.getElementById('now').getAttribute('datetime'));
  result.usage = await page.evaluate(() => window.entitle.state.docs.usage);
  result.trust = await page.evaluate(() => document.getElementById('trust').textContent);
  result.shaPage = await page.evaluate(() => document.getElementById('sha-actual').textContent.trim());
  result.shaGateway = await page.evaluate(() => document.getElementById('sha-gateway').textContent.trim());
  result.shaVerdict = await page.evaluate(() => document.getElementById('sha-verdict').textContent.trim());
  result.meters = await readMeters(page);
  result.bill = await page.evaluate(() => ({
    lines: [...document.querySelectorAll('#v-bill [data-line-kind]')].map((row) => ({ kind: row.dataset.lineKind, id: row.dataset.lineId, amount: row.dataset.amount })),
    total: document.querySelector('[data-field=bill_total]')?.textContent.trim() ?? null,
  }));
  result.overageTotal = await fieldText(page, 'overage_total');
  result.tier = await fieldText(page, 'tier');
  result.cheapest = await fieldText(page, 'cheapest_plan');
  result.clocks = await page.evaluate(() => [...document.querySelectorAll('#v-support [data-clock]')].map((row) => ({
    clock: row.dataset.clock,
    state: row.querySelector('.badge')?.dataset.code ?? null,
    due: row.querySelector('time')?.getAttribute('datetime') ?? null,
  })));
  result.credits = await page.evaluate(() => [...document.querySelectorAll('#v-support [data-credit-below]')]
    .map((row) => [...row.children].map((cell) => cell.textContent.trim())));
  result.supportTargets = await page.evaluate(() => document.querySelectorAll('#v-support table')[0]?.querySelectorAll('tbody tr').length ?? 0);
  result.screenshot = await shot(page, 'portal');

  // What if: more calls than any team plan holds, then far fewer.
  const whatIf = async (value) => {
    await page.fill('#whatif-api_calls', String(value));
    await page.waitForFunction(() => document.body.classList.contains('what-if'));
    return { cheapest: await fieldText(page, 'cheapest_plan'), verdict: await page.evaluate(() => document.querySelector('[data-field=verdict] .badge')?.dataset.code), used: (await readMeters(page)).api_calls?.used };
  };
  result.whatIf = { high: await whatIf(160000) };
  result.whatIf.screenshot = await shot(page, 'portal-what-if');
  result.whatIf.low = await whatIf(5000);
  await page.click('#whatif button[type=reset]');
  await page.waitForFunction(() => !document.body.classList.contains('what-if'));
  result.whatIf.back = await fieldText(page, 'cheapest_plan');

  // An exception request without its use case.
  await page.fill('#exr-requester', 'ops@northwind.example');
  await page.fill('#exr-reason', 'launch traffic for the spring release');
  await page.fill('#exr-starts_at', config.exceptionStart);
  await page.fill('#exr-duration_days', '14');
  await page.fill('#exr-expected_revenue_impact', '500.00');
  await page.check('input[name=features][value=priority_support]');
  await page.waitForFunction(() => document.querySelector('[data-error-for="$.request.use_case"]')?.textContent.length > 0, null, { timeout: 10_000 });
  result.exception = await page.evaluate(() => ({
    useCase: [...document.querySelectorAll('[data-error-for="$.request.use_case"] [data-code]')].map((n) => n.dataset.code),
    invalid: document.getElementById('exr-use_case').getAttribute('aria-invalid'),
    message: document.querySelector('[data-error-for="$.request.use_case"]').textContent,
  }));
  await page.locator('#exception').scrollIntoViewIfNeeded();
  result.exception.screenshot = await shot(page, 'portal-exception');
  await page.fill('#exr-use_case', 'product_launch');
  await page.waitForFunction(() => document.getElementById('exception-form').dataset.valid === 'true', null, { timeout: 10_000 });
  result.exception.completed = await page.evaluate(() => document.getElementById('exr-outcome').textContent);

  await page.setViewportSize({ width: 390, height: 844 });
  result.phone = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
  result.phoneScreenshot = await shot(page, 'portal-phone');
  await context.close();
  return result;
}

async function fromFiles(browser, base, report, files, name) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  watch(page, report.problems);
  await page.goto(`${base}/web/`, { timeout: 30_000 });
  await page.waitForFunction(() => window.entitle && window.entitle.ready);
  await page.setInputFiles('#files', files);
  const result = { state: await settled(page) };
  result.errors = await page.evaluate(() => [...document.querySelectorAll('#refusal [data-code]')]
    .filter((n) => n.tagName === 'LI').map((n) => ({ code: n.dataset.code, path: n.dataset.path })));
  result.meters = await readMeters(page);
  result.screenshot = await shot(page, name);
  if (result.state === 'shown') {
    // Offline once loaded: the worker keeps the page and module, the page its documents.
    await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.ready;
      if (!navigator.serviceWorker.controller) await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
      return registration.active?.state;
    });
    await page.reload();
    await settled(page);
    await context.setOffline(true);
    await page.reload();
    result.offline = { state: await settled(page), meters: Object.keys(await readMeters(page)).length, sha: await page.evaluate(() => document.getElementById('sha-actual').textContent.trim()) };
    await context.setOffline(false);
  }
  await context.close();
  return result;
}

async function run(state) {
  if (!existsSync(EXECUTABLE)) throw new Error(`${EXECUTABLE} is missing: run \`bash tests/setup.sh\``);
  const { chromium } = await import('playwright-core');
  const port = await startServer(state);
  const base = `http://127.0.0.1:${port}`;
  state.browser = await chromium.launch({ executablePath: EXECUTABLE, headless: true, args: ARGS, timeout: 60_000 });
  const report = { problems: [] };
  report.gateway = await fromGateway(state.browser, base, report);
  report.tampered = await fromFiles(state.browser, base, report, [config.files.bundle, config.files.tampered, config.files.usage], 'portal-refused');
  report.files = await fromFiles(state.browser, base, report, [config.files.bundle, config.files.license, config.files.usage], 'portal-files');
  return report;
}

async function shutdown(state) {
  if (state.browser) await state.browser.close().catch(() => {});
  if (state.server && state.server.exitCode === null) state.server.kill('SIGTERM');
}

const state = { server: null, browser: null };
const watchdog = setTimeout(async () => {
  console.error('portal check: no result within 240 s');
  await shutdown(state);
  process.exit(3);
}, 240_000);
let exitCode = 0;
try {
  await writeFile(reportPath, JSON.stringify(await run(state), null, 2));
} catch (error) {
  exitCode = 1;
  console.error(`portal check: ${error && error.stack ? error.stack : error}`);
} finally {
  await shutdown(state);
  clearTimeout(watchdog);
}
process.exit(exitCode);
