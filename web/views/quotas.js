// One meter per metric: used against the limit and the grace allowance, the
// state (approaching, over the soft limit, blocked), the next reset, the
// overage so far with its charge, the projection to the period's end, and
// the plot of the period, and until when an exception raises it.

import { badge, DASH, el, money, num, section, time } from '../dom.js';
import { usagePlot } from './plot.js';

const STATE_TEXT = {
  ok: 'within the limit',
  approaching: 'approaching the limit',
  over_soft: 'over the limit, in grace',
  blocked: 'blocked: limit reached',
};

function bar(q) {
  const top = q.grace_limit ?? q.limit;
  if (typeof top !== 'number' || top <= 0) return null;
  const share = (v) => `${Math.min(100, (v / top) * 100).toFixed(2)}%`;
  return el('div', {
    class: `meter ${q.state ?? ''}`, role: 'meter', 'aria-valuemin': 0, 'aria-valuemax': top, 'aria-valuenow': Math.min(q.used, top),
    'aria-valuetext': `${num(q.used)} of ${num(q.limit)} ${q.unit ?? ''} used (${q.percent}%)`, 'aria-label': `${q.metric} used`,
  },
  el('span', { class: 'fill', style: `width: ${share(q.used)}` }),
  typeof q.limit === 'number' && q.grace_limit ? el('span', { class: 'mark', style: `left: ${share(q.limit)}`, title: 'limit' }) : null);
}

const field = (name, content) => el('span', { 'data-field': name }, content);

function meter(q, zone, now) {
  const unit = q.unit ? ` ${q.unit}` : '';
  return el('article', { class: 'quota', 'data-metric': q.metric, 'aria-labelledby': `q-${q.metric}` },
    el('h3', { id: `q-${q.metric}` }, q.metric, ' ', badge(q.state, STATE_TEXT[q.state] ?? undefined)),
    el('p', { class: 'big' },
      field('used', num(q.used)), ' of ', field('limit', q.limit === null ? 'unlimited' : num(q.limit)), unit,
      ' ', el('span', { class: 'help' }, '(', field('percent', q.percent ?? DASH), '%)')),
    bar(q),
    el('dl', { class: 'facts' },
      q.grace_limit !== null && q.grace_limit !== undefined
        ? [el('dt', {}, 'Grace allowance'), el('dd', {}, 'up to ', field('grace_limit', num(q.grace_limit)), unit)] : null,
      [el('dt', {}, 'Remaining'), el('dd', {}, field('remaining', q.remaining === null ? 'unlimited' : num(q.remaining)))],
      [el('dt', {}, 'Next reset'), el('dd', {}, field('next_reset', time(q.next_reset, zone)))],
      [el('dt', {}, 'Overage so far'), el('dd', {}, field('overage_units', num(q.overage?.units)), `${unit}, `, field('overage_charge', money(q.overage?.charge)))],
      [el('dt', {}, 'Expected by period end'), el('dd', {}, field('projected_used', num(q.projected_used)), `${unit}, overage `, field('projected_charge', money(q.projected_overage?.charge)))],
      [el('dt', {}, 'Limit from'), el('dd', {}, (q.sources ?? []).map((s) => `${s.kind} ${s.id}`).join(', ') || DASH)],
      q.raised_until
        ? [el('dt', {}, 'Raised until'), el('dd', {}, field('raised_until', time(q.raised_until, zone)), ', when an exception ends')] : null),
    usagePlot(q, now));
}

/** The quotas section: meters, the overage total and the plots. */
export function quotasView(result, zone, now) {
  return section('quotas', 'Usage and quotas',
    el('p', {}, 'Overage so far this period: ', el('strong', { 'data-field': 'overage_total' }, money(result.overage_total))),
    el('div', { class: 'meters' }, (result.quotas ?? []).map((q) => meter(q, zone, now))));
}
