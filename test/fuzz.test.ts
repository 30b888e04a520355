import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { command, fault, RUNS, run, seen } from './helpers/fuzz-run.js';

function seedOption(): { seed?: number } {
  const seed = process.env.QNOX_FUZZ_SEED ?? '20261201';
  return seed === 'random' ? {} : { seed: Number(seed) };
}

describe('fuzz: random calls against a hostile server', () => {
  it(`${RUNS} runs: typed errors only, exactly once, no foreign request, every result settled, no timer left`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(command, { minLength: 1, maxLength: 8 }),
        fc.array(fault, { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        (commands, faults, sqlite) => {
          let timer: ReturnType<typeof setTimeout> | undefined;
          const stuck = new Promise<never>((_, reject) => {
            timer = setTimeout(
              () =>
                reject(
                  new Error(
                    `run stuck: ${JSON.stringify({ commands, faults, sqlite }, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}`,
                  ),
                ),
              20_000,
            );
          });
          return Promise.race([run(commands, faults, sqlite), stuck]).finally(() =>
            clearTimeout(timer),
          );
        },
      ),
      // A fixed seed keeps `npm test` reproducible; QNOX_FUZZ_SEED=random explores new cases.
      { numRuns: RUNS, ...seedOption() },
    );
    console.log('fuzz traffic', seen);
    // The generated traffic must reach what the invariants are about.
    expect(seen.acknowledged).toBeGreaterThan(RUNS / 20);
    expect(seen.rejected).toBeGreaterThan(RUNS / 10);
    expect(seen.redirects).toBeGreaterThan(RUNS / 20);
    expect(seen.restarts).toBeGreaterThan(RUNS / 10);
    expect(seen.sqlite).toBeGreaterThan(RUNS / 4);
  }, 600_000);
});
