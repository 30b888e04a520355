import type { TaskRecord } from '../model/records.js';
import { nextDueAt, taskById } from '../stores/store-access.js';
import { type Case, check, ids, same, sampleTask } from './conformance-checks.js';

/** Conformance cases for the schedule: which tasks are due, in which order, after which changes. */
export const scheduleCases: Case[] = [
  {
    name: 'dueTasks returns only the head of each ordering key, earliest due first, within limit',
    async run(store) {
      const a1 = sampleTask({ orderingKey: 'a', nextAttemptAt: 10 });
      const b1 = sampleTask({ orderingKey: 'b', nextAttemptAt: 5 });
      const a2 = sampleTask({ orderingKey: 'a', nextAttemptAt: 1 });
      const c1 = sampleTask({ orderingKey: 'c', nextAttemptAt: 50 });
      for (const t of [a1, b1, a2, c1]) await store.enqueue(t);
      same(ids(await store.dueTasks({ now: 20, limit: 10 })), [b1.id, a1.id], 'heads due by 20');
      same(ids(await store.dueTasks({ now: 20, limit: 1 })), [b1.id], 'limit');
      same(ids(await store.dueTasks({ now: 4, limit: 10 })), [], 'nothing due at 4');
      same(await nextDueAt(store), 5, 'nextDueAt is the earliest head');
      return undefined;
    },
  },
  {
    name: 'a head in backoff blocks only its own key',
    async run(store) {
      const a1 = await store.enqueue(sampleTask({ orderingKey: 'a', nextAttemptAt: 0 }));
      const a2 = await store.enqueue(sampleTask({ orderingKey: 'a', nextAttemptAt: 0 }));
      const b1 = await store.enqueue(sampleTask({ orderingKey: 'b', nextAttemptAt: 0 }));
      await store.updateTask({ ...a1, attempts: 1, nextAttemptAt: 500 });
      same(ids(await store.dueTasks({ now: 100, limit: 10 })), [b1.id], 'a2 waits behind a1');
      same((await taskById(store, a1.id))?.attempts, 1, 'update persisted');
      same(
        ids(await store.dueTasks({ now: 500, limit: 10 })),
        [b1.id, a1.id],
        'a1 due again at 500',
      );
      check(
        !ids(await store.dueTasks({ now: 1e15, limit: 10 })).includes(a2.id),
        'a2 never before a1',
      );
      return undefined;
    },
  },
  {
    name: 'a write queued behind a head in backoff does not make its key due early',
    async run(store) {
      const a1 = await store.enqueue(sampleTask({ orderingKey: 'a', nextAttemptAt: 0 }));
      await store.updateTask({ ...a1, attempts: 1, nextAttemptAt: 500 });
      await store.enqueue(sampleTask({ orderingKey: 'a', createdAt: 100, nextAttemptAt: 100 }));
      const b1 = await store.enqueue(
        sampleTask({ orderingKey: 'b', createdAt: 150, nextAttemptAt: 150 }),
      );
      same(ids(await store.dueTasks({ now: 200, limit: 1 })), [b1.id], 'only b is due');
      await store.removeTask(b1.id);
      same(await nextDueAt(store), 500, 'a stays due at 500');
      same(ids(await store.dueTasks({ now: 200, limit: 10 })), [], 'nothing due at 200');
      same(ids(await store.dueTasks({ now: 500, limit: 10 })), [a1.id], 'a1 first at 500');
      return undefined;
    },
  },
  {
    name: 'later writes to a key do not move its schedule: nextDueAt and dueTasks follow its first task',
    async run(store) {
      const at = (orderingKey: string, t: number) =>
        store.enqueue(sampleTask({ orderingKey, createdAt: t, nextAttemptAt: t }));
      const a1 = await at('a', 1);
      const b1 = await at('b', 2);
      await at('a', 3);
      same(await nextDueAt(store), 1, 'a is due from 1');
      same(ids(await store.dueTasks({ now: 3, limit: 1 })), [a1.id], 'a first');
      same(ids(await store.dueTasks({ now: 3, limit: 2 })), [a1.id, b1.id], 'then b');
      return undefined;
    },
  },
  {
    name: 'removing a head promotes the next task of its key; removing a middle task keeps order',
    async run(store) {
      const t = [] as TaskRecord[];
      for (let i = 0; i < 4; i++)
        t.push(await store.enqueue(sampleTask({ orderingKey: 'k', nextAttemptAt: 0 })));
      await store.removeTask(t[2]!.id);
      await store.removeTask(t[0]!.id);
      same(ids(await store.dueTasks({ now: 0, limit: 10 })), [t[1]!.id], 'second becomes head');
      await store.removeTask(t[1]!.id);
      same(ids(await store.dueTasks({ now: 0, limit: 10 })), [t[3]!.id], 'fourth follows');
      await store.removeTask('missing');
      same(await store.pendingCount(), 1, 'count after removals');
      same(ids(await store.listTasks(10)), [t[3]!.id], 'listTasks');
      return undefined;
    },
  },
  {
    name: 'updateTasks (when present) replaces several tasks at once, ignores missing ones, keeps the schedule',
    async run(store) {
      if (!store.updateTasks) return undefined;
      const a1 = await store.enqueue(sampleTask({ orderingKey: 'a', nextAttemptAt: 0 }));
      const a2 = await store.enqueue(sampleTask({ orderingKey: 'a', nextAttemptAt: 0 }));
      const b1 = await store.enqueue(sampleTask({ orderingKey: 'b', nextAttemptAt: 0 }));
      await store.removeTask(b1.id);
      await store.updateTasks([
        { ...a1, sentAt: 7, inFlightAt: 7, nextAttemptAt: 300 },
        { ...a2, sentAt: 7, inFlightAt: 7 },
        { ...b1, sentAt: 7 },
      ]);
      same((await taskById(store, a1.id))?.sentAt, 7, 'first updated');
      same((await taskById(store, a2.id))?.inFlightAt, 7, 'second updated');
      same(await taskById(store, b1.id), undefined, 'a removed task is not brought back');
      same(await store.pendingCount(), 2, 'count unchanged');
      same(ids(await store.dueTasks({ now: 100, limit: 10 })), [], 'a waits for its head at 300');
      same(ids(await store.dueTasks({ now: 300, limit: 10 })), [a1.id], 'a due at 300');
      return undefined;
    },
  },
];
