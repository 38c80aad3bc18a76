// When a screen is painted, for the benchmarks that time one.

/**
 * Runs in the page (as an init script, or through `page.evaluate`): notes `performance.now()` in
 * `window.__shownAt` in the first animation frame after `selector` is in the page, the frame that paints it.
 */
export function markWhenShown(selector) {
  window.__shownAt = undefined;
  new MutationObserver((_, observer) => {
    if (!document.querySelector(selector)) return;
    observer.disconnect();
    requestAnimationFrame(() => {
      window.__shownAt = performance.now();
    });
  }).observe(document, { childList: true, subtree: true });
}
