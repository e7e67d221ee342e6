'use strict';
// Pages over routes other parts of capf add (trust stores, CSRs and offline rounds, policies)
// and the audit trail. Any JSON answer is shown as tables; a 404 means the route is not in
// this build. Policies get their forecast as a bar chart.
(async () => {
  const { el, clear, table, notice } = capf;
  const page = location.pathname.replace(/^\//, '').replace(/\.html$/, '') || 'trust';
  await capf.init(page);

  /** Every array of objects in an answer becomes a titled table; scalars become facts. */
  function render(node, body) {
    const out = [];
    const facts = [];
    for (const [k, v] of Object.entries(body || {})) {
      if (Array.isArray(v) && v.length && v.every((x) => x && typeof x === 'object' && !Array.isArray(x))) {
        out.push(el('h2', {}, k.replace(/_/g, ' ') + ' (' + v.length + ')'), table(v));
      } else if (Array.isArray(v)) {
        out.push(el('h2', {}, k.replace(/_/g, ' ')), el('p', { class: 'muted' }, v.length ? v.join(', ') : 'none'));
      } else if (v && typeof v === 'object') {
        out.push(el('h2', {}, k.replace(/_/g, ' ')), el('pre', { class: 'mono' }, JSON.stringify(v, null, 2)));
      } else {
        facts.push(el('dt', {}, k.replace(/_/g, ' ')), el('dd', {}, v === null ? '—' : String(v)));
      }
    }
    clear(node).append(el('div', { class: 'card' }, facts.length ? el('dl', { class: 'facts' }, facts) : null,
      out.length ? out : el('p', { class: 'muted' }, 'Nothing to show.')));
  }

  async function show(node) {
    const route = node.dataset.route;
    const r = await capf.admin('GET', route);
    if (r.status === 404 && /no such admin API route/.test(r.body.error || '')) {
      if (node.dataset.quiet) clear(node); else capf.unavailable(node, node.dataset.what);
      return null;
    }
    if (r.status !== 200) { notice(node, 'error', r.body.error); return null; }
    render(node, r.body);
    return r.body;
  }

  /** The names in a policies answer: the "name" of every object in its first list. */
  function policyNames(body) {
    for (const v of Object.values(body || {}))
      if (Array.isArray(v)) return v.map((p) => (p && typeof p === 'object' ? p.name : p)).filter(Boolean);
    return [];
  }

  /** A bar chart (SVG built through the DOM) of the first list of objects with a number in it. */
  function chart(body) {
    const rows = Object.values(body || {}).find((v) => Array.isArray(v) && v.length && typeof v[0] === 'object');
    if (!rows) return el('p', { class: 'muted' }, 'The forecast has no series to draw.');
    const keys = Object.keys(rows[0]);
    const valueKey = keys.find((k) => typeof rows[0][k] === 'number');
    const labelKey = keys.find((k) => typeof rows[0][k] === 'string') || keys[0];
    if (!valueKey) return el('p', { class: 'muted' }, 'The forecast has no numbers to draw.');
    const ns = 'http://www.w3.org/2000/svg';
    const svg = (tag, attrs, text) => {
      const e = document.createElementNS(ns, tag);
      for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
      if (text !== undefined) e.textContent = text;
      return e;
    };
    const width = Math.max(480, rows.length * 28 + 60), height = 260, top = 20, bottom = 60, left = 50;
    const max = Math.max(1, ...rows.map((r) => Number(r[valueKey]) || 0));
    const barW = (width - left - 10) / rows.length;
    const root = svg('svg', { class: 'chart', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': valueKey + ' by ' + labelKey });
    root.append(svg('text', { x: 4, y: 14 }, valueKey.replace(/_/g, ' ') + ' (max ' + max + ')'));
    rows.forEach((r, i) => {
      const v = Number(r[valueKey]) || 0;
      const h = (height - top - bottom) * v / max;
      const x = left + i * barW;
      const bar = svg('rect', { class: 'bar', x: x + 2, y: height - bottom - h, width: Math.max(1, barW - 4), height: h });
      bar.append(svg('title', {}, String(r[labelKey]) + ': ' + v));
      root.append(bar);
      if (rows.length <= 40 || i % Math.ceil(rows.length / 40) === 0)
        root.append(svg('text', { x: x + barW / 2, y: height - bottom + 12, 'text-anchor': 'end', transform: `rotate(-45 ${x + barW / 2} ${height - bottom + 12})` },
          String(r[labelKey]).slice(0, 16)));
    });
    root.append(svg('line', { x1: left, y1: height - bottom, x2: width - 10, y2: height - bottom, stroke: '#8e99a8' }));
    return root;
  }

  const content = document.getElementById('content');
  const body = await show(content);
  const rounds = document.getElementById('rounds');
  if (rounds) await show(rounds);
  if (content.dataset.forecast && body) {
    const box = document.getElementById('forecast');
    const names = policyNames(body);
    if (!names.length) return;
    const pick = el('select', { id: 'policy' }, names.map((n) => el('option', { value: n }, n)));
    const target = el('div', { id: 'forecast-chart' });
    const draw = async () => {
      const r = await capf.admin('GET', '/v1/policies/' + encodeURIComponent(pick.value) + '/forecast');
      if (r.status === 404 && /no such admin API route/.test(r.body.error || '')) { capf.unavailable(target, 'The policy forecast'); return; }
      if (r.status !== 200) { notice(target, 'error', r.body.error); return; }
      clear(target).append(chart(r.body));
    };
    pick.addEventListener('change', draw);
    clear(box).append(el('div', { class: 'card' }, el('h2', {}, 'Forecast'), el('label', {}, 'Policy', pick), target));
    draw();
  }
})();
