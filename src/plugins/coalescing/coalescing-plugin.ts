import { ConfigError } from '../../model/errors.js';
import { summarize } from '../../model/events.js';
import type { NewTaskRecord } from '../../model/records.js';
import type { MutationHandle } from '../../outbox/outbox-writer.js';
import type { QnoxPlugin } from '../../outbox/plugin-interface.js';
import type { QueueContext } from '../../outbox/write-ports.js';
import { lastOfKey, taskById } from '../../stores/store-access.js';
import { coalesce } from './coalesce.js';

/** Options of {@link coalescing}. */
export interface CoalescingOptions {
  /**
   * Whether every write coalesces unless it says `coalesce: false`; when
   * `false`, only writes that say `coalesce: true` do.
   * @default false
   * @example true
   */
  always?: boolean;
}

/**
 * Coalescing as a plug-in: a write with `coalesce: true` (or every write, with
 * `always`) merges into the last queued write of the same URL and ordering key
 * if that one never left: PATCH after PATCH/PUT (merge patch), PUT replaces,
 * DELETE supersedes. Every caller's `result` settles with the combined write's
 * answer. Without it, `coalesce: true` is a `ConfigError` naming this plug-in.
 *
 * @example
 * import { coalescing } from 'qnox-offline-sync/coalescing';
 * const sync = await QnoxSync.create({ baseUrl, plugins: [coalescing({ always: true })] });
 */
export function coalescing(options: CoalescingOptions = {}): QnoxPlugin {
  for (const key of Object.keys(options ?? {}))
    if (key !== 'always')
      throw new ConfigError(`coalescing.${key}`, 'is not an option of coalescing()');
  const always = options?.always ?? false;
  if (typeof always !== 'boolean') throw new ConfigError('coalescing.always', 'must be a boolean');
  return {
    name: 'coalescing',
    ports: { coalesce: { byDefault: always, coalesce: coalesceWrite } },
  };
}

async function coalesceWrite(
  ctx: QueueContext,
  record: NewTaskRecord,
): Promise<MutationHandle | undefined> {
  const { store, engine, events, settlements, status, perCallConflict } = ctx.deps;
  const last = engine.asQueued(await lastOfKey(store, record.orderingKey));
  const plan = last && coalesce(last, record);
  if (!last || !plan) return undefined;
  if (plan.kind === 'merge') {
    const done = await engine.hold(last.id, async () => {
      // Read again under the hold: it may have left (and been marked) since it was read.
      const still = await taskById(store, last.id);
      const fresh = still && coalesce(still, record);
      if (fresh?.kind !== 'merge') return false;
      await store.updateTask(fresh.task);
      return true;
    });
    if (!done) return undefined;
    const strategy = perCallConflict.get(record.id);
    if (strategy) perCallConflict.set(last.id, strategy);
    events.emit({ type: 'queued', task: summarize(plan.task) });
    return {
      id: last.id,
      idempotencyKey: last.idempotencyKey,
      result: settlements.create(last.id),
    };
  }
  // Queue the DELETE before dropping what it supersedes: a crash in between sends both, in order.
  const task = await ctx.enqueue(record);
  const dropped = await engine.hold(last.id, async () => {
    await store.removeTask(last.id);
    return true;
  });
  if (dropped) {
    status.adjustPending(-1);
    settlements.transfer(last.id, task.id);
  }
  return ctx.queued(task);
}
