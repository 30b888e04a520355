import { normalizeUrl } from '../../http/url.js';
import { encodeBody } from '../../model/body.js';
import { applyMergePatch, isPlainObject } from '../../model/merge-json.js';
import { mayHaveReachedServer, type NewTaskRecord, type TaskRecord } from '../../model/records.js';

/** How a new write combines with the last queued write of its ordering key. */
export type Coalescing =
  /** Replace `last` with this task (same id, seq and idempotency key): the new write rides on it. */
  | { readonly kind: 'merge'; readonly task: TaskRecord }
  /** Drop `last`, then queue the new write: it makes `last` pointless (DELETE after PUT/PATCH). */
  | { readonly kind: 'supersede' };

/**
 * PATCH after PATCH composes the merge patches, PATCH after PUT patches the PUT
 * body, PUT replaces a PUT or PATCH, DELETE supersedes a PUT or PATCH. Only a
 * write that never left may change: one that was sent may have taken effect.
 */
export function coalesce(last: TaskRecord, next: NewTaskRecord): Coalescing | undefined {
  if (mayHaveReachedServer(last) || normalizeUrl(last.url) !== normalizeUrl(next.url))
    return undefined;
  if (last.method !== 'PUT' && last.method !== 'PATCH') return undefined;
  if (next.method === 'DELETE') return { kind: 'supersede' };
  const headers = { ...next.headers, ...pick(last.headers, ['if-match', 'if-unmodified-since']) };
  if (next.method === 'PUT')
    return {
      kind: 'merge',
      task: { ...last, method: 'PUT', headers, ...bodyOf(next.body?.value) },
    };
  if (next.method !== 'PATCH') return undefined;
  const combined =
    last.method === 'PUT'
      ? applyMergePatch(last.body?.value, next.body?.value)
      : composeMergePatches(last.body?.value, next.body?.value);
  if (combined === NOT_COMPOSABLE) return undefined;
  return { kind: 'merge', task: { ...last, headers, ...bodyOf(combined) } };
}

export const NOT_COMPOSABLE = Symbol('not composable');

/**
 * One merge patch with the effect of `first` then `second`, or
 * {@link NOT_COMPOSABLE} where RFC 7396 cannot say it without the target
 * (a key deleted or set to a scalar, then set to an object: one patch would
 * merge into whatever the server still has there).
 */
export function composeMergePatches(first: unknown, second: unknown): unknown {
  if (!isPlainObject(first) || !isPlainObject(second)) return second;
  const out: Record<string, unknown> = { ...first };
  for (const [key, value] of Object.entries(second)) {
    if (isPlainObject(value) && Object.hasOwn(out, key) && !isPlainObject(out[key]))
      return NOT_COMPOSABLE;
    if (isPlainObject(value) && isPlainObject(out[key])) {
      const inner = composeMergePatches(out[key], value);
      if (inner === NOT_COMPOSABLE) return NOT_COMPOSABLE;
      out[key] = inner;
    } else {
      out[key] = value;
    }
  }
  return out;
}

function bodyOf(value: unknown): { body: NonNullable<TaskRecord['body']> } | Record<never, never> {
  const body = encodeBody(value);
  return body ? { body } : {};
}

function pick(headers: Readonly<Record<string, string>>, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers))
    if (names.includes(name.toLowerCase())) out[name] = value;
  return out;
}
