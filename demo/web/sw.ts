/// <reference lib="webworker" />
/** The demo's service worker: serves the app shell offline and drains the outbox on Background Sync. */
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

let client: Promise<QnoxSync> | undefined;
handleBackgroundSync(() => {
  client ??= QnoxSync.create({
    baseUrl: `${scope.location.origin}/api`,
    retry: { baseDelayMs: 500, maxDelayMs: 10_000 },
    timeoutMs: 5_000,
  });
  return client;
});
