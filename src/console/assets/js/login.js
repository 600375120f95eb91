'use strict';
// Login: the management API checks the password and sets the HttpOnly session cookie; the
// CSRF token it returns once is kept in sessionStorage for this tab.
(() => {
  const form = document.getElementById('login-form');
  const params = new URLSearchParams(location.search);
  // Only a console page may be the destination: never another site.
  const next = params.get('next');
  const target = next && /^\/console\/[a-z-]+$/.test(next) ? next : '/console/email-users';
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    SC.flash('');
    const button = document.getElementById('login-submit');
    button.disabled = true;
    const r = await SC.api('POST', 'login', {
      email: document.getElementById('login-email').value.trim(),
      password: document.getElementById('login-password').value,
    });
    button.disabled = false;
    if (!r.ok) {
      document.getElementById('login-password').value = '';
      SC.flash(r.status === 401 ? 'Wrong e-mail or password.' : SC.describe(r.error));
      return;
    }
    sessionStorage.setItem(SC.CSRF_KEY, r.info.csrfToken);
    location.assign(target);
  });
})();
