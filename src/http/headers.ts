import { ConfigError } from '../model/errors.js';

/** RFC 9110 token: what a header name may be. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** A value `fetch` accepts: Latin-1, without CR, LF or NUL. */
export function isHeaderValue(value: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly what is refused
  return !/[\r\n\0]|[^\u0000-\u00ff]/.test(value);
}

/**
 * Checks a call's headers before anything is stored: a name or value `fetch`
 * would refuse at send time would otherwise block its key for every retry.
 */
export function checkHeaders(headers: unknown, option = 'headers'): Record<string, string> {
  if (headers === undefined) return {};
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers))
    throw new ConfigError(option, 'must be an object of header names to string values');
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!TOKEN.test(name)) throw new ConfigError(option, `"${name}" is not a valid header name`);
    if (typeof value !== 'string' || !isHeaderValue(value))
      throw new ConfigError(
        option,
        `the value of "${name}" must be a Latin-1 string without line breaks`,
      );
    out[name] = value;
  }
  return out;
}
