// Formatting: amounts, times, durations and JSON, as plain strings. No DOM here.

// text is a value as the API wrote it ('' for none).
export const text = (v) => (v === undefined || v === null ? '' : String(v));

// amount shows an exact decimal string ("1000000.0000") grouped for reading
// ("1,000,000.0000"). The admin API writes amounts as strings, so nothing here parses a
// number: every digit shown is a digit booked. Fewer than two decimals are padded
// ("300" → "300.00"); more are kept, never rounded.
export function amount(v) {
  const s = text(v);
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(s);
  if (!m) return s;
  return m[1] + m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ',') + '.' + (m[3] || '').padEnd(2, '0');
}

export function clip(v, n) {
  const s = text(v);
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

const pad = (n, w) => String(n).padStart(w || 2, '0');
const day = (d) => d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate());
const clock = (d, ms) => pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()) +
  (ms ? '.' + pad(d.getMilliseconds(), 3) : '');

function date(iso) {
  const d = iso ? new Date(iso) : null;
  return d && !isNaN(d.getTime()) ? d : null;
}

// now is the sandbox clock's time (ms) once clock.js has said how to read it
// (useClock), the browser's until then: "today" and "in 5 s" are the sandbox's, so
// after the clock moves by days the lists show which day each row is from.
let now = () => Date.now();

export function useClock(fn) { now = fn; }

// today names the sandbox's current day; a row drawn on another day is drawn again.
export const today = () => new Date(now()).toDateString();

// shortTime is the clock time of the instants of the sandbox's today, and the date and
// time of any other day's.
export function shortTime(iso, ms) {
  const d = date(iso);
  if (!d) return text(iso);
  return d.toDateString() === today() ? clock(d, ms) : day(d) + ' ' + clock(d, ms);
}

export function fullTime(iso) {
  const d = date(iso);
  return d ? day(d) + ' ' + clock(d, true) : text(iso);
}

// relTime says how far an instant is from the sandbox's now ("in 5 s", "3 min ago").
export function relTime(iso) {
  const d = date(iso);
  if (!d) return '';
  const s = Math.round((d.getTime() - now()) / 1000);
  const a = Math.abs(s);
  const txt = a < 60 ? a + ' s' : a < 3600 ? Math.round(a / 60) + ' min' : Math.round(a / 3600) + ' h';
  return s >= 0 ? 'in ' + txt : txt + ' ago';
}

// localTime is an instant (ms) as a date and a time to the minute, "2026-12-01 09:31",
// or to the second.
export function localTime(ms, seconds) {
  const d = new Date(ms);
  if (isNaN(d.getTime())) return '';
  return day(d) + ' ' + pad(d.getHours()) + ':' + pad(d.getMinutes()) + (seconds ? ':' + pad(d.getSeconds()) : '');
}

const UNITS = [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]];

// span says how long a number of seconds is, without a sign, in its largest unit and
// the next one (rounded to it) when that is not zero: "1d 2h", "31m", "1m 30s", "0s".
export function span(seconds) {
  const s = Math.round(Math.abs(Number(seconds) || 0));
  for (let i = 0; i < UNITS.length - 1; i++) {
    const [[u, n], [v, m]] = [UNITS[i], UNITS[i + 1]];
    const r = Math.round(s / m) * m;
    if (r >= n) return Math.floor(r / n) + u + (r % n ? ' ' + (r % n) / m + v : '');
  }
  return s + 's';
}

export function millis(v) {
  const n = Number(v);
  if (v === undefined || v === null || !isFinite(n)) return '';
  return n < 10 ? n.toFixed(2) + ' ms' : n < 1000 ? n.toFixed(1) + ' ms' : (n / 1000).toFixed(2) + ' s';
}

export const plural = (n, one, many) => n + ' ' + (n === 1 ? one : many || one + 's');

// ---------------------------------------------------------------- JSON, as sent
// The admin API writes its own amounts as strings, but the documents it relays (the
// body of a callback, as the gateway sent it) keep the vendor's numbers: "amount":
// 300.0000, which JSON.parse makes 300. So those are read and shown from their text.
const TOKEN = /\s+|"(?:[^"\\]|\\.)*"|[{}[\],:]|[^\s{}[\],:"]+/y;

// lex splits JSON text into tokens {t, at} (whitespace dropped), or null when the text
// is not JSON.
function lex(src) {
  try { JSON.parse(src); } catch (e) { return null; } // below, the syntax is known good
  const out = [];
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(src); m; m = TOKEN.exec(src)) if (!/^\s/.test(m[0])) out.push({ t: m[0], at: m.index });
  return out;
}

// readJSON is JSON.parse, except that an object or array under a key in raw (a Set)
// stays its source text, to be shown as sent.
export function readJSON(src, raw) {
  const toks = lex(src);
  if (!toks) throw new SyntaxError('not JSON');
  let i = 0;
  const end = () => toks[i - 1].at + toks[i - 1].t.length;
  const put = (o, k, v) => Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  function value() {
    const { t } = toks[i++];
    if (t !== '{' && t !== '[') return JSON.parse(t);
    const out = t === '{' ? {} : [];
    while (toks[i].t !== '}' && toks[i].t !== ']') {
      if (t === '[') {
        out.push(value());
      } else {
        const k = JSON.parse(toks[i].t);
        i += 2; // the key and its colon
        const from = toks[i].at;
        const v = value();
        put(out, k, raw.has(k) && typeof v === 'object' && v !== null ? src.slice(from, end()) : v);
      }
      if (toks[i].t === ',') i++;
    }
    i++;
    return out;
  }
  return value();
}

function tokenClass(t, next) {
  if (t[0] === '"') return next === ':' ? 'j-key' : 'j-str';
  return /^[-\d]/.test(t) ? 'j-num' : 'j-lit';
}

// prettyJSON re-indents JSON text token by token, without parsing its values, so every
// literal shows as sent. It returns [text, class] pieces, or null when the text is not
// JSON.
export function prettyJSON(src) {
  const toks = typeof src === 'string' ? lex(src) : null;
  if (!toks) return null;
  const out = [];
  let depth = 0;
  const newline = () => out.push(['\n' + '  '.repeat(depth)]);
  toks.forEach(({ t }, i) => {
    const prev = i > 0 ? toks[i - 1].t : '';
    const next = i + 1 < toks.length ? toks[i + 1].t : '';
    if (t === '{' || t === '[') {
      out.push([t]);
      if (next !== '}' && next !== ']') { depth++; newline(); }
    } else if (t === '}' || t === ']') {
      if (prev !== '{' && prev !== '[') { depth--; newline(); }
      out.push([t]);
    } else if (t === ',') {
      out.push([t]);
      newline();
    } else {
      out.push(t === ':' ? [': '] : [t, tokenClass(t, next)]);
    }
  });
  return out;
}
