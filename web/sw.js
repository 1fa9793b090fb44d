// sw.js - keeps the verifier working offline after the first visit.
// Scope: the directory of the page (the base URL), so it also answers the
// label addresses BASE-URL/DIGITS with the cached index.html.
// v2: the page decides requirements from schemes.json (a new page needs
// the new scripts, not v1's cached ones)
const CACHE = 'jcstar-verifier-v2';
const PAGE = ['./', 'index.html', 'app.js', 'verifier.js', 'i18n.js', 'style.css'];
// a site exported by an older jcstar has no schemes.json: the page then
// works without requirement decisions, and must still install
const OPTIONAL = ['vendor/jsQR.js', 'schemes.json'];
// trust and scheme data: fresh when online, the cached copy when not
const DATA = ['config.json', 'trust.pem', 'schemes.json'];

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll([...PAGE.filter((p) => p !== './'), ...DATA.filter((p) => !OPTIONAL.includes(p))]);
    await Promise.all(OPTIONAL.map((p) => cache.add(p).catch(() => {})));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const k of await caches.keys()) if (k !== CACHE) await caches.delete(k);
    await self.clients.claim();
  })());
});

const scopePath = () => new URL(self.registration.scope).pathname;

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin || !url.pathname.startsWith(scopePath())) return;
  const rel = url.pathname.slice(scopePath().length);
  // a label address (or the base URL): the page itself
  if (req.mode === 'navigate' || rel === '' || /^[0-9]+$/.test(rel)) {
    event.respondWith(networkFirst(req, 'index.html'));
    return;
  }
  if (DATA.includes(rel)) {
    event.respondWith(networkFirst(req, rel));
    return;
  }
  event.respondWith(cacheFirst(req, rel));
});

async function networkFirst(req, key) {
  const cache = await caches.open(CACHE);
  try {
    const res = await fetch(req, { cache: 'no-cache' });
    if (res.ok) {
      await cache.put(key, res.clone());
      return res;
    }
    const hit = await cache.match(key);
    return hit || res;
  } catch (e) {
    const hit = await cache.match(key);
    if (hit) return hit;
    throw e;
  }
}

async function cacheFirst(req, key) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(key);
  if (hit) {
    // refresh in the background for the next visit
    fetch(req).then((res) => { if (res.ok) cache.put(key, res); }).catch(() => {});
    return hit;
  }
  const res = await fetch(req);
  if (res.ok) await cache.put(key, res.clone());
  return res;
}
