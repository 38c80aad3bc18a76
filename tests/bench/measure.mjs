// Small measuring helpers the benchmark scripts share.

/**
 * Bytes the page's origin stores, as the browser counts them against its quota: `all` of them, and those of its
 * IndexedDB databases (Chromium's breakdown), where the records are. The rest is the app's files in Cache Storage
 * and what the browser keeps beside them (V8 would add the compiled code of a hot WebAssembly module compiled from
 * its cached response, about 1.4 MB at a moment of its choosing; the app's loader compiles from a response of its
 * own, src/store/loader.js).
 */
export function usage(page) {
  return page.evaluate(async () => {
    const { usage, usageDetails } = await navigator.storage.estimate();
    // Without the breakdown the records would read as 0 bytes, a goal met by nothing measured.
    if (!usageDetails) throw new Error('this browser gives no breakdown of its usage (usageDetails)');
    // Chromium leaves out a part that holds nothing.
    return { all: usage, indexedDB: usageDetails.indexedDB ?? 0 };
  });
}

/** Bytes per item from `before` to `after` (each a `usage`): of the records, and of the whole origin. */
export function bytesPer(before, after, items) {
  return { records: (after.indexedDB - before.indexedDB) / items, origin: (after.all - before.all) / items };
}

/** The middle value (the upper one of two). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
