/** What one client tells the others sharing its store (other tabs, a service worker). */
export type ChannelMessage =
  | { readonly t: 'changed' }
  /** What the app may want to re-read: a cache entry written, a write delivered or dead-lettered. */
  | {
      readonly t: 'touched';
      readonly url: string;
      readonly why: 'cache' | 'delivered' | 'dead-lettered';
    }
  | {
      readonly t: 'settled';
      readonly id: string;
      readonly response?: { status: number; data: unknown; headers: Record<string, string> };
      readonly error?: { code: string; message: string; status?: number; data?: unknown };
    };

export interface ChangeChannel {
  post(message: ChannelMessage): void;
  close(): void;
}

/**
 * A BroadcastChannel named after the shared store, where the platform has one
 * (pages, workers, Node); `undefined` elsewhere. Read lazily, never at import.
 */
export function openChannel(
  name: string,
  onMessage: (message: ChannelMessage) => void,
): ChangeChannel | undefined {
  const Channel = (globalThis as { BroadcastChannel?: typeof BroadcastChannel }).BroadcastChannel;
  if (!Channel) return undefined;
  const channel = new Channel(name);
  channel.onmessage = (event: MessageEvent<ChannelMessage>) => onMessage(event.data);
  return {
    post(message) {
      try {
        channel.postMessage(message);
      } catch {
        // A body that cannot be cloned only costs the other tabs an early answer.
      }
    },
    close: () => channel.close(),
  };
}
