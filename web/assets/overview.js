'use strict';
// The overview (the landing page): the fleet by LSC status and by issuer, the LSC expiry
// histogram, the nights ahead, the running jobs (live) and the CA / trust store expiry dates.
// Every count links to the device query that lists exactly those devices (GET /v1/overview).
(async () => {
  const { el, clear, notice, when } = capf;
  await capf.init('overview');
  const $ = (id) => document.getElementById(id);
  const devicesLink = (where) => '/devices?where=' + encodeURIComponent(where);
  const day = (iso) => (iso || '').slice(0, 10);

  const statusWords = { none: 'no LSC', revoked: 'revoked', expired: 'expired', expiring: 'expiring within the notice period',
    valid: 'valid' };

  function tile(kind, key, count, label, href) {
    const body = [el('b', { 'data-count': '' }, count.toLocaleString('en')), el('span', {}, label)];
    return href && count > 0
      ? el('a', { class: 'tile ' + kind + '-' + key, href, ['data-' + kind]: key }, body)
      : el('div', { class: 'tile empty ' + kind + '-' + key, ['data-' + kind]: key }, body);
  }

  function showFleet(o) {
    $('fleet-total').textContent = o.devices.toLocaleString('en') + ' devices';
    clear($('fleet-status')).append(...o.status.map((s) =>
      tile('status', s.status, s.count, statusWords[s.status] || s.status, devicesLink(s.where))),
    tile('status', 'stale', o.stale_lscs, 'stale LSCs (issued, never delivered)', '/stale-lscs'));
    clear($('fleet-issuers')).append(...o.issuers.map((i) =>
      tile('issuer', i.issuer, i.count, i.label, i.where ? devicesLink(i.where) : null)));
  }

  function showExpiry(o) {
    const buckets = o.expiry.buckets;
    const notice = Date.parse(o.notice_at);
    let at = null;
    buckets.forEach((b, i) => {
      const from = Date.parse(b.from), to = Date.parse(b.to);
      if (notice >= from && notice < to) at = i + (notice - from) / (to - from);
    });
    const weeks = buckets.filter((b) => b.unit === 'week').length;
    clear($('expiry-chart')).append(charts.bars({
      id: 'expiry-histogram', yLabel: 'LSCs expiring', minBarWidth: 9,
      bars: buckets.map((b) => ({
        label: b.unit === 'week' ? day(b.from).slice(5) : day(b.from).slice(0, 7), value: b.count, href: devicesLink(b.where),
        cls: Date.parse(b.from) < notice ? 'warn' : '',
        title: `${day(b.from)} – ${day(b.to)}: ${b.count} LSCs expire`,
        data: { from: b.from, to: b.to, count: b.count, unit: b.unit } })),
      groups: [{ from: 0, to: weeks, label: 'per week' }, { from: weeks, to: buckets.length, label: 'per month' }],
      markers: at === null ? [] : [{ at, label: 'notice: ' + o.notice_days + ' days', cls: 'notice' }] }));
    clear($('expiry-note')).append(
      el('a', { href: devicesLink(o.expiry.expired_where), id: 'expired-link' }, o.expiry.expired + ' already expired'), ', ',
      el('a', { href: devicesLink(o.expiry.later_where), id: 'later-link' }, o.expiry.later + ' expire later than 5 years'),
      '. Notices start ' + o.notice_days + ' days before expiry (service parameter expiry-notice-days); ' +
      'revoked LSCs are counted by their dates.');
  }

  function showNights(o) {
    const n = o.nights;
    if (!n.policies.length) {
      clear($('nights-chart')).append(el('p', { class: 'muted', id: 'no-policies' },
        'No active renewal policy, so nothing is planned. Policies are created with capf policy create.'));
      clear($('nights-note'));
      return;
    }
    clear($('nights-chart')).append(charts.bars({
      id: 'nights-chart-svg', yLabel: 'devices per night', minBarWidth: 22,
      bars: n.nights.map((x) => ({
        label: x.date.slice(5), value: x.devices, cls: x.over ? 'over' : 'planned',
        title: `${x.date}: ${x.devices} devices, capacity ${x.capacity === null ? 'unlimited' : x.capacity}` +
          (x.over ? ' — OVER CAPACITY' : '') + '\n' +
          x.policies.map((p) => `${p.policy}: ${p.devices}` + (p.capacity === null ? '' : ` / ${p.capacity}`)).join('\n'),
        data: { date: x.date, devices: x.devices, capacity: x.capacity === null ? '' : x.capacity, over: x.over } })),
      ticks: n.nights.map((x, i) => ({ index: i, value: x.capacity, cls: 'capacity', title: 'capacity ' + x.capacity })) }));
    const over = n.nights.filter((x) => x.over);
    clear($('nights-note')).append(
      el('p', { class: over.length ? 'error' : 'muted', id: 'nights-summary' },
        `${n.nights.reduce((s, x) => s + x.devices, 0)} devices over ${n.nights.length} nights from ` +
        `${n.policies.length} active ${n.policies.length === 1 ? 'policy' : 'policies'} (${n.policies.join(', ')}); ` +
        (over.length ? `${over.length} nights over capacity: ${over.map((x) => x.date).join(', ')}` : 'every night within capacity'),
        ' — ', el('a', { href: '/policies' }, 'policies and their forecasts')),
      ...n.notes.map((t) => el('p', { class: 'muted' }, t)));
  }

  function showJobs(jobs) {
    const running = jobs.filter((j) => j.state !== 'completed' && j.state !== 'cancelled');
    if (!running.length) {
      clear($('running-jobs')).append(el('p', { class: 'muted' }, 'No job is running. ', el('a', { href: '/jobs' }, 'All jobs'), '.'));
      return;
    }
    clear($('running-jobs')).append(el('table', { id: 'running-table' },
      el('thead', {}, el('tr', {}, ['Job', 'State', 'Progress', 'Rate', 'ETA'].map((h) => el('th', {}, h)))),
      el('tbody', {}, running.map((j) => el('tr', { 'data-job': j.id },
        el('td', {}, el('a', { href: '/job?id=' + encodeURIComponent(j.id) }, j.id), j.description ? el('div', { class: 'muted' }, j.description) : null),
        el('td', {}, capf.badge(j.state)), el('td', {}, capf.progress(j)),
        el('td', { class: 'num', 'data-rate': '' }, capf.rate(j)), el('td', {}, j.state === 'active' ? when(j.eta) : '—'))))));
  }

  function showDates(list) {
    if (!list.length) { clear($('expiry-dates')).append(el('p', { class: 'muted' }, 'No CA or trust entry known.')); return; }
    clear($('expiry-dates')).append(el('table', { id: 'expiry-dates-table' },
      el('thead', {}, el('tr', {}, ['Expires', 'Days left', 'What', 'Subject'].map((h) => el('th', {}, h)))),
      el('tbody', {}, list.map((e) => el('tr', { class: e.nearest ? 'nearest' : (e.days_left < 0 ? 'past' : null), 'data-what': e.what },
        el('td', {}, when(e.not_after)), el('td', { class: 'num' }, e.days_left),
        el('td', {}, e.what, e.nearest ? el('span', { class: 'badge expired' }, 'nearest') : null),
        el('td', { class: 'mono' }, e.subject))))));
  }

  async function load() {
    const r = await capf.admin('GET', '/v1/overview');
    if (r.status !== 200) { notice($('overview-message'), 'error', r.body.error); return; }
    const o = r.body;
    clear($('overview-message'));
    $('generated').textContent = 'as of ' + when(o.generated_at);
    document.body.dataset.generatedAt = o.generated_at;
    showFleet(o);
    showExpiry(o);
    showNights(o);
    showJobs(o.jobs);
    showDates(o.expiry_dates);
    document.body.dataset.overview = 'loaded';
  }
  await load();
  setInterval(load, 5 * 60 * 1000);

  const live = $('live');
  const events = new EventSource('/api/events');
  events.addEventListener('jobs', (e) => {
    live.className = 'live';
    live.textContent = '● live';
    showJobs(JSON.parse(e.data).jobs || []);
  });
  events.onerror = () => { live.className = 'live off'; live.textContent = '○ reconnecting…'; };
})();
