// Journal view: every vendor-API request, newest first; a click shows its fields and
// the answer.
import { $, clickable, code, h, reconcile, rowSig, timeCell } from './dom.js';
import { defineView } from './events.js';
import { clip, fullTime, millis, text } from './format.js';
import { expander, loadPage, showPage } from './lists.js';

export const journalRows = expander('journal');

defineView('journal', async () => {
  const page = await loadPage('journal', '/journal', 'entries');
  if (!page) return;
  reconcile($('#journal-table tbody'), page.items, (e) => {
    const id = text(e.id);
    return journalRows.rows(id, rowSig(e), () => journalRow(e, id), () => journalDetail(e));
  });
  journalRows.mark();
  showPage('journal', page.total, page.items.length);
});

// answered is the vendor's status flag of a response: true, false, or null.
function answered(response) {
  try {
    const r = JSON.parse(response);
    return r && typeof r.status === 'boolean' ? r.status : null;
  } catch (err) { return null; }
}

// injected marks a request a fault hit: a badge, and the fault's text ("status 502
// (fault 3)") after it.
function injected(e) {
  if (!e.fault) return null;
  return [h('span', { class: 'badge s-injected', title: e.fault }, 'injected'), ' ',
    h('span', { class: 'fault-text', title: e.fault }, clip(String(e.fault).replace(/^injected:\s*/, ''), 40)), ' '];
}

function journalRow(e, id) {
  const ok = answered(e.response);
  const fields = e.fields || {};
  return h('tr', { class: 'clickable' + (e.fault ? ' injected' : ''), dataset: { id }, ...clickable(() => journalRows.toggle(id)) },
    timeCell(e.time, true),
    h('td', { class: 'mono' }, e.endpoint),
    h('td', null, injected(e), h('span', { class: 'msg ' + (ok === true ? 'ok' : ok === false ? 'bad' : '') }, e.message || '')),
    h('td', { class: 'num mono' }, text(e.http_status)),
    h('td', { class: 'num mono' }, millis(e.latency_ms)),
    h('td', { class: 'chips' }, Object.keys(fields).sort().map((k) => h('span', { class: 'chip', title: k + '=' + fields[k] },
      h('b', null, k), '=', clip(fields[k], 28)))));
}

function journalDetail(e) {
  const fields = e.fields || {};
  const keys = Object.keys(fields).sort();
  const request = keys.length
    ? h('table', { class: 'kv' }, keys.map((k) => h('tr', null, h('th', null, k), h('td', { class: 'mono' }, fields[k]))))
    : h('p', { class: 'muted small' }, '(no parameters)');
  return h('tr', { class: 'detail' }, h('td', { colspan: '6' }, h('div', { class: 'detail-grid' },
    h('div', null, h('div', { class: 'cb-label' }, 'Request fields'), request,
      h('p', { class: 'muted small' }, 'Request id ', h('span', { class: 'mono' }, e.request_id || ''), ' · ', fullTime(e.time),
        ' · ', millis(e.latency_ms)),
      e.fault ? h('p', { class: 'err' }, 'Fault: ', e.fault) : null),
    h('div', null, h('div', { class: 'cb-label' }, 'Response'), code(e.response)))));
}
