// Captures view: callbacks a real gateway sent to /sandbox/capture/{name}, newest
// first, with the checks against the sandbox's callback shape; a click shows the
// findings, the headers and the body. The log is the sandbox's memory (last 500).
import { api } from './api.js';
import { $, badge, clickable, code, h, reconcile, rowSig, timeCell } from './dom.js';
import { defineView, refresh } from './events.js';
import { clip, text } from './format.js';
import { expander, formQuery } from './lists.js';

export const captureRows = expander('captures');

defineView('captures', async () => {
  const q = formQuery($('#captures-filters'));
  q.limit = 100;
  const data = await api('GET', '/captures', { query: q });
  const items = (data && data.captures) || [];
  reconcile($('#captures-table tbody'), items, (c) => {
    const id = text(c.id);
    return captureRows.rows(id, rowSig(c), () => captureRow(c, id),
      () => h('tr', { class: 'detail' }, h('td', { colspan: '7' }, captureDetail(c))));
  });
  captureRows.mark();
  $('#captures-empty').hidden = items.length !== 0;
  $('#captures-total').textContent = data ? text(data.total) + ' kept' + (data.forward_to ? ' · forwarded to ' + data.forward_to : '') : '';
});

function failing(c) {
  return (c.findings || []).filter((f) => !f.ok).map((f) => f.check);
}

function captureRow(c, id) {
  const bad = failing(c);
  return h('tr', { class: 'clickable', dataset: { id }, ...clickable(() => captureRows.toggle(id)) },
    timeCell(c.time, true),
    h('td', { class: 'mono' }, c.name),
    h('td', null, c.shape || '—'),
    h('td', null, h('span', { class: 'msg ' + (c.ok ? 'ok' : 'bad') }, c.ok ? 'all checks ok' : clip(bad.join(', '), 60))),
    h('td', { class: 'mono' }, c.merchant || '—'),
    h('td', { class: 'num mono' }, c.forward ? (c.forward.error ? 'error' : text(c.forward.http_status)) : ''),
    h('td', { class: 'mono ellipsis', title: c.remote_addr }, c.remote_addr));
}

function captureDetail(c) {
  const findings = h('table', { class: 'kv' }, (c.findings || []).map((f) =>
    h('tr', null, h('th', null, f.check), h('td', null, badge(f.ok ? 'completed' : 'fail')), h('td', { class: 'mono' }, f.detail))));
  const headers = Object.keys(c.headers || {}).sort();
  const hdrs = h('table', { class: 'kv' }, headers.map((k) => h('tr', null, h('th', null, k), h('td', { class: 'mono' }, (c.headers[k] || []).join(', ')))));
  const fw = c.forward
    ? h('p', { class: 'muted small' }, 'Forwarded to ', h('span', { class: 'mono' }, c.forward.url), ': ',
      c.forward.error || ('HTTP ' + c.forward.http_status + ' ' + clip(c.forward.answer || '', 80)))
    : null;
  return h('div', { class: 'detail-grid' },
    h('div', null, h('div', { class: 'cb-label' }, 'Checks'), findings, fw),
    h('div', null, h('div', { class: 'cb-label' }, c.method + ' ' + c.url + ' · ' + text(c.body_bytes) + ' bytes' + (c.truncated ? ' (cut)' : '')),
      code(c.body), h('div', { class: 'cb-label' }, 'Headers'), hdrs));
}

export function wireCaptures() {
  const form = $('#captures-filters');
  let timer = null;
  form.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => refresh('captures'), 250); });
  form.addEventListener('submit', (e) => { e.preventDefault(); refresh('captures'); });
}
