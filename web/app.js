// The portal: loads the module, then a license's documents (from the
// gateway, from files, or the demo), and shows what the module answers for
// them at `now`. The page only gathers inputs and draws answers; `now` is
// this browser's clock unless `?now=<RFC 3339>` pins it.
//
// URL parameters: `gateway` and `license` load from a gateway; `demo` loads
// examples/; `now` pins the instant; `nosw` skips the offline worker.

import { badge, el, errorList, time } from './dom.js';
import { Engine } from './engine.js';
import * as sources from './sources.js';
import { featuresView, licenseView } from './views/license.js';
import { quotasView } from './views/quotas.js';
import { billView } from './views/bill.js';
import { plansView, whatIfControl } from './views/plans.js';
import { supportView } from './views/support.js';
import { exceptionForm } from './views/exception.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const STORED = 'entitle-portal-documents';
const LIVE_MS = 30_000;

/** Everything the page holds: the module, trusted keys, documents, what-if. */
const state = { engine: null, keys: null, docs: null, whatIf: {}, shown: false };
/** For tests and benchmarks: the loaded module and the last timings. */
window.entitle = { state, ready: false };

const nowPinned = params.get('now');
const currentNow = () => nowPinned || new Date().toISOString();

function say(text, failed = false) {
  const progress = $('progress');
  progress.textContent = text;
  progress.classList.toggle('failed', failed);
  progress.hidden = false;
}

async function trustedKeys() {
  try {
    // The vendor deploys its public key set beside the page; 204 or 404: none.
    const response = await fetch(new URL('keys.json', location.href), { cache: 'no-cache' });
    return response.status === 200 ? await response.json() : null;
  } catch {
    return null;
  }
}

/**
 * A request for `operation` (a row of the module's table, `state.engine.ops`)
 * at `now`: of the loaded documents, those the operation accepts, then `extra`.
 */
function request(operation, now, extra = {}) {
  const { docs, keys } = state;
  // With trusted keys every document must be signed by one of them: an
  // unsigned document is refused by the module, not waved through.
  const shared = { bundle: docs.bundle, license: docs.license, now, usage: docs.usage ?? undefined, keys: keys ?? undefined };
  const body = { op: operation.op };
  for (const [field, value] of Object.entries(shared)) {
    if (value !== undefined && operation.accepts.includes(field)) body[field] = value;
  }
  return { ...body, ...extra };
}

function showModule(engine, recorded) {
  $('module-size').textContent = `(${engine.size.toLocaleString('en')} bytes)`;
  $('sha-actual').textContent = engine.sha256 ?? 'unavailable: open the page from localhost or https';
  $('module-sha').textContent = engine.sha256 ? `sha256 ${engine.sha256.slice(0, 16)}…` : 'sha256 unavailable';
  $('engine').textContent = `engine ${engine.engine}, abi ${engine.abi}`;
  $('sha-expected').textContent = recorded ?? 'not served';
  const same = recorded !== null && recorded === engine.sha256;
  $('sha-verdict').replaceChildren(recorded === null ? '' : badge(same ? 'ok' : 'refused', same ? 'matches' : 'differs'));
}

/** Says, at the top, that every figure is at a pinned instant, not the clock. */
function showPinned() {
  const live = new URL(location.href);
  live.searchParams.delete('now');
  $('pinned').replaceChildren(
    'Every figure is as at ', el('time', { datetime: nowPinned }, nowPinned),
    ', the instant pinned by ', el('code', {}, '?now='), ' in the address (',
    el('code', {}, 'cargo xtask demo'), ' pins the one its example documents tell of), not this browser\'s clock. ',
    el('a', { href: live.href }, 'Use this browser\'s clock'), '.');
  $('pinned').hidden = false;
}

function showTrust() {
  const trust = $('trust');
  const signed = sources.isSigned(state.docs);
  const items = [];
  if (signed) items.push(badge('verified', 'signature verified'), ' The bundle and license are signed by a key this portal trusts.');
  else if (state.keys === null) items.push(badge('unsigned', 'unsigned'), ' These documents are not signed and this portal has no trusted keys: for trying things out only.');
  const gateway = state.docs.gateway;
  if (gateway && gateway.status) {
    const mine = state.engine.evaluate(request(state.engine.ops.STATUS, gateway.now));
    const same = JSON.stringify(mine.envelope) === JSON.stringify(gateway.status);
    items.push(el('br'), badge(same ? 'ok' : 'refused', same ? 'gateway agrees' : 'gateway differs'),
      ` At ${gateway.now} the gateway's status answer and this page's are ${same ? 'identical' : 'different'}.`);
    $('sha-gateway').textContent = gateway.moduleSha256 ?? 'not reported';
  }
  trust.replaceChildren(el('p', { class: 'trust' }, items));
  trust.hidden = items.length === 0;
}

function showAbout(envelope, text, now) {
  const meta = envelope.meta ?? {};
  const bundle = meta.bundle ?? {};
  $('about-facts').replaceChildren(
    el('dt', {}, 'Decided at'), el('dd', {}, time(now)),
    el('dt', {}, 'Holds until'), el('dd', {}, envelope.result?.valid_until ? time(envelope.result.valid_until) : 'no change ahead'),
    el('dt', {}, 'Bundle'), el('dd', {}, `${bundle.id ?? '—'} ${bundle.version ?? ''}`, ' ', el('code', { class: 'hash' }, bundle.hash ?? '')),
    el('dt', {}, 'Engine'), el('dd', {}, meta.engine ?? '—'),
  );
  $('answer-json').textContent = text;
}

function escalateCases(now) {
  return (state.docs.cases ?? []).map((entry) => {
    if (entry.error || !entry.case) return entry;
    const { envelope } = state.engine.evaluate(request(state.engine.ops.ESCALATE, now, { case: entry.case }));
    return { ...entry, answer: envelope };
  });
}

/** Asks the module again at the current instant and redraws every figure. */
function render() {
  const now = currentNow();
  const nowEl = $('now');
  nowEl.dateTime = now;
  nowEl.textContent = nowPinned ? `${now} (pinned by ?now=)` : `${now} (this browser's clock)`;
  const whatIf = Object.keys(state.whatIf).length ? { what_if: state.whatIf } : {};
  const statusRequest = request(state.engine.ops.STATUS, now, whatIf);
  const { envelope, text, ms } = state.engine.evaluate(statusRequest);
  window.entitle.lastStatusMs = ms;
  window.entitle.lastStatusRequest = JSON.stringify(statusRequest);
  if (envelope.outcome !== 'ok') {
    if (whatIf.what_if && state.shown) {
      $('whatif-errors').replaceChildren(el('p', {}, 'The module cannot answer this what-if:'), errorList(envelope.errors));
      return;
    }
    refuse(envelope);
    return;
  }
  $('whatif-errors').replaceChildren();
  $('refusal').hidden = true;
  const result = envelope.result;
  // The license's instants in the browser's zone; a case's in its customer's.
  const zone = undefined;
  $('v-license').replaceChildren(licenseView(result, zone));
  $('v-features').replaceChildren(featuresView(result, zone));
  $('v-quotas').replaceChildren(quotasView(result, zone, now));
  // The bill is the license's own; a what-if changes only the status figures.
  $('v-bill').hidden = Boolean(whatIf.what_if);
  if (!whatIf.what_if) $('v-bill').replaceChildren(billView(state.engine.evaluate(request(state.engine.ops.QUOTE, now)).envelope, zone));
  $('v-plans').replaceChildren(plansView(result));
  $('v-support').replaceChildren(supportView(result, escalateCases(now), zone));
  if (!state.shown) {
    $('v-whatif').replaceChildren(whatIfControl(result, (ask) => {
      state.whatIf = ask;
      render();
    }));
    const license = result.license?.id ?? 'license';
    $('v-exception').replaceChildren(exceptionForm(result, license, (req) => state.engine.evaluate(request(state.engine.ops.EXCEPTION, currentNow(), { request: req })).envelope));
    showTrust();
  }
  document.body.classList.toggle('what-if', Boolean(whatIf.what_if));
  showAbout(envelope, text, now);
  $('views').hidden = false;
  $('progress').hidden = true;
  $('load').open = false;
  document.body.dataset.state = 'shown';
  if (!state.shown) {
    state.shown = true;
    performance.mark('entitle:first-meters');
    window.entitle.firstMetersAt = performance.now();
  }
}

function refuse(envelope) {
  $('views').hidden = true;
  $('trust').hidden = true;
  $('load').open = true;
  $('progress').hidden = true;
  const refusal = $('refusal');
  refusal.replaceChildren(
    el('h2', {}, 'This license cannot be shown'),
    el('p', {}, 'The module refused the documents:'),
    errorList(envelope.errors));
  refusal.hidden = false;
  document.body.dataset.state = 'refused';
}

/** Shows a new set of documents. */
function show(docs, keep = true) {
  if (docs.notes.length) say(docs.notes.join('; '), true);
  state.docs = docs;
  state.whatIf = {};
  state.shown = false;
  $('v-whatif').replaceChildren();
  $('v-exception').replaceChildren();
  if (keep) {
    try {
      localStorage.setItem(STORED, JSON.stringify(docs));
    } catch {
      // Storage full or refused: the page works without it.
    }
  }
  render();
}

function wireLoading() {
  $('from-gateway').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    say('Asking the gateway…');
    try {
      show(await sources.fromGatewayUrl(form.gateway.value, form.license.value.trim()));
    } catch (error) {
      say(error.message, true);
    }
  });
  $('from-files').addEventListener('submit', (event) => {
    event.preventDefault();
    show(sources.fromText($('paste').value));
  });
  $('files').addEventListener('change', async (event) => show(await sources.fromFiles(event.target.files)));
  const drop = $('drop');
  drop.addEventListener('click', () => $('files').click());
  drop.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      $('files').click();
    }
  });
  drop.addEventListener('dragover', (event) => {
    event.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', async (event) => {
    event.preventDefault();
    drop.classList.remove('over');
    show(await sources.fromFiles(event.dataTransfer.files));
  });
  $('load-demo').addEventListener('click', async () => show(await sources.demo(), false));
}

async function main() {
  if ('serviceWorker' in navigator && !params.has('nosw')) {
    navigator.serviceWorker.register('./sw.js').catch(() => {});
  }
  const [engine, recorded, keys] = await Promise.all([Engine.load(), Engine.recordedSha256(), trustedKeys()]);
  state.engine = engine;
  state.keys = keys;
  showModule(engine, recorded);
  if (nowPinned) showPinned();
  Object.assign(window.entitle, { engine, ready: true, render });
  wireLoading();

  const gateway = params.get('gateway');
  const license = params.get('license');
  if (gateway && license) {
    say('Asking the gateway…');
    $('gateway-url').value = gateway;
    $('gateway-license').value = license;
    show(await sources.fromGatewayUrl(gateway, license));
  } else if (params.has('demo')) {
    show(await sources.demo(), false);
  } else {
    const stored = localStorage.getItem(STORED);
    if (stored) show({ ...sources.empty(), ...JSON.parse(stored), notes: [] }, false);
    else say('Load a license to see what it gives you.');
  }
  if (!nowPinned) {
    setInterval(() => {
      if (state.docs && state.shown) render();
    }, LIVE_MS);
  }
}

main().catch((error) => {
  say(`The page could not start: ${error.message}`, true);
  console.error(error);
});
