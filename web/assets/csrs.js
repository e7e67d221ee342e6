'use strict';
// CSRs on their way through an external CA, paged and sorted on the server, and the Offline CA's
// export rounds.
(async () => {
  const { el, when, notice, clear, badge, table } = capf;
  await capf.init('csrs');
  const $ = (id) => document.getElementById(id);
  $('csr-state').value = capf.param('state') || 'pending';
  const list = capf.pagedList({
    box: $('content'), id: 'csrs', sort: 'created_at', order: 'desc',
    path: (params) => { params.set('state', $('csr-state').value); return '/v1/csrs?' + params.toString(); },
    list: (body) => body.csrs,
    rowAttrs: (c) => ({ 'data-csr': c.id }),
    onError: (m) => (/no such admin API route/.test(m) ? capf.unavailable($('content'), 'The CSR listing') : notice($('message'), 'error', m)),
    columns: [
      { title: 'Created', sort: 'created_at', order: 'desc', cell: (c) => when(c.created_at) },
      { title: 'Device', sort: 'device', cell: (c) => el('a', { href: '/devices?name=' + encodeURIComponent(c.device) }, c.device) },
      { title: 'State', sort: 'state', cell: (c) => badge(c.state) },
      { title: 'Issuer', cell: (c) => c.issuer + (c.ca ? ' (' + c.ca + ')' : '') },
      { title: 'Key', cell: (c) => c.key },
      { title: 'Job', cell: (c) => (c.job ? el('a', { href: '/job?id=' + encodeURIComponent(c.job) }, c.job) : '') },
      { title: 'Round', cls: 'num', cell: (c) => c.round || '' },
      { title: 'Updated', sort: 'updated_at', order: 'desc', cell: (c) => when(c.updated_at) },
      { title: 'Error', cell: (c) => (c.error ? c.error_class + ': ' + c.error : '') },
      { title: 'Serial', cls: 'mono', cell: (c) => c.serial },
    ],
  });
  $('csr-state').addEventListener('change', () => list.reset());
  list.reset();
  const rounds = await capf.admin('GET', '/v1/offline/rounds');
  if (rounds.status === 404) capf.unavailable($('rounds'), 'Offline rounds');
  else if (rounds.status !== 200) notice($('rounds'), 'error', rounds.body.error);
  else clear($('rounds')).append(rounds.body.rounds.length ? table(rounds.body.rounds.slice().reverse())
    : el('p', { class: 'muted' }, 'No offline round yet (capf offline export).'));
})();
