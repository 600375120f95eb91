'use strict';
// Email Templates and SMS Templates: list, create, edit and delete an account's templates over
// /console/api/templates and /console/api/sms-templates (docs/api.md §15.4). One script for both
// pages, the kind read from <body data-page>; the form's inputs are named after the API's fields.
// Template bodies are shown and edited as text (a <pre>, a <textarea>), never rendered as HTML.
(() => {
  const KINDS = {
    'email-templates': {
      kind: 'email', // the fragment's data-kind parts this page keeps
      path: 'templates',
      key: (t) => t.invokeName,
      fields: ['invokeName', 'name', 'subject', 'html', 'plain'],
      fixed: ['invokeName'], // cannot change once made
      title: (t) => t.invokeName,
      facts: (t) => [['Name', t.name], ['Subject', t.subject || '—']],
      bodies: (t) => [['HTML body', t.html], ['Plain-text body', t.plain]],
    },
    'sms-templates': {
      kind: 'sms',
      path: 'sms-templates',
      key: (t) => String(t.id),
      fields: ['name', 'text'],
      fixed: [],
      title: (t) => `Template ${t.id}`,
      facts: (t) => [['templateId', String(t.id)], ['Name', t.name || '—']],
      bodies: (t) => [['Text', t.text]],
    },
  };
  const K = KINDS[document.body.dataset.page];
  const { el, api, flash, describe, fmtTime } = SC;
  for (const part of document.querySelectorAll('[data-kind]')) {
    if (part.dataset.kind !== K.kind) part.remove();
  }
  const list = document.getElementById('template-list');
  const form = document.getElementById('template-form');
  const errorBox = document.getElementById('template-error');
  const input = (f) => document.getElementById(`t-${f}`);
  let editing = null; // the key of the template in the form; null: a new one
  let pending = null; // the template the delete dialog is about

  function showError(error) {
    errorBox.textContent = describe(error);
    errorBox.hidden = false;
  }
  function clearError() {
    errorBox.textContent = '';
    errorBox.hidden = true;
  }

  function edit(t) {
    editing = t ? K.key(t) : null;
    clearError();
    for (const f of K.fields) {
      input(f).value = t ? (t[f] || '') : '';
      input(f).readOnly = Boolean(t) && K.fixed.includes(f);
    }
    document.getElementById('edit-title').textContent = t ? `Edit ${K.title(t)}` : 'New template';
    document.getElementById('template-save').textContent = t ? 'Save changes' : 'Create template';
    document.getElementById('template-cancel').hidden = !t;
    if (t) {
      form.scrollIntoView({ block: 'start' });
      input(K.fields.find((f) => !K.fixed.includes(f))).focus();
    }
  }

  function card(t) {
    const key = K.key(t);
    const facts = el('dl', { class: 'facts' },
      ...K.facts(t).flatMap(([dt, dd]) => [el('dt', { text: dt }), el('dd', { text: dd })]),
      el('dt', { text: 'Updated' }), el('dd', { text: fmtTime(t.updatedAt) }));
    const bodies = K.bodies(t).filter(([, text]) => text).map(([what, text]) =>
      el('details', { class: 'template-body' }, el('summary', { text: what }),
        el('pre', { class: 'template-text', text })));
    return el('article', { class: 'card template', 'data-template': key, 'aria-label': K.title(t) },
      el('h3', { text: K.title(t) }), facts, ...bodies,
      el('div', { class: 'actions' },
        el('button', { type: 'button', class: 'act-edit secondary', 'aria-label': `Edit ${K.title(t)}`,
          onclick: () => edit(t) }, 'Edit'),
        el('button', { type: 'button', class: 'act-delete danger', 'aria-label': `Delete ${K.title(t)}`,
          onclick: () => askDelete(t) }, 'Delete')));
  }

  async function load() {
    const r = await api('GET', K.path);
    if (!r.ok) return flash(describe(r.error));
    list.replaceChildren(...r.info.templates.map(card));
    document.getElementById('templates-empty').hidden = r.info.templates.length > 0;
    list.dataset.loaded = String(Date.now());
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    flash('');
    clearError();
    const body = {};
    for (const f of K.fields) {
      if (editing !== null && K.fixed.includes(f)) continue;
      body[f] = input(f).value;
    }
    const r = editing === null
      ? await api('POST', K.path, body)
      : await api('PATCH', `${K.path}/${encodeURIComponent(editing)}`, body);
    if (!r.ok) return showError(r.error);
    const t = r.info.template;
    flash(`${K.title(t)} ${editing === null ? 'created' : 'saved'}.`, 'info');
    edit(null);
    await load();
  });
  document.getElementById('template-cancel').addEventListener('click', () => edit(null));

  const deleteDialog = document.getElementById('delete-dialog');
  function askDelete(t) {
    pending = t;
    document.getElementById('delete-name').textContent = K.title(t);
    SC.openDialog(deleteDialog);
  }
  document.getElementById('delete-cancel').addEventListener('click', () => deleteDialog.close());
  document.getElementById('delete-confirm').addEventListener('click', async () => {
    deleteDialog.close();
    if (!pending) return;
    const key = K.key(pending);
    const title = K.title(pending);
    pending = null;
    flash('');
    const r = await api('DELETE', `${K.path}/${encodeURIComponent(key)}`);
    if (!r.ok) return flash(describe(r.error));
    if (editing === key) edit(null);
    flash(`${title} was deleted.`, 'info');
    await load();
  });
  document.getElementById('refresh').addEventListener('click', () => load());

  (async () => {
    if (await SC.requireSession()) await load();
  })();
})();
