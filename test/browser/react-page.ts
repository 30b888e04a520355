/** A React app using the hooks, rendered by react-dom in Chromium. */
import { createElement as h } from 'react';
import { createRoot } from 'react-dom/client';
import { QnoxSync } from '../../src/index.js';
import { useQnoxQuery, useSyncStatus } from '../../src/react.js';

const sync = await QnoxSync.create({
  baseUrl: `${location.origin}/api`,
  retry: { baseDelayMs: 100 },
});
Object.assign(window, { qnox: sync });

function App() {
  const status = useSyncStatus(sync);
  const items = useQnoxQuery<{ id: string; name: string; qty: number }[]>(sync, '/items');
  return h(
    'div',
    null,
    h('p', { id: 'status' }, `${status.phase}:${status.pending}`),
    h(
      'ul',
      { id: 'items' },
      ...(items.data ?? []).map((i) => h('li', { key: i.id }, `${i.name}=${i.qty}`)),
    ),
  );
}

createRoot(document.body.appendChild(document.createElement('div'))).render(h(App));
document.title = 'ready';
