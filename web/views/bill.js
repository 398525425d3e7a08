// This billing period's bill as the module's `quote` gives it: the plan's
// base, each add-on, support, overage per metric and any service credit,
// each line rounded once, and the total.

import { DASH, el, money, num, section, table, time } from '../dom.js';

const LABEL = {
  base: (l) => `Plan ${l.id}`,
  addon: (l) => `Add-on ${l.id}`,
  support: () => 'Support',
  overage: (l) => `${l.id} overage, ${num(l.units)} unit(s)`,
  service_credit: () => 'Service credit',
};

/** The bill section, or the module's refusal of the quote. */
export function billView(envelope, zone) {
  if (envelope.outcome !== 'ok') {
    return section('bill', "This period's bill", el('p', {}, 'The module gave no bill: ', (envelope.errors ?? []).map((e) => e.code).join(', ')));
  }
  const q = envelope.result;
  const rows = (q.lines ?? []).map((line) => ({
    attrs: { 'data-line-kind': line.kind, 'data-line-id': line.id, 'data-amount': line.amount?.amount ?? '' },
    cells: [[(LABEL[line.kind] ?? ((l) => l.kind))(line)], [money(line.amount), 'num']],
  }));
  return section('bill', "This period's bill",
    el('p', {}, 'Billing period ', q.period ? [time(q.period.start, zone), ' to ', time(q.period.end, zone)] : DASH, '.'),
    table('Line items, each rounded once', [['What'], ['Amount', 'num']], rows),
    el('p', {}, 'Total so far: ', el('strong', { 'data-field': 'bill_total' }, money(q.total))));
}
