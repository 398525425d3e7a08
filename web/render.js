// Renders the module's answer envelope. Known parts of a `status` answer get
// tables; anything else (fields added later, other operations) is shown by a
// generic renderer, so the page survives additions to the envelope.

/** Creates an element with attributes and children (strings become text). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const DASH = '—';
const TONE = {
  active: 'good', ok: 'good', allow: 'good', stay: 'good', save: 'good',
  expiring_soon: 'warn', in_grace: 'warn', approaching: 'warn', over_soft: 'warn', allow_in_grace: 'warn', costs_more: 'warn',
  expired: 'bad', suspended: 'bad', terminated: 'bad', blocked: 'bad', deny: 'bad', none_covers: 'bad',
};

const words = (code) => String(code).replaceAll('_', ' ');
const badge = (code) => (code === undefined || code === null ? DASH : el('span', { class: `badge ${TONE[code] || 'neutral'}` }, words(code)));

function time(iso) {
  if (typeof iso !== 'string') return DASH;
  const shown = iso.replace('T', ' ').replace(/:00(\.0+)?Z$/, ' UTC').replace(/Z$/, ' UTC');
  return el('time', { datetime: iso, title: iso }, shown);
}

function money(m) {
  if (m && typeof m === 'object' && 'amount' in m) return `${m.amount} ${m.currency ?? ''}`.trim();
  return m === undefined || m === null ? DASH : generic(m);
}

const sources = (list) =>
  Array.isArray(list) && list.length > 0
    ? list.map((s) => (s && typeof s === 'object' ? `${words(s.kind ?? '')} ${s.id ?? ''}`.trim() : String(s))).join(', ')
    : DASH;

const num = (n) => (typeof n === 'number' ? n.toLocaleString('en') : n === null || n === undefined ? DASH : String(n));

const isFlatObject = (v) =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => x === null || typeof x !== 'object');

/** An array of objects with scalar values, as a table with one column per key. */
function flatTable(rows) {
  const keys = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  return el('table', {},
    el('thead', {}, el('tr', {}, keys.map((k) => el('th', { scope: 'col' }, words(k))))),
    el('tbody', {}, rows.map((row) => el('tr', {}, keys.map((k) => el('td', {}, row[k] === null || row[k] === undefined ? DASH : String(row[k])))))));
}

/** Any JSON value as nested definition lists, lists and tables. */
export function generic(value) {
  if (value === null || value === undefined) return DASH;
  if (Array.isArray(value)) {
    if (value.length === 0) return el('span', { class: 'help' }, 'none');
    if (value.every(isFlatObject)) return flatTable(value);
    return el('ol', {}, value.map((item) => el('li', {}, generic(item))));
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return el('span', { class: 'help' }, 'none');
    return el('dl', {}, entries.map(([k, v]) => [el('dt', {}, words(k)), el('dd', {}, generic(v))]));
  }
  return String(value);
}

function section(title, ...content) {
  const id = `s-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return el('section', { 'aria-labelledby': id }, el('h2', { id }, title), ...content);
}

function table(caption, headers, rows) {
  return el('div', { class: 'scroll', role: 'region', tabindex: 0, 'aria-label': caption }, el(
    'table', {},
    el('caption', {}, caption),
    el('thead', {}, el('tr', {}, headers.map(([label, cls]) => el('th', { scope: 'col', class: cls }, label)))),
    el('tbody', {}, rows.map((cells) => el('tr', {}, cells.map(([content, cls], i) =>
      (i === 0 ? el('th', { scope: 'row', class: cls }, content) : el('td', { class: cls }, content)))))),
  ));
}

function licenseSection(license) {
  const l = license ?? {};
  const seats = l.seats ?? {};
  const facts = [
    ['State', [badge(l.state), l.days_left === null || l.days_left === undefined ? '' : ` ${num(l.days_left)} day(s) left`]],
    ['Customer', l.customer ?? DASH],
    ['License', l.id ?? DASH],
    ['Tier', l.tier ?? DASH],
    ['Add-ons', Array.isArray(l.addons) && l.addons.length ? l.addons.join(', ') : 'none'],
    ['Term', l.term ? [time(l.term.start), ' to ', time(l.term.end)] : DASH],
    ['Renewal grace ends', time(l.renewal_grace_ends_at)],
    ['Seats', `${num(seats.active)} active of ${num(seats.entitled)} bought${seats.tier_max ? `, tier maximum ${num(seats.tier_max)}` : ''}`],
  ];
  return section('License', el('dl', { class: 'facts' }, facts.map(([k, v]) => [el('dt', {}, k), el('dd', {}, v)])));
}

function featuresSection(features) {
  const rows = (features ?? []).map((f) => [
    [f.feature ?? DASH],
    [f.granted ? 'yes' : 'no'],
    [badge(f.decision)],
    [el('code', {}, f.reason ?? DASH)],
    [sources(f.sources)],
    [time(f.granted_until)],
  ]);
  return section('Features', table('What each feature answers now, and what grants it',
    [['Feature'], ['Granted'], ['Decision'], ['Reason'], ['Source'], ['Granted until']], rows));
}

function usageCell(q) {
  const percent = Number.parseFloat(q.percent);
  if (!Number.isFinite(percent)) return [num(q.used)];
  const tone = TONE[q.state] === 'good' ? '' : TONE[q.state] || '';
  const bar = el('span', { class: `bar ${tone}`, role: 'img', 'aria-label': `${q.percent} percent of the limit used` },
    el('span', { style: `width: ${Math.min(100, Math.max(0, percent))}%` }));
  return [`${num(q.used)} (${q.percent}%)`, bar];
}

function quotasSection(quotas) {
  const rows = (quotas ?? []).map((q) => [
    [[q.metric ?? DASH, q.unit ? el('span', { class: 'help' }, ` (${q.unit})`) : '']],
    [usageCell(q), 'num'],
    [q.limit === null ? 'unlimited' : num(q.limit), 'num'],
    [q.remaining === null ? 'unlimited' : num(q.remaining), 'num'],
    [badge(q.state)],
    [q.period ? [words(q.period.kind), el('br'), time(q.period.start), ' to ', time(q.period.end)] : DASH],
    [time(q.next_reset)],
    [q.overage ? `${num(q.overage.units)} units, ${money(q.overage.charge)}` : DASH, 'num'],
    [q.projected_overage ? `${num(q.projected_used)} used, ${num(q.projected_overage.units)} over, ${money(q.projected_overage.charge)}` : DASH],
    [sources(q.sources)],
  ]);
  return section('Quotas', table('Usage in the current period of each quota',
    [['Metric'], ['Used', 'num'], ['Limit', 'num'], ['Remaining', 'num'], ['State'], ['Period'], ['Next reset'],
      ['Overage', 'num'], ['Projected at period end'], ['Source']], rows));
}

function overageSection(result) {
  const lines = (result.quotas ?? []).filter((q) => q.overage && q.overage.breakdown && q.overage.breakdown.length);
  return section('Overage', el('p', {}, 'Overage so far this period: ', el('strong', {}, money(result.overage_total))),
    lines.map((q) => el('div', { class: 'generic' }, el('h3', {}, `${q.metric}: how the charge model priced it`), generic(q.overage.breakdown))));
}

function plansSection(plans) {
  const p = plans ?? {};
  const plan = (x) => (x ? `${x.tier}${x.addons && x.addons.length ? ` + ${x.addons.join(' + ')}` : ''}: ${money(x.total)}` : 'no plan covers the usage');
  const facts = [
    ['Verdict', badge(p.verdict)],
    ['Current plan, with overage', plan(p.current)],
    ['Cheapest plan covering the usage', plan(p.cheapest)],
    ['Difference (positive saves)', money(p.difference)],
  ];
  return section('Cheapest plan', el('dl', { class: 'facts' }, facts.map(([k, v]) => [el('dt', {}, k), el('dd', {}, v)])));
}

function extraFields(error) {
  const extra = Object.entries(error).filter(([k]) => !['path', 'code', 'message', 'help'].includes(k));
  return extra.length ? el('div', { class: 'generic' }, generic(Object.fromEntries(extra))) : null;
}

function errorsSection(errors) {
  const items = (errors ?? []).map((e) => el('li', {},
    el('span', { class: 'path' }, el('code', {}, e.path ?? '$')), ' ', badge(e.code), ' ', e.message ?? '',
    e.help ? el('div', { class: 'help' }, e.help) : null,
    extraFields(e)));
  return section('The module refused the request',
    el('p', {}, `${items.length} problem(s), each with the JSON path of the field it is about:`),
    el('ul', { class: 'errors' }, items));
}

const KNOWN = {
  license: licenseSection,
  features: featuresSection,
  quotas: quotasSection,
  plans: plansSection,
};

/** Renders an envelope (parsed) and its exact text into a list of nodes. */
export function renderEnvelope(envelope, text) {
  const nodes = [];
  const raw = el('details', {}, el('summary', {}, 'The exact answer (JSON)'), el('pre', {}, text));
  if (envelope.outcome === 'error') {
    nodes.push(errorsSection(envelope.errors));
  } else if (envelope.outcome === 'ok' && envelope.result && typeof envelope.result === 'object') {
    const result = envelope.result;
    for (const [key, render] of Object.entries(KNOWN)) if (key in result) nodes.push(render(result[key]));
    if ('overage_total' in result) nodes.splice(Math.min(nodes.length, 3), 0, overageSection(result));
    if ('controls' in result) nodes.push(section('Governance controls', el('div', { class: 'generic' }, generic(result.controls))));
    const handled = new Set([...Object.keys(KNOWN), 'overage_total', 'controls', 'valid_until']);
    const rest = Object.entries(result).filter(([key]) => !handled.has(key));
    if (rest.length) nodes.push(section('More', el('div', { class: 'generic' }, generic(Object.fromEntries(rest)))));
    nodes.push(section('Answer', el('dl', { class: 'facts' },
      el('dt', {}, 'Valid until'), el('dd', {}, time(result.valid_until)))));
  } else {
    nodes.push(section('Answer', el('div', { class: 'generic' }, generic(envelope))));
  }
  const meta = Object.entries(envelope).filter(([key]) => !['outcome', 'result', 'errors'].includes(key));
  if (meta.length) nodes.push(el('div', { class: 'generic' }, el('h3', {}, 'About this answer'), generic(Object.fromEntries(meta))));
  nodes.push(raw);
  return nodes;
}
