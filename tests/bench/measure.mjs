// Small measuring helpers the benchmark scripts share.

/** Bytes the page's origin stores, as the browser counts them against its quota. */
export function usage(page) {
  return page.evaluate(async () => (await navigator.storage.estimate()).usage);
}

/** The middle value (the upper one of two). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
