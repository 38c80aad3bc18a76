// Guihai's service worker: keeps the app shell on the phone so the app opens without a network.
// This is a template: `cargo xtask` replaces the two `self.__…__` tokens below with the list of
// built files and a hash of their contents, so every new build is a new worker version.
// Data never goes through this cache: the app's own sync engine owns it.

const VERSION = self.__VERSION__;
const PRECACHE = self.__PRECACHE__;
const CACHE_PREFIX = 'guihai-shell-';
const CACHE = CACHE_PREFIX + VERSION;
const PRECACHED = new Set(PRECACHE);
// On a poor connection a page that never loads is worse than yesterday's shell.
const NAVIGATION_TIMEOUT_MS = 3000;

self.addEventListener('install', (event) => {
  // No skipWaiting() here: a new version waits until the user accepts the app's
  // "new version" prompt, so a page never runs against files of another version.
  // `cache: 'reload'` skips the HTTP cache, so the shell is what the server has now.
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(PRECACHE.map((url) => new Request(url, { cache: 'reload' })))),
  );
});

self.addEventListener('message', (event) => {
  // Sent by the app once the user accepts the update.
  if (event.data && event.data.type === 'SKIP_WAITING') {
    self.skipWaiting();
  }
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(
        names
          .filter((name) => name.startsWith(CACHE_PREFIX) && name !== CACHE)
          .map((name) => caches.delete(name)),
      );
      // Control pages opened before this worker existed, so the first visit already works offline.
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  // The API must always be live: stale answers would confuse the sync engine.
  if (url.pathname.startsWith('/api/')) return;

  if (request.mode === 'navigate') {
    event.respondWith(navigate(request));
  } else if (PRECACHED.has(url.pathname)) {
    event.respondWith(fromCacheFirst(request));
  }
});

// Pages: the network when it answers in time (new deploys show up), else the cached shell,
// which routes every app URL itself. Fresh pages are not cached: index.html belongs to the
// files of its own version, and a new version arrives through install, not here.
async function navigate(request) {
  try {
    const response = await withTimeout(fetch(request), NAVIGATION_TIMEOUT_MS);
    // A proxy's 502 while the server is down should not replace a working shell.
    if (response.status < 500) return response;
    return (await cachedShell()) || response;
  } catch {
    return (await cachedShell()) || Response.error();
  }
}

function cachedShell() {
  return caches.open(CACHE).then((cache) => cache.match('/index.html'));
}

// Precached files belong to this version (its hash covers all of them), so the cached copy is right.
async function fromCacheFirst(request) {
  const cache = await caches.open(CACHE);
  return (await cache.match(request)) || fetch(request);
}

function withTimeout(promise, ms) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
