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
// The merchants table shows one page (GET /merchants?offset&limit): a sandbox shared
// by 10,000 pipelines does not send them all on every merchant change. The filters
// need every name: they are read (GET /merchants?names=1) only when names_version says
// a merchant was made or deleted.
const MERCHANT_PAGE = 50;
let merchantsSig = null; // the page shown: polling must not rebuild an open select
let merchantsOffset = 0;
// merchantsSeq numbers the loads: a page turn while a live refresh is in flight must
// not be overwritten when the older answer comes back last.
let merchantsSeq = 0;
let namesVersion = null;
let switches = null; // GET /dialects: the switch table, for the dialect cells and editor
let sandboxProfile = '';
const editing = new Set(); // merchants whose edit row is open

// force redraws even while an edit row has the focus (its own Save and Cancel).
export async function loadMerchants(force) {
  const seq = ++merchantsSeq;
  const offset = merchantsOffset;
  if (!switches) {
    const d = await api('GET', '/dialects');
    switches = (d && d.switches) || [];
    sandboxProfile = (d && d.profile) || 'document';
  }
  const data = await api('GET', '/merchants', { query: { offset, limit: MERCHANT_PAGE } });
  if (seq !== merchantsSeq) return; // a newer load owns the table
  const merchants = (data && data.merchants) || [];
  const total = Number(data && data.total) || 0;
  if (merchants.length === 0 && offset > 0 && total > 0) {
    merchantsOffset = Math.max(0, Math.floor((total - 1) / MERCHANT_PAGE) * MERCHANT_PAGE);
    return loadMerchants(force);
  }
  if (data && data.names_version !== namesVersion) {
    const n = await api('GET', '/merchants', { query: { names: 1 } });
    if (seq !== merchantsSeq) return;
    namesVersion = data.names_version;
    fillSelect('[data-merchants]', (n && n.names) || []);
    fillSelect('[data-currencies]', (n && n.currencies) || []);
  }
  const pager = $('#merchants-pager');
  $('.range', pager).textContent = total === 0 ? '0 of 0' : (offset + 1) + '–' + (offset + merchants.length) + ' of ' + total;
  $('[data-dir="-1"]', pager).disabled = offset === 0;
  $('[data-dir="1"]', pager).disabled = offset + merchants.length >= total;
  const sig = JSON.stringify([offset, merchants, Array.from(editing)]);
  if (sig === merchantsSig) return;
  // An edit being typed is not overwritten by a live refresh.
  if (!force && document.activeElement && document.activeElement.closest('#merchants-table .edit')) return;
  merchantsSig = sig;
  $('#merchants-table tbody').replaceChildren(...merchants.flatMap((m) => merchantRows(m).concat(editing.has(m.username) ? [editRow(m)] : [])));
}

defineView('merchants', loadMerchants, () => true);

$('#merchants-pager').addEventListener('click', (e) => {
  const b = e.target.closest('button[data-dir]');
  if (!b) return;
  merchantsOffset = Math.max(0, merchantsOffset + Number(b.dataset.dir) * MERCHANT_PAGE);
  loadMerchants().catch(report);
});

// dialectCell lists the switches whose effective value is not the document's: the
// merchant's dialect at a glance ("document" when it is the document's).
function dialectCell(m, span) {
  const eff = m.effective_dialect || {};
  const own = m.dialect || {};
  const diff = switches.filter((s) => (eff[s.name] || '') !== (s.document || ''));
  const items = diff.map((s) => h('li', { class: own[s.name] !== undefined ? 'own' : null, title: s.what },
    s.name + ': ' + (eff[s.name] || '""')));
  if (m.profile) items.unshift(h('li', { class: 'own' }, 'profile: ' + m.profile));
  return h('td', { ...span, class: 'mono dialect', dataset: { testid: 'dialect' } },
    items.length ? h('ul', null, ...items) : h('span', { class: 'muted' }, 'document'));
}

// editRow edits a merchant's callback URL and dialect (PATCH /merchants/{name}); the
// change is stored and kept across restarts, configured merchants included.
function editRow(m) {
  const own = m.dialect || {};
  const url = h('input', { type: 'url', name: 'callback_url', value: m.callback_url || '', placeholder: 'http://127.0.0.1:9000/callback', size: '40' });
  const profile = h('select', { name: 'profile' }, h('option', { value: '' }, "the sandbox's (" + sandboxProfile + ')'),
    h('option', { value: 'document' }, 'document'), h('option', { value: 'observed' }, 'observed'));
  profile.value = m.profile || '';
  const fields = switches.map((s) => {
    let input;
    if (s.values) {
      input = h('select', { name: s.name },
        h('option', { value: '' }, 'profile (' + (m.effective_dialect && own[s.name] === undefined ? m.effective_dialect[s.name] : 'default') + ')'),
        ...s.values.map((v) => h('option', { value: v }, v)));
    } else {
      input = h('input', { type: 'url', name: s.name, placeholder: '(callback_url)', size: '30' });
    }
    input.value = own[s.name] || '';
    return h('label', { title: s.what + ' Evidence: ' + s.evidence }, s.name, ' ', input);
  });
  const save = h('button', { type: 'button' }, 'Save');
  const cancel = h('button', { type: 'button', class: 'ghost' }, 'Cancel');
  const form = h('div', { class: 'edit' }, h('label', null, 'Callback URL ', url), h('label', null, 'Profile ', profile), ...fields,
    h('div', null, save, ' ', cancel));
  save.addEventListener('click', async () => {
    const dialect = {};
    $$('select, input[name]', form).forEach((el) => { if (el.name !== 'callback_url' && el.name !== 'profile') dialect[el.name] = el.value; });
    try {
      await api('PATCH', '/merchants/' + encodeURIComponent(m.username),
        { body: JSON.stringify({ callback_url: url.value.trim(), profile: profile.value, dialect }), type: 'application/json' });
      editing.delete(m.username);
      merchantsSig = null;
      toast('Saved ' + m.username);
      loadMerchants(true).catch(report);
    } catch (e) { report(e); }
  });
  cancel.addEventListener('click', () => { editing.delete(m.username); merchantsSig = null; loadMerchants(true).catch(report); });
  return h('tr', { class: 'editrow', dataset: { edit: m.username } }, h('td', { colspan: '10' }, form));
}

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
function merchantCells(m, span) {
  const edit = h('button', { type: 'button', class: 'ghost', dataset: { testid: 'edit-merchant' }, title: 'Change the callback URL and dialect' }, 'Edit');
  edit.addEventListener('click', () => {
    if (editing.has(m.username)) editing.delete(m.username); else editing.add(m.username);
    merchantsSig = null;
    loadMerchants(true).catch(report);
  });
  return [
    h('td', { ...span, class: 'strong' }, m.username, m.runtime ? [' ', runtimeTag()] : null),
    h('td', span, (m.aliases || []).join(', ')),
    h('td', { ...span, class: 'mono wrap' }, m.callback_url || h('span', { class: 'muted' }, '(none: no callbacks)')),
    dialectCell(m, span), h('td', span, edit)];
}

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
