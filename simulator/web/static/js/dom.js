// Small DOM helpers: h() builds elements, never from HTML strings, so
// nothing a message or a phone says can become markup.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function plus(msisdn) {
  if (!msisdn) return '';
  return /^\d+$/.test(msisdn) ? '+' + msisdn : msisdn;
}

// addr writes an SMPP address: + before an international number only
// (TON 1); a short code or a name as it is.
export function addr(a) {
  if (!a) return '';
  return a.ton === 1 && /^\d+$/.test(a.addr) ? '+' + a.addr : a.addr;
}

export function time(t) {
  if (!t) return '';
  const d = new Date(t);
  if (isNaN(d)) return '';
  return d.toLocaleTimeString([], { hour12: false }) + '.' + String(d.getMilliseconds()).padStart(3, '0');
}

export function dateTime(t) {
  if (!t) return '';
  const d = new Date(t);
  return isNaN(d) ? '' : d.toLocaleString([], { hour12: false });
}

// toast shows a short notice in the live region.
export function toast(msg, error) {
  const box = document.getElementById('toasts');
  const t = h('div', { class: error ? 'toast error' : 'toast' }, msg);
  box.append(t);
  setTimeout(() => t.remove(), error ? 6000 : 2500);
}

// copyButton copies text on click; label names it for screen readers.
export function copyButton(text, label) {
  return h('button', {
    type: 'button', 'aria-label': label, onclick: async () => {
      try {
        await navigator.clipboard.writeText(text);
      } catch {
        const ta = h('textarea', {}, text);
        document.body.append(ta);
        ta.select();
        document.execCommand('copy');
        ta.remove();
      }
      toast('Copied');
    },
  }, 'Copy');
}

// The same default as the capture API's OTP extraction: 4 to 8 digits not
// part of a longer number.
const otpRe = /(?:^|\D)(\d{4,8})(?=\D|$)/;
const urlRe = /https?:\/\/[^\s<>"']+/g;

export function findOTP(text) {
  const m = otpRe.exec(text || '');
  return m ? m[1] : '';
}

export function findLinks(text) {
  return [...new Set((text || '').match(urlRe) || [])];
}

// linkify returns text with its links as anchors (or buttons, with onLink).
export function linkify(text, onLink) {
  const out = [];
  let last = 0;
  for (const m of (text || '').matchAll(urlRe)) {
    out.push(text.slice(last, m.index));
    const u = m[0];
    out.push(onLink
      ? h('a', { href: u, onclick: (e) => { e.preventDefault(); onLink(u); } }, u)
      : h('a', { href: u, target: '_blank', rel: 'noopener noreferrer' }, u));
    last = m.index + u.length;
  }
  out.push((text || '').slice(last));
  return out;
}

export function badge(text, kind) {
  return h('span', { class: 'badge ' + (kind || '') }, text);
}

const good = new Set(['approved', 'DELIVERED', 'confirm', 'enter', 'choose']);
const bad = new Set(['cancelled', 'timeout', 'wrong_pin', 'pin_blocked', 'pin_not_supported', 'sim_error', 'busy', 'no_answer',
  'UNDELIVERABLE', 'EXPIRED', 'REJECTED', 'UNKNOWN', 'DELETED', 'invalid_request', 'not_delivered']);

// loa shows a challenge's LoA: the API's "0" (none achieved: the challenge
// failed) and an empty one (a card without the applet) as a dash, as the
// CLI and the Logins view do.
export function loa(v) {
  return v && v !== '0' ? v : '–';
}

export function outcomeBadge(o) {
  return badge(o, good.has(o) ? 'ok' : bad.has(o) ? 'bad' : 'warn');
}

// coalesce runs fn at most once per ms: the first call schedules it, the
// calls until it runs join that run. Unlike a debounce, a steady stream of
// live events cannot postpone it for ever.
export function coalesce(fn, ms) {
  let t = 0;
  return () => {
    if (t) return;
    t = setTimeout(() => { t = 0; fn(); }, ms);
  };
}
