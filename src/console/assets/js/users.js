'use strict';
// API_USER Management and SMS Send Settings: one fragment (pages/users.html) and one script for
// both kinds of user. The kind is read from <body data-page>; what differs between the kinds is
// the table below, and the fragment's data-kind="email" | "sms" parts, of which the other
// kind's are removed. A key appears only in the dialog that shows it once; closing the dialog
// removes it from the DOM. Names (not keys) may appear in the URL: ?user=NAME opens one user's
// details and its access and limits form. Everything the server sends is set as text.
(() => {
  const KINDS = {
    'email-users': {
      kind: 'email', label: 'API_USER', keyLabel: 'API_KEY', keyField: 'apiKey',
      // An API_KEY reset keeps the old key for the server's grace period, unless revoked.
      graceOnReset: true,
      policyFields: ['ipAllowlist', 'senderDomains', 'rateLimitPerMinute', 'dailyQuota'],
    },
    'sms-users': {
      kind: 'sms', label: 'SMS_USER', keyLabel: 'SMS_KEY', keyField: 'smsKey',
      // An SMS_KEY reset ends the old key at once.
      graceOnReset: false,
      policyFields: ['ipAllowlist', 'rateLimitPerMinute', 'dailyQuota', 'smsRoute'],
    },
  };
  const page = document.body.dataset.page;
  const K = KINDS[page];
  const kind = page; // the API's collection: email-users | sms-users
  const { label, keyLabel, keyField } = K;
  const { el, api, flash, describe, fmtTime, fmtDuration, serverNow } = SC;
  for (const part of document.querySelectorAll('[data-kind]')) {
    if (part.dataset.kind !== K.kind) part.remove();
  }
  const list = document.getElementById('user-list');
  let pollTimer = null;
  let pending = null; // the user a confirmation dialog is about
  let graceSeconds = null; // this server's email_key_grace, from the session

  // ---- the key dialog ----------------------------------------------------------------------
  const keyDialog = document.getElementById('key-dialog');
  const keyValue = document.getElementById('key-value');
  const keyCopied = document.getElementById('key-copied');
  function showKey(intro, key) {
    document.getElementById('key-intro').textContent = intro;
    keyValue.value = key;
    keyCopied.textContent = '';
    SC.openDialog(keyDialog);
    keyValue.focus();
    keyValue.select();
  }
  function forgetKey() {
    keyValue.value = '';
    keyValue.defaultValue = '';
    keyCopied.textContent = '';
  }
  document.getElementById('key-copy').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(keyValue.value);
      keyCopied.textContent = 'Copied to the clipboard.';
    } catch (e) {
      keyValue.select();
      keyCopied.textContent = 'Select the key and copy it with Ctrl+C (⌘C).';
    }
  });
  // The dialog's 'close' event is queued, not immediate: forget the key before closing, so it is
  // gone from the page the moment the dialog is.
  document.getElementById('key-close').addEventListener('click', () => {
    forgetKey();
    keyDialog.close();
  });
  // Escape closes a dialog too: forget the key on every close, however it happens.
  keyDialog.addEventListener('close', forgetKey);

  // ---- confirmation dialogs ----------------------------------------------------------------
  function wireDialog(id, onConfirm) {
    const dialog = document.getElementById(id + '-dialog');
    if (!dialog) return null;
    document.getElementById(id + '-cancel').addEventListener('click', () => dialog.close());
    document.getElementById(id + '-confirm').addEventListener('click', async () => {
      dialog.close();
      if (pending) await onConfirm(pending);
    });
    return dialog;
  }
  const resetDialog = wireDialog('reset', (name) => resetKey(name, false));
  const revokeDialog = wireDialog('revoke', (name) => resetKey(name, true));
  const deleteDialog = wireDialog('delete', deleteUser);
  const deleteInput = document.getElementById('delete-confirm-name');
  deleteInput.addEventListener('input', () => {
    document.getElementById('delete-confirm').disabled = deleteInput.value !== pending;
  });
  function ask(dialog, name) {
    pending = name;
    if (dialog === deleteDialog) {
      document.getElementById('delete-name').textContent = name;
      deleteInput.value = '';
      document.getElementById('delete-confirm').disabled = true;
    }
    SC.openDialog(dialog);
  }

  // ---- the grace period ------------------------------------------------------------------
  // "a 15-minute grace period", from the server's setting; 0 means the old key ends at once.
  function graceLength(seconds) {
    if (seconds % 3600 === 0) return `${seconds / 3600}-hour`;
    if (seconds % 60 === 0) return `${seconds / 60}-minute`;
    return `${seconds}-second`;
  }
  function showGrace(seconds) {
    graceSeconds = seconds;
    if (!K.graceOnReset || typeof seconds !== 'number') return;
    for (const span of document.querySelectorAll('.grace-length')) {
      span.textContent = `a ${graceLength(seconds)} grace period`;
    }
    for (const p of document.querySelectorAll('[data-grace]')) {
      p.hidden = (p.dataset.grace === 'none') !== (seconds === 0);
    }
  }
  const graceless = () => !K.graceOnReset || graceSeconds === 0;
  function styleResetConfirm() {
    const confirm = document.getElementById('reset-confirm');
    confirm.textContent = graceless() ? 'Reset now' : 'Reset with grace period';
    confirm.classList.toggle('danger', graceless());
  }

  // ---- actions -----------------------------------------------------------------------------
  async function resetKey(name, revokeOld) {
    flash('');
    const r = await api('POST', `${kind}/${encodeURIComponent(name)}/reset`,
      K.graceOnReset ? { revokeOld } : {});
    if (!r.ok) return flash(describe(r.error));
    const intro = r.info.oldKeyExpiresAt && Date.parse(r.info.oldKeyExpiresAt) > serverNow()
      ? `The new ${keyLabel} of ${name}. The old key works until ${fmtTime(r.info.oldKeyExpiresAt)}.`
      : `The new ${keyLabel} of ${name}. The old key is already refused.`;
    await load();
    showKey(intro, r.info[keyField]);
  }
  async function setDisabled(name, disabled) {
    flash('');
    const r = await api('PATCH', `${kind}/${encodeURIComponent(name)}`, { disabled });
    if (!r.ok) return flash(describe(r.error));
    flash(`${name} is ${disabled ? 'disabled: its requests are refused' : 'enabled again'}.`, 'info');
    await load();
  }
  async function deleteUser(name) {
    flash('');
    const r = await api('DELETE', `${kind}/${encodeURIComponent(name)}`);
    if (!r.ok) return flash(describe(r.error));
    flash(`${name} was deleted.`, 'info');
    await load();
  }
  document.getElementById('create-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    flash('');
    const name = document.getElementById('create-name').value.trim();
    const purpose = document.getElementById('create-purpose').value.trim();
    const body = { name };
    if (purpose) body.purpose = purpose;
    const r = await api('POST', kind, body);
    if (!r.ok) return flash(describe(r.error));
    ev.target.reset();
    await load();
    showKey(`The ${keyLabel} of the new ${label} ${r.info.user.name}.`, r.info[keyField]);
  });
  document.getElementById('refresh').addEventListener('click', () => load());

  // ---- rendering ---------------------------------------------------------------------------
  function graceBlock(g) {
    const expires = Date.parse(g.expiresAt);
    return el('div', { class: 'grace', 'data-grace-for': g.fingerprint },
      el('p', {},
        'Key reset at ', fmtTime(g.resetAt), '. The old key ', el('code', { text: g.fingerprint }),
        ' still works for ',
        el('span', { class: 'countdown', 'data-expires': expires, role: 'timer' },
          fmtDuration(expires - serverNow())),
        ' (until ', fmtTime(g.expiresAt), ').'),
      el('p', {},
        el('span', { class: 'old-key-uses', text: g.requestsLastHour }),
        ` request${g.requestsLastHour === 1 ? '' : 's'} used the old key in the last hour.`,
        g.requestsLastHour > 0 ? ' Update those programs before the countdown ends.' : ''));
  }

  function userCard(u) {
    const state = u.disabled ? el('span', { class: 'badge off', text: 'Disabled' })
      : el('span', { class: 'badge on', text: 'Enabled' });
    const name = u.name;
    const facts = el('dl', { class: 'facts' },
      el('dt', { text: 'Purpose' }), el('dd', { text: u.purpose || '—' }),
      el('dt', { text: 'State' }), el('dd', {}, state, u.testMode ? ' ' : '',
        u.testMode ? el('span', { class: 'badge test', text: 'Test mode' }) : null),
      el('dt', { text: 'Key fingerprint' }), el('dd', {}, el('code', { class: 'fingerprint', text: u.keyFingerprint })),
      el('dt', { text: 'Key created' }), el('dd', { text: fmtTime(u.keyCreatedAt) }),
      // Kept by the server with the usage counters: no request per card.
      el('dt', { text: 'Last use' }), el('dd', { class: 'last-use', text: u.lastUsedAt ? fmtTime(u.lastUsedAt) : 'never' }),
      K.graceOnReset ? el('dt', { text: 'Grace period' }) : null,
      K.graceOnReset ? el('dd', { class: 'grace-state', text: u.graceKey ? 'running: old key still accepted' : 'none' }) : null);
    const actions = el('div', { class: 'actions' },
      el('a', { class: 'button secondary act-limits', href: `?user=${encodeURIComponent(name)}`,
        'aria-label': `Access and limits of ${name}` }, 'Access and limits'),
      el('button', { type: 'button', class: 'act-reset', 'aria-label': `Reset the ${keyLabel} of ${name}`,
        onclick: () => ask(resetDialog, name) }, 'Reset key'),
      K.graceOnReset ? el('button', { type: 'button', class: 'act-revoke danger', 'aria-label': `Emergency revoke of ${name}'s key`,
        onclick: () => ask(revokeDialog, name) }, 'Emergency revoke') : null,
      el('button', { type: 'button', class: 'act-toggle secondary',
        'aria-label': `${u.disabled ? 'Enable' : 'Disable'} ${name}`,
        onclick: () => setDisabled(name, !u.disabled) }, u.disabled ? 'Enable' : 'Disable'),
      el('button', { type: 'button', class: 'act-delete secondary', 'aria-label': `Delete ${name}`,
        onclick: () => ask(deleteDialog, name) }, 'Delete'));
    return el('article', { class: 'card user', 'data-user': name, 'aria-label': `${label} ${name}` },
      el('h3', {}, el('a', { href: `?user=${encodeURIComponent(name)}`, text: name })),
      facts, u.graceKey ? graceBlock(u.graceKey) : null, actions);
  }

  async function load() {
    const r = await api('GET', kind);
    if (!r.ok) return flash(describe(r.error));
    const users = r.info.users;
    list.replaceChildren(...users.map(userCard));
    document.getElementById('list-empty').hidden = users.length > 0;
    list.dataset.loaded = String(Date.now());
    // While a grace period runs, refresh now and then so the old-key counter stays current.
    clearTimeout(pollTimer);
    if (users.some((u) => u.graceKey)) pollTimer = setTimeout(load, 3000);
  }

  // ---- one user: its facts, and its access and limits -------------------------------------
  // The policy fields of docs/api.md §15.2 the form edits. Lists are one entry a line (commas
  // and spaces separate too); counts are sent as numbers when they are digits, else as typed,
  // so that the server's refusal says what is wrong with them.
  const policyForm = document.getElementById('policy-form');
  const LISTS = new Set(['ipAllowlist', 'senderDomains']);
  const COUNTS = new Set(['rateLimitPerMinute', 'dailyQuota']);
  const input = (field) => document.getElementById(`pol-${field}`);
  let detailName = null;

  function fillPolicy(u) {
    for (const f of K.policyFields) {
      const v = u[f];
      input(f).value = LISTS.has(f) ? (v || []).join('\n') : COUNTS.has(f) ? (v ? String(v) : '') : (v || '');
    }
  }
  function policyBody() {
    const body = {};
    for (const f of K.policyFields) {
      const v = input(f).value.trim();
      if (LISTS.has(f)) body[f] = v.split(/[\s,]+/).filter((e) => e !== '');
      else if (COUNTS.has(f)) body[f] = v === '' ? 0 : /^\d{1,15}$/.test(v) ? Number(v) : v;
      else body[f] = v;
    }
    return body;
  }

  // Which field a refusal is about: the codes that name one kind of entry, else the field the
  // hint starts with ("dailyQuota must be a non-negative integer ...", docs/api.md §15.5).
  const FIELD_OF_CODE = {
    'console.invalid_cidr': 'ipAllowlist',
    'console.invalid_domain': 'senderDomains',
    'console.unknown_route': 'smsRoute',
  };
  function fieldOf(error) {
    const byCode = FIELD_OF_CODE[error.code];
    if (byCode) return K.policyFields.includes(byCode) ? byCode : null;
    const first = /^(\w+)\b/.exec(error.hint || '');
    return first && K.policyFields.includes(first[1]) ? first[1] : null;
  }
  function clearFieldErrors() {
    for (const f of K.policyFields) {
      const box = document.getElementById(`pol-${f}-error`);
      box.textContent = '';
      box.hidden = true;
      input(f).removeAttribute('aria-invalid');
    }
  }
  function showFieldError(error) {
    const f = fieldOf(error);
    if (!f) return flash(describe(error));
    const box = document.getElementById(`pol-${f}-error`);
    box.textContent = error.hint + (error.code ? ` (${error.code})` : '');
    box.hidden = false;
    input(f).setAttribute('aria-invalid', 'true');
    input(f).focus();
  }

  policyForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!detailName) return;
    flash('');
    clearFieldErrors();
    const r = await api('PATCH', `${kind}/${encodeURIComponent(detailName)}`, policyBody());
    if (!r.ok) return showFieldError(r.error);
    renderDetail(r.info.user);
    flash(`Access and limits of ${detailName} saved.`, 'info');
    await load();
  });

  function renderDetail(u) {
    const joined = (v, none) => (v || []).join(', ') || none;
    document.getElementById('detail-body').replaceChildren(el('dl', { class: 'facts' },
      el('dt', { text: 'Purpose' }), el('dd', { text: u.purpose || '—' }),
      el('dt', { text: 'Created' }), el('dd', { text: fmtTime(u.createdAt) }),
      el('dt', { text: 'Last use' }), el('dd', { class: 'last-use', text: u.lastUsedAt ? fmtTime(u.lastUsedAt) : 'never' }),
      el('dt', { text: 'IP allowlist' }), el('dd', { class: 'ip-allowlist', text: joined(u.ipAllowlist, 'any address') }),
      K.kind === 'email' ? el('dt', { text: 'Sender domains' }) : null,
      K.kind === 'email' ? el('dd', { class: 'sender-domains', text: joined(u.senderDomains, 'any domain') }) : null,
      el('dt', { text: 'Rate limit' }), el('dd', { class: 'rate-limit', text: u.rateLimitPerMinute ? `${u.rateLimitPerMinute}/minute` : 'none' }),
      el('dt', { text: 'Daily quota' }), el('dd', { class: 'daily-quota', text: u.dailyQuota ? String(u.dailyQuota) : 'none' }),
      K.kind === 'sms' ? el('dt', { text: 'SMS route' }) : null,
      K.kind === 'sms' ? el('dd', { class: 'sms-route', text: u.smsRoute || "by the number's prefix, else the default route" }) : null));
    fillPolicy(u);
  }

  async function showDetail(name) {
    const box = document.getElementById('user-detail');
    const r = await api('GET', `${kind}/${encodeURIComponent(name)}`);
    if (!r.ok) {
      flash(describe(r.error));
      return;
    }
    detailName = name;
    document.getElementById('detail-title').textContent = `${label} ${name}`;
    renderDetail(r.info.user);
    box.hidden = false;
    box.dataset.loaded = String(Date.now());
  }

  // The countdowns tick every second in the server's time; one that ends reloads the list.
  setInterval(() => {
    let ended = false;
    for (const c of document.querySelectorAll('.countdown[data-expires]')) {
      const left = Number(c.dataset.expires) - serverNow();
      c.textContent = fmtDuration(left);
      if (left <= 0) ended = true;
    }
    if (ended) load();
  }, 1000);

  (async () => {
    const session = await SC.requireSession();
    if (!session) return;
    showGrace(session.emailKeyGraceSeconds);
    styleResetConfirm();
    const user = new URLSearchParams(location.search).get('user');
    await load();
    if (user) await showDetail(user);
  })();
})();
