// When a screen is painted, for the benchmarks that time one.

/**
 * Runs in the page (as an init script, or through `page.evaluate`): notes `performance.now()` in
 * `window.__shownAt` (or in `window[key]`, given `[selector, key]`) in the first animation frame after
 * `selector` is in the page, the frame that paints it.
 */
export function markWhenShown(what) {
  const [selector, key] = typeof what === 'string' ? [what, '__shownAt'] : what;
  window[key] = undefined;
  new MutationObserver((_, observer) => {
    if (!document.querySelector(selector)) return;
    observer.disconnect();
    requestAnimationFrame(() => {
      window[key] = performance.now();
    });
  }).observe(document, { childList: true, subtree: true });
}
