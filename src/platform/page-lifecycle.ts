/**
 * Calls `onInactive` when this page stops running: frozen (Page Lifecycle
 * `freeze`), put in the back/forward cache, or unloaded (`pagehide`). A
 * context that cannot run must hand its work to one that can. A no-op outside
 * a page (workers, Node). Returns a function that stops listening.
 */
export function onPageInactive(onInactive: () => void): () => void {
  const g = globalThis as {
    document?: EventTarget;
    addEventListener?: EventTarget['addEventListener'];
    removeEventListener?: EventTarget['removeEventListener'];
  };
  if (!g.document || !g.addEventListener || !g.removeEventListener) return () => {};
  const doc = g.document;
  doc.addEventListener('freeze', onInactive);
  g.addEventListener('pagehide', onInactive);
  return () => {
    doc.removeEventListener('freeze', onInactive);
    g.removeEventListener?.('pagehide', onInactive);
  };
}

/** Calls `onVisible` each time the page becomes visible again; returns the unsubscribe (a no-op outside a page). */
export function onPageVisible(onVisible: () => void): () => void {
  const doc = (globalThis as { document?: Document }).document;
  if (!doc?.addEventListener) return () => {};
  const listener = () => {
    if (doc.visibilityState === 'visible') onVisible();
  };
  doc.addEventListener('visibilitychange', listener);
  return () => doc.removeEventListener('visibilitychange', listener);
}
