import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import { encryptedStore } from '../src/encryption.js';
import { QnoxSync, StorageError } from '../src/index.js';
import { SqliteStore } from '../src/node.js';
import { ManualClock, runStoreConformance } from '../src/testing/index.js';
import { closeAfterEach, drainAll } from './helpers/harness.js';
import { openRace } from './helpers/open-race.js';
import { TestServer } from './helpers/test-server.js';

const dir = mkdtempSync(join(tmpdir(), 'qnox-sqlite-'));
let n = 0;
const file = () => join(dir, `db-${n}.sqlite`);

runStoreConformance(
  'SqliteStore (better-sqlite3)',
  {
    create: () => {
      n++;
      return new SqliteStore({ path: file() });
    },
    async reopen(store) {
      await store.close();
      const again = new SqliteStore({ path: file() });
      await again.init();
      return again;
    },
    async corrupt(_store, id) {
      const db = new Database(file());
      db.prepare('UPDATE qnox_tasks SET record = ? WHERE id = ?').run(
        `{"id":"${id}","v":1,"broken`,
        id,
      );
      db.close();
    },
  },
  { describe, it },
);

runStoreConformance(
  'encryptedStore(SqliteStore, passphrase)',
  {
    create: () => {
      n++;
      return encryptedStore(new SqliteStore({ database: new Database(file()) }), {
        passphrase: 'pw',
        iterations: 1_000,
      });
    },
  },
  { describe, it },
);

describe('SqliteStore', () => {
  const closer = closeAfterEach();

  it('lets one store at a time drain a file, and hands over when it closes', async () => {
    const path = join(dir, 'lock.sqlite');
    const a = new SqliteStore({ path });
    const b = new SqliteStore({ path });
    await a.init();
    await b.init();
    expect(await a.acquireDrainLock()).toBe(true);
    expect(await b.acquireDrainLock()).toBe(false);
    await a.close();
    expect(await b.acquireDrainLock()).toBe(true);
    await b.close();
  });

  it("with onLocked: 'error', a second drainer gets a typed error instead of waiting", async () => {
    const path = join(dir, 'lock-error.sqlite');
    const a = new SqliteStore({ path });
    const b = new SqliteStore({ path, onLocked: 'error' });
    await a.init();
    await b.init();
    expect(await a.acquireDrainLock()).toBe(true);
    await expect(b.acquireDrainLock()).rejects.toMatchObject({ code: 'storage' });
    await a.close();
    expect(await b.acquireDrainLock()).toBe(true);
    await b.close();
  });

  it('takes over the lock of a process that died', async () => {
    const path = join(dir, 'dead-owner.sqlite');
    const store = new SqliteStore({ path });
    await store.init();
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      timeout: 5_000,
    });
    const db = new Database(path);
    db.prepare('INSERT INTO qnox_lock (slot, owner, pid, renewed_at) VALUES (1, ?, ?, ?)').run(
      'crashed',
      Number(gone.stdout),
      Date.now(),
    );
    db.close();
    expect(await store.acquireDrainLock()).toBe(true);
    await store.close();
  });

  for (const [who, pid] of [
    ['this very pid (PID 1 in a restarted container)', process.pid],
    ['a live unrelated process', process.ppid],
  ] as const) {
    it(`a stale lock row whose pid is now ${who} is taken over once its lease ran out`, async () => {
      const path = join(dir, `reused-pid-${pid}.sqlite`);
      const store = new SqliteStore({ path });
      await store.init();
      const db = new Database(path);
      const claim = db.prepare(
        'INSERT OR REPLACE INTO qnox_lock (slot, owner, pid, renewed_at) VALUES (1, ?, ?, ?)',
      );
      // Fresh: a live holder is respected.
      claim.run('someone-else', pid, Date.now());
      expect(await store.acquireDrainLock()).toBe(false);
      // Its lease ran out (the holder crashed long ago): taken over, whoever has the pid now.
      claim.run('someone-else', pid, Date.now() - 31_000);
      db.close();
      expect(await store.acquireDrainLock()).toBe(true);
      await store.close();
    });
  }

  it('a drainer whose lock was taken over stops sending (holdsDrainLock turns false)', async () => {
    const path = join(dir, 'lost-lock.sqlite');
    let now = Date.now();
    const store = new SqliteStore({ path });
    await store.init();
    expect(await store.acquireDrainLock()).toBe(true);
    expect(store.holdsDrainLock()).toBe(true);
    const db = new Database(path);
    db.prepare('UPDATE qnox_lock SET owner = ? WHERE slot = 1').run('taker');
    db.close();
    now += 6_000;
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(now);
    try {
      expect(store.holdsDrainLock()).toBe(false);
      expect(await store.acquireDrainLock()).toBe(false);
    } finally {
      vi.useRealTimers();
    }
    await store.close();
  });

  it('two clients on one file: both enqueue, one drains, every write lands once', async () => {
    const server = new TestServer();
    const baseUrl = await server.start();
    const path = join(dir, 'two-clients.sqlite');
    const clockA = new ManualClock();
    const a = await QnoxSync.create({
      baseUrl,
      store: new SqliteStore({ path }),
      clock: clockA,
      autoSync: false,
    });
    const b = await QnoxSync.create({
      baseUrl,
      store: new SqliteStore({ path }),
      clock: new ManualClock(),
      autoSync: false,
    });
    closer.close = async () => {
      await server.stop();
    };
    await a.sync();
    for (let i = 0; i < 10; i++) await (i % 2 ? a : b).post('/streams/shared', { n: i });
    expect((await b.sync()).delivered).toBe(0);
    // B cannot send while A holds the file: never "idle" with writes due.
    expect(b.onSyncStatus.value.phase).toBe('backoff');
    expect(b.onSyncStatus.value.nextRetryAt).not.toBeNull();
    await drainAll(a, clockA);
    expect(server.streams.get('shared')).toEqual([...Array(10).keys()]);
    await a.dispose();
    await b.dispose();
  });

  it('schema versions: a fresh file is at version 1, a reopen keeps its rows, a newer file is refused', async () => {
    const path = join(dir, 'versions.sqlite');
    const { sampleTask } = await import('../src/testing/index.js');
    const task = sampleTask({ orderingKey: 'kept', nextAttemptAt: 0 });
    const first = new SqliteStore({ path });
    await first.init();
    await first.enqueue(task);
    await first.close();
    const version = (file: string) => {
      const db = new Database(file);
      const v = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
      return { db, v };
    };
    const fresh = version(path);
    expect(fresh.v).toBe(1);
    fresh.db.close();
    const again = new SqliteStore({ path });
    await again.init();
    expect(await again.pendingCount()).toBe(1);
    expect((await again.dueTasks({ now: 0, limit: 5 })).map((t) => t.id)).toEqual([task.id]);
    await again.close();
    const newer = version(path);
    newer.db.exec('PRAGMA user_version = 2');
    newer.db.close();
    const refused = await new SqliteStore({ path }).init().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StorageError);
    expect(String((refused as Error).message)).toMatch(
      /schema version 2; this build knows up to 1/,
    );
  });

  it('fresh files opened by three processes at the same instant: every open succeeds (the WAL switch retries the lock deadlock SQLite breaks with SQLITE_BUSY)', async () => {
    expect(await openRace(mkdtempSync(join(dir, 'race-')))).toEqual(['[]', '[]', '[]']);
  });

  it('clear() leaves no old body in the file or its WAL (secure_delete and a checkpoint)', async () => {
    const { readFileSync, existsSync } = await import('node:fs');
    const path = join(dir, 'wiped.sqlite');
    const server = new TestServer();
    const baseUrl = await server.start();
    const clock = new ManualClock();
    const sync = await QnoxSync.create({
      baseUrl,
      store: new SqliteStore({ path }),
      clock,
      autoSync: false,
    });
    closer.close = async () => {
      await sync.dispose();
      await server.stop();
    };
    await sync.get('/CANARYCACHEDBODY');
    await sync.post('/streams/a', { secret: 'CANARYQUEUEDBODY' });
    await sync.clear({ cache: true, outbox: true });
    const bytes = [path, `${path}-wal`]
      .filter((file) => existsSync(file))
      .map((file) => readFileSync(file).toString('latin1'))
      .join('');
    expect(bytes.length).toBeGreaterThan(0);
    expect(bytes).not.toMatch(/CANARY/);
  });

  it('creates the folders of a new database file', async () => {
    const store = new SqliteStore({
      path: join(dir, 'missing-dir', 'x', '..', '..', 'nope', 'db.sqlite'),
    });
    await store.init();
    expect(await store.pendingCount()).toBe(0);
    await store.close();
  });
});
