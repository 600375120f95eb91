'use strict';
// Logout: ends the session on the server (which clears the cookie) and forgets the CSRF token.
(async () => {
  const status = document.getElementById('logout-status');
  const token = sessionStorage.getItem(SC.CSRF_KEY);
  sessionStorage.removeItem(SC.CSRF_KEY);
  if (!token) {
    status.textContent = 'You are logged out.';
    return;
  }
  const res = await fetch('/console/api/logout', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'x-csrf-token': token },
  }).catch(() => null);
  status.textContent = res && res.ok ? 'You are logged out.'
    : 'You are logged out of this tab. The server session could not be ended; it expires by itself.';
})();
