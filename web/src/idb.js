// Minimal IndexedDB helpers: one database for signing keys, one for cached dossiers (wiped at sign-out).

const KEYS_DB = 'ecabinet-keys';
const DOCS_DB = 'ecabinet-docs';

function open(name) {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(name, 1);
    req.onupgradeneeded = () => req.result.createObjectStore('items');
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function run(name, mode, fn) {
  const db = await open(name);
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction('items', mode);
      const req = fn(tx.objectStore('items'));
      tx.oncomplete = () => resolve(req?.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

export const keyStore = {
  get: (id) => run(KEYS_DB, 'readonly', (s) => s.get(id)),
  put: (id, value) => run(KEYS_DB, 'readwrite', (s) => s.put(value, id)),
  delete: (id) => run(KEYS_DB, 'readwrite', (s) => s.delete(id)),
};

export const docCache = {
  get: (id) => run(DOCS_DB, 'readonly', (s) => s.get(id)),
  put: (id, value) => run(DOCS_DB, 'readwrite', (s) => s.put(value, id)),
  /** Delete the whole dossier cache (sign-out): nothing of a document stays in the browser. */
  wipe: () =>
    new Promise((resolve) => {
      const req = indexedDB.deleteDatabase(DOCS_DB);
      req.onsuccess = req.onerror = req.onblocked = () => resolve();
    }),
};
