/** Shared by the benches: alternating timings, so disk and CPU drift hit both sides alike; mean ms of each. */
export async function paired(
  rounds: number,
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
): Promise<[number, number]> {
  let ta = 0;
  let tb = 0;
  for (let i = 0; i < rounds; i++) {
    let start = performance.now();
    await a();
    ta += performance.now() - start;
    start = performance.now();
    await b();
    tb += performance.now() - start;
  }
  return [ta / rounds, tb / rounds];
}

/** A 200-byte JSON body, the payload every store figure uses. */
export const BODY = { kind: 'json' as const, value: { text: 'x'.repeat(180) } };

/** A cache entry that never expires, for cache-hit figures. */
export const HOT_ENTRY = {
  v: 1,
  key: 'hot',
  url: 'u',
  status: 200,
  headers: {},
  body: BODY,
  storedAt: 0,
  expiresAt: 1e15,
};
