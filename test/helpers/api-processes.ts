import { type ChildProcess, spawn } from 'node:child_process';

const root = new URL('../..', import.meta.url).pathname;

/**
 * Starts one API process (test/helpers/api-process.mjs, on the built dist)
 * with `env` added to this process's; resolves once it listens, with its
 * port and what it printed so far (stdout and stderr).
 */
export async function startApi(env: Record<string, string>) {
  const child = spawn(process.execPath, ['test/helpers/api-process.mjs'], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const collect = (chunk: Buffer) => {
    out += chunk.toString();
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const port = await new Promise<number>((resolve, reject) => {
    const look = () => {
      const m = /listening (\d+)/.exec(out);
      if (m) return resolve(Number(m[1]));
      if (child.exitCode !== null) return reject(new Error(`API process exited:\n${out}`));
      setTimeout(look, 20);
    };
    look();
  });
  return { child, port, output: () => out };
}

/** Ends a process this run started (SIGKILL), once it is gone. */
export async function killed(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await gone;
}
