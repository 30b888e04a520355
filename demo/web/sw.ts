/// <reference lib="webworker" />
/** The demo's service worker: serves the app shell offline and drains the outbox on Background Sync. */
import { batching } from '../../src/batching.js';
import { conflicts } from '../../src/conflicts.js';
import { hotCache } from '../../src/hot-cache.js';
import { QnoxSync } from '../../src/index.js';
import { handleBackgroundSync } from '../../src/service-worker.js';

const scope = self as unknown as ServiceWorkerGlobalScope;
const SHELL = ['/', '/app.js', '/style.css'];
const CACHE = 'qnox-demo-shell-v1';

scope.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => scope.skipWaiting()),
  );
});
scope.addEventListener('activate', (event) => event.waitUntil(scope.clients.claim()));
scope.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (
    event.request.method !== 'GET' ||
    url.pathname.startsWith('/api') ||
    url.pathname.startsWith('/admin')
  )
    return;
  // Network first so a new build shows at once; the cached shell when offline.
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        const copy = response.clone();
        void caches.open(CACHE).then((cache) => cache.put(event.request, copy));
        return response;
      })
      .catch(
        async () =>
          (await caches.match(event.request)) ?? (await caches.match('/')) ?? Response.error(),
      ),
  );
});

// What woke the worker, for the demo's tests (read through the DevTools protocol).
const woken: string[] = [];
Object.assign(scope, { woken });
for (const type of ['sync', 'periodicsync', 'activate', 'message', 'online'])
  scope.addEventListener(type, (event) =>
    woken.push(`${type}${'tag' in event ? `:${(event as Event & { tag: string }).tag}` : ''}`),
  );

let client: Promise<QnoxSync> | undefined;
handleBackgroundSync(() => {
  client ??= QnoxSync.create({
    baseUrl: `${scope.location.origin}/api`,
    // The worker sends only when the browser wakes it (sync, periodicsync, activate, message).
    delivery: { autoSync: false, timeoutMs: 5_000 },
    retry: { baseDelayMs: 500, maxDelayMs: 10_000 },
    // A "Keep mine" retried on the page may be delivered here: same resolution rules.
    plugins: [conflicts(), batching(), hotCache()],
  });
  return client;
});
