import { resolveUrl } from '../http/url.js';
import { ConfigError, guarded } from '../model/errors.js';
import type { CollectionSpec, ListedCollection } from './collections.js';

/**
 * A collection whose answer lists its members, each of them reachable at
 * `${path}/${member[id]}` (e.g. `GET /items` → `[{ id: '7', version: 3, … }]`,
 * the member at `/items/7`).
 */
export interface CollectionRule {
  /** The collection's path, relative to `baseUrl`. @example '/items' */
  readonly path: string;
  /**
   * The member field holding its id.
   * @default 'id'
   */
  readonly id?: string;
  /**
   * The member's validator: the name of a field, or a function returning it;
   * it is sent as `If-Match`, quoted as an entity-tag unless it already is.
   * @default none (no validator is taken from the collection)
   * @example 'etag' · (item) => `v${(item as { version: number }).version}`
   */
  readonly etag?: string | ((member: unknown) => unknown);
  /**
   * The field of the collection's body holding the member array.
   * @default none: the body is the array
   * @example 'data'
   */
  readonly list?: string;
}

/**
 * Declares a collection for the `collections` option (imported only by apps
 * that use it, so it costs nothing in a bundle otherwise).
 * @example QnoxSync.create({ baseUrl, collections: [collection({ path: '/items', etag: 'version' })] })
 */
export function collection(rule: CollectionRule): CollectionSpec {
  const bad = (why: string) => new ConfigError('collections', why);
  if (typeof rule !== 'object' || rule === null) throw bad('each rule must be an object');
  if (typeof rule.path !== 'string') throw bad('each rule needs a path, e.g. "/items"');
  for (const name of ['id', 'list'] as const)
    if (rule[name] !== undefined && (typeof rule[name] !== 'string' || rule[name] === ''))
      throw bad(`"${name}" must name a field`);
  const { etag, list } = rule;
  if (etag !== undefined && typeof etag !== 'string' && typeof etag !== 'function')
    throw bad('"etag" must name a field or be a function');
  const id = rule.id ?? 'id';
  const tagOf =
    typeof etag === 'function'
      ? guarded('collections etag', etag)
      : (member: unknown) => etag && field(member, etag);
  const members = (body: unknown) => {
    const rows = list === undefined ? body : field(body, list);
    return Array.isArray(rows) ? rows : undefined;
  };
  const idOf = (member: unknown) => {
    const value = field(member, id);
    return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
  };
  return {
    bind(base, allowed): ListedCollection {
      const url = new URL(resolveUrl(base, rule.path, allowed));
      return {
        url: `${url.origin}${url.pathname.replace(/\/+$/, '')}`,
        find: (body, member) => members(body)?.find((row) => idOf(row) === member),
        validator: (row) => asEntityTag(tagOf(row)),
        replace(body, member, next) {
          const rows = members(body);
          if (!rows) return body;
          const updated = rows.flatMap((row) =>
            idOf(row) !== member ? [row] : next === undefined ? [] : [next],
          );
          return list === undefined ? updated : { ...(body as object), [list]: updated };
        },
      };
    },
  };
}

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null
    ? (value as Record<string, unknown>)[name]
    : undefined;
}

/** A value as an entity-tag: `"abc"` and `W/"abc"` as they are, `abc` or `3` quoted; nothing else. */
function asEntityTag(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return `"${value}"`;
  if (typeof value !== 'string' || value === '') return undefined;
  const tag = /^(W\/)?".*"$/.test(value) ? value : `"${value}"`;
  // A header value only: nothing with a line break or a quote inside the tag.
  return /^(W\/)?"[^"\r\n]*"$/.test(tag) ? tag : undefined;
}
