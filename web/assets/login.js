'use strict';
// The login page stands alone (app.js needs a session).
(() => {
  const message = document.getElementById('login-message');
  function show(text) {
    while (message.firstChild) message.removeChild(message.firstChild);
    const d = document.createElement('div');
    d.className = 'notice error';
    d.textContent = text;
    message.append(d);
  }
  async function login(body) {
    const res = await fetch('/login', { method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    let json = {};
    try { json = await res.json(); } catch (e) { /* shown below */ }
    if (res.status !== 200) { show(json.error || ('login failed (' + res.status + ')')); return; }
    // Only a path on this site: never an absolute or protocol-relative address.
    const next = new URLSearchParams(location.search).get('next');
    location.href = next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
  }
  document.getElementById('login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    login({ user: document.getElementById('user').value, password: document.getElementById('password').value });
  });
  document.getElementById('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    login({ token: document.getElementById('token').value.trim() });
  });
})();
