'use strict';
// Shared by every console page: the API client (session cookie + CSRF header), the server's
// clock, small DOM helpers and the navigation. The CSRF token lives in sessionStorage only:
// never in a URL, never in a cookie the browser would send by itself.
window.SC = (() => {
  const CSRF_KEY = 'sc.csrf';
  const meta = document.querySelector('meta[name="sc-server-time"]');
  // The server's time minus the browser's: countdowns follow the server's clock.
  let skewMs = meta && Number(meta.content) > 0 ? Number(meta.content) - Date.now() : 0;

  const serverNow = () => Date.now() + skewMs;
  const setServerTime = (iso) => {
    const t = Date.parse(iso);
    if (!Number.isNaN(t)) skewMs = t - Date.now();
  };

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = v;
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function flash(message, kind) {
    const box = document.getElementById('flash');
    if (!box) return;
    if (!message) {
      box.hidden = true;
      box.textContent = '';
      return;
    }
    box.className = 'flash ' + (kind || 'error');
    box.textContent = message;
    box.hidden = false;
  }

  // What a person should read for a failed call: the API's hint, with a plain prefix.
  function describe(error) {
    if (!error) return 'The request failed.';
    const prefix = {
      401: 'Not signed in',
      403: 'Refused',
      404: 'Not found',
      409: 'Already exists',
      429: 'Too many attempts',
    }[error.status] || 'Error';
    return `${prefix}: ${error.hint || error.message || 'the request failed'}` +
      (error.code ? ` (${error.code})` : '');
  }

  async function api(method, path, body) {
    const headers = { accept: 'application/json' };
    const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
    if (method !== 'GET') headers['x-csrf-token'] = sessionStorage.getItem(CSRF_KEY) || '';
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch('/console/api/' + path, init);
    } catch (e) {
      return { ok: false, status: 0, error: { status: 0, hint: 'the server could not be reached' } };
    }
    let data = null;
    try {
      data = await res.json();
    } catch (e) {
      data = null;
    }
    if (res.ok) return { ok: true, status: res.status, info: (data && data.info) || {} };
    const error = {
      status: res.status,
      code: data && data.errorCode,
      hint: data && data.hint,
      message: data && data.message,
    };
    if (res.status === 401 && path !== 'login') {
      // The session ended: back to the login page, which returns here afterwards.
      sessionStorage.removeItem(CSRF_KEY);
      location.assign('/console/login?next=' + encodeURIComponent(location.pathname));
    }
    return { ok: false, status: res.status, error };
  }

  const pad = (n) => String(n).padStart(2, '0');
  function fmtTime(iso) {
    if (!iso) return '—';
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return iso;
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
      `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
  }
  function fmtDuration(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    return `${Math.floor(s / 60)}:${pad(s % 60)}`;
  }

  // Shared by the dialogs that take a typed confirmation.
  function openDialog(dialog) {
    if (!dialog.open) dialog.showModal();
  }

  function setUpNav() {
    const toggle = document.getElementById('nav-toggle');
    const nav = document.getElementById('nav');
    if (toggle && nav) {
      toggle.addEventListener('click', () => {
        const open = nav.classList.toggle('open');
        toggle.setAttribute('aria-expanded', String(open));
      });
      for (const a of nav.querySelectorAll('a')) {
        if (a.getAttribute('href') === location.pathname) a.setAttribute('aria-current', 'page');
      }
    }
    const logout = document.getElementById('logout');
    if (logout) logout.addEventListener('click', () => location.assign('/console/logout'));
  }

  // Pages with navigation need a session: shows who is signed in, or goes to the login page.
  // Answers the session's info ({account, expiresAt, emailKeyGraceSeconds}), null without one.
  async function requireSession() {
    const r = await api('GET', 'session');
    if (!r.ok) {
      if (r.status !== 401) flash(describe(r.error));
      return null;
    }
    const who = document.getElementById('who');
    if (who) who.textContent = r.info.account.email;
    return r.info;
  }

  setUpNav();
  return {
    api, el, flash, describe, fmtTime, fmtDuration, serverNow, setServerTime, requireSession,
    openDialog, CSRF_KEY,
  };
})();
