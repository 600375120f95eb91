'use strict';
// Messages: the account's recent messages with each recipient's state and its attempt log
// (oldest first). Everything the server sends is set as text, never as HTML.
(() => {
  const { el, api, flash, describe, fmtTime } = SC;
  // The recipient states of src/store/records.h (RecipientState).
  const STATES = {
    queued: 'Queued (waiting for delivery)', sending: 'Being sent', delivered: 'Delivered',
    deferred: 'Deferred (will retry)', bounced: 'Bounced', expired: 'Expired (gave up)',
    suppressed: 'Suppressed (address on the suppression list)',
    sandbox: 'Test mode: accepted, never sent', submitted: 'Submitted to the SMS gateway',
    undeliverable: 'Undeliverable', rejected: 'Rejected by the SMS gateway', failed: 'Failed',
  };
  const attemptText = (a) => [fmtTime(a.at), a.outcome, a.host, a.replyCode, a.enhancedCode,
    a.replyText, a.tls, a.smscId].filter((v) => v !== undefined && v !== '').join(' · ');
  const attemptLog = (rc) => (rc.attemptLog && rc.attemptLog.length
    ? el('ol', { class: 'attempts', 'aria-label': `Attempts for ${rc.address}` },
      rc.attemptLog.map((a) => el('li', { text: attemptText(a) })))
    : null);
  async function load() {
    flash('');
    const r = await api('GET', 'messages?limit=50');
    if (!r.ok) return flash(describe(r.error));
    SC.setServerTime(r.info.serverTime);
    const list = document.getElementById('message-list');
    list.replaceChildren(...r.info.messages.map((m) => el('article', { class: 'card message', 'data-message': m.id, 'aria-label': `Message ${m.id}` },
      el('h2', {}, el('code', { text: m.id })),
      el('dl', { class: 'facts' },
        el('dt', { text: 'Kind' }), el('dd', { text: m.kind === 'sms' ? 'SMS' : 'Email' }),
        el('dt', { text: 'Sent by' }), el('dd', { text: m.apiUser }),
        el('dt', { text: 'Queued' }), el('dd', { text: fmtTime(m.createdAt) }),
        m.testMode ? el('dt', { text: 'Mode' }) : null, m.testMode ? el('dd', { text: 'Test mode' }) : null),
      el('ul', { class: 'recipients', 'aria-label': 'Recipients' }, m.recipients.map((rc) => el('li', {},
        el('span', { class: 'address', text: rc.address }), ` (${rc.role}) — `,
        el('span', { class: 'state', 'data-state': rc.state, text: STATES[rc.state] || rc.state }),
        `, since ${fmtTime(rc.updatedAt)}`, rc.attempts ? `, ${rc.attempts} attempt(s)` : '',
        attemptLog(rc)))))));
    document.getElementById('messages-empty').hidden = r.info.messages.length > 0;
    list.dataset.loaded = String(Date.now());
  }
  document.getElementById('refresh').addEventListener('click', load);
  (async () => {
    if (await SC.requireSession()) await load();
  })();
})();
