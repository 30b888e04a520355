import {
  type ConflictFollowUp,
  type ConflictPortDeps,
  reportConflict,
} from '../../engine/conflict-port.js';
import { bodyData, encodeBody } from '../../model/body.js';
import type { ConflictDecision, ConflictStrategy } from '../../model/conflict-types.js';
import {
  CallbackError,
  ConflictError,
  guarded,
  HttpError,
  isQnoxError,
} from '../../model/errors.js';
import { summarize } from '../../model/events.js';
import { applyMergePatch, diffMergePatch, type MergeInput } from '../../model/merge-json.js';
import type { TaskRecord } from '../../model/records.js';
import type { CurrentVersion } from '../../model/responses.js';

export interface ConflictHandlerOptions {
  readonly strategy: ConflictStrategy;
  readonly merge: (input: MergeInput) => unknown;
  readonly maxRounds: number;
}

/** Runs the conflict strategy of one write: park, server-wins, client-wins, merge or a custom resolver. */
export class ConflictHandler {
  constructor(
    private readonly deps: ConflictPortDeps,
    private readonly options: ConflictHandlerOptions,
  ) {}

  async handle(task: TaskRecord, error: ConflictError): Promise<ConflictFollowUp> {
    const strategy = this.deps.perCall.get(task.id) ?? task.conflict ?? this.options.strategy;
    const rounds = (task.conflictRounds ?? 0) + 1;
    if (strategy === 'park' || rounds > this.options.maxRounds) {
      this.#report(task, error, rounds > this.options.maxRounds ? 'gave-up' : 'park', undefined);
      await this.deps.park(task, error);
      return undefined;
    }
    let current: CurrentVersion;
    try {
      current = await this.fetchCurrent(task.url);
    } catch (cause) {
      return { retry: isQnoxError(cause) ? cause : error };
    }
    const local = localVersion(task, current.data);
    let decision: ConflictDecision;
    let body: unknown;
    try {
      decision =
        typeof strategy === 'function'
          ? await guarded(
              'conflict resolver',
              strategy,
            )({
              task: summarize(task),
              status: error.response.status,
              base: task.base,
              local,
              server: current.data,
              serverEtag: current.etag,
            })
          : strategy;
      if (decision === 'client-wins') body = task.body?.value;
      else if (decision !== 'park' && decision !== 'server-wins') {
        const merged =
          decision === 'merge'
            ? this.options.merge({ base: task.base, local, server: current.data })
            : decision.body;
        body = task.method === 'PATCH' ? diffMergePatch(current.data, merged) : merged;
      }
    } catch (thrown) {
      // The app's resolver failed: the write is parked with that error, never dropped.
      this.#report(task, error, 'park', current.data);
      await this.deps.park(task, isQnoxError(thrown) ? thrown : new CallbackError('merge', thrown));
      return undefined;
    }
    this.#report(
      task,
      error,
      typeof decision === 'string' ? decision : 'custom-body',
      current.data,
    );
    if (decision === 'park') return void (await this.deps.park(task, error));
    if (decision === 'server-wins') return void (await this.deps.serverWins(task, error, current));
    await this.deps.update(this.#resend(task, body, current, rounds));
    return undefined;
  }

  /** A 428 (Precondition Required): learn the current ETag and send once more with it. */
  async requirePrecondition(task: TaskRecord, error: HttpError): Promise<ConflictFollowUp> {
    if ((task.conflictRounds ?? 0) >= 1) {
      await this.deps.park(
        task,
        new ConflictError(error.response, 'Server kept requiring a precondition'),
      );
      return undefined;
    }
    try {
      const current = await this.fetchCurrent(task.url);
      await this.deps.update(this.#resend(task, task.body?.value, current, 1));
      return undefined;
    } catch (cause) {
      return { retry: isQnoxError(cause) ? cause : error };
    }
  }

  async fetchCurrent(url: string): Promise<CurrentVersion> {
    const response = await this.deps.transport.send({
      method: 'GET',
      url,
      headers: {},
      timeoutMs: this.deps.timeoutMs,
    });
    const gone = response.status === 404 || response.status === 410;
    if (!gone && (response.status < 200 || response.status >= 300)) {
      throw new HttpError({
        status: response.status,
        headers: response.headers,
        data: bodyData(response.body),
      });
    }
    return {
      status: response.status,
      data: gone ? null : bodyData(response.body),
      etag: response.headers.etag,
      headers: response.headers,
    };
  }

  #resend(task: TaskRecord, body: unknown, current: CurrentVersion, rounds: number): TaskRecord {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(task.headers)) {
      if (name.toLowerCase() !== 'if-match' && name.toLowerCase() !== 'if-unmodified-since')
        headers[name] = value;
    }
    if (current.etag) headers['if-match'] = current.etag;
    const encoded = task.method === 'DELETE' ? undefined : encodeBody(body);
    const { body: _old, sentAt: _sent, inFlightAt: _inFlight, ...rest } = task;
    // The refused attempt had no effect, and the new one carries a different body: a new key,
    // of which nothing has left yet.
    return {
      ...rest,
      ...(encoded ? { body: encoded } : {}),
      headers,
      idempotencyKey: this.deps.newId(),
      base: current.data,
      conflictRounds: rounds,
    };
  }

  #report(task: TaskRecord, error: ConflictError, outcome: string, server: unknown): void {
    reportConflict(this.deps.events, task, error, outcome, server);
  }
}

/** The full local version of the resource: a PATCH applied to what it was written against. */
function localVersion(task: TaskRecord, server: unknown): unknown {
  if (task.method === 'DELETE') return null;
  if (task.method === 'PATCH') return applyMergePatch(task.base ?? server, task.body?.value);
  return task.body?.value;
}
