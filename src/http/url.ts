import { ConfigError, OriginError } from '../model/errors.js';

/** Validates `baseUrl`: absolute http(s), without credentials, returned without a trailing slash. */
export function parseBaseUrl(baseUrl: unknown): URL {
  if (typeof baseUrl !== 'string' || baseUrl === '') {
    throw new ConfigError(
      'baseUrl',
      'required, an absolute http(s) URL such as "https://api.example.com"',
    );
  }
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new ConfigError('baseUrl', `"${baseUrl}" is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError('baseUrl', `"${baseUrl}" must use http or https`);
  }
  if (url.username || url.password)
    throw new ConfigError('baseUrl', 'must not carry credentials (use authTokenProvider)');
  url.pathname = url.pathname.replace(/\/+$/, '');
  url.search = '';
  url.hash = '';
  return url;
}

/**
 * Joins a call's path to `baseUrl`, or checks an absolute URL against the
 * allowed origins, and returns it normalised (dot segments resolved). Throws
 * {@link OriginError} before anything is sent, and a `ConfigError('path')` for
 * a path that is not a string, carries credentials (they would be stored with
 * the write) or climbs out of `baseUrl`'s path with `..`.
 */
export function resolveUrl(base: URL, path: unknown, allowedOrigins: ReadonlySet<string>): string {
  if (typeof path !== 'string') throw new ConfigError('path', 'must be a string');
  if (/^[a-z][a-z\d+.-]*:/i.test(path) || path.startsWith('//')) {
    let url: URL;
    try {
      url = new URL(path, base);
    } catch {
      throw new ConfigError('path', `"${path}" is not a valid URL`);
    }
    if (url.username || url.password)
      throw new ConfigError('path', 'must not carry credentials (use authTokenProvider)');
    if (!allowedOrigins.has(url.origin) || url.origin === 'null') throw new OriginError(url.href);
    return url.href;
  }
  const suffix = path.startsWith('/') ? path : `/${path}`;
  const prefix = base.pathname.replace(/\/+$/, '');
  const url = new URL(`${base.origin}${prefix}${suffix}`);
  if (
    !(url.pathname === prefix || url.pathname.startsWith(`${prefix}/`)) ||
    url.origin !== base.origin
  )
    throw new ConfigError('path', `"${path}" leaves the base path ${prefix || '/'}`);
  return url.href;
}

/** Throws {@link OriginError} unless the URL's origin is allowed (checked again at send time). */
export function assertAllowed(url: string, allowedOrigins: ReadonlySet<string>): void {
  // Hot path: URLs built by resolveUrl start with "<origin>/"; anything else gets a full parse.
  for (const origin of allowedOrigins) {
    if (url.startsWith(origin) && url.charCodeAt(origin.length) === 47) return;
  }
  if (!allowedOrigins.has(new URL(url).origin)) throw new OriginError(url);
}

/** Same resource, same key: sorted query, no fragment. */
export function normalizeUrl(url: string): string {
  const u = new URL(url);
  u.hash = '';
  u.searchParams.sort();
  return u.href;
}

/** The path part of a URL, the default ordering key of a mutation. */
export function pathOf(url: string): string {
  return new URL(url).pathname;
}
