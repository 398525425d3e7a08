// Usage over the period as an SVG line against the limit and the grace
// line. The points are the module's (`series` of a status quota); this file
// only maps them to pixels.

const NS = 'http://www.w3.org/2000/svg';
const W = 640;
const H = 220;
const PAD = { left: 56, right: 12, top: 12, bottom: 28 };

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

const short = (n) => (n >= 1e6 ? `${+(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${+(n / 1e3).toFixed(1)}k` : String(n));

/** A figure for one quota, or null when it has no series or period. */
export function usagePlot(quota, now) {
  const series = quota.series;
  if (!series || !quota.period || !Array.isArray(series.points)) return null;
  const t0 = Date.parse(quota.period.start);
  const t1 = Date.parse(quota.period.end);
  if (!(t1 > t0)) return null;
  const points = series.points.map((p) => ({ t: Date.parse(p.at), v: p.used }));
  const projected = series.projected ? { t: Date.parse(series.projected.at), v: series.projected.used } : null;
  const top = Math.max(1, quota.limit ?? 0, quota.grace_limit ?? 0, ...points.map((p) => p.v), projected ? projected.v : 0) * 1.08;
  const x = (t) => PAD.left + ((Math.min(Math.max(t, t0), t1) - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
  const y = (v) => H - PAD.bottom - (v / top) * (H - PAD.top - PAD.bottom);

  const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'plot', role: 'img', 'aria-hidden': 'true', focusable: 'false' });
  chart.append(svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y(0), y2: y(0), class: 'axis' }));
  for (const [value, cls, label] of [[quota.limit, 'limit', 'limit'], [quota.grace_limit, 'grace', 'grace']]) {
    if (typeof value !== 'number') continue;
    chart.append(svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y(value), y2: y(value), class: cls }));
    chart.append(svg('text', { x: PAD.left - 6, y: y(value) + 4, 'text-anchor': 'end', class: `label ${cls}` }, short(value)));
    chart.append(svg('text', { x: W - PAD.right, y: y(value) - 4, 'text-anchor': 'end', class: `label ${cls}` }, label));
  }
  const line = points.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
  if (line) chart.append(svg('path', { d: line, class: 'used' }));
  for (const p of points) chart.append(svg('circle', { cx: x(p.t), cy: y(p.v), r: 2.5, class: 'used' }));
  const last = points[points.length - 1];
  if (projected && last) {
    chart.append(svg('path', { d: `M${x(last.t)},${y(last.v)} L${x(projected.t)},${y(projected.v)}`, class: 'projected' }));
  }
  const nowT = Date.parse(now);
  if (nowT >= t0 && nowT <= t1) chart.append(svg('line', { x1: x(nowT), x2: x(nowT), y1: PAD.top, y2: H - PAD.bottom, class: 'now' }));
  const day = (t) => new Date(t).toISOString().slice(5, 10);
  chart.append(svg('text', { x: PAD.left, y: H - 8, class: 'label' }, day(t0)));
  chart.append(svg('text', { x: W - PAD.right, y: H - 8, 'text-anchor': 'end', class: 'label' }, day(t1)));

  const summary = `${quota.metric}: ${quota.used} used of ${quota.limit ?? 'unlimited'}`
    + `${typeof quota.grace_limit === 'number' ? `, grace up to ${quota.grace_limit}` : ''}`
    + `${projected ? `; ${projected.v} expected by the period's end` : ''}.`;
  const figure = document.createElement('figure');
  figure.className = 'plot';
  figure.setAttribute('role', 'group');
  figure.setAttribute('aria-label', summary);
  const caption = document.createElement('figcaption');
  caption.textContent = `${quota.metric} over the period: used (line), expected (dashed), limit and grace.`;
  figure.append(chart, caption);
  return figure;
}
