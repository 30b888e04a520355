import type { TaskSummary } from './events.js';
import type { MergeInput } from './merge-json.js';

/** What to do with a write the server refused as a conflict (409/412, or the app's detector). */
export type ConflictDecision =
  /** Keep the write aside in the dead letters (reason `conflict`) for the user to decide. */
  | 'park'
  /** Drop the local change, refresh the cache from the server. */
  | 'server-wins'
  /** Fetch the current ETag and re-send the local change over it, knowingly. */
  | 'client-wins'
  /** Fetch the current version, three-way merge, send the result over the new ETag. */
  | 'merge'
  /** Send this body instead, over the new ETag. */
  | { readonly body: unknown };

/** What a custom resolver is told. */
export interface ConflictContext extends MergeInput {
  readonly task: TaskSummary;
  /** The status that signalled the conflict (409, 412, or the 2xx your detector flagged). */
  readonly status: number;
  /** The current server ETag, if it sent one. */
  readonly serverEtag: string | undefined;
}

export type ConflictResolver = (
  context: ConflictContext,
) => ConflictDecision | Promise<ConflictDecision>;

/** A named strategy or your own resolver. */
export type ConflictStrategy = 'park' | 'server-wins' | 'client-wins' | 'merge' | ConflictResolver;

/** Flags a conflict the status code does not show, e.g. a version field in a 200 body. */
export type ConflictDetector = (response: {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly data: unknown;
}) => boolean;
