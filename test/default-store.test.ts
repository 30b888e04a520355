import { IDBFactory } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { IndexedDbStore } from '../src/indexeddb.js';
import { defaultStore } from '../src/stores/default-store.js';

describe('default store per platform', () => {
  afterEach(() => {
    delete (globalThis as { indexedDB?: unknown }).indexedDB;
  });

  it('is refused where there is neither IndexedDB nor the Node entry: no silent memory store', () => {
    expect(() => defaultStore()).toThrow(
      expect.objectContaining({ code: 'config', option: 'store' }),
    );
  });

  it('is IndexedDB wherever indexedDB exists', () => {
    (globalThis as { indexedDB?: unknown }).indexedDB = new IDBFactory();
    expect(defaultStore()).toBeInstanceOf(IndexedDbStore);
  });

  it('is SQLite once the Node entry point is loaded', async () => {
    const node = await import('../src/index.node.js');
    expect(defaultStore()).toBeInstanceOf(node.SqliteStore);
  });
});
