import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/index.js';
import { IndexedDbStore } from '../src/indexeddb.js';
import type { TaskRecord } from '../src/model/records.js';
import { sampleTask } from '../src/testing/index.js';

/**
 * Two IndexedDbStores on one database (two tabs), driven as drains drive them
 * (read the due heads, read each key ahead, remove, back off), interleaved at
 * random with each other, against MemoryStore as the model. The stores keep
 * hints about what they read (RowAddresses); whatever the interleaving, every
 * answer of `dueTasks` and `nextDueAt` must be the model's.
 */
type Op =
  | { kind: 'enqueue'; tab: 0 | 1; key: string }
  | { kind: 'read'; tab: 0 | 1 }
  | { kind: 'removeHead'; tab: 0 | 1; pick: number }
  | { kind: 'removeAny'; tab: 0 | 1; pick: number }
  | { kind: 'removeAgain'; tab: 0 | 1; pick: number }
  | { kind: 'check' }
  | { kind: 'backoff'; tab: 0 | 1; pick: number; delay: number };

const tab = fc.constantFrom(0 as const, 1 as const);
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('enqueue' as const), tab, key: fc.constantFrom('a', 'b') }),
  fc.record({ kind: fc.constant('read' as const), tab }),
  fc.record({ kind: fc.constant('removeHead' as const), tab, pick: fc.nat() }),
  fc.record({ kind: fc.constant('removeAny' as const), tab, pick: fc.nat() }),
  // A tab that lost its lock mid-drain commits a removal the new sender already made.
  fc.record({ kind: fc.constant('removeAgain' as const), tab, pick: fc.nat() }),
  fc.record({ kind: fc.constant('check' as const) }),
  fc.record({
    kind: fc.constant('backoff' as const),
    tab,
    pick: fc.nat(),
    delay: fc.integer({ min: 1, max: 50 }),
  }),
);

const ids = (tasks: TaskRecord[]) => tasks.map((t) => t.id);
let db = 0;

describe('IndexedDbStore schedules under two interleaved tabs', () => {
  it('answer dueTasks and nextDueAt as the model does, whatever the interleaving', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 60 }), async (ops) => {
        const factory = new IDBFactory();
        const name = `schedule-${++db}`;
        const tabs = [0, 1].map(
          () => new IndexedDbStore({ name, indexedDB: factory, IDBKeyRange }),
        );
        const model = new MemoryStore();
        const removed: string[] = [];
        let now = 0;
        const check = async () => {
          for (const view of tabs) {
            expect(ids(await view.dueTasks({ now, limit: 10 }))).toEqual(
              ids(await model.dueTasks({ now, limit: 10 })),
            );
            expect(await view.nextDueAt()).toBe(await model.nextDueAt());
          }
        };
        try {
          for (const step of ops) {
            now += 1;
            if (step.kind === 'check') {
              await check();
              continue;
            }
            const store = tabs[step.tab]!;
            if (step.kind === 'enqueue') {
              // A task's due time is its enqueue time until it is first and backs off.
              const task = sampleTask({
                orderingKey: step.key,
                createdAt: now,
                nextAttemptAt: now,
              });
              await store.enqueue(task);
              await model.enqueue(task);
            } else if (step.kind === 'read') {
              for (const head of await store.dueTasks({ now, limit: 10 }))
                await store.tasksAfter(head.orderingKey, head.seq, 32);
            } else if (step.kind === 'removeHead' || step.kind === 'removeAny') {
              const pool =
                step.kind === 'removeHead'
                  ? await model.dueTasks({ now: Number.MAX_SAFE_INTEGER, limit: 10 })
                  : await model.listTasks(1_000);
              const victim = pool[step.pick % Math.max(1, pool.length)];
              if (!victim) continue;
              await store.removeTask(victim.id);
              await model.removeTask(victim.id);
              removed.push(victim.id);
            } else if (step.kind === 'removeAgain') {
              const id = removed[step.pick % Math.max(1, removed.length)];
              if (id !== undefined) await store.removeTask(id);
            } else {
              const heads = await model.dueTasks({ now: Number.MAX_SAFE_INTEGER, limit: 10 });
              const head = heads[step.pick % Math.max(1, heads.length)];
              if (!head) continue;
              const mine = (await store.getTask(head.id))!;
              const nextAttemptAt = now + step.delay;
              await store.updateTask({ ...mine, attempts: mine.attempts + 1, nextAttemptAt });
              await model.updateTask({ ...head, attempts: head.attempts + 1, nextAttemptAt });
            }
          }
          await check();
        } finally {
          for (const store of tabs) await store.close();
        }
      }),
      { numRuns: 150 },
    );
  }, 60_000);
});
