import { describe, expect, it } from 'vitest';
import { cancelCreate } from '../src/cancel-create.js';
import type { SyncEvent } from '../src/index.js';
import { closeAfterEach, drainAll, startHarness } from './helpers/harness.js';

const closer = closeAfterEach();

async function offlineClient() {
  const h = await startHarness({ autoSync: false, plugins: [cancelCreate()] });
  closer.close = h.close;
  const events: SyncEvent[] = [];
  h.sync.events.subscribe((e) => events.push(e));
  return { ...h, events };
}

describe('DELETE of a resource created locally (`cancels`)', () => {
  it('drops the never-sent create and the writes queued for it; nothing reaches the server', async () => {
    const h = await offlineClient();
    await h.sync.post('/streams/other', { n: 1 });
    const created = await h.sync.post('/items', { id: 'tmp-1', title: 'draft' });
    const edited = await h.sync.patch('/items/tmp-1', { title: 'better draft' });
    const deleted = await h.sync.delete('/items/tmp-1', { cancels: created.id });

    await expect(created.result).rejects.toMatchObject({ code: 'cancelled' });
    await expect(edited.result).rejects.toMatchObject({ code: 'cancelled' });
    expect(await deleted.result).toMatchObject({ status: 204, fromCache: true });
    expect(await h.sync.pendingCount()).toBe(1);
    expect(h.sync.onSyncStatus.value.pending).toBe(1);
    expect(h.events.filter((e) => e.type === 'cancelled').map((e) => e.task.id)).toEqual([
      created.id,
      edited.id,
    ]);

    await drainAll(h.sync, h.clock);
    expect(h.server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /streams/other']);
  });

  it('rolls back what the dropped create showed in the cache', async () => {
    const h = await offlineClient();
    h.server.editItem('1', { title: 'kept' });
    await h.sync.get('/items');
    const created = await h.sync.post(
      '/items',
      { id: 'tmp-2', title: 'draft' },
      {
        optimistic: (list) => [...(list as unknown[]), { id: 'tmp-2', value: { title: 'draft' } }],
      },
    );
    expect(JSON.stringify((await h.sync.get('/items', { strategy: 'cacheOnly' })).data)).toContain(
      'tmp-2',
    );
    await h.sync.delete('/items/tmp-2', { cancels: created.id });
    const after = await h.sync.get('/items', { strategy: 'cacheOnly' });
    expect(JSON.stringify(after.data)).not.toContain('tmp-2');
    expect(after.pendingWrites).toBe(false);
  });

  it('queues the DELETE as usual once the create may have reached the server', async () => {
    const h = await offlineClient();
    h.server.fail({ kind: 'commit-then-drop' });
    // The server names the new item "1"; the app knows it as the resource to delete.
    const created = await h.sync.post('/items', { title: 'draft' });
    await h.sync.sync();
    expect(await h.sync.pendingCount()).toBe(1);
    const deleted = await h.sync.delete('/items/1', { cancels: created.id });
    expect(await h.sync.pendingCount()).toBe(2);
    await drainAll(h.sync, h.clock);
    expect((await created.result).status).toBe(201);
    expect(h.server.requestsTo('DELETE', '/items/1')).toHaveLength(1);
    expect(h.server.items.has('1')).toBe(false);
    expect((await deleted.result).fromCache).toBe(false);
  });

  it('without the plug-in, cancels is a ConfigError naming it, and nothing is dropped or queued', async () => {
    const h = await startHarness({ autoSync: false });
    closer.close = h.close;
    const created = await h.sync.post('/items', { title: 'draft' });
    const refused = await h.sync.delete('/items/9', { cancels: created.id }).catch((e) => e);
    expect(refused).toMatchObject({ code: 'config', option: 'cancels' });
    expect(refused.message).toContain('qnox-offline-sync/cancel-create');
    expect(await h.sync.pendingCount()).toBe(1);
  });

  it('is refused on anything but a DELETE', async () => {
    const h = await offlineClient();
    await expect(h.sync.patch('/items/1', {}, { cancels: 'x' })).rejects.toMatchObject({
      code: 'config',
      option: 'cancels',
    });
  });
});
