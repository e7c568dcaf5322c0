// The order drawer: every field of one order, its settle and resend buttons, and its
// callbacks with each attempt. callbackCard is shared with the callbacks view.
import { api, report } from './api.js';
import { $, $$, badge, code, h, rowSig, timeCell, toast } from './dom.js';
import { changed, defineView, refresh } from './events.js';
import { amount, fullTime, millis, plural, relTime, shortTime, text } from './format.js';

// drawer.open is the order shown ({kind, merchant, order_id}), or null; returnTo is
// what had the focus when it opened (a row, a link), to be given it back on close.
export const drawer = { open: null, sig: '', returnTo: null };

export const orderKey = (o) => o.kind + '\u0000' + o.merchant + '\u0000' + o.order_id;
// Order ids can hold any character (/ % ? # spaces): always escaped in a URL.
const orderPath = (o) => '/' + o.kind + 's/' + encodeURIComponent(o.order_id);

defineView('drawer', async () => {
  const want = drawer.open;
  const v = await api('GET', orderPath(want), { query: { merchant: want.merchant } });
  if (drawer.open === want) renderDrawer(v); // else another order was opened meanwhile
}, () => drawer.open !== null);

// markSelected marks the row of the order shown; a row opens the drawer, so it says
// whether the drawer is open on it (aria-expanded).
export function markSelected() {
  const key = drawer.open ? orderKey(drawer.open) : '';
  $$('#orders-table tbody tr').forEach((tr) => {
    const on = tr.dataset.rowKey === key;
    tr.classList.toggle('selected', on);
    tr.setAttribute('aria-controls', 'drawer');
    tr.setAttribute('aria-expanded', String(on));
  });
}

export function openDrawer(o) {
  const same = drawer.open && orderKey(drawer.open) === orderKey(o);
  drawer.open = { kind: o.kind, merchant: o.merchant, order_id: o.order_id };
  if (!same) {
    drawer.sig = '';
    $('#act-name').value = '';
    $('#act-remarks').value = '';
    $('#drawer-fields').replaceChildren();
    $('#drawer-callbacks').replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
    renderHead(o, o.merchant);
  }
  const d = $('#drawer');
  const from = document.activeElement;
  if (from && from !== document.body && !d.contains(from)) {
    // A row is kept by its key: a refresh may draw it anew while the drawer is open.
    drawer.returnTo = { el: from, key: from.dataset ? from.dataset.rowKey : undefined };
  }
  d.hidden = false;
  document.body.classList.add('drawer-open');
  markSelected();
  // The focus moves into the drawer, so a keyboard or screen-reader user is where the
  // order is shown ("Order detail"); Tab reaches Close and the actions, Escape or
  // Close gives the focus back. The drawer itself takes it, not a button: the Enter
  // that opened it must not press what it lands on.
  if (!d.contains(document.activeElement)) d.focus();
  refresh('drawer');
}

export function closeDrawer() {
  const back = drawer.returnTo;
  drawer.open = null;
  drawer.sig = '';
  drawer.returnTo = null;
  const d = $('#drawer');
  const inside = d.contains(document.activeElement);
  d.hidden = true;
  document.body.classList.remove('drawer-open');
  markSelected();
  if (!back || !(inside || document.activeElement === document.body)) return; // the user went elsewhere
  let el = back.el;
  if (!el.isConnected && back.key !== undefined) {
    el = $$('tbody tr').find((tr) => tr.dataset.rowKey === back.key) || null;
  }
  if (el && el.isConnected && !el.closest('[hidden]')) el.focus();
}

function renderHead(v, sub) {
  $('#drawer-kind').textContent = v.kind === 'withdrawal' ? 'Withdrawal' : 'Deposit';
  $('#drawer-orderid').textContent = v.order_id;
  $('#drawer-status').replaceWith(Object.assign(badge(v.status), { id: 'drawer-status' }));
  $('#drawer-sub').textContent = sub;
}

function renderDrawer(v) {
  const s = rowSig(v);
  if (drawer.sig === s) return; // unchanged: keep the DOM (and the reader's scroll and selection)
  drawer.sig = s;
  renderHead(v, v.merchant + ' · #' + text(v.number) + ' · ' + v.currency + ' ' + amount(v.amount) +
    ' · created ' + shortTime(v.created_at));
  renderActions(v);
  $('#drawer-fields').replaceChildren(...fieldItems(v));
  renderCallbacks(v);
}

// A settled order can only be reversed, or have its callback sent again.
function renderActions(v) {
  const withdrawal = v.kind === 'withdrawal';
  const pending = v.status === 'pending';
  $$('#drawer-actions [data-outcome]').forEach((b) => {
    b.hidden = !pending || (b.hasAttribute('data-withdrawal-only') && !withdrawal);
    b.disabled = false;
  });
  $('#drawer-actions .inputs').hidden = !pending;
  $('#act-resend').hidden = pending;
  $('#act-resend').disabled = false;
  $('#act-reverse').hidden = pending;
  $('#act-reverse').disabled = false;
  const note = $('#act-note');
  note.hidden = pending;
  note.textContent = pending ? '' : 'Settled ' + shortTime(v.settled_at) +
    (v.settle_outcome && v.settle_outcome.source ? ' by ' + v.settle_outcome.source : '') +
    (v.reversals ? '; reversed ' + text(v.reversals) + '× (last ' + shortTime(v.reversed_at) + ')' : '') +
    '. Reverse gives it the other final status, as the live gateway sometimes reports later.';
  const co = $('#act-checkout');
  const num = text(v.number);
  co.hidden = withdrawal || !pending || !v.key || !/^\d+$/.test(num);
  if (co.hidden) co.removeAttribute('href');
  else co.href = '/checkout/order-pay/' + num + '/?pay_for_order=true&key=' + encodeURIComponent(v.key);
}

const small = (v) => code(v, 'small');
// [field, label, format, wide]: the fields of an order in the order shown.
const FIELDS = [
  ['order_id', 'Order id'], ['number', 'Number', (v) => '#' + text(v)], ['merchant', 'Merchant'],
  ['status', 'Status', badge], ['amount', 'Amount'], ['charge', 'Charge', amount], ['reserved', 'Reserved', amount],
  ['customer', 'Customer'], ['email', 'Email'], ['phone_number', 'Phone'], ['mode', 'Mode (telco)'],
  ['bank_code', 'Bank code'], ['customer_bank_holder_name', 'Customer bank holder'], ['payment_type', 'Payment type'],
  ['bank_id', 'Bank id'], ['bank_name', 'Bank'], ['holder_name', 'Holder name'], ['account_no', 'Account no'],
  ['bank_branch', 'Bank branch'], ['name', 'Name (callback)'], ['remarks', 'Remarks', null, true],
  ['redirect_url', 'Redirect URL', null, true], ['created_at', 'Created', fullTime], ['settled_at', 'Settled', fullTime],
  ['settle_at', 'Settles at (scheduled)', (v) => fullTime(v) + ' (' + relTime(v) + ')', true],
  ['settle_outcome', 'Planned outcome', small, true], ['callback_faults', 'Callback faults', small, true],
  ['scenario', 'Scenario rule'],
];
const HIDDEN_FIELDS = new Set(['callbacks', 'key', 'kind', 'currency']);

function fieldItems(v) {
  const items = [];
  const field = (k, label, shown, wide) => items.push(h('div', { class: 'field' + (wide ? ' wide' : '') },
    h('dt', null, label), h('dd', { class: k === 'status' ? '' : 'mono' }, shown)));
  const known = new Set(HIDDEN_FIELDS);
  for (const [k, label, fmt, wide] of FIELDS) {
    known.add(k);
    const val = v[k];
    if (val === undefined || val === null || val === '') continue;
    if (k === 'charge' && v.status === 'pending') continue; // set when the order settles
    field(k, label, k === 'amount' ? v.currency + ' ' + amount(val) : fmt ? fmt(val) : text(val), wide);
  }
  for (const [k, val] of Object.entries(v)) { // fields added to the API later still show
    if (known.has(k) || val === undefined || val === null || val === '') continue;
    const obj = typeof val === 'object';
    field(k, k, obj ? small(val) : text(val), obj);
  }
  return items;
}

function renderCallbacks(v) {
  const cbs = v.callbacks || [];
  $('#drawer-cb-count').textContent = cbs.length ? '(' + cbs.length + ')' : '';
  $('#drawer-callbacks').replaceChildren(...(cbs.length ? cbs.map((d) => callbackCard(d, false))
    : [h('p', { class: 'muted' }, v.status === 'pending'
      ? 'None yet: the callback is queued when the order completes or fails.'
      : 'None: the merchant has no callback_url, or a scenario dropped it.')]));
}

// httpCode is an attempt's HTTP status, green for 2xx.
export function httpCode(status, none) {
  const n = Number(status) || 0;
  return h('span', { class: 'http ' + (n >= 200 && n < 300 ? 'ok' : 'bad') }, n ? String(n) : none);
}

function attemptRow(a, d) {
  const answer = a.answer !== undefined && a.answer !== '' ? h('pre', { class: 'code small' }, a.answer)
    : a.error ? null : h('span', { class: 'muted' }, '(empty answer)');
  return h('tr', { class: 'attempt', dataset: { httpStatus: String(Number(a.http_status) || 0) } },
    h('td', { class: 'mono' }, text(a.n)), timeCell(a.time, true),
    h('td', null, httpCode(a.http_status, '—')), h('td', { class: 'num mono' }, millis(a.latency_ms)),
    h('td', { class: 'answer' }, a.error ? h('div', { class: 'err' }, a.error) : null, answer,
      a.url && a.url !== d.url ? h('div', { class: 'muted small mono' }, 'to ' + a.url) : null));
}

function attemptsTable(d) {
  const attempts = d.attempt_log || [];
  if (!attempts.length) {
    return [h('div', { class: 'cb-label' }, 'Attempts'), h('p', { class: 'muted small' },
      d.state === 'dropped' ? 'Never sent (dropped by a scenario fault).' : 'No attempt yet.')];
  }
  const head = ['#', 'Time', 'HTTP', 'Latency', 'Answer / error'].map((t) => h('th', t === 'Latency' ? { class: 'num' } : null, t));
  return [h('div', { class: 'cb-label' }, 'Attempts and the merchant\'s answers'),
    h('table', { class: 'attempts' }, h('thead', null, h('tr', null, head)), h('tbody', null, attempts.map((a) => attemptRow(a, d))))];
}

// callbackCard shows one delivery: its state, the body sent and every attempt with the
// merchant's answer. Wide (in the callbacks log) puts them side by side.
export function callbackCard(d, wide) {
  const head = h('div', { class: 'cb-head' },
    h('span', { class: 'mono strong' }, '#' + text(d.id)), ' ', badge(d.state),
    d.note ? h('span', { class: 'note' }, d.note) : null,
    h('span', { class: 'muted' }, plural(Number(d.attempts) || 0, 'attempt')),
    d.state === 'pending' && d.next_at ? h('span', { class: 'muted', title: fullTime(d.next_at) }, 'next ' + relTime(d.next_at)) : null);
  const url = h('div', { class: 'cb-url mono', title: d.url }, 'POST ' + text(d.url));
  const sent = [h('div', { class: 'cb-label' }, 'Body sent'), code(d.body)];
  const tries = attemptsTable(d);
  if (wide) return h('div', { class: 'cb-card wide' }, head, url, h('div', { class: 'cb-cols' }, h('div', null, sent), h('div', null, tries)));
  // In the drawer the answers come first: "did the merchant take it?" is the question.
  return h('div', { class: 'cb-card' }, head, url, tries, sent);
}

async function settle(outcome) {
  const o = drawer.open;
  if (!o) return;
  $$('#drawer-actions button').forEach((b) => { b.disabled = true; });
  const form = { outcome, merchant: o.merchant };
  const name = $('#act-name').value.trim();
  const remarks = $('#act-remarks').value.trim();
  if (name) form.name = name;
  if (remarks) form.remarks = remarks;
  try {
    const v = await api('POST', orderPath(o) + '/settle', { form });
    toast(o.order_id + ': ' + v.status + (v.remarks ? ' (' + v.remarks + ')' : ''), v.status === 'completed' ? 'ok' : 'info');
    if (drawer.open === o) renderDrawer(v);
    changed(['orders', 'drawer', 'balances', 'callbacks']);
  } catch (err) {
    report(err);
    changed(['drawer']);
  }
}

async function resend() {
  const o = drawer.open;
  if (!o) return;
  $('#act-resend').disabled = true;
  try {
    const d = await api('POST', orderPath(o) + '/callback', { form: { merchant: o.merchant } });
    toast('Callback #' + text(d && d.id) + ' queued for ' + o.order_id, 'ok');
  } catch (err) {
    report(err);
  }
  changed(['drawer', 'callbacks']);
}

async function reverse() {
  const o = drawer.open;
  if (!o) return;
  $('#act-reverse').disabled = true;
  try {
    const v = await api('POST', orderPath(o) + '/reverse', { form: { merchant: o.merchant } });
    toast(o.order_id + ' reversed: now ' + v.status, 'info');
    if (drawer.open === o) renderDrawer(v);
  } catch (err) {
    report(err);
  }
  changed(['orders', 'drawer', 'balances', 'callbacks']);
}

export function wireDrawer() {
  $('#drawer').tabIndex = -1; // focusable by script, not a Tab stop of its own
  $('#drawer-close').addEventListener('click', closeDrawer);
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && drawer.open && !document.querySelector('dialog[open]')) closeDrawer();
  });
  $$('#drawer-actions [data-outcome]').forEach((b) => b.addEventListener('click', () => settle(b.dataset.outcome)));
  $('#act-resend').addEventListener('click', resend);
  $('#act-reverse').addEventListener('click', reverse);
}
