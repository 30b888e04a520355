import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import type { QnoxError } from './errors.js';
import type { GetOptions, QnoxResponse } from './options.js';
import type { QnoxSync } from './qnox-sync.js';
import type { SyncStatus } from './status/sync-status.js';

/**
 * The client's status, re-rendering on every change.
 *
 * @example
 * const { phase, pending } = useSyncStatus(sync);
 */
export function useSyncStatus(sync: QnoxSync): SyncStatus {
  const subscribe = useCallback(
    (onChange: () => void) => sync.onSyncStatus.subscribe(onChange),
    [sync],
  );
  const read = () => sync.onSyncStatus.value;
  return useSyncExternalStore(subscribe, read, read);
}

/** Queued writes, re-rendering when the count changes. */
export function usePendingCount(sync: QnoxSync): number {
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

/**
 * A cached GET that re-renders when writes to the same resource or its
 * collection are queued (optimistic updates), delivered or dead-lettered.
 *
 * @example
 * const { data, loading } = useQnoxQuery<Order[]>(sync, '/orders', { cacheFirst: true });
 */
export function useQnoxQuery<T = unknown>(
  sync: QnoxSync,
  path: string,
  options: GetOptions = {},
): QnoxQueryState<T> {
  const [state, setState] = useState<Omit<QnoxQueryState<T>, 'refetch'>>({
    data: undefined,
    error: undefined,
    loading: true,
    response: undefined,
  });
  const [version, setVersion] = useState(0);
  const refetch = useCallback(() => setVersion((v) => v + 1), []);
  const key = JSON.stringify(options);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` is the refetch trigger.
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    sync.get<T>(path, JSON.parse(key) as GetOptions).then(
      (response) =>
        live && setState({ data: response.data, error: undefined, loading: false, response }),
      (error: QnoxError) => live && setState((s) => ({ ...s, error, loading: false })),
    );
    return () => {
      live = false;
    };
  }, [sync, path, key, version]);

  useEffect(
    () =>
      sync.events.subscribe((event) => {
        if (event.type !== 'queued' && event.type !== 'sent' && event.type !== 'dead-lettered')
          return;
        if (related(new URL(event.task.url).pathname, new URL(sync.url(path)).pathname)) refetch();
      }),
    [sync, path, refetch],
  );

  return { ...state, refetch };
}

function related(written: string, read: string): boolean {
  return written === read || written.startsWith(`${read}/`) || read.startsWith(`${written}/`);
}
