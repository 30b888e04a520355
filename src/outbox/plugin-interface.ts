import type { ConflictPortFactory } from '../engine/conflict-port.js';
import type { DrainPort } from '../engine/drain-port.js';
import type { Transport } from '../http/transport.js';
import type { SyncEvent, TaskSummary } from '../model/events.js';
import type { Clock } from '../platform/clock.js';
import type { DrainLockFallback } from '../platform/drain-lock.js';
import type { Emitter } from '../status/subscribable.js';
import type { QnoxLocalStore } from '../stores/local-store.js';
import type { CancelCreatePort, CoalescePort } from './write-ports.js';

/** A write as plug-ins see it: what events show of it, with its headers and data. */
export interface PluginWrite extends TaskSummary {
  readonly headers: Readonly<Record<string, string>>;
  readonly data: unknown;
}

/** The server's answer to a write, as plug-ins see it. */
export interface PluginResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly data: unknown;
}

/**
 * A plug-in: hooks the client calls at fixed points of every write's life,
 * after its own built-in work at that point (each hook optional). A hook that
 * throws is reported as a `callback-error` event (`callback: "<name>.<hook>"`)
 * and changes nothing else: the write goes on, and so do the other plug-ins.
 *
 * @example
 * const traced: QnoxPlugin = {
 *   name: 'trace',
 *   beforeSend: (write) => ({ ...write.headers, 'x-trace-id': write.id }),
 *   delivered: (write, res) => console.log(write.url, res.status),
 * };
 * const sync = await QnoxSync.create({ baseUrl, plugins: [traced] });
 */
export interface QnoxPlugin {
  /** Names the plug-in in `callback-error` events. */
  readonly name: string;
  /**
   * Just before each attempt of a write goes out: return the headers it goes
   * out with (the idempotency key cannot be changed), or nothing to leave them.
   * Synchronous: it runs on the write's lane. A throw sends the write unchanged.
   */
  beforeSend?(write: PluginWrite): Readonly<Record<string, string>> | undefined;
  /** The moment a 2xx status arrives, before the next write of its key goes out. Synchronous; keep it quick. */
  acknowledged?(write: PluginWrite, response: PluginResponse): void;
  /** After a write was delivered and left the outbox. */
  delivered?(write: PluginWrite, response: PluginResponse): void | Promise<void>;
  /** After a write was given up on: dead-lettered, or lost to `server-wins`. */
  abandoned?(write: PluginWrite): void | Promise<void>;
  /**
   * @internal What a first-party plug-in takes over inside the engine (at most
   * one plug-in per port): `conflicts`, `coalesce`, `cancelCreate`, `drain`,
   * `store` and `drainLock` are the `conflicts()`, `coalescing()`,
   * `cancelCreate()`, `batching()`, `hotCache()` and `channelElection()`
   * plug-ins'.
   */
  readonly ports?: PluginPorts;
}

/** @internal The engine's replaceable parts. */
export interface PluginPorts {
  readonly conflicts?: ConflictPortFactory;
  readonly coalesce?: CoalescePort;
  readonly cancelCreate?: CancelCreatePort;
  readonly drain?: DrainPort;
  /** Wraps the store the client uses (the hot cache keeps records in memory in front of it). */
  readonly store?: (store: QnoxLocalStore) => QnoxLocalStore;
  /** The drain lock where the platform has no Web Locks (the BroadcastChannel election). */
  readonly drainLock?: DrainLockFallback;
  /** Called once the client is open, with what it lends; returns what undoes it at `dispose()`. Any number of plug-ins may attach. */
  readonly attach?: (client: PluginClient) => () => void;
}

/** @internal What the client lends a plug-in that works beside the outbox (delta sync). */
export interface PluginClient {
  readonly store: QnoxLocalStore;
  readonly transport: Transport;
  readonly clock: Clock;
  readonly events: Emitter<SyncEvent>;
  readonly base: URL;
  readonly allowed: ReadonlySet<string>;
  /** The client's `cache.ttlMs` and `delivery.timeoutMs`. */
  readonly ttlMs: number;
  readonly timeoutMs: number;
  /** The cache scope now. */
  scope(): string;
  /** Whether the client believes the server reachable now. */
  online(): boolean;
  /** Runs `change` when no other read-modify-write of cache entries runs (optimistic layers, read-your-writes). */
  cacheTurn<T>(change: () => Promise<T>): Promise<T>;
}
