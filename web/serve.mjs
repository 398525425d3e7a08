// A tiny read-only static server for the portal:
//   node web/serve.mjs            (PORT=8080 by default)
// Serves the repository root on 127.0.0.1 so that web/ can load dist/ and
// examples/; `/` leads to the page. GET and HEAD only; no directory listings;
// nothing outside the repository is reachable.
// `/web/keys.json` is the portal's trusted key set: the file named by
// ENTITLE_PORTAL_KEYS, else web/keys.json if there is one, else 204 (none).

import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HOST = '127.0.0.1';
const PORT = Number(process.env.PORT || 8080);
const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.sha256': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};
// Hidden files and build or dependency folders are never served.
const HIDDEN = /(^|\/)(\.[^/]*|target|node_modules)(\/|$)/;

function send(res, status, body, type = 'text/plain; charset=utf-8', head = false) {
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(head ? undefined : body);
}

async function handle(req, res) {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, 'method not allowed\n');
    return;
  }
  const head = req.method === 'HEAD';
  let pathname;
  try {
    pathname = decodeURIComponent(new URL(req.url, `http://${HOST}`).pathname);
  } catch {
    send(res, 400, 'bad request\n');
    return;
  }
  if (pathname === '/' || pathname === '/web') {
    res.writeHead(302, { location: '/web/' }).end();
    return;
  }
  if (pathname === '/web/keys.json') {
    const configured = process.env.ENTITLE_PORTAL_KEYS || path.join(ROOT, 'web', 'keys.json');
    try {
      send(res, 200, await readFile(configured), MIME['.json'], head);
    } catch {
      res.writeHead(204, { 'cache-control': 'no-store' }).end();
    }
    return;
  }
  let file = path.resolve(ROOT, `.${pathname}`);
  const relative = path.relative(ROOT, file);
  if (relative.startsWith('..') || path.isAbsolute(relative) || HIDDEN.test(relative.split(path.sep).join('/'))) {
    send(res, 404, 'not found\n');
    return;
  }
  try {
    if ((await stat(file)).isDirectory()) file = path.join(file, 'index.html');
    const body = await readFile(file);
    send(res, 200, body, MIME[path.extname(file).toLowerCase()] || 'application/octet-stream', head);
  } catch {
    const hint = pathname.startsWith('/dist/') ? ' (run `cargo xtask build-wasm` first)' : '';
    send(res, 404, `not found: ${pathname}${hint}\n`);
  }
}

const server = createServer((req, res) => {
  handle(req, res).catch(() => send(res, 500, 'internal error\n'));
});
server.on('error', (error) => {
  console.error(`serve: ${error.message}`);
  process.exit(1);
});
server.listen(PORT, HOST, () => {
  console.log(`entitle portal: http://${HOST}:${server.address().port}/web/  (Ctrl-C stops)`);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
