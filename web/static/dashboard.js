// QA dashboard of the Vpay88 sandbox: the entry module. Vanilla ES modules, no build
// step, no dependency:
//   format.js  amounts, times, JSON as sent (no DOM)
//   dom.js     element builder, row reconciler, toasts
//   api.js     the admin API with the token
//   events.js  views, change notices (SSE or polling), the live badge
//   lists.js   filters and pager of the paged lists
//   clock.js   the test clock in the header, and its panel
//   orders.js, drawer.js, journal.js, callbacks.js, balances.js, scenarios.js,
//   captures.js, faults.js: the views
// This module wires the tabs, the Reset and Token dialogs, and starts the page.
import { api, hooks, report, setToken, token } from './api.js';
import { loadMerchants } from './balances.js';
import { callbackRows, wireCallbacks } from './callbacks.js';
import { $, $$, toast } from './dom.js';
import { closeDrawer, drawer, wireDrawer } from './drawer.js';
import { ALL, changed, connectEvents, page, refresh, renderLive, setLive, setReachable } from './events.js';
import { journalRows } from './journal.js';
import { resetPaging, wireFilters } from './lists.js';
import { resetOrders } from './orders.js';
import { loadScenarios, scenariosLoaded, wireScenarios } from './scenarios.js';
import { wireCaptures } from './captures.js';
import { wireClock } from './clock.js';
import { wireFaults } from './faults.js';

const TABS = ['orders', 'journal', 'callbacks', 'balances', 'scenarios', 'captures', 'faults'];

function showTab(name) {
  if (!TABS.includes(name)) name = 'orders';
  // The drawer stays open over the views that link to orders.
  if (name !== page.tab && drawer.open && name !== 'orders' && name !== 'callbacks') closeDrawer();
  page.tab = name;
  for (const t of TABS) {
    $('#panel-' + t).hidden = t !== name;
    const b = $('#tab-' + t);
    b.setAttribute('aria-selected', String(t === name));
    b.tabIndex = t === name ? 0 : -1;
  }
  // On a narrow screen the tab bar scrolls sideways: bring the tab shown into it.
  $('#tab-' + name).scrollIntoView({ block: 'nearest', inline: 'nearest' });
  if (location.hash !== '#' + name) history.replaceState(null, '', '#' + name);
  if (name !== 'scenarios') refresh(name);
  else if (!scenariosLoaded()) loadScenarios();
}

function wireTabs() {
  $$('.tabs [data-tab]').forEach((b) => b.addEventListener('click', () => showTab(b.dataset.tab)));
  $('.tabs').addEventListener('keydown', (e) => {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
    const i = TABS.indexOf(page.tab) + (e.key === 'ArrowRight' ? 1 : -1);
    showTab(TABS[(i + TABS.length) % TABS.length]);
    $('#tab-' + page.tab).focus();
  });
  window.addEventListener('hashchange', () => showTab(location.hash.slice(1)));
  document.addEventListener('visibilitychange', () => { if (!document.hidden) changed([]); });
}

// ---------------------------------------------------------------- Reset…
async function doReset() {
  const merchant = $('#reset-merchant').value;
  try {
    const r = await api('POST', '/reset', { form: merchant ? { merchant } : {} });
    toast('Reset: ' + ((r && r.reset) || 'done'), 'ok');
    closeDrawer();
    resetOrders();
    journalRows.clear();
    callbackRows.clear();
    resetPaging();
    changed(ALL);
  } catch (err) {
    report(err);
  }
}

function wireReset() {
  const dlg = $('#reset-dialog');
  $('#reset-btn').addEventListener('click', () => {
    $('#reset-merchant').value = '';
    dlg.returnValue = '';
    dlg.showModal();
  });
  dlg.addEventListener('close', () => { if (dlg.returnValue === 'reset') doReset(); });
}

// ---------------------------------------------------------------- Token
function askToken(after401) {
  const dlg = $('#token-dialog');
  if (dlg.open) return;
  $('#token-why').textContent = !after401
    ? 'The admin token the sandbox runs with (--admin-token), kept in this browser\'s local storage. Leave empty when it runs without one.'
    : token() ? 'The sandbox refused the stored admin token. Enter the one it runs with (--admin-token).'
      : 'The sandbox runs with --admin-token. Enter it to use the dashboard; it is kept in this browser\'s local storage.';
  $('#token-input').value = token();
  dlg.returnValue = '';
  dlg.showModal();
}

function wireToken() {
  const dlg = $('#token-dialog');
  $('#token-btn').addEventListener('click', () => askToken(false));
  dlg.addEventListener('close', () => {
    if (dlg.returnValue !== 'save' && dlg.returnValue !== 'clear') return;
    const t = dlg.returnValue === 'save' ? $('#token-input').value.trim() : '';
    if (!setToken(t)) toast('This browser does not keep the token (local storage is off).', 'error');
    start();
  });
  $('#token-input').addEventListener('keydown', (e) => { // Enter means "use it", not the first button
    if (e.key === 'Enter') { e.preventDefault(); dlg.close('save'); }
  });
  hooks.reachable = setReachable;
  hooks.unauthorized = () => { setLive('locked'); askToken(true); };
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
  if (page.tab === 'scenarios') loadScenarios();
  changed(ALL);
}

function init() {
  wireTabs();
  ['orders', 'journal', 'callbacks', 'balances'].forEach(wireFilters);
  wireDrawer();
  wireCallbacks();
  wireScenarios();
  wireCaptures();
  wireClock();
  wireFaults();
  wireReset();
  wireToken();
  renderLive();
  showTab(location.hash.slice(1) || 'orders');
  if (document.body.dataset.tokenRequired === 'true' && !token()) askToken(true);
  else start();
}

init(); // a module runs after the document is parsed
