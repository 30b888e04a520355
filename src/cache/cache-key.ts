import { normalizeUrl } from '../http/url.js';

/** Scope, method and normalised URL: two users, or two query orders, never share or split an entry wrongly. */
export function cacheKey(scope: string, method: string, url: string): string {
  return `${scope}\u0000${method}\u0000${normalizeUrl(url)}`;
}

/** True when the server asked us not to keep the response. */
export function forbidsStorage(headers: Readonly<Record<string, string>>): boolean {
  return /\bno-store\b/i.test(headers['cache-control'] ?? '');
}
