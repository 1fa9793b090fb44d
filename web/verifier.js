// verifier.js - the jcstar label verifier for the web page and for node.
//
// No DOM here: the page (app.js) and the node tests (tests/web/) import this
// same module. It implements docs/FORMAT.md: payload forms (§8), the strict
// DER label (§2-§4), and trust (§5): signer certificates checked against
// pinned root keys, label and signer CRLs (§5.3). Crypto is WebCrypto
// (globalThis.crypto.subtle: browsers, node >= 20; node 18 needs
// `--experimental-global-webcrypto`, see tests/web/).
//
// Verdict tokens are those of libjcstar (jcs_err_name): "valid",
// "bad-signature", "unknown-issuer", "untrusted", "not-label-signer",
// "signer-expired", "expired", "not-yet-valid", "outside-signer-validity",
// "unknown-critical-extension", "revoked", "malformed", "truncated",
// "not-der", "too-large", "not-a-payload", "damaged-payload".

export const OID_LABEL_EKU = '2.25.184176058496225790952593353622520209578.2.1';
const OID_ECDSA_SHA256 = '1.2.840.10045.4.3.2';
const OID_ED25519 = '1.3.101.112';
const OID_EC_PUBKEY = '1.2.840.10045.2.1';
const OID_P256 = '1.2.840.10045.3.1.7';
const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_KEY_USAGE = '2.5.29.15';
const OID_EKU = '2.5.29.37';
const OID_SKI = '2.5.29.14';
const OID_AKI = '2.5.29.35';
const OID_CRL_NUMBER = '2.5.29.20';
const OID_REASON = '2.5.29.21';
const OID_INVALIDITY_DATE = '2.5.29.24';
const OID_DELTA_CRL = '2.5.29.27';
const OID_IDP = '2.5.29.28';
const OID_CERT_ISSUER = '2.5.29.29';
const KNOWN_CERT_CRITICAL = new Set([OID_BASIC_CONSTRAINTS, OID_KEY_USAGE,
  OID_EKU, '2.5.29.17', '2.5.29.32', '2.5.29.30', '2.5.29.36']);

export const LABEL_MAX_DER = 2048;
export const PAYLOAD_MAX = 8192;
const MAX_TIME = 253402300799;
const MAX_DEPTH = 16;
const BARE_PREFIX = 'JCS1:';
const B45 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';
const GROUP_DIGITS = [0, 3, 5, 8, 10, 13, 15, 17];

// The scheme codes of the label format (jcs_scheme_name); what each scheme's
// levels are and how they read comes from its profile (schemes.json).
export const SCHEMES = { 1: 'jcstar', 2: 'cls', 3: 'psti', 4: 'cyber-trust-mark', 5: 'cra' };

// The profiles libjcstar carries built in (certs/schemes/*.scheme), as
// schemes.json has them, for a page whose site has no schemes.json (an
// export by an older jcstar): level texts and the rules of a decoded label
// only. It has no recognition and no policy, and decide() refuses it: such
// a page makes no requirement decision. tests/web/verifier.test.mjs checks
// it against `jcstar schemes --json`.
const builtinLevels = (texts) => texts.map((text, i) => ({ level: i + 1, text }));
export const BUILTIN_SCHEMES = Object.freeze({
  builtin: true,
  schemes: [
    { name: 'cls', display: 'CLS', min_level: 1, max_level: 4, third_party_from: 3,
      levels: builtinLevels(['CLS level 1', 'CLS level 2', 'CLS level 3', 'CLS level 4']) },
    { name: 'cra', display: 'CRA', min_level: 1, max_level: 4, third_party_from: 2,
      levels: builtinLevels(['CRA default', 'CRA important I', 'CRA important II', 'CRA critical']) },
    { name: 'cyber-trust-mark', display: 'Cyber Trust Mark', min_level: 1, max_level: 1, third_party_from: 1,
      levels: builtinLevels(['Cyber Trust Mark']) },
    { name: 'jcstar', display: 'JC-STAR', min_level: 1, max_level: 4, third_party_from: 3,
      levels: builtinLevels(['JC-STAR ★1', 'JC-STAR ★2', 'JC-STAR ★3', 'JC-STAR ★4']) },
    { name: 'psti', display: 'PSTI', min_level: 1, max_level: 1, third_party_from: 0,
      levels: builtinLevels(['PSTI compliant']) },
  ],
  recognition: [],
  policy: [],
});

export const REASONS = { 0: 'unspecified', 1: 'key-compromise', 3: 'affiliation-changed',
  4: 'superseded', 5: 'cessation-of-operation', 6: 'certificate-hold',
  9: 'privilege-withdrawn' };

/** An error carrying a verdict token. */
export class JcsError extends Error {
  constructor(verdict, message) {
    super(message);
    this.verdict = verdict;
  }
}
const fail = (verdict, message) => { throw new JcsError(verdict, message); };

const subtle = () => {
  const s = globalThis.crypto && globalThis.crypto.subtle;
  if (!s) throw new Error('WebCrypto (crypto.subtle) is not available');
  return s;
};

export const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const bytesEqual = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

export function base64ToBytes(s) {
  if (typeof atob === 'function') {
    const bin = atob(s.replace(/\s+/g, ''));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  return new Uint8Array(Buffer.from(s, 'base64'));
}

export function bytesToBase64(b) {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}

/* ------------------------------------------------------------------ */
/* Payload forms (FORMAT.md §8)                                        */
/* ------------------------------------------------------------------ */

export function digitsDecode(text, offset = 0) {
  const n = text.length;
  const rest = n % 17;
  let k = 0;
  if (rest !== 0) {
    k = GROUP_DIGITS.indexOf(rest);
    if (k < 1 || k > 6) {
      fail('damaged-payload', `${n} digits cannot encode a label (the last group has ${rest} digits; it must have 3, 5, 8, 10, 13, 15 or 17): the code was cut or misread`);
    }
  }
  const out = [];
  for (let i = 0; i < n; i += 17) {
    const d = n - i >= 17 ? 17 : rest;
    const bytes = d === 17 ? 7 : k;
    let v = 0n;
    for (let j = 0; j < d; j++) {
      const c = text.charCodeAt(i + j);
      if (c < 48 || c > 57) {
        fail('damaged-payload', `character 0x${c.toString(16).padStart(2, '0')} at position ${offset + i + j} is not a digit`);
      }
      v = v * 10n + BigInt(c - 48);
    }
    if (v >> BigInt(8 * bytes) !== 0n) {
      fail('damaged-payload', `digit group at position ${offset + i} is out of range for ${bytes} bytes`);
    }
    const g = new Array(bytes);
    for (let j = bytes - 1; j >= 0; j--) { g[j] = Number(v & 0xffn); v >>= 8n; }
    out.push(...g);
  }
  return new Uint8Array(out);
}

export function digitsEncode(der) {
  let s = '';
  for (let i = 0; i < der.length; i += 7) {
    const k = Math.min(7, der.length - i);
    let v = 0n;
    for (let j = 0; j < k; j++) v = (v << 8n) | BigInt(der[i + j]);
    s += v.toString().padStart(GROUP_DIGITS[k], '0');
  }
  return s;
}

export function base45Decode(text, offset = 0) {
  const n = text.length;
  if (n % 3 === 1) {
    fail('damaged-payload', `Base45 text of ${n} characters is impossible (a length of 3k+1): the payload was cut or padded`);
  }
  const out = [];
  for (let i = 0; i < n; i += 3) {
    const k = n - i >= 3 ? 3 : 2;
    let v = 0; let mul = 1;
    for (let j = 0; j < k; j++) {
      const ch = text[i + j];
      const d = B45.indexOf(ch);
      if (d < 0) {
        if (/[a-z]/.test(ch)) fail('damaged-payload', `lower-case '${ch}' at position ${offset + i + j}: Base45 is upper case (was the payload case-folded?)`);
        fail('damaged-payload', `character 0x${ch.charCodeAt(0).toString(16)} at position ${offset + i + j} is not Base45`);
      }
      v += d * mul; mul *= 45;
    }
    if (v > (k === 3 ? 0xffff : 0xff)) fail('damaged-payload', `Base45 group '${text.slice(i, i + k)}' at position ${offset + i} is out of range (${v})`);
    if (k === 3) out.push(v >> 8);
    out.push(v & 0xff);
  }
  return new Uint8Array(out);
}

/**
 * Decodes a payload (bare "JCS1:..." or url "HTTPS://HOST/PATH/digits"), as
 * jcs_payload_decode does. Returns { der, form }.
 */
export function payloadDecode(text) {
  if (typeof text !== 'string' || text.length === 0) fail('not-a-payload', 'not a jcstar payload: the text is empty');
  if (text.length > PAYLOAD_MAX) fail('too-large', `payload is ${text.length} bytes; at most ${PAYLOAD_MAX} are accepted`);
  if (text.includes('\0')) fail('not-a-payload', 'not a jcstar payload: it holds a NUL byte');
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(text)) fail('not-a-payload', 'not a jcstar payload: it holds non-ASCII text');
  let der; let form;
  if (text.startsWith(BARE_PREFIX)) {
    form = 'bare';
    der = base45Decode(text.slice(BARE_PREFIX.length), BARE_PREFIX.length);
  } else if (text.slice(0, 5).toUpperCase() === BARE_PREFIX) {
    fail('damaged-payload', `payload prefix '${text.slice(0, 5)}' must be upper case '${BARE_PREFIX}' (was the payload case-folded?)`);
  } else if (text.length >= 8 && text.slice(0, 8).toLowerCase() === 'https://') {
    const slash = text.lastIndexOf('/');
    if (slash < 8 || text[slash - 1] === '/') fail('not-a-payload', 'not a jcstar payload: a URL without a label path');
    const start = slash + 1;
    for (let i = 8; i < start; i++) {
      if (!/[A-Za-z0-9$*+\-./:]/.test(text[i])) {
        fail('not-a-payload', `not a jcstar payload: character 0x${text.charCodeAt(i).toString(16)} at position ${i} cannot be in a verifier address`);
      }
    }
    if (start === text.length) fail('not-a-payload', "not a jcstar payload: the URL ends in '/' with no label digits after it");
    if (!/[0-9]/.test(text[start])) fail('not-a-payload', "not a jcstar payload: the URL's last path segment is not label digits");
    if (text.length - start < 100) fail('not-a-payload', `not a jcstar payload: ${text.length - start} digits are too few to hold a label`);
    form = 'url';
    der = digitsDecode(text.slice(start), start);
  } else {
    fail('not-a-payload', `not a jcstar payload: expected '${BARE_PREFIX}...' or an HTTPS:// verifier URL`);
  }
  if (der.length === 0) fail('damaged-payload', 'the payload holds no label bytes');
  return { der, form };
}

/**
 * The label digits from a page address: the last segment of
 * location.pathname. Returns the digit string or null if there is none.
 */
export function digitsFromPath(pathname) {
  const seg = String(pathname || '').split('/').pop();
  return seg && /^[0-9]/.test(seg) ? seg : null;
}

/* ------------------------------------------------------------------ */
/* DER                                                                  */
/* ------------------------------------------------------------------ */

/** Structural DER walk of a label, as der.c: truncated / not-der / malformed. */
export function derCheck(buf, what = 'label') {
  if (buf.length === 0) fail('malformed', `${what} is empty`);
  if (buf[0] !== 0x30) fail('malformed', `not a jcstar ${what}: it starts with byte 0x${buf[0].toString(16).padStart(2, '0')}, not a DER SEQUENCE (0x30)`);
  const total = buf.length;
  const overrun = (start, need, end, depth) => {
    if (depth === 0) fail('truncated', `${what} is truncated at byte ${total} of ${start + need}: the element at byte ${start} needs ${start + need - total} more bytes`);
    fail('malformed', `${what} is malformed: the element at byte ${start} overruns its enclosing element, which ends at byte ${end}`);
  };
  const walk = (off, end, depth) => {
    while (off < end) {
      const start = off;
      let len = 0;
      if (depth > MAX_DEPTH) fail('malformed', `${what} nests deeper than ${MAX_DEPTH} levels at byte ${off}`);
      const tag = buf[off++];
      if ((tag & 0x1f) === 0x1f) fail('malformed', `${what} has a multi-byte tag at byte ${start}, which the format never uses`);
      if (off >= end) overrun(start, 2, end, depth);
      if (buf[off] < 0x80) {
        len = buf[off++];
      } else if (buf[off] === 0x80) {
        fail('not-der', `${what} is not DER: indefinite length at byte ${off}`);
      } else {
        const n = buf[off++] & 0x7f;
        if (n > 4) fail('malformed', `${what} has an impossible length (${n} length bytes) at byte ${off - 1}`);
        if (n > end - off) overrun(start, 2 + n, end, depth);
        if (buf[off] === 0) fail('not-der', `${what} is not DER: length at byte ${off - 1} has a leading zero byte`);
        for (let i = 0; i < n; i++) len = len * 256 + buf[off++];
        if (len < 0x80) fail('not-der', `${what} is not DER: length ${len} at byte ${start + 1} uses the long form`);
      }
      const hdr = off - start;
      if (len > end - off) overrun(start, hdr + len, end, depth);
      if (tag & 0x20) walk(off, off + len, depth + 1);
      off += len;
      if (depth === 0 && off < end) fail('malformed', `${what} has ${end - off} trailing byte${end - off === 1 ? '' : 's'} after its end at byte ${off}`);
    }
  };
  walk(0, total, 0);
}

/** Reads one TLV at off (within end). Strict definite, minimal lengths. */
function tlv(buf, off, end, err = 'malformed') {
  if (off + 2 > end) fail(err, `element at byte ${off} runs past its end`);
  const tag = buf[off];
  let p = off + 1;
  let len = buf[p++];
  if (len === 0x80) fail(err, `indefinite length at byte ${off}`);
  if (len > 0x80) {
    const n = len & 0x7f;
    if (n > 4 || p + n > end || buf[p] === 0) fail(err, `bad length at byte ${off}`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++];
    if (len < 0x80) fail(err, `long-form length below 128 at byte ${off}`);
  }
  if (p + len > end) fail(err, `element at byte ${off} overruns its parent`);
  return { tag, start: off, cs: p, ce: p + len, end: p + len,
    bytes: () => buf.subarray(off, p + len), content: () => buf.subarray(p, p + len) };
}

/** Children of a constructed element. */
function children(buf, node, err = 'malformed') {
  const out = [];
  let off = node.cs;
  while (off < node.ce) {
    const c = tlv(buf, off, node.ce, err);
    out.push(c);
    off = c.end;
  }
  return out;
}

function expectTag(node, tag, what, err = 'malformed') {
  if (!node || node.tag !== tag) fail(err, `${what}: expected tag 0x${tag.toString(16)}${node ? `, found 0x${node.tag.toString(16)}` : ', found nothing'}`);
  return node;
}

function intContent(c, what, err = 'malformed') {
  if (c.length === 0) fail(err, `${what} is an empty INTEGER`);
  if (c.length > 1 && ((c[0] === 0 && !(c[1] & 0x80)) || (c[0] === 0xff && (c[1] & 0x80)))) {
    fail(err, `${what} is not a minimal INTEGER`); // OpenSSL: "illegal padding"
  }
  return c;
}

function intBig(c) {
  let v = 0n;
  for (const x of c) v = (v << 8n) | BigInt(x);
  if (c.length && (c[0] & 0x80)) v -= 1n << BigInt(8 * c.length);
  return v;
}

function intNumber(node, what, err = 'malformed') {
  const v = intBig(intContent(node.content(), what, err));
  return v;
}

export function oidToString(c) {
  const parts = [];
  let v = 0n;
  let first = true;
  if (c.length === 0) fail('malformed', 'empty OBJECT IDENTIFIER');
  for (let i = 0; i < c.length; i++) {
    if (v === 0n && c[i] === 0x80) fail('malformed', 'non-minimal OBJECT IDENTIFIER');
    v = (v << 7n) | BigInt(c[i] & 0x7f);
    if (!(c[i] & 0x80)) {
      if (first) {
        if (v < 40n) parts.push(0n, v); else if (v < 80n) parts.push(1n, v - 40n); else parts.push(2n, v - 80n);
        first = false;
      } else parts.push(v);
      v = 0n;
    } else if (i === c.length - 1) fail('malformed', 'truncated OBJECT IDENTIFIER');
  }
  return parts.join('.');
}

function oidEncode(s) {
  const p = s.split('.').map((x) => BigInt(x));
  const arcs = [p[0] * 40n + p[1], ...p.slice(2)];
  const out = [];
  for (let a of arcs) {
    const g = [Number(a & 0x7fn)];
    a >>= 7n;
    while (a > 0n) { g.unshift(Number(a & 0x7fn) | 0x80); a >>= 7n; }
    out.push(...g);
  }
  return Uint8Array.from(out);
}

// encoder (for the strict re-encode check of labels)
function encLen(n) {
  if (n < 0x80) return [n];
  const b = [];
  while (n > 0) { b.unshift(n & 0xff); n = Math.floor(n / 256); }
  return [0x80 | b.length, ...b];
}
function enc(tag, content) {
  const c = content instanceof Uint8Array ? content : Uint8Array.from(content.flatMap((x) => Array.from(x)));
  return Uint8Array.from([tag, ...encLen(c.length), ...c]);
}
function encInt(v) {
  v = BigInt(v);
  const b = [];
  if (v === 0n) b.push(0);
  let x = v;
  while (x > 0n) { b.unshift(Number(x & 0xffn)); x >>= 8n; }
  if (b[0] & 0x80) b.unshift(0);
  return Uint8Array.from(b);
}
const utf8enc = new TextEncoder();

/* ------------------------------------------------------------------ */
/* Strings (FORMAT.md §3)                                               */
/* ------------------------------------------------------------------ */

const utf8dec = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const ZS = /^[\u0020\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\t\n\v\f\r]|[\u0020\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\t\n\v\f\r]$/u;
// C0, DEL, C1, invisible format and bidi controls
// eslint-disable-next-line no-control-regex
const BAD_CHARS = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/u;

function checkString(bytes, name, max, asciiId) {
  if (bytes.length === 0) fail('malformed', `${name} is empty`);
  if (bytes.length > max) fail('malformed', `${name} is ${bytes.length} bytes long; at most ${max} bytes of UTF-8 are allowed`);
  let s;
  try { s = utf8dec.decode(bytes); } catch (e) { fail('malformed', `${name} is not valid UTF-8 text`); }
  if (BAD_CHARS.test(s)) fail('malformed', `${name} is not valid UTF-8 text (bad or control character)`);
  if (ZS.test(s)) fail('malformed', `${name} starts or ends with white space`);
  if (asciiId && !/^[A-Za-z0-9\-._/:]+$/.test(s)) fail('malformed', `${name} may hold only ASCII letters, digits and - . _ / :`);
  return s;
}

/* ------------------------------------------------------------------ */
/* Label (FORMAT.md §2-§4)                                              */
/* ------------------------------------------------------------------ */

/**
 * Decodes a label strictly. Returns an object with the fields, the exact
 * tbsLabel bytes, the signature algorithm and value. Throws JcsError with
 * "too-large", "truncated", "not-der" or "malformed". The level and the
 * lab are checked against the scheme's profile in schemes (schemes.json;
 * default: the built-in profiles), as libjcstar checks them.
 */
export function parseLabel(der, schemes = BUILTIN_SCHEMES) {
  der = der instanceof Uint8Array ? der : new Uint8Array(der);
  if (der.length > LABEL_MAX_DER) fail('too-large', `label is ${der.length} bytes; a label is at most ${LABEL_MAX_DER} bytes`);
  derCheck(der, 'label');
  const outer = tlv(der, 0, der.length);
  const top = children(der, outer);
  if (top.length !== 3) fail('malformed', 'not a jcstar label (the DER does not match the label structure)');
  const [tbsN, algN, sigN] = top;
  expectTag(tbsN, 0x30, 'tbsLabel');
  expectTag(algN, 0x30, 'signatureAlgorithm');
  expectTag(sigN, 0x03, 'signatureValue');
  const t = children(der, tbsN);
  let i = 0;
  const next = (tag, what, optional = false) => {
    const n = t[i];
    if (n && n.tag === tag) { i++; return n; }
    if (optional) return null;
    return expectTag(n, tag, what);
  };
  const versionN = next(0x02, 'version');
  const serialN = next(0x02, 'serialNumber');
  const issuerN = next(0x04, 'issuer');
  const validityN = next(0x30, 'validity');
  const schemeN = next(0x0a, 'scheme');
  const levelN = next(0x02, 'level');
  const productN = next(0x30, 'product');
  const assessN = t[i] && (t[i].tag === 0x05 || t[i].tag === 0x0c) ? t[i++] : expectTag(t[i], 0x05, 'assessment');
  const supportN = next(0x80, 'supportUntil', true);
  const extsN = next(0xa1, 'extensions', true);
  if (i !== t.length) fail('malformed', 'not a jcstar label (unexpected element in tbsLabel)');

  const vc = children(der, validityN);
  if (vc.length !== 2) fail('malformed', 'validity must hold two times');
  vc.forEach((n) => expectTag(n, 0x02, 'validity time'));
  const pc = children(der, productN);
  if (pc.length < 4 || pc.length > 5) fail('malformed', 'product must hold 4 or 5 fields');
  pc.slice(0, 4).forEach((n) => expectTag(n, 0x0c, 'product string'));
  if (pc.length === 5) expectTag(pc[4], 0x80, 'unitSerial');
  if (assessN.tag === 0x05 && assessN.ce !== assessN.cs) fail('malformed', 'NULL with content');
  const algC = children(der, algN);
  if (algC.length < 1) fail('malformed', 'signature algorithm is empty');
  expectTag(algC[0], 0x06, 'signature algorithm');
  const sigC = sigN.content();
  if (sigC.length < 1 || sigC[0] > 7 || (sigC.length === 1 && sigC[0] !== 0)) fail('malformed', 'bad BIT STRING');
  // a decoder drops the unused bits: re-encoded, they are zero
  const reSig = sigC.slice();
  if (sigC.length > 1) reSig[reSig.length - 1] &= (0xff << sigC[0]) & 0xff;

  // ints (minimality is checked by the re-encoding below too)
  const version = intBig(intContent(versionN.content(), 'version'));
  const serialC = intContent(serialN.content(), 'serial');
  const nb = intBig(intContent(vc[0].content(), 'notBefore'));
  const na = intBig(intContent(vc[1].content(), 'notAfter'));
  const scheme = intBig(intContent(schemeN.content(), 'scheme'));
  const level = intBig(intContent(levelN.content(), 'level'));
  const support = supportN ? intBig(intContent(supportN.content(), 'supportUntil')) : null;
  const exts = [];
  if (extsN) {
    for (const e of children(der, extsN)) {
      expectTag(e, 0x30, 'extension');
      const ec = children(der, e);
      if (ec.length < 2 || ec.length > 3) fail('malformed', 'extension must hold 2 or 3 fields');
      expectTag(ec[0], 0x06, 'extnID');
      let critical = false; let raw = 0;
      if (ec.length === 3) {
        expectTag(ec[1], 0x01, 'critical');
        if (ec[1].ce - ec[1].cs !== 1) fail('malformed', 'BOOLEAN of bad length');
        raw = ec[1].content()[0];
        critical = raw !== 0;
      }
      const val = expectTag(ec[ec.length - 1], 0x04, 'extnValue');
      exts.push({ oid: oidToString(ec[0].content()), oidBytes: ec[0].content(), critical, raw, hasBool: ec.length === 3, value: val.content() });
    }
  }

  // strict DER: re-encode from the decoded values and compare
  const reProduct = [enc(0x0c, pc[0].content()), enc(0x0c, pc[1].content()), enc(0x0c, pc[2].content()), enc(0x0c, pc[3].content())];
  if (pc.length === 5) reProduct.push(enc(0x80, pc[4].content()));
  const reTbsParts = [enc(0x02, encInt(version < 0n ? 0n : version)), enc(0x02, serialC),
    enc(0x04, issuerN.content()), enc(0x30, [enc(0x02, encInt(nb < 0n ? 0n : nb)), enc(0x02, encInt(na < 0n ? 0n : na))]),
    enc(0x0a, encInt(scheme < 0n ? 0n : scheme)), enc(0x02, encInt(level < 0n ? 0n : level)), enc(0x30, reProduct),
    assessN.tag === 0x05 ? Uint8Array.from([5, 0]) : enc(0x0c, assessN.content())];
  if (support !== null) reTbsParts.push(enc(0x80, encInt(support < 0n ? 0n : support)));
  if (extsN) {
    reTbsParts.push(enc(0xa1, exts.map((e) => enc(0x30, [enc(0x06, e.oidBytes),
      ...(e.critical ? [Uint8Array.from([1, 1, e.raw])] : []), enc(0x04, e.value)]))));
  }
  const re = enc(0x30, [enc(0x30, reTbsParts), algN.bytes(), enc(0x03, reSig)]);
  if (version >= 0n && nb >= 0n && na >= 0n && scheme >= 0n && level >= 0n && (support === null || support >= 0n)) {
    if (!bytesEqual(re, der)) {
      let k = 0;
      while (k < re.length && k < der.length && re[k] === der[k]) k++;
      fail('not-der', `label is not strict DER: its canonical encoding differs from byte ${k}`);
    }
  }

  // signature algorithm (§4)
  const algOid = oidToString(algC[0].content());
  if (algOid !== OID_ECDSA_SHA256 && algOid !== OID_ED25519) fail('malformed', `signature algorithm ${algOid} is not allowed (only ecdsa-with-SHA256 and Ed25519)`);
  if (algC.length !== 1) fail('malformed', 'signature algorithm has parameters; they must be absent');
  if (sigC[0] !== 0) fail('malformed', 'signature BIT STRING has unused bits');

  // fields (§3)
  if (version !== 0n) fail('malformed', 'unsupported label format version (this library reads version 0)');
  if ((serialC[0] & 0x80) || serialC.length < 8 || serialC.length > 20) fail('malformed', 'serial must be a positive integer of 8 to 20 bytes');
  if (issuerN.ce - issuerN.cs !== 8) fail('malformed', `issuer key identifier is ${issuerN.ce - issuerN.cs} bytes, not 8`);
  if (nb < 0n || na < 0n || nb > BigInt(MAX_TIME) || na > BigInt(MAX_TIME)) fail('malformed', 'validity time out of range');
  if (scheme < 0n || scheme > 255n) fail('malformed', 'scheme value out of range');
  if (level < 0n || level > 255n) fail('malformed', 'level value out of range');
  if (support !== null && (support <= 0n || support > BigInt(Math.floor(MAX_TIME / 86400)))) fail('malformed', 'support-period end out of range');
  const sch = Number(scheme); const lvl = Number(level);
  if (!SCHEMES[sch]) fail('malformed', `unknown scheme ${sch}`);
  const prof = profileOf(schemes || BUILTIN_SCHEMES, SCHEMES[sch]);
  if (!prof) fail('malformed', `no profile for scheme ${SCHEMES[sch]} is loaded`);
  if (lvl < prof.min_level || lvl > prof.max_level) {
    fail('malformed', `level ${lvl} is not defined for ${prof.display} (${prof.min_level === prof.max_level ? `only level ${prof.min_level}` : `${prof.min_level} to ${prof.max_level}`})`);
  }
  const regId = checkString(pc[0].content(), 'registration id', 32, true);
  const vendor = checkString(pc[1].content(), 'vendor', 64, false);
  const product = checkString(pc[2].content(), 'product name', 64, false);
  const model = checkString(pc[3].content(), 'model', 32, false);
  const unitSerial = pc.length === 5 ? checkString(pc[4].content(), 'unit serial', 32, true) : null;
  const lab = assessN.tag === 0x0c ? checkString(assessN.content(), 'lab', 64, false) : null;
  if (prof.third_party_from > 0 && lvl >= prof.third_party_from && lab === null) {
    fail('malformed', `${levelText(schemes, SCHEMES[sch], lvl)} needs a third-party assessment naming the lab or body (third_party_from = ${prof.third_party_from})`);
  }
  if (na <= nb) fail('malformed', 'validity ends before it starts (not-after <= not-before)');
  if (extsN) {
    if (exts.length === 0) fail('malformed', 'extensions field is present but empty');
    if (exts.length > 16) fail('malformed', 'more than 16 extensions');
    const seen = new Set();
    for (const e of exts) {
      if (e.critical && e.raw !== 0xff) fail('not-der', `label is not strict DER: extension ${e.oid} encodes critical TRUE as 0x${e.raw.toString(16)}, not 0xff`);
      if (e.value.length > 256) fail('malformed', `extension ${e.oid} value is ${e.value.length} bytes; at most 256`);
      if (seen.has(e.oid)) fail('malformed', `extension ${e.oid} appears twice`);
      seen.add(e.oid);
    }
  }
  return {
    der,
    tbs: tbsN.bytes(),
    signatureAlgorithm: algOid === OID_ED25519 ? 'Ed25519' : 'ecdsa-with-SHA256',
    signature: sigC.subarray(1),
    version: 1,
    serial: hex(serialC),
    issuerKeyId: hex(issuerN.content()),
    notBefore: Number(nb),
    notAfter: Number(na),
    scheme: SCHEMES[sch],
    schemeValue: sch,
    level: lvl,
    regId, vendor, product, model, unitSerial,
    assessment: lab === null ? 'self-declared' : 'third-party',
    lab,
    supportUntil: support === null ? null : Number(support) * 86400,
    extensions: exts.map((e) => ({ oid: e.oid, critical: e.critical })),
  };
}

/* ------------------------------------------------------------------ */
/* Signatures                                                           */
/* ------------------------------------------------------------------ */

/** DER Ecdsa-Sig-Value -> raw r||s (2 x 32 octets), or null if bad. */
export function ecdsaDerToRaw(sig, size = 32) {
  try {
    const top = tlv(sig, 0, sig.length);
    if (top.tag !== 0x30 || top.end !== sig.length) return null;
    const c = children(sig, top);
    if (c.length !== 2 || c[0].tag !== 0x02 || c[1].tag !== 0x02) return null;
    const out = new Uint8Array(2 * size);
    for (let k = 0; k < 2; k++) {
      let v = intContent(c[k].content(), 'ECDSA value');
      if (v[0] & 0x80) return null;
      while (v.length > 1 && v[0] === 0) v = v.subarray(1);
      if (v.length > size) return null;
      out.set(v, k * size + size - v.length);
    }
    return out;
  } catch (e) {
    return null;
  }
}

const keyCache = new Map();

/** Imports an SPKI (P-256 or Ed25519) for verification; null if unsupported. */
async function importKey(spki) {
  const k = bytesToBase64(spki.der);
  if (keyCache.has(k)) return keyCache.get(k);
  let key = null;
  try {
    if (spki.type === 'p256') {
      key = await subtle().importKey('spki', spki.der, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
    } else if (spki.type === 'ed25519') {
      key = await subtle().importKey('spki', spki.der, { name: 'Ed25519' }, false, ['verify']);
    }
  } catch (e) {
    key = null; // e.g. a browser without Ed25519
  }
  keyCache.set(k, key);
  return key;
}

/**
 * Verifies sig over data with the SPKI's key; alg 'ecdsa-with-SHA256' (sig
 * in DER) or 'Ed25519'. Returns true/false; throws 'unsupported' if the
 * platform cannot verify that algorithm.
 */
export async function verifySig(spki, alg, sig, data) {
  if (alg === 'ecdsa-with-SHA256') {
    if (spki.type !== 'p256') return false;
    const raw = ecdsaDerToRaw(sig);
    if (!raw) return false;
    const key = await importKey(spki);
    if (!key) throw new JcsError('unsupported', 'this browser cannot verify ECDSA P-256');
    return subtle().verify({ name: 'ECDSA', hash: 'SHA-256' }, key, raw, data);
  }
  if (alg === 'Ed25519') {
    if (spki.type !== 'ed25519' || sig.length !== 64) return false;
    const key = await importKey(spki);
    if (!key) throw new JcsError('unsupported', 'this browser cannot verify Ed25519 signatures');
    return subtle().verify({ name: 'Ed25519' }, key, sig, data);
  }
  return false;
}

/* ------------------------------------------------------------------ */
/* X.509 certificates and CRLs                                          */
/* ------------------------------------------------------------------ */

function parseTime(node) {
  const s = new TextDecoder().decode(node.content());
  let m;
  if (node.tag === 0x17) {
    m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
    if (!m) fail('malformed', `bad UTCTime ${s}`);
    const yy = Number(m[1]);
    return Date.UTC(yy < 50 ? 2000 + yy : 1900 + yy, m[2] - 1, m[3], m[4], m[5], m[6]) / 1000;
  }
  if (node.tag === 0x18) {
    m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
    if (!m) fail('malformed', `bad GeneralizedTime ${s}`);
    const d = new Date(0);
    d.setUTCFullYear(Number(m[1]), m[2] - 1, m[3]);
    d.setUTCHours(Number(m[4]), Number(m[5]), Number(m[6]), 0);
    return d.getTime() / 1000;
  }
  return fail('malformed', 'bad time');
}

function parseAlg(buf, node) {
  expectTag(node, 0x30, 'AlgorithmIdentifier');
  const c = children(buf, node);
  const oid = oidToString(expectTag(c[0], 0x06, 'algorithm').content());
  if (oid === OID_ECDSA_SHA256 && c.length === 1) return 'ecdsa-with-SHA256';
  if (oid === OID_ED25519 && c.length === 1) return 'Ed25519';
  return oid;
}

function parseSpki(buf, node) {
  expectTag(node, 0x30, 'SubjectPublicKeyInfo');
  const c = children(buf, node);
  const alg = children(buf, expectTag(c[0], 0x30, 'spki algorithm'));
  const oid = oidToString(alg[0].content());
  let type = 'other';
  if (oid === OID_EC_PUBKEY && alg[1] && alg[1].tag === 0x06 && oidToString(alg[1].content()) === OID_P256) type = 'p256';
  else if (oid === OID_ED25519 && alg.length === 1) type = 'ed25519';
  return { der: node.bytes(), type };
}

function parseExtensions(buf, node) {
  const out = [];
  for (const e of children(buf, expectTag(node, 0x30, 'Extensions'))) {
    const c = children(buf, expectTag(e, 0x30, 'Extension'));
    const oid = oidToString(expectTag(c[0], 0x06, 'extnID').content());
    let critical = false;
    if (c.length === 3) critical = expectTag(c[1], 0x01, 'critical').content()[0] === 0xff;
    const value = expectTag(c[c.length - 1], 0x04, 'extnValue').content();
    if (out.some((x) => x.oid === oid)) fail('malformed', `extension ${oid} appears twice`);
    out.push({ oid, critical, value });
  }
  return out;
}

/** Parses a DER X.509 v3 certificate. */
export function parseCert(der) {
  const top = tlv(der, 0, der.length);
  if (top.end !== der.length) fail('malformed', 'trailing bytes after certificate');
  const [tbsN, algN, sigN] = children(der, expectTag(top, 0x30, 'Certificate'));
  const t = children(der, expectTag(tbsN, 0x30, 'tbsCertificate'));
  let i = 0;
  let version = 1;
  if (t[0].tag === 0xa0) { version = Number(intNumber(children(der, t[0])[0], 'version')) + 1; i++; }
  const serial = intContent(expectTag(t[i++], 0x02, 'serial').content(), 'serial');
  const innerAlg = parseAlg(der, t[i++]);
  const issuer = expectTag(t[i++], 0x30, 'issuer').bytes();
  const validity = children(der, expectTag(t[i++], 0x30, 'validity'));
  const subject = expectTag(t[i++], 0x30, 'subject').bytes();
  const spki = parseSpki(der, t[i++]);
  let extensions = [];
  for (; i < t.length; i++) if (t[i].tag === 0xa3) extensions = parseExtensions(der, children(der, t[i])[0]);
  const sigAlg = parseAlg(der, algN);
  const sigBits = expectTag(sigN, 0x03, 'signature').content();
  const ext = (oid) => extensions.find((e) => e.oid === oid);
  let isCA = false;
  const bc = ext(OID_BASIC_CONSTRAINTS);
  if (bc) {
    const bcc = children(bc.value, tlv(bc.value, 0, bc.value.length));
    isCA = bcc.length > 0 && bcc[0].tag === 0x01 && bcc[0].content()[0] === 0xff;
  }
  let keyUsage = null;
  const ku = ext(OID_KEY_USAGE);
  if (ku) {
    const b = tlv(ku.value, 0, ku.value.length).content();
    keyUsage = { digitalSignature: !!(b[1] & 0x80), keyCertSign: !!(b[1] & 0x04), cRLSign: !!(b[1] & 0x02) };
  }
  let eku = null;
  const ek = ext(OID_EKU);
  if (ek) eku = children(ek.value, tlv(ek.value, 0, ek.value.length)).map((n) => oidToString(n.content()));
  const unknownCritical = extensions.filter((e) => e.critical && !KNOWN_CERT_CRITICAL.has(e.oid)).map((e) => e.oid);
  return {
    der, tbs: tbsN.bytes(), version, serial: hex(serial), innerAlg, sigAlg,
    signature: sigBits.subarray(1), sigUnused: sigBits[0],
    issuer, subject, notBefore: parseTime(validity[0]), notAfter: parseTime(validity[1]),
    spki, isCA, keyUsage, eku, unknownCritical,
    selfIssued: bytesEqual(issuer, subject),
    subjectText: nameText(der, subject),
  };
}

function nameText(buf, nameBytes) {
  try {
    const n = tlv(nameBytes, 0, nameBytes.length);
    const parts = [];
    const short = { '2.5.4.3': 'CN', '2.5.4.10': 'O', '2.5.4.6': 'C', '2.5.4.11': 'OU' };
    for (const rdn of children(nameBytes, n)) {
      for (const atv of children(nameBytes, rdn)) {
        const [o, v] = children(nameBytes, atv);
        const k = oidToString(o.content());
        parts.push(`/${short[k] || k}=${new TextDecoder().decode(v.content())}`);
      }
    }
    return parts.join('');
  } catch (e) {
    return '?';
  }
}

/** Parses a DER X.509 CRL. */
export function parseCrl(der) {
  const top = tlv(der, 0, der.length);
  if (top.end !== der.length) fail('malformed', 'trailing bytes after CRL');
  const [tbsN, algN, sigN] = children(der, expectTag(top, 0x30, 'CertificateList'));
  const t = children(der, expectTag(tbsN, 0x30, 'tbsCertList'));
  let i = 0;
  let version = 1;
  if (t[i].tag === 0x02) version = Number(intNumber(t[i++], 'version')) + 1;
  const innerAlg = parseAlg(der, t[i++]);
  const issuer = expectTag(t[i++], 0x30, 'issuer').bytes();
  const thisUpdate = parseTime(t[i++]);
  let nextUpdate = null;
  if (t[i] && (t[i].tag === 0x17 || t[i].tag === 0x18)) nextUpdate = parseTime(t[i++]);
  const entries = [];
  if (t[i] && t[i].tag === 0x30) {
    for (const r of children(der, t[i++])) {
      const rc = children(der, r);
      const serial = intContent(expectTag(rc[0], 0x02, 'serial').content(), 'serial');
      const when = parseTime(rc[1]);
      let reason = 0;
      let bad = null;
      if (rc[2]) {
        for (const e of parseExtensions(der, rc[2])) {
          if (e.oid === OID_REASON) reason = tlv(e.value, 0, e.value.length).content()[0];
          else if (e.oid === OID_CERT_ISSUER) bad = 'indirect CRL entry (certificateIssuer)';
          else if (e.critical && e.oid !== OID_INVALIDITY_DATE) bad = `critical entry extension ${e.oid}`;
        }
      }
      if (serial[0] & 0x80) bad = 'negative serial';
      if (serial.length > 21 || (serial.length === 21 && serial[0] !== 0)) bad = 'serial over 20 octets';
      if (reason === 7 || reason === 8) bad = `reason code ${reason}`;
      entries.push({ serial: normSerial(hex(serial)), when, reason, bad });
    }
  }
  let extensions = [];
  if (t[i] && t[i].tag === 0xa0) extensions = parseExtensions(der, children(der, t[i++])[0]);
  const sigAlg = parseAlg(der, algN);
  const sigBits = expectTag(sigN, 0x03, 'signature').content();
  return { der, tbs: tbsN.bytes(), version, innerAlg, sigAlg, signature: sigBits.subarray(1), sigUnused: sigBits[0],
    issuer, thisUpdate, nextUpdate, entries, extensions };
}

const normSerial = (h) => h.replace(/^(00)+(?=.)/, '');

/** Splits PEM text into { type, der } blocks. */
export function pemBlocks(text) {
  const out = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  let m;
  while ((m = re.exec(text)) !== null) out.push({ type: m[1], der: base64ToBytes(m[2].replace(/[^A-Za-z0-9+/=]/g, '')) });
  return out;
}

export async function keyIdOf(spkiDer) {
  const d = new Uint8Array(await subtle().digest('SHA-256', spkiDer));
  return hex(d.subarray(0, 8));
}

/* ------------------------------------------------------------------ */
/* Trust (FORMAT.md §5)                                                 */
/* ------------------------------------------------------------------ */

/**
 * Loads a trust bundle (PEM text) against pinned root public keys (an
 * array of base64 DER SubjectPublicKeyInfo). Roots are the bundle's
 * self-signed CA certificates whose key is pinned: the bundle itself is
 * not trusted, so it may come from any mirror. Returns a trust object for
 * verifyLabel(). CRLs that do not verify are left out and reported in
 * trust.problems (libjcstar refuses such a bundle).
 */
export async function loadTrust(pemText, pinnedSpkiB64) {
  const pinned = new Set((pinnedSpkiB64 || []).map((s) => s.replace(/\s+/g, '')));
  const problems = [];
  const certs = []; const crls = [];
  const blocks = pemBlocks(pemText);
  for (const [n, b] of blocks.entries()) {
    if (b.type === 'CERTIFICATE') {
      try { certs.push(parseCert(b.der)); } catch (e) { problems.push(`block ${n + 1}: certificate unreadable: ${e.message}`); }
    } else if (b.type === 'X509 CRL') {
      try { crls.push(Object.assign(parseCrl(b.der), { block: n + 1 })); } catch (e) { problems.push(`block ${n + 1}: CRL unreadable: ${e.message}`); }
    } else if (/PRIVATE KEY/.test(b.type)) {
      fail('malformed', `trust bundle: block ${n + 1} is a private key; a trust bundle must not hold one`);
    } else {
      problems.push(`block ${n + 1}: '${b.type}' ignored`);
    }
  }
  const sigOk = async (issuerCert, obj) => {
    if (obj.sigUnused !== 0 || obj.innerAlg !== obj.sigAlg) return false;
    try { return await verifySig(issuerCert.spki, obj.sigAlg, obj.signature, obj.tbs); } catch (e) { return false; }
  };

  const roots = [];
  for (const c of certs) {
    if (!c.isCA || !c.selfIssued) continue;
    if (!pinned.has(bytesToBase64(c.spki.der))) { problems.push(`root ${c.subjectText} is not pinned: ignored`); continue; }
    if (!(await sigOk(c, c))) { problems.push(`root ${c.subjectText}: self-signature does not verify`); continue; }
    if (c.unknownCritical.length || (c.keyUsage && !c.keyUsage.keyCertSign)) { problems.push(`root ${c.subjectText}: unusable`); continue; }
    roots.push({ cert: c, labelRevoked: new Map(), signerRevoked: new Map(), crlThis: null });
  }
  const signers = [];
  for (const c of certs) {
    if (c.isCA) continue;
    const s = { cert: c, keyId: await keyIdOf(c.spki.der), subject: c.subjectText, root: null,
      chainErr: 'untrusted', chainMsg: `signer (${c.subjectText}) does not chain to a pinned root`, revoked: null };
    for (const r of roots) {
      if (bytesEqual(c.issuer, r.cert.subject) && await sigOk(r.cert, c)) { s.root = r; break; }
    }
    if (s.root) {
      if (c.version !== 3 || c.unknownCritical.length) {
        s.chainMsg = `signer ${s.keyId} (${s.subject}) certificate has an unsupported critical extension`;
      } else if (!c.eku || !c.eku.includes(OID_LABEL_EKU)) {
        s.chainErr = 'not-label-signer';
        s.chainMsg = `signer ${s.keyId} (${s.subject}) is not authorised to sign labels: its certificate lacks the label-signing extended key usage ${OID_LABEL_EKU}`;
      } else if (c.keyUsage && !c.keyUsage.digitalSignature) {
        s.chainErr = 'not-label-signer';
        s.chainMsg = `signer ${s.keyId} (${s.subject}) certificate does not allow digitalSignature`;
      } else {
        s.chainErr = null;
        s.chainMsg = '';
        s.winNb = Math.max(c.notBefore, s.root.cert.notBefore);
        s.winNa = Math.min(c.notAfter, s.root.cert.notAfter);
      }
    }
    signers.push(s);
  }
  // CRLs (§5.3)
  const formOk = (crl) => {
    if (crl.version !== 2) return 'is not an X.509 v2 CRL';
    if (crl.sigAlg !== 'ecdsa-with-SHA256' && crl.sigAlg !== 'Ed25519') return 'has an algorithm that is not allowed';
    if (crl.nextUpdate === null || crl.nextUpdate <= crl.thisUpdate) return 'has no later nextUpdate';
    if (crl.extensions.filter((e) => e.oid === OID_CRL_NUMBER).length !== 1) return 'has no cRLNumber';
    if (crl.extensions.some((e) => e.oid === OID_DELTA_CRL || e.oid === OID_IDP || (e.critical && e.oid !== OID_CRL_NUMBER))) return 'has a delta, partition or unknown critical extension';
    const bad = crl.entries.find((e) => e.bad);
    if (bad) return `has a bad entry: ${bad.bad}`;
    return null;
  };
  const addTo = (map, e) => {
    const old = map.get(e.serial);
    if (!old || e.when < old.when) map.set(e.serial, { when: e.when, reason: e.reason });
  };
  const signerRevocations = [];
  for (const crl of crls) {
    const why = formOk(crl);
    if (why) { problems.push(`the X509 CRL in block ${crl.block} ${why}: ignored`); continue; }
    let used = false;
    for (const r of roots) {
      if (bytesEqual(crl.issuer, r.cert.subject) && (!r.cert.keyUsage || r.cert.keyUsage.cRLSign) && await sigOk(r.cert, crl)) {
        for (const e of crl.entries) signerRevocations.push({ root: r, ...e });
        used = true;
        break;
      }
    }
    if (used) continue;
    for (const s of signers) {
      if (s.chainErr || !bytesEqual(crl.issuer, s.cert.subject)) continue;
      if (s.cert.keyUsage && !s.cert.keyUsage.cRLSign) continue;
      if (await sigOk(s.cert, crl)) {
        for (const e of crl.entries) addTo(s.root.labelRevoked, e);
        if (!s.root.crlThis || crl.thisUpdate > s.root.crlThis) s.root.crlThis = crl.thisUpdate;
        used = true;
        break;
      }
    }
    if (!used) problems.push(`the X509 CRL in block ${crl.block} is not signed by a pinned root or one of its label signers: ignored`);
  }
  // signers revoked by their root's signer CRL; key-compromise spreads to
  // every certificate of the same key
  const compromised = new Set();
  for (const s of signers) {
    if (!s.root) continue;
    const hit = signerRevocations.find((r) => r.root === s.root && r.serial === normSerial(s.cert.serial));
    if (hit) {
      s.revoked = { when: hit.when, reason: hit.reason, key: false };
      if (hit.reason === 1) compromised.add(bytesToBase64(s.cert.spki.der));
    }
  }
  for (const s of signers) {
    if (!s.revoked && compromised.has(bytesToBase64(s.cert.spki.der))) {
      const other = signers.find((o) => o.revoked && o.revoked.reason === 1 && bytesEqual(o.cert.spki.der, s.cert.spki.der));
      s.revoked = { when: other.revoked.when, reason: 1, key: true };
    }
  }
  // how old the trust data is: the newest thisUpdate of a CRL used
  let crlThisUpdate = null;
  for (const r of roots) if (r.crlThis && (!crlThisUpdate || r.crlThis > crlThisUpdate)) crlThisUpdate = r.crlThis;
  return { roots, signers, problems, crlThisUpdate };
}

/** The base64 SPKI of every self-signed CA certificate of a bundle (tests, tools). */
export function rootSpkisOfBundle(pemText) {
  return pemBlocks(pemText).filter((b) => b.type === 'CERTIFICATE').map((b) => parseCert(b.der))
    .filter((c) => c.isCA && c.selfIssued).map((c) => bytesToBase64(c.spki.der));
}

export const isoTime = (t) => new Date(t * 1000).toISOString().replace(/\.000Z$/, 'Z');
export const isoDate = (t) => isoTime(t).slice(0, 10);
const reasonText = (r) => REASONS[r] || `reason code ${r}`;

const RANK = { 'bad-signature': 1, untrusted: 2, 'not-label-signer': 3, 'signer-expired': 4, revoked: 5 };

function checkSigner(s, at) {
  if (s.chainErr) return { verdict: s.chainErr, reason: s.chainMsg };
  if (s.revoked) {
    return { verdict: 'revoked', reason: `signer ${s.keyId} (${s.subject}) was revoked on ${isoDate(s.revoked.when)}: ${reasonText(s.revoked.reason)}${s.revoked.key ? ' (another certificate of its key was revoked)' : ''}` };
  }
  if (at >= s.winNb && at <= s.winNa) return null;
  const late = at > s.winNa;
  return { verdict: 'signer-expired', reason: `a certificate of signer ${s.keyId} (${s.subject}) ${late ? 'expired on' : 'is not valid until'} ${isoTime(late ? s.winNa : s.winNb)}` };
}

/**
 * Verifies a parsed label (parseLabel) against a trust object (loadTrust)
 * at time `at` (seconds since the epoch; default now), in the order of
 * FORMAT.md §5.2. Returns { verdict, reason, signer }.
 */
export async function verifyLabel(label, trust, at = Math.floor(Date.now() / 1000)) {
  let good = null; let late = null; let lateMsg = null;
  let best = null; let tried = 0;
  for (const s of trust.signers) {
    if (s.keyId !== label.issuerKeyId) continue;
    tried++;
    const ok = await verifySig(s.cert.spki, label.signatureAlgorithm, label.signature, label.tbs);
    let res;
    if (!ok) {
      res = { verdict: 'bad-signature', reason: `signature does not verify with signer key ${s.keyId} (${s.subject}): the label was altered or forged` };
    } else {
      res = checkSigner(s, at);
      if (res === null) { good = s; break; }
      if (res.verdict === 'signer-expired' && late === null) { late = s; lateMsg = res.reason; continue; }
    }
    if (!best || RANK[res.verdict] > RANK[best.verdict]) best = res;
  }
  if (!good && best && best.verdict === 'revoked') return { ...best, signer: null };
  if (!good && late) good = late; else lateMsg = null;
  if (!good) {
    if (tried === 0) {
      return { verdict: 'unknown-issuer', reason: `no signer in the trust bundle has key id ${label.issuerKeyId} (the bundle has ${trust.signers.length} signer${trust.signers.length === 1 ? '' : 's'})`, signer: null };
    }
    return { ...best, signer: null };
  }
  const hit = good.root.labelRevoked.get(normSerial(label.serial));
  if (hit) return { verdict: 'revoked', reason: `label ${label.serial} was revoked on ${isoDate(hit.when)}: ${reasonText(hit.reason)}`, signer: null };
  const crit = label.extensions.find((e) => e.critical);
  if (crit) return { verdict: 'unknown-critical-extension', reason: `label has a critical extension ${crit.oid} that this verifier does not understand`, signer: null };
  if (at < label.notBefore) return { verdict: 'not-yet-valid', reason: `label is not valid until ${isoTime(label.notBefore)}`, signer: null };
  if (at > label.notAfter) return { verdict: 'expired', reason: `label expired on ${isoTime(label.notAfter)}`, signer: null };
  if (lateMsg) return { verdict: 'signer-expired', reason: lateMsg, signer: null };
  if (label.notBefore < good.cert.notBefore || label.notAfter > good.cert.notAfter) {
    return { verdict: 'outside-signer-validity', reason: `label validity is not within its signer's (${isoTime(good.cert.notBefore)} to ${isoTime(good.cert.notAfter)})`, signer: null };
  }
  return { verdict: 'valid', reason: null, signer: good.subject };
}

/**
 * The whole check: payload text (or raw DER bytes) -> verdict, with the
 * scheme profiles of schemes (schemes.json; default: built in).
 * Returns { verdict, reason, label (fields, when decoded), signer }.
 */
export async function verifyPayload(input, trust, at, schemes = BUILTIN_SCHEMES) {
  let label = null;
  try {
    const der = typeof input === 'string' ? payloadDecode(input).der : input;
    label = parseLabel(der, schemes);
  } catch (e) {
    if (e instanceof JcsError) return { verdict: e.verdict, reason: e.message, label: null, signer: null };
    throw e;
  }
  try {
    const r = await verifyLabel(label, trust, at);
    return { ...r, label };
  } catch (e) {
    if (e instanceof JcsError) return { verdict: e.verdict, reason: e.message, label, signer: null };
    throw e;
  }
}

/** The page's verdict category for a verdict token. */
export function category(verdict) {
  switch (verdict) {
    case 'valid': return 'genuine';
    case 'expired': case 'signer-expired': return 'expired';
    case 'not-yet-valid': return 'not-yet-valid';
    case 'revoked': return 'revoked';
    case 'unknown-issuer': case 'untrusted': return 'unknown-issuer';
    case 'truncated': case 'damaged-payload': case 'not-a-payload': case 'too-large':
    case 'malformed': case 'not-der': return 'damaged';
    case 'unsupported': return 'unsupported';
    default: return 'not-genuine'; // bad-signature, not-label-signer, outside-signer-validity, unknown-critical-extension
  }
}

/* ------------------------------------------------------------------ */
/* Schemes, levels and requirements (schemes.json; docs/SCHEMES.md)     */
/* ------------------------------------------------------------------ */

/** The profile of scheme (a name) in schemes (schemes.json), or null. */
export function profileOf(schemes, scheme) {
  const list = schemes && Array.isArray(schemes.schemes) ? schemes.schemes : [];
  return list.find((p) => p.name === scheme) || null;
}

const displayOf = (schemes, scheme) => {
  const p = profileOf(schemes, scheme);
  return p ? p.display : scheme;
};

/**
 * A level as text, as jcs_level_text(): "JC-STAR ★3", "CLS level 2",
 * "PSTI compliant", "Cyber Trust Mark", "CRA important I" (levels[].text
 * of schemes.json; default: the built-in profiles).
 */
export function levelText(schemes, scheme, level) {
  const p = profileOf(schemes || BUILTIN_SCHEMES, scheme);
  if (!p) return `${scheme} level ${level}`;
  const l = (p.levels || []).find((x) => x.level === level);
  return l ? l.text : `${p.display} level ${level}`;
}

/** "JC-STAR ★3 or higher", or "PSTI compliant" for a scheme's top level (req_text). */
export function requirementText(schemes, scheme, min) {
  const p = profileOf(schemes, scheme);
  return `${levelText(schemes, scheme, min)}${p && min < p.max_level ? ' or higher' : ''}`;
}

/** A "from" date of schemes.json ("YYYY-MM-DD" or null) in seconds; 0 = always. */
const fromSeconds = (from) => (from ? Date.parse(`${from}T00:00:00Z`) / 1000 : 0);

/** decide_one() of libjcstar/recognition.c: { met, line, why }. */
function decideOne(schemes, label, at, r, min) {
  const have = levelText(schemes, label.scheme, label.level);
  const need = requirementText(schemes, r.scheme, min);
  if (label.scheme === r.scheme) {
    if (label.level >= min) return { met: 'direct', line: null, why: `${have} meets ${need} directly` };
    return { met: 'not-met', line: null, why: `label is ${have}; ${need} is required` };
  }
  const rec = Array.isArray(schemes.recognition) ? schemes.recognition : [];
  for (const l of rec) {
    if (l.kind !== 'accept' || l.scheme !== r.scheme || l.level < min || l.label_scheme !== label.scheme
      || label.level < l.label_min || label.level > l.label_max || at < fromSeconds(l.from)) continue;
    return { met: 'accepted', line: l, why: `${have} meets ${need} through an acceptance, ${l.file}:${l.line}: ${l.basis}` };
  }
  const hints = [];
  for (const l of rec) {
    if (l.scheme !== r.scheme || l.label_scheme !== label.scheme) continue;
    if (l.kind === 'simplified') {
      hints.push(`${l.file}:${l.line} allows only a simplified application on ${displayOf(schemes, label.scheme)} labels, not acceptance`);
    } else if (at < fromSeconds(l.from)) {
      hints.push(`the acceptance on ${l.file}:${l.line} applies only from ${l.from}`);
    } else {
      hints.push(`the acceptance on ${l.file}:${l.line} covers levels ${l.label_min}-${l.label_max} of ${displayOf(schemes, label.scheme)} for ${displayOf(schemes, r.scheme)} level ${l.level}`);
    }
  }
  let why = `label is ${have}; ${need} is required`;
  // libjcstar names the recognition file itself; schemes.json has its name
  // only on its lines, so an empty file goes unnamed here
  if (hints.length) why += ` (${hints.join('; ')})`;
  else why += ` (no acceptance line${rec.length ? ` in ${rec[0].file}` : ''} covers ${displayOf(schemes, label.scheme)} labels)`;
  return { met: 'not-met', line: null, why };
}

/**
 * Decides whether a label (fields as parseLabel() returns them: scheme,
 * level, notBefore, notAfter) meets any one of requirements at time
 * atSeconds (default now), exactly as jcs_decide() of libjcstar does:
 * directly (the same scheme, level >= min_level) or through an "accept"
 * line of schemesJson.recognition in force at that time (from), whose
 * label scheme and levels cover the label; a "simplified" line never
 * does, and a label that is not current meets nothing. requirements:
 * [{ scheme, min_level (0 = the scheme's lowest), source, line }] (source
 * and line: the policy row, see requirementsFor()). schemesJson must be a
 * loaded schemes.json (the built-in fallback has no recognition: refused).
 * Returns the "decision" object of `jcstar verify --json`:
 * { met, how: "direct"|"accepted"|"not-met", requirement: "SCHEME:LEVEL",
 *   policy?: "FILE:LINE", recognition?: "FILE:LINE", basis?, reason }.
 * Throws an Error for a requirement the profiles do not define.
 */
export function decide(labelFields, atSeconds, requirements, schemesJson) {
  const schemes = schemesJson;
  if (!labelFields || !Array.isArray(requirements) || requirements.length === 0 || !schemes || schemes.builtin) {
    throw new Error('decide needs a label, a requirement and schemes.json');
  }
  const at = atSeconds || Math.floor(Date.now() / 1000);
  const mins = requirements.map((r) => {
    const p = profileOf(schemes, r.scheme);
    if (!p) throw new Error(`no profile for the required scheme ${r.scheme}`);
    const m = r.min_level || 0;
    if (m !== 0 && (m < p.min_level || m > p.max_level)) {
      throw new Error(`level ${m} is not defined for ${p.display} (${p.min_level} to ${p.max_level})`);
    }
    return m !== 0 ? m : p.min_level;
  });
  const result = (how, i, line, reason) => {
    const r = requirements[i];
    const d = { met: how !== 'not-met', how, requirement: `${r.scheme}:${mins[i]}` };
    if (r.source) d.policy = `${r.source}:${r.line}`;
    if (line) { d.recognition = `${line.file}:${line.line}`; d.basis = line.basis; }
    d.reason = reason;
    return d;
  };
  if (at < labelFields.notBefore || at > labelFields.notAfter) {
    return result('not-met', 0, null, `the label is not current (valid ${isoTime(labelFields.notBefore)} to ${isoTime(labelFields.notAfter)}): it meets no requirement`);
  }
  let reason = '';
  for (const [i, r] of requirements.entries()) {
    const one = decideOne(schemes, labelFields, at, r, mins[i]);
    const src = r.source ? ` (policy ${r.source}:${r.line})` : '';
    if (one.met !== 'not-met') return result(one.met, i, one.line, `${one.why}${src}`);
    reason += i === 0 ? `${one.why}${src}` : `; and ${one.why}`;
  }
  return result('not-met', 0, null, reason);
}

/**
 * The requirement asked for in a query string (the page's address, or the
 * API's): as=SCHEME, as=SCHEME:N or as=SCHEME&min_level=N (min_level alone:
 * JC-STAR), or importance=NAME (a row of schemes.json's policy), with the
 * rules of `jcstar serve`. Returns null when none is asked; else
 * { key (canonical query, e.g. "as=jcstar:3"), requirements, importance? }
 * or { key: null, error } for a requirement that cannot be used. Other
 * query parameters are ignored here (the page's address may carry any).
 */
export function requirementsFor(search, schemesJson) {
  const q = new URLSearchParams(search || '');
  const as = q.get('as'); const minLevel = q.get('min_level'); const importance = q.get('importance');
  if (as === null && minLevel === null && importance === null) return null;
  const bad = (error) => ({ key: null, requirements: [], error });
  if (!schemesJson || schemesJson.builtin) return bad('no-schemes');
  for (const k of ['as', 'min_level', 'importance']) {
    if (q.getAll(k).length > 1) return bad(`query parameter '${k}' is given twice`);
    if (q.get(k) === '') return bad(`query parameter '${k}' needs a value`);
  }
  if (importance !== null) {
    if (as !== null || minLevel !== null) return bad('importance takes its requirement from the policy: do not add as or min_level');
    const row = (schemesJson.policy || []).find((x) => x.importance === importance);
    if (!row) return bad(`the policy defines no importance '${importance}' (known: ${(schemesJson.policy || []).map((x) => x.importance).join(' ')})`);
    return { key: `importance=${importance}`, importance,
      requirements: row.requires.map((r) => ({ scheme: r.scheme, min_level: r.min_level, source: row.file, line: row.line })) };
  }
  let name = as !== null ? as : 'jcstar';
  let level = minLevel; let what = 'min_level';
  const colon = name.indexOf(':');
  if (colon >= 0) {
    if (minLevel !== null) return bad('give the level once: as=SCHEME:N or as=SCHEME&min_level=N');
    level = name.slice(colon + 1); name = name.slice(0, colon); what = 'the level in as';
  }
  if (Object.values(SCHEMES).includes(name.toLowerCase())) name = name.toLowerCase(); // as jcs_scheme_from_name
  if (!Object.values(SCHEMES).includes(name)) return bad(`unknown scheme '${name}' for as (jcstar, cls, psti, cyber-trust-mark, cra)`);
  const p = profileOf(schemesJson, name);
  if (!p) return bad(`no profile for scheme ${name} is loaded`);
  let min = 0;
  if (level !== null) {
    min = /^\s*[+-]?[0-9]{1,9}$/.test(level) ? Number(level.trim()) : NaN; // as parse_int (strtol)
    if (!(min >= p.min_level && min <= p.max_level)) {
      return bad(p.min_level === p.max_level ? `${what} for ${p.display} must be ${p.min_level}, not '${level}'`
        : `${what} for ${p.display} must be a level from ${p.min_level} to ${p.max_level}, not '${level}'`);
    }
  }
  const eff = min || p.min_level;
  return { key: eff > p.min_level ? `as=${name}:${eff}` : `as=${name}`, requirements: [{ scheme: name, min_level: min }] };
}
