import type { StoredResponse } from './idempotency-store.js';

/** Reads a response into the form kept under its key (the body base64, so any store can hold it). */
export async function keep(response: Response): Promise<StoredResponse> {
  const bytes = new Uint8Array(await response.arrayBuffer());
  const headers: [string, string][] = [];
  response.headers.forEach((value, name) => {
    headers.push([name, value]);
  });
  return { status: response.status, headers, body: toBase64(bytes) };
}

/** A kept response as a `Response` again, marked `Idempotent-Replayed: true` when it is a replay. */
export function rebuild(stored: StoredResponse, replayed: boolean): Response {
  const headers = new Headers(stored.headers as [string, string][]);
  if (replayed) headers.set('idempotent-replayed', 'true');
  const body = stored.status === 204 || stored.status === 304 ? null : fromBase64(stored.body);
  return new Response(body, { status: stored.status, headers });
}

/** What a request passed to the handler holds: its key (scoped) and the lease's token. */
export interface HeldKey {
  readonly key: string;
  readonly token: string;
  readonly ttlMs: number;
}

const held = new WeakMap<Request, HeldKey>();

/** Marks the request the handler receives as holding `hold` (see {@link heldKeyOf}). */
export function markHeld(request: Request, hold: HeldKey): void {
  held.set(request, hold);
}

/**
 * The key and lease the request holds while its handler runs, for a store
 * that keeps the response in the handler's own transaction
 * (`postgresIdempotencyStore().completeWithin`). `undefined` for a request
 * that came without a key (or a method that is not guarded).
 *
 * @example const hold = heldKeyOf(request); // { key, token, ttlMs } | undefined
 */
export function heldKeyOf(request: Request): HeldKey | undefined {
  return held.get(request);
}

/** Base64 without Node's Buffer, so the middleware runs wherever the Fetch API does. */
function toBase64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

function fromBase64(text: string): ArrayBuffer {
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out.buffer;
}
