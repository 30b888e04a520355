import type { QnoxSync } from './client/qnox-sync.js';

/** Options of {@link syncWhenBackOnline}. */
export interface SyncWhenBackOnlineOptions {
  /**
   * The Background Sync tag (the worker's {@link handleBackgroundSync} must use the same).
   * @default 'qnox-sync'
   * @example 'orders-outbox'
   */
  tag?: string;
  /**
   * Also register a Periodic Background Sync of `tag` with this minimum
   * interval, where the browser grants the `periodic-background-sync`
   * permission (Chromium, installed apps); `false` to never register one.
   * @default 43_200_000 (12 hours)
   * @example false
   */
  periodicMinIntervalMs?: number | false;
}

/** Options of {@link handleBackgroundSync}. */
export interface HandleBackgroundSyncOptions {
  /**
   * The Background Sync tag the pages register.
   * @default 'qnox-sync'
   * @example 'orders-outbox'
   */
  tag?: string;
  /**
   * Where the worker has no `SyncManager` (Safari, Firefox): drain on the
   * worker's `online` event and on this interval while the worker runs.
   * @default 60_000
   * @example 15_000
   */
  fallbackIntervalMs?: number;
}

interface SyncEventLike extends Event {
  readonly tag: string;
  waitUntil(promise: Promise<unknown>): void;
}

interface WorkerScopeLike {
  addEventListener(type: string, listener: (event: SyncEventLike) => void): void;
  SyncManager?: unknown;
}

type SyncRegistration = ServiceWorkerRegistration & {
  sync?: { register(tag: string): Promise<void> };
  periodicSync?: { register(tag: string, options: { minInterval: number }): Promise<void> };
};

/**
 * Page side: whenever a write is queued while offline (or the client goes
 * offline with writes queued), register a Background Sync so the service
 * worker delivers them even if no page is open when the network returns; also
 * drain whenever the page becomes visible again, and register a Periodic
 * Background Sync where the browser grants it. Returns the unsubscribe. The
 * sync registrations do nothing where the platform lacks them.
 *
 * @example
 * navigator.serviceWorker.register('/sw.js');
 * syncWhenBackOnline(sync);
 */
export function syncWhenBackOnline(
  sync: QnoxSync,
  options: SyncWhenBackOnlineOptions = {},
): () => void {
  const tag = options.tag ?? 'qnox-sync';
  const unsubscribe = sync.events.subscribe((event) => {
    const offline = !sync.onSyncStatus.value.online;
    if ((event.type === 'queued' && offline) || event.type === 'offline') void registerSync(tag);
  });
  const periodic = options.periodicMinIntervalMs ?? 12 * 60 * 60 * 1000;
  if (periodic !== false) void registerPeriodicSync(tag, periodic);
  const doc = (globalThis as { document?: Document }).document;
  const onVisible = () => {
    if (doc?.visibilityState === 'visible') void sync.sync().catch(() => undefined);
  };
  doc?.addEventListener('visibilitychange', onVisible);
  return () => {
    unsubscribe();
    doc?.removeEventListener('visibilitychange', onVisible);
  };
}

async function registration(): Promise<SyncRegistration | undefined> {
  const container = (globalThis as { navigator?: { serviceWorker?: ServiceWorkerContainer } })
    .navigator?.serviceWorker;
  return container ? ((await container.ready) as SyncRegistration) : undefined;
}

async function registerSync(tag: string): Promise<boolean> {
  const sync = (await registration())?.sync;
  if (!sync) return false;
  await sync.register(tag).catch(() => undefined);
  return true;
}

async function registerPeriodicSync(tag: string, minInterval: number): Promise<boolean> {
  const periodic = (await registration())?.periodicSync;
  const permissions = (globalThis as { navigator?: { permissions?: Permissions } }).navigator
    ?.permissions;
  if (!periodic || !permissions) return false;
  const state = await permissions
    .query({ name: 'periodic-background-sync' as PermissionName })
    .then((status) => status.state)
    .catch(() => 'denied');
  if (state !== 'granted') return false;
  return periodic.register(tag, { minInterval }).then(
    () => true,
    () => false,
  );
}

/**
 * Worker side: drain the outbox on the `sync` and `periodicsync` events of
 * `tag`, inside `waitUntil`, when the worker activates, and whenever a page
 * posts `{ type: 'qnox-sync' }`. Where Background Sync is missing (Safari,
 * Firefox) also on the worker's `online` event and on a timer while it runs;
 * pages drain on their own on load, on `online` and when shown again. Create
 * the worker's client with `autoSync: false`, so it sends only when woken.
 *
 * @example
 * // sw.ts
 * const client = QnoxSync.create({ baseUrl: `${location.origin}/api`, autoSync: false });
 * handleBackgroundSync(() => client);
 */
export function handleBackgroundSync(
  getClient: () => Promise<QnoxSync>,
  options: HandleBackgroundSyncOptions = {},
): void {
  const tag = options.tag ?? 'qnox-sync';
  const scope = globalThis as unknown as WorkerScopeLike;
  const drain = async () => {
    const client = await getClient();
    // The browser wakes us because the network is back: do not wait out a probe backoff.
    await client.checkConnectivity();
    const report = await client.sync();
    // Let the browser retry the sync event later if writes are still waiting.
    if ((await client.pendingCount()) > 0 && client.onSyncStatus.value.phase === 'offline') {
      throw new Error('still offline');
    }
    return report;
  };
  const quietly = () => drain().catch(() => undefined);
  const onSync = (event: SyncEventLike) => {
    if (event.tag === tag) event.waitUntil(drain());
  };
  scope.addEventListener('sync', onSync);
  scope.addEventListener('periodicsync', onSync);
  scope.addEventListener('activate', (event) => event.waitUntil(quietly()));
  scope.addEventListener('message', (event) => {
    const data = (event as unknown as MessageEvent).data as { type?: string } | undefined;
    if (data?.type === 'qnox-sync') event.waitUntil(quietly());
  });
  if (scope.SyncManager === undefined) {
    scope.addEventListener('online', () => void quietly());
    setInterval(() => void quietly(), options.fallbackIntervalMs ?? 60_000);
  }
}
