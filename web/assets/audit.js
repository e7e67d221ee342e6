'use strict';
// The audit trail, newest first, paged on the server through the store's audit cursor.
(async () => {
  const { when, notice, clear } = capf;
  await capf.init('audit');
  const $ = (id) => document.getElementById(id);
  for (const f of ['actor', 'action', 'subject', 'since']) $(f).value = capf.param(f) || '';
  const list = capf.pagedList({
    box: $('content'), id: 'audit', sort: 'time', order: 'desc', size: 100,
    path: (params) => {
      for (const f of ['actor', 'action', 'subject', 'since']) if ($(f).value.trim()) params.set(f, $(f).value.trim());
      return '/v1/audit?' + params.toString();
    },
    list: (body) => body.audit,
    onError: (m) => notice($('message'), 'error', m),
    columns: [{ title: 'Time', cell: (a) => when(a.time) }, { title: 'Actor', cell: (a) => a.actor },
      { title: 'Action', cell: (a) => a.action }, { title: 'Subject', cls: 'mono', cell: (a) => a.subject },
      { title: 'Detail', cell: (a) => a.detail }],
  });
  $('audit-form').addEventListener('submit', (e) => { e.preventDefault(); clear($('message')); list.reset(); });
  list.reset();
})();
