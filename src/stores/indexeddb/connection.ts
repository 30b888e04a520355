import { StorageError } from '../../model/errors.js';
import { committed, isQuotaError, request } from './idb-helpers.js';
import type { IndexedDbStoreOptions } from './indexeddb-options.js';
import { openDatabase } from './schema.js';

/**
 * One database handle and the transactions run on it: opened lazily, reopened
 * after another context upgraded or deleted the database, every failure
 * wrapped as a {@link StorageError}.
 */
export class Connection {
  #db: Promise<IDBDatabase> | undefined;
  #range: typeof IDBKeyRange | undefined;
  /** The readonly transaction reads of each store share while it is active. */
  readonly #shared = new Map<string, { db: IDBDatabase; tx: IDBTransaction }>();

  constructor(
    private readonly name: string,
    private readonly options: IndexedDbStoreOptions,
    /** Called when a write of `names` ran out of quota, before the error is thrown. */
    private readonly onQuota: (names: string[]) => Promise<void>,
  ) {}

  open(): Promise<IDBDatabase> {
    const factory = this.options.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
    this.#db ??= openDatabase(factory, this.name, () => {
      this.#db = undefined;
    }).catch((error: unknown) => {
      this.#db = undefined;
      throw error;
    });
    return this.#db;
  }

  keys(): typeof IDBKeyRange {
    this.#range ??=
      this.options.IDBKeyRange ?? (globalThis as { IDBKeyRange?: typeof IDBKeyRange }).IDBKeyRange;
    if (!this.#range)
      throw new StorageError('IDBKeyRange is not available here; pass options.IDBKeyRange');
    return this.#range;
  }

  async read<R = never>(name: string, run: (store: IDBObjectStore) => IDBRequest): Promise<R> {
    const db = await this.open();
    try {
      const shared = this.#shared.get(name);
      let req: IDBRequest | undefined;
      if (shared?.db === db) {
        try {
          req = run(shared.tx.objectStore(name));
        } catch {
          // No longer active (its task ended): this read opens the next one.
        }
      }
      return (await request(req ?? run(this.#readTx(db, name).objectStore(name)))) as R;
    } catch (error) {
      throw wrap(error, `read ${name}`);
    }
  }

  /**
   * A readonly transaction that reads of `name` issued together (in one task:
   * a `Promise.all` of them) share, so they cost one transaction, not one each.
   */
  #readTx(db: IDBDatabase, name: string): IDBTransaction {
    const tx = db.transaction(name, 'readonly');
    this.#shared.set(name, { db, tx });
    const forget = () => {
      if (this.#shared.get(name)?.tx === tx) this.#shared.delete(name);
    };
    tx.addEventListener('complete', forget);
    tx.addEventListener('abort', forget);
    return tx;
  }

  /** A read over several stores, run by `run` on one readonly transaction. */
  async readAll<R>(names: string[], run: (tx: IDBTransaction) => Promise<R>): Promise<R> {
    const db = await this.open();
    try {
      return await run(db.transaction(names, 'readonly'));
    } catch (error) {
      throw wrap(error, `read ${names.join('+')}`);
    }
  }

  /**
   * Strict durability only where a promise acknowledges durability (enqueue, the salt,
   * a logout wipe). Losing any other write to a crash is safe: a removal or retry
   * bookkeeping lost means a replay under the same idempotency key.
   */
  async write<R>(
    names: string[],
    run: (tx: IDBTransaction) => Promise<R>,
    durability: IDBTransactionDurability = 'relaxed',
  ): Promise<R> {
    const db = await this.open();
    // A read issued after this write must see it: it may not join a transaction begun before.
    this.#shared.clear();
    const tx = db.transaction(names, 'readwrite', { durability });
    const done = committed(tx);
    try {
      const result = await run(tx);
      await done;
      return result;
    } catch (error) {
      done.catch(() => {});
      try {
        tx.abort();
      } catch {}
      if (isQuotaError(error)) await this.onQuota(names).catch(() => {});
      throw wrap(error, `write ${names.join('+')}`);
    }
  }

  async close(): Promise<void> {
    const db = this.#db;
    this.#db = undefined;
    (await db?.catch(() => undefined))?.close();
  }
}

function wrap(error: unknown, what: string): StorageError {
  if (error instanceof StorageError) return error;
  const quota = isQuotaError(error) ? ' (storage quota exceeded)' : '';
  return new StorageError(`IndexedDB could not ${what}${quota}`, { cause: error });
}
