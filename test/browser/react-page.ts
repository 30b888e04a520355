/** A React app using the provider and hooks, rendered by react-dom in Chromium. */
import { createElement as h, useEffect } from 'react';
import { createRoot } from 'react-dom/client';
import { QnoxProvider, useQnox, useQnoxQuery, useSyncStatus } from '../../src/react.js';

type Item = { id: string; name: string; qty: number };

function App() {
  const sync = useQnox();
  const status = useSyncStatus();
  const items = useQnoxQuery<Item[]>('/items');
  const one = useQnoxQuery<Item>('/items/1', { strategy: 'staleWhileRevalidate', ttlMs: 1 });
  useEffect(() => {
    Object.assign(window, { qnox: sync, refetchOne: one.refetch });
    document.title = 'ready';
  }, [sync, one.refetch]);
  return h(
    'div',
    null,
    h('p', { id: 'status' }, `${status.phase}:${status.pending}`),
    h(
      'ul',
      { id: 'items' },
      ...(items.data ?? []).map((i) => h('li', { key: i.id }, `${i.name}=${i.qty}`)),
    ),
    h('p', { id: 'one' }, one.data ? `${one.data.name}=${one.data.qty}` : ''),
  );
}

createRoot(document.body.appendChild(document.createElement('div'))).render(
  h(
    QnoxProvider,
    {
      options: {
        baseUrl: `${location.origin}/api`,
        retry: { baseDelayMs: 100 },
        // `?passive`: this page never drains, so only another context can deliver.
        autoSync: !location.search.includes('passive'),
      },
      fallback: h('p', { id: 'loading' }, 'Opening the outbox…'),
    },
    h(App),
  ),
);
