// The portal's timings in headless Chromium, for the criterion bench
// host/benches/portal.rs, which sends one command per line on stdin:
//   nav <n>      n fresh navigations to the demo; answers the summed ms from
//                navigation start to the first meters on screen
//                (the page's `firstMetersAt`, on its own clock)
//   cold <n>     n fresh browser processes, each navigating once; the summed
//                ms to the first meters (each on its page's own clock)
//   status <n>   n `status` evaluations of the page's last request in the
//                page; answers the summed ms
//   native       the page's last status request, as JSON on one line
// Each answer is one line. Serves web/ with web/serve.mjs on a free port.
// HTTP caching is off (the server sends no-store) and the offline worker is
// skipped, so every navigation fetches and compiles the module again.

import { startPortalServer } from './serve_portal.mjs';
import { createInterface } from 'node:readline';

const NOW = '2026-11-22T10:00:00Z';
const { child: server, listening } = startPortalServer({ ENTITLE_PORTAL_KEYS: '/nonexistent' });
const port = await listening;
const { chromium } = await import('playwright-core');
const browser = await chromium.launch({
  executablePath: process.env.ENTITLE_CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
const page = await browser.newPage();
const url = `http://127.0.0.1:${port}/web/?demo&nosw&now=${NOW}`;

async function navigate() {
  await page.goto(url);
  await page.waitForFunction(() => typeof window.entitle?.firstMetersAt === 'number', null, { timeout: 30_000 });
  return page.evaluate(() => window.entitle.firstMetersAt);
}

await navigate();
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const [command, count] = line.trim().split(/\s+/);
  const n = Number(count || 1);
  if (command === 'nav') {
    let total = 0;
    for (let i = 0; i < n; i += 1) total += await navigate();
    console.log(total);
  } else if (command === 'cold') {
    let total = 0;
    for (let i = 0; i < n; i += 1) {
      const fresh = await chromium.launch({ executablePath: process.env.ENTITLE_CHROMIUM || '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
      const coldPage = await fresh.newPage();
      await coldPage.goto(url);
      await coldPage.waitForFunction(() => typeof window.entitle?.firstMetersAt === 'number', null, { timeout: 30_000 });
      total += await coldPage.evaluate(() => window.entitle.firstMetersAt);
      await fresh.close();
    }
    console.log(total);
  } else if (command === 'status') {
    console.log(await page.evaluate((times) => {
      const { engine, lastStatusRequest } = window.entitle;
      const request = JSON.parse(lastStatusRequest);
      const started = performance.now();
      for (let i = 0; i < times; i += 1) engine.glue.evaluateJson(JSON.stringify(request));
      return performance.now() - started;
    }, n));
  } else if (command === 'native') {
    console.log(await page.evaluate(() => window.entitle.lastStatusRequest));
  } else {
    break;
  }
}
await browser.close();
server.kill('SIGTERM');
