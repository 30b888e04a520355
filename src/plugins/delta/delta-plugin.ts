import { normalizeUrl, resolveUrl } from '../../http/url.js';
import { ConfigError, isQnoxError, StorageError } from '../../model/errors.js';
import type { PluginClient, QnoxPlugin } from '../../outbox/plugin-interface.js';
import type { TimerHandle } from '../../platform/clock.js';
import { onPageVisible } from '../../platform/page-lifecycle.js';
import { type ChangeCodec, jsonChangeCodec } from './change-codec.js';
import { type PullResult, pullFeed } from './pull.js';

export type { PullResult } from './pull.js';

/** Options of {@link deltaSync}. */
export interface DeltaSyncOptions {
  /**
   * The collection whose cached list the changes keep current; a member's own URL is `{collection}/{id}`.
   * @example '/orders'
   */
  collection: string;
  /**
   * The change feed.
   * @default `${collection}/changes`
   * @example '/orders/changes'
   */
  changes?: string;
  /**
   * Changes asked for per page.
   * @default 500
   * @example 1000
   */
  pageSize?: number;
  /**
   * Pulls this often while the client is online; `0` never by time.
   * @default 60_000
   * @example 0
   */
  intervalMs?: number;
  /**
   * The field of a list row holding its id.
   * @default 'id'
   * @example 'orderId'
   */
  idField?: string;
  /**
   * How the feed is spoken.
   * @default {@link jsonChangeCodec}
   * @example { url: (c, since, n) => `${c}?checkpoint=${since ?? ''}&n=${n}`, decode: (b) => toPage(b) }
   */
  codec?: ChangeCodec;
}

/** A `deltaSync()` plug-in, with the pull the app may ask for. */
export interface DeltaSyncPlugin extends QnoxPlugin {
  /** Pulls every page of changes now (one pull at a time; a call during one gets the next). */
  pull(): Promise<PullResult>;
}

const OPTIONS = ['collection', 'changes', 'pageSize', 'intervalMs', 'idField', 'codec'];

/**
 * Delta sync of one collection as a plug-in: pulls its change feed in pages
 * and applies each page to the cache (the member's entry and its row in the
 * cached list), so `get(collection)` answers from the cache, current, without
 * re-downloading it. The cursor is kept in the store, per cache scope, so a
 * restart resumes where it stopped; `clear()` forgets it. Pulls on `pull()`,
 * on reconnect, when the page becomes visible, every `intervalMs`, and after
 * this client's own writes to the collection are delivered.
 *
 * @example
 * import { deltaSync } from 'qnox-offline-sync/delta';
 * const orders = deltaSync({ collection: '/orders', changes: '/orders/changes', pageSize: 500 });
 * const sync = await QnoxSync.create({ baseUrl, plugins: [orders] });
 * await orders.pull(); // { applied, cursor }
 * const list = await sync.get('/orders', { strategy: 'cacheOnly' });
 */
export function deltaSync(options: DeltaSyncOptions): DeltaSyncPlugin {
  if (typeof options !== 'object' || options === null)
    throw new ConfigError('deltaSync', 'must be an options object with a collection');
  for (const key of Object.keys(options))
    if (!OPTIONS.includes(key))
      throw new ConfigError(`deltaSync.${key}`, 'is not an option of deltaSync()');
  const { collection, idField = 'id', codec = jsonChangeCodec } = options;
  if (typeof collection !== 'string' || collection === '')
    throw new ConfigError('deltaSync.collection', 'must be a path such as "/orders"');
  const changes = options.changes ?? `${collection.replace(/\/$/, '')}/changes`;
  const pageSize = options.pageSize ?? 500;
  const intervalMs = options.intervalMs ?? 60_000;
  if (!Number.isInteger(pageSize) || pageSize < 1)
    throw new ConfigError('deltaSync.pageSize', `must be an integer >= 1, got ${String(pageSize)}`);
  if (!Number.isFinite(intervalMs) || intervalMs < 0)
    throw new ConfigError(
      'deltaSync.intervalMs',
      `must be a number >= 0, got ${String(intervalMs)}`,
    );
  if (typeof codec?.url !== 'function' || typeof codec.decode !== 'function')
    throw new ConfigError('deltaSync.codec', 'must be an object with url and decode functions');

  let client: PluginClient | undefined;
  let list = '';
  let feed = '';
  let running: Promise<PullResult> | undefined;
  let next: Promise<PullResult> | undefined;

  const pull = (): Promise<PullResult> => {
    if (!client)
      return Promise.reject(new ConfigError('deltaSync', 'is not attached to a client yet'));
    if (!running) {
      running = pullAll(client).finally(() => {
        running = undefined;
      });
      return running;
    }
    // A pull asked for during one: the next, once this one ended (it may have missed the newest changes).
    next ??= running
      .catch(() => undefined)
      .then(() => {
        next = undefined;
        return pull();
      });
    return next;
  };

  async function pullAll(c: PluginClient): Promise<PullResult> {
    const done = await pullFeed(c, { list, idField, feed, pageSize, codec });
    const { applied, deleted, pages, cursor } = done;
    c.events.emit({ type: 'pulled', url: list, applied, deleted, pages, cursor });
    return { applied, cursor };
  }

  /** A pull the plug-in starts by itself: only online, and a failure is an event, not a crash. */
  const pullSoon = () => {
    if (!client?.online()) return;
    const url = list;
    const events = client.events;
    pull().catch((error: unknown) => {
      const typed = isQnoxError(error) ? error : new StorageError('Pull failed', { cause: error });
      events.emit({ type: 'pull-failed', url, error: typed });
    });
  };

  return {
    name: 'deltaSync',
    pull,
    delivered(write) {
      // Our own write to the collection: pull to see its server form (and whatever came with it).
      if (normalizeUrl(write.url).startsWith(normalizeUrl(list))) pullSoon();
    },
    ports: {
      attach(c) {
        client = c;
        list = resolveUrl(c.base, collection, c.allowed);
        feed = resolveUrl(c.base, changes, c.allowed);
        const unsubscribe = c.events.subscribe((e) => {
          if (e.type === 'online') pullSoon();
        });
        const unwatch = onPageVisible(pullSoon);
        let timer: TimerHandle | undefined;
        const tick = () => {
          pullSoon();
          timer = c.clock.setTimeout(tick, intervalMs);
        };
        if (intervalMs > 0) timer = c.clock.setTimeout(tick, intervalMs);
        return () => {
          unsubscribe();
          unwatch();
          if (timer !== undefined) c.clock.clearTimeout(timer);
          client = undefined;
        };
      },
    },
  };
}
