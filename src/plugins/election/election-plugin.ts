import { ConfigError } from '../../model/errors.js';
import type { QnoxPlugin } from '../../outbox/plugin-interface.js';
import { ChannelElection } from './channel-election.js';

/**
 * One drainer across tabs and workers on browsers without Web Locks (Safari
 * before 15.4), as a plug-in: the contexts sharing a store elect a leader over
 * a BroadcastChannel named like the lock (`qnox-drain:<store>`). The leader
 * repeats itself every second; a context that heard no leader for 5 s claims;
 * the lowest id among claims made within 300 ms wins; a leader that closes says
 * so, and a frozen one goes quiet and loses its lease. Best effort: a race can
 * briefly give two senders, and idempotency keys keep every effect single.
 * Where Web Locks exist it is never used. Without it (and without Web Locks)
 * every context drains. Its timers run on the client's `clock`.
 *
 * @example
 * import { channelElection } from 'qnox-offline-sync/election';
 * const sync = await QnoxSync.create({ baseUrl, plugins: [channelElection()] });
 */
export function channelElection(options: Record<string, never> = {}): QnoxPlugin {
  for (const key of Object.keys(options ?? {}))
    throw new ConfigError(`channelElection.${key}`, 'is not an option of channelElection()');
  return {
    name: 'channelElection',
    ports: {
      drainLock: (name, clock) => {
        const Channel = (globalThis as { BroadcastChannel?: typeof BroadcastChannel })
          .BroadcastChannel;
        return Channel ? new ChannelElection(new Channel(name), clock) : undefined;
      },
    },
  };
}
