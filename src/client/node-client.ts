import type { DefaultStoreLoader } from '../stores/default-store.js';
import type { QnoxSyncOptions } from './options.js';
import { QnoxSync as BaseQnoxSync } from './qnox-sync.js';

/** The default of the Node entry: SQLite at `./.qnox/sync.db`, loaded on demand. */
export const nodeDefaultStore: DefaultStoreLoader = async () => {
  const { SqliteStore } = await import('../stores/sqlite/sqlite-store.js');
  return new SqliteStore();
};

/**
 * `QnoxSync` as the Node entry exports it: the same client, whose default
 * store is SQLite (`./.qnox/sync.db`), loaded on demand. Being its own export
 * rather than an import side effect, a bundler that honours
 * `"sideEffects": false` keeps it.
 */
export class QnoxSync extends BaseQnoxSync {
  static override create(options: QnoxSyncOptions): Promise<BaseQnoxSync> {
    return QnoxSync.open(options, nodeDefaultStore);
  }
}
