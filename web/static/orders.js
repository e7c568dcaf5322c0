// Orders view: the paged, filtered list, newest first; a click opens the drawer.
import { $, badge, clickable, h, reconcile, rowSig, timeCell } from './dom.js';
import { markSelected, openDrawer, orderKey } from './drawer.js';
import { defineView } from './events.js';
import { amount } from './format.js';
import { loadPage, showPage } from './lists.js';

// Orders seen since the page loaded: a row not seen before flashes once.
const seen = new Set();
let loaded = false;

export function resetOrders() {
  seen.clear();
  loaded = false;
}

defineView('orders', async () => {
  const page = await loadPage('orders', '/orders', 'orders');
  if (!page) return;
  reconcile($('#orders-table tbody'), page.items, (o) => [[orderKey(o), rowSig(o), () => orderRow(o)]]);
  markSelected();
  loaded = true;
  showPage('orders', page.total, page.items.length);
});

function orderRow(o) {
  const key = orderKey(o);
  const fresh = loaded && !seen.has(key);
  seen.add(key);
  const who = (o.kind === 'withdrawal' ? o.holder_name : o.customer) || '';
  return h('tr', {
    class: 'clickable' + (fresh ? ' fresh' : ''),
    // Once only: a panel shown again would replay the animation.
    onanimationend: (e) => e.currentTarget.classList.remove('fresh'),
    dataset: { kind: o.kind, merchant: o.merchant, orderId: o.order_id },
    ...clickable(() => openDrawer(o)),
  },
  timeCell(o.created_at),
  h('td', null, h('span', { class: 'kind k-' + o.kind }, o.kind)),
  h('td', { class: 'mono strong', title: o.order_id }, o.order_id),
  h('td', null, o.merchant),
  h('td', { class: 'num mono' }, amount(o.amount)),
  h('td', null, o.currency),
  h('td', null, badge(o.status)),
  h('td', { class: 'ellipsis', title: who }, who),
  h('td', { class: 'num mono' }, o.status === 'pending' ? '' : amount(o.charge)),
  h('td', { class: 'ellipsis muted', title: o.scenario || '' }, o.scenario || ''));
}
