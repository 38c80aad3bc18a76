// What the in-browser tests do to the phone's IndexedDB behind the app's back: empty it between tests, damage
// an entry by hand, read one as stored, count what a store holds, and take away what only some browsers have.

function database() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open('guihai');
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function finished(transaction) {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error);
  });
}

export async function clearAll() {
  const db = await database();
  const transaction = db.transaction(db.objectStoreNames, 'readwrite');
  for (const name of db.objectStoreNames) transaction.objectStore(name).clear();
  await finished(transaction);
  db.close();
}

export async function putRaw(store, key, value) {
  const db = await database();
  const transaction = db.transaction([store], 'readwrite');
  transaction.objectStore(store).put(value, key);
  await finished(transaction);
  db.close();
}

export async function count(store) {
  const db = await database();
  const transaction = db.transaction([store]);
  const request = transaction.objectStore(store).count();
  await finished(transaction);
  db.close();
  return request.result;
}

export async function getRaw(store, key) {
  const db = await database();
  const transaction = db.transaction([store]);
  const request = transaction.objectStore(store).get(key);
  await finished(transaction);
  db.close();
  return request.result;
}

// Hides `getAllRecords` (`hidden` true) as the browsers that lack it (all but Chromium) do, or shows it again.
const getAllRecords = new Map();
export function hideGetAllRecords(hidden) {
  for (const type of [IDBObjectStore, IDBIndex]) {
    if (hidden) {
      getAllRecords.set(type, type.prototype.getAllRecords);
      delete type.prototype.getAllRecords;
    } else if (getAllRecords.has(type)) {
      type.prototype.getAllRecords = getAllRecords.get(type);
    }
  }
}
