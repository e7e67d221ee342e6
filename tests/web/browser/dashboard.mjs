// The web dashboard in a real browser: a daemon and a simulated phone fleet on loopback, Debian's
// chromium headless through puppeteer-core. Logs in, uploads a CSV with one bad row and sees its
// error, submits the job, watches the fleet complete it live, pauses and resumes it, and saves
// screenshots. Also refuses unauthenticated and cross-site requests over plain HTTPS.
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

function run(args, input) { return execFileSync(capf, args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] }); }

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

async function main() {
  // The daemon and the simulated fleet, loopback only.
  run(['sim', 'init', '--state', simState]);
  const control = await freePort();
  const daemonArgs = ['serve', '--data-dir', data, '--listen', '127.0.0.1:0', '--mic-root', path.join(simState, 'manufacturer/capf-ca.pem'),
    '--trigger-url', `http://127.0.0.1:${control}/trigger/{name}`, '--session-wait', '30', '--web', '127.0.0.1:0', '--log-level', 'info'];
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
  fs.writeFileSync(uploadCsv, header + rows.slice(0, 6).join('') + badRow + rows.slice(6).join(''));
  const controlFile = path.join(tmp, 'control.json');
  start(['sim', '--server', `127.0.0.1:${info.capf[0].port}`, '--ca', caFile, '--csv', fleetCsv, '--state', simState,
    '--control', `127.0.0.1:${control}`, '--control-port-file', controlFile], 'sim');
  await until('the simulator control port', () => fs.existsSync(controlFile) && fs.statSync(controlFile).size > 0, 60000);
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
  await until('two devices to succeed', async () => (await count('succeeded')) >= 2, 120000, 200);
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
  check('the device table lists every device of the job', rowsShown === names.length, String(rowsShown));
  await shot(page, '04-job-completed.png', `job ${jobId} completed: progress bar full, ${succeeded} succeeded, serials per device`);

  // Outcomes, not pixels: the daemon's view and every LSC verified by openssl against the CAPF CA.
  const job = JSON.parse(run(['job', 'show', jobId, '--json', '--data-dir', data]));
  check('the CLI sees the same completed job', job.state === 'completed' && job.counts.succeeded === names.length, JSON.stringify(job.counts));
  let verified = 0;
  for (const n of names) {
    try { execFileSync('openssl', ['verify', '-CAfile', caFile, path.join(simState, 'phones', n + '.lsc.pem')], { stdio: 'pipe' }); verified++; } catch { /* counted */ }
  }
  check('every phone holds an LSC that openssl verifies against the CAPF CA', verified === names.length, `${verified}/${names.length}`);

  // Jobs list, devices with their LSC, one device's history.
  await page.goto(base + '/', { waitUntil: 'domcontentloaded' });
  await page.waitForSelector(`#jobs-table tr[data-job="${jobId}"]`);
  await shot(page, '05-jobs.png', 'jobs list: state, progress bar, counts per device state, rate, ETA');
  await page.goto(base + '/devices?where=' + encodeURIComponent('device_pool = DP-WEB'), { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#devices-table tbody tr');
  const serials = await page.$$eval('#devices-table tbody tr td.mono', (t) => t.map((x) => x.textContent));
  check('the devices page shows each LSC serial', serials.length === names.length && serials.every((s) => /^[0-9a-f]+$/.test(s)), serials.join(','));
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

  // Pages over routes other parts of capf add: a table when present, "not available" when not.
  for (const [p, file] of [['/trust', '08-trust.png'], ['/csrs', '09-csrs.png'], ['/policies', '10-policies.png']]) {
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
