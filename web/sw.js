// The portal's service worker: once the page has loaded, it keeps working
// offline. Same-origin GETs go to the network first and fall back to the
// copy kept from the last time they were fetched; the page, its scripts and
// the module file are kept when the worker installs.

const CACHE = 'entitle-portal-v2';
const SHELL = [
  './', './index.html', './style.css', './app.js', './dom.js', './engine.js', './sources.js',
  './views/license.js', './views/quotas.js', './views/plot.js', './views/plans.js',
  './views/support.js', './views/exception.js', './views/bill.js',
  '../dist/entitle.js', '../dist/entitle.wasm', '../dist/entitle.wasm.sha256',
];

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // One missing file (a module not built yet) must not stop the others.
    await Promise.all(SHELL.map((url) => cache.add(new Request(url, { cache: 'no-cache' })).catch(() => {})));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name !== CACHE) await caches.delete(name);
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const response = await fetch(request);
      if (response.ok) await cache.put(request, response.clone());
      return response;
    } catch (error) {
      const kept = await cache.match(request, { ignoreSearch: true });
      if (kept) return kept;
      throw error;
    }
  })());
});
