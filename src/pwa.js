// Service worker registration and the "new version available" handshake. Kept in JS because it is a few
// promise callbacks that would need many web-sys bindings; the UI around it is Rust.

const UPDATE_READY = 'guihai-update-ready';

export function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  const announce = () => window.dispatchEvent(new Event(UPDATE_READY));
  navigator.serviceWorker.register('/sw.js').then((registration) => {
    // A worker already waiting means a new version was downloaded on an earlier visit.
    if (registration.waiting && navigator.serviceWorker.controller) announce();
    registration.addEventListener('updatefound', () => {
      const worker = registration.installing;
      if (!worker) return;
      worker.addEventListener('statechange', () => {
        if (worker.state === 'installed' && navigator.serviceWorker.controller) announce();
      });
    });
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') registration.update().catch(() => {});
    });
  }).catch(() => {});
  // Ask the browser not to evict the member's records under storage pressure.
  if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
}

// Asks the service worker to keep the staff app on this phone (a staff member's), for use with no network.
export function keepStaffApp() {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.ready.then((registration) => registration.active?.postMessage({ type: 'CACHE_STAFF' }));
}

export function controlled() {
  return Boolean(navigator.serviceWorker && navigator.serviceWorker.controller);
}

export function applyUpdate() {
  navigator.serviceWorker.getRegistration().then((registration) => {
    if (!registration || !registration.waiting) {
      location.reload();
      return;
    }
    navigator.serviceWorker.addEventListener('controllerchange', () => location.reload(), { once: true });
    registration.waiting.postMessage({ type: 'SKIP_WAITING' });
  });
}

// Only one tab syncs at a time (Web Locks); the others see its results through the shared storage.
// Resolves to what `run` resolves to; when the lock is held elsewhere, to false at once, or with `wait`, after
// waiting for it.
export function withSyncLock(run, wait) {
  if (!navigator.locks) return run();
  return navigator.locks.request('guihai-sync', { ifAvailable: !wait }, (lock) => (lock ? run() : false));
}

// How much this origin stores and may store, in bytes; [0, 0] where the browser cannot say.
export async function storageEstimate() {
  if (!navigator.storage || !navigator.storage.estimate) return [0, 0];
  const { usage = 0, quota = 0 } = await navigator.storage.estimate();
  return [usage, quota];
}

// Gzips a request body with the browser's own CompressionStream (no compressor in the wasm); null where the
// browser has none, and the body then goes as it is.
export async function gzip(text) {
  if (typeof CompressionStream === 'undefined') return null;
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

// The browser's offer to install the app, kept until the app makes it (on the home screen, after signing in)
// rather than shown whenever the browser likes.
let installOffer = null;
const INSTALL_OFFER = 'guihai-install-offer';
window.addEventListener('beforeinstallprompt', (event) => {
  event.preventDefault();
  installOffer = event;
  window.dispatchEvent(new Event(INSTALL_OFFER));
});
window.addEventListener('appinstalled', () => {
  installOffer = null;
});

export function canOfferInstall() {
  return installOffer !== null;
}

// Shows the browser's install dialog; resolves to whether the member accepted.
export async function offerInstall() {
  const offer = installOffer;
  if (!offer) return false;
  installOffer = null;
  await offer.prompt();
  const { outcome } = await offer.userChoice;
  return outcome === 'accepted';
}

// Running as the installed app (from the home screen) already.
export function runsInstalled() {
  return matchMedia('(display-mode: standalone)').matches || navigator.standalone === true;
}
