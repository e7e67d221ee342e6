'use strict';
// Submitting a job: the dry run the CLI uses (`job submit --dry-run`) shows the CSV's per-row
// errors, the devices that cannot work and the schedule check before anything is submitted.
(async () => {
  const { el, clear, notice, table } = capf;
  await capf.init('submit');
  const $ = (id) => document.getElementById(id);
  let source = 'csv';
  let checked = null;  // the body that passed the last dry run
  const result = $('result');

  function selectTab(which) {
    source = which;
    $('tab-csv').classList.toggle('selected', which === 'csv');
    $('tab-query').classList.toggle('selected', which === 'query');
    $('source-csv').hidden = which !== 'csv';
    $('source-query').hidden = which !== 'query';
    invalidate();
  }
  $('tab-csv').addEventListener('click', () => selectTab('csv'));
  $('tab-query').addEventListener('click', () => selectTab('query'));

  function invalidate() { checked = null; $('submit').disabled = true; }
  for (const input of document.querySelectorAll('input, select')) {
    input.addEventListener('change', invalidate);
    input.addEventListener('input', invalidate);
  }

  async function body() {
    const b = { operation: $('operation').value };
    if (source === 'csv') {
      const file = $('csv-file').files[0];
      if (!file) throw new Error('choose a CSV file first');
      b.csv = await file.text();
      b.csv_name = file.name;
      if ($('strict').checked) b.strict = true;
    } else {
      const where = $('where').value.trim();
      if (!where) throw new Error('write a query first, e.g. device_pool = DP-HQ');
      b.where = where;
    }
    for (const [id, key] of [['auth-mode', 'auth_mode'], ['string-policy', 'string_policy'], ['key-order', 'key_order'],
      ['completes-by', 'completes_by'], ['description', 'description']]) {
      const v = $(id).value.trim();
      if (v) b[key] = v;
    }
    for (const [id, key] of [['rate', 'rate'], ['burst', 'burst'], ['max-in-flight', 'max_in_flight'], ['canary', 'canary'],
      ['max-fail-pct', 'max_fail_pct'], ['max-attempts', 'max_attempts']]) {
      const v = $(id).value.trim();
      if (v !== '') b[key] = Number(v);
    }
    if ($('window').value.trim()) b.windows = [$('window').value.trim()];
    for (const [id, key] of [['hold', 'hold'], ['skip-invalid', 'skip_invalid'], ['force', 'force']])
      if ($(id).checked) b[key] = true;
    return b;
  }

  function showOutcome(r, dry) {
    const out = [];
    const issues = r.csv_issues || [];
    if (issues.length)
      out.push(el('div', { class: 'notice error', id: 'csv-issues' },
        el('b', {}, issues.length + (issues.length === 1 ? ' row has' : ' rows have') + ' errors and will not be imported:'),
        el('ul', { class: 'issues' }, issues.map((i) => el('li', {}, i)))));
    else if (source === 'csv') out.push(el('div', { class: 'notice ok', id: 'csv-issues' }, 'Every row of the CSV is valid.'));
    const refused = r.refused || [];
    // In a dry run the CSV is not imported yet, so its new devices are not in the inventory:
    // the engine checks them when the job is submitted.
    const isNew = (x) => dry && source === 'csv' && x.reason === 'no such device in the inventory';
    const newOnes = refused.filter(isNew);
    const reallyRefused = refused.filter((x) => !isNew(x));
    out.push(el('p', { id: 'matched' }, el('b', {}, String(r.matched)), ' devices selected: ',
      newOnes.length ? [el('b', {}, String(newOnes.length)), ' new, '] : null,
      el('b', {}, String(r.accepted)), (newOnes.length ? ' known' : ''), ' can run it',
      reallyRefused.length ? [', ', el('b', { class: 'error' }, String(reallyRefused.length)), ' cannot'] : null, '.'));
    if (newOnes.length)
      out.push(el('p', { class: 'muted' }, 'New devices are added to the inventory and checked when the job is submitted: ',
        newOnes.slice(0, 12).map((x) => x.device).join(', '), newOnes.length > 12 ? ' …' : ''));
    if (reallyRefused.length) {
      out.push(el('h2', {}, reallyRefused.length + ' devices cannot run this job'));
      out.push(table(reallyRefused.slice(0, 200), ['device', 'reason']));
    }
    if (r.capacity && (r.accepted > 0 || !dry)) out.push(el('p', {}, 'Schedule check: ', r.capacity_fits === false ? el('span', { class: 'error' }, r.capacity) : r.capacity));
    if (r.safety && (r.accepted > 0 || !dry)) out.push(el('p', { id: 'safety' }, 'Safety: ', r.safety));
    if (r.preview && r.preview.length) {
      out.push(el('h2', {}, 'First devices'));
      out.push(table(r.preview.map((p) => ({ name: p.name, device_pool: p.device_pool || '', device_type: p.device_type || '',
        auth_mode: p.auth_mode || '', status: p.status || p.note || '' }))));
    }
    if (r.generated_strings && r.generated_strings.length) {
      // Shown nowhere else: offered once as a file, like the CLI's 0600 file.
      const csv = 'Device Name,Authentication String\n' + r.generated_strings.map((g) => g.device + ',' + g.auth_string).join('\n') + '\n';
      const a = el('a', { download: r.job_id + '-auth-strings.csv', id: 'strings-download' }, 'Download the generated authentication strings');
      a.href = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
      out.push(el('div', { class: 'notice info' }, a, ' — they are shown nowhere else; keep the file safe.'));
    }
    return out;
  }

  $('check').addEventListener('click', async () => {
    invalidate();
    let b;
    try { b = await body(); } catch (e) { notice(result, 'error', e.message); return; }
    b.dry_run = true;
    notice(result, 'info', 'Checking…');
    const r = await capf.admin('POST', '/v1/jobs', b);
    if (r.status !== 200 && r.status !== 422) { notice(result, 'error', r.body.error); return; }
    clear(result).append(el('div', { class: 'notice info' }, 'Dry run: nothing submitted yet.'), ...showOutcome(r.body, true));
    delete b.dry_run;
    checked = b;
    $('submit').disabled = !(r.body.matched > 0);
  });

  $('submit').addEventListener('click', async () => {
    if (!checked) return;
    $('submit').disabled = true;
    const r = await capf.admin('POST', '/v1/jobs', checked);
    if (r.status === 200 && r.body.submitted) {
      const link = el('a', { href: '/job?id=' + encodeURIComponent(r.body.job_id), id: 'job-link' }, 'follow job ' + r.body.job_id);
      clear(result).append(el('div', { class: 'notice ok', id: 'submitted' }, 'Submitted job ' + r.body.job_id + ' — ', link), ...showOutcome(r.body, false));
      if (!(r.body.generated_strings || []).length) setTimeout(() => { location.href = link.href; }, 800);
    } else {
      clear(result).append(el('div', { class: 'notice error' }, r.body.error || 'not submitted'), ...showOutcome(r.body, false));
    }
  });
})();
