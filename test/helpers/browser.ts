import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type CDPSession, chromium } from 'playwright-core';
import { until } from './harness.js';

/** Debian's Chromium, headless, with no way to reach anything but loopback. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
];

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
}

/** A browser whose profile (IndexedDB, service workers) lives on disk and survives a restart. */
export function launchPersistent(
  dir = mkdtempSync(join(tmpdir(), 'qnox-chromium-')),
  extraArgs: string[] = [],
): Promise<BrowserContext> {
  return chromium.launchPersistentContext(dir, {
    executablePath,
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
  });
}

/**
 * Fires the service worker's Background Sync (`sync`) or Periodic Background
 * Sync event of the `qnox-sync` tag through the DevTools protocol, as Chromium
 * would on reconnect (it may not, headless).
 */
export async function dispatchWorkerEvent(
  cdp: CDPSession,
  origin: string,
  kind: 'sync' | 'periodic',
): Promise<void> {
  const registrations: { registrationId: string; scopeURL: string }[] = [];
  cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => registrations.push(...e.registrations));
  await cdp.send('ServiceWorker.enable');
  await until(() => registrations.some((r) => r.scopeURL.startsWith(origin)), 15_000);
  const { registrationId } = registrations.find((r) => r.scopeURL.startsWith(origin))!;
  const tag = 'qnox-sync';
  const sent =
    kind === 'sync'
      ? cdp.send('ServiceWorker.dispatchSyncEvent', {
          origin,
          registrationId,
          tag,
          lastChance: false,
        })
      : cdp.send('ServiceWorker.dispatchPeriodicSyncEvent', { origin, registrationId, tag });
  // Not awaited: the call returns only once the worker's waitUntil settles.
  void sent.catch(() => undefined);
}
