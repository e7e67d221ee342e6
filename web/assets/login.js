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
  // Where to go after logging in: a path on this origin, else '/'. The same rule as the server's
  // same_origin_path(): URI characters only (no backslash, space or control character — a
  // browser drops tabs and newlines, so "/\t/evil" would become "//evil"), "/" not followed by
  // "/" or "\\", the same after percent-decoding, and the URL it parses to keeps this origin.
  function safeNext(raw) {
    if (typeof raw !== 'string' || raw.length === 0 || raw.length > 2048) return '/';
    if (!/^\/(?![\/\\])[A-Za-z0-9\-._~!$&'()*+,;=:@\/?#%]*$/.test(raw)) return '/';
    let decoded;
    try { decoded = decodeURIComponent(raw); } catch (e) { return '/'; }
    if (/^\/[\/\\]/.test(decoded) || /[\\\u0000-\u001f\u007f]/.test(decoded)) return '/';
    let url;
    try { url = new URL(raw, location.origin); } catch (e) { return '/'; }
    if (url.origin !== location.origin) return '/';
    return url.pathname + url.search + url.hash;
  }
  const next = new URLSearchParams(location.search).get('next');
  async function login(body) {
    if (next) body.next = next;
    const res = await fetch('/login', { method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    let json = {};
    try { json = await res.json(); } catch (e) { /* shown below */ }
    if (res.status !== 200) { show(json.error || ('login failed (' + res.status + ')')); return; }
    // The server answers the `next` it accepted; checked here once more before leaving.
    location.href = safeNext(json.next || '/');
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
