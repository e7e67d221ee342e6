'use strict';
// Jobs list, updated live from /api/events (server-sent events).
(async () => {
  const { el, clear, badge, when, progress } = capf;
  await capf.init('jobs');
  const box = document.getElementById('jobs');
  const live = document.getElementById('live');

  function render(jobs) {
    if (!jobs.length) {
      clear(box).append(el('p', { class: 'muted' }, 'No jobs yet. ', el('a', { href: '/submit' }, 'Submit one'), '.'));
      return;
    }
    const states = capf.deviceStates;
    clear(box).append(el('table', { id: 'jobs-table' },
      el('thead', {}, el('tr', {},
        el('th', {}, 'Job'), el('th', {}, 'State'), el('th', {}, 'Progress'),
        states.map((s) => el('th', { class: 'num' }, s)),
        el('th', { class: 'num' }, 'Rate'), el('th', {}, 'ETA'), el('th', {}, 'Selection'), el('th', {}, 'Created'))),
      el('tbody', {}, jobs.slice().reverse().map((j) => el('tr', { 'data-job': j.id },
        el('td', {}, el('a', { href: '/job?id=' + encodeURIComponent(j.id) }, j.id), j.description ? el('div', { class: 'muted' }, j.description) : null),
        el('td', { class: 'job-state' }, badge(j.waiting ? 'waiting' : j.state), j.state_reason ? el('div', { class: 'muted' }, j.state_reason) : null,
          j.waiting ? el('div', { class: 'waiting' }, j.waiting.text) : null),
        el('td', {}, progress(j)),
        states.map((s) => el('td', { class: 'num', 'data-count': s }, (j.counts || {})[s] || 0)),
        el('td', { class: 'num', 'data-rate': '' }, capf.rate(j)),
        el('td', {}, j.state === 'active' ? when(j.eta) : '—'),
        el('td', { class: 'mono' }, j.selection),
        el('td', {}, when(j.created_at)))))));
  }

  const first = await capf.admin('GET', '/v1/jobs');
  if (first.status !== 200) capf.notice(box, 'error', first.body.error);
  else render(first.body.jobs);

  const events = new EventSource('/api/events');
  events.addEventListener('jobs', (e) => {
    live.className = 'live';
    live.textContent = '● live';
    render(JSON.parse(e.data).jobs || []);
  });
  events.onerror = () => { live.className = 'live off'; live.textContent = '○ reconnecting…'; };
})();
