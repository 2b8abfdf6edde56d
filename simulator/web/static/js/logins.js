// Logins: the Mobile Connect gateway's logins, live, newest first
// (GET /api/v1/mc/logins, the event stream's "login" topic): client, number,
// acr asked and achieved, status, latency; one login's steps (number page,
// request, phone asked, answered, code, tokens, error) with its PCR, and
// links to its challenge, its phone and the challenge SMS; the id_token
// handed to the client, decoded (its signature and a claims table). Never a
// secret: the API shows no token, code or client secret.

import { h, clear, plus, time, dateTime, badge, coalesce } from './dom.js';
import { get, query, APIError } from './api.js';
import * as live from './live.js';

const statusKind = { redeemed: 'ok', authenticated: 'ok', failed: 'bad', waiting: 'warn', number_page: 'warn' };
const statusName = { redeemed: 'tokens issued', authenticated: 'authenticated', failed: 'failed', waiting: 'waiting for the phone', number_page: 'number page' };
const stepNames = {
  number_page: 'Number page shown (no login_hint)', request: 'Request', asked: 'Phone asked', answered: 'Phone answered',
  code: 'Authenticated', token: 'Tokens issued', error: 'Error',
};

export function render(main) {
  const params = new URLSearchParams(location.search);
  let sel = params.get('id') || '';
  const tbody = h('tbody');
  const detail = h('section', { class: 'panel', 'aria-label': 'Login' });
  const filter = h('input', { id: 'login-filter', inputmode: 'tel', placeholder: '+999…' });
  const older = h('button', { type: 'button', hidden: true }, 'Older');
  const newer = h('button', { type: 'button', hidden: true }, 'Newest');
  let list = [];
  let before = 0; // the page shown: 0 is the newest
  let next = 0;
  let off = false;
  const load = async () => {
    const n = filter.value.trim().replace(/^\+/, '');
    let page;
    try {
      page = await get('/api/v1/mc/logins' + query({ msisdn: n, before: before || '', limit: 50 }));
    } catch (e) {
      if (e instanceof APIError && e.status === 404) { gatewayOff(); return; }
      throw e;
    }
    list = page.logins;
    next = page.before || 0;
    draw();
  };
  const gatewayOff = () => {
    off = true;
    clear(main, h('h1', {}, 'Mobile Connect logins'),
      h('section', { class: 'panel' }, h('p', {}, 'The Mobile Connect gateway does not run on this server.'),
        h('p', { class: 'muted' }, 'simlab serve runs it unless mobile_connect.disabled is set; it needs the SMPP listener.')));
  };
  const draw = () => {
    older.hidden = !next;
    newer.hidden = !before;
    clear(tbody, list.length ? list.map((l) => {
      const on = l.id === sel;
      return h('tr', { class: on ? 'selected' : '', 'data-id': l.id },
        h('td', { class: 'mono' }, h('a', { href: '/logins?id=' + l.id, 'aria-current': on ? 'true' : null,
          onclick: (e) => { e.preventDefault(); choose(l); } }, time(l.start))),
        h('td', {}, l.client_name || l.client_id),
        h('td', {}, l.msisdn ? h('a', { href: '/phones/' + l.msisdn, 'data-nav': '' }, plus(l.msisdn)) : '–'),
        h('td', {}, l.acr_asked || '–'), h('td', {}, l.acr || '–'),
        h('td', {}, badge(statusName[l.status] || l.status, statusKind[l.status] || 'warn'), l.error ? ' ' + l.error : ''),
        h('td', {}, l.latency_ms ? l.latency_ms.toFixed(0) + ' ms' : '–'));
    }) : h('tr', {}, h('td', { colspan: 7, class: 'empty' }, 'No login yet: run one (simlab mc login --to +99901000123 --acr "3 2").')));
    const l = list.find((x) => x.id === sel);
    if (l) showLogin(detail, l);
  };
  const choose = (l) => {
    sel = l.id;
    history.replaceState(null, '', '/logins?id=' + l.id);
    draw();
  };
  const form = h('form', { class: 'search', role: 'search' }, h('label', { for: 'login-filter' }, 'Number', filter),
    h('button', { type: 'submit', class: 'primary' }, 'Filter'));
  form.addEventListener('submit', (e) => { e.preventDefault(); before = 0; load(); });
  older.addEventListener('click', () => { before = next; load(); });
  newer.addEventListener('click', () => { before = 0; load(); });
  clear(main, h('h1', {}, 'Mobile Connect logins'),
    h('p', { class: 'muted' }, 'Each login through the gateway, as it happens: from the relying party\'s request to the phone\'s answer and the tokens. Latency is from the request to its outcome.'),
    form,
    h('div', { class: 'grid2' },
      h('section', { class: 'panel', 'aria-label': 'Login list' }, h('table', { id: 'login-list' },
        h('thead', {}, h('tr', {}, ['Time', 'Client', 'Number', 'acr asked', 'Achieved', 'Status', 'Latency'].map((c) => h('th', { scope: 'col' }, c)))), tbody),
      h('div', { class: 'pager' }, newer, older)),
      detail));
  clear(detail, h('p', { class: 'empty' }, 'Choose a login to see its steps.'));
  load();
  // Live: a step of any login reloads the page shown (the newest only:
  // an older page stays as it is).
  const soon = coalesce(() => { if (!off && !before) load(); }, 300);
  const offs = [live.on('login', soon), live.on('reload', soon), live.on('lost', soon)];
  return () => offs.forEach((f) => f());
}

function showLogin(el, l) {
  const links = [];
  if (l.challenge) links.push(h('a', { href: `/challenges?msisdn=${l.challenge.msisdn}&seq=${l.challenge.first_seq}`, 'data-nav': '' }, 'Its challenge'));
  if (l.msisdn) links.push(h('a', { href: '/phones/' + l.msisdn, 'data-nav': '' }, 'The phone ' + plus(l.msisdn)));
  if (l.message_id) links.push(h('a', { href: '/messages/' + l.message_id, 'data-nav': '' }, 'The challenge SMS'));
  const kv = [
    ['Status', badge(statusName[l.status] || l.status, statusKind[l.status] || 'warn')],
    ['Flow', { redirect: 'redirect (authorize)', si: 'Server-Initiated', ciba: 'CIBA' }[l.flow] || l.flow],
    ['Client', l.client_name ? `${l.client_name} (${l.client_id})` : l.client_id],
    ['Number', l.msisdn ? plus(l.msisdn) : '–'],
    ['login_hint', l.login_hint_method || '–'],
    ['acr asked / achieved', `${l.acr_asked || '–'} / ${l.acr || '–'}`],
    ['amr', (l.amr || []).join(' ') || '–'],
    ['PCR (sub)', l.pcr ? h('span', { class: 'mono' }, l.pcr) : '–'],
    ['Latency', l.latency_ms ? l.latency_ms.toFixed(1) + ' ms' : '–'],
  ];
  if (l.error) kv.push(['Error', h('span', { class: 'bad' }, l.error + (l.error_description ? ': ' + l.error_description : ''))]);
  clear(el, h('h2', { id: 'login-title' }, `Login ${l.id}`),
    h('dl', { class: 'kv' }, kv.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    links.length ? h('p', { class: 'row' }, links) : null,
    h('h3', {}, 'Steps'),
    h('ol', { class: 'steps', 'aria-label': 'Steps' }, (l.steps || []).map((s) => h('li', {},
      h('span', { class: 'mono muted' }, time(s.time)), ' ', h('strong', {}, stepNames[s.step] || s.step),
      ` +${s.elapsed_ms.toFixed(1)} ms`,
      s.outcome ? [' · ', s.outcome] : null,
      s.error ? [' · ', h('span', { class: 'bad' }, s.error)] : null))),
    idToken(l));
}

// The claims an id_token's table lists, in order; times are Unix seconds.
const claimOrder = ['iss', 'aud', 'azp', 'sub', 'acr', 'amr', 'nonce', 'auth_time', 'iat', 'exp', 'jti', 'at_hash',
  'hashed_login_hint', 'displayed_data', 'dts', 'dts_time', 'upk', 'recipient'];
const timeClaims = new Set(['auth_time', 'iat', 'exp', 'dts_time']);

// signature says how the id_token was signed, from its JOSE header.
function signature(t) {
  if (t.alg === 'none') return h('span', { class: 'bad' }, 'unsigned (alg none)');
  const s = `signed ${t.alg} by kid ${t.kid || '–'}`;
  return t.published ? s : h('span', { class: 'bad' }, s + ', a key not in the JWKS');
}

function claimValue(k, v) {
  if (timeClaims.has(k) && typeof v === 'number') {
    return [dateTime(v * 1000), ' ', h('span', { class: 'muted mono' }, String(v))];
  }
  if (Array.isArray(v)) return v.join(' ');
  if (v && typeof v === 'object') return h('span', { class: 'mono' }, JSON.stringify(v));
  return h('span', { class: k === 'acr' ? '' : 'mono' }, String(v));
}

// idToken is the last id_token handed to the login's client, decoded: its
// signature and its claims.
function idToken(l) {
  const st = (l.steps || []).filter((s) => s.id_token).pop();
  if (!st) return null;
  const t = st.id_token;
  const c = t.claims || {};
  const rows = claimOrder.filter((k) => c[k] !== undefined && c[k] !== '').map((k) => h('tr', { 'data-claim': k },
    h('th', { scope: 'row', class: 'mono' }, k), h('td', {}, claimValue(k, c[k]))));
  return [h('h3', {}, 'id_token'),
    h('dl', { class: 'kv' }, h('dt', {}, 'Signature'), h('dd', { id: 'id-token-signature' }, signature(t)),
      t.faults && t.faults.length ? [h('dt', {}, 'Faults'), h('dd', { class: 'bad' }, t.faults.join(' '))] : null),
    h('table', { id: 'id-token-claims', 'aria-label': 'id_token claims' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Claim'), h('th', { scope: 'col' }, 'Value'))),
      h('tbody', {}, rows))];
}
