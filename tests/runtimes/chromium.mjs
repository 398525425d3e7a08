// Headless Chromium runtime for the conformance corpus:
//   node tests/runtimes/chromium.mjs <batch.json> <report.json> [portal]
// With `portal`, the corpus runs inside the customer portal (web/) on the
// module instance the portal itself loaded, instead of the bare harness page.
// Serves the repository's dist/ and tests/runtimes/ on 127.0.0.1 (a free
// port), drives Debian's /usr/bin/chromium through playwright-core to the
// harness page, which fetches, hashes and instantiates dist/entitle.wasm,
// runs every request of the batch in the page and writes the report
// (format: tests/src/js.rs). The server and the browser are shut down on
// every path, and every wait is bounded.

import { createServer } from 'node:http';
import { readFile, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const EXECUTABLE = process.env.ENTITLE_CHROMIUM || '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const TOTAL_MS = Number(process.env.ENTITLE_CHROMIUM_TIMEOUT_MS || 300_000);
const STEP_MS = 120_000;
const CHUNK_BYTES = 4 * 1024 * 1024;
const SERVED = ['/dist/', '/tests/runtimes/', '/web/'];
const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.sha256': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
};

const [batchPath, reportPath, pageName] = process.argv.slice(2);
const IN_PORTAL = pageName === 'portal';
if (!batchPath || !reportPath) {
  console.error('usage: node tests/runtimes/chromium.mjs <batch.json> <report.json>');
  process.exit(2);
}
const batch = JSON.parse(readFileSync(batchPath, 'utf8'));
const root = path.resolve(batch.root);

/** Serves only files under the allowed prefixes of the repository, read-only. */
function startServer() {
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://127.0.0.1');
      const pathname = decodeURIComponent(url.pathname);
      const file = path.resolve(root, `.${pathname}`);
      const allowed = SERVED.some((prefix) => file.startsWith(path.join(root, prefix)));
      if (req.method !== 'GET' || !allowed) {
        res.writeHead(req.method === 'GET' ? 404 : 405).end();
        return;
      }
      const body = await readFile(file);
      const type = MIME[path.extname(file)] || 'application/octet-stream';
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** Rejects after `ms` with a message naming what took too long. */
function bounded(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Splits requests into chunks of at most CHUNK_BYTES of base64. */
function chunks(requests) {
  const out = [];
  let current = [];
  let size = 0;
  for (const request of requests) {
    if (current.length > 0 && size + request.base64.length > CHUNK_BYTES) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(request);
    size += request.base64.length;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/**
 * In the portal page: waits for the portal's own module, then exposes
 * `runBatch` over that very instance (the evaluator of evaluate.mjs, as in
 * the harness page).
 */
async function portalReady() {
  try {
    for (let i = 0; i < 600 && !(window.entitle && window.entitle.ready); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (!(window.entitle && window.entitle.ready)) throw new Error('the portal did not load its module');
    const { engineVersion, fromBase64, makeCompact, makeEvaluator } = await import('/tests/runtimes/evaluate.mjs');
    const engine = window.entitle.engine;
    const evaluate = makeEvaluator(engine.glue, engine.exports);
    window.runBatch = (requests) => requests.map((request) => evaluate(fromBase64(request.base64)));
    const compact = makeCompact(engine.glue);
    window.runCompact = (cases) => cases.map(compact);
    return { ok: { sha256: engine.sha256, engine: engineVersion(engine.glue), contentType: engine.contentType, userAgent: navigator.userAgent } };
  } catch (error) {
    return { error: String(error && error.stack ? error.stack : error) };
  }
}

async function run(state) {
  if (!existsSync(EXECUTABLE)) {
    throw new Error(`${EXECUTABLE} is missing: run \`bash tests/setup.sh\` (installs Debian's chromium)`);
  }
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (error) {
    throw new Error(`playwright-core is not installed: run \`bash tests/setup.sh\` (npm ci): ${error.message}`);
  }
  state.server = await startServer();
  const { port } = state.server.address();
  state.browser = await chromium.launch({
    executablePath: EXECUTABLE,
    headless: true,
    args: ARGS,
    timeout: 60_000,
  });
  const page = await state.browser.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.on('pageerror', (error) => state.log.push(`page error: ${error.message}`));
  page.on('console', (message) => state.log.push(`console.${message.type()}: ${message.text()}`));
  let ready;
  if (IN_PORTAL) {
    await page.goto(`http://127.0.0.1:${port}/web/index.html?nosw`, { timeout: STEP_MS });
    ready = await bounded(page.evaluate(portalReady), STEP_MS, 'loading the portal');
  } else {
    await page.goto(`http://127.0.0.1:${port}/tests/runtimes/harness.html`, { timeout: STEP_MS });
    ready = await bounded(page.evaluate(() => window.harnessReady), STEP_MS, 'loading the module');
  }
  if (ready.error) throw new Error(`the page could not load the module: ${ready.error}`);
  const outputs = [];
  for (const chunk of chunks(batch.requests)) {
    const answers = await bounded(
      page.evaluate((requests) => window.runBatch(requests), chunk),
      STEP_MS,
      'a batch of requests',
    );
    outputs.push(...answers);
  }
  // Compact checks, when the batch has any (tests/tests/compact.rs).
  const compact = [];
  if ((batch.compact || []).length > 0) {
    const answers = await bounded(
      page.evaluate((cases) => window.runCompact(cases), batch.compact),
      STEP_MS,
      'the compact checks',
    );
    compact.push(...answers);
  }
  const info = ready.ok;
  if (info.contentType !== 'application/wasm') {
    throw new Error(`the module was served as ${info.contentType}, not application/wasm`);
  }
  const version = state.browser.version();
  return {
    runtime: `chromium ${version} (headless, ${info.userAgent.includes('HeadlessChrome') ? 'HeadlessChrome' : 'Chrome'})${IN_PORTAL ? ', in the portal page' : ''}`,
    engine: info.engine,
    sha256: info.sha256,
    outputs,
    compact,
  };
}

async function shutdown(state) {
  if (state.browser) {
    await bounded(state.browser.close(), 15_000, 'closing the browser').catch((error) => {
      state.log.push(String(error));
    });
  }
  if (state.server) {
    state.server.closeAllConnections();
    await bounded(new Promise((resolve) => state.server.close(resolve)), 5_000, 'closing the server').catch(
      () => {},
    );
  }
}

const state = { server: null, browser: null, log: [] };
const watchdog = setTimeout(async () => {
  console.error(`chromium runner: no result within ${TOTAL_MS} ms, shutting down`);
  for (const line of state.log) console.error(line);
  await shutdown(state);
  process.exit(3);
}, TOTAL_MS);

let exitCode = 0;
try {
  const report = await run(state);
  await writeFile(reportPath, JSON.stringify(report));
} catch (error) {
  exitCode = 1;
  console.error(`chromium runner: ${error && error.stack ? error.stack : error}`);
  for (const line of state.log) console.error(line);
} finally {
  await shutdown(state);
  clearTimeout(watchdog);
}
process.exit(exitCode);
