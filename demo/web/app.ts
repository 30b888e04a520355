/**
 * The demo page: the library bundled in, IndexedDB as its (default) store, everything it does
 * on screen. `?autosync=0` opens a page that never sends by itself: the service worker (or
 * another tab) delivers, and this page shows what they did.
 */

import { batching } from '../../src/batching.js';
import { conflicts } from '../../src/conflicts.js';
import { deltaSync } from '../../src/delta.js';
import { hotCache } from '../../src/hot-cache.js';
import {
  collection,
  type DeadLetterRecord,
  QnoxSync,
  type SyncEvent,
  type SyncStatus,
} from '../../src/index.js';
import { syncWhenBackOnline } from '../../src/service-worker.js';

interface Item {
  id: string;
  name: string;
  qty: number;
  etag?: string;
}

const $ = (id: string) => document.getElementById(id) as HTMLElement;

// The list is kept current from the API's change feed (GET /api/items/changes); `?pull=ms` sets how often.
const params = new URLSearchParams(location.search);
const orders = deltaSync({
  collection: '/items',
  intervalMs: Number(params.get('pull') ?? 10_000),
});
const sync = await QnoxSync.create({
  baseUrl: `${location.origin}/api`,
  retry: { baseDelayMs: 500, maxDelayMs: 10_000 },
  delivery: {
    timeoutMs: 5_000,
    autoSync: new URLSearchParams(location.search).get('autosync') !== '0',
  },
  // Conflicts are parked for the user (the default); the plug-in answers "Keep mine".
  // What waited offline goes out in batches (POST /api/batch) when the network is back.
  plugins: [conflicts(), batching(), hotCache(), orders],
  // Each row of GET /items carries its ETag: a +1 on a fresh page is made against it.
  cache: { collections: [collection({ path: '/items', etag: 'etag' })] },
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
  const detail =
    e.type === 'cache-hit'
      ? e.stale
        ? ' (stale)'
        : ''
      : e.type === 'batch-sent'
        ? ` — ${e.size} write${e.size === 1 ? '' : 's'} in one request, answered ${e.status || 'nothing'}`
        : e.type === 'pulled'
          ? ` — ${e.applied} change${e.applied === 1 ? '' : 's'} from the feed`
          : '';
  li.textContent = `${new Date().toLocaleTimeString()} ${e.type} ${what}${detail}`;
  $('events').prepend(li);
  while ($('events').children.length > 40) $('events').lastElementChild?.remove();
  // settled-elsewhere: the service worker or another tab delivered a write.
  if (['sent', 'dead-lettered', 'settled-elsewhere', 'online'].includes(e.type)) void renderItems();
  // After a pull: what others did (and what another context delivered) shows without a reload.
  if (e.type === 'pulled') void renderItems();
});

/** The latest render's ticket: renders run side by side (a batch settles many writes at once), the last one started wins. */
let renders = 0;

/** The list as the client sees it: the server's rows with this device's writes layered on top. */
async function renderItems(): Promise<void> {
  const ticket = ++renders;
  try {
    const [res, pending] = await Promise.all([
      sync.get<Item[]>('/items', { ttlMs: 30_000 }),
      sync.pendingTasks(200),
    ]);
    if (ticket !== renders) return;
    const waiting = new Set(pending.map((t) => new URL(t.url).pathname));
    $('source').textContent =
      `${res.fromCache ? `from cache${res.stale ? ' (stale)' : ''}` : 'from the network'}${
        res.pendingWrites ? ' · with writes not yet delivered' : ''
      }`;
    $('items').replaceChildren(
      ...res.data.map((item) =>
        itemRow(item, isLocal(item) || waiting.has(`/api/items/${item.id}`)),
      ),
    );
  } catch (error) {
    $('source').textContent = `could not load: ${(error as Error).message}`;
  }
}

const isLocal = (item: Item) => item.id.startsWith('local-');

function itemRow(item: Item, waiting: boolean): HTMLElement {
  const li = document.createElement('li');
  li.dataset.id = item.id;
  li.className = waiting ? 'waiting' : '';
  const label = span('grow', `${item.name} × ${item.qty}`);
  li.append(label);
  if (waiting) li.append(span('badge waiting', isLocal(item) ? 'new · waiting' : 'waiting'));
  // A row created offline has no server id yet: it can be edited once it is delivered.
  if (isLocal(item)) return li;
  const plus = button('+1', () =>
    sync.patch(
      `/items/${item.id}`,
      { qty: item.qty + 1 },
      { optimistic: (row) => ({ ...(row as Item), qty: item.qty + 1 }) },
    ),
  );
  const del = button('Delete', () =>
    sync.delete(`/items/${item.id}`, { optimistic: () => undefined }),
  );
  li.append(plus, del);
  return li;
}

function span(className: string, text: string): HTMLSpanElement {
  const s = document.createElement('span');
  s.className = className;
  s.textContent = text;
  return s;
}

function button(text: string, onClick: () => Promise<unknown>): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = text;
  b.onclick = () =>
    void onClick().then(renderItems, (error: Error) => {
      $('control-note').textContent = error.message;
    });
  return b;
}

async function renderQueue(): Promise<void> {
  const tasks = await sync.pendingTasks(50);
  $('pending').replaceChildren(
    ...tasks.map((t) => {
      const li = document.createElement('li');
      const retry =
        t.attempts > 0 ? ` · retry at ${new Date(t.nextAttemptAt).toLocaleTimeString()}` : '';
      li.append(
        span('grow', `${t.method} ${new URL(t.url).pathname}`),
        span('badge', `${t.attempts} attempt(s)${retry}`),
      );
      return li;
    }),
  );
  const dead = await sync.deadLetters();
  $('dead').replaceChildren(...dead.map(deadRow));
}

/** A conflict shows both values and what each button does; other dead letters say why they stopped. */
function deadRow(d: DeadLetterRecord): HTMLElement {
  const li = document.createElement('li');
  const path = new URL(d.task.url).pathname;
  if (d.reason !== 'conflict') {
    li.append(
      span(
        'grow',
        `${d.task.method} ${path} — ${d.reason} (${d.lastResponse?.status ?? d.task.lastError?.code ?? '?'})`,
      ),
      button('Retry', () => sync.retryDeadLetter(d.task.id)),
      button('Discard', () => sync.discardDeadLetter(d.task.id)),
    );
    return li;
  }
  li.className = 'conflict';
  const mine = d.task.body?.kind === 'json' ? d.task.body.value : undefined;
  const server = (d.lastResponse?.data as { current?: Item } | undefined)?.current;
  li.append(
    span('grow', `Conflict on ${d.task.method} ${path}`),
    span('why', `yours: ${describe(mine)} · on the server: ${describe(server)}`),
    span(
      'why',
      'Someone changed it after this device read it. Keep mine sends yours over their version; keep theirs drops yours.',
    ),
    button('Keep mine', () => sync.retryDeadLetter(d.task.id, { conflict: 'client-wins' })),
    button('Keep theirs', () => sync.discardDeadLetter(d.task.id)),
  );
  return li;
}

function describe(value: unknown): string {
  if (value === undefined || value === null) return 'gone';
  const item = value as Partial<Item>;
  return [item.name, item.qty === undefined ? '' : `qty ${item.qty}`].filter(Boolean).join(', ');
}

let localRows = 0;
$('create').addEventListener('submit', (event) => {
  event.preventDefault();
  const formEl = event.target as HTMLFormElement;
  const form = new FormData(formEl);
  const row = { name: String(form.get('name')), qty: Number(form.get('qty')) };
  const id = `local-${Date.now()}-${localRows++}`;
  // Cleared at once: the next order may be typed while this one is being queued.
  formEl.reset();
  void sync
    .post('/items', row, { optimistic: (list) => [...((list as Item[]) ?? []), { id, ...row }] })
    .then(() => renderItems());
});

// The demo server's admin switches, on the page (the terminal has the same as curl commands).
let outage = false;
$('outage').addEventListener('click', async () => {
  const res = await fetch(`/admin/outage?on=${outage ? 0 : 1}`, { method: 'POST' });
  outage = ((await res.json()) as { outage: boolean }).outage;
  $('outage').textContent = outage ? 'End API outage' : 'Simulate API outage';
  $('outage').classList.toggle('on', outage);
  $('control-note').textContent = outage
    ? 'The API now drops every connection. Writes wait in the outbox.'
    : 'The API is back. The outbox delivers.';
  if (!outage) void sync.checkConnectivity();
});
$('edit-elsewhere').addEventListener('click', async () => {
  const first = (
    await sync.get<Item[]>('/items', { strategy: 'cacheOnly' }).catch(() => undefined)
  )?.data.find((item) => !isLocal(item));
  if (!first) return;
  const res = await fetch(`/admin/edit/${first.id}`, { method: 'POST' });
  const now = (await res.json()) as Item | null;
  $('control-note').textContent =
    `Someone else changed order ${first.id} to “${now?.name}” × ${now?.qty}. This page still shows what it read: press +1 on ${first.name}.`;
});

$('add-elsewhere').addEventListener('click', async () => {
  const res = await fetch('/admin/add', { method: 'POST' });
  const added = (await res.json()) as Item;
  $('control-note').textContent =
    `Someone else added “${added.name}” on the server. It shows here at the next pull of the change feed.`;
});

await renderItems();
await renderQueue();
document.body.dataset.ready = 'true';
