'use strict';
// API_USER Management and SMS Send Settings: one script, the kind read from <body data-page>.
// A key appears only in the dialog that shows it once; closing the dialog removes it from the
// DOM. Names (not keys) may appear in the URL: ?user=NAME opens one user's details.
(() => {
  const kind = document.body.dataset.page; // 'email-users' | 'sms-users'
  const isEmail = kind === 'email-users';
  const label = isEmail ? 'API_USER' : 'SMS_USER';
  const keyLabel = isEmail ? 'API_KEY' : 'SMS_KEY';
  const keyField = isEmail ? 'apiKey' : 'smsKey';
  const { el, api, flash, describe, fmtTime, fmtDuration, serverNow } = SC;
  const list = document.getElementById('user-list');
  let pollTimer = null;
  let pending = null; // the user a confirmation dialog is about

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

  // ---- actions -----------------------------------------------------------------------------
  async function resetKey(name, revokeOld) {
    flash('');
    const r = await api('POST', `${kind}/${encodeURIComponent(name)}/reset`,
      isEmail ? { revokeOld } : {});
    if (!r.ok) return flash(describe(r.error));
    const intro = !isEmail ? `The new ${keyLabel} of ${name}. The old key is already refused.`
      : revokeOld ? `The new ${keyLabel} of ${name}. The old key is already refused.`
        : `The new ${keyLabel} of ${name}. The old key works until ${fmtTime(r.info.oldKeyExpiresAt)}.`;
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

  function userCard(u, lastUse) {
    const state = u.disabled ? el('span', { class: 'badge off', text: 'Disabled' })
      : el('span', { class: 'badge on', text: 'Enabled' });
    const name = u.name;
    const facts = el('dl', { class: 'facts' },
      el('dt', { text: 'Purpose' }), el('dd', { text: u.purpose || '—' }),
      el('dt', { text: 'State' }), el('dd', {}, state, u.testMode ? ' ' : '',
        u.testMode ? el('span', { class: 'badge test', text: 'Test mode' }) : null),
      el('dt', { text: 'Key fingerprint' }), el('dd', {}, el('code', { class: 'fingerprint', text: u.keyFingerprint })),
      el('dt', { text: 'Key created' }), el('dd', { text: fmtTime(u.keyCreatedAt) }),
      el('dt', { text: 'Last use' }), el('dd', { class: 'last-use', text: lastUse ? fmtTime(lastUse) : 'never' }),
      isEmail ? el('dt', { text: 'Grace period' }) : null,
      isEmail ? el('dd', { class: 'grace-state', text: u.graceKey ? 'running: old key still accepted' : 'none' }) : null);
    const actions = el('div', { class: 'actions' },
      el('button', { type: 'button', class: 'act-reset', 'aria-label': `Reset the ${keyLabel} of ${name}`,
        onclick: () => ask(resetDialog, name) }, 'Reset key'),
      isEmail ? el('button', { type: 'button', class: 'act-revoke danger', 'aria-label': `Emergency revoke of ${name}'s key`,
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

  async function lastUseOf(name) {
    const r = await api('GET', `auth-events?user=${encodeURIComponent(name)}&outcome=success&limit=1`);
    return r.ok && r.info.events.length ? r.info.events[0].at : null;
  }

  async function load() {
    const r = await api('GET', kind);
    if (!r.ok) return flash(describe(r.error));
    const users = r.info.users;
    const lastUses = await Promise.all(users.map((u) => lastUseOf(u.name)));
    list.replaceChildren(...users.map((u, i) => userCard(u, lastUses[i])));
    document.getElementById('list-empty').hidden = users.length > 0;
    list.dataset.loaded = String(Date.now());
    // While a grace period runs, refresh now and then so the old-key counter stays current.
    clearTimeout(pollTimer);
    if (users.some((u) => u.graceKey)) pollTimer = setTimeout(load, 3000);
  }

  async function showDetail(name) {
    const box = document.getElementById('user-detail');
    const r = await api('GET', `${kind}/${encodeURIComponent(name)}`);
    if (!r.ok) {
      flash(describe(r.error));
      return;
    }
    document.getElementById('detail-title').textContent = `${label} ${name}`;
    const u = r.info.user;
    document.getElementById('detail-body').replaceChildren(el('dl', { class: 'facts' },
      el('dt', { text: 'Purpose' }), el('dd', { text: u.purpose || '—' }),
      el('dt', { text: 'Created' }), el('dd', { text: fmtTime(u.createdAt) }),
      el('dt', { text: 'IP allowlist' }), el('dd', { text: (u.ipAllowlist || []).join(', ') || 'any address' }),
      isEmail ? el('dt', { text: 'Sender domains' }) : null,
      isEmail ? el('dd', { text: (u.senderDomains || []).join(', ') || 'any domain' }) : null,
      el('dt', { text: 'Rate limit' }), el('dd', { text: u.rateLimitPerMinute ? `${u.rateLimitPerMinute}/minute` : 'none' }),
      el('dt', { text: 'Daily quota' }), el('dd', { text: u.dailyQuota ? String(u.dailyQuota) : 'none' }),
      isEmail ? null : el('dt', { text: 'SMS route' }),
      isEmail ? null : el('dd', { text: u.smsRoute || "by the number's prefix, else the default route" })));
    box.hidden = false;
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
    if (!(await SC.requireSession())) return;
    const user = new URLSearchParams(location.search).get('user');
    await load();
    if (user) await showDetail(user);
  })();
})();
