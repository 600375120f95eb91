'use strict';
// Domains: DKIM needs email delivery, which does not exist yet; meanwhile list the sender
// domains the account's API_USERs are limited to.
(async () => {
  const { el, api, flash, describe } = SC;
  if (!(await SC.requireSession())) return;
  const r = await api('GET', 'email-users');
  if (!r.ok) return flash(describe(r.error));
  const domains = new Map();
  for (const u of r.info.users) {
    for (const d of u.senderDomains || []) {
      if (!domains.has(d)) domains.set(d, []);
      domains.get(d).push(u.name);
    }
  }
  document.getElementById('domain-list').replaceChildren(...[...domains.entries()].sort().map(([d, users]) =>
    el('li', {}, el('code', { text: d }), ` — used by ${users.join(', ')}; DKIM record: not available yet`)));
  document.getElementById('domains-empty').hidden = domains.size > 0;
})();
