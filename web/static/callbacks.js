// Callbacks view: every delivery, newest first; a click shows its card (body sent,
// attempts). Retry failed queues the failed ones again.
import { api, report } from './api.js';
import { $, badge, clickable, h, reconcile, rowSig, timeCell, toast } from './dom.js';
import { callbackCard, httpCode, openDrawer } from './drawer.js';
import { changed, defineView } from './events.js';
import { clip, fullTime, plural, shortTime, text } from './format.js';
import { expander, formQuery, loadPage, showPage } from './lists.js';

export const callbackRows = expander('callbacks');

defineView('callbacks', async () => {
  const page = await loadPage('callbacks', '/callbacks', 'callbacks');
  if (!page) return;
  reconcile($('#callbacks-table tbody'), page.items, (d) => {
    const id = text(d.id);
    return callbackRows.rows(id, rowSig(d), () => callbackRow(d, id),
      () => h('tr', { class: 'detail' }, h('td', { colspan: '10' }, callbackCard(d, true))));
  });
  callbackRows.mark();
  showPage('callbacks', page.total, page.items.length);
});

function lastAnswer(d) {
  const as = d.attempt_log || [];
  const last = as[as.length - 1];
  if (!last) return h('span', { class: 'muted' }, '—');
  const said = last.error || last.answer || '';
  return h('span', null, httpCode(last.http_status, 'error'), ' ', h('span', { class: 'muted', title: said }, clip(said, 30)));
}

function callbackRow(d, id) {
  const order = (ev) => {
    ev.preventDefault();
    ev.stopPropagation();
    openDrawer({ kind: d.kind, merchant: d.merchant, order_id: d.order_id });
  };
  return h('tr', { class: 'clickable', dataset: { id }, ...clickable(() => callbackRows.toggle(id)) },
    timeCell(d.created_at),
    h('td', { class: 'num mono' }, id),
    h('td', null, h('span', { class: 'kind k-' + d.kind }, d.kind)),
    h('td', { class: 'mono' }, h('a', { class: 'link', href: '#', title: 'Open the order', onclick: order }, d.order_id)),
    h('td', null, badge(d.state)),
    h('td', { class: 'num mono' }, text(d.attempts)),
    h('td', null, lastAnswer(d)),
    h('td', { class: 'time', title: fullTime(d.next_at) }, d.state === 'pending' && d.next_at ? shortTime(d.next_at) : ''),
    h('td', null, d.note || ''),
    h('td', { class: 'mono ellipsis', title: d.url }, d.url));
}

// retryFailed queues the failed callbacks of the merchant filter in force (every
// merchant's when none) again, then refreshes what shows them.
async function retryFailed() {
  const btn = $('#callbacks-retry');
  btn.disabled = true;
  try {
    const merchant = formQuery($('#callbacks-filters')).merchant || '';
    const r = await api('POST', '/callbacks/retry', { form: merchant ? { merchant } : {} });
    const n = Number(r && r.retried) || 0;
    toast(n ? plural(n, 'failed callback') + ' queued again' : 'No failed callbacks to retry', n ? 'ok' : 'info');
  } catch (err) {
    report(err);
  } finally {
    btn.disabled = false;
  }
  changed(['callbacks', 'drawer']);
}

export function wireCallbacks() {
  $('#callbacks-retry').addEventListener('click', retryFailed);
}
