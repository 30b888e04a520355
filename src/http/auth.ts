import { AuthError, isQnoxError } from '../model/errors.js';
import { isHeaderValue } from './headers.js';

/** The auth part of the options, as the engine needs it. */
export interface AuthCallbacks {
  readonly authTokenProvider?:
    | (() => string | null | undefined | Promise<string | null | undefined>)
    | undefined;
  readonly refreshToken?: (() => boolean | Promise<boolean>) | undefined;
}

/**
 * Adds the token at send time (it is never persisted) and runs at most one
 * refresh at a time. A 401 for a request sent before the latest successful
 * refresh is retried without refreshing again, so a burst of 401s costs one refresh.
 */
export class AuthGate {
  #generation = 0;
  #refreshing: Promise<boolean> | undefined;

  constructor(private readonly options: AuthCallbacks) {}

  get generation(): number {
    return this.#generation;
  }

  get canRefresh(): boolean {
    return this.options.refreshToken !== undefined;
  }

  /**
   * The Authorization value, or `undefined`; synchronous when no provider is set.
   * A provider that throws, or returns what cannot be a header value (a token
   * ending in a newline, say), rejects with an {@link AuthError}: it fails the
   * request concerned, never the network as a whole.
   */
  header(): Promise<string | undefined> | undefined {
    const provider = this.options.authTokenProvider;
    if (!provider) return undefined;
    return new Promise<unknown>((resolve) => resolve(provider())).then(
      (token) => {
        if (token === null || token === undefined || token === '') return undefined;
        if (typeof token !== 'string' || !isHeaderValue(token))
          throw new AuthError(
            'authTokenProvider returned a token that is not a valid header value',
          );
        return `Bearer ${token}`;
      },
      (cause: unknown) => {
        throw isQnoxError(cause) ? cause : new AuthError('authTokenProvider failed', { cause });
      },
    );
  }

  /** Resolves true when a request sent at `sentGeneration` is worth sending again. */
  refresh(sentGeneration: number): Promise<boolean> {
    if (sentGeneration < this.#generation) return Promise.resolve(true);
    const refreshToken = this.options.refreshToken;
    if (!refreshToken) return Promise.resolve(false);
    this.#refreshing ??= (async () => {
      try {
        const ok = (await refreshToken()) === true;
        if (ok) this.#generation++;
        return ok;
      } catch {
        return false;
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }
}
