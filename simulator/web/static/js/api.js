// The page's only way to the server: the documented HTTP API. A 401 asks
// for the API token (app.js) and the call is tried again once.

export class APIError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let loginHandler = null;

export function onUnauthorized(fn) { loginHandler = fn; }

export async function api(method, path, body, retried) {
  const init = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(path, init);
  if (resp.status === 401 && loginHandler && !retried && path !== '/api/v1/session') {
    await loginHandler();
    return api(method, path, body, true);
  }
  const text = await resp.text();
  let data = null;
  if (text && (resp.headers.get('Content-Type') || '').includes('json')) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!resp.ok) {
    throw new APIError(resp.status, (data && data.error) || text || resp.statusText);
  }
  return data === null ? text : data;
}

export const get = (p) => api('GET', p);
export const post = (p, b) => api('POST', p, b);
export const put = (p, b) => api('PUT', p, b);
export const del = (p) => api('DELETE', p);

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? '?' + s : '';
}
