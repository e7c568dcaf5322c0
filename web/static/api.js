// The admin API: one fetch with the admin token, errors as ApiError. Amounts arrive as
// exact decimal strings ("300.0000"); the documents it relays as the gateway sent them
// (a callback's body, an attempt's request body) arrive as their JSON text.
import { toast } from './dom.js';
import { readJSON } from './format.js';

export const API = '/sandbox/api';
const TOKEN_KEY = 'vpay88-sandbox.admin-token';
const RELAYED = new Set(['body', 'request_body']);

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// hooks let the page follow the connection: reachable(ok) after every request,
// unauthorized() on a 401 (the token dialog opens).
export const hooks = { reachable() {}, unauthorized() {} };

export function token() {
  try { return localStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; }
}

// setToken keeps the token in local storage (an empty one forgets it); false when the
// browser does not keep it.
export function setToken(t) {
  try {
    if (t) localStorage.setItem(TOKEN_KEY, t);
    else localStorage.removeItem(TOKEN_KEY);
    return true;
  } catch (e) { return false; }
}

function url(path, query) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {})) if (v !== '' && v !== undefined && v !== null) q.set(k, v);
  const s = q.toString();
  return API + path + (s ? '?' + s : '');
}

// api sends one request. opts: query (object), form (object, sent urlencoded) or body
// with type.
export async function api(method, path, opts = {}) {
  const headers = { Accept: 'application/json' };
  if (token()) headers.Authorization = 'Bearer ' + token();
  let body;
  if (opts.form) body = new URLSearchParams(opts.form);
  else if (opts.body !== undefined) { body = opts.body; headers['Content-Type'] = opts.type; }
  let res;
  try {
    res = await fetch(url(path, opts.query), { method, headers, body, cache: 'no-store', credentials: 'same-origin' });
  } catch (e) {
    hooks.reachable(false);
    throw new ApiError(0, 'The sandbox does not answer (' + e.message + ')');
  }
  hooks.reachable(true);
  const txt = await res.text();
  let data = null;
  try { data = txt ? readJSON(txt, RELAYED) : null; } catch (e) { /* not JSON */ }
  if (res.status === 401) {
    hooks.unauthorized();
    throw new ApiError(401, (data && data.error) || 'admin token required');
  }
  if (!res.ok) throw new ApiError(res.status, (data && (data.error || data.message)) || res.status + ' ' + res.statusText);
  return data;
}

// report shows a failed request, except those the page already shows: a 401 (the token
// dialog) and an unreachable sandbox (the live badge). Anything else is a bug of the
// page: it goes to the console too, where the browser tests look.
export function report(err) {
  if (!(err instanceof ApiError)) console.error(err);
  if (!err || err.status === 401 || err.status === 0) return;
  toast(err.message || String(err), 'error');
}
