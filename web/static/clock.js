// The sandbox's test clock: the header shows the sandbox's time whenever it is not
// real time (moved or frozen), and the Clock panel moves it: advance by a step or a
// duration, freeze, resume, run the next due event. A move answers once everything
// that came due has run; the "clock" change notice, and the answer itself, update the
// page.
import { api, report } from './api.js';
import { $, $$ } from './dom.js';
import { affects, changed, defineView } from './events.js';
import { localTime, plural, span, today, useClock } from './format.js';

// clk.view is the last answer of GET or POST /clock, clk.at when it arrived: while the
// sandbox's clock runs, the page's own moves it on from there.
const clk = { view: null, at: 0, busy: false };

defineView('clock', async () => showClock(await api('GET', '/clock')), () => true);

const elapsed = () => Date.now() - clk.at;

// sandboxNow is the sandbox's time now (ms) as the page knows it; real time before
// the first answer.
export function sandboxNow() {
  const v = clk.view;
  if (!v) return Date.now();
  return Date.parse(v.now) + (v.frozen ? 0 : elapsed());
}

useClock(sandboxNow);

// realNow is the server's real time now (ms), not this browser's: the two machines'
// clocks may differ.
const realNow = () => (clk.view ? Date.parse(clk.view.real) + elapsed() : Date.now());

// offsetNow is the sandbox's time minus real time, in seconds.
const offsetNow = () => (sandboxNow() - realNow()) / 1000;

const signed = (s) => (s < 0 ? '−' : '+') + span(s);

// sandboxRel says how far an instant is from the sandbox's now: "in 14m", "3m ago".
export function sandboxRel(iso) {
  const s = (Date.parse(iso) - sandboxNow()) / 1000;
  if (!isFinite(s)) return '';
  return s >= 0 ? 'in ' + span(s) : span(s) + ' ago';
}

export function showClock(v) {
  if (!v || !v.now) return;
  const day = today();
  clk.view = v;
  clk.at = Date.now();
  renderClock();
  // The lists show a date on the rows of any other day than the sandbox's today: a new
  // day redraws them (their signatures carry the day).
  if (today() !== day) changed(['orders', 'journal', 'callbacks', 'captures', 'faults']);
}

function setText(sel, s) {
  const el = $(sel);
  if (el.textContent !== s) el.textContent = s;
}

// renderClock runs every second: the minute shown, and a frozen clock's distance from
// real time, move on.
function renderClock() {
  const v = clk.view;
  if (!v) return;
  const off = offsetNow();
  const shifted = Math.abs(off) >= 1;
  const note = [shifted ? signed(off) : '', v.frozen ? 'frozen' : ''].filter(Boolean).join(', ');
  const moved = shifted || v.frozen;
  $('#clock-now').hidden = !moved;
  $('#clock-idle').hidden = moved;
  $('#clock-btn').classList.toggle('moved', moved);
  setText('#clock-time', localTime(sandboxNow()));
  setText('#clock-note', note ? '(' + note + ')' : '');
  $('#clock-btn').title = 'The sandbox\'s test clock: sandbox ' + new Date(sandboxNow()).toISOString() + ', real ' + new Date(realNow()).toISOString();
  renderPanel(v, off);
}

function renderPanel(v, off) {
  setText('#clock-state', v.frozen ? 'frozen' : 'running');
  $('#clock-state').className = 'badge ' + (v.frozen ? 's-pending' : 's-completed');
  setText('#clock-sandbox', localTime(sandboxNow(), true));
  setText('#clock-real', localTime(realNow(), true));
  setText('#clock-offset', Math.abs(off) >= 1 ? signed(off) : 'none');
  setText('#clock-next', v.next_due ? localTime(Date.parse(v.next_due)) + ' (' + sandboxRel(v.next_due) + ')' : 'nothing scheduled');
  setText('#clock-freeze', v.frozen ? 'Resume' : 'Freeze');
  $('#clock-run-next').disabled = clk.busy || !v.next_due;
}

// say shows the outcome of a move in the panel: kind 'ok' or 'error', or nothing.
function say(kind, msg) {
  const el = $('#clock-msg');
  el.hidden = !kind;
  el.className = 'clock-msg' + (kind ? ' ' + kind : '');
  el.textContent = msg || '';
}

function setBusy(busy) {
  clk.busy = busy;
  $$('#clock-panel button').forEach((b) => { b.disabled = busy; });
  if (!busy) renderClock();
}

// move posts fields to /clock; what says what the move was ("Advanced +1h").
async function move(fields, what) {
  if (clk.busy) return;
  setBusy(true);
  try {
    let v = await api('POST', '/clock', { form: fields });
    // A long move answers 202 with a job (a payout backlog): follow it to its end.
    if (v && v.poll) v = await followJob(v, what);
    showClock(v);
    // ran counts what the move itself ran; the sandbox's scheduler may run some too.
    say('ok', what + (v.ran ? ': ' + plural(v.ran, 'due event') + ' ran.' : '.'));
    changed(affects('clock'));
  } catch (err) {
    if (err.status === 400 || err.status === 409 || err.status === 429 || err.status === 503) say('error', err.message);
    else report(err);
  } finally {
    setBusy(false);
  }
}

// followJob polls a clock job until it ends, showing its progress, and returns the
// clock as the move's answer would have (ran: the job's stops).
async function followJob(j, what) {
  while (j.state === 'queued' || j.state === 'running') {
    say('ok', what + ': ' + j.state + ', ' + plural(j.timers_run, 'due event') + ' run so far…');
    await new Promise((r) => setTimeout(r, 500));
    j = await api('GET', '/clock/jobs/' + encodeURIComponent(j.id));
  }
  if (j.state !== 'done') throw Object.assign(new Error(j.error || 'the move stopped'), { status: 503 });
  const v = await api('GET', '/clock');
  v.ran = j.stops;
  return v;
}

const advance = (d) => move({ advance: d }, 'Advanced +' + d);

function runNext() {
  const v = clk.view;
  if (!v || !v.next_due) return;
  const due = Date.parse(v.next_due) > sandboxNow();
  move(due ? { set: v.next_due } : { advance: '0s' }, 'Moved to the next due event');
}

function toggleFreeze() {
  const frozen = !!(clk.view && clk.view.frozen);
  move({ freeze: String(!frozen) }, frozen ? 'Resumed' : 'Frozen');
}

function openPanel(open) {
  $('#clock-panel').hidden = !open;
  $('#clock-btn').setAttribute('aria-expanded', String(open));
  if (open) renderClock();
}

export function wireClock() {
  const panel = $('#clock-panel');
  $('#clock-btn').addEventListener('click', () => openPanel(panel.hidden));
  $('#clock-steps').addEventListener('click', (e) => {
    const b = e.target.closest('button[data-advance]');
    if (b) advance(b.dataset.advance);
  });
  $('#clock-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const d = $('#clock-advance').value.trim();
    if (d) advance(d);
  });
  $('#clock-freeze').addEventListener('click', toggleFreeze);
  $('#clock-run-next').addEventListener('click', runNext);
  panel.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { openPanel(false); $('#clock-btn').focus(); }
  });
  document.addEventListener('click', (e) => {
    if (!panel.hidden && !$('#clock').contains(e.target)) openPanel(false);
  });
  setInterval(renderClock, 1000);
}
