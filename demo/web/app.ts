/** The demo page: the library bundled in, IndexedDB as its (default) store, everything it does on screen. */
import { QnoxSync, type SyncEvent, type SyncStatus } from '../../src/index.js';
import { syncWhenBackOnline } from '../../src/service-worker.js';

interface Item {
  id: string;
  name: string;
  qty: number;
}

const $ = (id: string) => document.getElementById(id) as HTMLElement;

const sync = await QnoxSync.create({
  baseUrl: `${location.origin}/api`,
  retry: { baseDelayMs: 500, maxDelayMs: 10_000 },
  timeoutMs: 5_000,
  conflictStrategy: 'park',
});
(window as unknown as { qnox: QnoxSync }).qnox = sync;

if ('serviceWorker' in navigator) {
  void navigator.serviceWorker.register('/sw.js', { type: 'module' }).catch(() => undefined);
  syncWhenBackOnline(sync);
}

function renderStatus(s: SyncStatus): void {
  $('phase').textContent = s.phase;
  $('phase').className = `pill ${s.phase}`;
  const retry = s.nextRetryAt
    ? ` · next retry ${new Date(s.nextRetryAt).toLocaleTimeString()}`
    : '';
  $('counts').textContent = `${s.pending} pending · ${s.deadLetters} dead${retry}`;
  void renderQueue();
}
renderStatus(sync.onSyncStatus.value);
sync.onSyncStatus.subscribe(renderStatus);

sync.events.subscribe((e: SyncEvent) => {
  const li = document.createElement('li');
  const what =
    'task' in e
      ? `${e.task.method} ${new URL(e.task.url).pathname}`
      : 'url' in e
        ? new URL(e.url).pathname
        : '';
  li.textContent = `${new Date().toLocaleTimeString()} ${e.type} ${what}${e.type === 'cache-hit' ? (e.stale ? ' (stale)' : '') : ''}`;
  $('events').prepend(li);
  while ($('events').children.length > 40) $('events').lastElementChild?.remove();
  // settled-elsewhere: the service worker or another tab delivered a write.
  if (['sent', 'dead-lettered', 'settled-elsewhere', 'online'].includes(e.type)) void renderItems();
});

async function renderItems(): Promise<void> {
  try {
    const res = await sync.get<Item[]>('/items', { ttlMs: 30_000 });
    $('source').textContent = res.fromCache
      ? `from cache${res.stale ? ' (stale)' : ''}`
      : 'from the network';
    $('items').replaceChildren(...res.data.map(itemRow));
  } catch (error) {
    $('source').textContent = `could not load: ${(error as Error).message}`;
  }
}

function itemRow(item: Item): HTMLElement {
  const li = document.createElement('li');
  li.dataset.id = item.id;
  const label = document.createElement('span');
  label.className = 'grow';
  label.textContent = `${item.name} × ${item.qty}`;
  const plus = button('+1', () =>
    sync.patch(
      `/items/${item.id}`,
      { qty: item.qty + 1 },
      {
        optimistic: (current) => ({ ...(current as Item), qty: item.qty + 1 }),
      },
    ),
  );
  const del = button('Delete', () => sync.delete(`/items/${item.id}`));
  li.append(label, plus, del);
  return li;
}

function button(text: string, onClick: () => Promise<unknown>): HTMLButtonElement {
  const b = document.createElement('button');
  b.textContent = text;
  b.onclick = () => void onClick().then(renderItems, (error: Error) => alert(error.message));
  return b;
}

async function renderQueue(): Promise<void> {
  const tasks = await sync.pendingTasks(50);
  $('pending').replaceChildren(
    ...tasks.map((t) => {
      const li = document.createElement('li');
      const retry =
        t.attempts > 0 ? ` · retry at ${new Date(t.nextAttemptAt).toLocaleTimeString()}` : '';
      li.innerHTML = '<span class="grow"></span><span class="badge"></span>';
      (li.firstChild as HTMLElement).textContent = `${t.method} ${new URL(t.url).pathname}`;
      (li.lastChild as HTMLElement).textContent = `${t.attempts} attempt(s)${retry}`;
      return li;
    }),
  );
  const dead = await sync.deadLetters();
  $('dead').replaceChildren(
    ...dead.map((d) => {
      const li = document.createElement('li');
      const label = document.createElement('span');
      label.className = 'grow';
      label.textContent = `${d.task.method} ${new URL(d.task.url).pathname} — ${d.reason} (${d.lastResponse?.status ?? d.task.lastError?.code ?? '?'})`;
      li.append(
        label,
        button('Retry', () => sync.retryDeadLetter(d.task.id)),
        button('Discard', () => sync.discardDeadLetter(d.task.id)),
      );
      return li;
    }),
  );
}

$('create').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = new FormData(event.target as HTMLFormElement);
  void sync
    .post('/items', { name: String(form.get('name')), qty: Number(form.get('qty')) })
    .then(() => {
      (event.target as HTMLFormElement).reset();
      void renderItems();
    });
});

await renderItems();
await renderQueue();
document.body.dataset.ready = 'true';
