import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TaskRecord } from '../src/model/records.js';
import { packTask, unpackTask } from '../src/stores/packed-task.js';

const body = fc.oneof(
  fc.record({ kind: fc.constant('json' as const), value: fc.jsonValue() }),
  fc.record({ kind: fc.constant('text' as const), value: fc.string() }),
);

const task = fc.record(
  {
    v: fc.constant(1),
    id: fc.string({ minLength: 1 }),
    seq: fc.nat(),
    idempotencyKey: fc.string({ minLength: 1 }),
    method: fc.constantFrom('POST', 'PUT', 'PATCH', 'DELETE'),
    url: fc.webUrl(),
    headers: fc.dictionary(fc.string({ minLength: 1 }), fc.string()),
    body,
    orderingKey: fc.string(),
    createdAt: fc.nat(),
    attempts: fc.nat(),
    nextAttemptAt: fc.nat(),
    lastError: fc.record({ code: fc.string(), message: fc.string() }),
    timeoutMs: fc.nat(),
    base: fc.jsonValue(),
    conflict: fc.constantFrom('park', 'server-wins', 'client-wins', 'merge'),
    conflictRounds: fc.nat(),
    futureField: fc.string(),
  },
  {
    requiredKeys: [
      'v',
      'id',
      'seq',
      'idempotencyKey',
      'method',
      'url',
      'headers',
      'orderingKey',
      'createdAt',
      'attempts',
      'nextAttemptAt',
    ],
  },
) as fc.Arbitrary<TaskRecord>;

describe('packed task (MemoryStore record form)', () => {
  it('round-trips every field, optional and unknown ones included', () => {
    fc.assert(
      fc.property(task, (record) => {
        const back = unpackTask(record.id, packTask(record));
        // Compare as JSON: what a store must preserve (undefined fields vanish, -0 becomes 0).
        expect(JSON.parse(JSON.stringify(back))).toEqual(JSON.parse(JSON.stringify(record)));
      }),
    );
  });

  it('gives each read its own copy', () => {
    const packed = packTask({
      v: 1,
      id: 'a',
      seq: 1,
      idempotencyKey: 'k',
      method: 'POST',
      url: 'https://x.test/a',
      headers: { h: '1' },
      body: { kind: 'json', value: { n: 1 } },
      orderingKey: '/a',
      createdAt: 0,
      attempts: 0,
      nextAttemptAt: 0,
    });
    const first = unpackTask('a', packed) as { headers: Record<string, string> };
    first.headers.h = 'changed';
    expect(unpackTask('a', packed).headers).toEqual({ h: '1' });
  });
});
