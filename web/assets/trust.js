'use strict';
// CAPF-trust and CallManager-trust: the entries with their expiry, upload and delete (the
// admin API's /v1/trust routes, audited as web:USER).
(async () => {
  const { el, when, notice, clear } = capf;
  await capf.init('trust');
  const $ = (id) => document.getElementById(id);

  async function load() {
    const store = $('store-filter').value;
    const r = await capf.admin('GET', '/v1/trust' + (store ? '?store=' + encodeURIComponent(store) : ''));
    if (r.status === 404) { capf.unavailable($('content'), 'Trust stores'); return; }
    if (r.status !== 200) { notice($('content'), 'error', r.body.error); return; }
    const entries = r.body.entries;
    const now = Date.now();
    clear($('content')).append(entries.length ? el('table', { id: 'trust-table' },
      el('thead', {}, el('tr', {}, ['Store', 'Subject', 'Issuer', 'Expires', 'CA', 'Origin', 'Description', 'Added', ''].map((h) => el('th', {}, h)))),
      el('tbody', {}, entries.map((e) => el('tr', { 'data-entry': e.id, class: Date.parse(e.not_after) < now ? 'past' : null },
        el('td', {}, e.store), el('td', { class: 'mono' }, e.subject), el('td', { class: 'mono' }, e.issuer),
        el('td', {}, when(e.not_after)), el('td', {}, e.ca ? 'yes' : 'no'), el('td', {}, e.origin), el('td', {}, e.description),
        el('td', {}, when(e.added_at) + ' by ' + e.added_by),
        el('td', {}, el('button', { type: 'button', class: 'danger', 'data-delete': e.id, onclick: () => remove(e) }, 'Delete'))))))
      : el('p', { class: 'muted' }, 'No entries.'));
  }

  async function remove(e) {
    if (!confirm('Delete ' + e.subject + ' from ' + e.store + '?')) return;
    const r = await capf.admin('POST', '/v1/trust/' + encodeURIComponent(e.id) + '/delete?store=' + encodeURIComponent(e.store));
    if (r.status !== 200) { notice($('message'), 'error', r.body.error); return; }
    notice($('message'), 'ok', 'Deleted ' + r.body.deleted.subject + ' from ' + r.body.deleted.store + '.');
    load();
  }

  function base64(bytes) {
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(s);
  }

  $('upload-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const file = $('upload-file').files[0];
    if (!file) { notice($('upload-message'), 'error', 'choose a certificate file first'); return; }
    const data = base64(new Uint8Array(await file.arrayBuffer()));
    const r = await capf.admin('POST', '/v1/trust', { store: $('upload-store').value, data, file: file.name,
      description: $('upload-description').value.trim() });
    if (r.status !== 200) { notice($('upload-message'), 'error', r.body.error); return; }
    const added = r.body.added.map((x) => x.subject), already = r.body.already.map((x) => x.subject);
    clear($('upload-message')).append(el('div', { class: 'notice ok', id: 'upload-result' },
      (added.length ? 'Added: ' + added.join('; ') : 'Nothing new') + (already.length ? '. Already there: ' + already.join('; ') : '') + '.'),
    ...(r.body.notes || []).map((n) => el('div', { class: 'notice info' }, n)));
    load();
  });
  $('store-filter').addEventListener('change', load);
  load();
})();
