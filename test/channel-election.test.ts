import { afterEach, describe, expect, it } from 'vitest';
import { ChannelElection } from '../src/stores/indexeddb/channel-election.js';

// Real BroadcastChannels and real (short) timers: an election is about time passing between contexts.
let opened: ChannelElection[] = [];
let n = 0;
afterEach(() => {
  for (const e of opened) e.close();
  opened = [];
});

function contexts(count: number): ChannelElection[] {
  const name = `election-${++n}`;
  const made = Array.from({ length: count }, () => new ChannelElection(new BroadcastChannel(name)));
  opened.push(...made);
  return made;
}

describe('BroadcastChannel election (where Web Locks are missing)', () => {
  it('contexts claiming together elect exactly one leader; the others keep losing while it leads', async () => {
    const all = contexts(4);
    const won = await Promise.all(all.map((e) => e.acquire()));
    expect(won.filter(Boolean)).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const again = await Promise.all(all.map((e) => e.acquire()));
    expect(again).toEqual(won);
  });

  it('a leader that says goodbye hands over at once', async () => {
    const all = contexts(3);
    const won = await Promise.all(all.map((e) => e.acquire()));
    const leader = all[won.indexOf(true)]!;
    leader.release();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const rest = all.filter((e) => e !== leader);
    const next = await Promise.all(rest.map((e) => e.acquire()));
    expect(next.filter(Boolean)).toHaveLength(1);
    expect(await leader.acquire()).toBe(false);
  });

  it('a leader that goes quiet (frozen, crashed) loses its lease within seconds', async () => {
    const all = contexts(2);
    const won = await Promise.all(all.map((e) => e.acquire()));
    const leader = all[won.indexOf(true)]!;
    const other = all[won.indexOf(false)]!;
    // Silenced without a goodbye, as a frozen or killed context is.
    (leader as unknown as { channel: BroadcastChannel }).channel.close();
    (leader as unknown as { release(): void }).release();
    expect(await other.acquire()).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 5_200));
    expect(await other.acquire()).toBe(true);
  });
});
