// The demo page: loads dist/entitle.js and dist/entitle.wasm, hashes the
// module bytes it fetched, asks the module for the `status` of the demo
// documents in examples/ at the current instant, and renders the answer.
// `now` is the only thing this page computes (`?now=<RFC 3339>` pins it).

import { renderEnvelope } from './render.js';

const $ = (id) => document.getElementById(id);

function say(text, failed = false) {
  const progress = $('progress');
  progress.textContent = text;
  progress.classList.toggle('failed', failed);
  progress.classList.remove('done');
}

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function fetchOk(url, what) {
  const response = await fetch(url, { cache: 'no-store' });
  if (!response.ok) throw new Error(`${what} (${url}): HTTP ${response.status}`);
  return response;
}

async function loadModule() {
  let glue;
  try {
    glue = await import('../dist/entitle.js');
  } catch (error) {
    throw new Error(`could not load dist/entitle.js: run \`cargo xtask build-wasm\` first (${error.message})`);
  }
  const response = await fetchOk('../dist/entitle.wasm', 'the module');
  const bytes = await response.clone().arrayBuffer();
  $('module-size').textContent = `(${bytes.byteLength.toLocaleString('en')} bytes)`;
  if (globalThis.crypto && crypto.subtle) {
    $('sha-actual').textContent = hex(await crypto.subtle.digest('SHA-256', bytes));
  } else {
    $('sha-actual').textContent = 'unavailable: open the page from localhost or https';
  }
  // The same response the bytes were hashed from, compiled while streaming.
  await glue.default({ module_or_path: response });
  return glue;
}

async function showExpectedHash() {
  const verdict = $('sha-verdict');
  try {
    const text = await (await fetchOk('../dist/entitle.wasm.sha256', 'the recorded hash')).text();
    const expected = (text.trim().split(/\s+/)[0] || '').toLowerCase();
    $('sha-expected').textContent = expected || '(empty)';
    const actual = $('sha-actual').textContent;
    const same = expected !== '' && expected === actual;
    verdict.className = `badge ${same ? 'good' : 'bad'}`;
    verdict.textContent = same ? 'matches' : 'differs';
  } catch (error) {
    $('sha-expected').textContent = `unavailable: ${error.message}`;
  }
}

function showEngine(glue) {
  const version = typeof glue.version === 'function' ? glue.version() : null;
  $('engine').textContent =
    version && typeof version === 'object'
      ? Object.entries(version).map(([k, v]) => `${k} ${v}`).join(', ')
      : String(version ?? 'unknown');
}

async function loadDocuments() {
  const names = ['bundle', 'license', 'usage'];
  const documents = await Promise.all(
    names.map(async (name) => (await fetchOk(`../examples/${name}.json`, `examples/${name}.json`)).json()),
  );
  return Object.fromEntries(names.map((name, i) => [name, documents[i]]));
}

async function main() {
  const pinned = new URLSearchParams(location.search).get('now');
  const now = pinned || new Date().toISOString();
  const nowEl = $('now');
  nowEl.dateTime = now;
  nowEl.textContent = pinned ? `${now} (pinned by ?now=)` : `${now} (this browser's clock)`;

  const glue = await loadModule();
  showEngine(glue);
  await showExpectedHash();

  say('Loading the demo documents…');
  const { bundle, license, usage } = await loadDocuments();

  say('Asking the module for the status…');
  const requestText = JSON.stringify({ op: 'status', bundle, license, usage, now });
  $('request-json').textContent = requestText;
  const text = glue.evaluateJson(requestText);
  const envelope = JSON.parse(text);
  const answer = $('answer');
  answer.replaceChildren(...renderEnvelope(envelope, text));
  $('progress').classList.add('done');
  $('progress').textContent = 'Status loaded.';
}

main().catch((error) => {
  say(`The page could not show the status: ${error.message}`, true);
  console.error(error);
});
