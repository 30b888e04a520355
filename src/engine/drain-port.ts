import type { Transport, WireResponse } from '../http/transport.js';
import type { SyncEvent } from '../model/events.js';
import type { TaskRecord } from '../model/records.js';
import type { Clock } from '../platform/clock.js';
import type { Emitter } from '../status/subscribable.js';
import type { QnoxLocalStore } from '../stores/local-store.js';
import { classifyAnswer, sendFailure, type Verdict } from './deliver.js';
import type { EngineAccess } from './lane.js';

/**
 * What the engine lends a plug-in that sends writes another way (the
 * `batching()` plug-in): the same marks, classification and bookkeeping as a
 * single send, so a write ends the same whichever way it went.
 */
export interface DrainContext {
  readonly store: QnoxLocalStore;
  readonly clock: Clock;
  readonly transport: Transport;
  readonly events: Emitter<SyncEvent>;
  /** The client's `delivery.timeoutMs`. */
  readonly timeoutMs: number;
  /** The client's base URL (sub-requests are addressed relative to it). */
  readonly baseUrl: string;
  /** A fresh epoch: a write read at it may be sent only if nothing touched it since. */
  epoch(): number;
  /** Whether sending may go on now: online, not paused, the drain lock held, not disposed. */
  mayContinue(): boolean;
  /** Whether `task`, read at `epoch`, may go out now (due, untouched, not already in flight). */
  maySend(task: TaskRecord, epoch: number): boolean;
  /** Durably marks the write possibly sent, and in flight; `undefined`: another sender's window is open. */
  mark(task: TaskRecord): Promise<TaskRecord | undefined>;
  /** The write as it goes out: `If-Match` following our own writes, plug-ins' `beforeSend`. */
  prepare(task: TaskRecord): TaskRecord;
  /** A write's verdict for an answer, by the single-send rules. */
  classify(task: TaskRecord, response: WireResponse): Verdict;
  /** A write's verdict when its request got no HTTP answer. */
  failure(task: TaskRecord, error: unknown): Verdict;
  /** Stores and announces a write's verdict (removal, retry, dead letter, conflict, result). */
  settle(task: TaskRecord, verdict: Verdict): Promise<void>;
  /**
   * Settles writes of one key that were all delivered, in order, their
   * removals committed together (one store commit where the store groups them).
   */
  settleDelivered(run: readonly { task: TaskRecord; verdict: Verdict }[]): Promise<void>;
  /** Leaves a marked write untouched and not in flight (it was not executed: a failed dependency). */
  untouched(task: TaskRecord): void;
}

/**
 * Sends what is due another way than one request per write. `pass` returns
 * `false` to let the engine's per-key lanes send what is left (or everything,
 * when the way is unavailable), `true` when nothing is left for them. It gets
 * the engine's internals; {@link drainContext} makes them a {@link DrainContext}.
 */
export interface DrainPort {
  pass(engine: EngineAccess): Promise<boolean>;
}

/** The engine's parts as a plug-in's drain sees them: the same marks, rules and bookkeeping as a lane. */
export function drainContext(e: EngineAccess): DrainContext {
  const { deps, verdicts } = e;
  const settle = async (task: TaskRecord, verdict: Verdict) => {
    try {
      const applied = verdicts.apply(
        task,
        verdict,
        verdicts.acknowledge(task, verdict, false, undefined),
      );
      // A removal the store holds back for a batch of them need not wait: nothing follows it here.
      deps.store.flush?.();
      await applied;
      e.marks.settled(task.id, verdict);
    } finally {
      e.inFlight.delete(task.id);
    }
  };
  return {
    ...deps,
    baseUrl: deps.base.href,
    epoch: () => e.epoch(),
    mayContinue: () => e.canSend() && e.holdsLock() && !e.disposed,
    maySend: (task, epoch) => e.mayChain(task, epoch),
    mark: async (task) => {
      const marked = await e.marks.mark(task);
      if (marked) e.inFlight.add(marked.id);
      return marked;
    },
    prepare: (task) => deps.beforeSend(task),
    classify: (task, response) => classifyAnswer(task, response, () => deps.clock.now()),
    failure: sendFailure,
    settle: (task, verdict) => settle(task, verdict),
    async settleDelivered(run) {
      // With a conflict detector a 2xx may still turn into a conflict: one at a time then.
      if (!verdicts.pipelines) {
        for (const { task, verdict } of run) await settle(task, verdict);
        return;
      }
      const early = run.map(({ task, verdict }) =>
        verdicts.acknowledge(task, verdict, true, deps.store.removeTask(task.id)),
      );
      deps.store.flush?.();
      // Together, so their cache upkeep shares one turn and one round of reads; each settles in order.
      const applied = await Promise.allSettled(
        run.map(async ({ task, verdict }, i) => {
          await verdicts.apply(task, verdict, early[i]);
          e.marks.settled(task.id, verdict);
        }),
      );
      for (const { task } of run) e.inFlight.delete(task.id);
      const failed = applied.find((a) => a.status === 'rejected');
      if (failed) throw failed.reason;
    },
    untouched: (task) => e.inFlight.delete(task.id),
  };
}
