// Browser tests of simlab's web page: playwright-core drives Debian's
// chromium, headless, against a real `simlab serve` that the Go test
// (simulator/web/browser_test.go) started. The Go test also serves
// $SIMLAB_CONTROL, through which this script pushes challenges and submits
// SMS over real SMPP binds while the page is open.
//
// Each scenario prints "ok - NAME" or "not ok - NAME: why"; the exit code
// is the number of failures. Every wait is on a condition in the page
// (Playwright's waitFor), never a fixed sleep.

import { chromium } from 'playwright-core';
import path from 'node:path';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`run.mjs: $${k} is not set (run it from go test ./simulator/web/)`);
  return v;
};
const base = env('SIMLAB_URL');
const tokenBase = env('SIMLAB_TOKEN_URL');
const token = env('SIMLAB_TOKEN');
const control = env('SIMLAB_CONTROL');
const shots = process.env.SIMLAB_SCREENSHOTS || '';
const timeout = 20000;

async function ctl(what, body) {
  const r = await fetch(control + '/' + what, { method: 'POST', body: JSON.stringify(body) });
  const text = await r.text();
  if (!r.ok) throw new Error(`control ${what}: ${r.status} ${text}`);
  return JSON.parse(text);
}

async function api(url, method, body) {
  const r = await fetch(url, { method, headers: { 'Content-Type': 'application/json' }, body: body && JSON.stringify(body) });
  if (!r.ok) throw new Error(`${method} ${url}: ${r.status} ${await r.text()}`);
  return r.status === 204 ? null : r.json();
}

const ctx = await chromium.launchPersistentContext(env('PROFILE_DIR'), {
  executablePath: env('CHROMIUM'),
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
  viewport: { width: 1440, height: 900 },
});
ctx.setDefaultTimeout(timeout);

const consoleErrors = [];
function watch(page, name) {
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    // A wrong API token is refused with 401, which the browser logs.
    if (m.location().url.endsWith('/api/v1/session') && / 401 /.test(m.text())) return;
    // The numbers that are no phone, refused on purpose (40x).
    if (/\/api\/v1\/(phones\/(abc|4915112345678)(\/|$)|challenges\?.*msisdn=abc)/.test(m.location().url) && / 40\d /.test(m.text())) return;
    consoleErrors.push(`${name}: console: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => consoleErrors.push(`${name}: ${e.stack || e.message}`));
  return page;
}

async function shot(page, file, fullPage) {
  if (!shots) return;
  await page.screenshot({ path: path.join(shots, file), fullPage: !!fullPage });
}

let failures = 0;
async function scenario(name, fn) {
  const page = watch(await ctx.newPage(), name);
  try {
    await fn(page);
    console.log(`ok - ${name}`);
  } catch (e) {
    failures++;
    console.log(`not ok - ${name}: ${(e.stack || String(e)).split('\n').slice(0, 6).join('\n    ')}`);
  } finally {
    await page.close();
  }
}

const unique = (p) => p + Math.random().toString(36).slice(2, 8);

await scenario('a pushed SMS appears without reload', async (page) => {
  await page.goto(base + '/messages');
  await page.locator('#live.on').waitFor();
  await page.evaluate(() => { window.noReload = true; });
  const text = 'Your Example Bank code is 482913 ' + unique('x');
  await ctl('sms', { to: '99901000101', text });
  const row = page.locator('#message-list tbody tr', { hasText: text });
  await row.waitFor();
  if (!(await page.evaluate(() => window.noReload === true))) throw new Error('the page reloaded');
  // The message decoded, with its code to copy.
  await row.getByRole('link').first().click();
  await page.locator('#message-title').filter({ hasText: '+99901000101' }).waitFor();
  if ((await page.locator('#otp').innerText()) !== '482913') throw new Error('the code found is not 482913');
  await page.getByRole('button', { name: 'Copy code 482913' }).waitFor();
  await page.getByRole('heading', { name: 'SMS-DELIVER TPDU' }).waitFor();
  await shot(page, 'messages.png');
});

await scenario('a burst of 3,000 SMS: the page catches up and stays responsive', async (page) => {
  await page.goto(base + '/messages');
  await page.locator('#live.on').waitFor();
  const tag = unique('burst');
  await ctl('burst', { to: '99901000109', text: tag, n: 3000 });
  await page.locator('#message-list tbody tr', { hasText: `${tag} 3000` }).waitFor();
  // Still answering: a search right after.
  await page.getByLabel('Text').fill(`${tag} 1234`);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForFunction(() => document.querySelectorAll('#message-list tbody tr[data-id]').length === 1);
});

await scenario('a message search finds what it should', async (page) => {
  const word = unique('needle');
  await ctl('sms', { to: '99901000102', text: `the ${word} in the haystack` });
  await ctl('sms', { to: '99901000102', text: 'just hay' });
  await ctl('sms', { to: '99901000103', text: `another ${word}, another phone` });
  await page.goto(base + '/messages');
  await page.getByLabel('Text').fill(word);
  await page.getByRole('button', { name: 'Search' }).click();
  const rows = page.locator('#message-list tbody tr[data-id]');
  await page.waitForFunction(() => document.querySelectorAll('#message-list tbody tr[data-id]').length === 2);
  for (const t of await rows.allInnerTexts()) if (!t.includes(word)) throw new Error(`row without the word: ${t}`);
  await page.getByLabel('Number').fill('+99901000102');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForFunction(() => document.querySelectorAll('#message-list tbody tr[data-id]').length === 1);
  if (!(await rows.first().innerText()).includes('haystack')) throw new Error('number and text together found the wrong message');
  await page.getByLabel('Direction').selectOption('MO');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByText('No message matches.').waitFor();
});

await scenario('a LoA3 challenge answered on the phone\'s page: PIN and OK approve at acr 3, Cancel cancels; OK approves LoA2', async (page) => {
  const n = '99901000104';
  await page.goto(base + '/phones/' + n);
  await page.getByRole('button', { name: 'Answer prompts here' }).click();
  await page.getByText('Prompts wait here for you.').waitFor();
  const approved = ctl('push', { msisdn: n, loa: 3 });
  const pin = page.getByLabel('PIN', { exact: true });
  await pin.waitFor();
  if ((await pin.getAttribute('type')) !== 'password') throw new Error('the PIN field shows the digits');
  await page.getByRole('button', { name: 'Digit 1' }).click();
  await pin.pressSequentially('2345');
  await shot(page, 'handset.png');
  await page.getByRole('button', { name: 'OK', exact: true }).click();
  const r1 = await approved;
  if (r1.outcome !== 'approved' || r1.acr !== '3') throw new Error(`PIN + OK gave ${r1.outcome} acr ${r1.acr}`);
  const cancelled = ctl('push', { msisdn: n, loa: 3 });
  await pin.waitFor();
  await page.getByRole('button', { name: 'Cancel', exact: true }).click();
  const r2 = await cancelled;
  if (r2.outcome !== 'cancelled') throw new Error(`Cancel gave ${r2.outcome}`);
  // LoA2: DISPLAY TEXT with OK.
  const confirmed = ctl('push', { msisdn: n, loa: 2 });
  await page.locator('.screen .title', { hasText: 'SIM Toolkit' }).waitFor();
  await page.getByRole('button', { name: 'OK', exact: true }).click();
  const r3 = await confirmed;
  if (r3.outcome !== 'approved' || r3.acr !== '2') throw new Error(`OK on LoA2 gave ${r3.outcome} acr ${r3.acr}`);
  // The challenges show on the page, with their LoA.
  await page.locator('section[aria-labelledby=chal-h] tbody tr').nth(2).waitFor();
  await page.locator('section[aria-labelledby=log-h] td', { hasText: 'SMS-PP download session ended' }).first().waitFor();
  await shot(page, 'phone.png', true);
});

await scenario('a behaviour changed in the editor takes effect on the next push', async (page) => {
  const n = '99901000105';
  const before = await ctl('push', { msisdn: n, loa: 2 });
  if (before.outcome !== 'approved') throw new Error(`before: ${before.outcome}`);
  await page.goto(base + '/phones/' + n);
  await page.getByLabel('Then answer').selectOption('cancel');
  await page.getByRole('button', { name: 'Save behaviour' }).click();
  await page.getByText('cancel (set over the API)').waitFor();
  const after = await ctl('push', { msisdn: n, loa: 2 });
  if (after.outcome !== 'cancelled') throw new Error(`after the editor: ${after.outcome}`);
});

await scenario('challenges are listed live with their flow', async (page) => {
  await page.goto(base + '/challenges');
  await page.locator('#live.on').waitFor();
  const r = await ctl('push', { msisdn: '99900000106', loa: 3 });
  if (r.outcome !== 'approved') throw new Error(r.outcome);
  const row = page.locator('tbody tr', { hasText: '+99900000106' });
  await row.waitFor();
  await row.getByRole('link').first().click();
  await page.locator('ol.steps li', { hasText: 'Answer' }).first().waitFor();
  await page.locator('ol.steps li', { hasText: 'SEND SHORT MESSAGE' }).first().waitFor();
  // A cancelled challenge achieved no LoA: a dash, not the API's "0".
  const c = await ctl('push', { msisdn: '99900010106', loa: 3 });
  if (c.outcome !== 'cancelled') throw new Error(c.outcome);
  const crow = page.locator('tbody tr', { hasText: '+99900010106' });
  await crow.waitFor();
  const cells = await crow.locator('td').allTextContents();
  if (cells[2] !== '3' || cells[3] !== '–') throw new Error(`cancelled challenge's LoA asked/achieved: ${cells[2]}/${cells[3]}`);
  await shot(page, 'challenges.png');
});

await scenario('a Mobile Connect login by a real RP: the styled number page, the Logins view live, the PIN typed on the phone\'s page', async (page) => {
  const n = '9990104' + String(Math.floor(Math.random() * 10000)).padStart(4, '0');
  await api(`${base}/api/v1/phones/${n}`, 'PUT', { behaviour: { then: { answer: 'human' } } });
  // The Logins view, open before the login starts.
  const logins = watch(await ctx.newPage(), 'logins view');
  await logins.goto(base + '/logins');
  await logins.locator('#live.on').waitFor();
  // The shop (go-oidc RP) sends the browser to the gateway without a number.
  await page.goto(control + '/rp/start');
  const field = page.getByLabel('Phone number', { exact: true });
  await field.waitFor();
  const styled = await page.evaluate(() => ({
    sheets: [...document.styleSheets].map((s) => s.cssRules.length),
    bg: getComputedStyle(document.body).backgroundColor,
    panel: getComputedStyle(document.querySelector('.panel')).borderRadius,
  }));
  if (styled.sheets.length !== 1 || !styled.sheets[0] || styled.panel !== '8px' || styled.bg === 'rgba(0, 0, 0, 0)') {
    throw new Error('the number page is not styled: ' + JSON.stringify(styled));
  }
  await shot(page, 'mc-number.png');
  // Dark when the system is: the web page's variables, no script.
  await page.emulateMedia({ colorScheme: 'dark' });
  const dark = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  if (dark === styled.bg) throw new Error('the number page is the same in dark mode: ' + dark);
  await page.emulateMedia({ colorScheme: 'light' });
  await field.fill('+' + n);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: 'Check your phone' }).waitFor();
  await shot(page, 'mc-wait.png');
  // The login shows live, waiting for the phone.
  const row = logins.locator('#login-list tbody tr', { hasText: '+' + n });
  await row.filter({ hasText: 'waiting for the phone' }).waitFor();
  // The person answers on the phone's page: PIN, OK.
  const phone = watch(await ctx.newPage(), 'phone page');
  await phone.goto(base + '/phones/' + n);
  const pin = phone.getByLabel('PIN', { exact: true });
  await pin.waitFor();
  await pin.pressSequentially('12345');
  await phone.getByRole('button', { name: 'OK', exact: true }).click();
  // The waiting page moves on by itself to the shop, which checked the id_token.
  await page.getByRole('heading', { name: 'Logged in' }).waitFor();
  const result = await page.locator('#result').textContent();
  if (!/at acr 3 as /.test(result)) throw new Error('the shop says: ' + result);
  await phone.close();
  // The Logins view: tokens issued, its steps, and a link to its challenge.
  await row.filter({ hasText: 'tokens issued' }).waitFor();
  await row.getByRole('link').first().click();
  await logins.locator('ol.steps li', { hasText: 'Tokens issued' }).waitFor();
  await logins.locator('ol.steps li', { hasText: 'Number page shown' }).waitFor();
  await logins.getByRole('link', { name: 'Its challenge' }).waitFor();
  // The id_token the shop checked, decoded: signed ES256, acr 3, its sub.
  const sub = (/at acr 3 as (\S+)/.exec(result) || [])[1];
  const claims = logins.getByRole('table', { name: 'id_token claims' });
  const claim = async (k) => (await claims.locator(`tr[data-claim="${k}"] td`).textContent()).trim();
  await claims.waitFor();
  if (await claim('acr') !== '3') throw new Error('the claims table says acr ' + await claim('acr'));
  if (!sub || await claim('sub') !== sub) throw new Error(`the claims table says sub ${await claim('sub')}, the shop ${sub}`);
  const sig = await logins.locator('#id-token-signature').textContent();
  if (!/^signed ES256 by kid \S+$/.test(sig)) throw new Error('the id_token signature: ' + sig);
  if (!/\d{4}|\d{1,2}\/\d{1,2}/.test(await claim('exp'))) throw new Error('exp is not shown as a date: ' + await claim('exp'));
  await shot(logins, 'logins.png', true);
  await logins.getByRole('link', { name: 'Its challenge' }).click();
  await logins.locator('h2', { hasText: '+' + n }).waitFor();
  await logins.locator('ol.steps li', { hasText: 'SEND SHORT MESSAGE' }).first().waitFor();
  await logins.close();
});

await scenario('the overview reads /metrics', async (page) => {
  await page.goto(base + '/overview');
  await page.getByText('simlab_phones_materialised').first().waitFor();
  await page.getByRole('heading', { name: 'Challenge outcomes' }).waitFor();
  await page.locator('.bar-row', { hasText: 'approved' }).waitFor();
  await shot(page, 'overview.png');
});

await scenario('a phone texts an ESME from its page', async (page) => {
  const n = '99901000107';
  await page.goto(base + '/phones/' + n);
  await page.getByLabel('To (an ESME\'s address)').fill('12345');
  await page.getByLabel('Text', { exact: true }).fill('STOP');
  await page.getByRole('button', { name: 'Send from this phone' }).click();
  await page.getByText('Sent (1 SMS)').waitFor();
  const got = await api(`${base}/api/v1/messages?from=${n}`, 'GET');
  if (!got.messages.length || got.messages[0].text !== 'STOP' || got.messages[0].direction !== 'MO') throw new Error(JSON.stringify(got.messages[0]));
});

await scenario('a number that is no phone shows its error once, without a handset', async (page) => {
  for (const [n, err] of [['abc', 'is not an MSISDN'], ['4915112345678', 'not in the fleet\'s plan']]) {
    await page.goto(base + '/phones/' + n);
    await page.getByRole('link', { name: 'All phones' }).waitFor();
    await page.getByText(err).waitFor();
    const handsets = await page.locator('.handset').count();
    const toasts = await page.locator('#toasts .toast').count();
    if (handsets || toasts) throw new Error(`${n}: ${handsets} handset(s) and ${toasts} error toast(s) beside the error`);
  }
  // The same for a challenge filter the server refuses: the error in the table.
  await page.goto(base + '/challenges?msisdn=abc');
  await page.locator('tbody td .bad', { hasText: 'is not an MSISDN' }).waitFor();
  const toasts = await page.locator('#toasts .toast').count();
  if (toasts) throw new Error(`challenges?msisdn=abc: ${toasts} error toast(s) beside the error`);
});

await scenario('keyboard: a message opens with the keyboard alone, in the dark theme', async (page) => {
  // The phone's text of the scenario before: a row that stays on the page
  // while live updates of other messages rebuild the list.
  await page.goto(base + '/messages?number=99901000107&direction=MO');
  await page.getByRole('button', { name: /Colour theme/ }).click(); // light
  await page.getByRole('button', { name: /Colour theme/ }).click(); // dark
  if ((await page.evaluate(() => document.documentElement.dataset.theme)) !== 'dark') throw new Error('no dark theme');
  const first = page.locator('#message-list tbody tr[data-id] a').first();
  await first.waitFor();
  await first.focus();
  await page.keyboard.press('Enter');
  await page.locator('#message-title').waitFor();
  await shot(page, 'messages-dark.png');
});

await scenario('the page works behind an API token', async (page) => {
  await page.goto(tokenBase + '/messages');
  const field = page.getByLabel('API token', { exact: true });
  await field.fill('not the token');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByText('That is not the API token.').waitFor();
  await field.fill(token);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('#message-list').waitFor();
  await page.locator('#live.on').waitFor();
  const text = 'behind the token ' + unique('t');
  await ctl('sms', { to: '99901000108', text, server: 'token' });
  await page.locator('#message-list tbody tr', { hasText: text }).waitFor();
  // The session survives a reload; the cookie is not readable by scripts.
  await page.reload();
  await page.locator('#message-list tbody tr', { hasText: text }).waitFor();
  if ((await page.evaluate(() => document.cookie)).includes('simlab_session')) throw new Error('the session cookie is readable by scripts');
});

await ctx.close();

if (consoleErrors.length) {
  failures++;
  console.log('not ok - no script errors in the console:\n    ' + consoleErrors.join('\n    '));
} else {
  console.log('ok - no script errors in the console');
}
process.exit(failures);
