// Shared by every page: the API call with the session's CSRF token, DOM helpers that never
// put data into HTML, the header, and formatting. No framework; nothing loaded from elsewhere.
'use strict';

const capf = (() => {
  let csrf = null;
  let user = null;

  /** Element builder: el('td', {class: 'num'}, 'text', child, ...). Text is always text. */
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

  /** Calls the dashboard API; resolves {status, body}. 401 sends the browser to the login page. */
  async function api(method, path, body) {
    const opts = { method, credentials: 'same-origin', headers: {} };
    if (method !== 'GET') {
      opts.headers['Content-Type'] = 'application/json';
      opts.headers['X-CSRF-Token'] = csrf || '';
      opts.body = JSON.stringify(body === undefined ? {} : body);
    }
    const res = await fetch(path, opts);
    if (res.status === 401 && path !== '/login') {
      location.href = '/login?next=' + encodeURIComponent(location.pathname + location.search);
      throw new Error('not logged in');
    }
    let json = null;
    try { json = await res.json(); } catch (e) { json = { error: 'unreadable answer (' + res.status + ')' }; }
    return { status: res.status, body: json };
  }

  /** The admin API (the same JSON the CLI gets) under /api. */
  const admin = (method, path, body) => api(method, '/api' + path, body);

  const pages = [
    ['overview', '/', 'Overview'], ['jobs', '/jobs', 'Jobs'], ['submit', '/submit', 'Submit a job'], ['devices', '/devices', 'Devices'],
    ['trust', '/trust', 'Trust stores'], ['csrs', '/csrs', 'CSRs & rounds'], ['stale-lscs', '/stale-lscs', 'Stale LSCs'],
    ['policies', '/policies', 'Policies'], ['audit', '/audit', 'Audit'],
  ];

  /** Loads the session (user and CSRF token) and draws the header. */
  async function init(page) {
    const r = await api('GET', '/api/session');
    csrf = r.body.csrf;
    user = r.body.user;
    const header = document.querySelector('header.top');
    clear(header).append(
      el('span', { class: 'brand' }, 'capf'),
      el('nav', {}, pages.map(([id, href, title]) => el('a', { href, class: id === page ? 'here' : null }, title))),
      el('span', { class: 'who' }, 'signed in as ', el('b', { id: 'user' }, user),
         el('button', { id: 'logout', onclick: async () => { await api('POST', '/logout'); location.href = '/login'; } }, 'Log out')));
  }

  function badge(state) { return el('span', { class: 'badge ' + String(state || '') }, state || '—'); }

  function when(iso) {
    if (!iso) return '—';
    const d = new Date(iso);
    if (isNaN(d)) return iso;
    return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  }

  function notice(node, kind, text) { clear(node).append(el('div', { class: 'notice ' + kind }, text)); }

  /** Shown where a route of another part of capf is missing from this build. */
  function unavailable(node, what) {
    clear(node).append(el('div', { class: 'unavailable', 'data-unavailable': '1' },
      what + ' is not available in this build.'));
  }

  const finalStates = ['succeeded', 'failed', 'expired', 'cancelled'];
  const deviceStates = ['queued', 'triggered', 'in-session', 'pending-ca', 'succeeded', 'failed', 'expired', 'cancelled'];

  /** A stacked progress bar of a job (succeeded, failed, expired, cancelled, in flight). */
  function progress(job) {
    const total = job.devices || 0;
    const c = job.counts || {};
    const done = finalStates.reduce((n, s) => n + (c[s] || 0), 0);
    const bar = el('div', { class: 'progress', title: done + ' of ' + total + ' devices finished' });
    const part = (cls, n) => {
      if (!total || !n) return;
      const span = el('span', { class: cls });
      span.style.width = (100 * n / total).toFixed(2) + '%';  // CSSOM, allowed by the CSP (no inline style)
      bar.append(span);
    };
    for (const s of finalStates) part(s, c[s] || 0);
    part('in-flight', (c['triggered'] || 0) + (c['in-session'] || 0));
    const pct = total ? Math.floor(100 * done / total) : 100;
    return el('div', {}, bar, el('div', { class: 'progress-text' }, done + '/' + total + ' finished (' + pct + '%)'));
  }

  /** A table of objects: columns are the union of their keys unless given. */
  function table(rows, columns) {
    columns = columns || [...new Set(rows.flatMap((r) => Object.keys(r)))];
    const cell = (v) => v === null || v === undefined ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    return el('table', {},
      el('thead', {}, el('tr', {}, columns.map((c) => el('th', {}, c.replace(/_/g, ' '))))),
      el('tbody', {}, rows.map((r) => el('tr', {}, columns.map((c) => el('td', {}, cell(r[c])))))));
  }

  function param(name) { return new URLSearchParams(location.search).get(name); }

  /**
   * A job's measured dispatch rate: "12 /min" over the last minute once it has dispatched for a
   * minute; before that what it did so far ("measuring: 14 in 12 s"), as a minute's count would
   * still be climbing.
   */
  function rate(j) {
    if (j.state === 'completed' || j.state === 'cancelled') return '—';
    return typeof j.rate_per_minute_measured === 'number' ? j.rate_per_minute_measured.toFixed(0) + ' /min'
      : 'measuring: ' + (j.dispatched_last_minute || 0) + ' in ' + (j.rate_window_seconds || 0) + ' s';
  }

  /**
   * A list paged and sorted on the server (page_size, sort, order, after, count; see
   * admin/paging.hpp). opt: {box, id, path(params) → API path, list(body) → rows, columns:
   * [{title, sort, cell(row) → node|text, cls}], rowAttrs(row), sort, order, size, onError}.
   * The count comes with the first page; later pages follow the server's cursor.
   */
  function pagedList(opt) {
    const state = { sort: opt.sort, order: opt.order || 'asc', size: opt.size || 50, cursors: [''], index: 0, matched: null };
    const info = el('span', { class: 'muted', id: opt.id + '-info' });
    const prev = el('button', { type: 'button', id: opt.id + '-prev', onclick: () => { state.index--; load(); } }, '← Previous');
    const next = el('button', { type: 'button', id: opt.id + '-next', onclick: () => { state.index++; load(); } }, 'Next →');
    const size = el('select', { id: opt.id + '-size', onchange: () => { state.size = Number(size.value); reset(); } },
      [25, 50, 100, 200].map((n) => el('option', { value: n, selected: n === state.size }, n + ' per page')));
    const table = el('div', { id: opt.id + '-table-box' });
    clear(opt.box).append(el('div', { class: 'pager' }, prev, next, size, info), table);

    function reset() { state.cursors = ['']; state.index = 0; state.matched = null; return load(); }

    async function load() {
      const params = new URLSearchParams({ page_size: state.size, sort: state.sort, order: state.order });
      if (state.index > 0) { params.set('after', state.cursors[state.index]); params.set('count', '0'); }
      const r = await admin('GET', opt.path(params));
      if (r.status !== 200) { (opt.onError || ((m) => notice(table, 'error', m)))(r.body.error); return null; }
      if (state.index === 0) state.matched = r.body.matched;
      state.cursors[state.index + 1] = r.body.next || null;
      const rows = opt.list(r.body);
      const first = rows.length ? state.index * state.size + 1 : 0;
      info.textContent = (rows.length ? first.toLocaleString('en') + '–' + (first + rows.length - 1).toLocaleString('en') : 'none') +
        (state.matched === null || state.matched === undefined ? '' : ' of ' + state.matched.toLocaleString('en'));
      info.dataset.matched = state.matched;
      info.dataset.page = state.index + 1;
      prev.disabled = state.index === 0;
      next.disabled = !r.body.next;
      const head = opt.columns.map((c) => {
        const sorted = c.sort && c.sort === state.sort;
        return el('th', { class: (c.cls || '') + (c.sort ? ' sortable' : '') + (sorted ? ' sorted-' + state.order : ''), 'data-sort': c.sort || null,
          onclick: c.sort ? () => {
            state.order = sorted && state.order === 'asc' ? 'desc' : sorted ? 'asc' : (c.order || 'asc');
            state.sort = c.sort;
            reset();
          } : null }, c.title);
      });
      clear(table).append(el('table', { id: opt.id + '-table' }, el('thead', {}, el('tr', {}, head)),
        el('tbody', {}, rows.map((row) => el('tr', opt.rowAttrs ? opt.rowAttrs(row) : {},
          opt.columns.map((c) => el('td', { class: c.cls || null }, c.cell(row))))))));
      return r.body;
    }
    return { load, reset, state };
  }

  return { el, clear, api, admin, init, badge, when, notice, unavailable, progress, table, param, pagedList, rate, deviceStates, finalStates,
           get user() { return user; } };
})();
