// Support: the SLA targets of this tier, its uptime commitment (service
// credits), and each open case as `escalate`
// answers it now: severity, level, owner, every clock with its due time in
// the customer's time zone, at risk or breached, and the next action.

import { badge, DASH, duration, el, errorList, facts, section, table, time, words } from '../dom.js';

const hours = (minutes) => (typeof minutes === 'number' ? duration(minutes * 60) : DASH);

function target(t) {
  if (!t) return DASH;
  return [hours(t.minutes), el('br'), el('span', { class: 'help' }, `${words(t.calendar ?? '')}${t.time_zone ? `, ${t.time_zone}` : ''}`)];
}

function targetsTable(support) {
  if (!support) return el('p', { class: 'help' }, 'The bundle sets no support terms.');
  if (!support.targets || !support.targets.length) {
    return el('p', { 'data-field': 'no_sla' }, `The ${support.tier} tier has no SLA targets.`);
  }
  return table(`SLA targets of the ${support.tier} tier (business time on the named calendar)`,
    [['Severity'], ['First response'], ['Updates every'], ['Resolution']],
    support.targets.map((t) => [[t.severity], [target(t.first_response)], [target(t.update)], [target(t.resolution)]]));
}

function creditsTable(bands) {
  if (!bands || !bands.length) return null;
  return table('Service credits: uptime in a billing period, and the share of its recurring charges credited back',
    [['Uptime below'], ['Credit', 'num']],
    bands.map((b) => ({ attrs: { 'data-credit-below': b.below }, cells: [[`${b.below}%`], [`${b.credit_percent}%`, 'num']] })));
}

function clockState(c) {
  if (c.breached) return badge('breached');
  if (c.at_risk) return badge('at_risk', 'at risk');
  return badge(c.state);
}

function caseCard(entry, zone) {
  const title = entry.case?.case ?? entry.file ?? 'case';
  if (entry.error) {
    return el('article', { class: 'case', 'data-case': title }, el('h3', {}, title),
      el('p', { role: 'alert' }, `This case could not be read: ${entry.error}`));
  }
  const envelope = entry.answer;
  if (!envelope || envelope.outcome !== 'ok') {
    return el('article', { class: 'case', 'data-case': title }, el('h3', {}, title),
      el('p', { role: 'alert' }, 'The module refused this case:'), errorList(envelope?.errors));
  }
  const r = envelope.result;
  const caseZone = entry.case?.customer_time_zone || zone;
  const clocks = (r.clocks ?? []).map((c) => ({
    attrs: { 'data-clock': c.clock },
    cells: [
      [words(c.clock)],
      [clockState(c)],
      [c.due_at ? time(c.due_at, caseZone) : c.stopped_at ? ['done ', time(c.stopped_at, caseZone)] : DASH],
      [typeof c.remaining_seconds === 'number' && !c.stopped_at ? duration(c.remaining_seconds) : DASH, 'num'],
    ],
  }));
  const next = r.next_action;
  return el('article', { class: 'case', 'data-case': r.case, 'aria-labelledby': `case-${r.case}` },
    el('h3', { id: `case-${r.case}` }, `${r.case}: ${words(r.category)}`, ' ', badge(r.state === 'open' ? 'running' : r.state, words(r.state))),
    facts([
      ['Severity', `${r.severity?.severity ?? DASH}${r.severity?.rules?.length ? ` (${r.severity.rules.map(words).join(', ')})` : ''}`],
      ['With', words(r.owner?.role ?? DASH)],
      ['Escalation', r.escalation?.level ? `level ${r.escalation.level}: ${words(r.escalation.role ?? '')}` : 'not escalated'],
      ['Next step', next ? `${words(next.action)}${next.evidence?.length ? `: ${next.evidence.map(words).join(', ')}` : ''}` : DASH],
      r.template_due ? ['Next message due', time(r.template_due.due_at, caseZone)] : null,
    ]),
    table(`Clocks of ${r.case}, due times in ${caseZone}`, [['Clock'], ['State'], ['Due'], ['Business time left', 'num']], clocks));
}

/** The support section. */
export function supportView(result, cases, zone) {
  return section('support', 'Support',
    targetsTable(result.support),
    creditsTable(result.service_credits),
    el('h3', {}, 'Your open cases'),
    cases.length ? el('div', { class: 'cases' }, cases.map((c) => caseCard(c, zone)))
      : el('p', { class: 'help' }, 'No support cases were loaded.'));
}
