// QA dashboard of the Vpay88 sandbox. Plain script, no build step, no dependency.
// Every value from the sandbox reaches the page through textContent or a text node,
// never through innerHTML: orders carry whatever a merchant's test sent.
'use strict';

(function () {
  const API = '/sandbox/api';
  const TOKEN_KEY = 'vpay88-sandbox.admin-token';
  const PAGE = 50;
  const POLL_MS = 2000;
  const DEBOUNCE_MS = 150;

  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  // ---------------------------------------------------------------- exact numbers
  // Amounts arrive as JSON numbers with four decimals ("300.0000"). JSON.parse would
  // turn them into 300; a QA tool must show what the gateway sent, so a number whose
  // text differs from its float spelling keeps its text (JSON.parse source access).
  class Raw {
    constructor(text) { this.raw = text; }
    valueOf() { return Number(this.raw); }
    toString() { return this.raw; }
  }

  function parseJSON(text) {
    return JSON.parse(text, function (key, value, ctx) {
      if (typeof value === 'number' && ctx && typeof ctx.source === 'string' && ctx.source !== String(value)) {
        return new Raw(ctx.source);
      }
      return value;
    });
  }

  function numText(v) {
    if (v === undefined || v === null || v === '') return '';
    return v instanceof Raw ? v.raw : String(v);
  }

  // money groups the integer part for reading ("1,000,000.0000") and keeps every decimal.
  function money(v) {
    const s = numText(v);
    const m = /^(-?)(\d+)(\.\d+)?$/.exec(s);
    if (!m) return s;
    return m[1] + m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (m[3] || '');
  }

  // ---------------------------------------------------------------- DOM helpers
  // h builds an element; string children become text nodes, so data is never parsed as HTML.
  function h(tag, props) {
    const el = document.createElement(tag);
    if (props) {
      for (const k of Object.keys(props)) {
        const v = props[k];
        if (v === undefined || v === null || v === false) continue;
        if (k === 'class') el.className = v;
        else if (k === 'text') el.textContent = v;
        else if (k === 'dataset') Object.assign(el.dataset, v);
        else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
        else el.setAttribute(k, v === true ? '' : String(v));
      }
    }
    for (let i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }

  function append(el, c) {
    if (c === undefined || c === null || c === false) return;
    if (Array.isArray(c)) { c.forEach((x) => append(el, x)); return; }
    el.append(c instanceof Node ? c : String(c));
  }

  function badge(status) {
    const s = String(status || '');
    return h('span', { class: 'badge s-' + s.replace(/[^a-z_]/g, '') }, s || '—');
  }

  // prettyJSON renders a parsed value as indented JSON with spans for colour. Raw numbers
  // print as sent.
  function prettyJSON(v) {
    const frag = document.createDocumentFragment();
    const put = (text, cls) => frag.append(cls ? h('span', { class: cls }, text) : document.createTextNode(text));
    (function walk(x, ind) {
      if (x instanceof Raw) { put(x.raw, 'j-num'); return; }
      if (x === null) { put('null', 'j-lit'); return; }
      if (Array.isArray(x)) {
        if (!x.length) { put('[]'); return; }
        put('[\n');
        x.forEach((y, i) => { put(ind + '  '); walk(y, ind + '  '); put(i < x.length - 1 ? ',\n' : '\n'); });
        put(ind + ']');
        return;
      }
      if (typeof x === 'object') {
        const ks = Object.keys(x);
        if (!ks.length) { put('{}'); return; }
        put('{\n');
        ks.forEach((k, i) => {
          put(ind + '  '); put(JSON.stringify(k), 'j-key'); put(': ');
          walk(x[k], ind + '  ');
          put(i < ks.length - 1 ? ',\n' : '\n');
        });
        put(ind + '}');
        return;
      }
      if (typeof x === 'string') { put(JSON.stringify(x), 'j-str'); return; }
      if (typeof x === 'number') { put(String(x), 'j-num'); return; }
      put(String(x), 'j-lit');
    })(v, '');
    return frag;
  }

  // prettyText shows a body that may or may not be JSON (a vendor answer, a merchant's answer).
  function prettyText(text) {
    if (text === undefined || text === null || text === '') return h('pre', { class: 'code empty-body' }, '(empty)');
    if (typeof text !== 'string') return h('pre', { class: 'code' }, prettyJSON(text));
    try { return h('pre', { class: 'code' }, prettyJSON(parseJSON(text))); } catch (e) { /* not JSON */ }
    return h('pre', { class: 'code' }, text);
  }

  const pad = (n, w) => String(n).padStart(w || 2, '0');

  function fmtTime(iso, ms) {
    if (!iso) return '';
    const d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    let t = pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
    if (ms) t += '.' + pad(d.getMilliseconds(), 3);
    if (d.toDateString() === new Date().toDateString()) return t;
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + t;
  }

  function fullTime(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' +
      pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()) + '.' + pad(d.getMilliseconds(), 3);
  }

  function relTime(iso) {
    const d = new Date(iso);
    if (!iso || isNaN(d.getTime())) return '';
    const s = Math.round((d.getTime() - Date.now()) / 1000);
    const a = Math.abs(s);
    const txt = a < 60 ? a + ' s' : a < 3600 ? Math.round(a / 60) + ' min' : Math.round(a / 3600) + ' h';
    return s >= 0 ? 'in ' + txt : txt + ' ago';
  }

  function timeCell(iso, ms) {
    return h('td', { class: 'time', title: fullTime(iso) }, fmtTime(iso, ms));
  }

  // reconcile makes the children of a table body the rows for items, reusing the row of
  // an item whose data did not change. A live page refreshes often; rebuilding every
  // row each time would flicker, drop hover and text selection, and move rows under
  // the pointer. rows(item) returns [key, signature, build] triples (an item can have a
  // detail row too).
  function reconcile(tbody, items, rows) {
    const old = new Map();
    for (const tr of Array.from(tbody.children)) old.set(tr.dataset.rowKey, tr);
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

  // sig is a row's signature: its data as JSON (exact numbers included).
  const sig = (v) => JSON.stringify(v, (k, x) => (x instanceof Raw ? 'n:' + x.raw : x));

  // ---------------------------------------------------------------- toasts
  const recentToasts = new Map();
  function toast(msg, kind) {
    const key = (kind || '') + msg;
    const now = Date.now();
    if (recentToasts.get(key) > now - 4000) return; // a failing refresh repeats itself
    recentToasts.set(key, now);
    const el = h('div', { class: 'toast ' + (kind || 'info') }, msg);
    $('#toasts').append(el);
    setTimeout(() => el.classList.add('gone'), kind === 'error' ? 6000 : 2500);
    setTimeout(() => el.remove(), kind === 'error' ? 6600 : 3100);
  }

  // ---------------------------------------------------------------- API
  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  const token = () => { try { return localStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; } };

  async function api(method, path, opts) {
    opts = opts || {};
    let url = API + path;
    if (opts.query) {
      const q = new URLSearchParams();
      for (const k of Object.keys(opts.query)) {
        const v = opts.query[k];
        if (v !== '' && v !== undefined && v !== null) q.set(k, v);
      }
      const s = q.toString();
      if (s) url += '?' + s;
    }
    const headers = { Accept: 'application/json' };
    const t = token();
    if (t) headers.Authorization = 'Bearer ' + t;
    let body;
    if (opts.form) body = new URLSearchParams(opts.form);
    else if (opts.body !== undefined) { body = opts.body; headers['Content-Type'] = opts.type; }
    let res;
    try {
      res = await fetch(url, { method, headers, body, cache: 'no-store', credentials: 'same-origin' });
    } catch (e) {
      setReachable(false);
      throw new ApiError(0, 'The sandbox does not answer (' + e.message + ')');
    }
    setReachable(true);
    const text = await res.text();
    let data = null;
    try { data = text ? parseJSON(text) : null; } catch (e) { /* not JSON */ }
    if (res.status === 401) {
      setLive('locked');
      askToken(true);
      throw new ApiError(401, (data && data.error) || 'admin token required');
    }
    if (!res.ok) {
      throw new ApiError(res.status, (data && (data.error || data.message)) || (res.status + ' ' + res.statusText));
    }
    return data;
  }

  function report(err) {
    if (!err) return;
    if (err.status === 401 || err.status === 0) return; // the token dialog / the live badge say it
    toast(err.message || String(err), 'error');
  }

  // ---------------------------------------------------------------- views and refresh
  // A view is something on screen that can be reloaded. Change notices mark views dirty;
  // a short debounce coalesces a burst of notices into one fetch per view, and a view
  // never has two fetches in flight.
  const views = {};
  let activeTab = 'orders';

  function defineView(name, load) {
    views[name] = { name, load, busy: null, again: false };
  }

  function visible(name) {
    if (name === 'drawer') return drawer.open !== null;
    return name === activeTab;
  }

  function refresh(name) {
    const v = views[name];
    if (!v || !visible(name)) return Promise.resolve();
    if (v.busy) { v.again = true; return v.busy; }
    const started = performance.now();
    v.busy = Promise.resolve().then(v.load).catch(report).finally(() => {
      // A busy sandbox (a load test) sends notices faster than a list can be read: wait
      // at least as long as the last fetch took, so the page never takes more than about
      // half of the server's time.
      const took = performance.now() - started;
      setTimeout(() => {
        v.busy = null;
        if (v.again) { v.again = false; refresh(name); }
      }, Math.min(Math.max(0, took), 5000));
    });
    return v.busy;
  }

  const pending = new Set();
  let debounceTimer = null;
  function changed(names) {
    names.forEach((n) => pending.add(n));
    if (debounceTimer || document.hidden) return; // a background tab catches up when shown
    debounceTimer = setTimeout(() => {
      debounceTimer = null;
      const list = Array.from(pending);
      pending.clear();
      list.forEach(refresh);
    }, DEBOUNCE_MS);
  }

  // What each change notice can make stale. Reset announces itself as "order", and it
  // clears the journal too.
  const AFFECTS = {
    order: ['orders', 'drawer', 'callbacks', 'balances', 'journal'],
    callback: ['callbacks', 'drawer'],
    journal: ['journal'],
  };
  const ALL = ['orders', 'journal', 'callbacks', 'balances', 'drawer'];

  // ---------------------------------------------------------------- live updates
  const live = { es: null, poll: null, retry: null, reachable: true, mode: 'connecting' };

  function setLive(mode) {
    live.mode = mode;
    renderLive();
  }

  function setReachable(ok) {
    if (live.reachable === ok) return;
    live.reachable = ok;
    renderLive();
  }

  function renderLive() {
    const el = $('#live');
    let mode = live.mode;
    if (!live.reachable) mode = 'offline';
    el.dataset.mode = mode;
    el.textContent = {
      live: 'Live',
      polling: 'Polling every 2 s',
      offline: 'Sandbox unreachable',
      connecting: 'Connecting…',
      locked: 'Admin token needed',
    }[mode] || mode;
    el.title = {
      live: 'Server-sent events from /sandbox/api/events: the page updates as soon as anything changes.',
      polling: 'The event stream is unavailable; the page reloads what is on screen every 2 seconds.',
      offline: 'The last request failed; retrying.',
      connecting: 'Opening the event stream…',
      locked: 'The sandbox runs with --admin-token: press Token and enter it.',
    }[mode] || '';
  }

  function connectEvents() {
    if (live.es) { live.es.close(); live.es = null; }
    clearTimeout(live.retry);
    if (!window.EventSource) { startPolling(); return; }
    let url = API + '/events';
    // EventSource cannot send headers; the sandbox takes the token as ?token= here only.
    const t = token();
    if (t) url += '?token=' + encodeURIComponent(t);
    const es = new EventSource(url);
    live.es = es;
    es.addEventListener('open', () => {
      stopPolling();
      setReachable(true);
      setLive('live');
      changed(ALL); // whatever changed while the stream was down
    });
    es.addEventListener('change', (e) => {
      let type = '';
      try { type = JSON.parse(e.data).type; } catch (err) { /* unknown notice: reload all */ }
      changed(AFFECTS[type] || ALL);
    });
    es.addEventListener('error', () => {
      if (live.es !== es) return;
      startPolling();
      if (es.readyState === EventSource.CLOSED) {
        // A refused stream (401, 404) is not retried by the browser: try again later.
        live.es = null;
        live.retry = setTimeout(connectEvents, 10000);
      }
    });
  }

  function startPolling() {
    setLive('polling');
    if (live.poll) return;
    live.poll = setInterval(() => changed(['orders', 'journal', 'callbacks', 'drawer']), POLL_MS);
  }

  function stopPolling() {
    clearInterval(live.poll);
    live.poll = null;
  }

  // ---------------------------------------------------------------- tabs
  const TABS = ['orders', 'journal', 'callbacks', 'balances', 'scenarios'];

  function showTab(name) {
    if (!TABS.includes(name)) name = 'orders';
    if (name !== activeTab && drawer.open && name !== 'orders' && name !== 'callbacks') closeDrawer();
    activeTab = name;
    for (const t of TABS) {
      $('#panel-' + t).hidden = t !== name;
      const b = $('#tab-' + t);
      b.setAttribute('aria-selected', String(t === name));
      b.tabIndex = t === name ? 0 : -1;
    }
    if (location.hash !== '#' + name) history.replaceState(null, '', '#' + name);
    if (name === 'scenarios') { if (!scen.loaded) loadScenarios(); }
    else refresh(name);
  }

  // ---------------------------------------------------------------- pagers and filters
  const paging = { orders: 0, journal: 0, callbacks: 0 };

  function formQuery(form) {
    const q = {};
    new FormData(form).forEach((v, k) => { q[k] = String(v).trim(); });
    return q;
  }

  function renderPager(name, total, shown) {
    const p = $('#' + name + '-pager');
    const off = paging[name];
    $('.range', p).textContent = total === 0 ? '0 of 0' : (off + 1) + '–' + (off + shown) + ' of ' + total;
    $('[data-dir="-1"]', p).disabled = off === 0;
    $('[data-dir="1"]', p).disabled = off + shown >= total;
  }

  function wireFilters(name) {
    const form = $('#' + name + '-filters');
    let timer = null;
    const go = () => { paging[name] = 0; refresh(name); };
    form.addEventListener('change', go);
    form.addEventListener('input', (e) => {
      if (e.target.tagName !== 'INPUT') return;
      clearTimeout(timer);
      timer = setTimeout(go, 250);
    });
    form.addEventListener('submit', (e) => { e.preventDefault(); go(); });
    const pager = $('#' + name + '-pager');
    if (pager) {
      pager.addEventListener('click', (e) => {
        const b = e.target.closest('button[data-dir]');
        if (!b) return;
        paging[name] = Math.max(0, paging[name] + Number(b.dataset.dir) * PAGE);
        refresh(name);
      });
    }
  }

  function showEmpty(name, empty) {
    $('#' + name + '-empty').hidden = !empty;
  }

  // ---------------------------------------------------------------- merchants
  let merchants = [];

  async function loadMerchants() {
    const data = await api('GET', '/merchants');
    merchants = (data && data.merchants) || [];
    const names = merchants.map((m) => m.username);
    const currencies = [];
    merchants.forEach((m) => (m.currencies || []).forEach((c) => {
      if (!currencies.includes(c.currency)) currencies.push(c.currency);
    }));
    fillSelect('[data-merchants]', names);
    fillSelect('[data-currencies]', currencies);
    renderMerchants();
  }

  function fillSelect(sel, values) {
    $$(sel).forEach((s) => {
      const keep = s.value;
      const first = s.options[0];
      s.replaceChildren(first, ...values.map((v) => h('option', { value: v }, v)));
      s.value = values.includes(keep) ? keep : '';
    });
  }

  // ---------------------------------------------------------------- orders
  const seenOrders = new Set();
  let ordersLoaded = false;
  const orderKey = (o) => o.kind + '\u0000' + o.merchant + '\u0000' + o.order_id;

  defineView('orders', async () => {
    const q = formQuery($('#orders-filters'));
    q.offset = paging.orders;
    q.limit = PAGE;
    const data = await api('GET', '/orders', { query: q });
    const orders = (data && data.orders) || [];
    const total = Number(data && data.total) || 0;
    if (orders.length === 0 && paging.orders > 0 && total > 0) { // the page emptied under us
      paging.orders = Math.max(0, Math.floor((total - 1) / PAGE) * PAGE);
      views.orders.again = true;
      return;
    }
    const body = $('#orders-table tbody');
    const sel = drawer.open ? orderKey(drawer.open) : '';
    reconcile(body, orders, (o) => [[orderKey(o), sig(o), () => orderRow(o)]]);
    for (const tr of Array.from(body.children)) tr.classList.toggle('selected', tr.dataset.rowKey === sel);
    ordersLoaded = true;
    renderPager('orders', total, orders.length);
    showEmpty('orders', orders.length === 0);
  });

  function orderRow(o) {
    const key = orderKey(o);
    const fresh = ordersLoaded && !seenOrders.has(key);
    seenOrders.add(key);
    const who = o.kind === 'withdrawal' ? o.holder_name : o.customer;
    return h('tr', {
      class: 'clickable' + (fresh ? ' fresh' : ''),
      // Once only: a panel shown again would replay the animation.
      onanimationend: (e) => e.currentTarget.classList.remove('fresh'),
      tabindex: '0',
      dataset: { kind: o.kind, merchant: o.merchant, orderId: o.order_id },
      onclick: () => openDrawer(o),
      onkeydown: (e) => { if (e.key === 'Enter') openDrawer(o); },
    },
    timeCell(o.created_at),
    h('td', null, h('span', { class: 'kind k-' + o.kind }, o.kind === 'withdrawal' ? 'payout' : 'deposit')),
    h('td', { class: 'mono strong', title: o.order_id }, o.order_id),
    h('td', null, o.merchant),
    h('td', { class: 'num mono' }, money(o.amount)),
    h('td', null, o.currency),
    h('td', null, badge(o.status)),
    h('td', { class: 'ellipsis', title: who || '' }, who || ''),
    h('td', { class: 'num mono' }, o.status === 'pending' ? '' : money(o.charge)),
    h('td', { class: 'ellipsis muted', title: o.scenario || '' }, o.scenario || ''));
  }

  // ---------------------------------------------------------------- order drawer
  const drawer = { open: null, view: null, sig: '' };

  function openDrawer(o) {
    const same = drawer.open && orderKey(drawer.open) === orderKey(o);
    drawer.open = { kind: o.kind, merchant: o.merchant, order_id: o.order_id };
    if (!same) {
      drawer.view = null;
      drawer.sig = '';
      $('#act-name').value = '';
      $('#act-remarks').value = '';
      $('#drawer-fields').replaceChildren();
      $('#drawer-callbacks').replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
      $('#drawer-kind').textContent = o.kind === 'withdrawal' ? 'Withdrawal' : 'Deposit';
      $('#drawer-orderid').textContent = o.order_id;
      $('#drawer-status').replaceWith(Object.assign(badge(o.status), { id: 'drawer-status' }));
      $('#drawer-sub').textContent = o.merchant;
    }
    $('#drawer').hidden = false;
    document.body.classList.add('drawer-open');
    const key = orderKey(o);
    $$('#orders-table tbody tr').forEach((tr) => tr.classList.toggle('selected', tr.dataset.rowKey === key));
    refresh('drawer');
  }

  function closeDrawer() {
    drawer.open = null;
    drawer.view = null;
    drawer.sig = '';
    $('#drawer').hidden = true;
    document.body.classList.remove('drawer-open');
    $$('#orders-table tbody tr.selected').forEach((tr) => tr.classList.remove('selected'));
  }

  const orderPath = (o) => '/' + o.kind + 's/' + encodeURIComponent(o.order_id);

  defineView('drawer', async () => {
    const want = drawer.open;
    const v = await api('GET', orderPath(want), { query: { merchant: want.merchant } });
    if (drawer.open !== want) return; // another order was opened meanwhile
    renderDrawer(v);
  });

  const FIELDS = [
    ['order_id', 'Order id'], ['number', 'Number', (v) => '#' + numText(v)], ['merchant', 'Merchant'],
    ['status', 'Status', badge], ['amount', 'Amount'], ['charge', 'Charge', money], ['reserved', 'Reserved', money],
    ['customer', 'Customer'], ['email', 'Email'], ['phone_number', 'Phone'], ['mode', 'Mode (telco)'],
    ['bank_id', 'Bank id'], ['bank_name', 'Bank'], ['holder_name', 'Holder name'], ['account_no', 'Account no'],
    ['bank_branch', 'Bank branch'], ['name', 'Name (callback)'], ['remarks', 'Remarks'],
    ['redirect_url', 'Redirect URL'], ['created_at', 'Created', fullTime], ['settled_at', 'Settled', fullTime],
    ['settle_at', 'Settles at (scheduled)', (v) => fullTime(v) + ' (' + relTime(v) + ')'],
    ['settle_outcome', 'Planned outcome', (v) => h('pre', { class: 'code small' }, prettyJSON(v))],
    ['callback_faults', 'Callback faults', (v) => h('pre', { class: 'code small' }, prettyJSON(v))],
    ['scenario', 'Scenario rule'],
  ];
  const HIDDEN_FIELDS = new Set(['callbacks', 'key', 'kind', 'currency']);

  function renderDrawer(v) {
    const s = sig(v);
    if (drawer.sig === s) return; // unchanged: keep the DOM (and the reader's scroll and selection)
    drawer.sig = s;
    drawer.view = v;
    const withdrawal = v.kind === 'withdrawal';
    const pendingOrder = v.status === 'pending';
    $('#drawer-kind').textContent = withdrawal ? 'Withdrawal' : 'Deposit';
    $('#drawer-orderid').textContent = v.order_id;
    $('#drawer-status').replaceWith(Object.assign(badge(v.status), { id: 'drawer-status' }));
    $('#drawer-sub').textContent = v.merchant + ' · #' + numText(v.number) + ' · ' + v.currency + ' ' + money(v.amount) +
      ' · created ' + fmtTime(v.created_at);

    // A settled order never changes: only a resend of its callback is left to do.
    $$('#drawer-actions [data-outcome]').forEach((b) => { b.hidden = !pendingOrder || (b.hasAttribute('data-withdrawal-only') && !withdrawal); b.disabled = false; });
    $('#drawer-actions .inputs').hidden = !pendingOrder;
    $('#act-resend').hidden = pendingOrder;
    $('#act-resend').disabled = false;
    const note = $('#act-note');
    note.hidden = pendingOrder;
    note.textContent = pendingOrder ? '' : 'Settled ' + fmtTime(v.settled_at) +
      (v.settle_outcome && v.settle_outcome.source ? ' by ' + v.settle_outcome.source : '') + '; a settled order never changes.';
    const co = $('#act-checkout');
    const num = numText(v.number);
    if (!withdrawal && pendingOrder && v.key && /^\d+$/.test(num)) {
      co.href = '/checkout/order-pay/' + num + '/?pay_for_order=true&key=' + encodeURIComponent(v.key);
      co.hidden = false;
    } else {
      co.hidden = true;
      co.removeAttribute('href');
    }

    const dl = $('#drawer-fields');
    const items = [];
    const known = new Set();
    for (const [k, label, fmt] of FIELDS) {
      known.add(k);
      const val = v[k];
      if (val === undefined || val === null || val === '') continue;
      if (k === 'charge' && pendingOrder) continue; // set when the order settles
      let shown;
      if (k === 'amount') shown = v.currency + ' ' + money(val);
      else shown = fmt ? fmt(val) : (typeof val === 'object' && !(val instanceof Raw) ? prettyJSON(val) : numText(val));
      const wide = k === 'remarks' || k === 'redirect_url' || k === 'settle_outcome' || k === 'callback_faults' || k === 'settle_at';
      items.push(h('div', { class: 'field' + (wide ? ' wide' : '') }, h('dt', null, label), h('dd', { class: k === 'status' ? '' : 'mono' }, shown)));
    }
    for (const k of Object.keys(v)) { // fields added to the API later still show
      if (known.has(k) || HIDDEN_FIELDS.has(k)) continue;
      const val = v[k];
      if (val === undefined || val === null || val === '') continue;
      const obj = typeof val === 'object' && !(val instanceof Raw);
      items.push(h('div', { class: 'field' + (obj ? ' wide' : '') }, h('dt', null, k), h('dd', { class: 'mono' },
        obj ? h('pre', { class: 'code small' }, prettyJSON(val)) : numText(val))));
    }
    dl.replaceChildren(...items);

    const cbs = v.callbacks || [];
    $('#drawer-cb-count').textContent = cbs.length ? '(' + cbs.length + ')' : '';
    const box = $('#drawer-callbacks');
    if (!cbs.length) {
      box.replaceChildren(h('p', { class: 'muted' }, pendingOrder
        ? 'None yet: the callback is queued when the order completes or fails.'
        : 'None: the merchant has no callback_url, or a scenario dropped it.'));
    } else {
      box.replaceChildren(...cbs.map((d) => callbackCard(d, false)));
    }
  }

  // callbackCard shows one delivery: its state, the body sent and every attempt with the
  // merchant's answer.
  function callbackCard(d, wide) {
    const attempts = d.attempt_log || [];
    const head = h('div', { class: 'cb-head' },
      h('span', { class: 'mono strong' }, '#' + numText(d.id)), ' ', badge(d.state),
      d.note ? h('span', { class: 'note' }, d.note) : null,
      h('span', { class: 'muted' }, numText(d.attempts) + (Number(d.attempts) === 1 ? ' attempt' : ' attempts')),
      d.state === 'pending' && d.next_at ? h('span', { class: 'muted', title: fullTime(d.next_at) }, 'next ' + relTime(d.next_at)) : null);
    const sent = [h('div', { class: 'cb-label' }, 'Body sent'), prettyText(d.body)];
    const tries = [];
    if (!attempts.length) {
      tries.push(h('div', { class: 'cb-label' }, 'Attempts'),
        h('p', { class: 'muted small' }, d.state === 'dropped' ? 'Never sent (dropped by a scenario fault).' : 'No attempt yet.'));
    } else {
      tries.push(h('div', { class: 'cb-label' }, 'Attempts and the merchant\'s answers'));
      tries.push(h('table', { class: 'attempts' },
        h('thead', null, h('tr', null, h('th', null, '#'), h('th', null, 'Time'), h('th', null, 'HTTP'),
          h('th', { class: 'num' }, 'Latency'), h('th', null, 'Answer / error'))),
        h('tbody', null, attempts.map((a) => {
          const code = Number(a.http_status) || 0;
          return h('tr', { class: 'attempt', dataset: { httpStatus: String(code) } },
            h('td', { class: 'mono' }, numText(a.n)),
            timeCell(a.time, true),
            h('td', null, h('span', { class: 'http ' + (code >= 200 && code < 300 ? 'ok' : 'bad') }, code ? String(code) : '—')),
            h('td', { class: 'num mono' }, fmtMS(a.latency_ms)),
            h('td', { class: 'answer' },
              a.error ? h('div', { class: 'err' }, a.error) : null,
              a.answer !== undefined && a.answer !== '' ? h('pre', { class: 'code small' }, a.answer) : (a.error ? null : h('span', { class: 'muted' }, '(empty answer)')),
              a.url && a.url !== d.url ? h('div', { class: 'muted small mono' }, 'to ' + a.url) : null));
        }))));
    }
    const url = h('div', { class: 'cb-url mono', title: d.url }, 'POST ' + (d.url || ''));
    if (wide) return h('div', { class: 'cb-card wide' }, head, url, h('div', { class: 'cb-cols' }, h('div', null, sent), h('div', null, tries)));
    // In the drawer the answers come first: "did the merchant take it?" is the question.
    return h('div', { class: 'cb-card' }, head, url, tries, sent);
  }

  function fmtMS(v) {
    const n = Number(v);
    if (!isFinite(n)) return '';
    return n < 10 ? n.toFixed(2) + ' ms' : n < 1000 ? n.toFixed(1) + ' ms' : (n / 1000).toFixed(2) + ' s';
  }

  async function settle(outcome) {
    const o = drawer.open;
    if (!o) return;
    const buttons = $$('#drawer-actions button');
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const form = { outcome, merchant: o.merchant };
      const name = $('#act-name').value.trim();
      const remarks = $('#act-remarks').value.trim();
      if (name) form.name = name;
      if (remarks) form.remarks = remarks;
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
      toast('Callback #' + numText(d && d.id) + ' queued for ' + o.order_id, 'ok');
    } catch (err) {
      report(err);
    }
    changed(['drawer', 'callbacks']);
  }

  // ---------------------------------------------------------------- journal
  const openJournal = new Set();

  defineView('journal', async () => {
    const q = formQuery($('#journal-filters'));
    q.offset = paging.journal;
    q.limit = PAGE;
    const data = await api('GET', '/journal', { query: q });
    const entries = (data && data.entries) || [];
    const total = Number(data && data.total) || 0;
    reconcile($('#journal-table tbody'), entries, (e) => {
      const id = numText(e.id);
      const s = sig(e);
      const out = [[id, s, () => journalRow(e, id)]];
      if (openJournal.has(id)) out.push([id + '/detail', s, () => journalDetail(e)]);
      return out;
    });
    for (const tr of $$('#journal-table tbody tr[data-id]')) tr.classList.toggle('open', openJournal.has(tr.dataset.id));

    renderPager('journal', total, entries.length);
    showEmpty('journal', entries.length === 0);
  });

  function journalRow(e, id) {
    let ok = null;
    try { const r = parseJSON(e.response); if (r && typeof r.status === 'boolean') ok = r.status; } catch (err) { /* not JSON */ }
    const fields = e.fields || {};
    const keys = Object.keys(fields).sort();
    return h('tr', {
      class: 'clickable', tabindex: '0', dataset: { id },
      onclick: () => toggle(openJournal, id, 'journal'),
      onkeydown: (ev) => { if (ev.key === 'Enter') toggle(openJournal, id, 'journal'); },
    },
    timeCell(e.time, true),
    h('td', { class: 'mono' }, e.endpoint),
    h('td', null, h('span', { class: 'msg ' + (ok === true ? 'ok' : ok === false ? 'bad' : '') }, e.message || '')),
    h('td', { class: 'num mono' }, numText(e.http_status)),
    h('td', { class: 'num mono' }, fmtMS(e.latency_ms)),
    h('td', { class: 'chips' }, keys.map((k) => h('span', { class: 'chip', title: k + '=' + fields[k] },
      h('b', null, k), '=', clip(fields[k], 28)))));
  }

  function journalDetail(e) {
    const fields = e.fields || {};
    const keys = Object.keys(fields).sort();
    return h('tr', { class: 'detail' }, h('td', { colspan: '6' },
      h('div', { class: 'detail-grid' },
        h('div', null,
          h('div', { class: 'cb-label' }, 'Request fields'),
          keys.length ? h('table', { class: 'kv' }, keys.map((k) => h('tr', null, h('th', null, k), h('td', { class: 'mono' }, fields[k]))))
            : h('p', { class: 'muted small' }, '(no parameters)'),
          h('p', { class: 'muted small' }, 'Request id ', h('span', { class: 'mono' }, e.request_id || ''), ' · ', fullTime(e.time))),
        h('div', null, h('div', { class: 'cb-label' }, 'Response'), prettyText(e.response)))));
  }

  function clip(s, n) {
    s = String(s === undefined || s === null ? '' : s);
    return s.length > n ? s.slice(0, n - 1) + '…' : s;
  }

  function toggle(set, id, view) {
    if (set.has(id)) set.delete(id); else set.add(id);
    refresh(view);
  }

  // ---------------------------------------------------------------- callbacks log
  const openCallbacks = new Set();

  defineView('callbacks', async () => {
    const q = formQuery($('#callbacks-filters'));
    q.offset = paging.callbacks;
    q.limit = PAGE;
    const data = await api('GET', '/callbacks', { query: q });
    const list = (data && data.callbacks) || [];
    const total = Number(data && data.total) || 0;
    reconcile($('#callbacks-table tbody'), list, (d) => {
      const id = numText(d.id);
      const s = sig(d);
      const out = [[id, s, () => callbackRow(d, id)]];
      if (openCallbacks.has(id)) out.push([id + '/detail', s, () => h('tr', { class: 'detail' }, h('td', { colspan: '10' }, callbackCard(d, true)))]);
      return out;
    });
    for (const tr of $$('#callbacks-table tbody tr[data-id]')) tr.classList.toggle('open', openCallbacks.has(tr.dataset.id));

    renderPager('callbacks', total, list.length);
    showEmpty('callbacks', list.length === 0);
  });

  // retryFailed queues the failed callbacks of the merchant filter in force (every
  // merchant's when none) again, then refreshes what shows them.
  async function retryFailed() {
    const btn = $('#callbacks-retry');
    btn.disabled = true;
    try {
      const merchant = formQuery($('#callbacks-filters')).merchant || '';
      const r = await api('POST', '/callbacks/retry', { form: merchant ? { merchant } : {} });
      const n = Number(r && r.retried) || 0;
      toast(n ? n + ' failed callback' + (n === 1 ? '' : 's') + ' queued again' : 'No failed callbacks to retry', n ? 'ok' : 'info');
    } catch (err) {
      report(err);
    } finally {
      btn.disabled = false;
    }
    changed(['callbacks', 'drawer']);
  }

  function callbackRow(d, id) {
    const as = d.attempt_log || [];
    const last = as[as.length - 1];
    let lastCell = h('span', { class: 'muted' }, '—');
    if (last) {
      const code = Number(last.http_status) || 0;
      lastCell = h('span', null, h('span', { class: 'http ' + (code >= 200 && code < 300 ? 'ok' : 'bad') }, code ? String(code) : 'error'),
        ' ', h('span', { class: 'muted', title: last.error || last.answer || '' }, clip(last.error || last.answer || '', 30)));
    }
    return h('tr', {
      class: 'clickable', tabindex: '0', dataset: { id },
      onclick: () => toggle(openCallbacks, id, 'callbacks'),
      onkeydown: (ev) => { if (ev.key === 'Enter') toggle(openCallbacks, id, 'callbacks'); },
    },
    timeCell(d.created_at),
    h('td', { class: 'num mono' }, id),
    h('td', null, h('span', { class: 'kind k-' + d.kind }, d.kind === 'withdrawal' ? 'payout' : 'deposit')),
    h('td', { class: 'mono' }, h('a', {
      class: 'link', href: '#', title: 'Open the order',
      onclick: (ev) => { ev.preventDefault(); ev.stopPropagation(); openDrawer({ kind: d.kind, merchant: d.merchant, order_id: d.order_id }); },
    }, d.order_id)),
    h('td', null, badge(d.state)),
    h('td', { class: 'num mono' }, numText(d.attempts)),
    h('td', null, lastCell),
    h('td', { class: 'time', title: fullTime(d.next_at) }, d.state === 'pending' && d.next_at ? fmtTime(d.next_at) : ''),
    h('td', null, d.note || ''),
    h('td', { class: 'mono ellipsis', title: d.url }, d.url));
  }

  // ---------------------------------------------------------------- balances
  // Rows are updated in place so that a live refresh never overwrites a number being typed.
  const balanceRows = new Map();

  defineView('balances', async () => {
    const q = formQuery($('#balances-filters'));
    const data = await api('GET', '/balances', { query: q });
    const list = (data && data.balances) || [];
    const body = $('#balances-table tbody');
    const keys = new Set();
    const rows = list.map((b) => {
      const key = b.merchant + '\u0000' + b.currency;
      keys.add(key);
      let r = balanceRows.get(key);
      if (!r) r = balanceRow(b);
      balanceRows.set(key, r);
      const input = r.input;
      const value = numText(b.available);
      if (document.activeElement !== input && input.value === input.dataset.orig) input.value = value;
      input.dataset.orig = value;
      r.avail.textContent = money(b.available);
      r.reserved.textContent = money(b.reserved);
      markEdited(input);
      return r.tr;
    });
    for (const k of Array.from(balanceRows.keys())) if (!keys.has(k)) balanceRows.delete(k);
    body.replaceChildren(...rows);
  });

  function balanceRow(b) {
    const input = h('input', { type: 'text', inputmode: 'decimal', class: 'mono num-input', 'aria-label': 'Available ' + b.merchant + ' ' + b.currency, spellcheck: 'false' });
    input.dataset.orig = '';
    const save = h('button', { type: 'button', class: 'small primary' }, 'Save');
    const avail = h('td', { class: 'num mono strong' });
    const reserved = h('td', { class: 'num mono' });
    const doSave = async () => {
      const val = input.value.trim().replace(/,/g, '');
      save.disabled = true;
      try {
        const nb = await api('PUT', '/balances/' + encodeURIComponent(b.merchant) + '/' + encodeURIComponent(b.currency), { form: { available: val } });
        input.dataset.orig = input.value = numText(nb.available);
        avail.textContent = money(nb.available);
        reserved.textContent = money(nb.reserved);
        toast(b.merchant + ' ' + b.currency + ' available set to ' + money(nb.available), 'ok');
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
    const tr = h('tr', null,
      h('td', null, b.merchant), h('td', null, b.currency), avail, reserved,
      h('td', { class: 'set' }, input, ' ', save));
    return { tr, input, avail, reserved, save };
  }

  function markEdited(input) {
    input.classList.toggle('edited', input.value !== input.dataset.orig);
  }

  function renderMerchants() {
    const rows = [];
    for (const m of merchants) {
      const cs = m.currencies || [];
      cs.forEach((c, i) => {
        rows.push(h('tr', null,
          i === 0 ? h('td', { rowspan: String(cs.length), class: 'strong' }, m.username) : null,
          i === 0 ? h('td', { rowspan: String(cs.length) }, (m.aliases || []).join(', ')) : null,
          i === 0 ? h('td', { rowspan: String(cs.length), class: 'mono wrap' }, m.callback_url || h('span', { class: 'muted' }, '(none: no callbacks)')) : null,
          h('td', null, c.currency),
          h('td', { class: 'num mono' }, money(c.min)), h('td', { class: 'num mono' }, money(c.max)),
          h('td', { class: 'num mono' }, numText(c.deposit_charge_percent)), h('td', { class: 'num mono' }, money(c.payout_fee))));
      });
    }
    $('#merchants-table tbody').replaceChildren(...rows);
  }

  // ---------------------------------------------------------------- scenarios
  const scen = { loaded: false, saved: '', errLine: 0 };

  async function loadScenarios() {
    const st = $('#scenarios-status');
    try {
      const data = await api('GET', '/scenarios');
      const text = (data && data.yaml) || '';
      $('#scenarios-yaml').value = text;
      scen.saved = text;
      scen.loaded = true;
      setRuleCount((data && data.rules) || []);
      st.className = 'status';
      st.textContent = '';
      st.hidden = true;
      scen.errLine = 0;
      scenDirty();
    } catch (err) {
      report(err);
    }
  }

  function setRuleCount(rules) {
    const n = rules.length;
    $('#scenarios-count').textContent = n === 0 ? 'none in force' : n + (n === 1 ? ' rule' : ' rules') + ' in force';
  }

  // The gutter numbers the lines, because the server's reasons name a line ("rules:3: …").
  function renderGutter() {
    const ta = $('#scenarios-yaml');
    const n = ta.value.split('\n').length;
    const g = $('#scenarios-gutter');
    if (g.childElementCount !== n || g.dataset.err !== String(scen.errLine)) {
      const lines = [];
      for (let i = 1; i <= n; i++) lines.push(h('div', { class: i === scen.errLine ? 'err-line' : null }, String(i)));
      g.replaceChildren(...lines);
      g.dataset.err = String(scen.errLine);
    }
    g.scrollTop = ta.scrollTop;
  }

  function goToLine(n) {
    const ta = $('#scenarios-yaml');
    const lines = ta.value.split('\n');
    const line = Math.min(Math.max(n, 1), lines.length);
    let start = 0;
    for (let i = 0; i < line - 1; i++) start += lines[i].length + 1;
    ta.focus();
    ta.setSelectionRange(start, start + lines[line - 1].length);
    const lh = parseFloat(getComputedStyle(ta).lineHeight) || 19;
    ta.scrollTop = Math.max(0, (line - 4) * lh);
    renderGutter();
  }

  function scenDirty() {
    renderGutter();
    const dirty = $('#scenarios-yaml').value !== scen.saved;
    $('#scenarios-save').classList.toggle('attention', dirty);
    $('#panel-scenarios').classList.toggle('dirty', dirty);
  }

  async function saveScenarios() {
    const st = $('#scenarios-status');
    const text = $('#scenarios-yaml').value;
    const btn = $('#scenarios-save');
    btn.disabled = true;
    try {
      const data = await api('PUT', '/scenarios', { body: text, type: 'text/yaml; charset=utf-8' });
      scen.saved = text;
      const rules = (data && data.rules) || [];
      setRuleCount(rules);
      scen.errLine = 0;
      st.hidden = false;
      st.className = 'status ok';
      st.textContent = 'Saved at ' + fmtTime(new Date().toISOString()) + ': ' +
        (rules.length === 0 ? 'no rules in force.' : rules.length + (rules.length === 1 ? ' rule' : ' rules') + ' in force, first match wins.');
    } catch (err) {
      if (err.status === 401) return;
      // "rules:3: …" (a rule that fails validation) or "[3:5] …" (YAML that does not parse).
      const m = /\brules:(\d+)/.exec(err.message) || /\[(\d+):\d+\]/.exec(err.message);
      scen.errLine = m ? Number(m[1]) : 0;
      st.hidden = false;
      st.className = 'status error';
      st.replaceChildren(
        h('div', { class: 'status-head' }, h('strong', null, 'Not saved; the previous rules stay in force.'),
          scen.errLine ? h('button', { type: 'button', class: 'small ghost', onclick: () => goToLine(scen.errLine) }, 'Go to line ' + scen.errLine) : null),
        h('div', { class: 'mono status-msg' }, err.message));
    } finally {
      btn.disabled = false;
      scenDirty();
    }
  }

  // ---------------------------------------------------------------- reset and token
  function openReset() {
    $('#reset-merchant').value = '';
    $('#reset-dialog').returnValue = '';
    $('#reset-dialog').showModal();
  }

  async function doReset() {
    const merchant = $('#reset-merchant').value;
    try {
      const r = await api('POST', '/reset', { form: merchant ? { merchant } : {} });
      toast('Reset: ' + ((r && r.reset) || 'done'), 'ok');
      closeDrawer();
      seenOrders.clear();
      ordersLoaded = false;
      openJournal.clear();
      openCallbacks.clear();
      paging.orders = paging.journal = paging.callbacks = 0;
      changed(ALL);
    } catch (err) {
      report(err);
    }
  }

  function askToken(after401) {
    const dlg = $('#token-dialog');
    if (dlg.open) return;
    $('#token-why').textContent = after401
      ? (token() ? 'The sandbox refused the stored admin token. Enter the one it runs with (--admin-token).'
        : 'The sandbox runs with --admin-token. Enter it to use the dashboard; it is kept in this browser\'s local storage.')
      : 'The admin token the sandbox runs with (--admin-token), kept in this browser\'s local storage. Leave empty when it runs without one.';
    $('#token-input').value = token();
    dlg.returnValue = '';
    dlg.showModal();
  }

  function tokenClosed() {
    const rv = $('#token-dialog').returnValue;
    if (rv !== 'save' && rv !== 'clear') return;
    try {
      if (rv === 'save' && $('#token-input').value.trim()) localStorage.setItem(TOKEN_KEY, $('#token-input').value.trim());
      else localStorage.removeItem(TOKEN_KEY);
    } catch (e) { toast('This browser does not keep the token (local storage is off).', 'error'); }
    start();
  }

  // ---------------------------------------------------------------- start
  async function start() {
    try {
      await loadMerchants();
    } catch (err) {
      report(err);
      if (err.status === 401) return; // the dialog is open; start() runs again after it
    }
    connectEvents();
    if (activeTab === 'scenarios') loadScenarios();
    changed(ALL);
  }

  function init() {
    $$('.tabs [data-tab]').forEach((b) => b.addEventListener('click', () => showTab(b.dataset.tab)));
    $('.tabs').addEventListener('keydown', (e) => {
      if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
      const i = TABS.indexOf(activeTab) + (e.key === 'ArrowRight' ? 1 : -1);
      showTab(TABS[(i + TABS.length) % TABS.length]);
      $('#tab-' + activeTab).focus();
    });
    window.addEventListener('hashchange', () => showTab(location.hash.slice(1)));
    document.addEventListener('visibilitychange', () => { if (!document.hidden) changed([]); });
    ['orders', 'journal', 'callbacks', 'balances'].forEach(wireFilters);

    $('#drawer-close').addEventListener('click', closeDrawer);
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && drawer.open && !document.querySelector('dialog[open]')) closeDrawer();
    });
    $$('#drawer-actions [data-outcome]').forEach((b) => b.addEventListener('click', () => settle(b.dataset.outcome)));
    $('#act-resend').addEventListener('click', resend);
    $('#callbacks-retry').addEventListener('click', retryFailed);

    const ta = $('#scenarios-yaml');
    ta.addEventListener('input', scenDirty);
    ta.addEventListener('scroll', () => { $('#scenarios-gutter').scrollTop = ta.scrollTop; });
    ta.addEventListener('keydown', (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key === 's') { e.preventDefault(); saveScenarios(); }
      if (e.key === 'Tab' && !e.shiftKey && !e.ctrlKey && !e.altKey) { // YAML indents with spaces
        e.preventDefault();
        ta.setRangeText('  ', ta.selectionStart, ta.selectionEnd, 'end');
        scenDirty();
      }
    });
    $('#scenarios-save').addEventListener('click', saveScenarios);
    $('#scenarios-reload').addEventListener('click', loadScenarios);
    window.addEventListener('beforeunload', (e) => {
      if (scen.loaded && ta.value !== scen.saved) e.preventDefault();
    });

    $('#reset-btn').addEventListener('click', openReset);
    $('#reset-dialog').addEventListener('close', () => { if ($('#reset-dialog').returnValue === 'reset') doReset(); });
    $('#token-btn').addEventListener('click', () => askToken(false));
    $('#token-dialog').addEventListener('close', tokenClosed);
    $('#token-input').addEventListener('keydown', (e) => { // Enter means "use it", not the first button
      if (e.key === 'Enter') { e.preventDefault(); $('#token-dialog').close('save'); }
    });

    renderLive();
    showTab(location.hash.slice(1) || 'orders');
    if (document.body.dataset.tokenRequired === 'true' && !token()) { askToken(true); return; }
    start();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
