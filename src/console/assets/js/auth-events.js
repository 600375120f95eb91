'use strict';
// Authentication log: filters, newest first, paged with the API's nextBefore cursor; reason
// codes shown in words (the code itself stays in a tooltip for searching the docs).
(() => {
  const { el, api, flash, describe, fmtTime } = SC;
  const REASONS = {
    'console.login': 'Console login',
    'console.login_failed': 'Console login with a wrong e-mail or password',
    'auth.failed': 'Wrong user name or key',
    'auth.key_expired': 'Old key used after its grace period ended',
    'auth.missing_credentials': 'No user name or key in the request',
    'auth.credentials_in_header': 'Credentials sent in a header instead of parameters',
    'auth.wrong_parameter_names': "Credentials under the other API's parameter names",
    'auth.whitespace': 'Key or user name with stray spaces',
    'auth.user_disabled': 'User is disabled',
    'auth.ip_not_allowed': 'Client IP not on the allowlist',
    'auth.sender_not_allowed': 'Sender domain not allowed for this user',
    'auth.signature_invalid': 'Bad SMS signature',
    'auth.signature_stale': 'SMS signature too old',
    'auth.signature_replayed': 'SMS signature used twice',
    'auth.too_many_failures': 'Locked out after too many failures',
    'limit.rate_exceeded': 'Over the per-minute rate limit',
    'limit.daily_quota': 'Over the daily quota',
  };
  const OUTCOMES = { success: 'Success', failure: 'Failure', locked: 'Locked out', forbidden: 'Forbidden', rate_limited: 'Rate-limited' };
  const reasonText = (code, outcome) => code ? (REASONS[code] || code.replace(/[._]/g, ' ')) : (outcome === 'success' ? 'Accepted' : '—');
  const pages = []; // the `before` cursors of the pages shown so far (0: newest)
  let next = null;

  function filters() {
    const p = new URLSearchParams();
    const user = document.getElementById('ev-user').value.trim();
    const outcome = document.getElementById('ev-outcome').value;
    const from = document.getElementById('ev-from').value;
    const to = document.getElementById('ev-to').value;
    if (user) p.set('user', user);
    if (outcome) p.set('outcome', outcome);
    if (from) p.set('from', from + ':00Z');
    if (to) p.set('to', to + ':00Z');
    p.set('limit', '25');
    return p;
  }

  async function load(before) {
    flash('');
    const p = filters();
    if (before) p.set('before', String(before));
    const r = await api('GET', 'auth-events?' + p.toString());
    if (!r.ok) return flash(describe(r.error));
    const body = document.getElementById('events-body');
    body.replaceChildren(...r.info.events.map((e) => el('tr', { 'data-outcome': e.outcome },
      // Alike attempts within one second come as one event with their count.
      el('td', e.attempts > 1 ? { text: fmtTime(e.at) + ' ×' + e.attempts, title: e.attempts + ' attempts, the last at ' + fmtTime(e.lastAt) } : { text: fmtTime(e.at) }),
      el('td', { text: e.api }),
      el('td', { text: e.user || '—' }),
      el('td', { class: e.outcome === 'success' ? 'outcome-success' : 'outcome-bad', text: OUTCOMES[e.outcome] || e.outcome }),
      el('td', { class: 'reason', title: e.reason || '', text: reasonText(e.reason, e.outcome) }),
      el('td', {}, e.keyFingerprint ? el('code', { text: e.keyFingerprint }) : '—'),
      el('td', { text: e.clientIp || '—' }))));
    document.getElementById('events-empty').hidden = r.info.events.length > 0;
    next = r.info.nextBefore;
    document.getElementById('ev-older').disabled = !next;
    document.getElementById('ev-newest').disabled = !before;
    body.dataset.loaded = String(Date.now());
  }

  document.getElementById('events-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    pages.length = 0;
    load(0);
  });
  document.getElementById('ev-older').addEventListener('click', () => {
    if (!next) return;
    pages.push(next);
    load(next);
  });
  document.getElementById('ev-newest').addEventListener('click', () => {
    pages.length = 0;
    load(0);
  });
  (async () => {
    if (await SC.requireSession()) await load(0);
  })();
})();
