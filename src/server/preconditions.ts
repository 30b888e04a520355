import { problem } from './idempotency-key.js';

/** The strong ETag of a resource's version: `"<version>"`. */
export function etagOf(version: string | number): string {
  return `"${String(version).replace(/"/g, '')}"`;
}

/**
 * Checks a write's preconditions against the resource's current ETag
 * (`undefined`: the resource does not exist): `undefined` when the write may
 * go on, else the answer to give. `If-Match` that does not match (`*`
 * matches any existing version) is a 412 carrying the current ETag, so the
 * client can resolve the conflict; with `required`, a write without
 * `If-Match` is a 428 (RFC 6585), which the client's `conflicts()` plug-in
 * answers by fetching the current ETag.
 *
 * @example
 * const refused = checkPreconditions(request, etagOf(order.version), { required: true });
 * if (refused) return refused;
 */
export function checkPreconditions(
  request: Request,
  current: string | undefined,
  options: { required?: boolean } = {},
): Response | undefined {
  const ifMatch = request.headers.get('if-match');
  if (ifMatch === null)
    return options.required
      ? problem(428, 'about:blank', 'This write needs an If-Match precondition')
      : undefined;
  const tags = ifMatch.split(',').map((t) => t.trim());
  const matches = current !== undefined && (tags.includes('*') || tags.includes(current));
  if (matches) return undefined;
  return problem(
    412,
    'about:blank',
    'The resource changed since it was read',
    current ? { etag: current } : {},
  );
}
