// Logins: the place of Mobile Connect logins (requests, the page asking
// for the number, the waiting page, the tokens issued, decoded). The
// gateway (simulator/mobileconnect) runs as a subsystem of serve and
// publishes its logins on the event hub's "login" topic; until it runs
// here, the view says so.

import { h, clear } from './dom.js';
import { get } from './api.js';

export function render(main) {
  const body = h('section', { class: 'panel' }, h('p', { class: 'muted' }, 'Looking for the Mobile Connect gateway…'));
  clear(main, h('h1', {}, 'Mobile Connect logins'), body);
  get('/healthz').then((health) => {
    const names = Object.keys(health.subsystems || {});
    const gw = names.find((n) => /mobile|connect|^mc$|oidc/i.test(n));
    if (gw) {
      clear(body, h('p', {}, 'The gateway runs (', h('code', {}, gw), '): issuer ', h('a', { href: '/mc/.well-known/openid-configuration' }, '/mc'), '.'),
        h('p', { class: 'muted' }, 'Its logins will be listed here as they happen.'));
      return;
    }
    clear(body, h('p', {}, 'The Mobile Connect gateway does not run on this server (yet).'),
      h('p', { class: 'muted' }, 'When it does, each login shows here: the request, the page asking for the number, the wait for the phone, and the tokens issued, decoded.'));
  });
}
