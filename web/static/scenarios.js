// Scenarios view: the rules as YAML in a textarea with line numbers; Save replaces
// them, and a refusal marks the line the server names.
import { api, report } from './api.js';
import { $, h } from './dom.js';
import { plural, shortTime } from './format.js';

const scen = { loaded: false, saved: '', errLine: 0 };
const area = () => $('#scenarios-yaml');

export const scenariosLoaded = () => scen.loaded;

export async function loadScenarios() {
  try {
    const data = await api('GET', '/scenarios');
    const yaml = (data && data.yaml) || '';
    area().value = yaml;
    scen.saved = yaml;
    scen.loaded = true;
    scen.errLine = 0;
    setRuleCount((data && data.rules) || []);
    showStatus(null);
    markDirty();
  } catch (err) {
    report(err);
  }
}

const ruleCount = (rules) => (rules.length === 0 ? 'none in force' : plural(rules.length, 'rule') + ' in force');

function setRuleCount(rules) {
  $('#scenarios-count').textContent = ruleCount(rules);
}

// showStatus shows the outcome of a save: kind 'ok' or 'error' with its content, or
// nothing (null).
function showStatus(kind, ...content) {
  const st = $('#scenarios-status');
  st.hidden = !kind;
  st.className = 'status' + (kind ? ' ' + kind : '');
  st.replaceChildren(...content);
}

// The gutter numbers the lines, because the server's reasons name a line ("rules:3: …").
function renderGutter() {
  const ta = area();
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
  const ta = area();
  const lines = ta.value.split('\n');
  const line = Math.min(Math.max(n, 1), lines.length);
  const start = lines.slice(0, line - 1).reduce((at, l) => at + l.length + 1, 0);
  ta.focus();
  ta.setSelectionRange(start, start + lines[line - 1].length);
  const lh = parseFloat(getComputedStyle(ta).lineHeight) || 19;
  ta.scrollTop = Math.max(0, (line - 4) * lh);
  renderGutter();
}

function markDirty() {
  renderGutter();
  const dirty = area().value !== scen.saved;
  $('#scenarios-save').classList.toggle('attention', dirty);
  $('#panel-scenarios').classList.toggle('dirty', dirty);
}

function refused(err) {
  // "rules:3: …" (a rule that fails validation) or "[3:5] …" (YAML that does not parse).
  const m = /\brules:(\d+)/.exec(err.message) || /\[(\d+):\d+\]/.exec(err.message);
  scen.errLine = m ? Number(m[1]) : 0;
  const line = scen.errLine;
  showStatus('error',
    h('div', { class: 'status-head' }, h('strong', null, 'Not saved; the previous rules stay in force.'),
      line ? h('button', { type: 'button', class: 'small ghost', onclick: () => goToLine(line) }, 'Go to line ' + line) : null),
    h('div', { class: 'mono status-msg' }, err.message));
}

async function saveScenarios() {
  const yaml = area().value;
  const btn = $('#scenarios-save');
  btn.disabled = true;
  try {
    // An empty body is refused (a missing file must not wipe the rules); an emptied
    // editor means "no rules", so it says so explicitly.
    const body = yaml.trim() === '' ? 'rules: []\n' : yaml;
    const data = await api('PUT', '/scenarios', { body, type: 'text/yaml; charset=utf-8' });
    const rules = (data && data.rules) || [];
    scen.saved = yaml;
    scen.errLine = 0;
    setRuleCount(rules);
    showStatus('ok', 'Saved at ' + shortTime(new Date().toISOString()) + ': ' +
      (rules.length === 0 ? 'no rules in force.' : ruleCount(rules) + ', first match wins.'));
  } catch (err) {
    if (err.status !== 401) refused(err);
  } finally {
    btn.disabled = false;
    markDirty();
  }
}

export function wireScenarios() {
  const ta = area();
  ta.addEventListener('input', markDirty);
  ta.addEventListener('scroll', () => { $('#scenarios-gutter').scrollTop = ta.scrollTop; });
  ta.addEventListener('keydown', (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key === 's') { e.preventDefault(); saveScenarios(); }
    if (e.key === 'Tab' && !e.shiftKey && !e.ctrlKey && !e.altKey) { // YAML indents with spaces
      e.preventDefault();
      ta.setRangeText('  ', ta.selectionStart, ta.selectionEnd, 'end');
      markDirty();
    }
  });
  $('#scenarios-save').addEventListener('click', saveScenarios);
  $('#scenarios-reload').addEventListener('click', loadScenarios);
  window.addEventListener('beforeunload', (e) => {
    if (scen.loaded && ta.value !== scen.saved) e.preventDefault();
  });
}
