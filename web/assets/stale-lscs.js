'use strict';
// Stale LSCs (issued, superseded before delivery) and their clean-up, which the audit trail
// records under the web user.
(async () => {
  const { el, when, notice, clear } = capf;
  await capf.init('stale-lscs');
  const $ = (id) => document.getElementById(id);

  async function load() {
    const r = await capf.admin('GET', '/v1/stale-lscs');
    if (r.status === 404) { capf.unavailable($('content'), 'The stale-LSC listing'); return; }
    if (r.status !== 200) { notice($('content'), 'error', r.body.error); return; }
    const lscs = r.body.lscs;
    $('delete-stale').disabled = lscs.length === 0;
    clear($('content')).append(el('p', { id: 'stale-count' }, el('b', {}, String(lscs.length)), ' stale LSCs'),
      lscs.length ? el('table', { id: 'stale-table' },
        el('thead', {}, el('tr', {}, ['Serial', 'Device', 'Issued', 'Expires', 'Issuer', 'Key'].map((h) => el('th', {}, h)))),
        el('tbody', {}, lscs.map((c) => el('tr', { 'data-serial': c.serial },
          el('td', { class: 'mono' }, c.serial), el('td', {}, el('a', { href: '/devices?name=' + encodeURIComponent(c.device) }, c.device)),
          el('td', {}, when(c.issued_at)), el('td', {}, when(c.not_after)), el('td', {}, c.issuer), el('td', {}, c.key)))))
        : el('p', { class: 'muted' }, 'None: every LSC capf issued was delivered or is still on its way.'));
  }

  $('delete-stale').addEventListener('click', async () => {
    if (!confirm('Delete every stale LSC record? No phone holds them.')) return;
    $('delete-stale').disabled = true;
    const r = await capf.admin('POST', '/v1/stale-lscs/delete', { all: true });
    if (r.status !== 200) { notice($('message'), 'error', r.body.error); return; }
    notice($('message'), 'ok', 'Deleted ' + r.body.deleted + ' stale LSCs (audited as stale-lsc.delete).');
    load();
  });
  load();
})();
