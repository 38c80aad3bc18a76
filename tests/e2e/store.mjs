// Reading the phone's store (IndexedDB `guihai`) from a test, the way DevTools would: how many entries each
// object store holds, and the small records the app keeps as JSON. Tests read it; they never write it, except
// to damage an entry on purpose.

/**
 * Runs `read(db)` in the page against the app's database and returns what it resolves to. Sent as one expression
 * (which the DevTools protocol runs as DevTools would): the app's Content-Security-Policy forbids `new Function`
 * in the page.
 */
function withDatabase(page, read, arg) {
  return page.evaluate(`(async () => {
    const db = await new Promise((resolve, reject) => {
      const request = indexedDB.open('guihai');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const ask = (request) =>
      new Promise((resolve, reject) => {
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
    try {
      return await (${read.toString()})(db, ask, ${JSON.stringify(arg) ?? 'undefined'});
    } finally {
      db.close();
    }
  })()`);
}

/** How many entries each object store holds: `{ kv, records, activities, checkins, outbox, refused, damaged }`. */
export function storeCounts(page) {
  return withDatabase(page, async (db, ask) => {
    const counts = {};
    for (const name of db.objectStoreNames) {
      counts[name] = await ask(db.transaction([name]).objectStore(name).count());
    }
    return counts;
  });
}

/**
 * Writes waiting in the outbox: its rows after those it keeps of check-ins the server already has, until a pull
 * brings them back (`synced_row` in the sync bookkeeping).
 */
export function outboxCount(page) {
  return withDatabase(page, async (db, ask) => {
    const transaction = db.transaction(['kv', 'outbox']);
    const meta = await ask(transaction.objectStore('kv').get('meta'));
    const synced = (typeof meta === 'string' ? JSON.parse(meta).synced_row : undefined) ?? 0;
    return ask(transaction.objectStore('outbox').count(IDBKeyRange.lowerBound(synced, true)));
  });
}

/** A JSON value of the `kv` store (`session`, `meta`, …), parsed; undefined when absent. */
export function kv(page, name) {
  return withDatabase(
    page,
    async (db, ask, name) => {
      const text = await ask(db.transaction(['kv']).objectStore('kv').get(name));
      return typeof text === 'string' ? JSON.parse(text) : text;
    },
    name,
  );
}

/**
 * What the phone holds of a member: every entry of its store, and the app's keys left in localStorage (the
 * language aside). Empty (`{ entries: 0, local: [] }`) after a wipe.
 */
export async function memberData(page) {
  const counts = await storeCounts(page);
  const entries = Object.values(counts).reduce((sum, n) => sum + n, 0);
  const local = await page.evaluate(() =>
    Object.keys(localStorage).filter((key) => key.startsWith('gh1:') && key !== 'gh1:locale'),
  );
  return { entries, local };
}

/** Replaces the value of outbox row `row` with something no build can read (a test of damaged entries). */
export function damageOutboxRow(page, row) {
  return withDatabase(
    page,
    async (db, ask, row) => {
      const transaction = db.transaction(['outbox'], 'readwrite');
      await ask(transaction.objectStore('outbox').put('damaged by hand', row));
    },
    row,
  );
}

/**
 * Makes the phone's session one the server no longer knows, as a session that ended (expired, or lost to a
 * server restored from a backup) is: the next sync hears 401 and keeps the member's records.
 */
export function endSession(page) {
  return withDatabase(page, async (db, ask) => {
    const transaction = db.transaction(['kv'], 'readwrite');
    const store = transaction.objectStore('kv');
    const session = JSON.parse(await ask(store.get('session')));
    await ask(store.put(JSON.stringify({ ...session, token: 'ended' }), 'session'));
  });
}
