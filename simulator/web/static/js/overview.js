// Overview: the SMSC and the fleet in figures, read from /metrics itself
// (Prometheus text format) every two seconds, so the page shows exactly
// what a Prometheus scrape gets: binds by account, submit and delivery
// rates, queue depths, challenge outcomes, and every other series.

import { h, clear } from './dom.js';
import { api } from './api.js';

// parse reads the Prometheus text exposition format (0.0.4): families with
// their TYPE and HELP, samples with labels.
export function parse(text) {
  const types = new Map();
  const help = new Map();
  const samples = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    if (line.startsWith('#')) {
      const m = /^#\s+(TYPE|HELP)\s+(\S+)\s*(.*)$/.exec(line);
      if (m && m[1] === 'TYPE') types.set(m[2], m[3].trim());
      if (m && m[1] === 'HELP') help.set(m[2], m[3]);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    if (m[3]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
      let l;
      while ((l = re.exec(m[3]))) labels[l[1]] = l[2].replace(/\\n/g, '\n').replace(/\\(.)/g, '$1');
    }
    samples.push({ name: m[1], labels, value: Number(m[4]) });
  }
  const family = (name) => {
    for (const suf of ['', '_total', '_count', '_sum', '_bucket', '_created']) {
      if (suf && name.endsWith(suf) && types.has(name.slice(0, -suf.length))) return name.slice(0, -suf.length);
    }
    return name;
  };
  for (const s of samples) {
    s.family = family(s.name);
    s.type = types.get(s.family) || 'untyped';
    s.help = help.get(s.family) || '';
  }
  return samples;
}

const key = (s) => s.name + JSON.stringify(s.labels);
const labelText = (l) => Object.entries(l).map(([k, v]) => `${k}="${v}"`).join(', ');
const isCounter = (s) => s.type === 'counter' || /_total$/.test(s.name) || (s.type === 'histogram' && /_count$/.test(s.name));

export function render(main) {
  const cards = h('div', { class: 'cards' });
  const rates = h('section', { class: 'panel', 'aria-labelledby': 'ov-rates' });
  const binds = h('section', { class: 'panel', 'aria-labelledby': 'ov-binds' });
  const queues = h('section', { class: 'panel', 'aria-labelledby': 'ov-queues' });
  const outcomes = h('section', { class: 'panel', 'aria-labelledby': 'ov-outcomes' });
  const filter = h('input', { id: 'metric-filter', type: 'search', placeholder: 'name or label' });
  const all = h('tbody');
  const note = h('p', { class: 'muted' });
  clear(main, h('h1', {}, 'Overview'),
    h('p', { class: 'muted' }, 'From ', h('a', { href: '/metrics' }, '/metrics'), ', every 2 s; rates are the change between two reads.'),
    cards,
    h('div', { class: 'grid2' }, h('div', { class: 'stack' }, rates, binds, queues), outcomes),
    h('h2', {}, 'Every series'),
    h('label', { for: 'metric-filter' }, 'Filter', filter),
    h('table', {}, h('thead', {}, h('tr', {}, ['Series', 'Labels', 'Value', 'Per second'].map((c) => h('th', {}, c)))), all),
    note);
  let prev = new Map();
  let prevAt = 0;
  let last = [];
  let lastRates = new Map();
  const draw = () => {
    const q = filter.value.trim().toLowerCase();
    clear(all, last.filter((s) => !q || (s.name + labelText(s.labels)).toLowerCase().includes(q)).slice(0, 1000).map((s) => h('tr', {},
      h('td', { class: 'mono', title: s.help }, s.name), h('td', { class: 'mono' }, labelText(s.labels)),
      h('td', {}, fmt(s.value)), h('td', {}, lastRates.has(key(s)) ? fmt(lastRates.get(key(s))) : ''))));
  };
  filter.addEventListener('input', draw);
  const poll = async () => {
    let text;
    try {
      text = await api('GET', '/metrics');
    } catch (e) {
      note.textContent = 'Cannot read /metrics: ' + e.message;
      return;
    }
    const now = performance.now();
    const samples = parse(typeof text === 'string' ? text : '');
    const dt = prevAt ? (now - prevAt) / 1000 : 0;
    const r = new Map();
    for (const s of samples) {
      if (isCounter(s) && dt > 0 && prev.has(key(s))) r.set(key(s), Math.max(0, (s.value - prev.get(key(s))) / dt));
    }
    prev = new Map(samples.map((s) => [key(s), s.value]));
    prevAt = now;
    last = samples;
    lastRates = r;
    drawPanels(samples, r);
    draw();
    note.textContent = `${samples.length} series`;
  };
  const drawPanels = (samples, r) => {
    const pick = (re) => samples.filter((s) => re.test(s.name));
    const sum = (list) => list.reduce((a, s) => a + s.value, 0);
    const card = (label, value) => h('div', { class: 'panel card' }, h('div', { class: 'num' }, value), h('div', { class: 'lbl' }, label));
    const counters = samples.filter((s) => isCounter(s) && !/_bucket$/.test(s.name));
    const rateOf = (re) => sum(counters.filter((s) => re.test(s.name)).map((s) => ({ value: r.get(key(s)) || 0 })));
    clear(cards,
      card('submit_sm per second', fmt(rateOf(/(submit|accepted)/i))),
      card('delivered per second', fmt(delivered(counters, r))),
      card('challenges per second', fmt(rateOf(/session_seconds_count$/))),
      card('phones in use', fmt(sum(pick(/^simlab_phones_materialised$/)))),
      card('binds open', fmt(sum(samples.filter((s) => /bind/i.test(s.name) && !isCounter(s))))));
    const own = counters.filter((s) => s.name.startsWith('simlab_')); // the runtime's own are under Every series
    clear(rates, h('h2', { id: 'ov-rates' }, 'Rates'), own.length ? h('table', {}, h('tbody', {}, own.map((s) => h('tr', {},
      h('td', { class: 'mono' }, s.name + (Object.keys(s.labels).length ? `{${labelText(s.labels)}}` : '')),
      h('td', {}, fmt(r.get(key(s)) || 0) + '/s'), h('td', { class: 'muted' }, 'total ' + fmt(s.value)))))) : h('p', { class: 'muted' }, 'No counter.'));
    const b = samples.filter((s) => /bind/i.test(s.name) && (s.labels.account || s.labels.system_id));
    const kind = (l) => l.bind_type || l.mode || '';
    clear(binds, h('h2', { id: 'ov-binds' }, 'Binds by account'), b.length ? bars(b.map((s) => [`${s.labels.account || s.labels.system_id}${kind(s.labels) ? ' ' + kind(s.labels) : ''}`, s.value]))
      : h('p', { class: 'muted' }, 'No bind series in /metrics.'));
    const qs = samples.filter((s) => /queue|pending|outbox/i.test(s.name) && !isCounter(s));
    clear(queues, h('h2', { id: 'ov-queues' }, 'Queue depths'), qs.length ? bars(qs.map((s) => [s.name + (Object.keys(s.labels).length ? ` ${labelText(s.labels)}` : ''), s.value]))
      : h('p', { class: 'muted' }, 'No queue series in /metrics.'));
    const o = samples.filter((s) => s.labels.outcome !== undefined && /_count$/.test(s.name));
    clear(outcomes, h('h2', { id: 'ov-outcomes' }, 'Challenge outcomes'), o.length ? bars(o.map((s) => [s.labels.outcome, s.value]))
      : h('p', { class: 'muted' }, 'No challenge yet.'));
  };
  poll();
  const t = setInterval(poll, 2000);
  return () => clearInterval(t);
}

// delivered is the rate of messages reaching DELIVERED
// (simlab_smpp_messages_final_total{state="DELIVERED"}), or of any counter
// named for deliveries when /metrics has no such series.
function delivered(counters, r) {
  const fin = counters.filter((s) => /messages_final/.test(s.name) && s.labels.state === 'DELIVERED');
  const list = fin.length ? fin : counters.filter((s) => /deliver/i.test(s.name));
  return list.reduce((a, s) => a + (r.get(key(s)) || 0), 0);
}

function bars(rows) {
  const max = Math.max(1, ...rows.map((r) => r[1]));
  return h('div', { class: 'bars' }, rows.map(([label, v]) => h('div', { class: 'bar-row' },
    h('span', {}, label), h('div', { class: 'bar-fill', style: null, 'data-w': v, role: 'img', 'aria-label': `${label}: ${fmt(v)}` }), h('span', {}, fmt(v))))
    .map((row) => { const f = row.querySelector('.bar-fill'); f.style.width = (100 * Number(f.dataset.w) / max) + '%'; return row; }));
}

function fmt(v) {
  if (!isFinite(v)) return String(v);
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString();
  if (Number.isInteger(v)) return String(v);
  return v.toFixed(v < 10 ? 2 : 1);
}
