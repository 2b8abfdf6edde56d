// Messages: every SMS the SMSC saw, live, searched on the server (the
// capture API pages through any number of messages), one message decoded.

import { h, clear, plus, addr, time, dateTime, toast, copyButton, findOTP, findLinks, linkify, outcomeBadge, coalesce } from './dom.js';
import { get, post, del, query } from './api.js';
import * as live from './live.js';

const pageSize = 50;
const states = ['ENROUTE', 'DELIVERED', 'EXPIRED', 'DELETED', 'UNDELIVERABLE', 'ACCEPTED', 'UNKNOWN', 'REJECTED', 'SCHEDULED'];
const fields = ['number', 'text', 'direction', 'status', 'account', 'namespace'];

let st = null; // the view's state while it is shown

export function render(main, { id }) {
  const params = new URLSearchParams(location.search);
  st = { cursor: '', history: [], selected: id || '', filter: {}, tbody: null, detail: null, pager: null, form: null, gen: 0 };
  for (const f of fields) st.filter[f] = params.get(f) || '';

  const input = (name, label, attrs) => h('label', {}, label, h('input', { name, value: st.filter[name], ...attrs }));
  const choice = (name, label, opts) => h('label', {}, label, h('select', { name },
    h('option', { value: '' }, 'any'), opts.map((o) => h('option', { value: o, selected: st.filter[name] === o ? 'selected' : null }, o))));
  st.form = h('form', { class: 'search', role: 'search', 'aria-label': 'Search messages' },
    input('number', 'Number', { inputmode: 'tel', placeholder: '+999…' }),
    input('text', 'Text', { type: 'search' }),
    choice('direction', 'Direction', ['MT', 'MO']),
    choice('status', 'Status', states),
    input('account', 'Account'),
    input('namespace', 'Namespace'),
    h('button', { type: 'submit', class: 'primary' }, 'Search'),
    h('button', { type: 'reset' }, 'Reset'));
  st.form.addEventListener('submit', (e) => { e.preventDefault(); search(); });
  st.form.addEventListener('reset', () => setTimeout(search, 0));

  st.tbody = h('tbody');
  st.pager = h('div', { class: 'pager' });
  st.detail = h('section', { class: 'panel', 'aria-label': 'Message', id: 'message-detail' });
  clear(main,
    h('div', { class: 'row' },
      h('h1', {}, 'Messages'),
      h('span', { class: 'spacer' }),
      h('button', { type: 'button', onclick: () => composeToPhone() }, 'New SMS to a phone'),
      h('button', { type: 'button', onclick: () => composeFromPhone() }, 'SMS from a phone'),
      h('button', { type: 'button', class: 'danger', onclick: clearAll }, 'Clear all')),
    st.form,
    h('div', { class: 'grid2' },
      h('section', { class: 'panel', 'aria-label': 'Message list' },
        h('table', { id: 'message-list' },
          h('thead', {}, h('tr', {}, ['Time', 'Dir', 'From', 'To', 'Text', 'State'].map((c) => h('th', { scope: 'col' }, c)))),
          st.tbody),
        st.pager),
      st.detail));
  load();
  select(st.selected);
  const refresh = coalesce(() => { if (st && !st.cursor) load(); }, 250);
  const offs = [live.on('message', refresh), live.on('state', refresh), live.on('deleted', refresh), live.on('reload', refresh), live.on('lost', refresh)];
  return () => { offs.forEach((f) => f()); st = null; };
}

function search() {
  const fd = new FormData(st.form);
  for (const f of fields) st.filter[f] = (fd.get(f) || '').trim();
  const q = query(st.filter);
  history.replaceState(null, '', location.pathname + q);
  st.cursor = '';
  st.history = [];
  load();
}

async function load() {
  const gen = ++st.gen;
  const f = st.filter;
  const q = query({ number: f.number.replace(/^\+/, ''), text: f.text, direction: f.direction, status: f.status,
    account: f.account, namespace: f.namespace, limit: pageSize, cursor: st.cursor });
  const res = await get('/api/v1/messages' + q);
  if (!st || gen !== st.gen) return;
  const old = new Set([...st.tbody.querySelectorAll('tr[data-id]')].map((r) => r.dataset.id));
  // A live refresh rebuilds the rows: keep the keyboard's place (the link
  // focused in a row) on the same message's new row.
  const focused = st.tbody.contains(document.activeElement) ? document.activeElement : null;
  const focusRow = focused && focused.closest('tr[data-id]');
  const focusAt = focusRow ? [...focusRow.querySelectorAll('a')].indexOf(focused) : -1;
  clear(st.tbody, res.messages.length ? res.messages.map((m) => row(m, old.size > 0 && !old.has(m.id))) :
    h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'No message matches.')));
  if (focusRow && focusAt >= 0) {
    const again = [...st.tbody.querySelectorAll('tr[data-id]')].find((r) => r.dataset.id === focusRow.dataset.id);
    const link = again && again.querySelectorAll('a')[focusAt];
    if (link) link.focus();
  }
  clear(st.pager,
    h('button', { type: 'button', disabled: !st.cursor, onclick: () => { st.cursor = ''; st.history = []; load(); } }, 'Newest'),
    h('button', { type: 'button', disabled: st.history.length === 0, onclick: () => { st.cursor = st.history.pop() || ''; load(); } }, 'Newer'),
    h('button', { type: 'button', disabled: !res.next_cursor, onclick: () => { st.history.push(st.cursor); st.cursor = res.next_cursor; load(); } }, 'Older'),
    h('span', { class: 'muted' }, `${res.messages.length} shown` + (st.cursor ? '' : ' · newest first, live')));
}

function messageText(m) {
  if (m.sim_download) return 'SIM data download' + (m.ota ? '' : ` (${(m.body_hex || '').length / 2} bytes)`);
  if (m.full_text !== undefined && m.full_text !== null) return m.full_text;
  if (m.text !== undefined && m.text !== null) return m.text;
  return `binary, ${(m.body_hex || '').length / 2} bytes`;
}

function row(m, fresh) {
  const link = (content) => h('a', { class: 'rowlink', href: '/messages/' + encodeURIComponent(m.id), 'data-nav': '',
    'aria-current': m.id === st.selected ? 'true' : null }, content);
  return h('tr', { 'data-id': m.id, class: (m.id === st.selected ? 'selected ' : '') + (fresh ? 'fresh' : '') },
    h('td', { class: 'mono' }, link(time(m.submit_time))),
    h('td', {}, m.direction),
    h('td', {}, addr(m.source)),
    h('td', {}, addr(m.dest)),
    h('td', { class: 'text' }, link(messageText(m))),
    h('td', {}, outcomeBadge(m.state)));
}

// select shows message id (or nothing) in the detail panel.
export async function select(id) {
  if (!st) return;
  st.selected = id;
  for (const r of st.tbody.querySelectorAll('tr[data-id]')) {
    const on = r.dataset.id === id;
    r.classList.toggle('selected', on);
    const a = r.querySelector('a');
    if (a) { if (on) a.setAttribute('aria-current', 'true'); else a.removeAttribute('aria-current'); }
  }
  if (!id) {
    clear(st.detail, h('p', { class: 'empty' }, 'Choose a message to see it decoded.'));
    return;
  }
  clear(st.detail, h('p', { class: 'muted' }, 'Loading…'));
  let m;
  try {
    m = await get('/api/v1/messages/' + encodeURIComponent(id));
  } catch (e) {
    clear(st.detail, h('p', { class: 'bad' }, e.message));
    return;
  }
  if (!st || st.selected !== id) return;
  clear(st.detail, ...detail(m));
}

function detail(m) {
  const text = messageText(m);
  const isText = !m.sim_download && (m.text !== null && m.text !== undefined);
  const otp = isText ? findOTP(text) : '';
  const links = isText ? findLinks(text) : [];
  const kv = (pairs) => h('dl', { class: 'kv' }, pairs.filter((p) => p[1] !== undefined && p[1] !== '' && p[1] !== null)
    .map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
  const out = [
    h('div', { class: 'row' },
      h('h2', { id: 'message-title' }, `${m.direction} ${addr(m.source)} → ${addr(m.dest)}`),
      h('span', { class: 'spacer' }),
      h('button', { type: 'button', class: 'danger', onclick: () => remove(m.id) }, 'Delete')),
    h('div', { class: 'bubble', 'aria-label': 'Text' }, isText ? linkify(text) : text),
  ];
  if (otp || links.length) {
    out.push(h('h3', {}, 'Found in it'));
    if (otp) out.push(h('div', { class: 'found' }, 'Code ', h('code', { id: 'otp' }, otp), copyButton(otp, 'Copy code ' + otp)));
    for (const l of links) out.push(h('div', { class: 'found' }, 'Link ', h('code', {}, l), copyButton(l, 'Copy link')));
  }
  out.push(h('h3', {}, 'Delivery'));
  const rd = m.registered_delivery || 0;
  out.push(kv([
    ['State', outcomeBadge(m.state)],
    ['Submitted', dateTime(m.submit_time)],
    ['Final', m.done_time ? dateTime(m.done_time) : 'not yet'],
    ['Attempts', m.attempts || 0],
    ['Network error', m.error_code ? '0x' + m.error_code.toString(16).padStart(3, '0') : ''],
    ['Receipt', rd & 3 ? `asked (${(rd & 3) === 2 ? 'failure only' : 'final state'}): stat ${receiptStat(m.state)} err ${String(m.error_code || 0).padStart(3, '0')}` : 'not asked'],
    ['Account', m.account], ['Namespace', m.namespace || '(none)'],
  ]));
  out.push(h('h3', {}, 'Coding'));
  out.push(kv([
    ['Alphabet', m.alphabet], ['DCS', hex2(m.dcs)], ['PID', hex2(m.pid)], ['ESM class', hex2(m.esm_class)],
    ['Source', `${addr(m.source)} (TON ${m.source.ton}, NPI ${m.source.npi})`],
    ['Destination', `${addr(m.dest)} (TON ${m.dest.ton}, NPI ${m.dest.npi})`],
    ['Concatenated', m.concat ? `part ${m.concat.seq} of ${m.concat.total}, reference ${m.concat.ref}${m.concat.wide ? ' (16-bit)' : ''}` : ''],
  ]));
  if (m.parts && m.parts.length) {
    out.push(h('h3', {}, 'Parts'));
    out.push(h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, 'Id'), h('th', {}, 'Text'))),
      h('tbody', {}, m.parts.map((p) => h('tr', {}, h('td', {}, p.seq),
        h('td', {}, h('a', { href: '/messages/' + encodeURIComponent(p.id), 'data-nav': '' }, p.id)), h('td', {}, p.text || ''))))));
  }
  if (m.udh && m.udh.length) {
    out.push(h('h3', {}, 'User data header'));
    out.push(h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'IEI'), h('th', {}, 'Element'), h('th', {}, 'Data'))),
      h('tbody', {}, m.udh.map((e) => h('tr', {}, h('td', { class: 'mono' }, hex2(e.iei)), h('td', {}, e.name), h('td', { class: 'mono' }, e.data_hex))))));
  }
  if (m.ota) {
    const o = m.ota;
    out.push(h('h3', {}, `OTA ${o.kind} packet header (TS 102 225)`));
    out.push(kv([
      ['TAR', o.tar], ['SPI', o.spi], ['KIc', o.kic], ['KID', o.kid],
      ['Ciphered', o.kind === 'command' ? (o.ciphered ? 'yes: counter and data are not readable' : 'no') : ''],
      ['CPL / CHL', o.cpl ? `${o.cpl} / ${o.chl}` : ''], ['RPL / RHL', o.rpl ? `${o.rpl} / ${o.rhl}` : ''],
      ['Counter', o.counter], ['PCNTR', o.pcntr], ['Status', o.status], ['Problem', o.error],
    ]));
  }
  if (m.tpdu_hex && m.tpdu_hex.length) {
    out.push(h('h3', {}, 'SMS-DELIVER TPDU' + (m.tpdu_hex.length > 1 ? 's' : '')));
    for (const t of m.tpdu_hex) out.push(h('pre', {}, t), copyButton(t, 'Copy TPDU'));
  }
  out.push(h('h3', {}, 'User data'));
  if (m.udh_hex) out.push(h('div', { class: 'muted' }, 'UDH'), h('pre', {}, m.udh_hex));
  out.push(h('div', { class: 'muted' }, 'Body'), h('pre', {}, m.body_hex || '(empty)'));
  return out;
}

const hex2 = (v) => (v === undefined || v === null ? '' : Number(v).toString(16).toUpperCase().padStart(2, '0'));
const receiptStat = (s) => ({ DELIVERED: 'DELIVRD', UNDELIVERABLE: 'UNDELIV', ACCEPTED: 'ACCEPTD', REJECTED: 'REJECTD', SCHEDULED: 'SCHEDLD' })[s] || s;

async function remove(id) {
  await del('/api/v1/messages/' + encodeURIComponent(id));
  toast('Message deleted');
  window.simlabNavigate('/messages' + location.search);
}

async function clearAll() {
  if (!confirm('Delete every message the SMSC holds?')) return;
  const r = await del('/api/v1/messages');
  toast(`${r.deleted} message(s) deleted`);
  window.simlabNavigate('/messages');
}

// dialog builds a modal form; submit gets the form's values.
export function dialog(title, fieldsSpec, submitLabel, submit) {
  const err = h('p', { class: 'bad', role: 'alert' });
  const form = h('form', { method: 'dialog', class: 'stack' },
    h('h2', { id: 'dlg-title' }, title),
    fieldsSpec.map((f) => h('label', {}, f.label, f.textarea
      ? h('textarea', { name: f.name, required: f.required, value: f.value || '' })
      : h('input', { name: f.name, required: f.required, value: f.value || '', inputmode: f.inputmode, placeholder: f.placeholder }))),
    err,
    h('div', { class: 'row' },
      h('button', { type: 'submit', class: 'primary' }, submitLabel),
      h('button', { type: 'button', onclick: () => dlg.close() }, 'Cancel')));
  const dlg = h('dialog', { 'aria-labelledby': 'dlg-title' }, form);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = Object.fromEntries(new FormData(form));
    try {
      await submit(v);
      dlg.close();
    } catch (ex) {
      err.textContent = ex.message;
    }
  });
  dlg.addEventListener('close', () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  return dlg;
}

export function composeToPhone(to) {
  dialog('New SMS to a phone', [
    { name: 'from', label: 'From (digits or a name)', value: 'simlab' },
    { name: 'to', label: 'To (the phone)', required: true, inputmode: 'tel', value: to ? plus(to) : '', placeholder: '+99901000042' },
    { name: 'text', label: 'Text', required: true, textarea: true },
  ], 'Send', async (v) => {
    const r = await post('/api/v1/messages', { from: v.from, to: v.to, text: v.text });
    toast(`Sent (${r.ids.length} SMS)`);
  });
}

export function composeFromPhone(from) {
  dialog('SMS from a phone', [
    { name: 'phone', label: 'Phone', required: true, inputmode: 'tel', value: from ? plus(from) : '', placeholder: '+99901000042' },
    { name: 'to', label: 'To (an ESME\'s address or short code)', required: true, placeholder: '12345' },
    { name: 'text', label: 'Text', required: true, textarea: true },
  ], 'Send', async (v) => {
    const n = v.phone.trim().replace(/^\+/, '');
    const r = await post(`/api/v1/phones/${encodeURIComponent(n)}/sms`, { to: v.to, text: v.text });
    toast(`Sent (${r.ids.length} SMS)`);
  });
}

