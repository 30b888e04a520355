import { ConfigError, OriginError } from '../errors.js';

/** Validates `baseUrl`: absolute http(s), returned without a trailing slash. */
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
  url.pathname = url.pathname.replace(/\/+$/, '');
  url.search = '';
  url.hash = '';
  return url;
}

/**
 * Joins a call's path to `baseUrl`, or checks an absolute URL against the
 * allowed origins. Throws {@link OriginError} before anything is sent.
 */
export function resolveUrl(base: URL, path: string, allowedOrigins: ReadonlySet<string>): string {
  if (/^[a-z][a-z\d+.-]*:/i.test(path) || path.startsWith('//')) {
    const url = new URL(path, base);
    if (!allowedOrigins.has(url.origin)) throw new OriginError(url.href);
    return url.href;
  }
  const suffix = path.startsWith('/') ? path : `/${path}`;
  return `${base.origin}${base.pathname.replace(/\/+$/, '')}${suffix}`;
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
