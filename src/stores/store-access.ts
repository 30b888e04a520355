import type { CacheRecord, TaskRecord } from '../model/records.js';
import type { QnoxLocalStore } from './local-store.js';

/*
 * The optional accelerators of `QnoxLocalStore`, each with its fallback over
 * the required members: a store that lacks one gives the same answer, only
 * slower. The engine reads the store through these, never the optional
 * member directly.
 */

/** One queued task by id (fallback: a scan of `listTasks`). */
export async function taskById(store: QnoxLocalStore, id: string): Promise<TaskRecord | undefined> {
  if (store.getTask) return store.getTask(id);
  return (await everyTask(store)).find((t) => t.id === id);
}

/** The last queued task of an ordering key (fallback: a scan of `listTasks`). */
export async function lastOfKey(
  store: QnoxLocalStore,
  key: string,
): Promise<TaskRecord | undefined> {
  if (store.lastTask) return store.lastTask(key);
  return (await everyTask(store)).filter((t) => t.orderingKey === key).at(-1);
}

/** The earliest `nextAttemptAt` among heads (fallback: the first head `dueTasks` gives at the end of time). */
export async function nextDueAt(store: QnoxLocalStore): Promise<number | undefined> {
  if (store.nextDueAt) return store.nextDueAt();
  return (await store.dueTasks({ now: Number.MAX_SAFE_INTEGER, limit: 1 }))[0]?.nextAttemptAt;
}

/** How many dead letters (fallback: reads them). */
export async function deadLetterCount(store: QnoxLocalStore): Promise<number> {
  if (store.deadLetterCount) return store.deadLetterCount();
  return (await store.deadLetters()).length;
}

/** Drops a cache entry that cannot be read (fallback: leave it; every read of it is a miss anyway). */
export async function dropCache(store: QnoxLocalStore, key: string): Promise<void> {
  await store.deleteCache?.(key);
}

/** Puts and deletes cache entries in one commit (fallback: one call each, not atomic). */
export async function writeCache(
  store: QnoxLocalStore,
  put: readonly CacheRecord[],
  remove: readonly string[],
): Promise<void> {
  if (store.writeCache) return store.writeCache(put, remove);
  for (const key of remove) await dropCache(store, key);
  for (const entry of put) await store.putCache(entry);
}

async function everyTask(store: QnoxLocalStore): Promise<TaskRecord[]> {
  return store.listTasks(await store.pendingCount());
}
