// tests/web/export.test.mjs - `jcstar trust export --web DIR` writes a page
// that verifies with the roots pinned in its config.json, and the page's
// files hang together (every file the page and its service worker load is
// written). No browser here: Playwright tests are separate.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { webcrypto } from 'node:crypto';
import * as v from '../../web/verifier.js';

// node 18 has WebCrypto only as require('crypto').webcrypto; 20+ has it global
if (!globalThis.crypto || !globalThis.crypto.subtle) {
  Object.defineProperty(globalThis, 'crypto', { value: webcrypto, configurable: true });
}
import { t, pickLang } from '../../web/i18n.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TOP = path.resolve(HERE, '../..');
const J = path.resolve(process.env.JCSTAR || path.join(TOP, 'build/jcstar'));
const ENV = { ...process.env, JCSTAR_PROFILES: path.join(TOP, 'certs'), JCSTAR_WEB: path.join(TOP, 'web'), LC_ALL: 'C' };
delete ENV.JCSTAR_PASSPHRASE;
let W;

function run(args, ok = [0]) {
  const r = spawnSync(J, args, { cwd: W, env: ENV, encoding: 'utf8' });
  if (!ok.includes(r.status)) throw new Error(`jcstar ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return r;
}

before(() => {
  W = fs.mkdtempSync(path.join(os.tmpdir(), 'jcstar-webx-'));
  run(['ca', 'init', '--dir', 'ca', '--name', 'Export CB', '--alg', 'ed25519', '--verify-url', 'HTTPS://VERIFY.EXAMPLE/L/', '-q']);
  run(['issue', '--ca', 'ca', '--level', '2', '--scheme', 'jcstar', '--reg-id', 'JCS-2025-000900', '--vendor', 'V', '--product', 'P', '--model', 'M', '-o', 'l.der', '-q']);
});
after(() => { if (W) fs.rmSync(W, { recursive: true, force: true }); });

test('trust export --web writes page, trust.pem and config.json pinning the root', async () => {
  const r = run(['trust', 'export', '--ca', 'ca', '--web', 'site']);
  assert.match(r.stderr, /wrote verifier page site\//);
  for (const f of ['index.html', 'app.js', 'verifier.js', 'i18n.js', 'sw.js', 'style.css', 'trust.pem', 'config.json', 'schemes.json']) {
    assert.ok(fs.existsSync(path.join(W, 'site', f)), f);
  }
  const config = JSON.parse(fs.readFileSync(path.join(W, 'site/config.json'), 'utf8'));
  assert.equal(config.trust, 'trust.pem');
  assert.equal(config.name, 'Export CB');
  assert.ok(!Number.isNaN(Date.parse(config.exported)));
  // the pinned key is the root's (and only the root's)
  const pem = fs.readFileSync(path.join(W, 'site/trust.pem'), 'utf8');
  assert.deepEqual(config.roots, v.rootSpkisOfBundle(pem));
  const openssl = spawnSync('openssl', ['x509', '-in', path.join(W, 'ca/root.crt'), '-pubkey', '-noout'], { encoding: 'utf8' });
  if (openssl.status === 0) {
    assert.equal(config.roots[0], openssl.stdout.replace(/-----[^-]+-----|\s/g, ''));
  }
  // the bundle equals a plain export
  run(['trust', 'export', '--ca', 'ca', '-o', 'plain.pem', '-q']);
  assert.equal(pem, fs.readFileSync(path.join(W, 'plain.pem'), 'utf8'));
  // and the page's verifier, with only what the page has, says genuine
  const trust = await v.loadTrust(pem, config.roots);
  const payload = run(['payload', '--ca', 'ca', 'l.der']).stdout.trim();
  const schemes = JSON.parse(fs.readFileSync(path.join(W, 'site/schemes.json'), 'utf8'));
  const res = await v.verifyPayload(payload, trust, undefined, schemes);
  assert.equal(res.verdict, 'valid', res.reason);
  const level = v.levelText(schemes, res.label.scheme, res.label.level);
  assert.equal(t('en', 'genuine', level), 'Genuine JC-STAR ★2 label');
  assert.equal(t('ja', 'genuine', level), '本物の JC-STAR ★2 ラベルです');
  // ... and decides a requirement with what the page has
  const asked = v.requirementsFor('?as=psti', schemes);
  const d = v.decide(res.label, undefined, asked.requirements, schemes);
  assert.equal(d.how, 'accepted', d.reason);
  assert.match(d.recognition, /recognition\.conf:\d+$/);
});

test('schemes.json is what jcstar schemes --json prints (profiles, recognition, default policy)', () => {
  run(['trust', 'export', '--ca', 'ca', '--web', 'site-s', '-q']);
  const text = fs.readFileSync(path.join(W, 'site-s/schemes.json'), 'utf8');
  assert.equal(text, run(['schemes', '--json']).stdout);
  const j = JSON.parse(text);
  assert.deepEqual(j.schemes.map((x) => x.name).sort(), ['cls', 'cra', 'cyber-trust-mark', 'jcstar', 'psti']);
  assert.ok(j.recognition.some((l) => l.kind === 'accept' && l.scheme === 'psti' && l.label_scheme === 'jcstar'));
  assert.deepEqual(j.policy.map((x) => x.importance), ['low', 'medium', 'high']);
  assert.ok(!fs.readdirSync(path.join(W, 'site-s')).some((f) => f.endsWith('.tmp')), 'no temporary file left');
});

test('a bad recognition or policy file: trust export --web fails and creates nothing', () => {
  const prof = path.join(W, 'badprof');
  fs.mkdirSync(prof, { recursive: true });
  fs.writeFileSync(path.join(prof, 'recognition.conf'), 'accept psti:1 nosuch:1 - x\n');
  let r = spawnSync(J, ['trust', 'export', '--ca', 'ca', '--web', 'site-bad'], { cwd: W, env: { ...ENV, JCSTAR_PROFILES: prof }, encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /recognition\.conf:1: unknown scheme 'nosuch'/);
  assert.ok(!fs.existsSync(path.join(W, 'site-bad')));
  fs.writeFileSync(path.join(prof, 'recognition.conf'), '# none\n');
  fs.writeFileSync(path.join(prof, 'policy.conf'), 'high jcstar:9\n');
  r = spawnSync(J, ['trust', 'export', '--ca', 'ca', '--web', 'site-bad'], { cwd: W, env: { ...ENV, JCSTAR_PROFILES: prof }, encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /policy\.conf:1: .*level out of range/);
  assert.ok(!fs.existsSync(path.join(W, 'site-bad')));
});

test('trust export --web twice overwrites; bad --web-src creates nothing', () => {
  run(['trust', 'export', '--ca', 'ca', '--web', 'site2', '-q']);
  run(['trust', 'export', '--ca', 'ca', '--web', 'site2', '-q']);
  const r = run(['trust', 'export', '--ca', 'ca', '--web', 'site3', '--web-src', 'no-such-dir'], [2]);
  assert.match(r.stderr, /cannot read page file no-such-dir\/index.html/);
  assert.ok(!fs.existsSync(path.join(W, 'site3')));
  const r2 = run(['trust', 'export', '--ca', 'ca', '--web-src', 'x', '-o', 'y.pem'], [2]);
  assert.match(r2.stderr, /--web-src needs --web/);
  run(['trust', 'export', '--ca', 'ca'], [2]);
});

test('the page loads only files that the export writes and the service worker caches', () => {
  const web = path.join(TOP, 'web');
  const html = fs.readFileSync(path.join(web, 'index.html'), 'utf8');
  const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(refs.sort(), ['app.js', 'style.css']);
  const app = fs.readFileSync(path.join(web, 'app.js'), 'utf8');
  const imports = [...app.matchAll(/from '\.\/([^']+)'/g)].map((m) => m[1]);
  const sw = fs.readFileSync(path.join(web, 'sw.js'), 'utf8');
  for (const f of [...refs, ...imports, 'config.json', 'trust.pem', 'schemes.json']) assert.ok(sw.includes(`'${f}'`), `sw.js caches ${f}`);
  // schemes.json may be missing (a site exported by an older jcstar): it
  // must not be among the files whose absence fails the worker's install
  assert.match(sw, /const OPTIONAL = \[[^\]]*'schemes\.json'/);
  assert.doesNotMatch(sw, /jcstar-verifier-v1'/, 'the cache version is bumped for the new page');
  assert.ok(!/document|window/.test(fs.readFileSync(path.join(web, 'verifier.js'), 'utf8').replace(/\/\/.*$/gm, '')), 'verifier.js is DOM-free');
});

test('language choice', () => {
  assert.equal(pickLang(['ja-JP', 'en']), 'ja');
  assert.equal(pickLang(['en-US']), 'en');
  assert.equal(pickLang(['fr-FR']), 'en');
  assert.equal(pickLang(['fr-FR', 'ja']), 'ja');
  for (const k of ['not-genuine', 'expired', 'revoked', 'unknown-issuer', 'damaged']) {
    assert.notEqual(t('ja', k), t('en', k));
    assert.ok(t('ja', `${k}Do`).length > 5 && t('en', `${k}Do`).length > 5);
  }
});
