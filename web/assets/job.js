'use strict';
// One job: live figures (server-sent events), the control buttons, and its devices by state.
(async () => {
  const { el, clear, badge, when, progress, notice } = capf;
  await capf.init('jobs');
  const id = capf.param('id');
  if (!id) { location.href = '/'; return; }
  document.getElementById('job-id').textContent = id;
  document.title = 'capf · job ' + id;
  const live = document.getElementById('live');
  const stateFilter = document.getElementById('state-filter');
  const nameFilter = document.getElementById('name-filter');
  const actionMessage = document.getElementById('action-message');
  for (const s of capf.deviceStates) stateFilter.append(el('option', { value: s }, s));
  const wanted = capf.param('state');
  if (wanted) stateFilter.value = wanted;

  let job = null;
  let devicesKey = '';

  const actions = [
    ['hold', 'Hold', 'stop dispatching until released'],
    ['release', 'Release', 'start a held job, or accept a failed canary'],
    ['pause', 'Pause', 'no new dispatch; devices in flight finish'],
    ['resume', 'Resume', 'dispatch again'],
    ['cancel', 'Cancel', 'end the job; unfinished devices are cancelled and disarmed'],
    ['retry', 'Retry failed', 'queue the failed devices again'],
  ];
  // Which buttons make sense in which job state (the engine has the last word).
  const allowed = {
    held: ['release', 'cancel'], active: ['hold', 'pause', 'cancel', 'retry'], paused: ['resume', 'hold', 'cancel', 'retry'],
    'canary-hold': ['release', 'cancel', 'retry'], 'failure-hold': ['release', 'cancel', 'retry'], completed: ['retry'], cancelled: [],
  };
  const buttons = {};
  const bar = document.getElementById('job-actions');
  for (const [action, title, help] of actions) {
    buttons[action] = el('button', { id: 'action-' + action, type: 'button', title: help, class: action === 'cancel' ? 'danger' : null,
      onclick: () => control(action, title) }, title);
    bar.append(buttons[action]);
  }

  async function control(action, title) {
    if (action === 'cancel' && !confirm('Cancel job ' + id + '? Unfinished devices are disarmed.')) return;
    for (const b of Object.values(buttons)) b.disabled = true;
    const r = await capf.admin('POST', '/v1/jobs/' + encodeURIComponent(id) + '/' + action);
    if (r.status === 200) {
      notice(actionMessage, 'ok', title + ': job is now ' + r.body.state);
      showJob(r.body);
    } else {
      notice(actionMessage, 'error', title + ' refused: ' + r.body.error);
      if (job) showJob(job);
    }
  }

  function showJob(j) {
    job = j;
    const state = document.getElementById('job-state');
    clear(state).append(badge(j.waiting ? 'waiting' : j.state));
    state.setAttribute('data-state', j.state);
    clear(document.getElementById('job-progress')).append(progress(j));
    document.getElementById('job-reason').textContent = j.state_reason || '';
    // A shared dependency is down: the job resumes by itself once its probe gets through.
    document.getElementById('job-waiting').textContent = j.waiting ? j.waiting.text : '';
    const facts = [
      ['Description', j.description], ['Certificate Operation', j.operation], ['Selection', j.selection],
      ['Devices', j.devices], ['In flight', j.in_flight],
      ['Rate', capf.rate(j) + (typeof j.rate_per_minute_measured === 'number' ? ' over the last minute' : '') + (j.rate_per_minute ? ', limit ' + j.rate_per_minute + ' /min' : '')],
      ['ETA', j.state === 'active' ? when(j.eta) : '—'], ['Schedule', j.schedule],
      ['Windows', (j.windows || []).join('; ') || 'always open'], ['Blackouts', (j.blackouts || []).join('; ')],
      ['Canary', j.canary ? j.canary + ' devices' + (j.canary_passed ? ' (passed)' : '') : 'none'],
      ['Automatic hold', j.max_fail_pct < 100 ? 'above ' + j.max_fail_pct + ' % failed of the finished devices' : 'off'],
      ['Start at', j.start_at ? when(j.start_at) : ''], ['Completes by', j.completes_by ? when(j.completes_by) : ''],
      ['Created', when(j.created_at) + ' by ' + j.created_by], ['Finished', j.finished_at ? when(j.finished_at) : ''],
    ].filter(([, v]) => v !== '' && v !== null && v !== undefined);
    clear(document.getElementById('job-facts')).append(...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, String(v))]));
    const can = allowed[j.state] || [];
    for (const [action, b] of Object.entries(buttons)) b.disabled = !can.includes(action);
    const counts = j.counts || {};
    const chips = document.getElementById('state-counts');
    clear(chips).append(...capf.deviceStates.map((s) => el('span', {
      class: 'chip' + (stateFilter.value === s ? ' selected' : ''), 'data-state': s,
      onclick: () => { stateFilter.value = stateFilter.value === s ? '' : s; list.reset(); showJob(job); } },
      badge(s), el('b', { 'data-count': s }, counts[s] || 0))));
    if (j.chart) showChart(j.chart);
    if (j.failure_reasons) showReasons(j.failure_reasons);
    // Devices are fetched again only when their figures moved.
    const key = JSON.stringify([counts, j.in_flight, j.state]);
    if (key !== devicesKey) { devicesKey = key; list.load(); }
  }

  /** Per-minute lines from the sparse rows [minute, dispatched, succeeded, failed]; minutes in between are zeros. */
  function showChart(chart) {
    const box = document.getElementById('job-chart');
    const rows = chart.rows || [];
    if (!rows.length) { clear(box).append(el('p', { class: 'muted', id: 'chart-empty' }, 'Nothing dispatched yet.')); return; }
    const t0 = Date.parse(rows[0][0]), t1 = Date.parse(rows[rows.length - 1][0]);
    const minutes = Math.round((t1 - t0) / 60000) + 1;
    const per = Math.max(1, Math.ceil(minutes / 720));  // a long job's minutes are summed into bins
    const bins = Math.ceil(minutes / per);
    const series = [[], [], []];
    for (let k = 0; k < 3; k++) series[k] = new Array(bins).fill(0);
    for (const [m, d, ok, bad] of rows) {
      const b = Math.floor(Math.round((Date.parse(m) - t0) / 60000) / per);
      series[0][b] += d; series[1][b] += ok; series[2][b] += bad;
    }
    const labels = Array.from({ length: bins }, (_, b) => new Date(t0 + b * per * 60000).toISOString().slice(11, 16));
    const svg = charts.lines({ id: 'job-chart-svg', yLabel: per === 1 ? 'per minute (UTC)' : 'per ' + per + ' minutes (UTC)', labels,
      series: [{ name: 'dispatched', cls: 'dispatched', values: series[0] }, { name: 'succeeded', cls: 'succeeded', values: series[1] },
        { name: 'failed', cls: 'failed', values: series[2] }] });
    const sum = (v) => v.reduce((a, b) => a + b, 0);
    svg.dataset.dispatched = sum(series[0]);
    svg.dataset.succeeded = sum(series[1]);
    svg.dataset.failed = sum(series[2]);
    svg.dataset.minutes = bins;
    clear(box).append(svg);
  }

  /** The failure reasons, most frequent first, each a link to its devices. */
  function showReasons(reasons) {
    const box = document.getElementById('failure-reasons');
    if (!reasons.length) { clear(box).append(el('p', { class: 'muted', id: 'no-failures' }, 'No device has failed.')); return; }
    const max = Math.max(...reasons.map((r) => r.count));
    clear(box).append(el('div', { class: 'reasons', id: 'reasons-list' }, reasons.flatMap((r) => {
      const bar = el('span', { class: 'reason-bar' });
      bar.style.width = (100 * r.count / max).toFixed(1) + '%';  // CSSOM, allowed by the CSP
      const href = '/job?id=' + encodeURIComponent(id) + '&reason=' + encodeURIComponent(r.reason);
      return [el('a', { href, 'data-reason': r.reason, onclick: (e) => { e.preventDefault(); filterReason(r.reason); } }, r.reason),
        el('div', {}, bar), el('b', { class: 'num', 'data-count': r.count }, r.count)];
    })));
  }

  let reason = capf.param('reason') || '';
  function filterReason(r) {
    reason = r;
    const box = document.getElementById('reason-filter');
    clear(box).append(r ? el('span', { class: 'chip selected', id: 'reason-chip' }, 'reason: ' + r + ' ',
      el('button', { type: 'button', onclick: () => filterReason('') }, '×')) : '');
    list.reset();
  }

  const list = capf.pagedList({
    box: document.getElementById('devices'), id: 'devices', sort: 'device', order: 'asc',
    path: (params) => {
      if (stateFilter.value) params.set('state', stateFilter.value);
      if (nameFilter.value.trim()) params.set('name', nameFilter.value.trim());
      if (reason) params.set('reason', reason);
      return '/v1/jobs/' + encodeURIComponent(id) + '/devices?' + params.toString();
    },
    list: (body) => body.devices,
    rowAttrs: (d) => ({ 'data-device': d.device, 'data-state': d.state }),
    columns: [
      { title: 'Device', sort: 'device', cell: (d) => el('a', { href: '/devices?name=' + encodeURIComponent(d.device) }, d.device) },
      { title: 'State', sort: 'state', cell: (d) => badge(d.state) },
      { title: 'Attempts', sort: 'attempts', cls: 'num', cell: (d) => d.attempts },
      { title: 'Reason', sort: 'reason', cell: (d) => d.reason || '' },
      { title: 'Next attempt', cell: (d) => (d.next_attempt ? when(d.next_attempt) : '—') },
      { title: 'LSC serial', cls: 'mono', cell: (d) => d.serial || '' },
      { title: 'Wave', cell: (d) => d.wave || '' },
      { title: 'Finished', sort: 'finished_at', cell: (d) => when(d.finished_at) },
    ],
  });
  stateFilter.addEventListener('change', () => { list.reset(); if (job) showJob(job); });
  let typing = null;
  nameFilter.addEventListener('input', () => { clearTimeout(typing); typing = setTimeout(() => list.reset(), 250); });
  if (reason) filterReason(reason);

  const first = await capf.admin('GET', '/v1/jobs/' + encodeURIComponent(id) + '?chart=1');
  if (first.status !== 200) { notice(actionMessage, 'error', first.body.error); return; }
  showJob(first.body);

  const events = new EventSource('/api/events?job=' + encodeURIComponent(id));
  events.addEventListener('jobs', (e) => {
    live.className = 'live';
    live.textContent = '● live';
    const data = JSON.parse(e.data);
    if (data.job) showJob(data.job);
  });
  events.onerror = () => { live.className = 'live off'; live.textContent = '○ reconnecting…'; };
})();
