import { RECORD_VERSION, type TaskRecord } from '../model/records.js';
import { deadLetterCount, nextDueAt, taskById, writeCache } from '../stores/store-access.js';
import { type Case, check, ids, same, sampleTask } from './conformance-checks.js';
import { scheduleCases } from './schedule-cases.js';

export { type Case, sampleTask } from './conformance-checks.js';

export const cases: Case[] = [
  {
    name: 'enqueue assigns increasing seq and keeps every field',
    async run(store) {
      const a = sampleTask({ body: { kind: 'text', value: 'plain' }, timeoutMs: 5 });
      const b = sampleTask();
      const sa = await store.enqueue(a);
      const sb = await store.enqueue(b);
      check(sb.seq > sa.seq, 'seq must increase');
      same(
        await taskById(store, a.id),
        { ...a, seq: sa.seq },
        'getTask returns the record as enqueued',
      );
      same(await store.pendingCount(), 2, 'pendingCount');
      return undefined;
    },
  },
  ...scheduleCases,
  {
    name: 'tasksAfter and lastTask find neighbours within an ordering key',
    async run(store) {
      const a1 = await store.enqueue(sampleTask({ orderingKey: 'a' }));
      await store.enqueue(sampleTask({ orderingKey: 'b' }));
      const a2 = await store.enqueue(sampleTask({ orderingKey: 'a' }));
      const a3 = await store.enqueue(sampleTask({ orderingKey: 'a' }));
      if (store.tasksAfter) {
        const ids = async (after: number, limit: number) =>
          (await store.tasksAfter!('a', after, limit)).map((t) => t.id).join();
        same(await ids(a1.seq, 1), a2.id, 'next after the head');
        same(await ids(a1.seq, 5), [a2.id, a3.id].join(), 'the rest of the key, in order');
        same(await ids(a3.seq, 5), '', 'nothing after the last');
      }
      if (store.lastTask) same((await store.lastTask('a'))?.id, a3.id, 'last of the key');
      return undefined;
    },
  },
  {
    name: 'listTasks returns queued tasks in enqueue order',
    async run(store) {
      const t = [] as TaskRecord[];
      for (const key of ['x', 'y', 'x', 'z'])
        t.push(await store.enqueue(sampleTask({ orderingKey: key })));
      same(ids(await store.listTasks(3)), ids(t.slice(0, 3)), 'first three by seq');
      return undefined;
    },
  },
  {
    name: 'dead letters leave the queue atomically and can be listed and removed',
    async run(store) {
      const a1 = await store.enqueue(sampleTask({ orderingKey: 'a', nextAttemptAt: 0 }));
      const a2 = await store.enqueue(sampleTask({ orderingKey: 'a', nextAttemptAt: 0 }));
      await store.addDeadLetter({
        v: RECORD_VERSION,
        task: { ...a1, attempts: 3 },
        reason: 'rejected',
        failedAt: 42,
        lastResponse: { status: 400, data: { error: 'bad' } },
      });
      same(await store.pendingCount(), 1, 'one left queued');
      same(await deadLetterCount(store), 1, 'one dead letter');
      same(ids(await store.dueTasks({ now: 0, limit: 10 })), [a2.id], 'next of key promoted');
      const [dead] = await store.deadLetters();
      same(dead?.task.id, a1.id, 'dead letter id');
      same(dead?.lastResponse, { status: 400, data: { error: 'bad' } }, 'last response kept');
      same(
        (await store.removeDeadLetter(a1.id))?.reason,
        'rejected',
        'removeDeadLetter returns it',
      );
      same(await deadLetterCount(store), 0, 'none left');
      same(await store.removeDeadLetter(a1.id), undefined, 'second remove finds nothing');
      await store.addDeadLetter({ v: RECORD_VERSION, task: a2, reason: 'conflict', failedAt: 43 });
      await store.addDeadLetter({ v: RECORD_VERSION, task: a2, reason: 'conflict', failedAt: 44 });
      same(await deadLetterCount(store), 1, 'the same write dead-lettered twice counts once');
      return undefined;
    },
  },
  {
    name: 'cache entries are stored, read, deleted and purged by expiry',
    async run(store) {
      const entry = (key: string, expiresAt: number) => ({
        v: RECORD_VERSION,
        key,
        url: `https://api.example.com/${key}`,
        status: 200,
        headers: { etag: '"1"' },
        body: { kind: 'json' as const, value: [1, { a: 'b' }] },
        storedAt: 0,
        expiresAt,
      });
      await store.putCache(entry('old', 100));
      await store.putCache(entry('stale', 900));
      await store.putCache(entry('fresh', 5_000));
      same(await store.getCache('fresh'), entry('fresh', 5_000), 'round trip');
      same(await store.getCache('nope'), undefined, 'miss');
      same(await store.purgeExpiredCache(1_000, 200), 1, 'only entries past expiry + keepStale');
      same(await store.getCache('old'), undefined, 'old purged');
      check((await store.getCache('stale')) !== undefined, 'stale kept within keepStale');
      if (store.deleteCache) {
        await store.deleteCache('fresh');
        same(await store.getCache('fresh'), undefined, 'deleted');
      }
      // Several at once (writeCache, or its fallback): puts and deletes land together.
      await writeCache(store, [entry('p1', 5_000), entry('p2', 5_000)], ['stale']);
      same(await store.getCache('p2'), entry('p2', 5_000), 'written together');
      if (store.deleteCache || store.writeCache)
        same(await store.getCache('stale'), undefined, 'deleted together');
      if (store.writeCache) {
        // All or nothing: an entry that cannot be stored leaves every other key as it was.
        const bad = { ...entry('p3', 5_000), body: { kind: 'json' as const, value: unstorable() } };
        const failed = await store.writeCache([entry('p4', 5_000), bad], ['p1']).then(
          () => false,
          () => true,
        );
        check(failed, 'an unstorable entry fails writeCache');
        check((await store.getCache('p1')) !== undefined, 'nothing deleted by a failed writeCache');
        same(await store.getCache('p4'), undefined, 'nothing written by a failed writeCache');
      }
      return undefined;
    },
  },
  {
    name: 'clear wipes the cache, and the outbox only when asked',
    async run(store) {
      await store.enqueue(sampleTask());
      await store.putCache({
        v: 1,
        key: 'k',
        url: 'u',
        status: 200,
        headers: {},
        body: null,
        storedAt: 0,
        expiresAt: 1,
      });
      await store.clear({ cache: true, outbox: false });
      same(await store.getCache('k'), undefined, 'cache cleared');
      same(await store.pendingCount(), 1, 'outbox kept');
      await store.clear({ cache: false, outbox: true });
      same(await store.pendingCount(), 0, 'outbox cleared');
      same(await store.dueTasks({ now: 1e15, limit: 5 }), [], 'no heads left');
      same(await nextDueAt(store), undefined, 'no next due');
      return undefined;
    },
  },
  {
    name: 'meta values survive clear()',
    async run(store) {
      if (!store.putMeta || !store.getMeta) return undefined;
      await store.putMeta('salt', 'abc');
      await store.clear({ cache: true, outbox: true });
      same(await store.getMeta('salt'), 'abc', 'meta kept');
      same(await store.getMeta('other'), undefined, 'missing meta');
      return undefined;
    },
  },
  {
    name: 'concurrent enqueues all land with distinct seq, in per-key order',
    async run(store) {
      const inputs = Array.from({ length: 200 }, (_, i) =>
        sampleTask({ orderingKey: `k${i % 7}`, nextAttemptAt: 0 }),
      );
      const stored = await Promise.all(inputs.map((t) => store.enqueue(t)));
      same(new Set(stored.map((t) => t.seq)).size, 200, 'distinct seq');
      same(await store.pendingCount(), 200, 'all counted');
      const heads = await store.dueTasks({ now: 0, limit: 100 });
      same(heads.length, 7, 'one head per key');
      for (const head of heads) {
        const first = stored
          .filter((t) => t.orderingKey === head.orderingKey)
          .sort((a, b) => a.seq - b.seq)[0];
        same(head.id, first?.id, `head of ${head.orderingKey} is its lowest seq`);
      }
      return undefined;
    },
  },
  {
    name: 'queued tasks, dead letters and cache survive close and reopen',
    needs: 'reopen',
    async run(store, factory) {
      const a = await store.enqueue(sampleTask({ orderingKey: 'a', nextAttemptAt: 7 }));
      const b = await store.enqueue(sampleTask({ orderingKey: 'a', nextAttemptAt: 7 }));
      const c = await store.enqueue(sampleTask({ orderingKey: 'c', nextAttemptAt: 7 }));
      await store.addDeadLetter({
        v: RECORD_VERSION,
        task: c,
        reason: 'max-attempts',
        failedAt: 9,
      });
      await store.putCache({
        v: 1,
        key: 'k',
        url: 'u',
        status: 200,
        headers: {},
        body: { kind: 'text', value: 'hi' },
        storedAt: 0,
        expiresAt: 99,
      });
      const reopened = await factory.reopen!(store);
      same(await reopened.pendingCount(), 2, 'tasks survive');
      same(ids(await reopened.dueTasks({ now: 7, limit: 10 })), [a.id], 'order survives');
      same(await taskById(reopened, b.id), b, 'record survives intact');
      same(
        (await reopened.deadLetters()).map((d) => d.task.id),
        [c.id],
        'dead letters survive',
      );
      same((await reopened.getCache('k'))?.body, { kind: 'text', value: 'hi' }, 'cache survives');
      const next = await reopened.enqueue(sampleTask());
      check(next.seq > b.seq, 'seq keeps increasing after reopen');
      return reopened;
    },
  },
  {
    name: 'a corrupt record is quarantined and reported; the rest of the queue keeps flowing',
    needs: 'corrupt',
    async run(store, factory) {
      const reports: string[] = [];
      store.onQuarantine?.((report) => reports.push(report.id ?? '?'));
      const a1 = await store.enqueue(sampleTask({ orderingKey: 'a', nextAttemptAt: 0 }));
      const a2 = await store.enqueue(sampleTask({ orderingKey: 'a', nextAttemptAt: 0 }));
      const b1 = await store.enqueue(sampleTask({ orderingKey: 'b', nextAttemptAt: 0 }));
      await factory.corrupt!(store, a1.id);
      const first = ids(await store.dueTasks({ now: 0, limit: 10 }));
      check(!first.includes(a1.id), 'corrupt task not returned');
      check(first.includes(b1.id), 'other keys keep flowing');
      same(reports, [a1.id], 'quarantine reported once with the id');
      // Set aside in one of the two places `sync.quarantined()` lists: the store's
      // quarantine area (rows it cannot decode) or a dead letter with reason `quarantined`.
      const aside =
        ((await store.quarantined?.()) ?? []).length +
        (await store.deadLetters()).filter((d) => d.reason === 'quarantined').length;
      same(aside, 1, 'quarantine lists it');
      same(
        ids(await store.dueTasks({ now: 0, limit: 10 })).sort(),
        [a2.id, b1.id].sort(),
        'next of key promoted',
      );
      same(await store.pendingCount(), 2, 'count excludes the quarantined record');
      return undefined;
    },
  },
];

/** A value neither JSON nor the structured clone can store: reading it throws. */
function unstorable(): unknown {
  return Object.defineProperty({}, 'boom', {
    enumerable: true,
    get() {
      throw new Error('unstorable');
    },
  });
}
