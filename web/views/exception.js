// The exception request form. Every keystroke sends the request to the
// module's `exception` operation, exactly as the vendor's side would, and
// shows its errors beside the fields their JSON paths name; once the module
// accepts it, its risk score, track and approvers.

import { badge, el, errorList, facts, section, words } from '../dom.js';

const FIELDS = [
  ['requester', 'Your name or email', 'text', { autocomplete: 'email' }],
  ['use_case', 'Use case', 'text', { placeholder: 'e.g. product_launch' }],
  ['reason', 'Why you need it', 'textarea', {}],
  ['starts_at', 'From (UTC date)', 'date', {}],
  ['duration_days', 'For how many days', 'number', { min: 1, step: 1, inputmode: 'numeric' }],
  ['expected_revenue_impact', 'Expected revenue impact', 'text', { inputmode: 'decimal', placeholder: '0.00' }],
];

function input(name, label, type, attrs) {
  const id = `exr-${name}`;
  const control = type === 'textarea'
    ? el('textarea', { id, name, rows: 2, 'data-path': `$.request.${name}`, 'aria-describedby': `${id}-error` })
    : el('input', { id, name, type, 'data-path': `$.request.${name}`, 'aria-describedby': `${id}-error`, ...attrs });
  return el('div', { class: 'field' }, el('label', { for: id }, label), control,
    el('div', { id: `${id}-error`, class: 'field-error', 'data-error-for': `$.request.${name}` }));
}

/**
 * The form, built once per set of documents. `ask(request)` evaluates the
 * request with the module and returns its envelope.
 */
export function exceptionForm(result, license, ask) {
  const wanted = (result.features ?? []).filter((f) => !f.granted && f.kind === 'boolean');
  const metered = result.quotas ?? [];
  const features = el('fieldset', { class: 'field' }, el('legend', {}, 'Features to add'),
    wanted.length ? wanted.map((f) => el('label', { class: 'check' },
      el('input', { type: 'checkbox', name: 'features', value: f.feature, 'data-path': '$.request.features' }), ` ${f.feature}`))
      : el('p', { class: 'help' }, 'Your license already includes every feature.'),
    el('div', { class: 'field-error', 'data-error-for': '$.request.features' }));
  const quotas = el('fieldset', { class: 'field' }, el('legend', {}, 'Extra quota'),
    metered.map((q) => {
      const id = `exr-quota-${q.metric}`;
      const path = `$.request.quota_increments.${q.metric}`;
      return el('div', { class: 'field' }, el('label', { for: id }, `${q.metric}${q.unit ? ` (${q.unit})` : ''}`),
        el('input', { id, type: 'number', min: 0, step: 1, inputmode: 'numeric', name: `quota:${q.metric}`, 'data-path': path, 'aria-describedby': `${id}-error` }),
        el('div', { id: `${id}-error`, class: 'field-error', 'data-error-for': path }));
    }));
  const outcome = el('div', { id: 'exr-outcome', role: 'status', 'aria-live': 'polite' });
  const form = el('form', { id: 'exception-form', class: 'exception', novalidate: true },
    el('p', { class: 'help' }, 'Ask for a time-bound exception. The module checks the request as you type, with the errors the vendor would give.'),
    FIELDS.map(([name, label, type, attrs]) => input(name, label, type, attrs)),
    features, quotas, outcome);
  const stamp = Date.now().toString(36);

  const read = () => {
    const request = { id: `exr-${license}-${stamp}` };
    for (const [name, , type] of FIELDS) {
      const value = form.elements[name].value.trim();
      if (value === '') continue;
      if (type === 'number') request[name] = Number(value);
      else if (type === 'date') request[name] = `${value}T00:00:00Z`;
      else request[name] = value;
    }
    const chosen = [...form.querySelectorAll('input[name=features]:checked')].map((c) => c.value);
    if (chosen.length) request.features = chosen;
    const increments = {};
    for (const q of form.querySelectorAll('input[name^="quota:"]')) {
      if (q.value !== '') increments[q.name.slice(6)] = Number(q.value);
    }
    if (Object.keys(increments).length) request.quota_increments = increments;
    return request;
  };

  const check = () => {
    const envelope = ask(read());
    for (const slot of form.querySelectorAll('[data-error-for]')) slot.replaceChildren();
    for (const control of form.querySelectorAll('[aria-invalid]')) control.removeAttribute('aria-invalid');
    if (envelope.outcome !== 'ok') {
      const unplaced = [];
      for (const error of envelope.errors ?? []) {
        const slots = [...form.querySelectorAll('[data-error-for]')]
          .filter((s) => error.path === s.dataset.errorFor || error.path.startsWith(`${s.dataset.errorFor}.`) || error.path.startsWith(`${s.dataset.errorFor}[`))
          .sort((a, b) => b.dataset.errorFor.length - a.dataset.errorFor.length);
        const slot = slots[0];
        if (!slot) {
          unplaced.push(error);
          continue;
        }
        slot.append(el('span', { 'data-code': error.code }, `${error.message}`), ' ', el('code', {}, error.code));
        for (const control of form.querySelectorAll(`[data-path="${slot.dataset.errorFor}"]`)) control.setAttribute('aria-invalid', 'true');
      }
      outcome.replaceChildren(el('p', {}, `The module finds ${envelope.errors?.length ?? 0} problem(s) with this request.`),
        unplaced.length ? errorList(unplaced) : null);
      form.dataset.valid = 'false';
      return;
    }
    const r = envelope.result;
    form.dataset.valid = 'true';
    outcome.replaceChildren(el('p', {}, badge('ok', 'complete'), ' The vendor can take this request as it is.'),
      facts([
        ['Risk score', `${r.risk?.total ?? '—'} of 100`],
        ['Track', words(r.track ?? '—')],
        ['Approvals needed', (r.approvals?.required ?? []).map(words).join(', ') || 'none'],
        ['Window', `${r.window?.starts_at ?? ''} to ${r.window?.expires_at ?? ''}`],
      ]),
      el('details', {}, el('summary', {}, 'The request (JSON), to send to your account team'), el('pre', {}, JSON.stringify(read(), null, 2))));
  };
  let timer = null;
  form.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(check, 120);
  });
  form.addEventListener('submit', (event) => event.preventDefault());
  return section('exception', 'Request an exception', form);
}
