/** Alternates two operations round by round, so disk and CPU drift hit both alike; mean ms of each. */
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
