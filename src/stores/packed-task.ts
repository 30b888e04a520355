import type { TaskRecord } from '../model/records.js';

/**
 * A task as {@link MemoryStore} holds it: one string, without its id (the map
 * key) and without field names. Fields the positional list does not know
 * travel in a trailing object, so a newer record shape still round-trips.
 */
export function packTask(task: TaskRecord): string {
  const {
    id: _id,
    v,
    seq,
    idempotencyKey,
    method,
    url,
    headers,
    body,
    orderingKey,
    createdAt,
    attempts,
    nextAttemptAt,
    ...rest
  } = task;
  const row: unknown[] = [v, seq, idempotencyKey, method, url, headers, body ?? 0, orderingKey];
  row.push(createdAt, attempts, nextAttemptAt);
  for (const key in rest) {
    if ((rest as Record<string, unknown>)[key] !== undefined) {
      row.push(rest);
      break;
    }
  }
  return exactCopy(JSON.stringify(row));
}

/** The record {@link packTask} packed, as a fresh object the caller may change. */
export function unpackTask(id: string, packed: string): TaskRecord {
  const row = JSON.parse(packed) as unknown[];
  const task = {
    v: row[0],
    id,
    seq: row[1],
    idempotencyKey: row[2],
    method: row[3],
    url: row[4],
    headers: row[5],
    ...(row[6] === 0 ? {} : { body: row[6] }),
    orderingKey: row[7],
    createdAt: row[8],
    attempts: row[9],
    nextAttemptAt: row[10],
    ...(row[11] as object | undefined),
  };
  return task as TaskRecord;
}

const codec =
  typeof TextEncoder === 'function' && typeof TextDecoder === 'function'
    ? { encoder: new TextEncoder(), decoder: new TextDecoder() }
    : undefined;

/**
 * `JSON.stringify` returns its string inside a buffer sized for growth (in V8,
 * about a third more than the text); a decoded copy is exactly as long as it
 * must be. Measured by the heap figure of `npm run bench`. Where the runtime
 * has no text codec, the text is kept as it is.
 */
export function exactCopy(text: string): string {
  return codec ? codec.decoder.decode(codec.encoder.encode(text)) : text;
}
