import { StorageError } from '../../errors.js';
import { recordRemoval, TALLY } from './tally.js';

/** Bump with a new step in {@link upgrade}; old databases are upgraded in place. */
export const SCHEMA_VERSION = 4;

/** Creates or upgrades the object stores and indexes from `oldVersion` to {@link SCHEMA_VERSION}. */
export function upgrade(db: IDBDatabase, tx: IDBTransaction, oldVersion: number): void {
  if (oldVersion < 1) {
    const tasks = db.createObjectStore('tasks', { keyPath: 'seq', autoIncrement: true });
    tasks.createIndex('byId', 'id', { unique: true });
    tasks.createIndex('byKey', ['orderingKey', 'seq']);
    db.createObjectStore('dead', { keyPath: 'id' });
    db.createObjectStore('cache', { keyPath: 'key' }).createIndex('expiresAt', 'expiresAt');
    db.createObjectStore('quarantine', { autoIncrement: true });
  }
  if (oldVersion < 2) {
    db.createObjectStore('meta');
  }
  if (oldVersion < 3) {
    // v3: key schedules move from a `headDue` field on task rows to their own store.
    const heads = db.createObjectStore('heads', { keyPath: 'orderingKey' });
    heads.createIndex('due', ['due', 'at']);
    const tasks = tx.objectStore('tasks');
    if (tasks.indexNames.contains('due')) {
      const cursor = tasks.index('due').openCursor();
      cursor.onsuccess = () => {
        const row = cursor.result?.value as
          | { orderingKey: string; headDue: number; createdAt: number }
          | undefined;
        if (!row) return tasks.deleteIndex('due');
        heads.put({ orderingKey: row.orderingKey, due: row.headDue, at: row.createdAt });
        cursor.result?.continue();
      };
    }
  }
  if (oldVersion < 4) {
    // v4: the queued count is kept as removal rows (see tally.ts), seeded with
    // what left the queue before: a probe add reads the key generator.
    db.createObjectStore(TALLY, { autoIncrement: true });
    if (oldVersion > 0) {
      const tasks = tx.objectStore('tasks');
      const probe = tasks.add({ probe: true });
      const counted = tasks.count();
      counted.onsuccess = () => {
        const given = probe.result as number;
        tasks.delete(given);
        recordRemoval(tx, given - counted.result + 1, given);
      };
    }
  }
}

/**
 * Opens (creating or upgrading) the database. When another tab upgrades it or
 * the browser closes it, the handle steps aside and `onGone` lets the store
 * reopen on next use.
 */
export function openDatabase(
  factory: IDBFactory | undefined,
  name: string,
  onGone: () => void,
): Promise<IDBDatabase> {
  return new Promise<IDBDatabase>((resolve, reject) => {
    if (!factory)
      return reject(new StorageError('IndexedDB is not available here; pass options.indexedDB'));
    const req = factory.open(name, SCHEMA_VERSION);
    req.onupgradeneeded = (event) => upgrade(req.result, req.transaction!, event.oldVersion);
    req.onsuccess = () => {
      const db = req.result;
      db.onversionchange = () => {
        db.close();
        onGone();
      };
      db.onclose = onGone;
      resolve(db);
    };
    req.onerror = () =>
      reject(new StorageError(`Cannot open IndexedDB "${name}"`, { cause: req.error }));
  });
}
