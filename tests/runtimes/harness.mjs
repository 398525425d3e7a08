// The Chromium page's side of the conformance run. It fetches
// dist/entitle.wasm once, hashes the fetched bytes with crypto.subtle and
// hands the same response to the glue's `init` (streaming compilation), then
// exposes `window.runBatch(requests)` to the runner (chromium.mjs).

import init, * as glue from '../../dist/entitle.js';
import { engineVersion, fromBase64, makeCompact, makeEvaluator, toHex } from './evaluate.mjs';

async function start() {
  const response = await fetch('../../dist/entitle.wasm', { cache: 'no-store' });
  if (!response.ok) throw new Error(`fetching dist/entitle.wasm: HTTP ${response.status}`);
  const bytes = await response.clone().arrayBuffer();
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  const wasm = await init({ module_or_path: response });
  const evaluate = makeEvaluator(glue, wasm);
  window.runBatch = (requests) => requests.map((request) => evaluate(fromBase64(request.base64)));
  const compact = makeCompact(glue);
  window.runCompact = (cases) => cases.map(compact);
  return {
    sha256: toHex(digest),
    engine: engineVersion(glue),
    contentType: response.headers.get('content-type'),
    userAgent: navigator.userAgent,
  };
}

window.harnessReady = start().then(
  (info) => ({ ok: info }),
  (error) => ({ error: String(error && error.stack ? error.stack : error) }),
);
