// simlab's page: routes, the navigation, the colour theme, and the login
// asked once when the server has an API token. Each view is a module with
// render(main, params) returning a function that stops it.

import { h, clear, toast } from './dom.js';
import { api, onUnauthorized, APIError } from './api.js';
import * as live from './live.js';
import * as messages from './messages.js';
import * as phones from './phones.js';
import * as challenges from './challenges.js';
import * as overview from './overview.js';
import * as logins from './logins.js';

const routes = [
  [/^\/(?:messages)?$/, (m) => messages.render(m, {})],
  [/^\/messages\/([^/]+)$/, (m, p) => messages.render(m, { id: decodeURIComponent(p[1]) })],
  [/^\/phones$/, (m) => phones.renderList(m)],
  [/^\/phones\/([^/]+)$/, (m, p) => phones.renderPhone(m, decodeURIComponent(p[1]))],
  [/^\/challenges$/, (m) => challenges.render(m)],
  [/^\/overview$/, (m) => overview.render(m)],
  [/^\/logins$/, (m) => logins.render(m)],
];

const main = document.getElementById('main');
let stop = null;
let current = '';

let view = ''; // the top-level view shown: messages, phones, …

function route() {
  const path = location.pathname;
  if (path === current) return;
  current = path;
  const top = path.split('/')[1] || 'messages';
  for (const a of document.querySelectorAll('nav a[data-nav]')) {
    if (a.getAttribute('href') === '/' + top) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  // Within Messages, choosing a message keeps the list as it is.
  const mm = /^\/messages(?:\/([^/]+))?$/.exec(path);
  if (view === 'messages' && (mm || path === '/') && stop) {
    messages.select(mm && mm[1] ? decodeURIComponent(mm[1]) : '');
    return;
  }
  if (stop) { stop(); stop = null; }
  view = top;
  clear(main);
  for (const [re, render] of routes) {
    const m = re.exec(path);
    if (m) {
      stop = render(main, m) || null;
      main.focus({ preventScroll: true });
      return;
    }
  }
  clear(main, h('h1', {}, 'Not found'), h('p', {}, 'No view at ', h('code', {}, path), '. ', h('a', { href: '/messages', 'data-nav': '' }, 'Messages')));
}

// navigate goes to path inside the page, without a reload.
export function navigate(path, replace) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  route();
}
window.simlabNavigate = navigate;

document.addEventListener('click', (e) => {
  const a = e.target.closest && e.target.closest('a[data-nav]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(a.getAttribute('href'));
});
window.addEventListener('popstate', route);

// Theme: automatic (the system's), light or dark, kept in this browser.
const themes = ['auto', 'light', 'dark'];
const themeNames = { auto: 'automatic', light: 'light', dark: 'dark' };
function applyTheme(t) {
  if (t === 'auto') document.documentElement.removeAttribute('data-theme');
  else document.documentElement.setAttribute('data-theme', t);
  const b = document.getElementById('theme');
  b.setAttribute('aria-label', 'Colour theme: ' + themeNames[t]);
  b.title = 'Colour theme: ' + themeNames[t];
  b.textContent = t === 'auto' ? '◐' : t === 'light' ? '☀' : '☾';
}
let theme = localStorage.getItem('simlab-theme') || 'auto';
applyTheme(theme);
document.getElementById('theme').addEventListener('click', () => {
  theme = themes[(themes.indexOf(theme) + 1) % themes.length];
  localStorage.setItem('simlab-theme', theme);
  applyTheme(theme);
});

// Login: the API token, asked once; the server keeps a session cookie.
let loginPromise = null;
function login() {
  if (loginPromise) return loginPromise;
  loginPromise = new Promise((resolve) => {
    const saved = [...main.childNodes];
    const err = h('p', { class: 'bad', role: 'alert' });
    const input = h('input', { id: 'token', type: 'password', autocomplete: 'current-password', required: true });
    const form = h('form', { class: 'panel stack login', 'aria-labelledby': 'login-title' },
      h('h1', { id: 'login-title' }, 'simlab needs its API token'),
      h('p', { class: 'muted' }, 'This server was started with an API token. Type it once; this browser then keeps a session cookie for 12 hours (it holds no copy of the token).'),
      h('label', { for: 'token' }, 'API token', input),
      err,
      h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, 'Log in')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      try {
        await api('POST', '/api/v1/session', { token: input.value });
      } catch (ex) {
        err.textContent = ex instanceof APIError && ex.status === 401 ? 'That is not the API token.'
          : ex instanceof APIError && ex.status === 429 ? 'Too many wrong tokens: wait a while, then try again.' : String(ex.message || ex);
        input.select();
        return;
      }
      clear(main, ...saved);
      document.getElementById('logout').hidden = false;
      loginPromise = null;
      live.restart();
      resolve();
    });
    clear(main, form);
    input.focus();
  });
  return loginPromise;
}
onUnauthorized(login);

document.getElementById('logout').addEventListener('click', async () => {
  await api('DELETE', '/api/v1/session');
  location.reload();
});

window.addEventListener('unhandledrejection', (e) => {
  const r = e.reason;
  if (r instanceof APIError) { toast(r.message, true); e.preventDefault(); }
});

async function boot() {
  try {
    const st = await api('GET', '/api/v1/session');
    if (st.token_required && !st.authenticated) await login();
    else if (st.token_required) document.getElementById('logout').hidden = false;
  } catch (e) {
    toast('The server does not answer: ' + e.message, true);
  }
  live.start(document.getElementById('live'));
  route();
}
boot();
