import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { expect } from 'vitest';
import { coalescing } from '../../src/coalescing.js';
import { conflicts } from '../../src/conflicts.js';
import {
  isQnoxError,
  MemoryStore,
  type MutationHandle,
  type QnoxLocalStore,
  QnoxSync,
} from '../../src/index.js';
import { SqliteStore } from '../../src/node.js';
import { ManualClock } from '../../src/testing/index.js';
import { drainAll } from './harness.js';
import { type Fault, TestServer } from './test-server.js';

/**
 * The client driven by random calls against a server answering with random
 * statuses, headers, redirects and dropped connections, with random restarts,
 * over MemoryStore and SQLite. Invariants: no untyped error escapes a call;
 * every acknowledged write took effect exactly once; nothing reaches a foreign
 * origin; after a clean final drain every `result` has settled; no timer
 * survives `dispose()`.
 */
export const RUNS = Number(process.env.QNOX_FUZZ_RUNS ?? 1_000);
const dir = mkdtempSync(join(tmpdir(), 'qnox-fuzz-'));
let files = 0;
/** Across runs: proof the generated traffic reaches the paths the invariants are about. */
export const seen = { acknowledged: 0, rejected: 0, redirects: 0, restarts: 0, sqlite: 0 };

const FOREIGN = 'http://127.0.0.1:1';
const paths = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      '/streams/a',
      '/streams/b',
      '/items',
      '/items/1',
      '/items/2',
      'items/1?b=2&a=1',
      '/v/./x/../y',
      '/héllo wörld',
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '/../escape',
      `${FOREIGN}/steal`,
      '//evil.example/x',
      'http://user:pw@127.0.0.1/x',
    ),
  },
);
const odd = fc.constantFrom<unknown>(
  new Map([['a', 1]]),
  new Set([1]),
  new Uint8Array([1, 2]),
  new URLSearchParams('a=1'),
  new Date(0),
  Number.NaN,
  { n: Number.POSITIVE_INFINITY },
  { big: 1n },
  () => 1,
);
const bodies = fc.oneof(
  { weight: 6, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 2, arbitrary: odd },
  { weight: 1, arbitrary: fc.constant(undefined) },
);
const headerNames = fc.constantFrom(
  'x-note',
  'If-Match',
  'Idempotency-Key',
  'bad name',
  'Authorization',
  'content-type',
);
const headerValues = fc.constantFrom('v', '"v1"', 'W/"v1"', 'a\nb', 'ünï€', 'text/plain', 'x');
const headers = fc.option(fc.dictionary(headerNames, headerValues, { maxKeys: 2 }), {
  nil: undefined,
});
const sometimes = <T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<unknown>) =>
  fc.oneof({ weight: 4, arbitrary: good as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: bad });
const writeOptions = fc.record(
  {
    headers,
    idempotencyKey: sometimes(fc.uuid(), fc.constantFrom('', 'k\r\n', 7, 'x'.repeat(300))),
    timeoutMs: sometimes(fc.constant(5_000), fc.constantFrom(0, 1e12, Number.NaN)),
    orderingKey: sometimes(fc.constant('shared'), fc.constant('')),
    coalesce: fc.boolean(),
  },
  { requiredKeys: [] },
);
export const command = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constantFrom('post', 'put', 'patch'),
      path: paths,
      body: bodies,
      options: writeOptions,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('delete'), path: paths, options: writeOptions }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('get'),
      path: paths,
      strategy: fc.constantFrom(
        'networkFirst',
        'cacheFirst',
        'staleWhileRevalidate',
        'cacheOnly',
        'networkOnly',
      ),
      headers,
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('sync') }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('restart') }) },
);
const retryAfter = fc.constantFrom(
  undefined,
  '0',
  '1',
  '-5',
  '1.5',
  '999999999',
  '9'.repeat(400),
  'Wed, 21 Oct 2015 07:28:00 GMT',
);
export const fault: fc.Arbitrary<Fault | undefined> = fc.oneof(
  { weight: 5, arbitrary: fc.constant(undefined) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('status' as const),
      status: fc.constantFrom(301, 302, 303, 307, 308, 400, 404, 409, 412, 425, 428, 429, 500, 503),
      retryAfter,
      headers: fc.record({
        location: fc.constantFrom(
          `${FOREIGN}/portal`,
          '/streams/a',
          'not a url',
          '//evil.example/',
        ),
        'set-cookie': fc.constantFrom('sid=1', 'a=b; HttpOnly'),
        etag: fc.constantFrom('"v9"', 'W/"v9"'),
      }),
    }) as fc.Arbitrary<Fault>,
  },
  { weight: 1, arbitrary: fc.constant<Fault>({ kind: 'reset' }) },
  { weight: 1, arbitrary: fc.constant<Fault>({ kind: 'commit-then-drop' }) },
);

type Command = typeof command extends fc.Arbitrary<infer C> ? C : never;

export async function run(
  commands: readonly Command[],
  faults: readonly (Fault | undefined)[],
  sqlite: boolean,
) {
  const server = new TestServer();
  const foreign = new TestServer();
  await server.start();
  await foreign.start();
  let next = 0;
  server.faultPolicy = (req) => {
    if (req.method === 'HEAD') return undefined;
    const f = faults[next++ % faults.length];
    if (f?.kind === 'status' && f.status >= 300 && f.status < 400) seen.redirects++;
    return f;
  };
  if (sqlite) seen.sqlite++;
  const memory = new MemoryStore();
  const path = join(dir, `fuzz-${++files}.db`);
  const open = (): QnoxLocalStore => (sqlite ? new SqliteStore({ path }) : memory);
  const clock = new ManualClock();
  const options = {
    baseUrl: server.url,
    clock,
    random: () => 0.5,
    autoSync: false,
    allowedOrigins: [server.url],
    retry: { baseDelayMs: 10, maxDelayMs: 1_000, maxAttempts: 3 },
    // The built-in features that are plug-ins, so the fuzzer walks them too.
    plugins: [conflicts(), coalescing()],
  };
  /** The key each write was finally delivered under (a conflict or 428 resend mints a new one). */
  const deliveredKey = new Map<string, string>();
  const create = async () => {
    const client = await QnoxSync.create({ ...options, store: open() });
    client.events.subscribe((e) => {
      if (e.type === 'sent') deliveredKey.set(e.task.id, e.task.idempotencyKey);
    });
    return client;
  };
  let sync = await create();
  const handles: MutationHandle[] = [];
  const settled = new Set<MutationHandle>();
  const acknowledged: string[] = [];
  const untyped: unknown[] = [];
  const check = (error: unknown) => {
    if (!isQnoxError(error)) untyped.push(error);
  };
  /** PUT/PATCH writes a later DELETE may supersede: they settle with its answer and send nothing. */
  const supersedable = new Set<string>();
  const track = (handle: MutationHandle, method: string) => {
    if (method === 'put' || method === 'patch') supersedable.add(handle.id);
    handles.push(handle);
    handle.result.then(
      (answer) => {
        settled.add(handle);
        if (answer.fromCache === false) {
          acknowledged.push(handle.id);
          seen.acknowledged++;
        }
      },
      (error: unknown) => {
        settled.add(handle);
        seen.rejected++;
        check(error);
      },
    );
  };
  try {
    for (const c of commands) {
      try {
        if (c.op === 'get') {
          await sync.get(c.path, {
            strategy: c.strategy as never,
            ...(c.headers ? { headers: c.headers } : {}),
          });
        } else if (c.op === 'delete') {
          track(await sync.delete(c.path, c.options as never), 'delete');
        } else if (c.op === 'sync') {
          await sync.sync();
          clock.advance(2_000);
        } else if (c.op === 'restart') {
          seen.restarts++;
          await sync.dispose();
          expect(clock.pendingTimers).toBe(0);
          sync = await create();
        } else {
          track(await sync[c.op](c.path, c.body, c.options as never), c.op);
        }
      } catch (error) {
        check(error);
      }
    }
    // A clean final drain: every queued write is delivered or dead-lettered.
    server.faultPolicy = undefined;
    sync.resume();
    await drainAll(sync, clock, 2_000);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(untyped).toEqual([]);
    expect(foreign.requests).toEqual([]);
    expect(handles.filter((h) => !settled.has(h))).toEqual([]);
    for (const id of acknowledged) {
      const key = deliveredKey.get(id);
      if (key === undefined && supersedable.has(id)) continue;
      expect(key).toBeDefined();
      expect(server.effects.filter((e) => e.key === key)).toHaveLength(1);
    }
  } finally {
    await sync.dispose();
    expect(clock.pendingTimers).toBe(0);
    await server.stop();
    await foreign.stop();
  }
}
