/**
 * Bodies already in hand, by the `Request` or `Response` that carries them:
 * `toNodeListener` registers the bytes it read, `withIdempotency` the bytes it
 * kept, so neither is read back out of a stream (the slow part of a Fetch-API
 * body in Node). A message never registered is read as usual.
 */
const known = new WeakMap<Request | Response, Uint8Array>();

export function withKnownBody<T extends Request | Response>(message: T, bytes: Uint8Array): T {
  known.set(message, bytes);
  return message;
}

/** The message's body bytes: the registered ones (once), else read from its stream. */
export async function bodyBytes(message: Request | Response): Promise<Uint8Array> {
  const bytes = known.get(message);
  if (bytes && !message.bodyUsed) return bytes;
  return new Uint8Array(await message.arrayBuffer());
}

/** Whether the message's body is still there to be read by the next one (its bytes are known). */
export function bodyKnown(message: Request | Response): boolean {
  return known.has(message) && !message.bodyUsed;
}
