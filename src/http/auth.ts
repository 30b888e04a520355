/** The auth part of the options, as the engine needs it. */
export interface AuthOptions {
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

  constructor(private readonly options: AuthOptions) {}

  get generation(): number {
    return this.#generation;
  }

  get canRefresh(): boolean {
    return this.options.refreshToken !== undefined;
  }

  /** The Authorization value, or `undefined`; synchronous when no provider is set. */
  header(): Promise<string | undefined> | undefined {
    const provider = this.options.authTokenProvider;
    if (!provider) return undefined;
    return Promise.resolve(provider()).then((token) => (token ? `Bearer ${token}` : undefined));
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
