import { spawn } from 'node:child_process';

/** Runs a command with its output collected (stdout and stderr together) and its exit code awaited. */
export function spawned(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
) {
  const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env } });
  let out = '';
  const collect = (chunk: Buffer) => {
    out += chunk.toString();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}
