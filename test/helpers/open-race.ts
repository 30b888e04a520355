import { spawn } from 'node:child_process';

/**
 * Three processes (of the running Node) open the same fresh SQLite files with
 * `SqliteStore` from the built package, each file at the same wall-clock
 * instant in all three, and close them. Resolves with each process's report:
 * `'[]'` when every open succeeded, else the failures' messages (or its exit
 * code and output). Before the WAL switch retried, about one open in a
 * hundred failed with "database is locked".
 */
export async function openRace(dir: string, files = 300): Promise<string[]> {
  const driver = new URL('../../dist/node.js', import.meta.url).href;
  const start = Date.now() + 1500;
  const child = `
    const { SqliteStore } = await import(${JSON.stringify(driver)});
    const failures = [];
    for (let i = 0; i < ${files}; i++) {
      while (Date.now() < ${start} + i * 4) {}
      const store = new SqliteStore({ path: ${JSON.stringify(dir)} + '/race-' + i + '.sqlite' });
      try { await store.init(); } catch (e) { failures.push([e.message, e.cause?.message].filter(Boolean).join(': ')); }
      await store.close();
    }
    console.log(JSON.stringify(failures));`;
  const run = () =>
    new Promise<string>((resolve) => {
      const proc = spawn(process.execPath, ['--no-warnings', '--input-type=module', '-e', child]);
      let out = '';
      proc.stdout.on('data', (chunk) => {
        out += chunk;
      });
      proc.stderr.on('data', (chunk) => {
        out += chunk;
      });
      proc.on('exit', (code) => resolve(code === 0 ? out.trim() : `exit ${code}: ${out}`));
    });
  return Promise.all([run(), run(), run()]);
}
