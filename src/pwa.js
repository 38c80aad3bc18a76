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
