// Real Redis and PostgreSQL servers for the server half's tests, bench and demo: each started on a
// free loopback port with a throwaway data folder, and stopped (its own PID only) when done.
//
//   import { startRedis, startPostgres } from '../scripts/services.mjs';
//   const redis = await startRedis();        // { url: 'redis://127.0.0.1:PORT', stop() }
//   const pg = await startPostgres();        // { url: 'postgres://postgres@127.0.0.1:PORT/postgres', stop() }
//
// Run alone (`node scripts/services.mjs`), it starts both, prints REDIS_URL and DATABASE_URL, and
// stops them on Ctrl-C. `scripts/ensure-services.sh` installs Debian's packages when missing.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A free TCP port on 127.0.0.1 (asked of the kernel, then given back). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Waits until something accepts TCP connections on the port (or the process exits first). */
async function waitForPort(port, child, what, output) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`${what} exited (${child.exitCode}):\n${output()}`);
    const open = await new Promise((resolve) => {
      const socket = createConnection({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what} did not listen on ${port} within 30 s:\n${output()}`);
}

function started(command, args, options, what) {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (chunk) => {
    out = (out + chunk.toString()).slice(-4_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.on('error', (error) => {
    out += `\n${error.message}`;
  });
  const exited = new Promise((resolve) => child.once('close', resolve));
  return { child, exited, output: () => out, what };
}

/** Stops a process we started (SIGINT: Redis and PostgreSQL both shut down fast on it). */
async function stopped(run, folder) {
  if (run.child.exitCode === null && run.child.signalCode === null) {
    run.child.kill('SIGINT');
    const timer = setTimeout(() => run.child.kill('SIGKILL'), 10_000);
    await run.exited;
    clearTimeout(timer);
  }
  rmSync(folder, { recursive: true, force: true });
}

/** Starts `redis-server` with no persistence, on a free port. */
export async function startRedis() {
  const port = await freePort();
  const folder = mkdtempSync(join(tmpdir(), 'qnox-redis-'));
  const run = started(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { cwd: folder },
    'redis-server',
  );
  await waitForPort(port, run.child, 'redis-server', run.output);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: run.child.pid,
    stop: () => stopped(run, folder),
  };
}

/** Where Debian keeps PostgreSQL's programs (not on PATH): the newest version installed. */
function postgresBin() {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'postgres')))
    : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0)
    throw new Error('PostgreSQL is not installed: run `bash scripts/ensure-services.sh` (as root)');
  return join(root, versions[0], 'bin');
}

/** PostgreSQL refuses to run as root: as root, it runs as the `postgres` user. */
function runAs() {
  if (process.getuid?.() !== 0) return {};
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

/** Starts a throwaway PostgreSQL cluster (trust auth, no fsync) on a free port. */
export async function startPostgres() {
  const bin = postgresBin();
  const user = runAs();
  const folder = mkdtempSync(join(tmpdir(), 'qnox-pg-'));
  if (user.uid !== undefined) execFileSync('chown', [`${user.uid}:${user.gid}`, folder]);
  const data = join(folder, 'data');
  execFileSync(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions'],
    { ...user, cwd: folder, stdio: 'pipe' },
  );
  const port = await freePort();
  const run = started(
    join(bin, 'postgres'),
    [
      '-D',
      data,
      '-p',
      String(port),
      '-h',
      '127.0.0.1',
      '-k',
      folder,
      '-F',
      '-c',
      'max_connections=200',
    ],
    { ...user, cwd: folder },
    'postgres',
  );
  await waitForPort(port, run.child, 'postgres', run.output);
  // Listening is not ready: wait until it accepts a session.
  for (let i = 0; ; i++) {
    try {
      execFileSync(join(bin, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port)]);
      break;
    } catch (error) {
      if (i > 300)
        throw new Error(`postgres never became ready:\n${run.output()}`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    pid: run.child.pid,
    stop: () => stopped(run, folder),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const redis = await startRedis();
  const pg = await startPostgres();
  console.log(`REDIS_URL=${redis.url}\nDATABASE_URL=${pg.url}\n(Ctrl-C stops both)`);
  const stop = async () => {
    await Promise.all([redis.stop(), pg.stop()]);
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
