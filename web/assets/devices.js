'use strict';
// Devices: the inventory (filtered by the query language), and one device with its LSC,
// certificate history and audit history.
(async () => {
  const { el, clear, badge, when, notice, table } = capf;
  await capf.init('devices');
  const $ = (id) => document.getElementById(id);
  const name = capf.param('name');

  if (!name) {
    $('where').value = capf.param('where') || '';
    const load = async () => {
      const q = new URLSearchParams({ where: $('where').value.trim(), limit: $('limit').value || '500' });
      const r = await capf.admin('GET', '/v1/phones?' + q.toString());
      if (r.status !== 200) { notice($('message'), 'error', r.body.error); return; }
      clear($('message')).append(el('p', { class: 'muted' }, r.body.matched + ' devices match' +
        (r.body.matched > r.body.phones.length ? ', first ' + r.body.phones.length + ' shown' : '')));
      clear($('devices')).append(el('table', { id: 'devices-table' },
        el('thead', {}, el('tr', {}, ['Device', 'Device pool', 'Type', 'Operation', 'Auth mode', 'Status', 'LSC serial', 'LSC issuer', 'LSC expires', 'Last seen']
          .map((h) => el('th', {}, h)))),
        el('tbody', {}, r.body.phones.map((d) => el('tr', { 'data-device': d.name },
          el('td', {}, el('a', { href: '/devices?name=' + encodeURIComponent(d.name) }, d.name)),
          el('td', {}, d.device_pool), el('td', {}, d.device_type), el('td', {}, d.operation), el('td', {}, d.auth_mode),
          el('td', {}, badge(d.status), d.status_reason ? el('div', { class: 'muted' }, d.status_reason) : null),
          el('td', { class: 'mono' }, d.lsc ? d.lsc.serial : '—'), el('td', {}, d.lsc ? d.lsc.issuer : '—'),
          el('td', {}, d.lsc ? when(d.lsc.not_after) : '—'), el('td', {}, when(d.last_seen)))))));
    };
    $('query-form').addEventListener('submit', (e) => { e.preventDefault(); load(); });
    load();
    return;
  }

  $('list-view').hidden = true;
  $('device-view').hidden = false;
  $('title').textContent = 'Device ' + name;
  const r = await capf.admin('GET', '/v1/phones/' + encodeURIComponent(name));
  if (r.status !== 200) { notice($('device-facts'), 'error', r.body.error); return; }
  const d = r.body;
  const facts = [['Description', d.description], ['Device pool', d.device_pool], ['Device type', d.device_type],
    ['Security profile', d.security_profile], ['Certificate Operation', d.operation], ['Authentication Mode', d.auth_mode],
    ['Authentication String', d.auth_string_set ? 'set (never shown)' : 'not set'], ['Key order', d.key_order],
    ['RSA key size', d.key_size], ['EC key size', d.ec_key_size], ['Operation Completes By', d.completes_by ? when(d.completes_by) : ''],
    ['Status', d.status + (d.status_reason ? ' — ' + d.status_reason : '')], ['Failed authentications', d.auth_failures],
    ['IPv4', d.ipv4], ['IPv6', d.ipv6], ['Last seen', d.last_seen ? when(d.last_seen) : '']]
    .filter(([, v]) => v !== '' && v !== null && v !== undefined);
  clear($('device-facts')).append(...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, String(v))]));
  if (d.lsc) {
    clear($('device-lsc')).append(el('dl', { class: 'facts', id: 'lsc' },
      el('dt', {}, 'Serial'), el('dd', { class: 'mono' }, d.lsc.serial), el('dt', {}, 'Issuer'), el('dd', {}, d.lsc.issuer),
      el('dt', {}, 'Expires'), el('dd', {}, when(d.lsc.not_after))));
  } else {
    clear($('device-lsc')).append(el('p', { class: 'muted' }, 'No LSC known for this device.'));
  }
  const certs = d.certificates || [];
  clear($('device-certs')).append(certs.length
    ? el('table', {}, el('thead', {}, el('tr', {}, ['Serial', 'State', 'Key', 'Issuer', 'Issued', 'Delivered', 'Expires'].map((h) => el('th', {}, h)))),
      el('tbody', {}, certs.map((c) => el('tr', {}, el('td', { class: 'mono' }, c.serial), el('td', {}, badge(c.state)), el('td', {}, c.key),
        el('td', {}, c.issuer), el('td', {}, when(c.issued_at)), el('td', {}, when(c.delivered_at)), el('td', {}, when(c.not_after))))))
    : el('p', { class: 'muted' }, 'No certificate issued to this device.'));
  // The jobs that included this device (the 20 most recent jobs are looked at).
  const jobs = await capf.admin('GET', '/v1/jobs');
  const mineJobs = [];
  for (const j of (jobs.status === 200 ? jobs.body.jobs : []).slice(-20).reverse()) {
    const jd = await capf.admin('GET', '/v1/jobs/' + encodeURIComponent(j.id) + '/devices');
    const entry = jd.status === 200 ? jd.body.devices.find((x) => x.device === name) : null;
    if (entry) mineJobs.push({ job: j.id, job_state: j.state, state: entry.state, attempts: entry.attempts, reason: entry.reason,
      serial: entry.serial, finished: when(entry.finished_at) });
  }
  clear($('device-jobs')).append(mineJobs.length ? table(mineJobs) : el('p', { class: 'muted' }, 'No job included this device.'));
  const audit = await capf.admin('GET', '/v1/audit?limit=2000');
  const mine = audit.status === 200 ? audit.body.audit.filter((a) => a.subject === name || (a.detail || '').includes(name)) : [];
  clear($('device-audit')).append(mine.length ? table(mine, ['time', 'actor', 'action', 'detail'])
    : el('p', { class: 'muted' }, 'No audit entry names this device.'));
})();
