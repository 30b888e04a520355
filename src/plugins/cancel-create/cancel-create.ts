import { normalizeUrl } from '../../http/url.js';
import { CancelledError } from '../../model/errors.js';
import { summarize } from '../../model/events.js';
import { mayHaveReachedServer, type TaskRecord } from '../../model/records.js';
import type { QnoxResponse } from '../../model/responses.js';
import type { WriterDeps } from '../../outbox/outbox-writer.js';
import type { QnoxPlugin } from '../../outbox/plugin-interface.js';
import type { QueueContext } from '../../outbox/write-ports.js';
import { taskById } from '../../stores/store-access.js';

/** What a DELETE that cancelled a local create resolves with: answered here, nothing was sent. */
const CANCELLED_CREATE: QnoxResponse = {
  status: 204,
  data: null,
  headers: {},
  fromCache: true,
  stale: false,
  pendingWrites: false,
};

/**
 * Deleting what was only created locally, as a plug-in: `delete(url, { cancels:
 * created.id })` then drops the never-sent create (and every never-sent write
 * queued for `url`) instead of sending a create and its delete. Without it,
 * `cancels` is a `ConfigError` naming this plug-in.
 *
 * @example
 * import { cancelCreate } from 'qnox-offline-sync/cancel-create';
 * const sync = await QnoxSync.create({ baseUrl, plugins: [cancelCreate()] });
 * const created = await sync.post('/items', { name: 'draft' });
 * await sync.delete('/items/draft-1', { cancels: created.id }); // nothing goes out
 */
export function cancelCreate(): QnoxPlugin {
  return { name: 'cancelCreate', ports: { cancelCreate: { cancel: cancelLocalCreate } } };
}

/**
 * A DELETE of a resource created locally (`cancels`: the creating write's id).
 * While that write was never attempted, the server never had the resource:
 * it is dropped with every never-attempted write queued for `url`, each
 * caller's `result` rejects with a {@link CancelledError}, their optimistic
 * views roll back, and the DELETE answers at once without being sent.
 * Returns `undefined` (queue the DELETE as usual) when anything may already
 * have reached the server.
 */
async function cancelLocalCreate(
  { deps }: QueueContext,
  creatorId: string,
  url: string,
): Promise<QnoxResponse | undefined> {
  const { store, engine } = deps;
  const creator = engine.asQueued(await taskById(store, creatorId));
  if (!creator || mayHaveReachedServer(creator)) return undefined;
  const target = normalizeUrl(url);
  // A rare, app-driven operation: one scan of the queue for the resource's writes.
  const queued = await store.listTasks(await store.pendingCount());
  const related = queued
    .filter((t) => t.id !== creator.id && normalizeUrl(t.url) === target)
    .map((t) => engine.asQueued(t));
  if (related.some(mayHaveReachedServer)) return undefined;
  const dropped: TaskRecord[] = [];
  for (const task of [creator, ...related]) {
    const gone = await engine.hold(task.id, async () => {
      // Held, it cannot go out; it may have gone out (and been removed) since it was read.
      const still = await taskById(store, task.id);
      if (!still || mayHaveReachedServer(still)) return false;
      await store.removeTask(task.id);
      return true;
    });
    // Went out meanwhile: the DELETE must follow it to the server.
    if (!gone) break;
    dropped.push(task);
  }
  await settleDropped(deps, dropped, url);
  return dropped.length === related.length + 1 ? CANCELLED_CREATE : undefined;
}

async function settleDropped(deps: WriterDeps, dropped: TaskRecord[], url: string): Promise<void> {
  if (dropped.length === 0) return;
  deps.status.adjustPending(-dropped.length);
  for (const task of dropped) {
    await deps.cacheWrites.onAbandoned(task).catch(() => undefined);
    deps.events.emit({ type: 'cancelled', task: summarize(task) });
    deps.settlements.reject(
      task.id,
      new CancelledError(`Cancelled by DELETE ${url} before it was sent`),
    );
  }
}
