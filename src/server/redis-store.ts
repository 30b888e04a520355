import { ConfigError, StorageError } from '../model/errors.js';
import { hashedKey } from './idempotency-key.js';
import type { BeginResult, IdempotencyStore, StoredResponse } from './idempotency-store.js';

/**
 * The part of a Redis client the store uses: ioredis (`call`) or node-redis
 * (`sendCommand(args)`). An ioredis client that is reconnecting or closed
 * fails the command at once instead of queueing it.
 */
export interface RedisClientLike {
  /** ioredis: `redis.call('EVALSHA', …)`. */
  call?: (command: string, ...args: (string | number)[]) => Promise<unknown>;
  /** node-redis: `client.sendCommand(['EVALSHA', …])`. */
  sendCommand?: unknown;
  /** ioredis's connection state. */
  status?: string;
}

const DOWN = new Set(['reconnecting', 'close', 'end']);

/** Options of {@link redisIdempotencyStore}. */
export interface RedisIdempotencyStoreOptions {
  /**
   * A connected ioredis or node-redis client. Turn its offline queue off
   * (ioredis `enableOfflineQueue: false`, node-redis `disableOfflineQueue:
   * true`) so a command never waits for Redis to come back: the middleware
   * answers 503 instead.
   * @example new Redis(process.env.REDIS_URL, { enableOfflineQueue: false })
   */
  client: RedisClientLike;
  /**
   * Prefix of the store's Redis keys.
   * @default 'qnox:idem:'
   * @example 'orders-api:idem:'
   */
  prefix?: string;
}

// One hash per key: f = fingerprint, t = the running request's token, r = the stored response.
// Each script reads and writes its key in one step, so the lock and the response never disagree.
const BEGIN = `local v = redis.call('HMGET', KEYS[1], 'f', 'r')
if v[1] then
  if v[2] then return {'done', v[1], v[2]} end
  return {'running', v[1]}
end
redis.call('HSET', KEYS[1], 'f', ARGV[1], 't', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {'acquired'}`;
const RENEW = `if redis.call('HGET', KEYS[1], 't') == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0`;
const COMPLETE = `if redis.call('HGET', KEYS[1], 't') == ARGV[1] then
  redis.call('HDEL', KEYS[1], 't')
  redis.call('HSET', KEYS[1], 'r', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3]) return 1 end
return 0`;
const RELEASE = `if redis.call('HGET', KEYS[1], 't') == ARGV[1] then
  redis.call('DEL', KEYS[1]) return 1 end
return 0`;

/**
 * Keys in Redis, shared by every process of the API: each key is one hash
 * that Lua scripts take, renew, complete and release atomically (`EVALSHA`,
 * loaded on first use), expiring with its lease and then its `ttlMs`. The key
 * kept is a SHA-256 of scope and key, so a scope (a credential) never lands
 * in Redis.
 *
 * @example
 * import { Redis } from 'ioredis';
 * const store = redisIdempotencyStore({ client: new Redis(url, { enableOfflineQueue: false }) });
 * const api = withIdempotency(app.fetch, { store });
 */
export function redisIdempotencyStore(options: RedisIdempotencyStoreOptions): IdempotencyStore {
  const { client, prefix = 'qnox:idem:' } = options;
  if (typeof client?.call !== 'function' && typeof client?.sendCommand !== 'function')
    throw new ConfigError('client', 'must be an ioredis or node-redis client');
  const send = (args: string[]): Promise<unknown> => {
    if (DOWN.has(client.status!)) return Promise.reject(new StorageError('Redis is not connected'));
    if (typeof client.call === 'function') return client.call(args[0]!, ...args.slice(1));
    const sendCommand = client.sendCommand as (args: string[]) => Promise<unknown>;
    return sendCommand.apply(client, [args]);
  };
  const shas = new Map<string, Promise<string>>();
  const run = async (script: string, key: string, ...args: (string | number)[]) => {
    const name = prefix + (await hashedKey(key));
    const rest = ['1', name, ...args.map(String)];
    let sha = shas.get(script);
    if (!sha) {
      sha = send(['SCRIPT', 'LOAD', script]) as Promise<string>;
      shas.set(script, sha);
      sha.catch(() => shas.delete(script));
    }
    try {
      return await send(['EVALSHA', await sha, ...rest]);
    } catch (error) {
      // Redis restarted (or failed over) and forgot the script: send it whole once.
      if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw error;
      shas.delete(script);
      return send(['EVAL', script, ...rest]);
    }
  };
  return {
    async begin(key, fingerprint, leaseMs): Promise<BeginResult> {
      const token = crypto.randomUUID();
      const [state, print, response] = (await run(BEGIN, key, fingerprint, token, leaseMs)) as [
        string,
        string?,
        string?,
      ];
      if (state === 'acquired') return { state, token };
      if (state === 'running') return { state, fingerprint: print! };
      return {
        state: 'done',
        fingerprint: print!,
        response: JSON.parse(response!) as StoredResponse,
      };
    },
    async renew(key, token, leaseMs) {
      return Number(await run(RENEW, key, token, leaseMs)) === 1;
    },
    async complete(key, token, response, ttlMs) {
      await run(COMPLETE, key, token, JSON.stringify(response), ttlMs);
    },
    async release(key, token) {
      await run(RELEASE, key, token);
    },
  };
}
