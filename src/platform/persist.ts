/** Asks the browser to keep this origin's storage under pressure (`navigator.storage.persist()`), where it can. */
export async function askPersistentStorage(): Promise<void> {
  const storage = (globalThis as { navigator?: { storage?: { persist?: () => Promise<boolean> } } })
    .navigator?.storage;
  await storage?.persist?.().catch(() => false);
}
