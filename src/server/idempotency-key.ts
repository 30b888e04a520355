import { IN_PROGRESS_PROBLEM } from '../http/classify.js';

/** Problem types of the answers `withIdempotency` gives itself (RFC 9457 `application/problem+json`). */
export const PROBLEMS = {
  /** The same key is being processed now: retry after `Retry-After` (the client does, uncharged). */
  inProgress: IN_PROGRESS_PROBLEM,
  /** The key was used for another request (method, path or body differ). */
  mismatch: 'urn:qnox-offline-sync:problem:idempotency-key-reused',
  /** A key is required and missing, or it is not a valid key. */
  badKey: 'urn:qnox-offline-sync:problem:idempotency-key-invalid',
  /** The store of keys cannot be reached: nothing ran. */
  storeDown: 'urn:qnox-offline-sync:problem:idempotency-store-unavailable',
} as const;

/**
 * The key of an `Idempotency-Key` header: the draft's quoted form (`"…"`, a
 * structured-field string) and the bare form Stripe uses name the same key.
 * `undefined` when it is not a valid key: empty, over 255 characters, or with
 * characters a header value cannot carry.
 */
export function parseKey(header: string): string | undefined {
  let key = header.trim();
  if (key.length >= 2 && key.startsWith('"') && key.endsWith('"'))
    key = key.slice(1, -1).replace(/\\(["\\])/g, '$1');
  if (key === '' || key.length > 255 || !/^[\x20-\x7e]+$/.test(key)) return undefined;
  return key;
}

/** What a key is bound to: the method, the path with its query, and the body (SHA-256, hex). */
export async function fingerprint(
  method: string,
  url: URL,
  body: ArrayBuffer | Uint8Array,
): Promise<string> {
  const head = new TextEncoder().encode(`${method} ${url.pathname}${url.search}\n`);
  const all = new Uint8Array(head.length + body.byteLength);
  all.set(head);
  all.set(body instanceof Uint8Array ? body : new Uint8Array(body), head.length);
  return sha256Hex(all);
}

/** SHA-256 (hex) of a scoped key: persistent stores keep this, so a scope (a credential) never lands in them. */
export function hashedKey(key: string): Promise<string> {
  return sha256Hex(new TextEncoder().encode(key));
}

/** Node's own hashing, where there is one (`process.getBuiltinModule`, Node 20.16+): synchronous, ~10x faster than `crypto.subtle` for small inputs. */
const nodeCrypto = (
  globalThis as {
    process?: {
      getBuiltinModule?: (id: string) =>
        | {
            createHash(name: string): {
              update(data: Uint8Array): { digest(encoding: 'hex'): string };
            };
          }
        | undefined;
    };
  }
).process?.getBuiltinModule?.('node:crypto');

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  if (nodeCrypto) return nodeCrypto.createHash('sha256').update(bytes).digest('hex');
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** An `application/problem+json` answer. */
export function problem(
  status: number,
  type: string,
  title: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify({ type, title, status }), {
    status,
    headers: { 'content-type': 'application/problem+json', ...headers },
  });
}
