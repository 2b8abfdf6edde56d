// Phones: the fleet in use, and each phone at /phones/{msisdn} with its
// virtual handset, state, behaviour editor, inbox and event log.

import { h, clear, plus, time, toast, badge, outcomeBadge, loa, coalesce, linkify } from './dom.js';
import { get, put, post, del } from './api.js';
import * as live from './live.js';
import { Handset, summary } from './handset.js';
import { describe } from './trace.js';
import { composeToPhone } from './messages.js';

const answers = ['approve', 'cancel', 'ignore', 'wrong-pin', 'pin', 'busy', 'back', 'human'];
const maxRows = 500;

export function renderList(main) {
  let all = [];
  const tbody = h('tbody');
  const count = h('p', { class: 'muted' });
  const filter = h('input', { id: 'phone-filter', type: 'search', placeholder: 'number or outcome' });
  const open = h('input', { id: 'phone-open', inputmode: 'tel', placeholder: '+99901000042', required: true });
  const openForm = h('form', { class: 'search', 'aria-label': 'Open a phone' },
    h('label', { for: 'phone-open' }, 'Open any number of the plan', open),
    h('button', { type: 'submit', class: 'primary' }, 'Open'));
  openForm.addEventListener('submit', (e) => {
    e.preventDefault();
    window.simlabNavigate('/phones/' + encodeURIComponent(open.value.trim().replace(/^\+/, '').replace(/\s/g, '')));
  });
  const draw = () => {
    const q = filter.value.trim().replace(/^\+/, '').toLowerCase();
    const rows = all.filter((p) => !q || p.msisdn.includes(q) || (p.magic || '').includes(q) || summary(p.behaviour).includes(q));
    clear(tbody, rows.slice(0, maxRows).map((p) => h('tr', {},
      h('td', {}, h('a', { href: '/phones/' + p.msisdn, 'data-nav': '' }, plus(p.msisdn))),
      h('td', {}, p.magic || '–'),
      h('td', {}, summary(p.behaviour)),
      h('td', {}, p.settings.no_nfc ? 'no applet' : !p.pin.supported ? 'not supported' : p.pin.blocked ? badge('blocked', 'bad') : 'ok'),
      h('td', {}, p.settings.no_nfc || !p.pin.supported ? '–' : p.pin.tries_left),
      h('td', {}, p.settings.absent ? badge('off', 'warn') : 'on'),
      h('td', {}, p.inbox), h('td', {}, p.events))));
    if (!rows.length) tbody.append(h('tr', {}, h('td', { colspan: 8, class: 'empty' }, all.length ? 'No phone matches.' : 'No phone used yet: phones are built when first used.')));
    count.textContent = `${rows.length} of ${all.length} phone(s) in use` + (rows.length > maxRows ? `, the first ${maxRows} shown` : '');
  };
  filter.addEventListener('input', draw);
  const load = async () => { all = (await get('/api/v1/phones')).phones; draw(); };
  clear(main, h('h1', {}, 'Phones'),
    h('div', { class: 'row' }, h('label', { for: 'phone-filter' }, 'Search the phones in use', filter), h('span', { class: 'spacer' }), openForm),
    count,
    h('section', { class: 'panel', 'aria-label': 'Phones in use' }, h('table', {},
      h('thead', {}, h('tr', {}, ['Number', 'Magic', 'Answers', 'PIN', 'Tries', 'On', 'Inbox', 'Events'].map((c) => h('th', { scope: 'col' }, c)))),
      tbody)));
  load();
  // Phones appear as they are first used; the list (every phone's Info)
  // is reloaded when one is scripted or switched, or the stream
  // reconnects, not on every session nor on "lost", which under load would
  // ask for it all the time.
  const reload = coalesce(load, 1000);
  const offs = [live.on('behaviour', reload), live.on('settings', reload), live.on('reload', reload)];
  const more = h('button', { type: 'button', onclick: load }, 'Refresh');
  count.after(more);
  return () => offs.forEach((f) => f());
}

export function renderPhone(main, raw) {
  const msisdn = raw.replace(/^\+/, '').replace(/\s/g, '');
  const hs = new Handset(msisdn, () => refresh());
  const state = h('section', { class: 'panel', 'aria-labelledby': 'state-h' });
  const editor = h('section', { class: 'panel', 'aria-labelledby': 'beh-h' });
  const inbox = h('section', { class: 'panel', 'aria-labelledby': 'inbox-h' });
  const send = h('section', { class: 'panel', 'aria-labelledby': 'send-h' });
  const chal = h('section', { class: 'panel', 'aria-labelledby': 'chal-h' });
  const log = h('section', { class: 'panel', 'aria-labelledby': 'log-h' });
  const title = h('h1', {}, plus(msisdn));
  clear(main, title,
    h('div', { class: 'phone-layout' },
      h('div', {}, hs.el, h('p', { class: 'row' },
        h('button', { type: 'button', onclick: () => composeToPhone(msisdn) }, 'Send this phone an SMS'))),
      h('div', { class: 'stack', style: null }, state, editor, inbox, send, chal, log)));
  sendForm(send, msisdn);

  let info = null;
  // refresh says whether the phone could be read. A number the server
  // refuses (not an MSISDN, not in the plan) gets its error once, in place
  // of the handset and the forms, and nothing else is asked about it.
  const refresh = async () => {
    let box;
    try {
      [info, box] = await Promise.all([get('/api/v1/phones/' + msisdn), get(`/api/v1/phones/${msisdn}/inbox`)]);
    } catch (e) {
      if (!info) {
        clear(main, title, h('section', { class: 'panel' }, h('p', { class: 'bad' }, e.message),
          h('p', {}, h('a', { href: '/phones', 'data-nav': '' }, 'All phones'))));
      } else {
        clear(state, h('p', { class: 'bad' }, e.message));
      }
      return false;
    }
    title.textContent = plus(info.msisdn);
    renderState(state, info);
    if (!editor.dataset.dirty) renderEditor(editor, info, refresh);
    renderInbox(inbox, box.messages || []);
    hs.setInfo(info, box.messages || []);
    return true;
  };
  const loadLog = async () => renderLog(log, (await get(`/api/v1/phones/${msisdn}/events`)).events || []);
  const loadChal = async () => renderChallenges(chal, (await get('/api/v1/challenges?limit=20&msisdn=' + msisdn)).challenges);
  const loadAll = () => { hs.loadPrompts(); loadChal(); };
  refresh().then((ok) => { if (ok) { loadAll(); loadLog(); } });

  const soon = coalesce(() => refresh().then((ok) => ok && loadLog()), 300);
  const known = (f) => (...a) => { if (info) f(...a); };
  const offs = [
    live.on('phone', (e) => { if (e && e.msisdn === msisdn) soon(); }),
    live.on('human', known((p) => { if (p.msisdn === msisdn) hs.show(p); })),
    live.on('human_done', known((p) => { if (p.msisdn === msisdn) hs.done(p); })),
    live.on('challenge', known((c) => { if (c.msisdn === msisdn) loadChal(); })),
    live.on('reload', known(() => { soon(); loadAll(); })),
    live.on('lost', known(() => { soon(); loadAll(); })),
  ];
  return () => { offs.forEach((f) => f()); hs.stop(); };
}

function renderState(el, p) {
  const pin = p.settings.no_nfc ? 'no authenticator applet on this SIM' : !p.pin.supported ? 'not supported (OK only)' :
    p.pin.blocked ? 'blocked' : `${p.pin.tries_left} of 3 tries left`;
  clear(el, h('h2', { id: 'state-h' }, 'State'),
    h('dl', { class: 'kv' },
      h('dt', {}, 'Switched on'), h('dd', {}, p.settings.absent ? badge('no: absent subscriber', 'warn') : 'yes'),
      h('dt', {}, 'Magic outcome'), h('dd', {}, p.magic || 'none (an ordinary fleet number)'),
      h('dt', {}, 'ICCID'), h('dd', { class: 'mono' }, p.iccid),
      h('dt', {}, 'IMSI'), h('dd', { class: 'mono' }, p.imsi),
      h('dt', {}, 'Applet'), h('dd', {}, p.settings.no_nfc ? 'none' : 'authenticator' + (p.settings.no_pin_support ? ', OK only' : ', OK and PIN')),
      h('dt', {}, 'PIN'), h('dd', {}, pin),
      h('dt', {}, 'Answers'), h('dd', {}, summary(p.behaviour) + (p.scripted ? ' (set over the API)' : ' (the number\'s default; keywords apply)')),
      h('dt', {}, 'Public key (upk)'), h('dd', { class: 'mono' }, p.public_key || '–'),
      p.settings.delivery_error ? [h('dt', {}, 'Deliveries'), h('dd', {}, 'fail (magic number)')] : null,
      p.settings.sim_error ? [h('dt', {}, 'SIM'), h('dd', {}, 'fails every download (magic number)')] : null));
}

function stepRow(s, label, onRemove) {
  const ans = h('select', { 'aria-label': label + ' answer', name: 'answer' }, answers.map((a) => h('option', { value: a, selected: s.answer === a ? 'selected' : null }, a)));
  const pin = h('input', { 'aria-label': label + ' PIN to type', name: 'pin', value: s.pin || '', inputmode: 'numeric', size: 6, placeholder: 'PIN' });
  const delay = h('input', { 'aria-label': label + ' delay', name: 'delay', value: s.delay || '', size: 6, placeholder: '0s' });
  const sync = () => { pin.disabled = ans.value !== 'pin' && ans.value !== 'approve'; delay.disabled = ans.value === 'human'; };
  ans.addEventListener('change', sync);
  sync();
  return h('div', { class: 'row step' }, h('span', { class: 'muted' }, label), ans, pin, delay,
    onRemove ? h('button', { type: 'button', 'aria-label': 'Remove ' + label.toLowerCase(), onclick: onRemove }, '✕') : null);
}

function readStep(row) {
  const v = (n) => row.querySelector(`[name=${n}]`);
  const s = { answer: v('answer').value };
  if (!v('pin').disabled && v('pin').value) s.pin = v('pin').value.trim();
  if (!v('delay').disabled && v('delay').value) s.delay = v('delay').value.trim();
  return s;
}

function renderEditor(el, p, done) {
  const b = p.behaviour || {};
  const steps = h('div', { class: 'stack' });
  const addStep = (s) => {
    const r = stepRow(s, 'Step', () => { r.remove(); renumber(); });
    steps.append(r);
    renumber();
  };
  const renumber = () => [...steps.children].forEach((r, i) => {
    const label = `Step ${i + 1}`;
    r.querySelector('span').textContent = label;
    r.querySelector('[name=answer]').setAttribute('aria-label', label + ' answer');
    r.querySelector('[name=pin]').setAttribute('aria-label', label + ' PIN to type');
    r.querySelector('[name=delay]').setAttribute('aria-label', label + ' delay');
  });
  const then = stepRow(b.then || { answer: 'approve' }, 'Then');
  const openURLs = h('input', { type: 'checkbox', checked: !!b.open_urls });
  const cardPIN = h('input', { id: 'card-pin', inputmode: 'numeric', maxlength: 5, size: 6, placeholder: 'unchanged' });
  const noPIN = h('input', { type: 'checkbox', checked: p.settings.no_pin_support });
  const noNFC = h('input', { type: 'checkbox', checked: p.settings.no_nfc });
  const absent = h('input', { type: 'checkbox', checked: p.settings.absent });
  const err = h('p', { class: 'bad', role: 'alert' });
  const form = h('form', { class: 'stack', 'aria-labelledby': 'beh-h' },
    h('p', { class: 'muted' }, 'Each step answers one prompt, in order; then the last answer for every later prompt. "human": a person answers on this page.'),
    steps,
    h('div', {}, h('button', { type: 'button', onclick: () => addStep({ answer: 'approve' }) }, 'Add step')),
    then,
    h('label', { class: 'check' }, openURLs, 'Opens links received by SMS'),
    h('h3', {}, 'Card and phone'),
    h('div', { class: 'row' },
      h('label', { for: 'card-pin' }, 'Applet PIN (5 digits; rebuilds the card)', cardPIN),
      h('label', { class: 'check' }, noPIN, 'No PIN support'),
      h('label', { class: 'check' }, noNFC, 'No authenticator applet'),
      h('label', { class: 'check' }, absent, 'Switched off')),
    err,
    h('div', { class: 'row' },
      h('button', { type: 'submit', class: 'primary' }, 'Save behaviour'),
      h('button', { type: 'button', class: 'danger', onclick: async () => {
        await del('/api/v1/phones/' + p.msisdn);
        delete el.dataset.dirty;
        toast('Phone reset to what its number defines');
        done();
      } }, 'Reset phone')));
  for (const s of b.steps || []) addStep(s);
  form.addEventListener('input', () => { el.dataset.dirty = '1'; });
  form.addEventListener('change', () => { el.dataset.dirty = '1'; });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    const body = { behaviour: { steps: [...steps.children].map(readStep), then: readStep(then), open_urls: openURLs.checked } };
    if (cardPIN.value) body.pin = cardPIN.value.trim();
    if (noPIN.checked !== p.settings.no_pin_support) body.no_pin_support = noPIN.checked;
    if (noNFC.checked !== p.settings.no_nfc) body.no_nfc = noNFC.checked;
    if (absent.checked !== p.settings.absent) body.absent = absent.checked;
    try {
      await put('/api/v1/phones/' + p.msisdn, body);
    } catch (ex) {
      err.textContent = ex.message;
      return;
    }
    delete el.dataset.dirty;
    toast('Behaviour saved');
    done();
  });
  clear(el, h('h2', { id: 'beh-h' }, 'Behaviour'), form);
}

// partsNote says how many SMS a concatenated text came in, or which parts
// never arrived (the phone joins the parts; the API's parts and missing).
export function partsNote(m) {
  if (m.missing && m.missing.length) return ` · incomplete: part ${m.missing.join(', ')} of ${m.parts} missing`;
  return m.parts > 1 ? ` · ${m.parts} SMS` : '';
}

function renderInbox(el, msgs) {
  clear(el, h('h2', { id: 'inbox-h' }, `Inbox (${msgs.length})`),
    msgs.length ? h('ul', { class: 'stack', style: null }, msgs.slice().reverse().map((m) => h('li', {},
      h('div', { class: 'muted' }, `${time(m.received)} from ${m.from}${m.url ? (m.opened ? ' · link opened' : ' · link not opened') : ''}${partsNote(m)}`),
      h('div', { class: 'bubble' }, linkify(m.text))))) : h('p', { class: 'muted' }, 'No text SMS received.'));
}

function sendForm(el, msisdn) {
  const to = h('input', { id: 'send-to', required: true, placeholder: '12345' });
  const text = h('input', { id: 'send-text', required: true, size: 30 });
  const form = h('form', { class: 'search' },
    h('label', { for: 'send-to' }, 'To (an ESME\'s address)', to),
    h('label', { for: 'send-text' }, 'Text', text),
    h('button', { type: 'submit', class: 'primary' }, 'Send from this phone'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const r = await post(`/api/v1/phones/${msisdn}/sms`, { to: to.value, text: text.value });
    toast(`Sent (${r.ids.length} SMS)`);
    text.value = '';
  });
  clear(el, h('h2', { id: 'send-h' }, 'Send an SMS from this phone'), form);
}

function renderChallenges(el, list) {
  clear(el, h('h2', { id: 'chal-h' }, 'Challenges'),
    list.length ? h('table', {}, h('thead', {}, h('tr', {}, ['Time', 'LoA asked', 'Achieved', 'Outcome', 'Latency'].map((c) => h('th', {}, c)))),
      h('tbody', {}, list.map((c) => h('tr', {},
        h('td', {}, h('a', { href: `/challenges?msisdn=${c.msisdn}&seq=${c.first_seq}`, 'data-nav': '' }, time(c.start))),
        h('td', {}, loa(c.loa_asked)), h('td', {}, loa(c.loa_achieved)), h('td', {}, outcomeBadge(c.outcome)),
        h('td', {}, c.latency_ms.toFixed(1) + ' ms'))))) : h('p', { class: 'muted' }, 'No challenge yet.'));
}

function renderLog(el, events) {
  const rows = events.slice().reverse().map((e) => {
    const tr = h('tr', {}, h('td', { class: 'mono' }, time(e.time)), h('td', {}, e.kind), h('td', {}, e.detail));
    if (!e.apdus || !e.apdus.length) return tr;
    return [tr, h('tr', {}, h('td', {}), h('td', { colspan: 2 }, traceView(e.apdus)))];
  });
  clear(el, h('h2', { id: 'log-h' }, 'Event log'),
    events.length ? h('table', { class: 'log' }, h('thead', {}, h('tr', {}, h('th', {}, 'Time'), h('th', {}, 'Kind'), h('th', {}, 'Detail'))), h('tbody', {}, rows))
      : h('p', { class: 'muted' }, 'Nothing happened to this phone yet.'));
}

// traceView shows an APDU trace, decoded, folded by default.
export function traceView(apdus) {
  return h('details', {}, h('summary', {}, `APDU trace (${apdus.length} exchanges)`),
    h('table', { class: 'trace' }, h('tbody', {}, apdus.map((a) => [
      h('tr', {}, h('td', { class: 'dir' }, '>'), h('td', {}, describe(a)), h('td', { class: 'mono' }, a.c)),
      h('tr', {}, h('td', { class: 'dir' }, '<'), h('td', { class: 'muted' }, a.status || ''), h('td', { class: 'mono' }, a.r)),
    ]))));
}
