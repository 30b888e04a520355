import { CacheReader } from '../cache/cache-reader.js';
import { CacheWrites } from '../cache/cache-writes.js';
import { parkConflicts } from '../engine/conflict-port.js';
import { linkContexts } from '../engine/context-link.js';
import { serialPasses } from '../engine/serial-passes.js';
import { SyncEngine } from '../engine/sync-engine.js';
import { WriteResults } from '../engine/write-results.js';
import { AuthGate } from '../http/auth.js';
import { Reachability } from '../http/reachability.js';
import { Transport } from '../http/transport.js';
import type { ConflictStrategy } from '../model/conflict-types.js';
import type { SyncEvent } from '../model/events.js';
import { OutboxWriter } from '../outbox/outbox-writer.js';
import type { PluginClient } from '../outbox/plugin-interface.js';
import type { ChangeChannel } from '../platform/broadcast.js';
import { defaultConnectivity } from '../platform/connectivity.js';
import { type DrainLock, drainLock } from '../platform/drain-lock.js';
import { Emitter } from '../status/subscribable.js';
import { StatusController } from '../status/sync-status.js';
import type { QnoxLocalStore } from '../stores/local-store.js';
import type { FlatOptions } from './options.js';
import { portOf, withPlugins } from './plugins.js';
import type { ResolvedOptions } from './resolve-options.js';

/** The parts a client is made of, wired together. */
export type Parts = ReturnType<typeof assemble>;

/**
 * Builds and wires the client's parts: status and events, transport and
 * reachability, the cache's write side, the engine with the built-in hooks
 * and the plug-ins', the cache reader, the outbox writer, and the link to
 * other contexts on the same store.
 */
export function assemble(input: FlatOptions, options: ResolvedOptions, given: QnoxLocalStore) {
  const { clock, timeoutMs, ttlMs } = options;
  const store = portOf(options.plugins, 'store')?.(given) ?? given;
  const lock = lockOf(store, options);
  const onListenerError = (error: unknown) =>
    queueMicrotask(() => {
      throw error;
    });
  const status = new StatusController(onListenerError);
  const events = new Emitter<SyncEvent>(onListenerError);
  const settlements = new WriteResults();
  let channel: ChangeChannel | undefined;
  const transport = new Transport({
    fetch: options.fetch,
    clock,
    auth: new AuthGate(input),
    allowedOrigins: options.allowed,
  });
  let wasOnline = true;
  const reachability = new Reachability({
    monitor: input.connectivity ?? defaultConnectivity(),
    clock,
    probe: () => transport.reach(options.probeUrl, timeoutMs),
    probeDelayMs: options.retry.baseDelayMs,
    probeMaxDelayMs: Math.min(options.retry.maxDelayMs, 30_000),
    onChange: ({ online, checking }) => {
      status.update({ online, checking });
      if (online && !wasOnline) events.emit({ type: 'online' });
      wasOnline = online;
      // The drain stops while a probe runs: once the server is (still) reachable, it goes on.
      if (online && !checking) engine.kick();
    },
  });
  const cacheWrites = new CacheWrites({
    store,
    clock,
    scope: options.scope,
    ttlMs,
    invalidate: options.invalidates,
    collections: options.collections,
    onChanged: (url) => events.emit({ type: 'cache-updated', url, remote: false }),
  });
  const perCallConflict = new Map<string, ConflictStrategy>();
  const engine: SyncEngine = new SyncEngine({
    ...options,
    store,
    transport,
    status,
    events,
    reachability: reachability,
    settlements,
    random: input.random ?? Math.random,
    autoSync: input.autoSync ?? true,
    conflicts: portOf(options.plugins, 'conflicts') ?? parkConflicts,
    drain: portOf(options.plugins, 'drain'),
    drainLock: lock,
    perCallConflict,
    newId: () => crypto.randomUUID(),
    ...withPlugins(
      {
        beforeSend: (task) => cacheWrites.followIfMatch(task),
        onAcknowledged: (task, response) => cacheWrites.noteAcknowledged(task, response),
        onDelivered: (task, response) => {
          perCallConflict.delete(task.id);
          return cacheWrites.onDelivered(task, response);
        },
        onAbandoned: (task, current) => {
          perCallConflict.delete(task.id);
          return cacheWrites.onAbandoned(task, current);
        },
      },
      options.plugins,
      (error) => events.emit({ type: 'callback-error', error }),
    ),
  });
  const reader = new CacheReader({
    store,
    transport,
    clock,
    events,
    reachability: reachability,
    scope: options.scope,
    ttlMs,
    timeoutMs,
    strategy: options.strategy,
  });
  const writer = new OutboxWriter({
    store,
    engine,
    settlements,
    status,
    events,
    cacheWrites,
    options,
    defaultOrderingKey: input.defaultOrderingKey ?? 'path',
    perCallConflict,
    ports: {
      coalesce: portOf(options.plugins, 'coalesce'),
      cancelCreate: portOf(options.plugins, 'cancelCreate'),
    },
    onQueued: () => channel?.post({ t: 'changed' }),
  });
  wasOnline = reachability.online;
  status.update({ online: wasOnline });
  // Re-reads the counts and kicks the drain, one pass at a time: a drain elsewhere sends a
  // message per write and each pass reads the store, so messages during a pass share the next.
  const refreshSoon = serialPasses(() => engine.refresh().then(() => engine.kick()));
  if (store.channelName)
    channel = linkContexts(`qnox:${store.channelName}`, {
      settlements,
      events,
      refresh: () => refreshSoon(),
    });
  const client: PluginClient = {
    store,
    transport,
    clock,
    events,
    base: options.base,
    allowed: options.allowed,
    ttlMs,
    timeoutMs,
    scope: options.scope,
    online: () => reachability.online,
    cacheTurn: (change) => cacheWrites.inTurn(change),
  };
  /** Plug-ins that work beside the outbox attach once the store is open; each returns its detach. */
  const attach = () =>
    options.plugins.flatMap((p) => (p.ports?.attach ? [p.ports.attach(client)] : []));
  return {
    attach,
    store,
    options,
    status,
    events,
    transport,
    reachability,
    engine,
    reader,
    writer,
    settlements,
    lock,
    channel: () => channel,
  };
}

/**
 * One drainer per store: the store's own lock where it has one (SQLite, across
 * processes), else for stores that contexts share (`channelName`: tabs and
 * workers on one IndexedDB) a Web Lock named after it, or the `drainLock`
 * plug-in where Web Locks are missing; else none.
 */
function lockOf(
  store: QnoxLocalStore,
  options: ResolvedOptions,
): (Pick<DrainLock, 'acquire' | 'held'> & { close?(): void }) | undefined {
  if (store.acquireDrainLock)
    return {
      acquire: () => store.acquireDrainLock!(),
      get held() {
        return store.holdsDrainLock?.() !== false;
      },
    };
  const name = store.channelName;
  if (!name) return undefined;
  // Made at the first drain: a client that never drains (a page whose worker sends) joins no election.
  let lock: DrainLock | undefined;
  return {
    acquire: () => {
      lock ??= drainLock(`qnox-drain:${name}`, options.clock, portOf(options.plugins, 'drainLock'));
      return lock.acquire();
    },
    get held() {
      return lock?.held ?? true;
    },
    close: () => lock?.close(),
  };
}
