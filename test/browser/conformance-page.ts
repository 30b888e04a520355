/** Runs the store conformance suite inside Chromium on its real IndexedDB. */

import { encryptedStore } from '../../src/encryption.js';
import { IndexedDbStore } from '../../src/indexeddb.js';
import { runStoreConformance } from '../../src/testing/index.js';

const tests: { name: string; body: () => Promise<void> }[] = [];
let prefix = '';
const runner = {
  describe: (name: string, body: () => void) => {
    prefix = name;
    body();
  },
  it: (name: string, body: () => Promise<void>) =>
    tests.push({ name: `${prefix} > ${name}`, body }),
};

let n = 0;
const dbName = () => `conformance-${n}`;
runStoreConformance(
  'IndexedDbStore (Chromium)',
  {
    create: () => new IndexedDbStore({ name: `conformance-${++n}` }),
    async reopen(store) {
      await store.close();
      const again = new IndexedDbStore({ name: dbName() });
      await again.init();
      return again;
    },
    async corrupt(_store, id) {
      const db = await new Promise<IDBDatabase>((resolve) => {
        const req = indexedDB.open(dbName());
        req.onsuccess = () => resolve(req.result);
      });
      const tx = db.transaction('tasks', 'readwrite');
      tx.objectStore('tasks').index('byId').openCursor(id).onsuccess = (e) => {
        const cursor = (e.target as IDBRequest<IDBCursorWithValue>).result;
        cursor.update({ ...cursor.value, v: 999 });
      };
      await new Promise((resolve) => {
        tx.oncomplete = resolve;
      });
      db.close();
    },
  },
  runner,
);
runStoreConformance(
  'encryptedStore(IndexedDbStore) (Chromium)',
  {
    create: () =>
      encryptedStore(new IndexedDbStore({ name: `enc-${++n}` }), {
        passphrase: 'pw',
        iterations: 1_000,
      }),
  },
  runner,
);

(window as unknown as { runConformance: () => Promise<unknown[]> }).runConformance = async () => {
  const results: { name: string; ok: boolean; error?: string }[] = [];
  for (const t of tests) {
    try {
      await t.body();
      results.push({ name: t.name, ok: true });
    } catch (error) {
      results.push({ name: t.name, ok: false, error: String(error) });
    }
  }
  return results;
};
document.title = 'ready';
