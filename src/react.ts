import {
  createContext,
  createElement,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useRef,
  useState,
  useSyncExternalStore,
} from 'react';
import type { GetOptions, QnoxResponse, QnoxSyncOptions } from './client/options.js';
import { QnoxSync } from './client/qnox-sync.js';
import { ConfigError, type QnoxError } from './model/errors.js';
import type { SyncStatus } from './status/sync-status.js';

const QnoxContext = createContext<QnoxSync | undefined>(undefined);

/** Props of {@link QnoxProvider}: a ready client, or the options to create one. */
export type QnoxProviderProps = {
  readonly children?: ReactNode;
  /** Rendered while the client is being created (default: nothing). */
  readonly fallback?: ReactNode;
} & (
  | { readonly client: QnoxSync; readonly options?: never }
  | {
      /**
       * Options for `QnoxSync.create`, called once on mount; the client is
       * disposed on unmount. A failed create is thrown to the nearest error boundary.
       */
      readonly options: QnoxSyncOptions;
      readonly client?: never;
    }
);

/**
 * Makes a client available to every hook below it, so components need not
 * pass it around. With `options`, it creates the client (rendering `fallback`
 * until the store is open) and disposes it on unmount.
 *
 * @example
 * createRoot(el).render(
 *   <QnoxProvider options={{ baseUrl: 'https://api.example.com' }} fallback={<p>Loading…</p>}>
 *     <Orders />
 *   </QnoxProvider>,
 * );
 */
export function QnoxProvider(props: QnoxProviderProps): ReactNode {
  const [created, setCreated] = useState<QnoxSync | undefined>(undefined);
  const [failed, setFailed] = useState<unknown>(undefined);
  const options = useRef(props.options);
  useEffect(() => {
    const wanted = options.current;
    if (!wanted) return;
    let live = true;
    let client: QnoxSync | undefined;
    QnoxSync.create(wanted).then(
      (sync) => {
        client = sync;
        if (live) setCreated(sync);
        else void sync.dispose();
      },
      (error: unknown) => live && setFailed(error ?? new Error('QnoxSync.create failed')),
    );
    return () => {
      live = false;
      void client?.dispose();
    };
  }, []);
  if (failed !== undefined) throw failed;
  const client = props.client ?? created;
  if (!client) return props.fallback ?? null;
  return createElement(QnoxContext.Provider, { value: client }, props.children);
}

/**
 * The client of the nearest {@link QnoxProvider}.
 *
 * @example
 * const sync = useQnox();
 * await sync.post('/orders', order);
 */
export function useQnox(): QnoxSync {
  return useClient(undefined);
}

/** The client passed, else the provider's. */
function useClient(sync: QnoxSync | undefined): QnoxSync {
  const provided = useContext(QnoxContext);
  const client = sync ?? provided;
  if (!client) throw new ConfigError('client', 'Pass a QnoxSync or wrap the app in <QnoxProvider>');
  return client;
}

/**
 * The client's status, re-rendering on every change.
 *
 * @example
 * const { phase, pending } = useSyncStatus(); // or useSyncStatus(sync)
 */
export function useSyncStatus(sync?: QnoxSync): SyncStatus {
  const client = useClient(sync);
  const subscribe = useCallback(
    (onChange: () => void) => client.onSyncStatus.subscribe(onChange),
    [client],
  );
  const read = () => client.onSyncStatus.value;
  return useSyncExternalStore(subscribe, read, read);
}

/** Queued writes, re-rendering when the count changes. */
export function usePendingCount(sync?: QnoxSync): number {
  return useSyncStatus(sync).pending;
}

/** What {@link useQnoxQuery} returns. */
export interface QnoxQueryState<T> {
  readonly data: T | undefined;
  readonly error: QnoxError | undefined;
  readonly loading: boolean;
  /** The last response's flags, when there is one. */
  readonly response: QnoxResponse<T> | undefined;
  refetch(): void;
}

type QueryState<T> = Omit<QnoxQueryState<T>, 'refetch'>;

/**
 * A cached GET that stays current:
 * - it fetches again (with its strategy) when a write to the resource or its
 *   collection is queued, delivered or dead-lettered, here or in another
 *   context on the same store (another tab, the service worker);
 * - it re-reads the cache, without a request, when an entry for its URL is
 *   written: a `staleWhileRevalidate` revalidation's answer, read-your-writes,
 *   an optimistic layer, another tab's or the worker's fetch.
 *
 * @example
 * const { data, loading } = useQnoxQuery<Order[]>('/orders', { strategy: 'staleWhileRevalidate' });
 * const same = useQnoxQuery<Order[]>(sync, '/orders'); // without a provider
 */
export function useQnoxQuery<T = unknown>(path: string, options?: GetOptions): QnoxQueryState<T>;
export function useQnoxQuery<T = unknown>(
  sync: QnoxSync,
  path: string,
  options?: GetOptions,
): QnoxQueryState<T>;
export function useQnoxQuery<T = unknown>(
  first: QnoxSync | string,
  second?: string | GetOptions,
  third?: GetOptions,
): QnoxQueryState<T> {
  const explicit = typeof first === 'string' ? undefined : first;
  const path = typeof first === 'string' ? first : (second as string);
  const options = (typeof first === 'string' ? second : third) as GetOptions | undefined;
  const sync = useClient(explicit);
  const [state, setState] = useState<QueryState<T>>({
    data: undefined,
    error: undefined,
    loading: true,
    response: undefined,
  });
  const [version, setVersion] = useState(0);
  const refetch = useCallback(() => setVersion((v) => v + 1), []);
  const key = JSON.stringify(options ?? {});
  /** Requests of this hook still running: a cache write meanwhile is their own answer. */
  const running = useRef(0);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` is the refetch trigger.
  useEffect(() => {
    let live = true;
    running.current++;
    setState((s) => ({ ...s, loading: true }));
    sync
      .get<T>(path, JSON.parse(key) as GetOptions)
      .then(
        (response) =>
          live && setState({ data: response.data, error: undefined, loading: false, response }),
        (error: QnoxError) => live && setState((s) => ({ ...s, error, loading: false })),
      )
      .finally(() => running.current--);
    return () => {
      live = false;
    };
  }, [sync, path, key, version]);

  useEffect(() => {
    let live = true;
    const own = pathOf(sync.url(path));
    const reread = () => {
      const cached = { ...(JSON.parse(key) as GetOptions), strategy: 'cacheOnly' as const };
      sync.get<T>(path, cached).then(
        (response) =>
          live && setState({ data: response.data, error: undefined, loading: false, response }),
        // Gone from the cache (expired, cleared): ask with the hook's own strategy.
        () => live && refetch(),
      );
    };
    const stop = sync.events.subscribe((event) => {
      if (event.type === 'cache-updated') {
        if (pathOf(event.url) === own && running.current === 0) reread();
        return;
      }
      const url =
        event.type === 'settled-elsewhere'
          ? event.url
          : event.type === 'queued' || event.type === 'sent' || event.type === 'dead-lettered'
            ? event.task.url
            : undefined;
      if (url !== undefined && related(pathOf(url), own)) refetch();
    });
    return () => {
      live = false;
      stop();
    };
  }, [sync, path, key, refetch]);

  return { ...state, refetch };
}

function pathOf(url: string): string {
  const parsed = new URL(url);
  return parsed.pathname + parsed.search;
}

function related(written: string, read: string): boolean {
  const [w, r] = [written.split('?')[0]!, read.split('?')[0]!];
  return w === r || w.startsWith(`${r}/`) || r.startsWith(`${w}/`);
}
