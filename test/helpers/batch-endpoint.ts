import type { IncomingMessage } from 'node:http';

interface SubRequest {
  id: string;
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  dependsOn?: string[];
}

interface SubResponse {
  id: string;
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

/** Headers of a sub-answer the client needs back. */
const KEPT = [
  'etag',
  'retry-after',
  'content-type',
  'location',
  'idempotent-replayed',
  'last-modified',
];

/** A part as the server records it, and its answer. */
interface Part {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  readonly idempotencyKey: string | undefined;
}
interface PartAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * A JSON batch endpoint as Microsoft Graph and OData 4.01 describe one: each
 * sub-request runs in-process through `run` (so its idempotency, faults and
 * auth apply to it alone), after the ones it `dependsOn`; one whose
 * dependency failed answers 424 and is not run. The answers come back in
 * reverse order, so the client must correlate by `id`.
 */
export async function runBatch(
  run: (part: Part) => PartAnswer,
  body: unknown,
  req: IncomingMessage,
): Promise<PartAnswer> {
  const requests = (body as { requests?: SubRequest[] } | undefined)?.requests;
  if (!Array.isArray(requests)) return json(400, { error: 'a batch needs a "requests" array' });
  const results = new Map<string, SubResponse>();
  const authorization = req.headers.authorization;
  // In order: a part comes after what it depends on.
  for (const sub of requests) {
    const failed = (sub.dependsOn ?? []).some((id) => {
      const dep = results.get(id);
      return !dep || dep.status < 200 || dep.status > 299;
    });
    if (failed) {
      results.set(sub.id, { id: sub.id, status: 424, headers: {} });
      continue;
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(sub.headers ?? {}))
      headers[name.toLowerCase()] = value;
    if (authorization) headers.authorization = authorization;
    headers['x-batch-part'] = sub.id;
    const answer = run({
      method: sub.method,
      path: sub.url,
      headers,
      body: sub.body === undefined ? '' : JSON.stringify(sub.body),
      idempotencyKey: headers['idempotency-key'],
    });
    const kept: Record<string, string> = {};
    for (const name of KEPT)
      if (answer.headers[name] !== undefined) kept[name] = answer.headers[name]!;
    let value: unknown;
    try {
      value = answer.body === '' ? undefined : JSON.parse(answer.body);
    } catch {
      value = answer.body;
    }
    results.set(sub.id, {
      id: sub.id,
      status: answer.status,
      headers: kept,
      ...(value === undefined ? {} : { body: value }),
    });
  }
  return json(200, { responses: [...results.values()].reverse() });
}

function json(status: number, value: unknown): PartAnswer {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) };
}
