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
  let devices = [];
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
      ['Rate', (j.rate_per_minute_measured || 0).toFixed(1) + ' /min measured' + (j.rate_per_minute ? ', limit ' + j.rate_per_minute + ' /min' : '')],
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
      onclick: () => { stateFilter.value = stateFilter.value === s ? '' : s; renderDevices(); showJob(job); } },
      badge(s), el('b', { 'data-count': s }, counts[s] || 0))));
    // Devices are fetched again only when their figures moved.
    const key = JSON.stringify([counts, j.in_flight, j.state]);
    if (key !== devicesKey) { devicesKey = key; loadDevices(); }
  }

  async function loadDevices() {
    const r = await capf.admin('GET', '/v1/jobs/' + encodeURIComponent(id) + '/devices');
    if (r.status !== 200) { notice(document.getElementById('devices'), 'error', r.body.error); return; }
    devices = r.body.devices;
    renderDevices();
  }

  function renderDevices() {
    const s = stateFilter.value;
    const n = nameFilter.value.trim().toLowerCase();
    const shown = devices.filter((d) => (!s || d.state === s) && (!n || d.device.toLowerCase().includes(n)));
    document.getElementById('device-count').textContent = shown.length + ' of ' + devices.length + ' devices';
    clear(document.getElementById('devices')).append(el('table', { id: 'devices-table' },
      el('thead', {}, el('tr', {}, ['Device', 'State', 'Attempts', 'Reason', 'Next attempt', 'LSC serial', 'Wave', 'Finished']
        .map((h) => el('th', {}, h)))),
      el('tbody', {}, shown.map((d) => el('tr', { 'data-device': d.device, 'data-state': d.state },
        el('td', {}, el('a', { href: '/devices?name=' + encodeURIComponent(d.device) }, d.device)),
        el('td', {}, badge(d.state)), el('td', { class: 'num' }, d.attempts),
        el('td', {}, d.reason || ''), el('td', {}, d.next_attempt ? when(d.next_attempt) : '—'),
        el('td', { class: 'mono' }, d.serial || ''), el('td', {}, d.wave || ''), el('td', {}, when(d.finished_at)))))));
  }
  stateFilter.addEventListener('change', () => { renderDevices(); if (job) showJob(job); });
  nameFilter.addEventListener('input', renderDevices);

  const first = await capf.admin('GET', '/v1/jobs/' + encodeURIComponent(id));
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
