// Challenges: the SIM sessions the phones saw, live, newest first; each
// one's flow step by step (SMS in, ENVELOPE, prompts, answer, SEND SHORT
// MESSAGE, the messages and their receipts).

import { h, clear, plus, addr, time, outcomeBadge, loa, coalesce } from './dom.js';
import { get, query } from './api.js';
import * as live from './live.js';
import { traceView } from './phones.js';

export function render(main) {
  const params = new URLSearchParams(location.search);
  let sel = { msisdn: params.get('msisdn') || '', seq: Number(params.get('seq') || 0) };
  const tbody = h('tbody');
  const flow = h('section', { class: 'panel', 'aria-label': 'Challenge flow' });
  const filter = h('input', { id: 'chal-filter', inputmode: 'tel', placeholder: '+999…', value: sel.msisdn ? plus(sel.msisdn) : '' });
  let list = [];
  let refused = '';
  const load = async () => {
    const n = filter.value.trim().replace(/^\+/, '');
    try {
      list = (await get('/api/v1/challenges' + query({ msisdn: n, limit: 200 }))).challenges;
      refused = '';
    } catch (e) {
      // A filter the server refuses (not a number): said once, in the table.
      list = [];
      refused = e.message;
    }
    draw();
  };
  const draw = () => {
    if (refused) {
      clear(tbody, h('tr', {}, h('td', { colspan: 6, class: 'empty' }, h('span', { class: 'bad' }, refused))));
      return;
    }
    clear(tbody, list.length ? list.map((c) => {
      const on = c.msisdn === sel.msisdn && c.first_seq === sel.seq;
      return h('tr', { class: on ? 'selected' : '' },
        h('td', { class: 'mono' }, h('a', { href: `/challenges?msisdn=${c.msisdn}&seq=${c.first_seq}`, 'aria-current': on ? 'true' : null,
          onclick: (e) => { e.preventDefault(); choose(c); } }, time(c.start))),
        h('td', {}, h('a', { href: '/phones/' + c.msisdn, 'data-nav': '' }, plus(c.msisdn))),
        h('td', {}, loa(c.loa_asked)), h('td', {}, loa(c.loa_achieved)),
        h('td', {}, outcomeBadge(c.outcome)), h('td', {}, c.latency_ms.toFixed(1) + ' ms'));
    }) : h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'No challenge yet: push one (simlab push --to +99900000001 --loa 3).')));
  };
  const choose = (c) => {
    sel = { msisdn: c.msisdn, seq: c.first_seq };
    history.replaceState(null, '', `/challenges?msisdn=${c.msisdn}&seq=${c.first_seq}`);
    draw();
    showFlow(flow, c);
  };
  const form = h('form', { class: 'search', role: 'search' }, h('label', { for: 'chal-filter' }, 'Number', filter),
    h('button', { type: 'submit', class: 'primary' }, 'Filter'));
  form.addEventListener('submit', (e) => { e.preventDefault(); load(); });
  clear(main, h('h1', {}, 'Challenges'),
    h('p', { class: 'muted' }, 'Each SMS-PP download a phone received, as the phone saw it: latency from the download reaching the phone to its answer leaving it.'),
    form,
    h('div', { class: 'grid2' },
      h('section', { class: 'panel', 'aria-label': 'Challenge list' }, h('table', {},
        h('thead', {}, h('tr', {}, ['Time', 'Number', 'LoA asked', 'Achieved', 'Outcome', 'Latency'].map((c) => h('th', { scope: 'col' }, c)))), tbody)),
      flow));
  clear(flow, h('p', { class: 'empty' }, 'Choose a challenge to see its flow.'));
  load().then(() => {
    const c = list.find((x) => x.msisdn === sel.msisdn && x.first_seq === sel.seq);
    if (c) showFlow(flow, c);
  });
  const soon = coalesce(load, 300);
  const offs = [live.on('challenge', soon), live.on('reload', soon), live.on('lost', soon)];
  return () => offs.forEach((f) => f());
}

const stepNames = {
  sms_in: 'SMS in', prompt: 'Prompt', answer: 'Answer', sms_out: 'SEND SHORT MESSAGE', session_end: 'Proactive session ended',
  session: 'Session', error: 'Error', delivery: 'Delivery', url: 'Link',
};

async function showFlow(el, c) {
  clear(el, h('p', { class: 'muted' }, 'Loading…'));
  const [ev, msgs] = await Promise.all([
    get(`/api/v1/phones/${c.msisdn}/events`),
    get('/api/v1/messages' + query({ number: c.msisdn, limit: 50 })),
  ]);
  const steps = [];
  for (const e of ev.events || []) {
    if (e.seq < c.first_seq) continue;
    steps.push(e);
    if (e.kind === 'session') break;
  }
  const start = new Date(c.start).getTime();
  const end = start + c.latency_ms + 60000;
  const related = msgs.messages.filter((m) => {
    const t = new Date(m.submit_time).getTime();
    return t >= start - 30000 && t <= end;
  }).reverse();
  const items = [];
  for (const m of related) {
    items.push({ t: m.submit_time, label: m.direction === 'MT' ? 'Challenge SMS from the service' : 'Answer SMS to the service',
      detail: [`${addr(m.source)} → ${addr(m.dest)}, `, m.sim_download ? 'SIM data download' : m.text === null || m.text === undefined ? `binary, ${(m.body_hex || '').length / 2} bytes` : m.text, ' · ', outcomeBadge(m.state),
        m.registered_delivery & 3 ? ` (receipt ${m.state === 'ENROUTE' ? 'pending' : m.state})` : '',
        ' · ', h('a', { href: '/messages/' + m.id, 'data-nav': '' }, 'message ' + m.id)] });
  }
  for (const e of steps) {
    items.push({ t: e.time, label: stepNames[e.kind] || e.kind, detail: [e.detail, e.apdus ? traceView(e.apdus) : null] });
  }
  items.sort((a, b) => new Date(a.t) - new Date(b.t));
  clear(el, h('h2', {}, `${plus(c.msisdn)}: `, outcomeBadge(c.outcome)),
    h('dl', { class: 'kv' },
      h('dt', {}, 'LoA asked / achieved'), h('dd', {}, `${loa(c.loa_asked)} / ${loa(c.loa_achieved)}`),
      h('dt', {}, 'Latency at the phone'), h('dd', {}, c.latency_ms.toFixed(1) + ' ms')),
    h('h3', {}, 'Flow'),
    h('ol', { class: 'steps' }, items.map((s) => h('li', {}, h('span', { class: 'mono muted' }, time(s.t)), ' ', h('strong', {}, s.label), ': ', s.detail))));
}
