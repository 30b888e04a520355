/** What `get` resolves with. */
export interface QnoxResponse<T = unknown> {
  readonly status: number;
  readonly data: T;
  readonly headers: Readonly<Record<string, string>>;
  /** Served from the local cache rather than this call's network answer. */
  readonly fromCache: boolean;
  /** The cached entry was past its TTL (or the network failed and this is what we had). */
  readonly stale: boolean;
  /** The data includes optimistic changes of writes not yet acknowledged. */
  readonly pendingWrites: boolean;
}

/** The server's version of a resource, fetched to resolve a conflict. */
export interface CurrentVersion {
  readonly status: number;
  readonly data: unknown;
  readonly etag: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
}
