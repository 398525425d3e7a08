// A tiny read-only static server for the portal:
//   node web/serve.mjs            (PORT=8080 by default)
// Serves the repository root on 127.0.0.1 so that web/ can load dist/ and
// examples/; `/` leads to the page. GET and HEAD only; no directory listings;
// nothing outside the repository is reachable.
// `/web/keys.json` is the portal's trusted key set: the file named by
// ENTITLE_PORTAL_KEYS, else web/keys.json if there is one, else 204 (none).
// The module (`dist/entitle.wasm`) goes out compressed to a client that
// accepts it (`Accept-Encoding`: br, else gzip), with `Vary: Accept-Encoding`:
// each copy is compressed once, when the server starts or when the file
// changes, never per request.

import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';

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

function send(res, status, body, type = 'text/plain; charset=utf-8', head = false, extra = {}) {
  res.writeHead(status, {
    'content-type': type,
    'content-length': body.length,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...extra,
  });
  res.end(head ? undefined : body);
}

// Files sent compressed, and their compressed copies by path: the copies of a
// file are made once per version of it (its size and modification time).
const COMPRESSED = new Set(['.wasm']);
const copies = new Map();

function compressedCopies(file, info, body) {
  const version = `${info.size}:${info.mtimeMs}`;
  const known = copies.get(file);
  if (known && known.version === version) return known;
  const made = {
    version,
    br: brotliCompressSync(body, {
      params: {
        [zlib.BROTLI_PARAM_QUALITY]: 9,
        [zlib.BROTLI_PARAM_SIZE_HINT]: body.length,
      },
    }),
    gzip: gzipSync(body, { level: 9 }),
  };
  copies.set(file, made);
  return made;
}

// The coding to answer with: br, else gzip, when the client accepts it
// (`q=0` refuses a coding; `*` stands for any not named), else none.
function coding(header) {
  const accepted = new Map();
  for (const part of (header || '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    accepted.set(name, q === undefined ? 1 : Number(q.slice(2)) || 0);
  }
  for (const name of ['br', 'gzip']) {
    const q = accepted.has(name) ? accepted.get(name) : accepted.get('*');
    if (q > 0) return name;
  }
  return null;
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
    let info = await stat(file);
    if (info.isDirectory()) {
      file = path.join(file, 'index.html');
      info = await stat(file);
    }
    const ext = path.extname(file).toLowerCase();
    const type = MIME[ext] || 'application/octet-stream';
    const body = await readFile(file);
    if (!COMPRESSED.has(ext)) {
      send(res, 200, body, type, head);
      return;
    }
    const chosen = coding(req.headers['accept-encoding']);
    const vary = { vary: 'Accept-Encoding' };
    if (chosen === null) {
      send(res, 200, body, type, head, vary);
      return;
    }
    const copy = compressedCopies(file, info, body)[chosen];
    send(res, 200, copy, type, head, { ...vary, 'content-encoding': chosen });
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
// The module's copies are made before the first request.
try {
  const module = path.join(ROOT, 'dist', 'entitle.wasm');
  const info = await stat(module);
  compressedCopies(module, info, await readFile(module));
} catch {
  // No module yet: its copies are made when it is first asked for.
}
server.listen(PORT, HOST, () => {
  console.log(`entitle portal: http://${HOST}:${server.address().port}/web/  (Ctrl-C stops)`);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
