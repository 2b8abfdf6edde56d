// One event stream per page (GET /api/v1/events): every view listens to
// it through on(). The stream is closed while the tab is hidden, so that
// background tabs do not hold a connection (browsers allow six per server
// over HTTP/1.1) nor cost the server anything. Views hear "reload" when
// the stream (re)connects and "lost" when it overflowed (the server was
// busier than a page can show): both mean "read what you show again".

const topics = 'message,phone,human,challenge,login';
const listeners = new Map(); // event name → Set of callbacks
let source = null;
let statusEl = null;

export function on(name, fn) {
  if (!listeners.has(name)) listeners.set(name, new Set());
  listeners.get(name).add(fn);
  return () => listeners.get(name).delete(fn);
}

function emit(name, data) {
  for (const fn of listeners.get(name) || []) {
    try { fn(data); } catch (e) { console.error(e); }
  }
  for (const fn of listeners.get('*') || []) {
    try { fn(name, data); } catch (e) { console.error(e); }
  }
}

function status(text, cls) {
  if (!statusEl) return;
  statusEl.textContent = text;
  statusEl.className = 'live ' + cls;
}

// Phone event kinds (fleet events) arrive under their own names.
const phoneKinds = ['prompt', 'answer', 'sms_in', 'sms_out', 'url', 'session_end', 'error', 'delivery', 'session', 'behaviour', 'settings'];
const names = ['message', 'state', 'deleted', 'human', 'human_done', 'challenge', 'login', 'overflow', ...phoneKinds];

function open() {
  if (source) return;
  source = new EventSource('/api/v1/events?topics=' + topics);
  source.onopen = () => { status('live', 'on'); emit('reload', null); };
  source.onerror = () => status('reconnecting…', 'off');
  for (const n of names) {
    source.addEventListener(n, (ev) => {
      let data = null;
      try { data = JSON.parse(ev.data); } catch { data = null; }
      if (n === 'overflow') { emit('lost', null); return; }
      if (phoneKinds.includes(n)) emit('phone', data);
      emit(n, data);
    });
  }
}

function close() {
  if (source) { source.close(); source = null; }
  status('paused', 'off');
}

export function start(el) {
  statusEl = el;
  document.addEventListener('visibilitychange', () => (document.hidden ? close() : open()));
  if (!document.hidden) open();
}

export function restart() { close(); if (!document.hidden) open(); }
