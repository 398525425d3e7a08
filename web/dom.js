// Small DOM and formatting helpers shared by the portal's views. They only
// present what the module answered: words for codes, money as the module
// printed it, instants in a time zone. No rule is decided here.

/** Creates an element with attributes and children (strings become text). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export const DASH = '—';

/** How each state or verdict code is toned. */
export const TONE = {
  active: 'good', ok: 'good', allow: 'good', stay: 'good', save: 'good', met: 'good', running: 'good', verified: 'good',
  expiring_soon: 'warn', in_grace: 'warn', approaching: 'warn', over_soft: 'warn', allow_in_grace: 'warn',
  costs_more: 'warn', at_risk: 'warn', paused: 'warn', unsigned: 'warn',
  expired: 'bad', suspended: 'bad', terminated: 'bad', blocked: 'bad', deny: 'bad', none_covers: 'bad',
  breached: 'bad', missed: 'bad', refused: 'bad',
};

export const words = (code) => String(code).replaceAll('_', ' ');

export function badge(code, text) {
  if (code === undefined || code === null) return DASH;
  return el('span', { class: `badge ${TONE[code] || 'neutral'}`, 'data-code': code }, text ?? words(code));
}

export const num = (n) => (typeof n === 'number' ? n.toLocaleString('en') : n === null || n === undefined ? DASH : String(n));

export function money(m) {
  if (m && typeof m === 'object' && 'amount' in m) return `${m.amount} ${m.currency ?? ''}`.trim();
  return DASH;
}

/** An instant shown in a time zone (the browser's when none is given). */
export function time(iso, zone) {
  if (typeof iso !== 'string') return DASH;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  let shown;
  try {
    shown = new Intl.DateTimeFormat('en-GB', {
      year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
      hourCycle: 'h23', timeZone: zone || undefined, timeZoneName: 'short',
    }).format(date);
  } catch {
    shown = iso;
  }
  return el('time', { datetime: iso, title: iso }, shown);
}

/** A number of seconds as days, hours and minutes. */
export function duration(seconds) {
  if (typeof seconds !== 'number') return DASH;
  const minutes = Math.round(Math.abs(seconds) / 60);
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  const parts = [d ? `${d} d` : '', h ? `${h} h` : '', m || (!d && !h) ? `${m} min` : ''].filter(Boolean);
  return `${seconds < 0 ? '−' : ''}${parts.join(' ')}`;
}

export const sourceText = (s) => {
  if (!s || typeof s !== 'object') return String(s);
  const kind = { tier: 'tier', addon: 'add-on', exception: 'exception' }[s.kind] || words(s.kind ?? '');
  return `${kind} ${s.id ?? ''}`.trim();
};

/** A section with a heading whose id labels it. */
export function section(id, title, ...content) {
  return el('section', { id, 'aria-labelledby': `${id}-title` }, el('h2', { id: `${id}-title` }, title), ...content);
}

/** Definition list of label/value pairs. */
export function facts(pairs) {
  return el('dl', { class: 'facts' }, pairs.filter(Boolean).map(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
}

/** A table in a scrollable, keyboard-focusable region. */
export function table(caption, headers, rows, attrs = {}) {
  return el('div', { class: 'scroll', role: 'region', tabindex: 0, 'aria-label': caption }, el(
    'table', attrs,
    el('caption', {}, caption),
    el('thead', {}, el('tr', {}, headers.map(([label, cls]) => el('th', { scope: 'col', class: cls }, label)))),
    el('tbody', {}, rows.map((row) => {
      const cells = Array.isArray(row) ? row : row.cells;
      return el('tr', Array.isArray(row) ? {} : row.attrs, cells.map(([content, cls], i) =>
        (i === 0 ? el('th', { scope: 'row', class: cls }, content) : el('td', { class: cls }, content))));
    })),
  ));
}

/** The module's errors, each with its code, JSON path, message and help. */
export function errorList(errors) {
  return el('ul', { class: 'errors' }, (errors ?? []).map((e) => el('li', { 'data-code': e.code, 'data-path': e.path },
    el('code', { class: 'path' }, e.path ?? '$'), ' ', badge('refused', e.code), ' ', e.message ?? '',
    e.help ? el('div', { class: 'help' }, e.help) : null)));
}
