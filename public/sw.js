// Guihai's service worker: keeps the app shell on the phone so the app opens without a network.
// This is a template: `cargo xtask` replaces the `self.__…__` tokens below with the lists of built files, the
// staff screens' paths (core's `screens`) and a hash of the files' contents, so every new build is a new
// worker version. Data never goes through this cache: the app's own sync engine owns it.
//
// Two apps: the member app (PRECACHE), kept on every phone; and the staff app (STAFF, under /staff/), kept only
// on a staff member's phone, once the app asks (`CACHE_STAFF`) or one of its files is fetched, and from then
// on with every new version. The entry app (/entry/) is not kept: a page this worker controls starts the member
// app (src/store/loader.js).

const VERSION = self.__VERSION__;
const PRECACHE = self.__PRECACHE__;
const STAFF = self.__STAFF__;
const STAFF_PATHS = self.__STAFF_PATHS__;
const STAFF_PAGE = '/staff/index.html';
const CACHE_PREFIX = 'guihai-shell-';
const CACHE = CACHE_PREFIX + VERSION;
const PRECACHED = new Set([...PRECACHE, ...STAFF]);
// On a poor connection a page that never loads is worse than yesterday's shell.
const NAVIGATION_TIMEOUT_MS = 3000;

self.addEventListener('install', (event) => {
  // No skipWaiting() here: a new version waits until the user accepts the app's
  // "new version" prompt, so a page never runs against files of another version.
  // `cache: 'reload'` skips the HTTP cache, so the shell is what the server has now.
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await cache.addAll(PRECACHE.map(fresh));
      // A staff member's phone keeps the staff app across versions: at an event with no signal, the door code
      // and the attendance are in it.
      if (await keptStaffBefore()) await cache.addAll(STAFF.map(fresh));
    })(),
  );
});

function fresh(url) {
  return new Request(url, { cache: 'reload' });
}

async function keptStaffBefore() {
  const names = (await caches.keys()).filter((name) => name.startsWith(CACHE_PREFIX) && name !== CACHE);
  for (const name of names) {
    if (await (await caches.open(name)).match(STAFF_PAGE)) return true;
  }
  return false;
}

self.addEventListener('message', (event) => {
  // Sent by the app once the user accepts the update.
  if (event.data && event.data.type === 'SKIP_WAITING') {
    self.skipWaiting();
  }
  // Sent by the app to a staff member's phone: the staff app, kept for use with no network.
  // Home asks on every visit: once kept (`addAll` keeps all or none), the files are not fetched again.
  if (event.data && event.data.type === 'CACHE_STAFF') {
    event.waitUntil(
      caches.open(CACHE).then(async (cache) => (await cache.match(STAFF_PAGE)) || cache.addAll(STAFF)),
    );
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
// which routes every app URL itself: the staff app's for a staff screen, when this phone keeps it. Fresh pages
// are not cached: index.html belongs to the files of its own version, and a new version arrives through
// install, not here.
async function navigate(request) {
  try {
    const response = await withTimeout(fetch(request), NAVIGATION_TIMEOUT_MS);
    // A proxy's 502 while the server is down should not replace a working shell.
    if (response.status < 500) return response;
    return (await cachedShell(request)) || response;
  } catch {
    return (await cachedShell(request)) || Response.error();
  }
}

async function cachedShell(request) {
  const cache = await caches.open(CACHE);
  const path = new URL(request.url).pathname;
  const staff = STAFF_PATHS.some((prefix) => path.startsWith(prefix));
  return (staff && (await cache.match(STAFF_PAGE))) || cache.match('/index.html');
}

// Files of this version (its hash covers all of them), so the cached copy is right. A staff app file not kept
// yet is kept as it is fetched.
async function fromCacheFirst(request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok && STAFF.includes(new URL(request.url).pathname)) await cache.put(request, response.clone());
  return response;
}

function withTimeout(promise, ms) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
