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

/* ---- requirement decisions: JS decide() = libjcstar's jcs_decide() -------- */
//
// Each row is a label (scheme, level, validity), a requirement (verify
// --as/--min-level or --importance, with a recognition or policy file) and
// a time; it runs through `jcstar verify --json` and through decide() with
// the schemes.json `jcstar schemes --json` prints for the same files. The
// two decisions must be the same object (met, how, requirement, policy,
// recognition line, basis and reason), and both what the row expects.

const DAYS = (n) => new Date(Date.now() + n * 86400e3).toISOString().replace(/\.\d{3}Z$/, 'Z');
const LAB = ['--lab', 'Example Lab'];
const SUPPORT = ['--support-until', '2030-06-30'];
// name -> [CA, scheme, level, extra issue options]
const DLABELS = {
  j1: ['dca', 'jcstar', 1, []], j2: ['dca', 'jcstar', 2, []], j3: ['dca', 'jcstar', 3, LAB],
  j4: ['dca', 'jcstar', 4, LAB], c1: ['dca', 'cls', 1, []], c2: ['dca', 'cls', 2, []],
  c4: ['dca', 'cls', 4, LAB], p1: ['dca', 'psti', 1, SUPPORT],
  ctm: ['dca', 'cyber-trust-mark', 1, [...LAB, ...SUPPORT]], cra1: ['dca', 'cra', 1, []],
  cra2: ['dca', 'cra', 2, ['--lab', 'Example Notified Body']],
  j1day: ['dca', 'jcstar', 1, ['--valid-days', '1']],
  // from the reference CA (tests/vectors), whose signer starts 2025-04-01:
  // labels current before the PSTI acceptance applies (2025-12)
  j1old: ['vca', 'jcstar', 1, ['--not-before', '2025-06-01']],
  j3old: ['vca', 'jcstar', 3, [...LAB, '--not-before', '2025-06-01']],
  c1old: ['vca', 'cls', 1, ['--not-before', '2025-06-01']],
};
const REC = path.join(TOP, 'certs/recognition.conf');
const POL = path.join(TOP, 'certs/policy.conf');
const CUSTOM_REC = `# test recognition
accept      cra:1   jcstar:2-4  -        test: JC-STAR level 2 and up count as CRA default
accept      cls:2   jcstar:3-4  2026-01  test: JC-STAR level 3 and up count as CLS level 2 from January 2026
simplified  psti:1  cls:1       -        test: PSTI on a CLS label, by simplified application only
accept      cyber-trust-mark:1  cls:1-2  -  test: CLS levels 1 and 2 (not 3 or 4) count as the Cyber Trust Mark
`;
const CUSTOM_POL = `# test policy
any     jcstar:3  psti:1
strict  jcstar:4  cls:4
`;

// [label, verify options, --at or null, { met, how, line (recognition line, or null), file, hint }]
// hint: a recognition line (number) the not-met reason must name
const ROWS = [
  // the acceptance lines of certs/recognition.conf
  ['j1', ['--as', 'psti'], null, { met: true, how: 'accepted', line: 23 }],
  ['j4', ['--as', 'psti'], null, { met: true, how: 'accepted', line: 23 }],
  ['j4', ['--as', 'psti', '--min-level', '1'], null, { met: true, how: 'accepted', line: 23 }],
  ['c1', ['--as', 'psti'], null, { met: true, how: 'accepted', line: 24 }],
  ['c4', ['--as', 'psti'], null, { met: true, how: 'accepted', line: 24 }],
  // its simplified lines: no acceptance at verification
  ['c1', ['--as', 'jcstar'], null, { met: false, how: 'not-met', line: null, hint: 28 }],
  ['j1', ['--as', 'cls'], null, { met: false, how: 'not-met', line: null, hint: 29 }],
  ['p1', ['--as', 'jcstar'], null, { met: false, how: 'not-met', line: null, hint: 33 }],
  // acceptance before its from date (2025-12): not met; from that day: met
  ['j1old', ['--as', 'psti'], '2025-11-01', { met: false, how: 'not-met', line: null, hint: 23 }],
  ['j1old', ['--as', 'psti'], '2025-11-30T23:59:59Z', { met: false, how: 'not-met', line: null, hint: 23 }],
  ['j1old', ['--as', 'psti'], '2025-12-01', { met: true, how: 'accepted', line: 23 }],
  ['c1old', ['--as', 'psti'], '2025-11-15', { met: false, how: 'not-met', line: null, hint: 24 }],
  ['c1old', ['--as', 'psti'], '2026-01-01', { met: true, how: 'accepted', line: 24 }],
  // a label that is not current meets nothing
  ['j1day', ['--as', 'psti'], DAYS(3), { met: false, how: 'not-met', line: null }],
  ['j1old', ['--as', 'jcstar'], '2027-06-01T00:00:01Z', { met: false, how: 'not-met', line: null }],
  // no line for these schemes
  ['cra2', ['--as', 'psti'], null, { met: false, how: 'not-met', line: null }],
  ['ctm', ['--as', 'psti'], null, { met: false, how: 'not-met', line: null }],
  // direct
  ['j2', ['--as', 'jcstar', '--min-level', '3'], null, { met: false, how: 'not-met', line: null }],
  ['j3', ['--as', 'jcstar', '--min-level', '3'], null, { met: true, how: 'direct', line: null }],
  ['j2', ['--min-level', '2'], null, { met: true, how: 'direct', line: null }],
  ['c2', ['--as', 'cls', '--min-level', '2'], null, { met: true, how: 'direct', line: null }],
  ['p1', ['--as', 'psti'], null, { met: true, how: 'direct', line: null }],
  ['cra1', ['--as', 'cra'], null, { met: true, how: 'direct', line: null }],
  ['cra2', ['--as', 'cra', '--min-level', '3'], null, { met: false, how: 'not-met', line: null }],
  // the default policy (certs/policy.conf)
  ['j1', ['--importance', 'high'], null, { met: false, how: 'not-met', line: null }],
  ['j3', ['--importance', 'high'], null, { met: true, how: 'direct', line: null }],
  ['j1', ['--importance', 'low'], null, { met: true, how: 'direct', line: null }],
  ['c1', ['--importance', 'low'], null, { met: false, how: 'not-met', line: null, hint: 28 }],
  ['p1', ['--importance', 'medium'], null, { met: false, how: 'not-met', line: null, hint: 33 }],
  // a recognition file of our own: level ranges, the requirement's level, dates
  ['j2', ['--as', 'cra', '--recognition', 'custom-rec.conf'], null, { met: true, how: 'accepted', line: 2, file: 'custom-rec.conf' }],
  ['j1', ['--as', 'cra', '--recognition', 'custom-rec.conf'], null, { met: false, how: 'not-met', line: null, hint: 2 }],
  ['j2', ['--as', 'cra', '--min-level', '2', '--recognition', 'custom-rec.conf'], null, { met: false, how: 'not-met', line: null, hint: 2 }],
  ['j3', ['--as', 'cls', '--min-level', '2', '--recognition', 'custom-rec.conf'], null, { met: true, how: 'accepted', line: 3, file: 'custom-rec.conf' }],
  ['j3old', ['--as', 'cls', '--min-level', '2', '--recognition', 'custom-rec.conf'], '2025-12-15', { met: false, how: 'not-met', line: null, hint: 3 }],
  ['j3', ['--as', 'cls', '--min-level', '3', '--recognition', 'custom-rec.conf'], null, { met: false, how: 'not-met', line: null, hint: 3 }],
  ['c1', ['--as', 'psti', '--recognition', 'custom-rec.conf'], null, { met: false, how: 'not-met', line: null, hint: 4 }],
  ['j1', ['--as', 'psti', '--recognition', 'custom-rec.conf'], null, { met: false, how: 'not-met', line: null }],
  ['c2', ['--as', 'cyber-trust-mark', '--recognition', 'custom-rec.conf'], null, { met: true, how: 'accepted', line: 5, file: 'custom-rec.conf' }],
  ['c4', ['--as', 'cyber-trust-mark', '--recognition', 'custom-rec.conf'], null, { met: false, how: 'not-met', line: null, hint: 5 }],
  ['c1', ['--as', 'cyber-trust-mark', '--recognition', 'custom-rec.conf'], null, { met: true, how: 'accepted', line: 5, file: 'custom-rec.conf' }],
  // a policy of our own: any one requirement of the row is enough
  ['j1', ['--importance', 'any', '--policy', 'custom-pol.conf'], null, { met: true, how: 'accepted', line: 23 }],
  ['p1', ['--importance', 'any', '--policy', 'custom-pol.conf'], null, { met: true, how: 'direct', line: null }],
  ['j3', ['--importance', 'any', '--policy', 'custom-pol.conf'], null, { met: true, how: 'direct', line: null }],
  ['c4', ['--importance', 'strict', '--policy', 'custom-pol.conf'], null, { met: true, how: 'direct', line: null }],
  ['j1', ['--importance', 'strict', '--policy', 'custom-pol.conf'], null, { met: false, how: 'not-met', line: null, hint: 29 }],
  ['cra2', ['--importance', 'any', '--policy', 'custom-pol.conf'], null, { met: false, how: 'not-met', line: null }],
];

let D; // the decision fixtures, made once
function decisionSetup() {
  if (D) return D;
  D = { der: {}, schemes: new Map() };
  run(['ca', 'init', '--dir', 'dca', '--name', 'Decision Test CB', '-q']);
  fs.cpSync(path.join(VEC, 'ca-p256'), path.join(W, 'vca'), { recursive: true });
  for (const [name, [ca, scheme, level, extra]] of Object.entries(DLABELS)) {
    run(['issue', '--ca', ca, '--scheme', scheme, '--level', String(level), '--reg-id', `DEC-${name}`,
      '--vendor', 'Acme Devices', '--product', 'Hub', '--model', 'H-1', ...extra, '-o', `${name}.der`, '-q']);
    D.der[name] = new Uint8Array(fs.readFileSync(path.join(W, `${name}.der`)));
  }
  run(['trust', 'export', '--ca', 'dca', '-o', 'dca.pem', '-q']);
  run(['trust', 'export', '--ca', 'vca', '-o', 'vca.pem', '-q']);
  fs.writeFileSync(path.join(W, 'custom-rec.conf'), CUSTOM_REC);
  fs.writeFileSync(path.join(W, 'custom-pol.conf'), CUSTOM_POL);
  return D;
}

/** schemes.json as `jcstar schemes --json` prints it for these files. */
function schemesJson(rec, pol) {
  const args = ['schemes', '--json'];
  if (rec) args.push('--recognition', rec);
  if (pol) args.push('--policy', pol);
  const k = args.join(' ');
  if (!D.schemes.has(k)) D.schemes.set(k, JSON.parse(run(args).stdout));
  return D.schemes.get(k);
}

const opt = (args, name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : null; };

/** The query string of the page and the API for verify options. */
function queryOf(args) {
  const q = new URLSearchParams();
  if (opt(args, '--as')) q.set('as', opt(args, '--as'));
  if (opt(args, '--min-level')) q.set('min_level', opt(args, '--min-level'));
  if (opt(args, '--importance')) q.set('importance', opt(args, '--importance'));
  return `?${q}`;
}

test('requirement decisions: jcstar verify --json and decide() agree on every row', async (t) => {
  decisionSetup();
  const cited = new Set(); // lines of certs/recognition.conf the rows reach
  for (const [name, args, at, want] of ROWS) {
    await t.test(`${name} (${DLABELS[name][1]}:${DLABELS[name][2]}) ${args.join(' ')}${at ? ` at ${at}` : ''}`, async () => {
      const ca = DLABELS[name][0];
      const cargs = ['verify', '--json', '--trust', `${ca}.pem`, ...args, `${name}.der`];
      if (at) cargs.push('--at', at);
      const c = JSON.parse(run(cargs, { ok: [0, 1] }).stdout.trim());
      const sj = schemesJson(opt(args, '--recognition'), opt(args, '--policy'));
      const js = await v.verifyPayload(D.der[name], await jsTrust(`${ca}.pem`), atSeconds(at), sj);
      assert.ok(js.label, js.reason);
      const asked = v.requirementsFor(queryOf(args), sj);
      assert.ok(asked && !asked.error, asked && asked.error);
      const d = v.decide(js.label, atSeconds(at), asked.requirements, sj);
      if (c.decision) {
        // a current, genuine label: the library's decision, and its verdict
        assert.deepEqual(d, c.decision);
        assert.equal(c.verdict, d.met ? 'valid' : 'below-policy', c.reason);
        assert.equal(js.verdict, 'valid', js.reason);
        if (!d.met) assert.equal(c.reason, d.reason);
      } else {
        // jcs_verify stops at the label's dates before any decision;
        // decide() on its own says the same: not current, nothing met
        assert.ok(['expired', 'not-yet-valid'].includes(c.verdict), `${c.verdict}: ${c.reason}`);
        assert.equal(js.verdict, c.verdict);
        assert.match(d.reason, /^the label is not current \(valid .* to .*\): it meets no requirement$/);
      }
      assert.equal(d.met, want.met, d.reason);
      assert.equal(d.how, want.how, d.reason);
      const m = d.recognition ? /^(.*):(\d+)$/.exec(d.recognition) : null;
      assert.equal(m ? Number(m[2]) : null, want.line, d.reason);
      if (m) assert.equal(m[1], want.file || REC);
      if (want.hint) assert.ok(d.reason.includes(`${want.file || opt(args, '--recognition') || REC}:${want.hint} `), d.reason);
      if (opt(args, '--importance')) assert.match(d.policy, new RegExp(`^${(opt(args, '--policy') || POL).replace(/[.]/g, '\\.')}:\\d+$`));
      else assert.equal(d.policy, undefined);
      if (!opt(args, '--recognition')) {
        if (m) cited.add(Number(m[2]));
        if (want.hint) cited.add(want.hint);
      }
    });
  }
  // every line of the default recognition file, accept and simplified,
  // is reached by some row
  const lines = schemesJson(null, null).recognition.map((l) => l.line);
  assert.ok(lines.length >= 5, lines.join(','));
  assert.deepEqual([...cited].sort((a, b) => a - b), [...lines].sort((a, b) => a - b));
});

test('decision reasons name what is missing', () => {
  decisionSetup();
  const sj = schemesJson(null, null);
  const l = (name, nb = 0, na = 4102444800) => ({ scheme: DLABELS[name][1], level: DLABELS[name][2], notBefore: nb, notAfter: na });
  const now = Math.floor(Date.now() / 1000);
  let d = v.decide(l('c1'), now, [{ scheme: 'jcstar', min_level: 0 }], sj);
  assert.equal(d.reason, `label is CLS level 1; JC-STAR ★1 or higher is required (${REC}:28 allows only a simplified application on CLS labels, not acceptance)`);
  d = v.decide(l('cra2'), now, [{ scheme: 'psti', min_level: 0 }], sj);
  assert.equal(d.reason, `label is CRA important I; PSTI compliant is required (no acceptance line in ${REC} covers CRA labels)`);
  d = v.decide(l('j1'), now, [{ scheme: 'psti', min_level: 1 }], sj);
  assert.equal(d.requirement, 'psti:1');
  assert.equal(d.basis, sj.recognition[0].basis);
  // not current: before and after
  d = v.decide(l('j1', now + 10, now + 20), now, [{ scheme: 'jcstar', min_level: 0 }], sj);
  assert.equal(d.met, false);
  d = v.decide(l('j1', now - 20, now - 10), now, [{ scheme: 'jcstar', min_level: 0 }], sj);
  assert.equal(d.met, false);
  assert.equal(v.decide(l('j1', now, now), now, [{ scheme: 'jcstar', min_level: 1 }], sj).met, true, 'both ends inclusive');
  // requirements the profiles do not define are refused, as jcs_decide does
  assert.throws(() => v.decide(l('j1'), now, [{ scheme: 'psti', min_level: 2 }], sj), /level 2 is not defined for PSTI/);
  assert.throws(() => v.decide(l('j1'), now, [{ scheme: 'nope', min_level: 0 }], sj), /no profile/);
  // no schemes.json, no decision
  assert.throws(() => v.decide(l('j1'), now, [{ scheme: 'psti', min_level: 0 }], v.BUILTIN_SCHEMES), /schemes\.json/);
  assert.throws(() => v.decide(l('j1'), now, [{ scheme: 'psti', min_level: 0 }], null), /schemes\.json/);
});

test('requirementsFor reads the page address and the API query alike', () => {
  decisionSetup();
  const sj = schemesJson(null, null);
  assert.equal(v.requirementsFor('', sj), null);
  assert.equal(v.requirementsFor('?lang=ja', sj), null);
  assert.deepEqual(v.requirementsFor('?as=psti', sj), { key: 'as=psti', requirements: [{ scheme: 'psti', min_level: 0 }] });
  assert.equal(v.requirementsFor('?as=jcstar:3', sj).key, 'as=jcstar:3');
  assert.equal(v.requirementsFor('?as=jcstar&min_level=3', sj).key, 'as=jcstar:3');
  assert.equal(v.requirementsFor('?as=jcstar:1', sj).key, 'as=jcstar');
  assert.equal(v.requirementsFor('?as=PSTI', sj).key, 'as=psti', 'scheme names in any case, as jcstar verify --as');
  assert.deepEqual(v.requirementsFor('?min_level=3', sj).requirements, [{ scheme: 'jcstar', min_level: 3 }]);
  const hi = v.requirementsFor('?importance=high', sj);
  assert.equal(hi.key, 'importance=high');
  assert.deepEqual(hi.requirements, [{ scheme: 'jcstar', min_level: 3, source: POL, line: 19 }]);
  const bad = (q) => v.requirementsFor(q, sj).error;
  assert.match(bad('?as=bogus'), /unknown scheme 'bogus'/);
  assert.match(bad('?as=psti:2'), /the level in as for PSTI must be 1, not '2'/);
  assert.match(bad('?as=jcstar&min_level=5'), /min_level for JC-STAR must be a level from 1 to 4, not '5'/);
  assert.match(bad('?as=jcstar:3&min_level=3'), /give the level once/);
  assert.match(bad('?importance=high&as=psti'), /importance takes its requirement from the policy/);
  assert.match(bad('?importance=urgent'), /no importance 'urgent' \(known: low medium high\)/);
  assert.match(bad('?as=psti&as=cls'), /given twice/);
  assert.match(bad('?as='), /needs a value/);
  // without schemes.json: asked, but nothing to decide with
  assert.equal(v.requirementsFor('?as=psti', null).error, 'no-schemes');
  assert.equal(v.requirementsFor('?as=psti', v.BUILTIN_SCHEMES).error, 'no-schemes');
});

test('the built-in profiles of verifier.js are those of jcstar schemes --json', () => {
  decisionSetup();
  const pick = (s) => ({ name: s.name, display: s.display, min_level: s.min_level, max_level: s.max_level,
    third_party_from: s.third_party_from, levels: s.levels.map((l) => ({ level: l.level, text: l.text })) });
  assert.deepEqual(v.BUILTIN_SCHEMES.schemes.map(pick), schemesJson(null, null).schemes.map(pick));
  for (const [scheme, level, text] of [['jcstar', 2, 'JC-STAR ★2'], ['psti', 1, 'PSTI compliant'],
    ['cra', 2, 'CRA important I'], ['cls', 2, 'CLS level 2'], ['cyber-trust-mark', 1, 'Cyber Trust Mark']]) {
    assert.equal(v.levelText(schemesJson(null, null), scheme, level), text);
    assert.equal(v.levelText(null, scheme, level), text);
  }
});

test('the level and lab rules of every scheme come from its profile, in JS and C', async () => {
  decisionSetup();
  // a CLS level 1 label raised to 3: CLS names a lab from level 3 on, so
  // it is malformed (not merely a bad signature) in both
  const der = D.der.c1.slice();
  const i = Buffer.from(der).indexOf(Buffer.from([0x0a, 0x01, 0x02, 0x02, 0x01, 0x01]));
  assert.ok(i > 0);
  der[i + 5] = 3;
  fs.writeFileSync(path.join(W, 'c3raised.der'), der);
  await same('dca.pem', urlOfDer(der), undefined, 'malformed');
  der[i + 5] = 2; // level 2: no lab needed, so the signature decides
  await same('dca.pem', urlOfDer(der), undefined, 'bad-signature');
  der[i + 5] = 5; // CLS has no level 5
  await same('dca.pem', urlOfDer(der), undefined, 'malformed');
  // a CRA label raised from default (1) to important I (2) names no body
  const cra = D.der.cra1.slice();
  const k = Buffer.from(cra).indexOf(Buffer.from([0x0a, 0x01, 0x05, 0x02, 0x01, 0x01]));
  assert.ok(k > 0);
  cra[k + 5] = 2;
  await same('dca.pem', urlOfDer(cra), undefined, 'malformed');
});
