import { StorageError } from '../../model/errors.js';
import { REMOVALS } from './removal-log.js';

/**
 * Bump with a new step in {@link upgrade} (`if (oldVersion < 2) …`); old
 * databases are upgraded in place. A database of a newer version than this
 * build knows fails to open with a `StorageError`.
 */
export const SCHEMA_VERSION = 1;

/** Creates the object stores and indexes, or upgrades them from `oldVersion` to {@link SCHEMA_VERSION}. */
export function upgrade(db: IDBDatabase, _tx: IDBTransaction, oldVersion: number): void {
  if (oldVersion < 1) {
    const tasks = db.createObjectStore('tasks', { keyPath: 'seq', autoIncrement: true });
    tasks.createIndex('byId', 'id', { unique: true });
    tasks.createIndex('byKey', ['orderingKey', 'seq']);
    db.createObjectStore('dead', { keyPath: 'id' });
    db.createObjectStore('cache', { keyPath: 'key' }).createIndex('expiresAt', 'expiresAt');
    db.createObjectStore('quarantine', { autoIncrement: true });
    db.createObjectStore('meta');
    // Each ordering key's schedule (see schedule.ts) and the removal rows the queued count is read from (removal-log.ts).
    db.createObjectStore('heads', { keyPath: 'orderingKey' }).createIndex('due', ['due', 'at']);
    db.createObjectStore(REMOVALS, { autoIncrement: true });
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
