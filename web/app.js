// app.js - the verifier page: reads the label from its own address,
// verifies it in the browser (verifier.js), shows the verdict and, when
// the address asks for a requirement (?as=psti, ?as=jcstar:3,
// ?importance=high), whether the label meets it. All decisions are in
// verifier.js; this file only talks to the DOM.
import { loadTrust, verifyPayload, category, isoDate, JcsError, BUILTIN_SCHEMES, levelText,
  profileOf, decide, requirementsFor } from './verifier.js';
import { pickLang, t } from './i18n.js';

const $ = (id) => document.getElementById(id);
const ICONS = { genuine: '✓', 'not-genuine': '✗', revoked: '⊘', 'unknown-issuer': '?', expired: '⌛',
  'not-yet-valid': '⌛', damaged: '!', unsupported: '!', error: '!', checking: '…', none: '⌕' };
const DECISION_ICONS = { 'met-direct': '✓', 'met-accepted': '⇄', 'not-met': '✗', unknown: '?' };

const state = {
  lang: (() => { try { return localStorage.getItem('jcstar-lang'); } catch (e) { return null; } })()
    || pickLang(navigator.languages || [navigator.language]),
  result: null, // { verdict, reason, label, signer }
  view: 'checking',
  trust: null,
  config: null,
  trustError: null,
  schemes: null, // schemes.json, or null: then no requirement decisions
};

/** The scheme profiles for level texts: schemes.json, else the built-in ones. */
const profiles = () => state.schemes || BUILTIN_SCHEMES;

const here = (name) => new URL(name, import.meta.url);

async function loadConfigAndTrust() {
  const cres = await fetch(here('config.json'), { cache: 'no-cache' });
  if (!cres.ok) throw new Error(`config.json: HTTP ${cres.status}`);
  const config = await cres.json();
  if (!Array.isArray(config.roots) || config.roots.length === 0) throw new Error('config.json pins no root key');
  const tres = await fetch(here(config.trust || 'trust.pem'), { cache: 'no-cache' });
  if (!tres.ok) throw new Error(`${config.trust}: HTTP ${tres.status}`);
  const trust = await loadTrust(await tres.text(), config.roots);
  if (trust.roots.length === 0) throw new Error('the trust file holds no pinned root');
  return { config, trust, schemes: await loadSchemes() };
}

/** schemes.json, or null when the site has none (an older export) or it is unusable. */
async function loadSchemes() {
  try {
    const res = await fetch(here('schemes.json'), { cache: 'no-cache' });
    if (!res.ok) return null;
    const j = await res.json();
    return j && Array.isArray(j.schemes) && Array.isArray(j.recognition) && Array.isArray(j.policy) ? j : null;
  } catch (e) {
    return null;
  }
}

/** The label payload of this page's own address, or null. */
function payloadFromLocation() {
  const seg = location.pathname.split('/').pop();
  if (!seg || !/^[0-9]/.test(seg)) return null;
  return `HTTPS://${location.host}${location.pathname}`;
}

async function check(payload) {
  state.view = 'checking';
  render();
  if (payload === null) { state.view = 'none'; state.result = null; render(); return; }
  if (!state.trust) {
    try {
      const { config, trust, schemes } = await loadConfigAndTrust();
      state.config = config; state.trust = trust; state.schemes = schemes;
    } catch (e) {
      state.trustError = e.message; state.view = 'error'; render(); return;
    }
  }
  try {
    state.result = await verifyPayload(payload, state.trust, undefined, profiles());
    state.view = category(state.result.verdict);
  } catch (e) {
    state.result = { verdict: e instanceof JcsError ? e.verdict : 'error', reason: e.message, label: null };
    state.view = e instanceof JcsError && e.verdict === 'unsupported' ? 'unsupported' : 'error';
  }
  render();
}

function fmtDate(sec) {
  if (sec === null || sec === undefined) return t(state.lang, 'notStated');
  const d = new Date(sec * 1000);
  try {
    return new Intl.DateTimeFormat(state.lang === 'ja' ? 'ja-JP' : 'en-GB', { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' }).format(d);
  } catch (e) { return isoDate(sec); }
}

function render() {
  const L = state.lang;
  document.documentElement.lang = L;
  document.title = t(L, 'title');
  $('site-title').textContent = t(L, 'title');
  $('lang').textContent = t(L, 'switchTo');
  $('lang').lang = L === 'ja' ? 'en' : 'ja';
  const v = state.view;
  const box = $('verdict');
  box.className = `verdict ${v}`;
  box.querySelector('.icon').textContent = ICONS[v] || '!';
  const label = state.result && state.result.label;
  let title; let todo;
  if (v === 'checking') { title = t(L, 'checking'); todo = ''; }
  else if (v === 'none') { title = t(L, 'noLabel'); todo = t(L, 'noLabelDo'); }
  else if (v === 'genuine') { title = t(L, 'genuine', levelText(profiles(), label.scheme, label.level)); todo = t(L, 'genuineDo'); }
  else { title = t(L, v); todo = t(L, `${v}Do`); }
  $('verdict-title').textContent = title;
  $('verdict-do').textContent = todo;

  const dl = $('fields');
  dl.replaceChildren();
  if (label && v === 'genuine') {
    const rows = [['vendor', label.vendor], ['product', label.product], ['model', label.model],
      ['regId', label.regId]];
    if (label.unitSerial) rows.push(['unitSerial', label.unitSerial]);
    rows.push(['validUntil', fmtDate(label.notAfter)], ['supportUntil', fmtDate(label.supportUntil)],
      ['assessment', label.lab ? t(L, 'thirdParty', label.lab) : t(L, 'selfDeclared')]);
    if (state.config && state.config.name) rows.push(['issuer', state.config.name]);
    for (const [k, val] of rows) {
      const dt = document.createElement('dt'); dt.textContent = t(L, k);
      const dd = document.createElement('dd'); dd.textContent = val;
      dl.append(dt, dd);
    }
  }
  dl.hidden = !(label && v === 'genuine');

  const decision = renderDecision(L, v === 'genuine' ? label : null);
  renderNeed(L);

  const tech = [];
  if (state.result) tech.push(`verdict: ${state.result.verdict}`, state.result.reason || '');
  if (decision) {
    tech.push(`decision: ${decision.how} (${decision.requirement})${decision.recognition ? `, ${decision.recognition}` : ''}${decision.policy ? `, policy ${decision.policy}` : ''}`,
      decision.reason);
  }
  if (state.result && state.result.signer) tech.push(`signer: ${state.result.signer}`);
  if (label) tech.push(`serial: ${label.serial}`, `issuer key id: ${label.issuerKeyId}`, `algorithm: ${label.signatureAlgorithm}`);
  if (state.trustError) tech.push(state.trustError);
  if (state.trust && state.trust.problems.length) tech.push(...state.trust.problems);
  $('tech-summary').textContent = t(L, 'details');
  $('tech-text').textContent = tech.filter(Boolean).join('\n');
  $('tech').hidden = tech.length === 0;

  $('scan').textContent = scanning ? t(L, 'stopScan') : t(L, 'scan');
  renderTrustAge();
  $('offline-note').textContent = 'serviceWorker' in navigator ? t(L, 'offline') : '';
}

/* ---- the requirement (?as=, ?importance=) and its decision ---- */

/** "JC-STAR ★3 or higher", "PSTI compliant" in the page's language. */
function requirementLabel(L, scheme, min) {
  const p = profileOf(profiles(), scheme);
  const m = min || (p ? p.min_level : 1);
  const text = levelText(profiles(), scheme, m);
  return p && m < p.max_level ? t(L, 'orHigher', text) : text;
}

/** What the address asks for, as words (the select's option text). */
function askedLabel(L, asked) {
  if (asked.importance) {
    return t(L, 'importance', asked.importance,
      asked.requirements.map((r) => requirementLabel(L, r.scheme, r.min_level)).join(t(L, 'or')));
  }
  const r = asked.requirements[0];
  return requirementLabel(L, r.scheme, r.min_level);
}

/** "recognition.conf:23": the file's own name is enough for people (details have the path). */
const shortWhere = (where) => where.replace(/^.*\//, '');

/**
 * Shows whether the genuine label meets the requirement of the address;
 * hides the box when none is asked or the label is not genuine (the
 * verdict says enough). Returns the decision (for the details), or null.
 */
function renderDecision(L, label) {
  const box = $('decision');
  const asked = requirementsFor(location.search, state.schemes);
  box.hidden = true;
  if (!asked || !label) return null;
  let cls; let title; let todo = ''; let why = ''; let d = null;
  if (asked.error === 'no-schemes') {
    cls = 'unknown'; title = t(L, 'noSchemes'); todo = t(L, 'noSchemesDo');
  } else if (asked.error) {
    cls = 'unknown'; title = t(L, 'badRequirement'); todo = asked.error;
  } else {
    try {
      d = decide(label, undefined, asked.requirements, state.schemes);
    } catch (e) {
      cls = 'unknown'; title = t(L, 'badRequirement'); todo = e.message;
    }
  }
  if (d) {
    const need = askedLabel(L, asked);
    const have = levelText(profiles(), label.scheme, label.level);
    // the library's own sentence: shown when not met (it says what is
    // missing); when met, the words above say it, and details have it
    if (d.how === 'not-met') why = d.reason;
    if (d.how === 'direct') {
      cls = 'met-direct'; title = t(L, 'metDirect', need); todo = t(L, 'metDirectDo', have);
    } else if (d.how === 'accepted') {
      cls = 'met-accepted'; title = t(L, 'metAccepted', need);
      todo = t(L, 'metAcceptedDo', have, d.basis, shortWhere(d.recognition));
    } else {
      cls = 'not-met'; title = t(L, 'notMet', need); todo = t(L, 'notMetDo', have);
    }
    if (d.policy) todo += ` ${t(L, 'policyFrom', shortWhere(d.policy))}`;
  }
  box.className = `decision ${cls}`;
  box.querySelector('.icon').textContent = DECISION_ICONS[cls];
  $('decision-title').textContent = title;
  $('decision-do').textContent = todo;
  $('decision-why').textContent = why;
  $('decision-why').hidden = !why;
  box.hidden = false;
  return d;
}

/** The "What do you need?" select: every level of every scheme and the policy's importances. */
function renderNeed(L) {
  const box = $('need-box');
  const sel = $('need');
  box.hidden = !state.schemes || state.view === 'checking';
  if (box.hidden) return;
  $('need-label').textContent = t(L, 'need');
  const opt = (value, text) => { const o = document.createElement('option'); o.value = value; o.textContent = text; return o; };
  const items = [opt('', t(L, 'needNothing'))];
  for (const p of state.schemes.schemes) {
    const g = document.createElement('optgroup');
    g.label = p.display;
    for (let lv = p.min_level; lv <= p.max_level; lv++) {
      g.append(opt(lv === p.min_level ? `as=${p.name}` : `as=${p.name}:${lv}`, requirementLabel(L, p.name, lv)));
    }
    items.push(g);
  }
  if (state.schemes.policy.length) {
    const g = document.createElement('optgroup');
    g.label = t(L, 'needPolicy');
    for (const row of state.schemes.policy) {
      g.append(opt(`importance=${row.importance}`, askedLabel(L, { importance: row.importance,
        requirements: row.requires })));
    }
    items.push(g);
  }
  sel.replaceChildren(...items);
  const asked = requirementsFor(location.search, state.schemes);
  sel.value = asked && asked.key ? asked.key : '';
}

/** Puts the chosen requirement in the address (shareable), keeping other parameters. */
function chooseNeed(value) {
  const params = new URLSearchParams(location.search);
  for (const k of ['as', 'min_level', 'importance']) params.delete(k);
  const q = [value, params.toString()].filter(Boolean).join('&');
  history.replaceState(null, '', `${location.pathname}${q ? `?${q}` : ''}${location.hash}`);
  render();
}

function renderTrustAge() {
  const el = $('trust-age');
  if (!state.config) { el.textContent = ''; return; }
  // the newest of: the export time, the newest CRL used
  let when = state.config.exported ? Date.parse(state.config.exported) / 1000 : null;
  if (state.trust && state.trust.crlThisUpdate && (!when || state.trust.crlThisUpdate > when)) when = state.trust.crlThisUpdate;
  if (!when) { el.textContent = ''; return; }
  const days = Math.max(0, Math.floor((Date.now() / 1000 - when) / 86400));
  el.textContent = t(state.lang, 'trustAge', isoDate(when), days) + (days > 30 ? ` ${t(state.lang, 'trustOld')}` : '');
}

/* ---- scanning ---- */

let scanning = false;
let stream = null;

async function getDetector() {
  if ('BarcodeDetector' in window) {
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      if (formats.includes('qr_code')) {
        const d = new window.BarcodeDetector({ formats: ['qr_code'] });
        return async (video) => (await d.detect(video)).map((c) => c.rawValue);
      }
    } catch (e) { /* fall through */ }
  }
  if (!window.jsQR) {
    await new Promise((resolve) => {
      const s = document.createElement('script');
      s.src = here('vendor/jsQR.js').href;
      s.onload = resolve; s.onerror = resolve;
      document.head.append(s);
    });
  }
  if (!window.jsQR) return null;
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  return async (video) => {
    if (!video.videoWidth) return [];
    canvas.width = video.videoWidth; canvas.height = video.videoHeight;
    ctx.drawImage(video, 0, 0);
    const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
    const code = window.jsQR(img.data, img.width, img.height, { inversionAttempts: 'dontInvert' });
    return code ? [code.data] : [];
  };
}

function stopScan() {
  scanning = false;
  if (stream) for (const tr of stream.getTracks()) tr.stop();
  stream = null;
  $('video').hidden = true;
  render();
}

async function startScan() {
  const msg = $('scan-msg');
  const detect = navigator.mediaDevices && navigator.mediaDevices.getUserMedia ? await getDetector() : null;
  if (!detect) { msg.textContent = t(state.lang, 'noCamera'); return; }
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
  } catch (e) { msg.textContent = t(state.lang, 'noCamera'); return; }
  const video = $('video');
  video.srcObject = stream; video.hidden = false;
  await video.play();
  scanning = true;
  msg.textContent = t(state.lang, 'scanHint');
  render();
  while (scanning) {
    let found = [];
    try { found = await detect(video); } catch (e) { found = []; }
    for (const text of found) {
      if (/^https:\/\//i.test(text) || text.startsWith('JCS1:')) {
        stopScan();
        msg.textContent = '';
        const u = /^https:\/\//i.test(text) ? new URL(text) : null;
        // the requirement asked for stays with the next label
        if (u && u.origin === location.origin) history.pushState(null, '', u.pathname + location.search);
        await check(text);
        return;
      }
      msg.textContent = t(state.lang, 'notOurCode');
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/* ---- start ---- */

$('lang').addEventListener('click', () => {
  state.lang = state.lang === 'ja' ? 'en' : 'ja';
  try { localStorage.setItem('jcstar-lang', state.lang); } catch (e) { /* private mode */ }
  render();
});
$('scan').addEventListener('click', () => (scanning ? stopScan() : startScan()));
$('need').addEventListener('change', (e) => chooseNeed(e.target.value));
window.addEventListener('popstate', () => check(payloadFromLocation()));

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register(here('sw.js'), { scope: here('./').pathname }).catch(() => {});
}
check(payloadFromLocation());
