/**
 * What the platform says about the network. The engine also learns from
 * request outcomes, so a monitor that always says "online" is still correct,
 * only slower to notice an outage.
 */
export interface ConnectivityMonitor {
  isOnline(): boolean;
  subscribe(listener: (online: boolean) => void): () => void;
}

interface EventTargetLike {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
}

/**
 * The default monitor: `navigator.onLine` and the `online`/`offline` events
 * where they exist (pages, workers), "always online" elsewhere (Node). Globals
 * are read lazily, so importing this never throws.
 */
export function defaultConnectivity(): ConnectivityMonitor {
  const g = globalThis as { navigator?: { onLine?: boolean } } & Partial<EventTargetLike>;
  return {
    isOnline: () => g.navigator?.onLine !== false,
    subscribe(listener) {
      if (typeof g.addEventListener !== 'function' || typeof g.removeEventListener !== 'function') {
        return () => {};
      }
      const online = () => listener(true);
      const offline = () => listener(false);
      g.addEventListener('online', online);
      g.addEventListener('offline', offline);
      return () => {
        g.removeEventListener?.('online', online);
        g.removeEventListener?.('offline', offline);
      };
    },
  };
}

/**
 * A monitor you switch by hand: for tests, and for apps that know better
 * (a native bridge, a VPN state).
 *
 * @example
 * const connectivity = manualConnectivity(false);
 * const sync = await QnoxSync.create({ baseUrl, connectivity });
 * connectivity.set(true); // queued writes start to drain
 */
export function manualConnectivity(
  initial = true,
): ConnectivityMonitor & { set(online: boolean): void } {
  let online = initial;
  const listeners = new Set<(online: boolean) => void>();
  return {
    isOnline: () => online,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    set(next) {
      if (next === online) return;
      online = next;
      for (const listener of listeners) listener(next);
    },
  };
}
