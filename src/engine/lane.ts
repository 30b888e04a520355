import type { TaskRecord } from '../model/records.js';
import { deliver } from './deliver.js';
import type { EngineDeps } from './engine-deps.js';
import { ReadAhead } from './read-ahead.js';
import type { SendMarks } from './send-marks.js';
import type { VerdictHandler } from './verdicts.js';

/** What a lane (and a plug-in's drain) may use of the engine that runs it. */
export interface EngineAccess {
  readonly deps: EngineDeps;
  readonly verdicts: VerdictHandler;
  readonly marks: SendMarks;
  /** Ids of the writes being sent now: nothing else may touch them. */
  readonly inFlight: Set<string>;
  readonly disposed: boolean;
  /** A fresh epoch: a write read at it may be sent only if nothing touched it since. */
  epoch(): number;
  canSend(): boolean;
  holdsLock(): boolean;
  /** Whether `next`, read at `epoch`, may still go out now. */
  mayChain(next: TaskRecord, epoch: number): boolean;
  /** A store operation failed: stop this drain and report it. */
  stop(error: unknown): void;
}

/**
 * Delivers `first`, then keeps its ordering key's lane busy. The lane reads
 * its key ahead in batches, so the next write goes out as soon as the
 * previous one is acknowledged, while that one's removal and cache upkeep
 * commit behind it. Safe because a crash before a removal commits only
 * replays that write under its idempotency key, after which order holds.
 */
export async function runLane(first: TaskRecord, e: EngineAccess): Promise<void> {
  const { deps } = e;
  const ahead = new ReadAhead(e.verdicts.pipelines ? deps.store : undefined, first, () =>
    e.epoch(),
  );
  let task = first;
  let bookkeeping: Promise<void> = Promise.resolve();
  let previousAck: Promise<unknown> = Promise.resolve();
  e.inFlight.add(task.id);
  try {
    for (;;) {
      ahead.fill();
      // A precondition follows the previous write's answer (its new ETag): wait for it in full.
      if (task.headers['if-match'] !== undefined) await previousAck;
      const marked = await e.marks.mark(task);
      if (!marked || e.disposed || !e.holdsLock()) break;
      task = marked;
      const current = task;
      let onDelivered!: () => void;
      const delivered = new Promise<boolean>((resolve) => {
        onDelivered = () => resolve(true);
      });
      const verdict = deliver(
        deps.transport,
        deps.beforeSend(current),
        deps.timeoutMs,
        () => deps.clock.now(),
        // At a 2xx the write took effect, whatever happens to its body: it is delivered
        // (its data `null` if the body is lost), never sent again, on every store alike.
        // Only a conflict detector, which reads the body, needs it whole.
        e.verdicts.pipelines ? onDelivered : undefined,
      );
      // A pipelined lane moves on at the server's 2xx status: the write took
      // effect, and its answer's body is read while the next write goes out.
      const early = ahead.active && (await Promise.race([delivered, verdict.then(() => false)]));
      let removed: Promise<void> | undefined;
      if (early) {
        markAhead(ahead, e);
        removed = deps.store.removeTask(current.id);
        removed.catch(() => {});
      }
      const acked = verdict.then((v) => e.verdicts.acknowledge(current, v, ahead.active, removed));
      acked.catch(() => {});
      previousAck = acked.catch(() => {});
      // A write stays "in flight" until its outcome is stored: until then it still
      // looks queued and untried, and nothing (coalescing, cancelling) may touch it.
      bookkeeping = bookkeeping
        .then(async () => {
          const outcome = await verdict;
          await e.verdicts.apply(current, outcome, await acked);
          e.marks.settled(current.id, outcome);
        })
        .finally(() => {
          if (current !== task) e.inFlight.delete(current.id);
        });
      const next = early || (await verdict).kind === 'delivered' ? await ahead.take() : undefined;
      if (!next || !e.mayChain(next.task, next.epoch)) break;
      e.inFlight.add(next.task.id);
      task = next.task;
    }
    // The lane ran dry: removals the store holds back for a batch need not wait.
    deps.store.flush?.();
    await bookkeeping;
  } catch (error) {
    await bookkeeping.catch(() => {});
    e.stop(error);
  } finally {
    e.inFlight.delete(task.id);
    await e.marks.release({ orderingKey: first.orderingKey });
  }
}

/** Marks the writes read ahead that the lane would send next, in the background. */
function markAhead(ahead: ReadAhead, e: EngineAccess): void {
  e.marks.markAhead(
    ahead
      .peek()
      .filter((next) => e.mayChain(next.task, next.epoch))
      .map((next) => next.task),
  );
}
