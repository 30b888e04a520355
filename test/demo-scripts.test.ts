import type { ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { until } from './helpers/harness.js';
import { spawned } from './helpers/spawned.js';

const root = new URL('..', import.meta.url).pathname;

/** Runs a command in the repository. */
const run = (command: string, args: string[], env: Record<string, string> = {}) =>
  spawned(command, args, { cwd: root, env });

const refused = (url: string) =>
  fetch(url).then(
    () => false,
    () => true,
  );

describe('the demo scripts', { timeout: 60_000 }, () => {
  it('npm run demo:terminal delivers every write once and prints each status line once', async () => {
    const demo = run('node', ['--import', 'tsx', 'demo/terminal-demo.ts']);
    expect(await demo.exited).toBe(0);
    const lines = demo.output().split('\n');
    expect(lines.some((l) => l.endsWith('server saw 4 effects for 4 writes; duplicates: 0'))).toBe(
      true,
    );
    const statuses = lines.filter((l) => l.includes(' status ')).map((l) => l.slice(9));
    expect(statuses.length).toBeGreaterThan(3);
    const repeated = statuses.filter((line, i) => i > 0 && line === statuses[i - 1]);
    expect(repeated).toEqual([]);
  });

  it('a SIGTERM to npm start stops the server and frees its port', async () => {
    const start = run('npm', ['start'], { PORT: '0' });
    let child: ChildProcess | undefined = start.child;
    try {
      await until(() => /open (http:\/\/\S+)\//.test(start.output()), 30_000);
      const url = /open (http:\/\/\S+)\//.exec(start.output())![1]!;
      expect(await refused(url)).toBe(false);
      start.child.kill('SIGTERM');
      await start.exited;
      child = undefined;
      // The demo (a child of npm) stops too, or it would keep the port.
      await until(() => refused(url), 10_000);
    } finally {
      child?.kill('SIGKILL');
    }
  });
});
