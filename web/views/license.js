// The license at a glance: tier, state with its renewal countdown, seats and
// add-ons; then every feature with what grants it (tier, add-on, or an
// exception and when it ends).

import { badge, DASH, el, facts, num, section, sourceText, table, time } from '../dom.js';

const COUNTDOWN = {
  active: (d) => `renews or ends in ${d} day(s)`,
  expiring_soon: (d) => `expiring soon: ${d} day(s) left`,
  in_grace: (d) => `term over, in renewal grace: ${d} day(s) left`,
  expired: () => 'expired',
};

/** The license section. */
export function licenseView(result, zone) {
  const l = result.license ?? {};
  const seats = l.seats ?? {};
  const countdown = (COUNTDOWN[l.state] ?? (() => ''))(l.days_left ?? 0);
  return section('license', 'Your license', facts([
    ['Tier', el('strong', { 'data-field': 'tier' }, l.tier ?? DASH)],
    ['State', [badge(l.state), ' ', el('span', { 'data-field': 'countdown' }, countdown)]],
    ['Term', l.term ? [time(l.term.start, zone), ' to ', time(l.term.end, zone)] : DASH],
    l.renewal_grace_ends_at ? ['Renewal grace ends', time(l.renewal_grace_ends_at, zone)] : null,
    ['Seats', `${num(seats.active)} in use of ${num(seats.entitled)}${seats.tier_max ? ` (tier allows up to ${num(seats.tier_max)})` : ''}`],
    ['Add-ons', Array.isArray(l.addons) && l.addons.length ? l.addons.join(', ') : 'none'],
    ['Customer', l.customer ?? DASH],
    ['License', el('code', {}, l.id ?? DASH)],
  ]));
}

/** Every feature with its decision and sources. */
export function featuresView(result, zone) {
  const rows = (result.features ?? []).map((f) => ({
    attrs: { 'data-feature': f.feature },
    cells: [
      [f.feature ?? DASH],
      [badge(f.granted ? 'allow' : 'deny', f.granted ? 'included' : 'not included')],
      [f.sources && f.sources.length ? f.sources.map(sourceText).join(', ') : DASH],
      [f.granted_until ? time(f.granted_until, zone) : DASH],
      [el('code', {}, f.reason ?? DASH)],
    ],
  }));
  return section('features', 'Features', table('Each feature, whether your license includes it, and what grants it',
    [['Feature'], ['Included'], ['Granted by'], ['Until'], ['Reason']], rows));
}
