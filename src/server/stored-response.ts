import type { StoredResponse } from './idempotency-store.js';
import { bodyBytes, withKnownBody } from './known-body.js';

/** Reads a response into the form kept under its key (the body base64, so any store can hold it), and its bytes. */
export async function keep(
  response: Response,
): Promise<{ stored: StoredResponse; bytes: Uint8Array }> {
  const bytes = await bodyBytes(response);
  const headers: [string, string][] = [];
  response.headers.forEach((value, name) => {
    headers.push([name, value]);
  });
  return { stored: { status: response.status, headers, body: toBase64(bytes) }, bytes };
}

/** A kept response as a `Response` again, marked `Idempotent-Replayed: true` when it is a replay. */
export function rebuild(stored: StoredResponse, replayed: boolean, bytes?: Uint8Array): Response {
  const headers = new Headers(stored.headers as [string, string][]);
  if (replayed) headers.set('idempotent-replayed', 'true');
  if (stored.status === 204 || stored.status === 304)
    return new Response(null, { status: stored.status, headers });
  const body = bytes ?? fromBase64(stored.body);
  return withKnownBody(
    new Response(body as Uint8Array<ArrayBuffer>, { status: stored.status, headers }),
    body,
  );
}

/** What a request passed to the handler holds: its key (scoped) and the lease's token. */
export interface HeldKey {
  readonly key: string;
  readonly token: string;
  readonly ttlMs: number;
  /**
   * Set by a store that kept the response in the handler's transaction
   * (`completeWithin`): the middleware then stores nothing itself. Were that
   * transaction rolled back, the key stays held until its lease ends, then
   * the retry runs (never a second effect).
   */
  completed?: boolean;
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

/** Node's Buffer where there is one (fast); otherwise plain base64, so the middleware runs wherever the Fetch API does. */
const NodeBuffer = (
  globalThis as {
    Buffer?: {
      from(
        data: Uint8Array | string,
        encoding?: 'base64',
      ): Uint8Array & {
        toString(encoding: 'base64'): string;
      };
    };
  }
).Buffer;

function toBase64(bytes: Uint8Array): string {
  if (NodeBuffer) return NodeBuffer.from(bytes).toString('base64');
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

function fromBase64(text: string): Uint8Array {
  if (NodeBuffer) return NodeBuffer.from(text, 'base64');
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}
