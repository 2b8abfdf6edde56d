// The virtual handset: the screen of one phone as its SIM Toolkit shows
// it. When the phone's behaviour is "human", each prompt waits here (and
// in GET /api/v1/prompts) until someone answers it or its timeout passes;
// the answer goes to the card as a TERMINAL RESPONSE. Incoming SMS show
// with their links, which the phone opens when tapped.

import { h, clear, plus, time, toast, linkify } from './dom.js';
import { get, post, put } from './api.js';

export class Handset {
  constructor(msisdn, onChange) {
    this.msisdn = msisdn;
    this.onChange = onChange;
    this.prompt = null;
    this.info = null;
    this.inbox = [];
    this.screen = h('div', { class: 'screen', role: 'region', 'aria-label': 'Phone screen' });
    this.el = h('div', { class: 'handset' }, this.screen);
    this.timer = setInterval(() => this.tick(), 1000);
  }

  stop() { clearInterval(this.timer); }

  async loadPrompts() {
    const r = await get('/api/v1/prompts?msisdn=' + encodeURIComponent(this.msisdn));
    const open = r.prompts.filter((p) => p.open);
    this.show(open.length ? open[open.length - 1] : null);
  }

  // show displays prompt p (or the idle screen), unless it is already up:
  // what the person is typing stays.
  show(p) {
    if (p && this.prompt && p.id === this.prompt.id) return;
    this.prompt = p;
    this.render();
  }

  done(p) {
    if (this.prompt && this.prompt.id === p.id) {
      this.prompt = null;
      this.render();
      if (p.result === 'timeout') toast('The prompt timed out: the phone answered "no response"');
    }
  }

  setInfo(info, inbox) {
    this.info = info;
    this.inbox = inbox || this.inbox;
    if (!this.prompt) this.render();
  }

  tick() {
    const c = this.screen.querySelector('.countdown');
    if (c && this.prompt) c.textContent = left(this.prompt.deadline);
    const clock = this.screen.querySelector('.clock');
    if (clock) clock.textContent = new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false });
  }

  bar() {
    return h('div', { class: 'bar' }, h('span', {}, 'simlab ', plus(this.msisdn)),
      h('span', { class: 'clock' }, new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false })));
  }

  async answer(body) {
    const p = this.prompt;
    if (!p) return;
    try {
      await post('/api/v1/prompts/' + encodeURIComponent(p.id), body);
    } catch (e) {
      if (e.status === 404) {
        toast('This prompt is over (answered elsewhere or timed out)', true);
        this.prompt = null;
        this.render();
      } else {
        toast(e.message, true);
      }
      return;
    }
    this.prompt = null;
    this.render();
  }

  render() {
    const p = this.prompt;
    if (!p) { clear(this.screen, this.bar(), ...this.idle()); return; }
    const cancel = h('button', { type: 'button', onclick: () => this.answer({ action: 'cancel' }) }, 'Cancel');
    const body = [this.bar(), h('div', { class: 'countdown', 'aria-live': 'off' }, left(p.deadline))];
    if (p.kind === 'display') {
      body.push(h('div', { class: 'title' }, 'SIM Toolkit'), h('div', { class: 'prompt-text', id: 'prompt-text' }, p.text),
        h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', onclick: () => this.answer({ action: 'ok' }) }, 'OK'), cancel));
    } else if (p.kind === 'input' || p.kind === 'inkey') {
      const label = p.hidden ? 'PIN' : p.kind === 'inkey' ? 'Key' : 'Answer';
      const max = p.kind === 'inkey' ? 1 : p.max_len || undefined;
      const input = h('input', { id: 'prompt-input', type: p.hidden ? 'password' : 'text', autocomplete: 'off',
        inputmode: p.digits_only ? 'numeric' : null, maxlength: max, minlength: p.min_len || null,
        pattern: p.digits_only ? '[0-9]*' : null, required: true });
      const form = h('form', { class: 'stack', 'aria-labelledby': 'prompt-text' },
        h('div', { class: 'prompt-text', id: 'prompt-text' }, p.text),
        h('label', { for: 'prompt-input' }, label, input),
        p.digits_only ? pad(input) : null,
        h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'OK'), cancel));
      form.addEventListener('submit', (e) => { e.preventDefault(); this.answer({ action: 'ok', input: input.value }); });
      body.push(form);
      setTimeout(() => input.focus(), 0);
    } else if (p.kind === 'select') {
      let chosen = 1;
      const items = h('ul', { class: 'items', role: 'radiogroup', 'aria-labelledby': 'prompt-text' },
        p.items.map((it, i) => h('li', {}, h('label', { class: 'check' },
          h('input', { type: 'radio', name: 'item', value: i + 1, checked: i === 0, onchange: () => { chosen = i + 1; } }), it))));
      body.push(h('div', { class: 'prompt-text', id: 'prompt-text' }, p.text || 'Select'), items,
        h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', onclick: () => this.answer({ action: 'ok', item: chosen }) }, 'OK'), cancel));
    } else {
      body.push(h('div', { class: 'prompt-text' }, p.text), h('div', { class: 'actions' }, cancel));
    }
    clear(this.screen, ...body);
  }

  idle() {
    const out = [];
    const human = this.info && isHuman(this.info.behaviour);
    if (this.info && !human) {
      out.push(h('p', { class: 'note' }, `This phone answers by itself (${summary(this.info.behaviour)}).`),
        h('button', { type: 'button', onclick: () => this.takeOver() }, 'Answer prompts here'));
    } else if (human) {
      out.push(h('p', { class: 'note' }, 'Prompts wait here for you.'));
    }
    const recent = this.inbox.slice(-5).reverse();
    out.push(h('div', { class: 'title' }, 'Messages'));
    if (!recent.length) out.push(h('p', { class: 'note' }, 'No SMS yet.'));
    for (const m of recent) {
      out.push(h('div', { class: 'sms' }, h('div', { class: 'note' }, `${m.from} · ${time(m.received)}${m.opened ? ' · link opened' : ''}`),
        h('div', {}, linkify(m.text, (u) => this.open(u)))));
    }
    return out;
  }

  async open(u) {
    try {
      const r = await post(`/api/v1/phones/${encodeURIComponent(this.msisdn)}/open`, { url: u });
      this.inbox = r.messages || [];
      toast('The phone opened the link');
    } catch (e) {
      toast('The phone could not open it: ' + e.message, true);
    }
    this.render();
    if (this.onChange) this.onChange();
  }

  async takeOver() {
    const b = this.info.behaviour;
    await put('/api/v1/phones/' + encodeURIComponent(this.msisdn), { behaviour: { then: { answer: 'human' }, open_urls: !!b.open_urls } });
    toast('This phone now waits for you');
    if (this.onChange) this.onChange();
  }
}

function pad(input) {
  const key = (d) => h('button', { type: 'button', 'aria-label': 'Digit ' + d, onclick: () => {
    if (!input.maxLength || input.maxLength < 0 || input.value.length < input.maxLength) input.value += d;
    input.focus();
  } }, d);
  return h('div', { class: 'pad', role: 'group', 'aria-label': 'Keypad' },
    ['1', '2', '3', '4', '5', '6', '7', '8', '9'].map(key),
    h('button', { type: 'button', 'aria-label': 'Delete last digit', onclick: () => { input.value = input.value.slice(0, -1); input.focus(); } }, '⌫'),
    key('0'),
    h('span'));
}

function left(deadline) {
  const s = Math.max(0, Math.round((new Date(deadline) - Date.now()) / 1000));
  return `${s} s left to answer`;
}

export function isHuman(b) {
  if (!b) return false;
  return (b.then && b.then.answer === 'human') || (b.steps || []).some((s) => s.answer === 'human');
}

export function summary(b) {
  if (!b) return '';
  const steps = (b.steps || []).map((s) => s.answer);
  return (steps.length ? steps.join(', ') + ', then ' : '') + (b.then ? b.then.answer : 'approve');
}
