// tests/web/browser.test.mjs - the verifier page in a real browser: Debian's
// chromium (/usr/bin/chromium) driven by playwright-core (web/package.json;
// no browser is ever downloaded) against `jcstar serve --web` on loopback.
// Opens the url-form address of a valid, a tampered, an expired, a revoked,
// an unknown-issuer and a truncated label, checks the verdict in English and
// Japanese, then goes offline and reloads (the service worker must answer).
// Requirements in the address (?as=psti, ?as=jcstar, ?importance=high) and
// the "What do you need?" select: the decision under the verdict, from
// schemes.json, and the page without schemes.json (an older export).
// Screenshots go to build/web-screenshots/.
//
// Chromium only ever opens http://127.0.0.1:PORT/ addresses; every other
// host name resolves to nothing (--host-resolver-rules), and the test fails
// if the page asks for any non-loopback address.
//
// Run: JCSTAR=/abs/build/jcstar node --test tests/web/browser.test.mjs
// Needs: apt-get install chromium; cd web && npm ci
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { t } from '../../web/i18n.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TOP = path.resolve(HERE, '../..');
const J = path.resolve(process.env.JCSTAR || path.join(TOP, 'build/jcstar'));
const CHROMIUM = '/usr/bin/chromium';
const BASE = 'HTTPS://VERIFY.JCSTAR.EXAMPLE/L/';
const SHOTS = path.join(TOP, 'build/web-screenshots');
const ENV = { ...process.env, JCSTAR_PROFILES: path.join(TOP, 'certs'), JCSTAR_WEB: path.join(TOP, 'web'), LC_ALL: 'C' };
delete ENV.JCSTAR_PASSPHRASE;
const DAY = 86400 * 1000;

// playwright-core is a devDependency of web/ (installed by `npm ci` there)
const require = createRequire(path.join(TOP, 'web/package.json'));
const { chromium } = require('playwright-core');

let W; // work directory
let server = null; // the jcstar serve child
let serverLog = '';
let origin; // http://127.0.0.1:PORT
let browser;
const digits = {}; // name -> the label digits of its url-form payload
const offLoopback = []; // any request to a non-loopback address

function run(args, ok = [0]) {
  const r = spawnSync(J, args, { cwd: W, env: ENV, encoding: 'utf8' });
  if (!ok.includes(r.status)) throw new Error(`jcstar ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return r;
}

function payloadDigits(ca, der) {
  const p = run(['payload', '--ca', ca, der]).stdout.trim();
  assert.ok(p.startsWith(BASE), p);
  const d = p.slice(BASE.length);
  assert.match(d, /^[0-9]+$/);
  return d;
}

const freePort = () => new Promise((resolve, reject) => {
  const s = net.createServer();
  s.once('error', reject);
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

const healthz = (url) => new Promise((resolve) => {
  const req = http.get(`${url}/healthz`, { timeout: 1000 }, (res) => { res.resume(); resolve(res.statusCode === 200); });
  req.on('error', () => resolve(false));
  req.on('timeout', () => { req.destroy(); resolve(false); });
});

async function startServer() {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const child = spawn(J, ['serve', '--trust', path.join(W, 'site/trust.pem'), '--web', path.join(W, 'site'),
      '--listen', `127.0.0.1:${port}`, '-q'], { cwd: W, env: ENV, stdio: ['ignore', 'ignore', 'pipe'] });
    let exited = false;
    child.on('exit', () => { exited = true; });
    child.stderr.on('data', (b) => { serverLog += b; });
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100 && !exited; i++) {
      if (await healthz(url)) { server = child; origin = url; return; }
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!exited) child.kill('SIGTERM');
  }
  throw new Error(`jcstar serve did not start:\n${serverLog}`);
}

before(async () => {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);
  W = fs.mkdtempSync(path.join(os.tmpdir(), 'jcstar-browser-'));
  fs.mkdirSync(SHOTS, { recursive: true });
  const product = ['--scheme', 'jcstar', '--level', '2', '--reg-id', 'JCS-2025-000123',
    '--vendor', 'Example Vendor', '--product', 'Home Router', '--model', 'HR-1000', '--support-until', '2030-03-31'];
  run(['ca', 'init', '--dir', 'ca', '--name', 'Example Certification Body', '--verify-url', BASE, '-q']);
  run(['issue', '--ca', 'ca', ...product, '--unit-serial', 'SN-0001', '-o', 'valid.der', '-q']);
  digits.valid = payloadDigits('ca', 'valid.der');
  // tampered: one byte of the signed product name changed, re-encoded
  const der = fs.readFileSync(path.join(W, 'valid.der'));
  const at = der.indexOf('Home Router');
  assert.ok(at > 0);
  const forged = Buffer.from(der);
  forged[at + 'Home Route'.length] = 'X'.charCodeAt(0);
  fs.writeFileSync(path.join(W, 'forged.der'), forged);
  digits.tampered = payloadDigits('ca', 'forged.der');
  // expired: valid for one day; the page's clock is set 3 days ahead
  // (the CLI issues nothing before its signer's start, i.e. not in the past)
  run(['issue', '--ca', 'ca', '--reg-id', 'JCS-2025-000123', '--unit-serial', 'SN-0002', '--valid-days', '1', '-o', 'expired.der', '-q']);
  digits.expired = payloadDigits('ca', 'expired.der');
  // revoked: revoke, publish a CRL; the page's trust file carries it
  const rj = JSON.parse(run(['issue', '--ca', 'ca', '--reg-id', 'JCS-2025-000123', '--unit-serial', 'SN-0003', '-o', 'revoked.der', '--json', '-q']).stdout);
  digits.revoked = payloadDigits('ca', 'revoked.der');
  run(['revoke', '--ca', 'ca', '--serial', rj.serial, '--reason', 'key-compromise', '-q']);
  run(['crl', '--ca', 'ca', '-o', 'crl.der', '-q']);
  // unknown issuer: another certification body, same base URL
  run(['ca', 'init', '--dir', 'other', '--name', 'Other Body', '--verify-url', BASE, '-q']);
  run(['issue', '--ca', 'other', ...product, '--unit-serial', 'SN-0004', '-o', 'other.der', '-q']);
  digits.unknown = payloadDigits('other', 'other.der');
  // truncated: the last digits cut off
  digits.truncated = digits.valid.slice(0, digits.valid.length - 40);
  // for requirements: a JC-STAR ★1 and a CLS level 1 label
  run(['issue', '--ca', 'ca', '--scheme', 'jcstar', '--level', '1', '--reg-id', 'JCS-2025-000124',
    '--vendor', 'Example Vendor', '--product', 'Smart Plug', '--model', 'SP-1', '-o', 'j1.der', '-q']);
  digits.j1 = payloadDigits('ca', 'j1.der');
  run(['issue', '--ca', 'ca', '--scheme', 'cls', '--level', '1', '--reg-id', 'CLS-2025-000001',
    '--vendor', 'Example Vendor', '--product', 'Smart Plug', '--model', 'SP-1', '-o', 'c1.der', '-q']);
  digits.c1 = payloadDigits('ca', 'c1.der');

  run(['trust', 'export', '--ca', 'ca', '--web', 'site', '-q']);
  await startServer();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1', '--no-proxy-server'],
    timeout: 30000,
  });
});

after(async () => {
  if (browser) await browser.close().catch(() => {});
  if (server && server.exitCode === null) {
    const gone = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
    if (server.exitCode === null) server.kill('SIGKILL');
  }
  if (W) fs.rmSync(W, { recursive: true, force: true });
});

async function newContext(lang, extra = {}) {
  const context = await browser.newContext({
    locale: lang === 'ja' ? 'ja-JP' : 'en-US',
    viewport: { width: 480, height: 900 },
    colorScheme: 'light',
    serviceWorkers: 'allow',
    ...extra,
  });
  context.on('request', (req) => {
    const u = new URL(req.url());
    if (!['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol)) return;
    if (u.hostname !== '127.0.0.1') offLoopback.push(req.url());
  });
  return context;
}

/** Opens the label address (query: e.g. "?as=psti") and waits for a verdict; returns {view, title}. */
async function openLabel(page, d, query = '') {
  await page.goto(`${origin}/L/${d}${query}`, { waitUntil: 'load', timeout: 15000 });
  return verdictOf(page);
}

async function verdictOf(page) {
  await page.waitForFunction(() => {
    const c = document.getElementById('verdict').className;
    return c && !/\bchecking\b/.test(c);
  }, null, { timeout: 15000 });
  return page.evaluate(() => ({
    view: document.getElementById('verdict').className.replace(/^verdict\s+/, ''),
    title: document.getElementById('verdict-title').textContent,
    todo: document.getElementById('verdict-do').textContent,
    tech: document.getElementById('tech-text').textContent,
    fields: document.getElementById('fields').textContent,
    lang: document.documentElement.lang,
    decision: document.getElementById('decision').hidden ? null : {
      view: document.getElementById('decision').className.replace(/^decision\s+/, ''),
      icon: document.querySelector('#decision .icon').textContent,
      title: document.getElementById('decision-title').textContent,
      todo: document.getElementById('decision-do').textContent,
      why: document.getElementById('decision-why').textContent,
    },
    need: document.getElementById('need-box').hidden ? null : document.getElementById('need').value,
    search: location.search,
  }));
}

const LABEL = 'JC-STAR ★2';
const CASES = [
  // name, expected view, the verdict's i18n key (args)
  ['valid', 'genuine', (l) => t(l, 'genuine', LABEL)],
  ['tampered', 'not-genuine', (l) => t(l, 'not-genuine')],
  ['expired', 'expired', (l) => t(l, 'expired')],
  ['revoked', 'revoked', (l) => t(l, 'revoked')],
  ['unknown', 'unknown-issuer', (l) => t(l, 'unknown-issuer')],
  ['truncated', 'damaged', (l) => t(l, 'damaged')],
];

for (const lang of ['en', 'ja']) {
  test(`verdicts in ${lang === 'en' ? 'English' : 'Japanese'} (browser locale ${lang})`, async () => {
    const context = await newContext(lang);
    const clocked = await newContext(lang);
    // the page's clock 3 days ahead: the one-day label has expired
    await clocked.clock.setFixedTime(new Date(Date.now() + 3 * DAY));
    try {
      for (const [name, view, title] of CASES) {
        const ctx = name === 'expired' ? clocked : context;
        const page = await ctx.newPage();
        const r = await openLabel(page, digits[name]);
        assert.equal(r.lang, lang, name);
        assert.equal(r.view, view, `${name}: ${r.title} / ${r.tech}`);
        assert.equal(r.title, title(lang), name);
        assert.equal(r.todo, t(lang, view === 'genuine' ? 'genuineDo' : `${view}Do`), name);
        if (name === 'valid') {
          for (const s of ['Example Vendor', 'Home Router', 'HR-1000', 'JCS-2025-000123', 'SN-0001', 'Example Certification Body']) {
            assert.ok(r.fields.includes(s), `${s} in ${r.fields}`);
          }
          assert.ok(r.fields.includes(t(lang, 'selfDeclared')));
        }
        await page.screenshot({ path: path.join(SHOTS, `${name}-${lang}.png`), fullPage: true });
        await page.close();
      }
    } finally {
      await context.close();
      await clocked.close();
    }
  });
}

test('the language switch changes the verdict and is remembered', async () => {
  const context = await newContext('en');
  try {
    const page = await context.newPage();
    let r = await openLabel(page, digits.tampered);
    assert.equal(r.title, t('en', 'not-genuine'));
    assert.equal(await page.textContent('#lang'), t('en', 'switchTo'));
    await page.click('#lang');
    r = await verdictOf(page);
    assert.equal(r.lang, 'ja');
    assert.equal(r.title, t('ja', 'not-genuine'));
    assert.equal(await page.textContent('#lang'), t('ja', 'switchTo'));
    await page.reload({ waitUntil: 'load' });
    r = await verdictOf(page);
    assert.equal(r.title, t('ja', 'not-genuine'), 'the choice is kept over a reload');
  } finally {
    await context.close();
  }
});

test('offline: after the first visit the service worker answers a reload', async () => {
  const context = await newContext('en');
  try {
    const page = await context.newPage();
    let r = await openLabel(page, digits.valid);
    assert.equal(r.title, t('en', 'genuine', LABEL));
    // the service worker is installed (page files and trust data cached)
    const scope = await page.evaluate(async () => {
      const reg = await navigator.serviceWorker.ready;
      return reg.scope;
    });
    assert.equal(scope, `${origin}/L/`);
    await context.setOffline(true);
    // really offline: the network cannot be reached from the page
    const online = await page.evaluate(async (u) => {
      try { await fetch(u, { cache: 'no-store' }); return true; } catch (e) { return false; }
    }, `${origin}/healthz`);
    assert.equal(online, false, 'the context is offline');
    // ... and not from the service worker either (an uncached file in its scope)
    const swOnline = await page.evaluate(async (u) => {
      try { await fetch(u, { cache: 'no-store' }); return true; } catch (e) { return false; }
    }, `${origin}/L/not-cached.txt`);
    assert.equal(swOnline, false, 'the service worker is offline too');
    const res = await page.reload({ waitUntil: 'load', timeout: 15000 });
    assert.ok(res && res.fromServiceWorker(), 'the page came from the service worker');
    r = await verdictOf(page);
    assert.equal(r.view, 'genuine', `${r.title} / ${r.tech}`);
    assert.equal(r.title, t('en', 'genuine', LABEL));
    await page.screenshot({ path: path.join(SHOTS, 'valid-offline-en.png'), fullPage: true });
    // another label address, never visited, also works offline
    r = await openLabel(page, digits.tampered);
    assert.equal(r.title, t('en', 'not-genuine'));
    // ... and so do requirement decisions (schemes.json is cached)
    r = await openLabel(page, digits.j1, '?as=psti');
    assert.equal(r.view, 'genuine', `${r.title} / ${r.tech}`);
    assert.equal(r.decision && r.decision.view, 'met-accepted', JSON.stringify(r.decision));
  } finally {
    await context.setOffline(false).catch(() => {});
    await context.close();
  }
});

/* ---- requirements: ?as=, ?importance= and the select ----------------------- */

/** The basis of the acceptance of labels of labelScheme for scheme (schemes.json). */
const basisOf = (scheme, labelScheme) => JSON.parse(run(['schemes', '--json']).stdout).recognition
  .find((l) => l.kind === 'accept' && l.scheme === scheme && l.label_scheme === labelScheme).basis;

for (const lang of ['en', 'ja']) {
  test(`a JC-STAR ★1 label with ?as=psti: met through recognition (${lang})`, async () => {
    const context = await newContext(lang);
    try {
      const page = await context.newPage();
      const r = await openLabel(page, digits.j1, '?as=psti');
      assert.equal(r.view, 'genuine', `${r.title} / ${r.tech}`);
      assert.equal(r.title, t(lang, 'genuine', 'JC-STAR ★1'));
      assert.ok(r.decision, 'a decision is shown');
      assert.equal(r.decision.view, 'met-accepted', `${r.decision.title} / ${r.decision.why}`);
      assert.equal(r.decision.icon, '⇄');
      assert.equal(r.decision.title, t(lang, 'metAccepted', 'PSTI compliant'));
      // the basis quoted, with the file and line it comes from
      assert.equal(r.decision.todo, t(lang, 'metAcceptedDo', 'JC-STAR ★1', basisOf('psti', 'jcstar'), 'recognition.conf:23'));
      assert.equal(r.decision.why, '', 'when met, the words say how; the library\'s sentence is in the details');
      assert.match(r.tech, /JC-STAR ★1 meets PSTI compliant through an acceptance, .*recognition\.conf:23: /);
      assert.equal(r.need, 'as=psti', 'the select shows the requirement of the address');
      assert.match(r.tech, /decision: accepted \(psti:1\), .*recognition\.conf:23/);
      await page.screenshot({ path: path.join(SHOTS, `as-psti-${lang}.png`), fullPage: true });
    } finally {
      await context.close();
    }
  });

  test(`a CLS label with ?as=jcstar: not met (${lang})`, async () => {
    const context = await newContext(lang);
    try {
      const page = await context.newPage();
      const r = await openLabel(page, digits.c1, '?as=jcstar');
      assert.equal(r.view, 'genuine', `${r.title} / ${r.tech}`);
      assert.equal(r.title, t(lang, 'genuine', 'CLS level 1'));
      assert.equal(r.decision.view, 'not-met', `${r.decision.title} / ${r.decision.why}`);
      assert.equal(r.decision.icon, '✗');
      assert.equal(r.decision.title, t(lang, 'notMet', t(lang, 'orHigher', 'JC-STAR ★1')));
      assert.equal(r.decision.todo, t(lang, 'notMetDo', 'CLS level 1'));
      assert.match(r.decision.why, /recognition\.conf:28 allows only a simplified application on CLS labels, not acceptance/);
      await page.screenshot({ path: path.join(SHOTS, `cls-as-jcstar-${lang}.png`), fullPage: true });
    } finally {
      await context.close();
    }
  });
}

test('the select puts the requirement in the address; no requirement, no decision', async () => {
  const context = await newContext('en');
  try {
    const page = await context.newPage();
    let r = await openLabel(page, digits.j1);
    assert.equal(r.decision, null, 'nothing asked: no decision box');
    assert.equal(r.need, '');
    // every level of every scheme and every importance of the policy
    const values = await page.$$eval('#need option', (os) => os.map((o) => o.value));
    for (const want of ['', 'as=jcstar', 'as=jcstar:3', 'as=jcstar:4', 'as=cls:2', 'as=psti', 'as=cra:2',
      'as=cyber-trust-mark', 'importance=low', 'importance=medium', 'importance=high']) {
      assert.ok(values.includes(want), `option ${want} in ${values.join(' ')}`);
    }
    await page.selectOption('#need', 'importance=high');
    r = await verdictOf(page);
    assert.equal(r.search, '?importance=high');
    assert.equal(r.decision.view, 'not-met');
    assert.match(r.decision.todo, /policy\.conf:19/);
    // the shared link gives the same decision
    await page.reload({ waitUntil: 'load' });
    r = await verdictOf(page);
    assert.equal(r.need, 'importance=high');
    assert.equal(r.decision.view, 'not-met');
    await page.selectOption('#need', 'as=jcstar');
    r = await verdictOf(page);
    assert.equal(r.search, '?as=jcstar');
    assert.equal(r.decision.view, 'met-direct');
    assert.equal(r.decision.icon, '✓');
    assert.equal(r.decision.title, t('en', 'metDirect', t('en', 'orHigher', 'JC-STAR ★1')));
    await page.selectOption('#need', '');
    r = await verdictOf(page);
    assert.equal(r.search, '');
    assert.equal(r.decision, null);
    // a requirement the profiles do not have
    r = await openLabel(page, digits.j1, '?as=psti:2');
    assert.equal(r.view, 'genuine');
    assert.equal(r.decision.view, 'unknown');
    assert.equal(r.decision.title, t('en', 'badRequirement'));
    assert.match(r.decision.todo, /PSTI must be 1, not '2'/);
    // an invalid label: the verdict says it all, no decision
    r = await openLabel(page, digits.tampered, '?as=psti');
    assert.equal(r.view, 'not-genuine');
    assert.equal(r.decision, null);
  } finally {
    await context.close();
  }
});

test('a site without schemes.json (an older export): verdicts as before, requirements not decided', async () => {
  const file = path.join(W, 'site/schemes.json');
  fs.renameSync(file, `${file}.away`);
  const context = await newContext('en');
  try {
    const page = await context.newPage();
    let r = await openLabel(page, digits.j1, '?as=psti');
    assert.equal(r.view, 'genuine', `${r.title} / ${r.tech}`);
    assert.equal(r.title, t('en', 'genuine', 'JC-STAR ★1'), 'level texts from the built-in profiles');
    assert.equal(r.decision.view, 'unknown');
    assert.equal(r.decision.icon, '?');
    assert.equal(r.decision.title, t('en', 'noSchemes'));
    assert.equal(r.need, null, 'no select without scheme data');
    // asked for nothing: it says nothing about requirements
    r = await openLabel(page, digits.valid);
    assert.equal(r.title, t('en', 'genuine', LABEL));
    assert.equal(r.decision, null);
    // the service worker installed without it
    const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
    assert.equal(scope, `${origin}/L/`);
  } finally {
    fs.renameSync(`${file}.away`, file);
    await context.close();
  }
});

test('chromium asked for nothing but 127.0.0.1', () => {
  assert.deepEqual(offLoopback, []);
});
