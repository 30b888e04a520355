import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { MemoryStore, type SyncEvent } from '../src/index.js';
import { IndexedDbStore } from '../src/indexeddb.js';
import { SqliteStore } from '../src/node.js';
import { closeAfterEach, drainAll, startHarness } from './helpers/harness.js';

const closer = closeAfterEach();
const dir = mkdtempSync(join(tmpdir(), 'qnox-damaged-'));
let n = 0;

async function onSqlite() {
  const path = join(dir, `damaged-${++n}.db`);
  const h = await startHarness({ autoSync: false, store: new SqliteStore({ path }) });
  closer.close = h.close;
  const events: SyncEvent[] = [];
  h.sync.events.subscribe((e) => events.push(e));
  const raw = new Database(path);
  /** Rewrites a queued task's record with a URL that is not one (it still reads as a task). */
  const damageUrl = (id: string) => {
    const row = raw.prepare('SELECT record FROM qnox_tasks WHERE id = ?').get(id) as {
      record: string;
    };
    raw
      .prepare('UPDATE qnox_tasks SET record = ? WHERE id = ?')
      .run(JSON.stringify({ ...JSON.parse(row.record), url: 'not a url' }), id);
  };
  return { ...h, events, raw, damageUrl };
}

describe('a damaged row stops nothing else', () => {
  it('SQLite: a garbage dead letter is skipped and reported by deadLetters(), and can be discarded', async () => {
    const h = await onSqlite();
    h.server.fail({ kind: 'status', status: 400 });
    const good = await h.sync.post('/streams/a', { n: 1 });
    good.result.catch(() => {});
    await drainAll(h.sync, h.clock);
    h.raw
      .prepare('INSERT INTO qnox_dead (id, failed_at, seq, record) VALUES (?, 0, 0, ?)')
      .run('junk', '{not json');
    h.raw.close();
    const dead = await h.sync.deadLetters();
    expect(dead.map((d) => d.task.id)).toEqual([good.id]);
    expect(h.events.some((e) => e.type === 'quarantined' && e.id === 'junk')).toBe(true);
    await h.sync.discardDeadLetter('junk');
    expect(await h.sync.deadLetters()).toHaveLength(1);
  });

  it('SQLite: a garbage cache row is a miss, read again from the network', async () => {
    const h = await onSqlite();
    await h.sync.get('/page');
    h.raw.prepare('UPDATE qnox_cache SET record = ?').run('garbage');
    h.raw.close();
    const again = await h.sync.get('/page', { strategy: 'cacheFirst' });
    expect(again.fromCache).toBe(false);
    expect(again.data).toMatchObject({ path: '/page' });
    expect((await h.sync.get('/page', { strategy: 'cacheOnly' })).fromCache).toBe(true);
  });

  it('SQLite: a task whose URL is not a URL is quarantined; the rest of the outbox flows', async () => {
    const h = await onSqlite();
    const bad = await h.sync.post('/streams/a', { n: 1 });
    bad.result.catch(() => {});
    await h.sync.post('/streams/b', { n: 2 });
    h.damageUrl(bad.id);
    h.raw.close();
    await drainAll(h.sync, h.clock);
    expect(h.server.streams.get('b')).toEqual([2]);
    expect(h.events.some((e) => e.type === 'quarantined')).toBe(true);
  });

  it('SQLite: a task row that is not JSON is moved to quarantine, and the client lists it', async () => {
    const h = await onSqlite();
    const bad = await h.sync.post('/streams/a', { n: 1 });
    bad.result.catch(() => {});
    await h.sync.post('/streams/b', { n: 2 });
    h.raw.prepare('UPDATE qnox_tasks SET record = ? WHERE id = ?').run('{not json', bad.id);
    h.raw.close();
    await drainAll(h.sync, h.clock);
    expect(h.server.streams.get('b')).toEqual([2]);
    expect((await h.sync.quarantined()).map((q) => q.id)).toEqual([bad.id]);
  });

  it('one list of what was set aside: a row that is not JSON and a write whose URL is damaged', async () => {
    const h = await onSqlite();
    const [unreadable, unusable] = [
      await h.sync.post('/streams/a', { n: 1 }),
      await h.sync.post('/streams/b', { n: 2 }),
    ];
    for (const w of [unreadable, unusable]) w.result.catch(() => {});
    await h.sync.post('/streams/c', { n: 3 });
    h.raw.prepare('UPDATE qnox_tasks SET record = ? WHERE id = ?').run('{not json', unreadable.id);
    h.damageUrl(unusable.id);
    h.raw.close();
    await drainAll(h.sync, h.clock);
    expect(h.server.streams.get('c')).toEqual([3]);
    const listed = await h.sync.quarantined();
    expect(listed.map((q) => q.id).sort()).toEqual([unreadable.id, unusable.id].sort());
    expect(listed.every((q) => q.reason.length > 0 && q.raw !== undefined)).toBe(true);
    const reported = h.events.filter((e) => e.type === 'quarantined').map((e) => e.id);
    expect(reported.sort()).toEqual([unreadable.id, unusable.id].sort());
  });

  it('MemoryStore: a task whose URL or headers were damaged becomes a quarantined dead letter; the rest flows', async () => {
    const store = new MemoryStore();
    const h = await startHarness({ autoSync: false, store });
    closer.close = h.close;
    const a = await h.sync.post('/streams/a', { n: 1 });
    const b = await h.sync.post('/streams/b', { n: 2 });
    a.result.catch(() => {});
    b.result.catch(() => {});
    const c = await h.sync.post('/streams/c', { n: 3 });
    await store.updateTask({ ...(await store.getTask(a.id))!, url: 'not a url' });
    await store.updateTask({ ...(await store.getTask(b.id))!, headers: { 'x-bad': 'a\nb' } });
    await drainAll(h.sync, h.clock);
    expect((await c.result).status).toBe(201);
    const dead = await h.sync.deadLetters();
    expect(dead.map((d) => [d.task.id, d.reason]).sort()).toEqual(
      [
        [a.id, 'quarantined'],
        [b.id, 'quarantined'],
      ].sort(),
    );
    expect((await h.sync.quarantined()).map((q) => q.id).sort()).toEqual([a.id, b.id].sort());
    expect(h.sync.onSyncStatus.value.phase).not.toBe('error');
  });

  it('IndexedDB: a garbage dead letter and a garbage cache record are skipped, reported, and discardable', async () => {
    const factory = new IDBFactory();
    const store = new IndexedDbStore({
      name: 'damaged',
      indexedDB: factory,
      IDBKeyRange,
    });
    const h = await startHarness({ autoSync: false, store });
    closer.close = h.close;
    const events: SyncEvent[] = [];
    h.sync.events.subscribe((e) => events.push(e));
    await h.sync.get('/page');
    const db = await new Promise<IDBDatabase>((resolve) => {
      const req = factory.open('damaged');
      req.onsuccess = () => resolve(req.result);
    });
    await new Promise<void>((resolve) => {
      const tx = db.transaction(['dead', 'cache'], 'readwrite');
      tx.objectStore('dead').put({ id: 'junk', record: 'garbage' });
      const cache = tx.objectStore('cache');
      const req = cache.getAll();
      req.onsuccess = () => {
        for (const row of req.result as { key: string }[]) cache.put({ key: row.key, v: 99 });
      };
      tx.oncomplete = () => resolve();
    });
    db.close();
    expect(await h.sync.deadLetters()).toEqual([]);
    expect(events.some((e) => e.type === 'quarantined' && e.id === 'junk')).toBe(true);
    await h.sync.discardDeadLetter('junk');
    expect((await h.sync.get('/page', { strategy: 'cacheFirst' })).fromCache).toBe(false);
  });
});

describe('sync() with autoSync: false', () => {
  it('a head quarantined during the pass does not leave its key due: the next write goes in the same sync()', async () => {
    const h = await onSqlite();
    const bad = await h.sync.post('/streams/k', { n: 0 });
    bad.result.catch(() => {});
    const good = await h.sync.post('/streams/k', { n: 1 });
    h.raw.prepare('UPDATE qnox_tasks SET record = ? WHERE id = ?').run('{garbage', bad.id);
    h.raw.close();
    const report = await h.sync.sync();
    expect(report.delivered).toBe(1);
    expect((await good.result).status).toBe(201);
    expect(await h.sync.pendingCount()).toBe(0);
  });
});
