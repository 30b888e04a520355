/**
 * Wraps `pass` so it runs one at a time: a call while a pass runs asks for one
 * more pass after it, however many such calls come. Failures are the pass's own
 * business (it reports them); they do not stop later passes.
 */
export function serialPasses(pass: () => Promise<unknown>): () => void {
  let running = false;
  let again = false;
  const run = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    void pass()
      .catch(() => {})
      .finally(() => {
        running = false;
        if (!again) return;
        again = false;
        run();
      });
  };
  return run;
}
