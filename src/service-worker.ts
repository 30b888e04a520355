import type { QnoxSync } from './qnox-sync.js';

/** Options of {@link handleBackgroundSync} and {@link syncWhenBackOnline}. */
export interface BackgroundSyncOptions {
  /**
   * The Background Sync tag.
   * @default 'qnox-sync'
   * @example 'orders-outbox'
   */
  tag?: string;
}

interface SyncEventLike extends Event {
  readonly tag: string;
  waitUntil(promise: Promise<unknown>): void;
}

interface WorkerScopeLike {
  addEventListener(type: string, listener: (event: SyncEventLike) => void): void;
}

/**
 * Page side: whenever a write is queued while offline (or the client goes
 * offline with writes queued), register a Background Sync so the service
 * worker delivers them even if no page is open when the network returns.
 * Returns the unsubscribe. Does nothing where `SyncManager` is missing.
 *
 * @example
 * navigator.serviceWorker.register('/sw.js');
 * syncWhenBackOnline(sync);
 */
export function syncWhenBackOnline(
  sync: QnoxSync,
  options: BackgroundSyncOptions = {},
): () => void {
  const tag = options.tag ?? 'qnox-sync';
  return sync.events.subscribe((event) => {
    const offline = !sync.onSyncStatus.value.online;
    if ((event.type === 'queued' && offline) || event.type === 'offline') void registerSync(tag);
  });
}

async function registerSync(tag: string): Promise<boolean> {
  const container = (globalThis as { navigator?: { serviceWorker?: ServiceWorkerContainer } })
    .navigator?.serviceWorker;
  if (!container) return false;
  const registration = (await container.ready) as ServiceWorkerRegistration & {
    sync?: { register(tag: string): Promise<void> };
  };
  if (!registration.sync) return false;
  await registration.sync.register(tag).catch(() => undefined);
  return true;
}

/**
 * Worker side: drain the outbox on the `sync` and `periodicsync` events of
 * `tag`, inside `waitUntil`. Where Background Sync is missing (Safari,
 * Firefox) the worker still drains when it activates and whenever a page posts
 * `{ type: 'qnox-sync' }`; pages drain on their own on `online` and on load.
 *
 * @example
 * // sw.ts
 * const client = QnoxSync.create({ baseUrl: `${location.origin}/api` });
 * handleBackgroundSync(() => client);
 */
export function handleBackgroundSync(
  getClient: () => Promise<QnoxSync>,
  options: BackgroundSyncOptions = {},
): void {
  const tag = options.tag ?? 'qnox-sync';
  const scope = globalThis as unknown as WorkerScopeLike;
  const drain = async () => {
    const client = await getClient();
    const report = await client.sync();
    // Let the browser retry the sync event later if writes are still waiting.
    if ((await client.pendingCount()) > 0 && client.onSyncStatus.value.phase === 'offline') {
      throw new Error('still offline');
    }
    return report;
  };
  const onSync = (event: SyncEventLike) => {
    if (event.tag === tag) event.waitUntil(drain());
  };
  scope.addEventListener('sync', onSync);
  scope.addEventListener('periodicsync', onSync);
  scope.addEventListener('activate', (event) => event.waitUntil(drain().catch(() => undefined)));
  scope.addEventListener('message', (event) => {
    const data = (event as unknown as MessageEvent).data as { type?: string } | undefined;
    if (data?.type === 'qnox-sync') event.waitUntil(drain().catch(() => undefined));
  });
}
