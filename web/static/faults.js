// Faults view: faults injected on vendor requests (an error status, a hang, a reset
// connection, a slow or lost answer, malformed JSON, a forced message) and maintenance
// windows, with their hits; a form adds either, a button removes one or all. The tab's
// count is the faults still in force, so a forgotten one shows from every tab.
import { api, report } from './api.js';
import { $, $$, h, reconcile, rowSig, timeCell, toast } from './dom.js';
import { sandboxRel } from './clock.js';
import { changed, defineView } from './events.js';
import { shortTime, text } from './format.js';

// The form's fields that are the page's own, not the API's.
const LOCAL = new Set(['fires', 'match']);

defineView('faults', async () => {
  const data = await api('GET', '/faults');
  const items = (data && data.faults) || [];
  const live = items.filter((f) => !f.ended).length;
  $('#count-faults').textContent = live ? String(live) : '';
  if (!$('#panel-faults').hidden) showFaults(items, live);
}, () => true);

function showFaults(items, live) {
  // A window's "(in 14m)" is part of its row's signature, so a refresh moves it on.
  const sig = (f) => rowSig(f) + (f.until && !f.ended ? sandboxRel(f.until) : '');
  reconcile($('#faults-table tbody'), items, (f) => [[text(f.id), sig(f), () => faultRow(f)]]);
  $('#faults-empty').hidden = items.length !== 0;
  $('#faults-total').textContent = items.length ? live + ' in force' + (items.length > live ? ', ' + (items.length - live) + ' ended' : '') : '';
  $('#faults-clear').disabled = items.length === 0;
}

const body = (f) => (f.body ? ', ' + f.body + ' body' : '');

// EFFECT says what a fault of each kind does to the request it hits.
const EFFECT = {
  status: (f) => 'HTTP ' + text(f.status) + body(f),
  lost_answer: (f) => 'done, then ' + (f.then === 'reset' ? 'connection reset' : 'HTTP ' + text(f.status) + body(f)),
  hang: (f) => 'no answer' + (f.duration ? ' for ' + f.duration : ''),
  reset: () => 'connection reset',
  slow: (f) => 'answer after ' + text(f.duration),
  malformed: (f) => 'malformed JSON (' + text(f.malformed || 'truncated') + ')',
  message: (f) => 'message "' + text(f.message) + '"',
  maintenance: () => 'under maintenance',
};

const effect = (f) => (EFFECT[f.kind] || (() => ''))(f);

function appliesTo(f) {
  const eps = f.endpoints && f.endpoints.length ? f.endpoints : ['every endpoint'];
  const match = f.match || {};
  return h('td', { class: 'chips' },
    eps.map((e) => h('span', { class: 'chip' }, e)),
    f.merchant ? h('span', { class: 'chip' }, h('b', null, 'merchant'), '=', f.merchant) : null,
    Object.keys(match).sort().map((k) => h('span', { class: 'chip', title: k + '=' + match[k] }, h('b', null, k), '=', match[k])));
}

// fires says how often a fault hits: "1×", "p = 0.5, up to 3×", "every time".
function fires(f) {
  if (f.kind === 'maintenance') return '';
  const times = f.count ? text(f.count) + '×' : '';
  if (!f.probability) return times || 'every time';
  return 'p = ' + text(f.probability) + (times ? ', up to ' + times : '');
}

function until(f) {
  if (!f.until) return h('td', null);
  const when = f.ended ? 'ended' : sandboxRel(f.until);
  return h('td', { class: 'time', title: text(f.until) }, shortTime(f.until), ' ', h('span', { class: 'muted' }, '(' + when + ')'));
}

function faultRow(f) {
  const id = text(f.id);
  return h('tr', { class: f.ended ? 'ended' : null, dataset: { id, kind: text(f.kind) } },
    h('td', { class: 'num mono' }, id),
    h('td', null, h('span', { class: 'badge ' + (f.ended ? 's-dropped' : 's-injected') }, text(f.kind)), f.ended ? h('span', { class: 'muted small' }, ' ended') : null),
    appliesTo(f),
    h('td', { class: 'ellipsis', title: effect(f) }, effect(f)),
    h('td', { class: 'mono' }, fires(f)),
    h('td', { class: 'num mono hits' }, text(f.hits || 0)),
    h('td', { class: 'num mono remaining' }, f.remaining === undefined || f.remaining === null ? '—' : text(f.remaining)),
    until(f),
    h('td', { class: 'muted' }, text(f.source)),
    timeCell(f.created_at),
    h('td', null, h('button', { type: 'button', class: 'small ghost', dataset: { remove: id }, 'aria-label': 'Remove fault ' + id }, 'Remove')));
}

// ---------------------------------------------------------------- the forms
// showFields shows each field of the form meant for the choice in force: an element
// with data-show="kind:status lost_answer" shows while kind is status or lost_answer.
function showFields(form) {
  $$('[data-show]', form).forEach((el) => {
    const [name, values] = el.dataset.show.split(':');
    el.hidden = !values.split(' ').includes(form.elements[name].value);
  });
}

// matchFields turns "orderid=T-* currency=MYR" into match.orderid=T-*, match.currency=MYR.
function matchFields(src, out) {
  for (const pair of src.split(/[\s,]+/).filter(Boolean)) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error('match fields are field=pattern pairs, not "' + pair + '"');
    out.append('match.' + pair.slice(0, at), pair.slice(at + 1));
  }
}

// faultFields are the fields the form sends: its shown fields that have a value.
function faultFields(form) {
  const out = new URLSearchParams();
  for (const el of form.elements) {
    const v = el.name ? String(el.value).trim() : '';
    if (!v || LOCAL.has(el.name) || el.closest('[hidden]')) continue;
    out.append(el.name, v);
  }
  matchFields(form.elements.match.value, out);
  return out;
}

// sayIn shows an outcome under a form: kind 'ok' or 'error', or nothing.
function sayIn(sel, kind, msg) {
  const el = $(sel);
  el.hidden = !kind;
  el.className = 'form-msg' + (kind ? ' ' + kind : '');
  el.textContent = msg || '';
}

// submit sends a form's fields to path, saying in msgSel what came of it.
async function submit(form, path, fields, msgSel, done) {
  const btn = $('button[type=submit]', form);
  btn.disabled = true;
  try {
    const f = await api('POST', path, { form: fields });
    sayIn(msgSel, 'ok', done(f || {}));
    changed(['faults']);
  } catch (err) {
    if (err.status === 400 || err.status === 404 || err.status === 409) sayIn(msgSel, 'error', err.message);
    else report(err);
  } finally {
    btn.disabled = false;
  }
}

function addFault(form) {
  let fields;
  try {
    fields = faultFields(form);
  } catch (err) {
    sayIn('#fault-msg', 'error', err.message);
    return;
  }
  submit(form, '/faults', fields, '#fault-msg', (f) => 'Fault ' + text(f.id) + ' added: ' + effect(f) + '.');
}

function openMaintenance(form) {
  const fields = new URLSearchParams(new FormData(form));
  submit(form, '/maintenance', fields, '#maintenance-msg',
    (f) => 'Maintenance window ' + text(f.id) + ' open' + (f.until ? ' ' + sandboxRel(f.until).replace(/^in/, 'for') : '') + '.');
}

async function remove(path, what) {
  try {
    await api('DELETE', path);
    toast(what, 'ok');
  } catch (err) {
    report(err);
  }
  changed(['faults']);
}

// The forms' choices (endpoints, kinds, bodies) come rendered from the sandbox's
// vocabulary (gateway's lists): the page types none of them.
export function wireFaults() {
  const form = $('#fault-form');
  showFields(form);
  form.addEventListener('change', () => showFields(form));
  form.addEventListener('submit', (e) => { e.preventDefault(); addFault(form); });
  $('#maintenance-form').addEventListener('submit', (e) => { e.preventDefault(); openMaintenance(e.target); });
  $('#faults-clear').addEventListener('click', () => remove('/faults', 'Every fault removed'));
  $('#faults-table tbody').addEventListener('click', (e) => {
    const b = e.target.closest('button[data-remove]');
    if (b) remove('/faults/' + encodeURIComponent(b.dataset.remove), 'Fault ' + b.dataset.remove + ' removed');
  });
}
