// The web dashboard in a real browser: a daemon and a simulated phone fleet on loopback, Debian's
// chromium headless through puppeteer-core. Over 40,000 planted phones whose LSCs expire at
// known dates (`capf bench paging`, which also prints the paging figure) it checks the overview's
// counts, histogram and nights ahead against the data, follows count links to the matching
// devices and pages through the whole list. Then it uploads a CSV with one bad row and sees its
// error, submits the job, watches its chart grow while the fleet completes it live, pauses and
// resumes it, and saves screenshots. Also refuses unauthenticated and cross-site requests.
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';

const capf = process.env.CAPF_BINARY;
const artifacts = path.join(process.env.CAPF_ARTIFACTS, 'screenshots');
const require = createRequire(path.join(process.env.CAPF_WEB_TEST_DIR, 'package.json'));
const puppeteer = require('puppeteer-core');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'capf-web-'));
const data = path.join(tmp, 'data');
const simState = path.join(tmp, 'sim');
const children = [];
let browser = null;
let currentPage = null;
let passed = 0;
let failed = 0;
const shots = [];

function log(...a) { console.log('[web_browser]', ...a); }
function check(what, ok, detail = '') {
  if (ok) { passed++; log('ok  ', what); } else { failed++; log('FAIL', what, detail); }
  return ok;
}
function must(what, ok, detail = '') { if (!check(what, ok, detail)) throw new Error(what + ' ' + detail); }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value; bounded. */
async function until(what, fn, timeoutMs = 60000, everyMs = 100) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await sleep(everyMs);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
    s.on('error', reject);
  });
}

// The 40,000-phone listing is some 20 MB of JSON: well above execFileSync's 1 MB default.
function run(args, input) {
  return execFileSync(capf, args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024 });
}

function start(args, name) {
  const out = fs.openSync(path.join(tmp, name + '.log'), 'w');
  const child = spawn(capf, args, { stdio: ['ignore', out, out] });
  children.push(child);
  return child;
}

/** One HTTPS request to the dashboard, the CAPF CA trusted (the certificate is verified). */
function request(base, ca, method, p, { body, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(p, base);
    const req = https.request({ method, hostname: u.hostname, port: u.port, path: u.pathname + u.search, ca,
      servername: 'localhost', headers: { ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers } },
    (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.setTimeout(20000, () => req.destroy(new Error('request timed out')));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** base64 SHA-256 of the server certificate's SubjectPublicKeyInfo, after verifying its chain. */
function spkiPin(port, ca) {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      const cert = new crypto.X509Certificate(s.getPeerCertificate(true).raw);
      const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
      s.end();
      resolve(crypto.createHash('sha256').update(spki).digest('base64'));
    });
    s.on('error', reject);
  });
}

async function shot(page, name, what) {
  fs.mkdirSync(artifacts, { recursive: true });
  const file = path.join(artifacts, name);
  await page.screenshot({ path: file, fullPage: true });
  shots.push([file, what]);
}

const names = Array.from({ length: 12 }, (_, i) => 'SEP0000000B0' + String(i + 1).padStart(3, '0').toUpperCase());
const header = 'Device Name,Description,Device Pool,Certificate Operation,Authentication Mode,Authentication String,Key Size (Bits),Key Order\n';
const rows = names.map((n, i) => `${n},Web test phone ${i + 1},DP-WEB,Install/Upgrade,By Null String,,2048,RSA Only\n`);
const badRow = 'SEP0000000B0FF0,Bad key size,DP-WEB,Install/Upgrade,By Null String,,2000,RSA Only\n';
// In the job but not in the simulated fleet: its Apply Config gets 404, a failure with a reason.
const ghost = 'SEP0000000B0F0E';
const ghostRow = `${ghost},Unplugged phone,DP-WEB,Install/Upgrade,By Null String,,2048,RSA Only\n`;
const planted = 40000;
const day = 86400e3;

/** The planted phone SEP…i's index (capf bench paging names them by index in hex). */
const indexOf = (name) => parseInt(name.slice(3), 16);

/** What the overview must show, computed here from the device records themselves. */
function expectedFleet(phones, generatedAt, noticeDays, buckets) {
  const now = Date.parse(generatedAt), notice = now + noticeDays * day;
  const status = { none: 0, revoked: 0, expired: 0, expiring: 0, valid: 0 };
  const counts = buckets.map(() => 0);
  for (const p of phones) {
    if (!p.lsc) { status.none++; continue; }
    const t = Date.parse(p.lsc.not_after);
    // capf bench paging revokes every 500th phone (i % 500 == 5).
    if (indexOf(p.name) % 500 === 5) status.revoked++;
    else if (t <= now) status.expired++;
    else if (t < notice) status.expiring++;
    else status.valid++;
    if (t <= now) continue;
    const k = buckets.findIndex((b) => t >= Date.parse(b.from) && t < Date.parse(b.to));
    if (k >= 0) counts[k]++;
  }
  return { status, counts };
}

/** The overview over the planted fleet: every figure against the device records and the CLI's forecast. */
async function checkOverview(page, base, data) {
  await page.goto(base + '/', { waitUntil: 'domcontentloaded' });
  await page.waitForFunction(() => document.body.dataset.overview === 'loaded', { timeout: 60000 });
  const shown = await page.evaluate(() => ({
    generatedAt: document.body.dataset.generatedAt,
    buckets: [...document.querySelectorAll('#expiry-histogram rect.bar')].map((r) => ({ ...r.dataset })),
    status: Object.fromEntries([...document.querySelectorAll('#fleet-status [data-status]')]
      .map((t) => [t.dataset.status, Number(t.querySelector('b').textContent.replace(/,/g, ''))])),
    issuers: Object.fromEntries([...document.querySelectorAll('#fleet-issuers [data-issuer]')]
      .map((t) => [t.dataset.issuer, Number(t.querySelector('b').textContent.replace(/,/g, ''))])),
    marker: document.querySelector('#expiry-histogram line.marker')?.dataset.marker,
    nights: [...document.querySelectorAll('#nights-chart-svg rect.bar')].map((r) => ({ ...r.dataset, over: r.classList.contains('over') })),
    nearest: [...document.querySelectorAll('#expiry-dates-table tr.nearest')].map((r) => r.dataset.what),
  }));
  await shot(page, '11-overview.png', `overview over ${planted} planted phones: LSC status and issuer counts, the expiry histogram ` +
    '(26 weeks, then months to 5 years, notice threshold marked), the nights ahead of policy pool3 with over-capacity nights in red, ' +
    'CAPF CA and trust store expiry with the nearest highlighted');
  const phones = JSON.parse(run(['phones', 'list', '--json', '--data-dir', data])).phones;
  must('the planted fleet is in the inventory', phones.length === planted, String(phones.length));
  const want = expectedFleet(phones, shown.generatedAt, 30, shown.buckets);
  check('the histogram has 26 weekly bars, then months up to 5 years',
    shown.buckets.filter((b) => b.unit === 'week').length === 26 && shown.buckets.length >= 26 + 53 &&
    Date.parse(shown.buckets.at(-1).to) - Date.parse(shown.generatedAt) > 5 * 365 * day, String(shown.buckets.length));
  const wrong = shown.buckets.map((b, k) => [b.from, Number(b.count), want.counts[k]]).filter(([, got, exp]) => got !== exp);
  check('every histogram bar counts exactly the LSCs expiring in it', wrong.length === 0 && want.counts.some((c) => c > 0),
    JSON.stringify(wrong.slice(0, 5)));
  check('the notice threshold is marked on the histogram', shown.marker === 'notice: 30 days', String(shown.marker));
  check('the fleet by LSC status matches the device records', JSON.stringify(shown.status) ===
    JSON.stringify({ ...want.status, stale: 40 }), `${JSON.stringify(shown.status)} vs ${JSON.stringify(want.status)}`);
  const withLsc = phones.filter((p) => p.lsc).length;
  check('the fleet by issuer covers every LSC, each kind present',
    Object.values(shown.issuers).reduce((a, b) => a + b, 0) === withLsc &&
    ['capf-ca', 'retired-capf-ca', 'online-ca', 'offline-ca'].every((k) => shown.issuers[k] > 0), JSON.stringify(shown.issuers));
  // The nights: the CLI's forecast (the same planning function), added up per date.
  const forecast = JSON.parse(run(['policy', 'forecast', 'pool3', '--days', '30', '--json', '--data-dir', data]));
  const perDate = {};
  for (const n of forecast.nights) {
    const d = n.start.slice(0, 10);
    perDate[d] = perDate[d] || { devices: 0, over: false };
    perDate[d].devices += n.devices;
    perDate[d].over = perDate[d].over || n.over;
  }
  const nightsWrong = shown.nights.filter((n) => !perDate[n.date] || perDate[n.date].devices !== Number(n.devices) ||
    perDate[n.date].over !== n.over);
  check('the nights ahead are the forecast of capf policy forecast, night by night',
    shown.nights.length === Object.keys(perDate).length && shown.nights.length >= 29 && nightsWrong.length === 0,
    JSON.stringify(nightsWrong.slice(0, 3)));
  check('over-capacity nights are marked, the others not', shown.nights.some((n) => n.over) && shown.nights.some((n) => !n.over),
    JSON.stringify(shown.nights.map((n) => [n.date, n.devices, n.capacity, n.over])));
  check('the nearest CA or trust store expiry is highlighted', shown.nearest.length === 1, JSON.stringify(shown.nearest));

  // A count links to exactly its devices: the "expiring" tile, then one month's bar.
  await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('#fleet-status a[data-status="expiring"]')]);
  await page.waitForFunction(() => document.getElementById('devices-info')?.dataset.matched);
  const expiring = Number(await page.$eval('#devices-info', (e) => e.dataset.matched));
  check('the expiring count links to the devices it counts', expiring === want.status.expiring && expiring > 0,
    `${expiring} vs ${want.status.expiring}`);
  await shot(page, '12-devices-expiring.png', `the devices behind the overview's "expiring" count: ${expiring} phones, query in the box`);
  await page.goto(base + '/', { waitUntil: 'domcontentloaded' });
  await page.waitForFunction(() => document.body.dataset.overview === 'loaded', { timeout: 60000 });
  const bars = await page.$$('#expiry-histogram a.bar-link');
  await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), bars[30].click()]);
  await page.waitForFunction(() => document.getElementById('devices-info')?.dataset.matched);
  const month = Number(await page.$eval('#devices-info', (e) => e.dataset.matched));
  check('a histogram bar links to the devices it counts', month === Number(shown.buckets[30].count) && month > 0,
    `${month} vs ${shown.buckets[30].count}`);
}

/** The whole 40,000-device inventory, paged on the server: forward, a larger page, back, sorted. */
async function pageThroughDevices(page, base) {
  await page.goto(base + '/devices', { waitUntil: 'domcontentloaded' });
  await page.waitForFunction(() => document.getElementById('devices-info')?.dataset.page === '1');
  const state = () => page.evaluate(() => ({
    page: Number(document.getElementById('devices-info').dataset.page),
    matched: Number(document.getElementById('devices-info').dataset.matched),
    names: [...document.querySelectorAll('#devices-table tbody tr')].map((r) => r.dataset.device),
  }));
  const first = await state();
  check('the device list counts every planted phone and shows one page', first.matched === planted && first.names.length === 50,
    JSON.stringify([first.matched, first.names.length]));
  const seen = [...first.names];
  for (let p = 2; p <= 4; p++) {
    await page.click('#devices-next');
    await page.waitForFunction((n) => document.getElementById('devices-info').dataset.page === String(n), {}, p);
    seen.push(...(await state()).names);
  }
  const sorted = [...seen].sort();
  check('four pages follow each other in name order without gaps or repeats',
    seen.length === 200 && new Set(seen).size === 200 && JSON.stringify(seen) === JSON.stringify(sorted) &&
    seen[199] === 'SEP' + (199).toString(16).toUpperCase().padStart(12, '0'), seen.slice(-2).join(','));
  await shot(page, '14-devices-page-4.png', `the ${planted}-phone inventory on page 4 (151–200 of ${planted}), paged on the server`);
  await page.click('#devices-prev');
  await page.waitForFunction(() => document.getElementById('devices-info').dataset.page === '3');
  check('Previous goes back to the page before', JSON.stringify((await state()).names) === JSON.stringify(seen.slice(100, 150)));
  await page.select('#devices-size', '200');
  await page.waitForFunction(() => document.querySelectorAll('#devices-table tbody tr').length === 200);
  await page.click('th[data-sort="lsc_expires"]');
  await page.waitForFunction(() => document.querySelector('th[data-sort="lsc_expires"]').classList.contains('sorted-asc'));
  await page.click('th[data-sort="lsc_expires"]');
  await page.waitForFunction(() => document.querySelector('th[data-sort="lsc_expires"]').classList.contains('sorted-desc') &&
    document.getElementById('devices-info').dataset.page === '1');
  await page.click('#devices-next');
  await page.waitForFunction(() => document.getElementById('devices-info').dataset.page === '2');
  const expiries = await page.$$eval('#devices-table tbody tr td:nth-child(9)', (t) => t.map((x) => x.textContent));
  const times = expiries.map((x) => Date.parse(x.replace(' ', 'T')));
  check('sorted by LSC expiry, newest first, on the second page too',
    times.length === 200 && times.every((t, i) => i === 0 || t <= times[i - 1]), expiries.slice(0, 3).join(','));
}

/**
 * Issue 19 item 9, from the pages: one phone's CAPF settings, a trust entry uploaded and deleted,
 * the stale LSCs deleted; each checked through the CLI and audited as web:operator.
 */
async function editsFromTheDashboard(page, base, data, ca, cookie) {
  page.on('dialog', (d) => d.accept());  // the pages ask before deleting
  const phone = 'SEP000000000001';
  await page.goto(base + '/devices?name=' + phone, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#device-facts dd');
  await page.click('#edit-box summary');
  await page.select('#edit-operation', 'Install/Upgrade');
  await page.select('#edit-auth-mode', 'By Authentication String');
  await page.type('#edit-auth-string', '482913');
  await page.click('#edit-save');
  await page.waitForSelector('#edit-message .notice');
  const saved = await page.$eval('#edit-message .notice', (e) => e.className + ': ' + e.textContent);
  const shown = JSON.parse(run(['phone', 'show', phone, '--json', '--data-dir', data]));
  check('a phone\'s CAPF settings are edited on its page', saved.startsWith('notice ok') && shown.operation === 'Install/Upgrade' &&
    shown.auth_mode === 'By Authentication String' && !saved.includes('482913'), `${saved} / ${shown.operation} / ${shown.auth_mode}`);
  await shot(page, '08-device-edit.png', `device ${phone}: CAPF settings edited on the dashboard (Install/Upgrade, By Authentication String)`);

  // Generate String (the seed's button): the new string is shown once, on this page only.
  await page.click('#generate-string');
  await page.waitForSelector('#generated-string b');
  const generated = await page.$eval('#generated-string b', (e) => e.textContent);
  const afterGenerate = run(['phone', 'show', phone, '--json', '--data-dir', data]);
  const audited = run(['audit', 'list', '--actor', 'web:operator', '--json', '--data-dir', data]);
  check('Generate String on a phone\'s page shows a new 4–10 digit string once and audits it as web:operator',
    /^[0-9]{4,10}$/.test(generated) && generated !== '482913' && !afterGenerate.includes(generated) &&
    audited.includes('generate_string') && !audited.includes(generated), `${generated} / ${audited.slice(0, 300)}`);
  await page.reload({ waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#device-facts dd');
  check('the generated string is not shown again after a reload', !(await page.content()).includes(generated));

  // A root CA made for the test (a "CAPF-" common name is refused: it is reserved for CAPF).
  const caPem = path.join(path.dirname(data), 'dashboard-root.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout',
    path.join(path.dirname(data), 'dashboard-root.key'), '-out', caPem, '-subj', '/CN=Dashboard Test Root', '-days', '30',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], { stdio: 'pipe' });
  await page.goto(base + '/trust', { waitUntil: 'domcontentloaded' });
  await page.waitForFunction(() => !document.getElementById('content').textContent.includes('Loading'));
  await page.select('#upload-store', 'callmanager-trust');
  await (await page.$('#upload-file')).uploadFile(caPem);
  await page.type('#upload-description', 'uploaded from the dashboard');
  await page.click('#upload-button');
  await page.waitForSelector('#upload-result');
  const listed = JSON.parse(run(['trust', 'list', '--store', 'callmanager-trust', '--json', '--data-dir', data])).entries;
  const entry = listed.find((e) => e.description === 'uploaded from the dashboard');
  must('a certificate uploaded on the trust page is in CallManager-trust', !!entry, JSON.stringify(listed.map((e) => e.subject)));
  await page.waitForSelector(`#trust-table tr[data-entry="${entry.id}"]`);
  await shot(page, '09-trust.png', 'trust stores: a root CA just uploaded into CallManager-trust, with its expiry and a Delete button');
  await page.click(`button[data-delete="${entry.id}"]`);
  await page.waitForFunction((id) => !document.querySelector(`#trust-table tr[data-entry="${id}"]`) &&
    document.querySelector('#message .notice.ok'), {}, entry.id);
  const after = JSON.parse(run(['trust', 'list', '--store', 'callmanager-trust', '--json', '--data-dir', data])).entries;
  check('Delete on the trust page removes the entry', !after.some((e) => e.id === entry.id), JSON.stringify(after.map((e) => e.id)));

  await page.goto(base + '/stale-lscs', { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#stale-count');
  const before = Number(await page.$eval('#stale-count b', (e) => e.textContent));
  check('the stale-LSC page lists the planted stale LSCs', before === planted / 1000, String(before));
  await shot(page, '10-stale-lscs.png', `stale LSCs: the ${before} planted ones, with the Delete button`);
  await page.click('#delete-stale');
  await page.waitForFunction(() => document.querySelector('#message .notice.ok') && document.querySelector('#stale-count b')?.textContent === '0');
  const stale = JSON.parse(run(['stale-lsc', 'list', '--json', '--data-dir', data]));
  check('Delete on the stale-LSC page deletes them all', (stale.lscs || []).length === 0, JSON.stringify(stale).slice(0, 200));

  const audit = JSON.parse((await request(base, ca, 'GET', '/api/v1/audit?page_size=200', { headers: { Cookie: cookie } })).text).audit;
  const mine = (action) => audit.filter((a) => a.actor === 'web:operator' && a.action === action).length;
  check('every edit is audited as web:operator', mine('phone.set') === 2 && mine('trust.upload') === 1 && mine('trust.delete') === 1 &&
    mine('stale-lsc.delete') === before, JSON.stringify(['phone.set', 'trust.upload', 'trust.delete', 'stale-lsc.delete'].map(mine)));
}

/**
 * `next` after a login leads only to a path on the dashboard. The real login with next=/devices
 * lands there; for hostile values the login answer is replaced (request interception) so that
 * login.js's own check is what stands between the page and another site, with the same value in
 * the login page's query as well: the page must go to "/" and never ask another host for anything.
 */
async function nextStaysOnThisOrigin(base, token) {
  const context = await browser.createBrowserContext();
  try {
    const page = await context.newPage();
    currentPage = page;
    await page.goto(base + '/login?next=' + encodeURIComponent('/devices'), { waitUntil: 'domcontentloaded' });
    await page.click('#token-login summary');  // the token form is folded away under the user login
    await page.type('#token', token);
    await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('#token-button')]);
    check('login with next=/devices lands on /devices', new URL(page.url()).pathname === '/devices', page.url());
    const hostile = ['/\\evil.example', '//evil.example', 'https://evil.example', '/%5Cevil.example', '/%5cevil.example',
      '/\t/evil.example', '/\n/evil.example', '/%2F/evil.example', 'javascript:alert(1)'];
    const guarded = await context.newPage();
    currentPage = guarded;
    await guarded.setRequestInterception(true);
    let answer = '';
    const foreign = [];
    let landed = null;
    guarded.on('request', (r) => {
      const u = new URL(r.url());
      if (u.origin !== base) { foreign.push(r.url()); r.abort(); return; }
      if (u.pathname === '/login' && r.method() === 'POST') {
        r.respond({ status: 200, contentType: 'application/json', body: JSON.stringify({ user: 'x', csrf: '', next: answer }) });
        return;
      }
      if (r.isNavigationRequest() && u.pathname !== '/login') landed = u.pathname + u.search;
      r.continue();
    });
    for (const bad of hostile) {
      answer = bad;
      landed = null;
      foreign.length = 0;
      await guarded.goto(base + '/login?next=' + encodeURIComponent(bad), { waitUntil: 'domcontentloaded' });
      await guarded.click('#token-login summary');
      await guarded.type('#token', 'not-checked');
      // The answer starts a navigation ('/' then the login again, or a refused foreign one); it
      // must have settled before the next goto, or the next click runs in a page being replaced.
      const settled = guarded.waitForNavigation({ waitUntil: 'domcontentloaded', timeout: 30000 }).catch((e) => e);
      await guarded.click('#token-button');
      await until(`the page to leave the login after next=${JSON.stringify(bad)}`, () => landed !== null || foreign.length > 0, 30000);
      await settled;
      check(`next=${JSON.stringify(bad)} goes to "/" and nowhere else`, landed === '/' && foreign.length === 0,
        `landed ${landed}, foreign requests: ${foreign.join(' ')}`);
    }
  } finally {
    await context.close();
  }
}

async function main() {
  // The daemon and the simulated fleet, loopback only.
  run(['sim', 'init', '--state', simState]);
  const control = await freePort();
  const daemonArgs = ['serve', '--data-dir', data, '--listen', '127.0.0.1:0', '--mic-root', path.join(simState, 'manufacturer/capf-ca.pem'),
    '--trigger-url', `http://127.0.0.1:${control}/trigger/{name}`, '--session-wait', '30', '--web', '127.0.0.1:0', '--log-level', 'info'];
  // 40,000 phones with LSCs at known dates, planted before the daemon opens the store; the
  // benchmark's figure (first page of a device query) goes into the log.
  const benchOut = run(['bench', 'paging', '--devices', String(planted), '--runs', '3', '--data-dir', data]);
  log('capf bench paging --devices ' + planted + ' --runs 3:\n' + benchOut);
  const daemon = start(daemonArgs, 'daemon');
  const info = await until('daemon.json', () => {
    if (daemon.exitCode !== null) throw new Error('capf serve exited: ' + fs.readFileSync(path.join(tmp, 'daemon.log'), 'utf8'));
    try { return JSON.parse(fs.readFileSync(path.join(data, 'daemon.json'), 'utf8')); } catch { return null; }
  }, 60000);
  const base = info.web.replace(/\/$/, '');
  log('dashboard at', base);
  must('daemon.json gives the dashboard address on loopback', /^https:\/\/127\.0\.0\.1:\d+$/.test(base), base);
  const ca = run(['ca', 'show', '--pem', '--data-dir', data]);
  const caFile = path.join(tmp, 'capf-ca.pem');
  fs.writeFileSync(caFile, ca);
  const fleetCsv = path.join(tmp, 'fleet.csv');
  fs.writeFileSync(fleetCsv, header + rows.join(''));
  const uploadCsv = path.join(tmp, 'maintenance-night.csv');
  fs.writeFileSync(uploadCsv, header + rows.slice(0, 6).join('') + badRow + rows.slice(6).join('') + ghostRow);
  const controlFile = path.join(tmp, 'control.json');
  start(['sim', '--server', `127.0.0.1:${info.capf[0].port}`, '--ca', caFile, '--csv', fleetCsv, '--state', simState,
    '--control', `127.0.0.1:${control}`, '--control-port-file', controlFile], 'sim');
  await until('the simulator control port', () => fs.existsSync(controlFile) && fs.statSync(controlFile).size > 0, 60000);
  // A renewal policy over one pool of the planted fleet, its window 6 hours from now (so it
  // creates no job during the test), with little capacity so that some nights are over it.
  const opens = new Date(Date.now() + 6 * 3600e3);
  run(['template', 'create', 'pool3', '--where', 'device_pool = DP-03', '--key-size', '2048', '--data-dir', data]);
  run(['policy', 'create', 'pool3', '--where', 'device_pool = DP-03', '--template', 'pool3', '--window',
    `${opens.getUTCMinutes()} ${opens.getUTCHours()} * * * 2h UTC`, '--rate', '0.05/min', '--renew-days-before', '30',
    '--jitter-nights', '3', '--data-dir', data]);
  const password = 'night-shift-' + crypto.randomBytes(6).toString('hex');
  run(['web', 'passwd', 'operator', '--data-dir', data], password + '\n');

  // Refusals over plain HTTPS (no browser): no session, no CSRF token, another site.
  const token = fs.readFileSync(path.join(data, 'admin.token'), 'utf8');
  check('unauthenticated API call is refused (401)', (await request(base, ca, 'GET', '/api/v1/jobs')).status === 401);
  const page0 = await request(base, ca, 'GET', '/');
  check('unauthenticated page redirects to the login', page0.status === 303 && page0.headers.location === '/login');
  const login = await request(base, ca, 'POST', '/login', { body: JSON.stringify({ token }), headers: { Origin: base } });
  must('admin token login', login.status === 200, login.text);
  const cookie = login.headers['set-cookie'][0].split(';')[0];
  const csrf = JSON.parse(login.text).csrf;
  const probe = JSON.stringify({ where: 'device_pool = DP-WEB', operation: 'install', dry_run: true });
  check('state change without the CSRF token is refused (403)',
    (await request(base, ca, 'POST', '/api/v1/jobs', { body: probe, headers: { Cookie: cookie, Origin: base } })).status === 403);
  check('cross-site state change is refused (403)',
    (await request(base, ca, 'POST', '/api/v1/jobs', { body: probe, headers: { Cookie: cookie, Origin: 'https://evil.example', 'X-CSRF-Token': csrf } })).status === 403);
  check('state change without Origin or Referer is refused (403)',
    (await request(base, ca, 'POST', '/api/v1/jobs', { body: probe, headers: { Cookie: cookie, 'X-CSRF-Token': csrf } })).status === 403);
  const same = await request(base, ca, 'POST', '/api/v1/jobs', { body: probe, headers: { Cookie: cookie, Origin: base, 'X-CSRF-Token': csrf } });
  // The admin API itself answers (here: no DP-WEB device is in the inventory yet).
  check('same-origin request with the CSRF token reaches the admin API',
    same.status === 400 && JSON.parse(same.text).error === 'the selection matches no device', `${same.status} ${same.text}`);

  // The browser trusts exactly this server key (pinned after Node verified it chains to the CAPF CA).
  const pin = await spkiPin(Number(new URL(base).port), ca);
  const args = ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', `--ignore-certificate-errors-spki-list=${pin}`,
    `--user-data-dir=${path.join(tmp, 'chromium')}`];
  if (process.getuid && process.getuid() === 0) args.push('--no-sandbox');
  browser = await puppeteer.launch({ executablePath: '/usr/bin/chromium', headless: true, args, defaultViewport: { width: 1400, height: 900 },
    protocolTimeout: 60000 });
  await nextStaysOnThisOrigin(base, token);
  const page = await browser.newPage();
  currentPage = page;
  page.setDefaultTimeout(30000);
  const consoleErrors = [];
  // Refused requests the test makes on purpose show up as "Failed to load resource"; script errors do not.
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));

  // Log in as the configured user.
  await page.goto(base + '/', { waitUntil: 'domcontentloaded' });
  must('the dashboard sends a browser without a session to the login', new URL(page.url()).pathname === '/login', page.url());
  await page.type('#user', 'operator');
  await page.type('#password', password);
  await shot(page, '01-login.png', 'the login page (user + password; admin token below)');
  await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('#login-button')]);
  await page.waitForSelector('#user');
  must('logged in as operator', (await page.$eval('#user', (e) => e.textContent)) === 'operator');

  await checkOverview(page, base, data);
  await pageThroughDevices(page, base);

  // Upload the CSV with one bad row: the dry run shows the row's error before anything is submitted.
  await page.goto(base + '/submit', { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#csv-file');
  await (await page.$('#csv-file')).uploadFile(uploadCsv);
  await page.$eval('#rate', (e) => { e.value = '30'; });
  await page.$eval('#burst', (e) => { e.value = '1'; });
  await page.$eval('#description', (e) => { e.value = 'maintenance night (browser test)'; });
  await page.click('#check');
  await page.waitForSelector('#csv-issues');
  const issues = await page.$eval('#csv-issues', (e) => e.textContent);
  check('the bad row is shown with its line and reason before submission',
    /maintenance-night\.csv:8:\d+: Key Size \(Bits\) must be 1024, 2048, 3072 or 4096 \(got "2000"\)/.test(issues), issues);
  check('the dry run submitted nothing', JSON.parse(run(['job', 'list', '--json', '--data-dir', data])).jobs.length === 0);
  await page.waitForFunction(() => !document.getElementById('submit').disabled);
  await shot(page, '02-csv-row-error.png', 'submit page after the dry run: the one bad row (line 8, Key Size 2000) in red, 12 new devices to be added, first devices; nothing submitted yet');

  // Submit, and follow the job live.
  await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded', timeout: 30000 }), page.click('#submit')]);
  const jobId = new URL(page.url()).searchParams.get('id');
  must('submitting opens the job page', /^J\d{4}$/.test(jobId || ''), page.url());
  await page.evaluate(() => { window.__sameDocument = true; });
  await page.waitForFunction(() => document.getElementById('live').textContent.includes('live'));
  // -1 while the figures are being redrawn.
  const count = (s) => page.evaluate((st) => {
    const e = document.querySelector(`#state-counts [data-count="${st}"]`);
    return e ? Number(e.textContent) : -1;
  }, s);
  const dispatched = () => page.evaluate(() => {
    const svg = document.getElementById('job-chart-svg');
    return svg ? Number(svg.dataset.dispatched) : 0;
  });
  await until('the chart to show a dispatch', async () => (await dispatched()) >= 1, 120000, 200);
  const early = await dispatched();
  await until('two devices to succeed', async () => (await count('succeeded')) >= 2, 120000, 200);
  await until('the chart to grow', async () => (await dispatched()) > early, 120000, 200);
  check('the job chart grows while the job runs (live, same page)', await page.evaluate(() => window.__sameDocument === true),
    `from ${early} dispatched`);
  await shot(page, '13-job-chart-growing.png', `job ${jobId} while it runs: the per-minute chart of dispatches, successes and failures growing live`);
  check('the job page shows progress without a reload', await page.evaluate(() => window.__sameDocument === true));

  await page.click('#action-pause');
  await page.waitForFunction(() => document.getElementById('job-state').dataset.state === 'paused');
  check('pause: the job shows paused', true);
  const cliState = JSON.parse(run(['job', 'show', jobId, '--json', '--data-dir', data])).state;
  check('pause reached the engine (CLI sees paused)', cliState === 'paused', cliState);
  await page.select('#state-filter', 'queued');
  await shot(page, '03-job-paused.png', `job ${jobId} paused mid-run, devices filtered to "queued" with their next attempt`);
  const queuedWhilePaused = await count('queued');
  check('devices are still queued while paused', queuedWhilePaused > 0, String(queuedWhilePaused));
  await page.select('#state-filter', '');

  await page.click('#action-resume');
  await page.waitForFunction(() => document.getElementById('job-state').dataset.state === 'active');
  check('resume: the job is active again', true);
  await page.waitForFunction(() => document.getElementById('job-state').dataset.state === 'completed', { timeout: 180000 });
  check('the fleet completed the job, seen live on the same page', await page.evaluate(() => window.__sameDocument === true));
  const succeeded = await count('succeeded');
  check('every valid device succeeded', succeeded === names.length, String(succeeded));
  const rowsShown = await page.$$eval('#devices-table tbody tr', (r) => r.length);
  check('the device table lists every device of the job', rowsShown === names.length + 1, String(rowsShown));
  await page.waitForFunction(() => {
    const svg = document.getElementById('job-chart-svg');
    return svg && Number(svg.dataset.succeeded) === 12 && Number(svg.dataset.failed) === 1;
  });
  const chart = await page.$eval('#job-chart-svg', (e) => ({ ...e.dataset }));
  check('the chart ends with every dispatch, success and failure of the job',
    chart.dispatched === String(names.length + 1) && chart.succeeded === String(names.length) && chart.failed === '1', JSON.stringify(chart));
  const reasons = await page.$$eval('#reasons-list a', (a) => a.map((x) => x.dataset.reason));
  check('the failure reasons list the ghost phone\'s 404', reasons.length === 1 && /404/.test(reasons[0]), JSON.stringify(reasons));
  await shot(page, '04-job-completed.png', `job ${jobId} completed: progress bar full, ${succeeded} succeeded and 1 failed, the per-minute chart, the failure reason`);
  await page.click('#reasons-list a');
  await page.waitForFunction(() => document.querySelectorAll('#devices-table tbody tr').length === 1);
  const ghostRowShown = await page.$eval('#devices-table tbody tr', (r) => r.dataset.device);
  check('a failure reason links to its devices', ghostRowShown === ghost, ghostRowShown);

  // Outcomes, not pixels: the daemon's view and every LSC verified by openssl against the CAPF CA.
  const job = JSON.parse(run(['job', 'show', jobId, '--json', '--data-dir', data]));
  check('the CLI sees the same completed job', job.state === 'completed' && job.counts.succeeded === names.length && job.counts.failed === 1,
    JSON.stringify(job.counts));
  let verified = 0;
  for (const n of names) {
    try { execFileSync('openssl', ['verify', '-CAfile', caFile, path.join(simState, 'phones', n + '.lsc.pem')], { stdio: 'pipe' }); verified++; } catch { /* counted */ }
  }
  check('every phone holds an LSC that openssl verifies against the CAPF CA', verified === names.length, `${verified}/${names.length}`);

  // Jobs list, devices with their LSC, one device's history.
  await page.goto(base + '/jobs', { waitUntil: 'domcontentloaded' });
  await page.waitForSelector(`#jobs-table tr[data-job="${jobId}"]`);
  await shot(page, '05-jobs.png', 'jobs list: state, progress bar, counts per device state, rate, ETA');
  await page.goto(base + '/devices?where=' + encodeURIComponent('device_pool = DP-WEB'), { waitUntil: 'domcontentloaded' });
  await page.waitForFunction(() => document.querySelectorAll('#devices-table tbody tr').length === 13);
  const serials = await page.$$eval('#devices-table tbody tr td.mono', (t) => t.map((x) => x.textContent));
  check('the devices page shows each LSC serial', serials.filter((s) => /^[0-9a-f]+$/.test(s)).length === names.length, serials.join(','));
  await shot(page, '06-devices.png', 'devices of DP-WEB with LSC serial, issuer and expiry');
  await page.goto(base + '/devices?name=' + names[0], { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#lsc');
  await page.waitForSelector('#device-audit table');
  await shot(page, '07-device.png', `device ${names[0]}: CAPF settings, LSC (serial, issuer, expiry), certificate history, its jobs, audit history`);
  await page.waitForFunction((id) => document.getElementById('device-jobs').textContent.includes(id), {}, jobId);
  check('the device page lists the job that enrolled it', true);
  const auditText = await page.$eval('#device-audit', (e) => e.textContent);
  check('the device page shows its audit history (CAPF sessions)', auditText.includes('session.authenticated'), auditText.slice(0, 200));
  const jobsAudit = JSON.parse((await request(base, ca, 'GET', '/api/v1/audit?limit=50', { headers: { Cookie: cookie } })).text).audit;
  check('the audit trail names the web user who submitted, paused and resumed',
    ['job.submit', 'job.pause', 'job.resume'].every((a) => jobsAudit.some((x) => x.action === a && x.actor === 'web:operator')),
    JSON.stringify(jobsAudit.map((x) => [x.actor, x.action])));

  await editsFromTheDashboard(page, base, data, ca, cookie);

  // Pages over routes other parts of capf add: a table when present, "not available" when not.
  for (const [p, file] of [['/policies', '15-policies.png']]) {
    await page.goto(base + p, { waitUntil: 'domcontentloaded' });
    await page.waitForFunction(() => !document.getElementById('content').textContent.includes('Loading'));
    const text = await page.$eval('#content', (e) => e.textContent);
    check(`${p} renders its route or says it is not available`, text.includes('not available in this build') || text.length > 0, text.slice(0, 120));
    await shot(page, file, `${p}: ${text.includes('not available in this build') ? '"not available in this build" (route not merged yet)' : 'the route\'s data'}`);
  }

  // Logging out ends the session.
  await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('#logout')]);
  check('logout returns to the login page', new URL(page.url()).pathname === '/login', page.url());
  const afterLogout = await page.evaluate(async () => (await fetch('/api/session')).status);
  check('after logout the API refuses the browser', afterLogout === 401, String(afterLogout));
  check('no JavaScript errors in the pages', consoleErrors.length === 0, consoleErrors.join(' | '));
}

let code = 0;
try {
  await main();
} catch (e) {
  failed++;
  log('FAIL', e.stack || String(e));
  if (currentPage) await shot(currentPage, 'failure.png', 'the page when the test failed').catch(() => {});
  for (const f of ['daemon.log', 'sim.log']) {
    try { log(`--- ${f} (tail)\n` + fs.readFileSync(path.join(tmp, f), 'utf8').split('\n').slice(-30).join('\n')); } catch { /* none */ }
  }
} finally {
  if (browser) await browser.close().catch(() => {});
  for (const c of children.reverse()) {
    if (c.exitCode === null) {
      c.kill('SIGTERM');
      await Promise.race([new Promise((r) => c.once('exit', r)), sleep(15000)]);
      if (c.exitCode === null) c.kill('SIGKILL');
    }
  }
  if (!process.env.CAPF_KEEP_TMP) fs.rmSync(tmp, { recursive: true, force: true });
  else log('kept', tmp);
}
for (const [file, what] of shots) log('screenshot', file, '—', what);
console.log(`${passed} passed, ${failed} failed`);
code = failed ? 1 : 0;
process.exit(code);
