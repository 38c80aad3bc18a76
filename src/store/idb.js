// The few IndexedDB calls that are promise callbacks: a request's result, a transaction's end, and a
// transaction with a durability option (not yet in web-sys' stable bindings). Everything else is Rust.

// Resolves with the request's result, or rejects with its error. A request's success event runs the
// promise's reactions before the transaction goes inactive, so the next request can be made in the same one.
export function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

// Resolves once the transaction has committed (with `durability: "strict"`, once it is on disk), or rejects
// with why it did not: a QuotaExceededError when the phone is full.
export function committed(transaction) {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error ?? new DOMException('aborted', 'AbortError'));
  });
}

// Every primary key and value of `source` (an object store or an index) in `range`, at most `count`, as
// `[keys, values]`: one scan with `getAllRecords` where the browser has it (Chromium 141 and later), a
// quarter quicker than asking for the keys and the values apart, which is what other browsers do.
export function records(source, range, count) {
  if (source.getAllRecords) {
    return done(source.getAllRecords({ query: range, count })).then((found) => [
      found.map((record) => record.primaryKey),
      found.map((record) => record.value),
    ]);
  }
  return Promise.all([done(source.getAllKeys(range, count)), done(source.getAll(range, count))]);
}

export function transaction(db, stores, mode, durability) {
  return db.transaction(stores, mode, { durability });
}

// Opens the database, calling `upgrade(db, oldVersion, transaction)` when it must be created or upgraded.
// Rejects with a VersionError when a newer build of the app has upgraded it past `version`.
export function open(name, version, upgrade) {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name, version);
    request.onupgradeneeded = (event) => upgrade(request.result, event.oldVersion, request.transaction);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
    // Another tab holds an older version open; it closes itself on `versionchange`, then this goes on.
    request.onblocked = () => {};
  });
}
