import { CorsError, type QnoxError } from '../model/errors.js';

/**
 * The origin of the page or worker the client runs in, or `undefined` where
 * there is none (Node): requests to another origin are subject to CORS.
 */
export function pageOrigin(): string | undefined {
  const location = (globalThis as { location?: { origin?: unknown } }).location;
  const origin = location?.origin;
  return typeof origin === 'string' && origin !== 'null' ? origin : undefined;
}

/** True when `url` is on another origin than the page (so the browser applies CORS to it). */
export function isCrossOrigin(url: string): boolean {
  const origin = pageOrigin();
  return origin !== undefined && new URL(url).origin !== origin;
}

/**
 * A request to another origin than the page's that got no answer while the
 * server answers probes: the browser refused it (CORS), not the network.
 */
export function likelyCors(url: string, error: QnoxError): QnoxError {
  const origin = pageOrigin();
  if (error.code !== 'network' || origin === undefined || new URL(url).origin === origin)
    return error;
  return new CorsError(url, origin, { cause: error });
}
