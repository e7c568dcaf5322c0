// Balances view: available and reserved per merchant and currency, set from the page;
// below, the merchants and their currency limits. loadMerchants also fills every
// merchant and currency filter; it is the "merchants" view, shown on every tab, so a
// merchant made or deleted at run time (a "merchant" notice) shows up without a reload.
import { api, report } from './api.js';
import { $, $$, h, toast } from './dom.js';
import { defineView } from './events.js';
import { amount, text } from './format.js';
import { formQuery } from './lists.js';

// Rows are updated in place so that a live refresh never overwrites a number being typed.
const rows = new Map();

defineView('balances', async () => {
  const data = await api('GET', '/balances', { query: formQuery($('#balances-filters')) });
  const list = (data && data.balances) || [];
  const keys = new Set();
  const trs = list.map((b) => {
    const key = b.merchant + '\u0000' + b.currency;
    keys.add(key);
    if (!rows.has(key)) rows.set(key, balanceRow(b));
    const r = rows.get(key);
    r.show(b, document.activeElement !== r.input && r.input.value === r.input.dataset.orig);
    return r.tr;
  });
  for (const k of Array.from(rows.keys())) if (!keys.has(k)) rows.delete(k);
  $('#balances-table tbody').replaceChildren(...trs);
});

const markEdited = (input) => input.classList.toggle('edited', input.value !== input.dataset.orig);

function balanceRow(b) {
  const input = h('input', { type: 'text', inputmode: 'decimal', class: 'mono num-input', 'aria-label': 'Available ' + b.merchant + ' ' + b.currency, spellcheck: 'false' });
  input.dataset.orig = '';
  const save = h('button', { type: 'button', class: 'small primary' }, 'Save');
  const avail = h('td', { class: 'num mono strong' });
  const reserved = h('td', { class: 'num mono' });
  // show puts a balance on the row; the input follows unless the reader is editing it.
  const show = (nb, input_too) => {
    if (input_too) input.value = text(nb.available);
    input.dataset.orig = text(nb.available);
    avail.textContent = amount(nb.available);
    reserved.textContent = amount(nb.reserved);
    markEdited(input);
  };
  const doSave = async () => {
    save.disabled = true;
    try {
      const path = '/balances/' + encodeURIComponent(b.merchant) + '/' + encodeURIComponent(b.currency);
      const nb = await api('PUT', path, { form: { available: input.value.trim().replace(/,/g, '') } });
      show(nb, true);
      toast(b.merchant + ' ' + b.currency + ' available set to ' + amount(nb.available), 'ok');
    } catch (err) {
      report(err);
    } finally {
      save.disabled = false;
      markEdited(input);
    }
  };
  input.addEventListener('input', () => markEdited(input));
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') doSave();
    if (e.key === 'Escape') { input.value = input.dataset.orig; markEdited(input); }
  });
  save.addEventListener('click', doSave);
  const tr = h('tr', null, h('td', null, b.merchant), h('td', null, b.currency), avail, reserved,
    h('td', { class: 'set' }, input, ' ', save));
  return { tr, input, show };
}

// ---------------------------------------------------------------- merchants
let merchantsSig = null; // the list shown: polling must not rebuild an open select

export async function loadMerchants() {
  const data = await api('GET', '/merchants');
  const merchants = (data && data.merchants) || [];
  const sig = JSON.stringify(merchants);
  if (sig === merchantsSig) return;
  merchantsSig = sig;
  const currencies = new Set();
  merchants.forEach((m) => (m.currencies || []).forEach((c) => currencies.add(c.currency)));
  fillSelect('[data-merchants]', merchants.map((m) => m.username));
  fillSelect('[data-currencies]', Array.from(currencies));
  $('#merchants-table tbody').replaceChildren(...merchants.flatMap(merchantRows));
}

defineView('merchants', loadMerchants, () => true);

function fillSelect(sel, values) {
  $$(sel).forEach((s) => {
    const keep = s.value;
    s.replaceChildren(s.options[0], ...values.map((v) => h('option', { value: v }, v)));
    s.value = values.includes(keep) ? keep : '';
  });
}

// runtimeTag marks a merchant made through POST /sandbox/api/merchants: unlike one of
// the config file, it can be deleted, and goes with everything it owns.
const RUNTIME_TITLE = 'Made at run time (POST /sandbox/api/merchants); DELETE /sandbox/api/merchants/' +
  '{username} removes it with everything it owns';
const runtimeTag = () => h('span', { class: 'badge runtime', title: RUNTIME_TITLE }, 'run-time');

// merchantCells are the cells of a merchant's first row that span its currencies.
const merchantCells = (m, span) => [
  h('td', { ...span, class: 'strong' }, m.username, m.runtime ? [' ', runtimeTag()] : null),
  h('td', span, (m.aliases || []).join(', ')),
  h('td', { ...span, class: 'mono wrap' }, m.callback_url || h('span', { class: 'muted' }, '(none: no callbacks)'))];

// merchantRows are a merchant's rows, one per currency, its name spanning them.
function merchantRows(m) {
  const cs = m.currencies || [];
  const span = { rowspan: String(cs.length) };
  return cs.map((c, i) => h('tr', { dataset: { merchant: m.username } },
    i === 0 ? merchantCells(m, span) : null,
    h('td', null, c.currency),
    h('td', { class: 'num mono' }, amount(c.min)), h('td', { class: 'num mono' }, amount(c.max)),
    h('td', { class: 'num mono' }, text(c.deposit_charge_percent)), h('td', { class: 'num mono' }, amount(c.payout_fee))));
}
