// When a screen is painted, for the benchmarks that time one.

/**
 * Runs in the page (as an init script, or through `page.evaluate`): notes `performance.now()` in
 * `window.__shownAt` (or in `window[key]`, given `[selector, key]`) in the first animation frame after
 * `selector` is in the page, the frame that paints it, and says so on the console (`actUntilShown` listens).
 */
export function markWhenShown(what) {
  const [selector, key] = typeof what === 'string' ? [what, '__shownAt'] : what;
  window[key] = undefined;
  new MutationObserver((_, observer) => {
    if (!document.querySelector(selector)) return;
    observer.disconnect();
    requestAnimationFrame(() => {
      window[key] = performance.now();
      console.debug(`guihai:shown ${key}`);
    });
  }).observe(document, { childList: true, subtree: true });
}

/**
 * Does `act`, then waits until `markWhenShown` has noted `key` in `page`, listening from before the act so the
 * note cannot come first. It listens for the page's console message, so nothing of the benchmark runs in the
 * page while it is timed: Playwright's `waitForFunction` evaluates its own script in the page and polls it
 * (every frame, or every few ms), and a trace of the township screen's load showed that script taking 48 ms of
 * the page's main thread with the CPU slowed down 4x, and the load about a tenth quicker without it.
 */
export async function actUntilShown(page, act, { key = '__shownAt', timeout = 60_000 } = {}) {
  const shown = page.waitForEvent('console', {
    predicate: (message) => message.text() === `guihai:shown ${key}`,
    timeout,
  });
  try {
    await act();
  } catch (error) {
    // The act's own failure is the one to report, not the wait's timeout after it.
    shown.catch(() => {});
    throw error;
  }
  await shown;
}
