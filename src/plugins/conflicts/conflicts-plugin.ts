import type { ConflictDetector, ConflictStrategy } from '../../model/conflict-types.js';
import { ConfigError, guarded } from '../../model/errors.js';
import { type MergeInput, mergeJson } from '../../model/merge-json.js';
import type { QnoxPlugin } from '../../outbox/plugin-interface.js';
import { ConflictHandler } from './conflict-handler.js';

/** Options of {@link conflicts}: how 409/412 (and what `detect` flags) are resolved. */
export interface ConflictsOptions {
  /**
   * `'park'`, `'server-wins'`, `'client-wins'`, `'merge'` or your resolver.
   * A write's own `conflict` option overrides it.
   * @default 'park'
   * @example 'merge'
   */
  strategy?: ConflictStrategy;
  /**
   * Flags a 2xx answer as a conflict too. With a detector, a key's next write
   * waits until the previous answer was read whole (no pipelined lanes).
   * @default none
   * @example (res) => (res.data as { stale?: boolean }).stale === true
   */
  detect?: ConflictDetector;
  /**
   * The three-way merge of the `'merge'` strategy.
   * @default mergeJson with `tieBreaker`
   * @example ({ local, server }) => ({ ...(server as object), ...(local as object) })
   */
  merge?: (input: MergeInput) => unknown;
  /**
   * Who wins the default merge where both sides changed the same value.
   * @default 'local'
   * @example 'server'
   */
  tieBreaker?: 'local' | 'server';
  /**
   * How many times one write's conflict is resolved and re-sent before it is parked.
   * @default 3
   * @example 5
   */
  maxRounds?: number;
}

const OPTIONS = new Set(['strategy', 'detect', 'merge', 'tieBreaker', 'maxRounds']);
const NAMES = new Set(['park', 'server-wins', 'client-wins', 'merge']);

/** Checks a strategy given as an option or per call. */
function checkStrategy(option: string, value: ConflictStrategy): ConflictStrategy {
  if (typeof value !== 'function' && !NAMES.has(value))
    throw new ConfigError(
      option,
      `must be park, server-wins, client-wins, merge or a function, got "${String(value)}"`,
    );
  return value;
}

/**
 * Conflict resolution as a plug-in. Without it, every conflict (409, 412) is
 * parked in the dead letters (reason `conflict`) and a 428 too; with it, the
 * strategies below run, a 428 is answered by fetching the current ETag and
 * sending once more, and a write's own `conflict` option may name any of them.
 *
 * @example
 * import { conflicts } from 'qnox-offline-sync/conflicts';
 * const sync = await QnoxSync.create({ baseUrl, plugins: [conflicts({ strategy: 'merge' })] });
 */
export function conflicts(options: ConflictsOptions = {}): QnoxPlugin {
  if (typeof options !== 'object' || options === null)
    throw new ConfigError('conflicts', 'must be an options object');
  for (const key of Object.keys(options))
    if (!OPTIONS.has(key))
      throw new ConfigError(`conflicts.${key}`, 'is not an option of conflicts()');
  const { detect, merge, tieBreaker = 'local', maxRounds = 3 } = options;
  const strategy = checkStrategy('conflicts.strategy', options.strategy ?? 'park');
  if (tieBreaker !== 'local' && tieBreaker !== 'server')
    throw new ConfigError('conflicts.tieBreaker', 'must be "local" or "server"');
  if (!Number.isInteger(maxRounds) || maxRounds < 1)
    throw new ConfigError(
      'conflicts.maxRounds',
      `must be an integer >= 1, got ${String(maxRounds)}`,
    );
  for (const [name, fn] of [
    ['detect', detect],
    ['merge', merge],
  ] as const)
    if (fn !== undefined && typeof fn !== 'function')
      throw new ConfigError(`conflicts.${name}`, `must be a function, got ${typeof fn}`);
  const handlerOptions = {
    strategy,
    merge: merge
      ? guarded('merge', merge)
      : (input: MergeInput) => mergeJson(input, { tieBreaker }),
    maxRounds,
  };
  const detector = detect && guarded('conflictDetector', detect);
  return {
    name: 'conflicts',
    ports: {
      conflicts: (deps) => {
        const handler = new ConflictHandler(deps, handlerOptions);
        return {
          ...(detector ? { detect: detector } : {}),
          check: (option, value) => void checkStrategy(option, value),
          handle: (task, error) => handler.handle(task, error),
          requirePrecondition: (task, error) => handler.requirePrecondition(task, error),
        };
      },
    },
  };
}
