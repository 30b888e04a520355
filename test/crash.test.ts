import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestServer } from './helpers/test-server.js';

const KILLS = Number(process.env.QNOX_CRASH_KILLS ?? 200);
const child = new URL('./helpers/crash-child.mjs', import.meta.url).pathname;

function run(
  args: string[],
  onLine: (line: string) => void,
): { proc: ChildProcess; exited: Promise<number | null> } {
  const proc = spawn(process.execPath, [child, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let buffer = '';
  proc.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) onLine(line);
  });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, exited };
}

describe('crash safety (SQLite store, real process kills)', () => {
  const server = new TestServer();
  let baseUrl = '';
  beforeAll(async () => {
    if (!existsSync(new URL('../dist/node.js', import.meta.url)))
      throw new Error('run `npm run build` first');
    baseUrl = await server.start();
  });
  afterAll(() => server.stop());

  it(`SIGKILL at ${KILLS} random points: every acknowledged write lands exactly once, in order`, async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'qnox-crash-')), 'outbox.db');
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    // Windows where a kill hurts most: the server committed but the client has not heard yet.
    server.faultPolicy = (req) => {
      if (req.method === 'HEAD') return undefined;
      const r = random();
      if (r < 0.1) return { kind: 'commit-then-drop' };
      if (r < 0.3) return { kind: 'slow', ms: 1 + Math.floor(random() * 8) };
      return undefined;
    };
    const acked = new Map<number, string>();
    let next = 0;
    for (let k = 0; k < KILLS; k++) {
      let firstAck: () => void = () => {};
      const acking = new Promise<void>((resolve) => {
        firstAck = resolve;
      });
      const { proc, exited } = run([db, baseUrl, String(next), '6'], (line) => {
        const [word, n, key] = line.split(' ');
        if (word === 'ack') acked.set(Number(n), key!);
        firstAck();
      });
      next += 6;
      // Most kills land while the child enqueues and drains; some during start-up and recovery.
      if (random() < 0.8) await Promise.race([acking, exited]);
      await new Promise((resolve) => setTimeout(resolve, random() * 60));
      proc.kill('SIGKILL');
      await exited;
    }
    server.faultPolicy = undefined;
    let drained = false;
    const last = run([db, baseUrl, String(next), '0'], (line) => {
      if (line === 'drained') drained = true;
    });
    expect(await last.exited).toBe(0);
    expect(drained).toBe(true);

    const seen = server.streams.get('crash') ?? [];
    expect(acked.size).toBeGreaterThan(KILLS / 2);
    for (const n of acked.keys()) expect(seen).toContain(n);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    const keys = server.effects.map((e) => e.key);
    expect(new Set(keys).size).toBe(keys.length);
    for (const key of acked.values()) expect(keys).toContain(key);
  }, 600_000);
});
