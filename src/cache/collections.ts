import { ConfigError } from '../model/errors.js';

/** A collection as the client uses it: made by `collection(rule)` and bound to the base URL. */
export interface ListedCollection {
  /** The collection's absolute URL, without a trailing slash. */
  readonly url: string;
  /** The row of member `id` in the collection's body, if it is listed there. */
  find(body: unknown, id: string): unknown;
  /** The `If-Match` value a row carries, if any. */
  validator(row: unknown): string | undefined;
  /** The body with member `id`'s row replaced by `next` (removed when `next` is undefined). */
  replace(body: unknown, id: string, next: unknown): unknown;
}

/** What `collection(rule)` returns, for the `collections` option. */
export interface CollectionSpec {
  bind(base: URL, allowed: ReadonlySet<string>): ListedCollection;
}

/** A member of a declared collection: where its collection is cached and how to find it there. */
export interface Membership {
  readonly list: ListedCollection;
  readonly id: string;
}

/** The `collections` option resolved: which URLs are members of which cached collection. */
export class Collections {
  readonly #lists: readonly ListedCollection[];

  constructor(base: URL, specs: unknown, allowed: ReadonlySet<string>) {
    if (
      specs !== undefined &&
      (!Array.isArray(specs) || specs.some((s) => typeof s?.bind !== 'function'))
    )
      throw new ConfigError('collections', 'must be an array of collection({ path, … })');
    this.#lists = ((specs ?? []) as CollectionSpec[]).map((s) => s.bind(base, allowed));
  }

  /** The collection `url` is a member of, when one was declared. */
  memberOf(url: string): Membership | undefined {
    if (this.#lists.length === 0) return undefined;
    const u = new URL(url);
    const cut = u.pathname.replace(/\/+$/, '').lastIndexOf('/');
    const parent = `${u.origin}${u.pathname.slice(0, cut)}`;
    const list = u.search || cut <= 0 ? undefined : this.#lists.find((l) => l.url === parent);
    return list && { list, id: decodeURIComponent(u.pathname.slice(cut + 1)) };
  }
}
