// The three paged lists (orders, journal, callbacks): filter forms, offset paging, the
// pager, and rows that expand into a detail row.
import { api } from './api.js';
import { $, $$ } from './dom.js';
import { again, refresh } from './events.js';

export const PAGE = 50;
const offsets = { orders: 0, journal: 0, callbacks: 0 };

export function resetPaging() {
  for (const k of Object.keys(offsets)) offsets[k] = 0;
}

export function formQuery(form) {
  const q = {};
  new FormData(form).forEach((v, k) => { q[k] = String(v).trim(); });
  return q;
}

// loadPage fetches the page of list `name` its filters and pager ask for:
// {items, total}, or null when the page emptied under the reader (the view loads again
// at the last page).
export async function loadPage(name, path, field) {
  const q = formQuery($('#' + name + '-filters'));
  q.offset = offsets[name];
  q.limit = PAGE;
  const data = await api('GET', path, { query: q });
  const items = (data && data[field]) || [];
  const total = Number(data && data.total) || 0;
  if (items.length === 0 && offsets[name] > 0 && total > 0) {
    offsets[name] = Math.max(0, Math.floor((total - 1) / PAGE) * PAGE);
    again(name);
    return null;
  }
  return { items, total };
}

// showPage renders the pager and the empty-list note of list `name`.
export function showPage(name, total, shown) {
  const p = $('#' + name + '-pager');
  const off = offsets[name];
  $('.range', p).textContent = total === 0 ? '0 of 0' : (off + 1) + '–' + (off + shown) + ' of ' + total;
  $('[data-dir="-1"]', p).disabled = off === 0;
  $('[data-dir="1"]', p).disabled = off + shown >= total;
  $('#' + name + '-empty').hidden = shown !== 0;
}

// wireFilters reloads view `name` from its first page when a filter changes (text
// fields after a pause) and pages it with the pager's buttons.
export function wireFilters(name) {
  const form = $('#' + name + '-filters');
  let timer = null;
  const go = () => { if (name in offsets) offsets[name] = 0; refresh(name); };
  form.addEventListener('change', go);
  form.addEventListener('input', (e) => {
    if (e.target.tagName !== 'INPUT') return;
    clearTimeout(timer);
    timer = setTimeout(go, 250);
  });
  form.addEventListener('submit', (e) => { e.preventDefault(); go(); });
  const pager = $('#' + name + '-pager');
  if (!pager) return;
  pager.addEventListener('click', (e) => {
    const b = e.target.closest('button[data-dir]');
    if (!b) return;
    offsets[name] = Math.max(0, offsets[name] + Number(b.dataset.dir) * PAGE);
    refresh(name);
  });
}

// expander keeps which rows of list `name` are open: an open row is followed by its
// detail row, and says so to a screen reader (aria-expanded, aria-controls).
export function expander(name) {
  const open = new Set();
  return {
    clear: () => open.clear(),
    toggle(id) {
      if (open.has(id)) open.delete(id); else open.add(id);
      refresh(name);
    },
    // rows are the reconcile triples of one item: its row, and its detail row if open.
    rows(id, sig, row, detail) {
      const out = [[id, sig, row]];
      if (open.has(id)) out.push([id + '/detail', sig, detail]);
      return out;
    },
    mark() {
      for (const tr of $$('#' + name + '-table tbody tr[data-id]')) {
        const isOpen = open.has(tr.dataset.id);
        tr.classList.toggle('open', isOpen);
        tr.setAttribute('aria-expanded', String(isOpen));
        const detail = isOpen ? tr.nextElementSibling : null;
        if (detail && detail.classList.contains('detail')) {
          detail.id = name + '-detail-' + tr.dataset.id;
          tr.setAttribute('aria-controls', detail.id);
        } else {
          tr.removeAttribute('aria-controls');
        }
      }
    },
  };
}
