// tests/web/verifier.test.mjs - the web verifier (web/verifier.js) must
// reach the same verdict as libjcstar (`jcstar verify --json`) for the
// reference vectors and for labels made here with the real CLI.
//
// Run: node --test tests/web/   (JCSTAR=path/to/jcstar, default build/jcstar)
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

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TOP = path.resolve(HERE, '../..');
const VEC = path.join(TOP, 'tests/vectors');
const J = path.resolve(process.env.JCSTAR || path.join(TOP, 'build/jcstar'));
const BASE = 'HTTPS://VERIFY.JCSTAR.EXAMPLE/L/';
const ENV = { ...process.env, JCSTAR_PROFILES: path.join(TOP, 'certs'), LC_ALL: 'C' };
delete ENV.JCSTAR_PASSPHRASE;

let W;

function run(args, { ok = [0], input } = {}) {
  const r = spawnSync(J, args, { cwd: W, env: ENV, encoding: 'utf8', input, maxBuffer: 64 << 20 });
  if (!ok.includes(r.status)) {
    throw new Error(`jcstar ${args.join(' ').slice(0, 400)}: exit ${r.status}\n${r.stderr}`);
  }
  return r;
}

const atSeconds = (at) => (at ? Date.parse(at.length === 10 ? `${at}T00:00:00Z` : at) / 1000 : undefined);

/** The C library's verdict for a payload text. */
function cVerdict(trustFile, payload, at) {
  const args = ['verify', '--json', '--trust', trustFile, '--payload', payload];
  if (at) args.push('--at', at);
  const r = run(args, { ok: [0, 1] });
  return JSON.parse(r.stdout.trim().split('\n')[0]);
}

const trustCache = new Map();
async function jsTrust(trustFile) {
  if (!trustCache.has(trustFile)) {
    const pem = fs.readFileSync(path.resolve(W, trustFile), 'utf8');
    trustCache.set(trustFile, await v.loadTrust(pem, v.rootSpkisOfBundle(pem)));
  }
  return trustCache.get(trustFile);
}

/** Asserts JS and C agree; returns the shared verdict object. */
async function same(trustFile, payload, at, expect) {
  const c = cVerdict(trustFile, payload, at);
  const js = await v.verifyPayload(payload, await jsTrust(trustFile), atSeconds(at));
  assert.equal(js.verdict, c.verdict, `JS "${js.verdict}" (${js.reason}) vs C "${c.verdict}" (${c.reason})`);
  if (expect) assert.equal(js.verdict, expect, `verdict (${js.reason})`);
  return { c, js };
}

const payloadOf = (file) => run(['payload', '--base-url', BASE, file]).stdout.trim();
const urlOfDer = (der) => BASE + v.digitsEncode(der);

const P = ['--scheme', 'jcstar', '--vendor', 'Acme Devices', '--product', 'Smart Camera',
  '--model', 'SC-200', '--support-until', '2030-06-30'];

before(() => {
  assert.ok(fs.existsSync(J), `${J} is not built (make, or set JCSTAR)`);
  W = fs.mkdtempSync(path.join(os.tmpdir(), 'jcstar-web-'));
  run(['ca', 'init', '--dir', 'ca', '--name', 'Web Test CB', '-q']);
  run(['issue', '--ca', 'ca', '--level', '2', '--reg-id', 'JCS-2025-000500', ...P, '-o', 'valid.der', '-q']);
  run(['issue', '--ca', 'ca', '--level', '2', '--reg-id', 'JCS-2025-000501', ...P, '-o', 'revoked.der', '-q']);
  run(['issue', '--ca', 'ca', '--level', '1', '--reg-id', 'JCS-2025-000502', '--scheme', 'jcstar',
    '--vendor', 'テスト電機株式会社', '--product', 'ルーター', '--model', 'R-1', '-o', 'ja.der', '-q']);
  run(['issue', '--ca', 'ca', '--level', '1', '--reg-id', 'JCS-2025-000503', ...P,
    '--not-before', new Date(Date.now() + 86400e3 * 30).toISOString().slice(0, 10), '--valid-days', '30',
    '-o', 'future.der', '-q']);
  run(['trust', 'export', '--ca', 'ca', '-o', 'trust.pem', '-q']);
  const serial = JSON.parse(run(['show', '--json', 'revoked.der']).stdout).serial;
  run(['revoke', '--ca', 'ca', '--serial', serial, '--reason', 'key-compromise', '-q']);
  run(['crl', '--ca', 'ca', '-o', 'crl.pem', '-q']);
  run(['trust', 'export', '--ca', 'ca', '-o', 'trust-revoked.pem', '-q']);
  // a second CA: its bundle does not know our signer
  run(['ca', 'init', '--dir', 'other', '--name', 'Other CB', '--alg', 'ed25519', '-q']);
  run(['trust', 'export', '--ca', 'other', '-o', 'other.pem', '-q']);
});

after(() => { if (W) fs.rmSync(W, { recursive: true, force: true }); });

/* ---- reference vectors (tests/vectors) ---------------------------------- */

for (const alg of ['p256', 'ed25519']) {
  test(`ref-${alg}.der with trust-${alg}.pem at 2026-01-01 is valid in JS and C`, async () => {
    const der = new Uint8Array(fs.readFileSync(path.join(VEC, `ref-${alg}.der`)));
    const trustFile = path.join(VEC, `trust-${alg}.pem`);
    const payload = urlOfDer(der);
    const { c, js } = await same(trustFile, payload, '2026-01-01', 'valid');
    assert.equal(js.label.serial, c.label.serial);
    assert.equal(js.label.regId, 'JCS-2025-000123');
    assert.equal(js.label.vendor, 'Example Electronics Co., Ltd.');
    assert.equal(js.label.product, 'Home Router');
    assert.equal(js.label.model, 'HR-1000');
    assert.equal(js.label.level, 1);
    assert.equal(v.isoTime(js.label.notAfter), c.label.not_after);
    assert.equal(v.isoDate(js.label.supportUntil), c.label.support_until);
    assert.equal(js.label.issuerKeyId, c.label.issuer_key_id);
    assert.equal(js.label.signatureAlgorithm, c.label.signature_algorithm);
    assert.equal(js.signer, c.signer);
  });

  test(`ref-${alg}.der: expired after 2027-04-01, not yet valid before 2025-04-01`, async () => {
    const der = new Uint8Array(fs.readFileSync(path.join(VEC, `ref-${alg}.der`)));
    const trustFile = path.join(VEC, `trust-${alg}.pem`);
    await same(trustFile, urlOfDer(der), '2027-04-01T00:00:01Z', 'expired');
    await same(trustFile, urlOfDer(der), '2027-04-01T00:00:00Z', 'valid'); // inclusive
    await same(trustFile, urlOfDer(der), '2025-03-31', 'not-yet-valid');
  });
}

test('ref-p256.der digits: JS encoding equals the CLI payload', () => {
  const der = new Uint8Array(fs.readFileSync(path.join(VEC, 'ref-p256.der')));
  const cli = run(['payload', '--base-url', BASE, path.join(VEC, 'ref-p256.der')]).stdout.trim();
  assert.equal(urlOfDer(der), cli);
  assert.equal(cli.length, 32 + 520);
  assert.deepEqual(v.payloadDecode(cli).der, der);
  // bare form too
  const bare = run(['payload', '--form', 'bare', path.join(VEC, 'ref-p256.der')]).stdout.trim();
  assert.deepEqual(v.payloadDecode(bare).der, der);
});

test('ref-p256.der against the Ed25519 bundle: unknown issuer in both', async () => {
  const der = new Uint8Array(fs.readFileSync(path.join(VEC, 'ref-p256.der')));
  await same(path.join(VEC, 'trust-ed25519.pem'), urlOfDer(der), '2026-01-01', 'unknown-issuer');
});

/* ---- labels made with the CLI ------------------------------------------- */

test('valid label (url form from jcstar payload)', async () => {
  const { js } = await same('trust.pem', payloadOf('valid.der'), undefined, 'valid');
  assert.equal(js.label.level, 2);
  assert.equal(js.label.vendor, 'Acme Devices');
  assert.equal(v.category(js.verdict), 'genuine');
});

test('valid label with Japanese text', async () => {
  const { js } = await same('trust.pem', payloadOf('ja.der'), undefined, 'valid');
  assert.equal(js.label.vendor, 'テスト電機株式会社');
  assert.equal(js.label.product, 'ルーター');
});

test('payload in lower case (browser-normalised host) is still read', async () => {
  const p = payloadOf('valid.der');
  const lower = 'https://verify.jcstar.example/l/' + p.slice(BASE.length);
  await same('trust.pem', lower, undefined, 'valid');
});

test('tampered: one byte of the vendor changed', async () => {
  const der = new Uint8Array(fs.readFileSync(path.join(W, 'valid.der')));
  const at = Buffer.from(der).indexOf('Acme Devices');
  assert.ok(at > 0);
  der[at] = 'B'.charCodeAt(0);
  fs.writeFileSync(path.join(W, 'tampered.der'), der);
  const { js } = await same('trust.pem', payloadOf('tampered.der'), undefined, 'bad-signature');
  assert.equal(v.category(js.verdict), 'not-genuine');
});

test('tampered: one byte of the signature changed', async () => {
  const der = new Uint8Array(fs.readFileSync(path.join(W, 'valid.der')));
  der[der.length - 5] ^= 0x01;
  await same('trust.pem', urlOfDer(der), undefined, 'bad-signature');
});

test('tampered: level 2 -> 4 is malformed (no lab) in both', async () => {
  const der = new Uint8Array(fs.readFileSync(path.join(W, 'valid.der')));
  // level INTEGER: 0a 01 01 (scheme) then 02 01 02
  const i = Buffer.from(der).indexOf(Buffer.from([0x0a, 0x01, 0x01, 0x02, 0x01, 0x02]));
  assert.ok(i > 0);
  der[i + 5] = 4;
  await same('trust.pem', urlOfDer(der), undefined, 'malformed');
  der[i + 5] = 1; // level 1: well-formed, but the signature fails
  await same('trust.pem', urlOfDer(der), undefined, 'bad-signature');
});

test('expired (--at far ahead)', async () => {
  const { js } = await same('trust.pem', payloadOf('valid.der'), '2100-01-01', 'expired');
  assert.equal(v.category(js.verdict), 'expired');
});

test('not yet valid', async () => {
  await same('trust.pem', payloadOf('future.der'), undefined, 'not-yet-valid');
});

test('revoked (jcstar revoke + crl + trust export)', async () => {
  const { js } = await same('trust-revoked.pem', payloadOf('revoked.der'), undefined, 'revoked');
  assert.match(js.reason, /revoked on \d{4}-\d{2}-\d{2}: key-compromise/);
  assert.equal(v.category(js.verdict), 'revoked');
  // the other labels of the same signer stay valid
  await same('trust-revoked.pem', payloadOf('valid.der'), undefined, 'valid');
  // and the bundle before the CRL does not know of it
  await same('trust.pem', payloadOf('revoked.der'), undefined, 'valid');
  // revoked comes before the label's dates
  await same('trust-revoked.pem', payloadOf('revoked.der'), '2100-01-01', 'revoked');
});

test('unknown issuer (another CA\'s bundle)', async () => {
  const { js } = await same('other.pem', payloadOf('valid.der'), undefined, 'unknown-issuer');
  assert.equal(v.category(js.verdict), 'unknown-issuer');
  await same('other.pem', urlOfDer(new Uint8Array(fs.readFileSync(path.join(VEC, 'ref-ed25519.der')))), '2026-01-01', 'unknown-issuer');
});

test('truncated payload digits', async () => {
  const p = payloadOf('valid.der');
  // one digit short: an impossible digit count
  let r = await same('trust.pem', p.slice(0, -1), undefined, 'damaged-payload');
  assert.equal(v.category(r.js.verdict), 'damaged');
  // whole 7-byte groups short (cut at a group boundary): a truncated label
  const digits = p.slice(BASE.length);
  const cut = BASE + digits.slice(0, (Math.ceil(digits.length / 17) - 2) * 17);
  r = await same('trust.pem', cut, undefined, 'truncated');
  // the last group dropped, even when it is a full one (ECDSA signatures vary)
  await same('trust.pem', BASE + digits.slice(0, (Math.ceil(digits.length / 17) - 1) * 17), undefined, 'truncated');
  assert.equal(v.category(r.js.verdict), 'damaged');
  // half the digits
  const half = p.slice(0, BASE.length + 17 * 6);
  await same('trust.pem', half, undefined, 'truncated');
});

test('damaged digits: a digit group out of range, a letter', async () => {
  const p = payloadOf('valid.der');
  // 17 nines exceed 2^56: out of range for 7 bytes
  const bad = BASE + '9'.repeat(17) + p.slice(BASE.length + 17);
  await same('trust.pem', bad, undefined, 'damaged-payload');
  const letter = p.slice(0, BASE.length + 20) + 'X' + p.slice(BASE.length + 21);
  await same('trust.pem', letter, undefined, 'damaged-payload');
});

test('bare form payloads agree too', async () => {
  const bare = run(['payload', '--form', 'bare', 'valid.der']).stdout.trim();
  await same('trust.pem', bare, undefined, 'valid');
  // Base45 of 3k+1 characters is impossible; 3k+2 decodes to a short label
  const b45 = bare.slice(5);
  const impossible = 'JCS1:' + b45.slice(0, b45.length - ((b45.length - 1) % 3 || 3));
  assert.equal((impossible.length - 5) % 3, 1);
  await same('trust.pem', impossible, undefined, 'damaged-payload');
  await same('trust.pem', bare.slice(0, -1), undefined);
  await same('trust.pem', 'jcs1:' + bare.slice(5), undefined, 'damaged-payload');
});

test('not a payload', async () => {
  await same('trust.pem', 'HTTPS://EXAMPLE.COM/ABOUT', undefined, 'not-a-payload');
  await same('trust.pem', 'hello', undefined, 'not-a-payload');
});

test('non-DER: a long-form length below 128', async () => {
  const der = new Uint8Array(fs.readFileSync(path.join(VEC, 'ref-p256.der')));
  // tbsLabel header 30 7a -> 30 81 7a, outer length + 1
  const b = Array.from(der);
  assert.deepEqual(b.slice(0, 5), [0x30, 0x81, 0xd3, 0x30, 0x7a]);
  const nd = Uint8Array.from([0x30, 0x81, 0xd4, 0x30, 0x81, 0x7a, ...b.slice(5)]);
  await same(path.join(VEC, 'trust-p256.pem'), urlOfDer(nd), '2026-01-01', 'not-der');
  // trailing byte
  await same(path.join(VEC, 'trust-p256.pem'), urlOfDer(Uint8Array.from([...b, 0])), '2026-01-01', 'malformed');
});

test('signer revoked by the root (ca rotate + ca revoke-signer)', async () => {
  run(['ca', 'init', '--dir', 'rot', '--name', 'Rotating CB', '-q']);
  run(['issue', '--ca', 'rot', '--level', '1', '--reg-id', 'R-1', ...P, '-o', 'old.der', '-q']);
  run(['ca', 'rotate', '--dir', 'rot', '-q']);
  run(['issue', '--ca', 'rot', '--level', '1', '--reg-id', 'R-2', ...P, '-o', 'new.der', '-q']);
  run(['trust', 'export', '--ca', 'rot', '-o', 'rot1.pem', '-q']);
  await same('rot1.pem', payloadOf('old.der'), undefined, 'valid');
  await same('rot1.pem', payloadOf('new.der'), undefined, 'valid');
  const keyId = JSON.parse(run(['show', '--json', 'old.der']).stdout).issuer_key_id;
  run(['ca', 'revoke-signer', '--dir', 'rot', '--key-id', keyId, '--reason', 'superseded', '-q']);
  run(['trust', 'export', '--ca', 'rot', '-o', 'rot2.pem', '-q']);
  const { js } = await same('rot2.pem', payloadOf('old.der'), undefined, 'revoked');
  assert.match(js.reason, /^signer /);
  await same('rot2.pem', payloadOf('new.der'), undefined, 'valid');
});

/* ---- JS-only: pinning ----------------------------------------------------- */

test('a bundle whose root is not pinned does not make labels genuine', async () => {
  const pem = fs.readFileSync(path.join(W, 'trust.pem'), 'utf8');
  const otherRoots = v.rootSpkisOfBundle(fs.readFileSync(path.join(W, 'other.pem'), 'utf8'));
  const trust = await v.loadTrust(pem, otherRoots);
  assert.equal(trust.roots.length, 0);
  const r = await v.verifyPayload(payloadOf('valid.der'), trust);
  assert.equal(r.verdict, 'untrusted');
  assert.equal(v.category(r.verdict), 'unknown-issuer');
});

test('a CRL that does not verify is ignored and reported', async () => {
  const pem = fs.readFileSync(path.join(W, 'trust-revoked.pem'), 'utf8');
  const blocks = [...pem.matchAll(/-----BEGIN X509 CRL-----[\s\S]*?-----END X509 CRL-----\n?/g)];
  assert.ok(blocks.length >= 1);
  const crlDer = v.pemBlocks(blocks[0][0])[0].der;
  crlDer[crlDer.length - 3] ^= 1; // break its signature
  const b64 = Buffer.from(crlDer).toString('base64').replace(/(.{64})/g, '$1\n');
  const forged = pem.replace(blocks[0][0], `-----BEGIN X509 CRL-----\n${b64}\n-----END X509 CRL-----\n`);
  const trust = await v.loadTrust(forged, v.rootSpkisOfBundle(forged));
  assert.ok(trust.problems.some((p) => /CRL/.test(p)), trust.problems.join('; '));
  const r = await v.verifyPayload(payloadOf('revoked.der'), trust);
  assert.equal(r.verdict, 'valid');
});

test('a bundle holding a private key is refused', async () => {
  const pem = fs.readFileSync(path.join(W, 'trust.pem'), 'utf8') + fs.readFileSync(path.join(W, 'ca/signers/0001.key'), 'utf8');
  await assert.rejects(v.loadTrust(pem, v.rootSpkisOfBundle(pem)), /private key/);
});

test('digitsFromPath takes the last path segment', () => {
  assert.equal(v.digitsFromPath('/l/0123456789'), '0123456789');
  assert.equal(v.digitsFromPath('/l/'), null);
  assert.equal(v.digitsFromPath('/index.html'), null);
});

test('ecdsaDerToRaw pads short r and s', () => {
  const sig = Uint8Array.from([0x30, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x07]);
  const raw = v.ecdsaDerToRaw(sig);
  assert.equal(raw.length, 64);
  assert.equal(raw[31], 5);
  assert.equal(raw[63], 7);
  assert.equal(v.ecdsaDerToRaw(Uint8Array.from([0x30, 0x03, 0x02, 0x01, 0x05])), null);
});

/* ---- mutations: JS and C agree on every one --------------------------------- */

const N = Number(process.env.JCSTAR_WEB_MUTATIONS || 300);
for (const alg of ['p256', 'ed25519']) test(`${N} random mutations of ref-${alg}.der: same verdicts, no crash`, async () => {
  const der = new Uint8Array(fs.readFileSync(path.join(VEC, `ref-${alg}.der`)));
  const trustFile = path.join(VEC, `trust-${alg}.pem`);
  let seed = 12345;
  const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
  const payloads = [];
  for (let k = 0; k < N; k++) {
    const m = der.slice();
    const op = rnd(3);
    let bytes = m;
    if (op === 0) m[rnd(m.length)] ^= 1 << rnd(8);
    else if (op === 1) m[rnd(m.length)] = rnd(256);
    else bytes = m.slice(0, 1 + rnd(m.length - 1));
    payloads.push(urlOfDer(bytes));
  }
  const args = ['verify', '--json', '--trust', trustFile, '--at', '2026-01-01', '--payload', '-'];
  const lines = run(args, { ok: [0, 1], input: payloads.join('\n') + '\n' }).stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, payloads.length);
  const trust = await jsTrust(trustFile);
  const seen = new Set();
  for (const [k, p] of payloads.entries()) {
    const js = await v.verifyPayload(p, trust, atSeconds('2026-01-01'));
    assert.equal(js.verdict, lines[k].verdict, `mutation ${k}: JS ${js.verdict} (${js.reason}) vs C ${lines[k].verdict} (${lines[k].reason})`);
    seen.add(js.verdict);
  }
  assert.ok(seen.size >= 3, [...seen].join(','));
});
