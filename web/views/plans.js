// The bundle's plans side by side with what each would cost for this usage,
// the cheapest plan that covers it, and the what-if control that asks the
// module the same questions for another usage or plan.

import { badge, DASH, el, facts, money, num, section, table, words } from '../dom.js';

const planText = (p) => (p ? `${p.tier}${p.addons && p.addons.length ? ` + ${p.addons.join(' + ')}` : ''}` : 'none');

const VERDICT = {
  stay: 'Your current plan is the cheapest that covers this usage.',
  save: 'Another plan covers this usage for less.',
  costs_more: 'Covering this usage without overage would cost more than paying the overage.',
  none_covers: 'No plan covers this usage.',
};

function gapText(g) {
  if (g.kind === 'feature') return `lacks ${g.feature}`;
  if (g.kind === 'quota') return `${g.metric}: ${num(g.used)} used, at most ${num(g.limit)}`;
  if (g.kind === 'seats') return `${num(g.seats)} seats, at most ${num(g.max_seats)}`;
  return words(g.kind ?? 'gap');
}

function comparison(plans) {
  const options = plans.options ?? [];
  if (!options.length) return null;
  const features = [...new Set(options.flatMap((o) => o.features ?? []))].sort();
  const metrics = [...new Set(options.flatMap((o) => (o.quotas ?? []).map((q) => q.metric)))].sort();
  const head = [['Plan'], ...options.map((o) => [[o.title ?? o.tier, o.current ? el('span', { class: 'help' }, ' (yours)') : '']])];
  const row = (label, cell) => [[label], ...options.map((o) => [cell(o)])];
  const quota = (o, m) => {
    const q = (o.quotas ?? []).find((x) => x.metric === m);
    return q ? `${q.limit === null ? 'unlimited' : num(q.limit)} / ${q.period}${q.enforcement === 'soft' ? ' (soft)' : ''}` : DASH;
  };
  const rows = [
    row('Price', (o) => money(o.price)),
    row('Seats up to', (o) => (o.max_seats === null || o.max_seats === undefined ? 'any' : num(o.max_seats))),
    ...features.map((f) => row(f, (o) => ((o.features ?? []).includes(f) ? el('span', { 'aria-label': 'included' }, '✓') : el('span', { 'aria-label': 'not included' }, '—')))),
    ...metrics.map((m) => row(`${m} quota`, (o) => quota(o, m))),
    row('Add-ons', (o) => ((o.addons ?? []).join(', ') || 'none')),
    row('For your usage', (o) => (o.covers
      ? [el('strong', {}, money(o.plan?.total)), el('br'), el('span', { class: 'help' }, planText(o.plan))]
      : [badge('deny', 'does not cover'), el('br'), el('span', { class: 'help' }, (o.gaps ?? []).map(gapText).join('; '))])),
  ];
  return table('The plans side by side, and what each costs for this usage', head, rows.map((cells) => ({ cells })), { class: 'compare' });
}

function addonsTable(plans) {
  const addons = plans.addons ?? [];
  if (!addons.length) return null;
  return table('Add-ons', [['Add-on'], ['Price', 'num'], ['For tiers'], ['Adds']], addons.map((a) => [
    [[a.title ?? a.addon, ' ', el('code', {}, a.addon)]],
    [money(a.price), 'num'],
    [(a.tiers ?? []).join(', ')],
    [[...(a.features ?? []), ...Object.entries(a.quota_increments ?? {}).map(([m, n]) => `+${num(n)} ${m}`)].join(', ') || DASH],
  ]));
}

/** The plans section (re-rendered on every answer). */
export function plansView(result) {
  const p = result.plans ?? {};
  return section('plans', 'Plans',
    el('p', { class: 'callout', 'data-field': 'verdict' }, badge(p.verdict), ' ', VERDICT[p.verdict] ?? ''),
    facts([
      ['Your plan this period', el('span', { 'data-field': 'current_plan' }, `${planText(p.current)}: ${money(p.current?.total)}`)],
      ['Cheapest plan covering the usage', el('span', { 'data-field': 'cheapest_plan' }, p.cheapest ? `${planText(p.cheapest)}: ${money(p.cheapest.total)}` : 'none')],
      ['Difference (positive saves)', el('span', { 'data-field': 'difference' }, money(p.difference))],
    ]),
    comparison(p),
    addonsTable(p));
}

/**
 * The what-if control, built once per set of documents so typing keeps its
 * focus: a tier and a count per metric. `onChange({tier, usage})` gets only
 * what differs from the documents.
 */
export function whatIfControl(result, onChange) {
  const tiers = (result.plans?.options ?? []).map((o) => o.tier);
  const current = result.license?.tier;
  const select = el('select', { id: 'whatif-tier', name: 'tier' },
    tiers.map((t) => el('option', { value: t, selected: t === current }, t === current ? `${t} (yours)` : t)));
  const inputs = (result.quotas ?? []).map((q) => {
    const input = el('input', {
      id: `whatif-${q.metric}`, name: q.metric, type: 'number', min: 0, step: 1, inputmode: 'numeric', value: q.used, 'data-original': q.used,
    });
    return [el('label', { for: input.id }, `${q.metric} used${q.unit ? ` (${q.unit})` : ''}`), input];
  });
  const reset = el('button', { type: 'reset' }, 'Back to my usage');
  const form = el('form', { id: 'whatif', class: 'whatif', 'aria-describedby': 'whatif-help' },
    el('p', { id: 'whatif-help', class: 'help' }, 'Change the usage or the plan: every figure above and below is asked again from the module.'),
    el('div', { class: 'fields' }, el('label', { for: select.id }, 'Plan'), select, inputs),
    reset);
  const read = () => {
    const usage = {};
    for (const input of form.querySelectorAll('input[type=number]')) {
      if (input.value !== '' && input.value !== input.dataset.original) usage[input.name] = Number(input.value);
    }
    const ask = {};
    if (select.value && select.value !== current) ask.tier = select.value;
    if (Object.keys(usage).length) ask.usage = usage;
    onChange(ask);
  };
  form.addEventListener('input', read);
  form.addEventListener('change', read);
  form.addEventListener('submit', (event) => event.preventDefault());
  form.addEventListener('reset', () => setTimeout(read, 0));
  return section('whatif-section', 'What if…', form);
}
