import type { StoredBody } from './records.js';

/** Turns what the caller passed into a persistable body: strings stay text, everything else is JSON. */
export function encodeBody(data: unknown): StoredBody | undefined {
  if (data === undefined) return undefined;
  if (typeof data === 'string') return { kind: 'text', value: data };
  return { kind: 'json', value: data };
}

/** The `fetch` body and its default content type. */
export function toFetchBody(body: StoredBody | undefined): { body?: string; contentType?: string } {
  if (!body) return {};
  if (body.kind === 'text') return { body: body.value, contentType: 'text/plain;charset=UTF-8' };
  return { body: JSON.stringify(body.value), contentType: 'application/json' };
}

/** Reads a response body once: JSON when the server says so (and it parses), else text. */
export async function readBody(response: Response): Promise<StoredBody | null> {
  if (response.status === 204 || response.status === 304) return null;
  const text = await response.text();
  if (text === '') return null;
  const type = response.headers.get('content-type') ?? '';
  if (/[/+]json\b/i.test(type)) {
    try {
      return { kind: 'json', value: JSON.parse(text) };
    } catch {
      return { kind: 'text', value: text };
    }
  }
  return { kind: 'text', value: text };
}

/** The value a caller sees for a stored body. */
export function bodyData(body: StoredBody | null | undefined): unknown {
  return body ? body.value : null;
}
