'use strict';
// Domains: the account's sending domains, each DKIM key's TXT record and whether DNS holds it
// (GET /console/api/domains looks each record up); add, rotate and remove. Everything the server
// sends is set as text, never as HTML.
(() => {
  const { el, api, flash, describe, fmtTime } = SC;
  const DNS = {
    published: ['Published: DNS holds this record', 'good'],
    missing: ['Not found in DNS yet: publish this record', 'warn'],
    different: ['DNS holds a different value at this name: replace it with this one', 'warn'],
    unknown: ['DNS could not be asked just now: check again later', 'warn'],
  };
  const list = document.getElementById('domain-list');

  function keyCard(domain, k) {
    const [text, kind] = DNS[k.dns.status] || DNS.unknown;
    return el('div', { class: 'dkim-key', 'data-selector': k.selector },
      el('p', {}, el('strong', { text: k.active ? 'Signing key' : 'Retired key (still verifies mail already sent)' }),
        ` — selector ${k.selector}, ${k.algorithm}, created ${fmtTime(k.createdAt)}`),
      el('p', {}, 'Name: ', el('code', { class: 'dns-name', text: k.dns.name }), ' TXT'),
      el('pre', { class: 'dns-value', text: k.dns.value }),
      el('p', { class: `dns-status ${kind}`, 'data-status': k.dns.status, text }));
  }

  async function load() {
    const r = await api('GET', 'domains');
    if (!r.ok) return flash(describe(r.error));
    list.replaceChildren(...r.info.domains.map((d) => el('article', { class: 'card', 'data-domain': d.domain },
      el('h3', { text: d.domain }),
      el('p', { text: `Added ${fmtTime(d.createdAt)}` }),
      ...d.keys.map((k) => keyCard(d.domain, k)),
      el('div', { class: 'actions' },
        el('button', { type: 'button', class: 'secondary rotate', text: 'Rotate key', onclick: () => rotate(d.domain) }),
        el('button', { type: 'button', class: 'danger remove', text: 'Remove', onclick: () => remove(d.domain) })))));
    document.getElementById('domains-empty').hidden = r.info.domains.length > 0;
    list.dataset.loaded = String(Date.now());
  }

  async function rotate(domain) {
    const r = await api('POST', `domains/${encodeURIComponent(domain)}/rotate`, {});
    if (!r.ok) return flash(describe(r.error));
    flash(`New signing key for ${domain}: publish its record; keep the old one published for a few days.`, 'info');
    load();
  }

  async function remove(domain) {
    if (!window.confirm(`Remove ${domain}? Mail from it will no longer be signed.`)) return;
    const r = await api('DELETE', `domains/${encodeURIComponent(domain)}`);
    if (!r.ok) return flash(describe(r.error));
    flash(`${domain} removed.`, 'info');
    load();
  }

  document.getElementById('add-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const domain = document.getElementById('add-domain').value.trim();
    const algorithm = document.getElementById('add-algorithm').value;
    const r = await api('POST', 'domains', { domain, algorithm });
    if (!r.ok) return flash(describe(r.error));
    document.getElementById('add-domain').value = '';
    flash(`${r.info.domain.domain} added: publish its DKIM record below.`, 'info');
    load();
  });
  document.getElementById('refresh').addEventListener('click', load);

  (async () => {
    if (!(await SC.requireSession())) return;
    load();
  })();
})();
