/** What the conformance cases share: the case shape, a sample task, and checks that throw. */
import { type NewTaskRecord, RECORD_VERSION, type TaskRecord } from '../model/records.js';
import type { QnoxLocalStore } from '../stores/local-store.js';
import type { StoreFactory } from './store-conformance.js';

export interface Case {
  readonly name: string;
  readonly needs?: 'reopen' | 'corrupt';
  run(store: QnoxLocalStore, factory: StoreFactory): Promise<QnoxLocalStore | undefined>;
}

let counter = 0;

/** A task input for tests; override any field. */
export function sampleTask(overrides: Partial<NewTaskRecord> = {}): NewTaskRecord {
  counter++;
  return {
    v: RECORD_VERSION,
    id: `task-${counter}-${Math.random().toString(36).slice(2)}`,
    idempotencyKey: `key-${counter}`,
    method: 'POST',
    url: 'https://api.example.com/items',
    headers: { 'x-test': 'yes' },
    body: { kind: 'json', value: { n: counter, nested: { list: [1, 'two', null] } } },
    orderingKey: '/items',
    createdAt: 1_000,
    attempts: 0,
    nextAttemptAt: 1_000,
    ...overrides,
  };
}

export function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(`Store conformance: ${message}`);
}

/** JSON with sorted object keys: records are compared by content, not by key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)),
        )
      : v,
  );
}

export function same(actual: unknown, expected: unknown, message: string): void {
  const a = canonical(actual);
  const e = canonical(expected);
  if (a !== e) throw new Error(`Store conformance: ${message}\n  expected ${e}\n  actual   ${a}`);
}

export const ids = (tasks: readonly TaskRecord[]) => tasks.map((t) => t.id);
