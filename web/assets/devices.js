'use strict';
// Devices: the inventory filtered by the query language, paged and sorted on the server; and one
// device with its LSC, certificate history, jobs and audit history, whose CAPF settings can be
// edited here (the same POST /v1/phones/NAME as `capf phone set`, audited as web:USER).
(async () => {
  const { el, clear, badge, when, notice, table } = capf;
  await capf.init('devices');
  const $ = (id) => document.getElementById(id);
  const name = capf.param('name');

  if (!name) {
    $('where').value = capf.param('where') || '';
    const link = (d) => el('a', { href: '/devices?name=' + encodeURIComponent(d.name) }, d.name);
    const list = capf.pagedList({
      box: $('devices'), id: 'devices', sort: capf.param('sort') || 'name', order: capf.param('order') || 'asc',
      path: (params) => { params.set('where', $('where').value.trim()); return '/v1/phones?' + params.toString(); },
      list: (body) => body.phones,
      rowAttrs: (d) => ({ 'data-device': d.name }),
      onError: (m) => notice($('message'), 'error', m),
      columns: [
        { title: 'Device', sort: 'name', cell: link },
        { title: 'Device pool', sort: 'device_pool', cell: (d) => d.device_pool },
        { title: 'Type', sort: 'device_type', cell: (d) => d.device_type },
        { title: 'Operation', sort: 'operation', cell: (d) => d.operation },
        { title: 'Auth mode', cell: (d) => d.auth_mode },
        { title: 'Status', sort: 'status', cell: (d) => [badge(d.status), d.status_reason ? el('div', { class: 'muted' }, d.status_reason) : null] },
        { title: 'LSC serial', cls: 'mono', cell: (d) => (d.lsc ? d.lsc.serial : '—') },
        { title: 'LSC issuer', sort: 'lsc_issuer', cell: (d) => (d.lsc ? d.lsc.issuer : '—') },
        { title: 'LSC expires', sort: 'lsc_expires', cell: (d) => (d.lsc ? when(d.lsc.not_after) : '—') },
        { title: 'Last seen', sort: 'last_seen', order: 'desc', cell: (d) => when(d.last_seen) },
      ],
    });
    const show = async () => {
      clear($('message'));
      const q = new URLSearchParams({ where: $('where').value.trim() });
      history.replaceState(null, '', '/devices?' + q.toString());
      await list.reset();
    };
    $('query-form').addEventListener('submit', (e) => { e.preventDefault(); show(); });
    show();
    return;
  }

  $('list-view').hidden = true;
  $('device-view').hidden = false;
  $('title').textContent = 'Device ' + name;

  function showDevice(d) {
    const facts = [['Description', d.description], ['Device pool', d.device_pool], ['Device type', d.device_type],
      ['Security profile', d.security_profile], ['Certificate Operation', d.operation], ['Authentication Mode', d.auth_mode],
      ['Authentication String', d.auth_string_set ? 'set (never shown)' : 'not set'], ['Key order', d.key_order],
      ['RSA key size', d.key_size], ['EC key size', d.ec_key_size], ['Operation Completes By', d.completes_by ? when(d.completes_by) : ''],
      ['Status', d.status + (d.status_reason ? ' — ' + d.status_reason : '')], ['Failed authentications', d.auth_failures],
      ['IPv4', d.ipv4], ['IPv6', d.ipv6], ['Last seen', d.last_seen ? when(d.last_seen) : '']]
      .filter(([, v]) => v !== '' && v !== null && v !== undefined);
    clear($('device-facts')).append(...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', { 'data-fact': k }, String(v))]));
    $('edit-operation').value = d.operation;
    $('edit-auth-mode').value = d.auth_mode;
    $('edit-auth-string').value = '';
    $('edit-key-order').value = d.key_order;
    $('edit-key-size').value = String(d.key_size);
    $('edit-ec-key-size').value = String(d.ec_key_size);
    $('edit-completes-by').value = d.completes_by || '';
  }

  const r = await capf.admin('GET', '/v1/phones/' + encodeURIComponent(name));
  if (r.status !== 200) { notice($('device-facts'), 'error', r.body.error); return; }
  let d = r.body;
  showDevice(d);

  $('edit-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    // Only what changed is sent, so the audit entry names what the administrator changed.
    const body = {};
    for (const [id, key, before] of [['edit-operation', 'operation', d.operation], ['edit-auth-mode', 'auth_mode', d.auth_mode],
      ['edit-key-order', 'key_order', d.key_order], ['edit-key-size', 'key_size', String(d.key_size)],
      ['edit-ec-key-size', 'ec_key_size', String(d.ec_key_size)], ['edit-completes-by', 'completes_by', d.completes_by || '']]) {
      const v = $(id).value.trim();
      if (v !== before) body[key] = v;
    }
    const s = $('edit-auth-string').value.trim();
    if (s) body.auth_string = s;
    if (!Object.keys(body).length) { notice($('edit-message'), 'info', 'Nothing changed.'); return; }
    const w = await capf.admin('POST', '/v1/phones/' + encodeURIComponent(name), body);
    if (w.status !== 200) { notice($('edit-message'), 'error', w.body.error); return; }
    d = w.body;
    showDevice(d);
    notice($('edit-message'), 'ok', 'Saved: ' + Object.keys(body).map((k) => k === 'auth_string' ? 'auth_string (set)' : k + ' = ' + body[k]).join(', '));
  });

  // Generate String (the seed's button): a new random Authentication String, shown here once.
  $('generate-string').addEventListener('click', async () => {
    if (!confirm('Generate a new Authentication String for ' + name + '? The one set now stops working.')) return;
    const w = await capf.admin('POST', '/v1/phones/' + encodeURIComponent(name),
      { generate_string: true, auth_mode: 'By Authentication String' });
    if (w.status !== 200) { notice($('edit-message'), 'error', w.body.error); return; }
    const generated = w.body.generated_auth_string;
    delete w.body.generated_auth_string;
    d = w.body;
    showDevice(d);
    clear($('edit-message')).append(el('div', { class: 'notice ok', id: 'generated-string' },
      'New Authentication String: ', el('b', { class: 'mono' }, generated), ' (shown once: give it to the phone\'s user now).'));
  });

  if (d.lsc) {
    clear($('device-lsc')).append(el('dl', { class: 'facts', id: 'lsc' },
      el('dt', {}, 'Serial'), el('dd', { class: 'mono' }, d.lsc.serial), el('dt', {}, 'Issuer'), el('dd', {}, d.lsc.issuer),
      el('dt', {}, 'Expires'), el('dd', {}, when(d.lsc.not_after))));
  } else {
    clear($('device-lsc')).append(el('p', { class: 'muted' }, 'No LSC known for this device.'));
  }
  // What the phone showed: the last Troubleshoot's certificates and the MIC presented at authentication.
  const retrieved = d.retrieved_certificates || [];
  clear($('device-retrieved')).append(retrieved.length
    ? el('table', { id: 'retrieved' }, el('thead', {}, el('tr', {}, ['Type', 'Subject', 'Issuer', 'Serial', 'Not before', 'Not after', 'Retrieved', 'By'].map((h) => el('th', {}, h)))),
      el('tbody', {}, retrieved.map((c) => el('tr', {}, el('td', {}, c.type), el('td', {}, c.subject || c.error || ''), el('td', {}, c.issuer || ''),
        el('td', { class: 'mono' }, c.serial || ''), el('td', {}, when(c.not_before)), el('td', {}, when(c.not_after)),
        el('td', {}, when(c.retrieved_at)), el('td', {}, c.retrieved_by)))))
    : el('p', { class: 'muted' }, 'Nothing retrieved from this phone (run Troubleshoot).'));
  const certs = d.certificates || [];
  clear($('device-certs')).append(certs.length
    ? el('table', {}, el('thead', {}, el('tr', {}, ['Serial', 'State', 'Key', 'Issuer', 'Issued', 'Delivered', 'Expires'].map((h) => el('th', {}, h)))),
      el('tbody', {}, certs.map((c) => el('tr', {}, el('td', { class: 'mono' }, c.serial), el('td', {}, badge(c.state)), el('td', {}, c.key),
        el('td', {}, c.issuer), el('td', {}, when(c.issued_at)), el('td', {}, when(c.delivered_at)), el('td', {}, when(c.not_after))))))
    : el('p', { class: 'muted' }, 'No certificate issued to this device.'));
  // The jobs that included this device (the 20 most recent jobs are looked at, one device each).
  const jobs = await capf.admin('GET', '/v1/jobs');
  const mineJobs = [];
  for (const j of (jobs.status === 200 ? jobs.body.jobs : []).slice(-20).reverse()) {
    const q = new URLSearchParams({ page_size: 10, name, count: 0 });
    const jd = await capf.admin('GET', '/v1/jobs/' + encodeURIComponent(j.id) + '/devices?' + q.toString());
    const entry = jd.status === 200 ? jd.body.devices.find((x) => x.device === name) : null;
    if (entry) mineJobs.push({ job: j.id, job_state: j.state, state: entry.state, attempts: entry.attempts, reason: entry.reason,
      serial: entry.serial, finished: when(entry.finished_at) });
  }
  clear($('device-jobs')).append(mineJobs.length ? table(mineJobs) : el('p', { class: 'muted' }, 'No job included this device.'));
  capf.pagedList({
    box: $('device-audit'), id: 'audit', sort: 'time', order: 'desc', size: 25,
    path: (params) => { params.set('subject', name); return '/v1/audit?' + params.toString(); },
    list: (body) => body.audit,
    columns: [{ title: 'Time', cell: (a) => when(a.time) }, { title: 'Actor', cell: (a) => a.actor },
      { title: 'Action', cell: (a) => a.action }, { title: 'Detail', cell: (a) => a.detail }],
  }).load();
})();
