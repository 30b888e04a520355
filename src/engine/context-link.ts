import type { SyncEvent } from '../model/events.js';
import { type ChangeChannel, type ChannelMessage, openChannel } from '../platform/broadcast.js';
import type { Emitter } from '../status/subscribable.js';
import type { WriteResults } from './write-results.js';

type Touched = Extract<ChannelMessage, { t: 'touched' }>;

/**
 * What other contexts on the same store (tabs, the service worker) hear of a
 * local event, so their views re-read: cache entries written here, writes
 * delivered or dead-lettered here. `undefined` for everything else.
 */
export function touchedBy(event: SyncEvent): Touched | undefined {
  if (event.type === 'cache-updated' && !event.remote)
    return { t: 'touched', url: event.url, why: 'cache' };
  if (event.type === 'sent') return { t: 'touched', url: event.task.url, why: 'delivered' };
  if (event.type === 'dead-lettered')
    return { t: 'touched', url: event.task.url, why: 'dead-lettered' };
  return undefined;
}

/** The event a context emits for what another one told it. */
export function remoteEvent(message: Touched): SyncEvent {
  return message.why === 'cache'
    ? { type: 'cache-updated', url: message.url, remote: true }
    : { type: 'settled-elsewhere', url: message.url, ok: message.why === 'delivered' };
}

export interface ContextLinkDeps {
  readonly settlements: WriteResults;
  readonly events: Emitter<SyncEvent>;
  /** Another context queued or finished a write: counts changed, and if this one drains, there is work. */
  readonly refresh: () => void;
}

/**
 * Links the clients that share a store over a BroadcastChannel named `name`:
 * outcomes reach the callers that wait on them, changes reach every context's
 * events (`cache-updated` with `remote`, `settled-elsewhere`). `undefined`
 * where the platform has no BroadcastChannel.
 */
export function linkContexts(name: string, deps: ContextLinkDeps): ChangeChannel | undefined {
  const channel = openChannel(name, (message) => {
    if (message.t === 'settled') deps.settlements.receive(message);
    if (message.t === 'touched') return void deps.events.emit(remoteEvent(message));
    deps.refresh();
  });
  if (!channel) return undefined;
  deps.settlements.announce = (message) => channel.post(message);
  const stop = deps.events.subscribe((event) => {
    const touched = touchedBy(event);
    if (touched) channel.post(touched);
  });
  return {
    post: (message) => channel.post(message),
    close() {
      stop();
      channel.close();
    },
  };
}
