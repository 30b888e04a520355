import { normalizeUrl } from '../http/url.js';

/** Scope, method and normalised URL: two users, or two query orders, never share or split an entry wrongly. */
export function cacheKey(scope: string, method: string, url: string): string {
  return `${scope}\u0000${method}\u0000${normalizeUrl(url)}`;
}

/** {@link cacheKey} of a URL already normalized (a loop over many members normalizes once); keep the two alike. */
export function normalCacheKey(scope: string, method: string, normalUrl: string): string {
  return `${scope}\u0000${method}\u0000${normalUrl}`;
}

/** True when the server asked us not to keep the response (`no-store`, or `Vary: *`). */
export function forbidsStorage(headers: Readonly<Record<string, string>>): boolean {
  return /\bno-store\b/i.test(headers['cache-control'] ?? '') || headers.vary?.trim() === '*';
}

/** `no-cache` (or `max-age=0`): the response may be kept, but every use revalidates it first. */
export function mustRevalidate(headers: Readonly<Record<string, string>>): boolean {
  return /\bno-cache\b|\bmax-age=0\b/i.test(headers['cache-control'] ?? '');
}

/** Response headers that carry credentials are never persisted with a cached copy. */
const CREDENTIALS = new Set(['set-cookie', 'set-cookie2', 'authorization', 'proxy-authorization']);

export function storableHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers))
    if (!CREDENTIALS.has(name.toLowerCase())) out[name] = value;
  return out;
}

/**
 * The request's values of the headers a response's `Vary` names (lower-case
 * names), kept with the entry: a later request with other values is a miss.
 */
export function varyValues(
  responseHeaders: Readonly<Record<string, string>>,
  requestHeaders: Readonly<Record<string, string>>,
): Record<string, string> | undefined {
  const vary = responseHeaders.vary;
  if (!vary) return undefined;
  const lower: Record<string, string> = {};
  for (const [name, value] of Object.entries(requestHeaders)) lower[name.toLowerCase()] = value;
  const out: Record<string, string> = {};
  for (const name of vary.split(',')) {
    const key = name.trim().toLowerCase();
    if (key) out[key] = lower[key] ?? '';
  }
  return out;
}

/** True when a request's headers select the same variant the entry was stored for. */
export function sameVariant(
  stored: Readonly<Record<string, string>> | undefined,
  requestHeaders: Readonly<Record<string, string>>,
): boolean {
  if (!stored) return true;
  const now = varyValues({ vary: Object.keys(stored).join(',') }, requestHeaders) ?? {};
  return Object.keys(stored).every((name) => stored[name] === now[name]);
}
