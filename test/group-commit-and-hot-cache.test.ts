import { afterEach, describe, expect, it, vi } from 'vitest';
import { HOT_ENTRY } from '../scripts/bench-fixtures.js';
import { HotCache } from '../src/plugins/hot-cache/hot-cache.js';
import { GroupCommit } from '../src/stores/group-commit.js';
import { ManualClock } from '../src/testing/index.js';

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('GroupCommit', () => {
  it('calls made together share a batch, and calls made while it commits share the next one', async () => {
    const batches: number[][] = [];
    const gates: ReturnType<typeof deferred<void>>[] = [];
    const group = new GroupCommit<number, number>(async (items) => {
      batches.push(items);
      const gate = deferred<void>();
      gates.push(gate);
      await gate.promise;
      return items.map((n) => n * 10);
    });
    const first = [1, 2, 3].map((n) => group.add(n));
    await Promise.resolve();
    const second = [4, 5].map((n) => group.add(n));
    await new Promise((r) => setTimeout(r, 5));
    expect(batches).toEqual([[1, 2, 3]]);
    gates[0]!.resolve();
    expect(await Promise.all(first)).toEqual([10, 20, 30]);
    await new Promise((r) => setTimeout(r, 5));
    expect(batches).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
    gates[1]!.resolve();
    expect(await Promise.all(second)).toEqual([40, 50]);
  });

  it('in a stream of calls a batch lingers on the clock for more; after a lull it commits at once', async () => {
    const clock = new ManualClock();
    const batches: number[][] = [];
    const group = new GroupCommit<number, void>(
      async (items) => {
        batches.push(items);
        return items.map(() => undefined);
      },
      200,
      200,
      clock,
    );
    await group.add(1); // after a lull: at once
    const streaming = [group.add(2), group.add(3)];
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([[1]]); // within 200 ms of the last batch: it lingers
    clock.advance(199);
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([[1]]);
    clock.advance(1);
    await Promise.all(streaming);
    expect(batches).toEqual([[1], [2, 3]]);
    clock.advance(1_000);
    await group.add(4); // a lull again
    expect(batches).toEqual([[1], [2, 3], [4]]);
  });

  it('a failed batch rejects its own calls only', async () => {
    let fail = true;
    const group = new GroupCommit<number, number>(async (items) => {
      if (fail) {
        fail = false;
        throw new Error('disk full');
      }
      return items;
    });
    await expect(group.add(1)).rejects.toThrow('disk full');
    expect(await group.add(2)).toBe(2);
  });
});

describe('GroupCommit with linger', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A lingering GroupCommit on fake timers that records each batch it commits. */
  function recorder(lingerMs: number) {
    vi.useFakeTimers();
    const batches: number[][] = [];
    const group = new GroupCommit<number, void>(async (items) => {
      batches.push(items);
      return [];
    }, lingerMs);
    return { batches, group };
  }

  it('commits at once after a lull, and lingers to gather a stream of calls', async () => {
    const { batches, group } = recorder(20);
    await group.add(1); // after a lull: no wait
    expect(batches).toEqual([[1]]);
    const second = group.add(2); // right after a commit: a stream, so it lingers
    await vi.advanceTimersByTimeAsync(10);
    const third = group.add(3);
    expect(batches).toEqual([[1]]);
    await vi.advanceTimersByTimeAsync(10);
    await Promise.all([second, third]);
    expect(batches).toEqual([[1], [2, 3]]);
    await vi.advanceTimersByTimeAsync(1_000);
    await group.add(4); // a lull again
    expect(batches).toEqual([[1], [2, 3], [4]]);
  });

  it('flush() ends the wait: the last calls of a stream commit at once', async () => {
    const { batches, group } = recorder(50);
    await group.add(1);
    const lingering = group.add(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(batches).toEqual([[1]]);
    group.flush();
    await vi.advanceTimersByTimeAsync(0);
    await lingering;
    expect(batches).toEqual([[1], [2]]);
    group.flush(); // nothing waits: no empty batch
    await vi.advanceTimersByTimeAsync(100);
    expect(batches).toEqual([[1], [2]]);
  });

  it('flush() while a batch commits sends the calls behind it without lingering', async () => {
    vi.useFakeTimers();
    const batches: number[][] = [];
    const gate = deferred<void>();
    const group = new GroupCommit<number, void>(async (items) => {
      batches.push(items);
      if (items[0] === 2) await gate.promise;
      return [];
    }, 50);
    await group.add(1);
    const second = group.add(2); // lingers
    await vi.advanceTimersByTimeAsync(50); // batch [2] commits, held at the gate
    const third = group.add(3);
    group.flush();
    gate.resolve();
    await second;
    await vi.advanceTimersByTimeAsync(1);
    await third;
    expect(batches).toEqual([[1], [2], [3]]);
  });
});

describe('HotCache', () => {
  const name = () => `hot-test-${Math.random()}`;

  it('serves a kept record without loading, as a fresh copy each time', async () => {
    const hot = new HotCache(10, name());
    let loads = 0;
    const load = async () => {
      loads++;
      return HOT_ENTRY;
    };
    await hot.read('hot', load);
    const a = (await hot.read('hot', load))!;
    (a.headers as Record<string, string>).x = 'changed';
    expect((await hot.read('hot', load))!.headers).toEqual({});
    expect(loads).toBe(1);
    hot.close();
  });

  it('does not keep what a read saw when a write of that key ran meanwhile', async () => {
    const hot = new HotCache(10, name());
    const slow = deferred<typeof HOT_ENTRY>();
    const reading = hot.read('hot', () => slow.promise);
    await hot.write('hot', async () => undefined);
    slow.resolve(HOT_ENTRY);
    await reading;
    let loads = 0;
    await hot.read('hot', async () => {
      loads++;
      return undefined;
    });
    expect(loads).toBe(1);
    hot.close();
  });

  it('keeps at most `limit` keys, dropping the least recently used', async () => {
    const hot = new HotCache(2, name());
    const loads: string[] = [];
    const load = (key: string) => async () => {
      loads.push(key);
      return { ...HOT_ENTRY, key };
    };
    for (const key of ['a', 'b', 'a', 'c', 'a', 'b']) await hot.read(key, load(key));
    expect(loads).toEqual(['a', 'b', 'c', 'b']);
    hot.close();
  });
});
