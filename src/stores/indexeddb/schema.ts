/** Bump with a new step in {@link upgrade}; old databases are upgraded in place. */
export const SCHEMA_VERSION = 2;

/** Creates or upgrades the object stores and indexes from `oldVersion` to {@link SCHEMA_VERSION}. */
export function upgrade(db: IDBDatabase, oldVersion: number): void {
  if (oldVersion < 1) {
    const tasks = db.createObjectStore('tasks', { keyPath: 'seq', autoIncrement: true });
    tasks.createIndex('byId', 'id', { unique: true });
    tasks.createIndex('byKey', ['orderingKey', 'seq']);
    // Only heads carry `headDue`, so this index holds one entry per ordering key.
    tasks.createIndex('due', ['headDue', 'seq']);
    db.createObjectStore('dead', { keyPath: 'id' });
    db.createObjectStore('cache', { keyPath: 'key' }).createIndex('expiresAt', 'expiresAt');
    db.createObjectStore('quarantine', { autoIncrement: true });
  }
  if (oldVersion < 2) {
    db.createObjectStore('meta');
  }
}
