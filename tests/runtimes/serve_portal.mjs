// Starts web/serve.mjs on a free port of 127.0.0.1 for the scripts that
// drive the portal (web.mjs, portal.mjs, portal_bench.mjs) and resolves to
// `{ child, port }` once it listens; rejects after 10 s or when it exits.

import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `env` is added to this process's environment (e.g. ENTITLE_PORTAL_KEYS). */
export function startPortalServer(env = {}) {
  const child = spawn(process.execPath, [path.join(ROOT, 'web', 'serve.mjs')], {
    env: { ...process.env, ...env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const listening = new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`web/serve.mjs did not start: ${out}`)), 10_000);
    const onData = (chunk) => {
      out += chunk;
      const match = out.match(/http:\/\/127\.0\.0\.1:(\d+)\//);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`web/serve.mjs exited (${code}): ${out}`)));
  });
  return { child, listening };
}
