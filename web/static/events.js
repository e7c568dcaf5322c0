// What is on screen and when it reloads: views, change notices (server-sent events,
// or polling without them) and the live badge.
import { API, report, token } from './api.js';
import { $ } from './dom.js';

const POLL_MS = 2000;
const DEBOUNCE_MS = 150;

// page.tab is the tab shown; a view of a tab loads only while it is shown.
export const page = { tab: 'orders' };

// What each change notice can make stale. Reset announces itself as "order", and it
// clears the journal too. The clock follows orders and callbacks for its next due event.
const AFFECTS = {
  order: ['orders', 'drawer', 'callbacks', 'balances', 'journal', 'clock'],
  callback: ['callbacks', 'drawer', 'clock'],
  journal: ['journal'],
  capture: ['captures'],
  // A move of the test clock runs whatever came due (settlements, expiries, callback
  // attempts) and may end a maintenance window.
  clock: ['clock', 'orders', 'drawer', 'callbacks', 'balances', 'journal', 'faults'],
  faults: ['faults'],
  // A merchant made or deleted at run time: the merchant filters and the merchants
  // table, and its opening balances. A deleted one's orders go with it, which the
  // server announces as "order" too.
  merchant: ['merchants', 'balances'],
};
export const ALL = ['orders', 'journal', 'callbacks', 'balances', 'drawer', 'clock', 'faults', 'merchants'];

// affects lists the views a change notice of type can make stale.
export const affects = (type) => AFFECTS[type] || ALL;

// A view is something on screen that can be reloaded. Change notices mark views dirty;
// a short debounce coalesces a burst of notices into one fetch per view, and a view
// never has two fetches in flight.
const views = {};

export function defineView(name, load, shown) {
  views[name] = { load, shown: shown || (() => page.tab === name), busy: null, again: false };
}

export function refresh(name) {
  const v = views[name];
  if (!v || !v.shown()) return Promise.resolve();
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

// again asks a view to load once more after the fetch in flight (a page that emptied).
export function again(name) { views[name].again = true; }

const pending = new Set();
let debounceTimer = null;

export function changed(names) {
  names.forEach((n) => pending.add(n));
  if (debounceTimer || document.hidden) return; // a background tab catches up when shown
  debounceTimer = setTimeout(() => {
    debounceTimer = null;
    const list = Array.from(pending);
    pending.clear();
    list.forEach(refresh);
  }, DEBOUNCE_MS);
}

// ---------------------------------------------------------------- the live badge
const live = { es: null, poll: null, retry: null, reachable: true, mode: 'connecting' };

const BADGE = {
  live: ['Live', 'Server-sent events from /sandbox/api/events: the page updates as soon as anything changes.'],
  polling: ['Polling every 2 s', 'The event stream is unavailable; the page reloads what is on screen every 2 seconds.'],
  offline: ['Sandbox unreachable', 'The last request failed; retrying.'],
  connecting: ['Connecting…', 'Opening the event stream…'],
  locked: ['Admin token needed', 'The sandbox runs with --admin-token: press Token and enter it.'],
};

export function setLive(mode) {
  live.mode = mode;
  renderLive();
}

export function setReachable(ok) {
  if (live.reachable === ok) return;
  live.reachable = ok;
  renderLive();
}

export function renderLive() {
  const el = $('#live');
  const mode = live.reachable ? live.mode : 'offline';
  const [label, title] = BADGE[mode] || [mode, ''];
  el.dataset.mode = mode;
  el.textContent = label;
  el.title = title;
}

// ---------------------------------------------------------------- the event stream
export function connectEvents() {
  if (live.es) { live.es.close(); live.es = null; }
  clearTimeout(live.retry);
  if (!window.EventSource) { startPolling(); return; }
  // EventSource cannot send headers; the sandbox takes the token as ?token= here only.
  const es = new EventSource(API + '/events' + (token() ? '?token=' + encodeURIComponent(token()) : ''));
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
    changed(affects(type));
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
  live.poll = setInterval(() => changed(['orders', 'journal', 'callbacks', 'drawer', 'clock', 'faults', 'merchants']), POLL_MS);
}

function stopPolling() {
  clearInterval(live.poll);
  live.poll = null;
}
