import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeDefaultStore } from '../src/client/node-client.js';
import { QnoxSync } from '../src/index.js';
import { IndexedDbStore } from '../src/indexeddb.js';
import { browserDefaultStore } from '../src/stores/default-store.js';
import { TestServer } from './helpers/test-server.js';

const globals = globalThis as { indexedDB?: unknown; IDBKeyRange?: unknown };

describe('default store per entry point, loaded on demand', () => {
  afterEach(() => {
    delete globals.indexedDB;
    delete globals.IDBKeyRange;
  });

  it('is refused where there is neither IndexedDB nor the Node entry: no silent memory store', async () => {
    await expect(QnoxSync.create({ baseUrl: 'http://127.0.0.1:1' })).rejects.toMatchObject({
      code: 'config',
      option: 'store',
    });
  });

  it('bad options fail before any default store is loaded', async () => {
    globals.indexedDB = new IDBFactory();
    await expect(QnoxSync.create({ baseUrl: 'ftp://x' })).rejects.toMatchObject({
      option: 'baseUrl',
    });
  });

  it('is IndexedDB wherever indexedDB exists, and the client delivers on it', async () => {
    globals.indexedDB = new IDBFactory();
    globals.IDBKeyRange = IDBKeyRange;
    expect(await browserDefaultStore()).toBeInstanceOf(IndexedDbStore);
    const server = new TestServer();
    const sync = await QnoxSync.create({ baseUrl: await server.start() });
    try {
      await expect((await sync.post('/streams/d', { n: 1 })).result).resolves.toMatchObject({
        status: 201,
      });
      expect(server.streams.get('d')).toEqual([1]);
    } finally {
      await sync.dispose();
      await server.stop();
    }
  });

  it('is SQLite through the Node entry, whose QnoxSync is the same client', async () => {
    const node = await import('../src/index.node.js');
    expect(await nodeDefaultStore()).toBeInstanceOf(node.SqliteStore);
    expect(node.QnoxSync.prototype).toBeInstanceOf(QnoxSync);
    expect(node.QnoxSync).not.toBe(QnoxSync);
  });
});
