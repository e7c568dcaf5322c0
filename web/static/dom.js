// DOM helpers: the element builder, the keyed row reconciler, toasts. Every value from
// the sandbox reaches the page through textContent or a text node, never through
// innerHTML: orders carry whatever a merchant's test sent.
import { fullTime, prettyJSON, shortTime, text, today } from './format.js';

export const $ = (sel, root) => (root || document).querySelector(sel);
export const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

// h builds an element; string children become text nodes, so data is never parsed as
// HTML. props: class, text, dataset, on<event> handlers, and attributes.
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, c) {
  if (c === undefined || c === null || c === false) return;
  if (Array.isArray(c)) c.forEach((x) => append(el, x));
  else el.append(c instanceof Node ? c : String(c));
}

export function badge(status) {
  const s = text(status);
  return h('span', { class: 'badge s-' + s.replace(/[^a-z_]/g, '') }, s || '—');
}

export const timeCell = (iso, ms) => h('td', { class: 'time', title: fullTime(iso) }, shortTime(iso, ms));

// code shows a body that may or may not be JSON (a vendor answer, a merchant's answer,
// a stored object): JSON indented and coloured as sent, anything else as text.
export function code(body, cls) {
  const c = 'code' + (cls ? ' ' + cls : '');
  if (body === undefined || body === null || body === '') return h('pre', { class: c + ' empty-body' }, '(empty)');
  const src = typeof body === 'string' ? body : JSON.stringify(body);
  const pieces = prettyJSON(src);
  if (!pieces) return h('pre', { class: c }, src);
  return h('pre', { class: c }, pieces.map(([t, k]) => (k ? h('span', { class: k }, t) : t)));
}

// rowSig is a row's signature: its data as JSON, and the sandbox's day, since a time
// cell shows the date of any other day's instant (shortTime).
export const rowSig = (v) => today() + JSON.stringify(v);

// reconcile makes the children of a table body the rows for items, reusing the row of
// an item whose data did not change. A live page refreshes often; rebuilding every row
// each time would flicker, drop hover and text selection, and move rows under the
// pointer. rows(item) returns [key, signature, build] triples (an item can have a
// detail row too).
export function reconcile(tbody, items, rows) {
  const old = new Map(Array.from(tbody.children, (tr) => [tr.dataset.rowKey, tr]));
  const want = [];
  for (const it of items) {
    for (const [key, sig, build] of rows(it)) {
      let tr = old.get(key);
      if (!tr || tr.dataset.rowSig !== sig) {
        tr = build();
        tr.dataset.rowKey = key;
        tr.dataset.rowSig = sig;
      }
      old.delete(key);
      want.push(tr);
    }
  }
  const keep = new Set(want);
  for (const tr of Array.from(tbody.children)) if (!keep.has(tr)) tr.remove();
  want.forEach((tr, i) => { // rows already in place are not touched
    const at = tbody.children[i];
    if (at !== tr) tbody.insertBefore(tr, at || null);
  });
}

// clickable makes a row open or toggle something on a click or Enter. The Enter is
// consumed: the drawer it opens takes the focus, and the same key's keypress would
// otherwise press the Close button it lands on.
export const clickable = (fn) => ({
  tabindex: '0',
  onclick: fn,
  onkeydown: (e) => {
    if (e.key !== 'Enter' || e.target !== e.currentTarget) return; // a link or button in the row handles its own
    e.preventDefault();
    fn(e);
  },
});

const recentToasts = new Map();

export function toast(msg, kind) {
  const key = (kind || '') + msg;
  const now = Date.now();
  if (recentToasts.get(key) > now - 4000) return; // a failing refresh repeats itself
  recentToasts.set(key, now);
  const el = h('div', { class: 'toast ' + (kind || 'info') }, msg);
  $('#toasts').append(el);
  const stay = kind === 'error' ? 6000 : 2500;
  setTimeout(() => el.classList.add('gone'), stay);
  setTimeout(() => el.remove(), stay + 600);
}
