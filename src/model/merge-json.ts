/** The three versions a merge sees, as RxDB's conflict handler frames them. */
export interface MergeInput {
  /** What the local write was made against (the cached representation), or `undefined` if unknown. */
  readonly base: unknown;
  /** The full local version: what the write would make the resource. */
  readonly local: unknown;
  /** The current server version. */
  readonly server: unknown;
}

/** Options of {@link mergeJson}. */
export interface MergeOptions {
  /**
   * Who wins where both sides changed the same value differently.
   * @default 'local'
   */
  readonly tieBreaker?: 'local' | 'server';
  /** Called once per true conflict, with the JSON path (e.g. `['address', 'city']`). */
  readonly onConflict?: (path: readonly string[], local: unknown, server: unknown) => void;
}

const MISSING = Symbol('missing');
type Slot = unknown | typeof MISSING;

/**
 * Sound three-way JSON merge: a value changed on one side only keeps that
 * side's value; changed on both to different values goes to the tie-breaker;
 * plain objects merge key by key (deleted keys stay deleted); arrays and
 * scalars are values. Without a base, a key only one side has is kept and
 * every differing value is a conflict.
 */
export function mergeJson(input: MergeInput, options: MergeOptions = {}): unknown {
  const base = input.base === undefined ? MISSING : input.base;
  const merged = mergeSlot(base, input.local, input.server, [], options);
  return merged === MISSING ? null : merged;
}

function mergeSlot(
  base: Slot,
  local: Slot,
  server: Slot,
  path: string[],
  options: MergeOptions,
): Slot {
  if (deepEqual(local, server)) return local;
  if (deepEqual(local, base)) return server;
  if (deepEqual(server, base)) return local;
  if (isPlainObject(local) && isPlainObject(server)) {
    const b = isPlainObject(base) ? base : {};
    const out: Record<string, unknown> = {};
    for (const key of new Set([...Object.keys(local), ...Object.keys(server)])) {
      const value = mergeSlot(
        slot(b, key, base === MISSING),
        slot(local, key),
        slot(server, key),
        [...path, key],
        options,
      );
      if (value !== MISSING) out[key] = value;
    }
    return out;
  }
  options.onConflict?.(
    path,
    local === MISSING ? undefined : local,
    server === MISSING ? undefined : server,
  );
  return options.tieBreaker === 'server' ? server : local;
}

function slot(object: Record<string, unknown>, key: string, unknownBase = false): Slot {
  if (unknownBase) return MISSING;
  return Object.hasOwn(object, key) ? object[key] : MISSING;
}

/** RFC 7396 JSON merge patch: `null` deletes, objects merge, anything else replaces. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const out: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = applyMergePatch(out[key], value);
  }
  return out;
}

/** The merge patch that turns `from` into `to` (so a PATCH can carry a merge result). */
export function diffMergePatch(from: unknown, to: unknown): unknown {
  if (!isPlainObject(from) || !isPlainObject(to)) return to;
  const patch: Record<string, unknown> = {};
  for (const key of Object.keys(from)) if (!Object.hasOwn(to, key)) patch[key] = null;
  for (const [key, value] of Object.entries(to)) {
    if (!Object.hasOwn(from, key)) patch[key] = value;
    else if (!deepEqual(from[key], value)) patch[key] = diffMergePatch(from[key], value);
  }
  return patch;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((v, i) => deepEqual(v, other[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return (
    ka.length === kb.length &&
    ka.every((k) => Object.hasOwn(b, k) && deepEqual((a as never)[k], (b as never)[k]))
  );
}
