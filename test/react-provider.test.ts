import { createElement as h } from 'react';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { ConfigError, MemoryStore, QnoxSync } from '../src/index.js';
import { QnoxProvider, useQnox, useSyncStatus } from '../src/react.js';

function ShowsClient() {
  const sync = useQnox();
  const status = useSyncStatus();
  return h('p', null, `${sync.url('/orders')} ${status.phase}`);
}

describe('QnoxProvider and useQnox', () => {
  it('give the components below the provider its client', async () => {
    const sync = await QnoxSync.create({
      baseUrl: 'http://127.0.0.1:9/api',
      store: new MemoryStore(),
      autoSync: false,
    });
    try {
      const html = renderToString(h(QnoxProvider, { client: sync }, h(ShowsClient)));
      expect(html).toContain('http://127.0.0.1:9/api/orders');
    } finally {
      await sync.dispose();
    }
  });

  it('render the fallback while a client made from options is being created', () => {
    const html = renderToString(
      h(
        QnoxProvider,
        {
          options: { baseUrl: 'http://127.0.0.1:9', store: new MemoryStore() },
          fallback: 'opening',
        },
        h(ShowsClient),
      ),
    );
    expect(html).toBe('opening');
  });

  it('outside a provider, with no client passed, fail with a ConfigError naming the client', () => {
    let caught: unknown;
    try {
      renderToString(h(ShowsClient));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).option).toBe('client');
  });
});
