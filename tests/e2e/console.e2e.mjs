// End-to-end test of the web console: the real sendcloudd (a build with SC_TEST_CONTROLS,
// started with --enable-test-controls=true so the test can move its clock) driven in Debian's
// headless chromium through playwright-core. Screenshots of every page, at desktop and phone
// width, go to tests/e2e/artifacts/. Run by ctest (SENDCLOUDD is set there) or by hand:
//   SENDCLOUDD=build/src/sendcloudd/sendcloudd node --test tests/e2e/console.e2e.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const artifacts = join(here, 'artifacts');
const binary = process.env.SENDCLOUDD;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const A = { email: 'owner-a@e2e.test', password: 'correct horse battery staple A' };
const B = { email: 'owner-b@e2e.test', password: 'correct horse battery staple B' };
// Not the default 15 minutes: the pages must say what the server was told.
const GRACE_SECONDS = 600;
const GRACE_MS = GRACE_SECONDS * 1000;

let dataDir, server, serverOutput = '', base, browser, context, page;
const consoleErrors = []; // {step, text}
let step = 'start';
// Steps that provoke an HTTP error on purpose; the browser logs "Failed to load resource" then.
const expectedErrorSteps = new Set(['wrong-password', 'forged-csrf', 'cross-account', 'after-logout',
  // Values the server refuses, to see the refusal beside its field.
  'email-limits', 'sms-limits', 'email-templates', 'sms-templates']);

function cli(args, input) {
  const r = spawnSync(binary, [...args, '--data-dir', dataDir], { input, encoding: 'utf8' });
  assert.equal(r.status, 0, `sendcloudd ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

function startServer() {
  return new Promise((resolve, reject) => {
    // Mail for e2e.test goes to a loopback port where nothing listens: the connection is
    // refused at once, so a message gets one deferred attempt for the Messages page to show.
    server = spawn(binary, ['--listen', '127.0.0.1:0', '--data-dir', dataDir, '--demo=false',
      '--enable-test-controls=true', '--email-key-grace', String(GRACE_SECONDS), '--smtp-route', 'e2e.test=127.0.0.1:1', '--smtp-tls', 'none',
      // DNS at a port where nothing answers: the Domains page's DKIM check reads "unknown".
      '--dns-servers', '127.0.0.1:1'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (chunk) => {
      serverOutput += chunk.toString();
      const m = serverOutput.match(/sendcloudd listening on (http:\/\/[^\s]+)/);
      if (m && !base) {
        base = m[1];
        resolve();
      }
    };
    server.stdout.on('data', onData);
    server.stderr.on('data', onData);
    server.on('exit', (code) => { if (!base) reject(new Error(`sendcloudd exited (${code}): ${serverOutput}`)); });
  });
}

async function form(path, params) {
  const res = await fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  });
  return { status: res.status, body: await res.json().catch(() => null), headers: res.headers };
}
const sendEmail = (apiUser, apiKey, to) => form('/email/send', {
  apiUser, apiKey, from: 'sender@e2e.test', to, subject: 'E2E', plain: 'Hello from the e2e test',
});
const sendSms = (smsUser, smsKey) => form('/smsapi/send', {
  smsUser, smsKey, to: '+14155550100', message: 'Hello from the e2e test',
});
async function consoleApi(path) {
  const res = await fetch(`${base}/console/api/${path}`, { headers: { cookie: await cookieHeader() } });
  return { status: res.status, body: await res.json() };
}
// A policy field's error, shown beside its input once the server refused the form.
async function fieldError(field) {
  const box = page.locator(`#pol-${field}-error`);
  await box.waitFor({ state: 'visible' });
  assert.equal(await page.getAttribute(`#pol-${field}`, 'aria-invalid'), 'true');
  return box.textContent();
}
async function savePolicy() {
  await page.click('#policy-save');
}

async function shot(name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}
async function go(path) {
  await page.goto(base + path);
  await page.waitForFunction(() => document.readyState === 'complete');
}
// Waits for a page's list to be rendered by its script.
async function loaded(selector) {
  await page.waitForSelector(`${selector}[data-loaded]`, { state: 'attached' });
}
async function flashText() {
  const flash = page.locator('#flash');
  await flash.waitFor({ state: 'visible' });
  return flash.textContent();
}
async function takeKeyFromDialog() {
  await page.waitForSelector('#key-dialog[open]');
  const key = await page.inputValue('#key-value');
  assert.match(key, /^\S{16,}$/, 'the dialog shows a key');
  return key;
}
async function closeKeyDialog(key) {
  await page.click('#key-close');
  await page.waitForSelector('#key-dialog:not([open])', { state: 'attached' });
  assert.equal(await page.inputValue('#key-value'), '', 'the key is cleared on close');
  const html = await page.content();
  assert.ok(!html.includes(key), 'the key is nowhere in the page after the dialog closed');
}

before(async () => {
  assert.ok(binary, 'set SENDCLOUDD to the sendcloudd binary');
  mkdirSync(artifacts, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), 'sc-e2e-'));
  cli(['account', 'create', '--email', A.email, '--password-stdin'], A.password + '\n');
  cli(['account', 'create', '--email', B.email, '--password-stdin'], B.password + '\n');
  await startServer();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  // Nothing may leave for another host: fail the test if the page even tries.
  await context.route((url) => !url.href.startsWith(base), (route) => {
    consoleErrors.push({ step, text: `request to another host: ${route.request().url()}` });
    return route.abort();
  });
  page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') consoleErrors.push({ step, text: m.text() }); });
  page.on('pageerror', (e) => consoleErrors.push({ step, text: `uncaught: ${e.message}` }));
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('console end to end', async (t) => {
  let apiKey, oldApiKey, smsKey, smsKeyNow;

  await t.test('pages carry the security headers', async () => {
    for (const path of ['/console/login', '/console/email-users', '/console/assets/js/common.js']) {
      const res = await fetch(base + path);
      assert.equal(res.status, 200, path);
      const csp = res.headers.get('content-security-policy');
      assert.match(csp, /default-src 'self'/);
      assert.match(csp, /script-src 'self'/);
      assert.match(csp, /style-src 'self'/);
      assert.ok(!/unsafe-inline/.test(csp), 'no unsafe-inline');
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    }
    assert.equal((await fetch(base + '/console/assets/../pages/login.html')).status, 404);
    assert.equal((await fetch(base + '/console/assets/layout.html')).status, 404);
  });

  await t.test('a wrong password fails visibly', async () => {
    step = 'wrong-password';
    await go('/console/login');
    await page.fill('#login-email', A.email);
    await page.fill('#login-password', 'not the password');
    await page.click('#login-submit');
    assert.match(await flashText(), /Wrong e-mail or password/);
    await shot('login-wrong-password');
  });

  await t.test('log in', async () => {
    step = 'login';
    await go('/console/login');
    await shot('login');
    await page.fill('#login-email', A.email);
    await page.fill('#login-password', A.password);
    await Promise.all([page.waitForURL(base + '/console/email-users'), page.click('#login-submit')]);
    await page.waitForSelector(`#who:text("${A.email}")`);
    assert.ok(!page.url().includes('csrf'), 'no token in the URL');
  });

  await t.test('create an API_USER and take its key from the dialog', async () => {
    step = 'create-api-user';
    await loaded('#user-list');
    await shot('email-users-empty');
    await page.fill('#create-name', 'e2e_mailer');
    await page.fill('#create-purpose', 'order confirmations');
    await page.click('#create-submit');
    apiKey = await takeKeyFromDialog();
    await shot('email-users-key-dialog');
    await closeKeyDialog(apiKey);
    await page.waitForSelector('article[data-user="e2e_mailer"]');
    assert.match(await page.textContent('article[data-user="e2e_mailer"]'), /order confirmations/);
  });

  await t.test('send an email with the key and see it in Messages', async () => {
    step = 'messages';
    const r = await sendEmail('e2e_mailer', apiKey, 'first@e2e.test');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await go('/console/messages');
    await loaded('#message-list');
    await page.waitForSelector('article.message .address:text("first@e2e.test")');
    assert.match(await page.textContent('article.message'), /e2e_mailer/);
    // The attempt log appears once the refused connection is recorded (the page is reloaded
    // until then; the deadline is the test's).
    const deadline = Date.now() + 20000;
    while (await page.locator('article.message ol.attempts li').count() === 0) {
      assert.ok(Date.now() < deadline, 'no attempt shown for the refused delivery');
      await page.waitForTimeout(200);
      await go('/console/messages');
      await loaded('#message-list');
    }
    assert.match(await page.textContent('article.message ol.attempts li'), /deferred/);
    await shot('messages');
  });

  await t.test('the last use comes with the user list, not a request per user', async () => {
    step = 'last-use';
    const asked = [];
    const onRequest = (req) => asked.push(req.url());
    page.on('request', onRequest);
    const card = 'article[data-user="e2e_mailer"]';
    // The send above is counted by the audit recorder in the background (about once a second).
    const deadline = Date.now() + 20000;
    for (;;) {
      await go('/console/email-users');
      await loaded('#user-list');
      if (await page.textContent(`${card} .last-use`) !== 'never') break;
      assert.ok(Date.now() < deadline, 'the send never showed as the last use');
      await page.waitForTimeout(200);
    }
    page.off('request', onRequest);
    assert.match(await page.textContent(`${card} .last-use`), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    assert.deepEqual(asked.filter((u) => u.includes('/console/api/auth-events')), []);
  });

  await t.test('reset the key: countdown, and the old-key counter rises', async () => {
    step = 'reset';
    oldApiKey = apiKey;
    await go('/console/email-users');
    await loaded('#user-list');
    const card = 'article[data-user="e2e_mailer"]';
    await page.click(`${card} .act-reset`);
    await page.waitForSelector('#reset-dialog[open]');
    // The length is the server's --email-key-grace, read from the session.
    await page.waitForFunction(() => /10-minute grace period/.test(document.querySelector('#reset-dialog').textContent));
    assert.ok(!/15-minute/.test(await page.textContent('#reset-dialog')));
    await shot('email-users-reset-explained');
    await page.click('#reset-confirm');
    apiKey = await takeKeyFromDialog();
    assert.notEqual(apiKey, oldApiKey);
    await closeKeyDialog(apiKey);
    await page.waitForSelector(`${card} .countdown`);
    const first = await page.textContent(`${card} .countdown`);
    assert.match(first, /^(9:[45]\d|10:00)$/, `countdown starts near 10 minutes, got ${first}`);
    // The countdown runs: wait for its text to change.
    await page.waitForFunction(([sel, v]) => document.querySelector(sel)?.textContent !== v,
      [`${card} .countdown`, first]);
    // The counter covers the last hour, so the send made before the reset may be in it already
    // (auth events are written in the background): only a rise is asserted.
    const baseline = Number(await page.textContent(`${card} .old-key-uses`));
    const old = await sendEmail('e2e_mailer', oldApiKey, 'old-key@e2e.test');
    assert.equal(old.status, 200, 'the old key works during the grace period');
    assert.ok(old.headers.get('sunset'), 'a send with the old key is told when it ends');
    await page.waitForFunction(([sel, was]) => Number(document.querySelector(sel)?.textContent) > was,
      [`${card} .old-key-uses`, baseline], { timeout: 30000 });
    await shot('email-users-grace-running');
  });

  await t.test('after the grace period the old key is refused', async () => {
    step = 'grace-over';
    const adv = await fetch(`${base}/test/clock/advance?ms=${GRACE_MS + 60 * 1000}`, { method: 'POST' });
    assert.equal(adv.status, 200);
    const old = await sendEmail('e2e_mailer', oldApiKey, 'late@e2e.test');
    assert.equal(old.status, 401, JSON.stringify(old.body));
    assert.equal(old.body.errorCode, 'auth.key_expired');
    const fresh = await sendEmail('e2e_mailer', apiKey, 'new-key@e2e.test');
    assert.equal(fresh.status, 200);
    await go('/console/email-users');
    await loaded('#user-list');
    const card = 'article[data-user="e2e_mailer"]';
    assert.equal(await page.locator(`${card} .countdown`).count(), 0);
    assert.equal(await page.textContent(`${card} .grace-state`), 'none');
    await shot('email-users');
  });

  await t.test('access and limits of an API_USER: refusals beside their fields, then saved', async () => {
    step = 'email-limits';
    await go('/console/email-users');
    await loaded('#user-list');
    await page.click('article[data-user="e2e_mailer"] .act-limits');
    await page.waitForSelector('#user-detail[data-loaded]');
    assert.equal(await page.textContent('#detail-title'), 'API_USER e2e_mailer');
    // Server text goes in as text: a hostile value comes back in a hint, never as markup.
    await page.fill('#pol-ipAllowlist', '<img/src=x/onerror=alert(1)>');
    await savePolicy();
    assert.match(await fieldError('ipAllowlist'), /'<img\/src=x\/onerror=alert\(1\)>' is not an IP address or CIDR range/);
    assert.equal(await page.locator('#user-detail img').count(), 0);
    assert.ok(await page.locator('#flash').isHidden(), 'a field error is not also a page error');
    await shot('email-users-limits-error');
    await page.fill('#pol-ipAllowlist', '127.0.0.1\n::1');
    await page.fill('#pol-senderDomains', 'e2e.test, bad_domain!');
    await savePolicy();
    assert.match(await fieldError('senderDomains'), /'bad_domain!' is not a domain name/);
    assert.ok(await page.locator('#pol-ipAllowlist-error').isHidden(), 'the earlier error is gone');
    await page.fill('#pol-senderDomains', 'E2E.test');
    await page.fill('#pol-rateLimitPerMinute', 'ten');
    await savePolicy();
    assert.match(await fieldError('rateLimitPerMinute'), /rateLimitPerMinute must be a non-negative integer/);
    await page.fill('#pol-rateLimitPerMinute', '600');
    await page.fill('#pol-dailyQuota', '1000');
    await savePolicy();
    assert.match(await flashText(), /Access and limits of e2e_mailer saved/);
    assert.equal(await page.textContent('#user-detail .ip-allowlist'), '127.0.0.1, ::1');
    assert.equal(await page.textContent('#user-detail .sender-domains'), 'e2e.test');
    assert.equal(await page.textContent('#user-detail .rate-limit'), '600/minute');
    assert.equal(await page.textContent('#user-detail .daily-quota'), '1000');
    assert.equal(await page.locator('#policy-form [aria-invalid]').count(), 0);
    await shot('email-users-limits');
    // Stored, and enforced by the send API: from this address and domain only.
    const { body } = await consoleApi('email-users/e2e_mailer');
    assert.deepEqual(body.info.user.ipAllowlist, ['127.0.0.1', '::1']);
    assert.deepEqual(body.info.user.senderDomains, ['e2e.test']);
    assert.equal(body.info.user.rateLimitPerMinute, 600);
    assert.equal(body.info.user.dailyQuota, 1000);
    assert.equal((await sendEmail('e2e_mailer', apiKey, 'limits@e2e.test')).status, 200);
    const elsewhere = await form('/email/send', { apiUser: 'e2e_mailer', apiKey, from: 'a@other.test',
      to: 'limits@e2e.test', subject: 'E2E', plain: 'x' });
    assert.equal(elsewhere.status, 403, JSON.stringify(elsewhere.body));
    assert.equal(elsewhere.body.errorCode, 'auth.sender_not_allowed');
    // A reload shows what is stored.
    await go('/console/email-users?user=e2e_mailer');
    await page.waitForSelector('#user-detail[data-loaded]');
    assert.equal(await page.inputValue('#pol-ipAllowlist'), '127.0.0.1\n::1');
    assert.equal(await page.inputValue('#pol-rateLimitPerMinute'), '600');
  });

  await t.test('an SMS_USER: add, reset, the old key refused at once', async () => {
    step = 'sms';
    await go('/console/sms-users');
    await loaded('#user-list');
    await page.fill('#create-name', 'e2e_texter');
    await page.click('#create-submit');
    smsKey = await takeKeyFromDialog();
    await closeKeyDialog(smsKey);
    assert.equal((await sendSms('e2e_texter', smsKey)).status, 200);
    await page.click('article[data-user="e2e_texter"] .act-reset');
    await page.waitForSelector('#reset-dialog[open]');
    assert.match(await page.textContent('#reset-dialog'), /stops working immediately/);
    await shot('sms-users-reset-warning');
    await page.click('#reset-confirm');
    const newKey = await takeKeyFromDialog();
    await closeKeyDialog(newKey);
    const old = await sendSms('e2e_texter', smsKey);
    assert.equal(old.status, 401, 'the old SMS_KEY is refused at once');
    assert.equal((await sendSms('e2e_texter', newKey)).status, 200);
    smsKeyNow = newKey;
    await shot('sms-users');
  });

  await t.test('the SMS page shares the fragment: its own parts, and its limits', async () => {
    step = 'sms-limits';
    await go('/console/sms-users?user=e2e_texter');
    await page.waitForSelector('#user-detail[data-loaded]');
    // The email-only parts were removed, the SMS ones kept.
    assert.equal(await page.locator('#revoke-dialog, #pol-senderDomains, [data-kind="email"]').count(), 0);
    assert.equal(await page.locator('#pol-smsRoute').count(), 1);
    assert.equal(await page.textContent('#detail-title'), 'SMS_USER e2e_texter');
    assert.equal(await page.textContent('#key-title'), 'New SMS_KEY');
    await page.fill('#pol-dailyQuota', '-5');
    await page.fill('#pol-smsRoute', 'nowhere');
    await savePolicy();
    assert.match(await fieldError('dailyQuota'), /dailyQuota must be a non-negative integer/);
    await page.fill('#pol-dailyQuota', '50');
    await savePolicy();
    assert.match(await fieldError('smsRoute'), /no SMS route named 'nowhere'/);
    assert.ok(await page.locator('#pol-dailyQuota-error').isHidden());
    await shot('sms-users-limits-error');
    await page.fill('#pol-smsRoute', '');
    await savePolicy();
    assert.match(await flashText(), /Access and limits of e2e_texter saved/);
    assert.equal(await page.textContent('#user-detail .daily-quota'), '50');
    assert.equal((await consoleApi('sms-users/e2e_texter')).body.info.user.dailyQuota, 50);
    // And the email page kept its own parts.
    await go('/console/email-users');
    await loaded('#user-list');
    assert.equal(await page.locator('#revoke-dialog').count(), 1);
    assert.equal(await page.locator('#pol-smsRoute, [data-kind="sms"]').count(), 0);
  });

  await t.test('email templates: create, edit, delete, and a send that uses one', async () => {
    step = 'email-templates';
    await go('/console/email-users');
    await Promise.all([page.waitForURL(base + '/console/email-templates'),
      page.click('#nav a[href="/console/email-templates"]')]);
    await loaded('#template-list');
    assert.ok(await page.locator('#templates-empty').isVisible());
    // Neither body: the server's refusal is shown beside the form.
    await page.fill('#t-invokeName', 'e2e_welcome');
    await page.fill('#t-subject', 'Welcome %name%');
    await page.click('#template-save');
    await page.locator('#template-error').waitFor({ state: 'visible' });
    assert.match(await page.textContent('#template-error'), /needs html or plain/);
    const html = '<p>Hello <b>%name%</b></p><script>window.pwned = 1</script>';
    await page.fill('#t-html', html);
    await page.click('#template-save');
    const card = 'article[data-template="e2e_welcome"]';
    await page.waitForSelector(card);
    assert.match(await flashText(), /e2e_welcome created/);
    await page.click(`${card} summary`);
    // The body is shown as text: its markup is visible, none of it is in the DOM.
    assert.equal(await page.textContent(`${card} .template-text`), html);
    assert.equal(await page.locator(`${card} b, ${card} script`).count(), 0);
    assert.equal(await page.evaluate(() => window.pwned), undefined);
    await shot('email-templates');
    const send = () => form('/email/sendtemplate', { apiUser: 'e2e_mailer', apiKey,
      from: 'sender@e2e.test', templateInvokeName: 'e2e_welcome',
      xsmtpapi: JSON.stringify({ to: ['tpl@e2e.test'], sub: { '%name%': ['Ann'] } }) });
    assert.equal((await send()).status, 200);

    await page.click(`${card} .act-edit`);
    assert.equal(await page.textContent('#edit-title'), 'Edit e2e_welcome');
    assert.ok(await page.getAttribute('#t-invokeName', 'readonly') !== null, 'the invoke name is fixed');
    assert.equal(await page.inputValue('#t-html'), html);
    await page.fill('#t-subject', 'Hello again %name%');
    await page.click('#template-save');
    await page.waitForSelector(`${card} dd:text("Hello again %name%")`);
    assert.equal(await page.textContent('#edit-title'), 'New template');
    const stored = await consoleApi('templates/e2e_welcome');
    assert.equal(stored.body.info.template.subject, 'Hello again %name%');
    assert.equal(stored.body.info.template.html, html);

    await page.click(`${card} .act-delete`);
    await page.waitForSelector('#delete-dialog[open]');
    assert.equal(await page.textContent('#delete-name'), 'e2e_welcome');
    await page.click('#delete-confirm');
    await page.waitForSelector(card, { state: 'detached' });
    const gone = await send();
    assert.equal(gone.status, 400);
    assert.equal(gone.body.errorCode, 'email.template_not_found');
  });

  await t.test('SMS templates: create, edit, delete, and a send by templateId', async () => {
    step = 'sms-templates';
    await go('/console/sms-users');
    await Promise.all([page.waitForURL(base + '/console/sms-templates'),
      page.click('#nav a[href="/console/sms-templates"]')]);
    await loaded('#template-list');
    await page.fill('#t-name', 'Login code');
    await page.fill('#t-text', 'Your code is %code%');
    await page.click('#template-save');
    await page.waitForSelector('article.template');
    const id = await page.getAttribute('article.template', 'data-template');
    assert.match(id, /^\d+$/);
    const card = `article[data-template="${id}"]`;
    assert.match(await page.textContent(card), new RegExp(`templateId\\s*${id}`));
    await shot('sms-templates');
    const send = () => form('/smsapi/send', { smsUser: 'e2e_texter', smsKey: smsKeyNow,
      to: '+14155550100', templateId: id, vars: JSON.stringify({ code: '4711' }) });
    assert.equal((await send()).status, 200);
    await page.click(`${card} .act-edit`);
    await page.fill('#t-text', 'Your new code is %code%');
    await page.click('#template-save');
    assert.match(await flashText(), new RegExp(`Template ${id} saved`));
    assert.equal((await consoleApi(`sms-templates/${id}`)).body.info.template.text, 'Your new code is %code%');
    // Too long: the server's limit, shown beside the form; nothing changed.
    await page.click(`${card} .act-edit`);
    await page.fill('#t-text', 'x'.repeat(4001));
    await page.click('#template-save');
    await page.locator('#template-error').waitFor({ state: 'visible' });
    assert.match(await page.textContent('#template-error'), /at most 4000 bytes/);
    await page.click('#template-cancel');
    await page.click(`${card} .act-delete`);
    await page.click('#delete-confirm');
    await page.waitForSelector(card, { state: 'detached' });
    assert.equal((await send()).status, 400);
  });

  await t.test('a forged CSRF token fails visibly', async () => {
    step = 'forged-csrf';
    await go('/console/email-users');
    await loaded('#user-list');
    const real = await page.evaluate(() => sessionStorage.getItem('sc.csrf'));
    await page.evaluate(() => sessionStorage.setItem('sc.csrf', 'forged-token-0000000000000000'));
    await page.fill('#create-name', 'e2e_forged');
    await page.click('#create-submit');
    assert.match(await flashText(), /Refused: .*X-CSRF-Token/);
    await shot('csrf-forged');
    await page.evaluate((v) => sessionStorage.setItem('sc.csrf', v), real);
    const list = await fetch(`${base}/console/api/email-users`, { headers: { cookie: await cookieHeader() } });
    assert.ok(!JSON.stringify(await list.json()).includes('e2e_forged'), 'nothing was created');
  });

  await t.test("another account's user is not reachable by URL", async () => {
    step = 'cross-account';
    // Account B makes a user through the API, outside the browser.
    const login = await fetch(`${base}/console/api/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(B),
    });
    assert.equal(login.status, 200);
    const cookie = login.headers.get('set-cookie').split(';')[0];
    const { info } = await login.json();
    const made = await fetch(`${base}/console/api/email-users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': info.csrfToken },
      body: JSON.stringify({ name: 'b_private_user' }),
    });
    assert.equal(made.status, 200);
    await go('/console/email-users?user=b_private_user');
    assert.match(await flashText(), /Not found: this account has no email user named 'b_private_user'/);
    assert.equal(await page.locator('article[data-user="b_private_user"]').count(), 0);
    await shot('cross-account-refused');
  });

  await t.test('usage, authentication log and domains', async () => {
    step = 'other-pages';
    await go('/console/usage');
    await loaded('#usage-charts');
    await page.waitForSelector('section.chart[data-user="e2e_mailer"] svg rect');
    await shot('usage');
    // Four alike failures in well under a second: a second boundary and a background flush
    // split them into at most three events, so one event shows its count.
    for (let i = 0; i < 4; i++) {
      assert.equal((await sendEmail('e2e_mailer', 'x'.repeat(32), 'burst@e2e.test')).status, 401);
    }
    const deadline = Date.now() + 30000;
    for (;;) {
      await go('/console/auth-events');
      await loaded('#events-body');
      const counted = await page.$$eval('#events-body tr td:first-child',
        (cells) => cells.some((c) => /×[2-4]$/.test(c.textContent) && /attempts, the last at/.test(c.title)));
      if (counted) break;
      assert.ok(Date.now() < deadline, 'alike failures show as one event with its count');
      await page.waitForTimeout(200);
    }
    await page.waitForSelector('td.reason:text("Old key used after its grace period ended")');
    await shot('auth-events');
    await page.selectOption('#ev-outcome', 'success');
    await page.click('#ev-apply');
    await page.waitForFunction(() => [...document.querySelectorAll('#events-body tr')].every((r) => r.dataset.outcome === 'success'));
    await go('/console/domains');
    await loaded('#domain-list');
    await page.fill('#add-domain', 'e2e.test');
    await page.click('#add-submit');
    const key = 'article[data-domain="e2e.test"] .dkim-key';
    await page.waitForSelector(key);
    assert.match(await page.textContent(`${key} .dns-name`), /^sc\w*\._domainkey\.e2e\.test$/);
    assert.match(await page.textContent(`${key} .dns-value`), /^v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]{300,}$/);
    assert.equal(await page.getAttribute(`${key} .dns-status`, 'data-status'), 'unknown');
    await shot('domains');
  });

  await t.test('every page is usable at a phone width', async () => {
    step = 'phone';
    await page.setViewportSize({ width: 390, height: 844 });
    for (const [path, ready] of [['/console/email-users', '#user-list'], ['/console/sms-users', '#user-list'],
      ['/console/messages', '#message-list'], ['/console/usage', '#usage-charts'],
      ['/console/auth-events', '#events-body'], ['/console/domains', '#domain-list'],
      ['/console/email-templates', '#template-list'], ['/console/sms-templates', '#template-list']]) {
      await go(path);
      if (ready) await loaded(ready);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `${path} fits the phone's width (overflow ${overflow}px)`);
      await shot('phone-' + path.split('/').pop());
    }
    await page.click('#nav-toggle');
    await page.waitForSelector('#nav.open a[href="/console/messages"]');
    await shot('phone-nav-open');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  await t.test('every control has an accessible label', async () => {
    step = 'labels';
    for (const path of ['/console/email-users', '/console/email-users?user=e2e_mailer', '/console/sms-users',
      '/console/sms-users?user=e2e_texter', '/console/email-templates', '/console/sms-templates',
      '/console/usage', '/console/auth-events', '/console/messages']) {
      await go(path);
      const unlabeled = await page.evaluate(() => [...document.querySelectorAll('input, select, button, textarea')]
        .filter((c) => !(c.labels && c.labels.length) && !c.getAttribute('aria-label') && !c.textContent.trim())
        .map((c) => c.outerHTML.slice(0, 80)));
      assert.deepEqual(unlabeled, [], `${path}: controls without a label`);
    }
  });

  await t.test('log out', async () => {
    step = 'logout';
    await go('/console/email-users');
    await loaded('#user-list');
    await Promise.all([page.waitForURL(base + '/console/logout'), page.click('#logout')]);
    await page.waitForSelector('#logout-status:text("You are logged out.")');
    await shot('logout');
    step = 'after-logout';
    await page.goto(base + '/console/email-users');
    await page.waitForURL(/\/console\/login\?next=/);
  });

  await t.test('no key in the server log, no unexpected browser console errors', async () => {
    for (const k of [apiKey, oldApiKey, smsKey, smsKeyNow]) {
      assert.ok(!serverOutput.includes(k), 'a key appears in the server output');
    }
    const unexpected = consoleErrors.filter((e) => !(expectedErrorSteps.has(e.step) &&
      /Failed to load resource: the server responded with a status of (400|401|403|404)/.test(e.text)));
    assert.deepEqual(unexpected, []);
  });
});

async function cookieHeader() {
  const cookies = await context.cookies(base);
  return cookies.map((c) => `${c.name}=${c.value}`).join('; ');
}
