import { afterEach, describe, expect, it } from 'vitest';
import { ChannelElection } from '../src/plugins/election/channel-election.js';
import { ManualClock } from '../src/testing/index.js';
import { passChannels } from './helpers/channel-time.js';

// Real BroadcastChannels (messages take a real tick between contexts), time on a manual clock.
let opened: ChannelElection[] = [];
let n = 0;
afterEach(() => {
  for (const e of opened) e.close();
  opened = [];
});

function contexts(count: number, clock: ManualClock): ChannelElection[] {
  const name = `election-${++n}`;
  const made = Array.from(
    { length: count },
    () => new ChannelElection(new BroadcastChannel(name), clock),
  );
  opened.push(...made);
  return made;
}

/** Every context claims at once; resolves with who won, once the claim window passed. */
async function claimAll(all: ChannelElection[], clock: ManualClock): Promise<boolean[]> {
  const won = Promise.all(all.map((e) => e.acquire()));
  await passChannels(clock, 300);
  return won;
}

describe('BroadcastChannel election (where Web Locks are missing)', () => {
  it('contexts claiming together elect exactly one leader; the others keep losing while it leads', async () => {
    const clock = new ManualClock();
    const all = contexts(4, clock);
    const won = await claimAll(all, clock);
    expect(won.filter(Boolean)).toHaveLength(1);
    // Ten seconds on: the leader's heartbeat keeps the lease of the others' view alive.
    await passChannels(clock, 10_000);
    expect(await claimAll(all, clock)).toEqual(won);
  });

  it('a leader that says goodbye hands over at once', async () => {
    const clock = new ManualClock();
    const all = contexts(3, clock);
    const won = await claimAll(all, clock);
    const leader = all[won.indexOf(true)]!;
    leader.release();
    await passChannels(clock, 0);
    const rest = all.filter((e) => e !== leader);
    const next = await claimAll(rest, clock);
    expect(next.filter(Boolean)).toHaveLength(1);
    expect(await claimAll([leader], clock)).toEqual([false]);
  });

  it('a leader that goes quiet (frozen, crashed) loses its lease after five seconds, not before', async () => {
    const clock = new ManualClock();
    const all = contexts(2, clock);
    const won = await claimAll(all, clock);
    const leader = all[won.indexOf(true)]!;
    const other = all[won.indexOf(false)]!;
    // Silenced without a goodbye, as a frozen or killed context is.
    (leader as unknown as { channel: BroadcastChannel }).channel.close();
    (leader as unknown as { release(): void }).release();
    expect(await claimAll([other], clock)).toEqual([false]);
    await passChannels(clock, 4_000);
    expect(await claimAll([other], clock)).toEqual([false]);
    await passChannels(clock, 1_200);
    expect(await claimAll([other], clock)).toEqual([true]);
  });
});
