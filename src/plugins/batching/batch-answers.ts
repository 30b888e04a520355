import type { Verdict } from '../../engine/deliver.js';
import type { DrainContext } from '../../engine/drain-port.js';
import type { WireResponse } from '../../http/transport.js';
import { encodeBody } from '../../model/body.js';
import { HttpError } from '../../model/errors.js';
import type { TaskRecord } from '../../model/records.js';
import type { BatchSubRequest, BatchSubResponse } from './batch-codec.js';

/** The writes of one ordering key in a batch, in order, with what goes on the wire for each. */
export type Chain = { readonly task: TaskRecord; readonly request: BatchSubRequest }[];

/**
 * Settles a key's writes in order. After a write that was not delivered, the
 * rest were not run (424): they stay queued, uncharged. A 401 is left for the
 * shared refresh (returned); the writes after it wait.
 */
export async function settleChain(
  ctx: DrainContext,
  chain: Chain,
  answers: ReadonlyMap<string, BatchSubResponse>,
): Promise<{ task: TaskRecord; response: WireResponse }[]> {
  const unauthorized: { task: TaskRecord; response: WireResponse }[] = [];
  let blocked = false;
  // Delivered writes wait here to be settled together, in order, before anything after them.
  let run: { task: TaskRecord; verdict: Verdict }[] = [];
  const settleRun = async () => {
    if (run.length > 0) await ctx.settleDelivered(run);
    run = [];
  };
  for (const { task } of chain) {
    const answer = answers.get(task.id);
    if (blocked && answer?.status !== undefined && (answer.status < 200 || answer.status > 299)) {
      ctx.untouched(task);
      continue;
    }
    if (!answer) {
      await settleRun();
      if (blocked) ctx.untouched(task);
      // Left out of the answer: a failed attempt, as a lost response would be.
      else await ctx.settle(task, { kind: 'retry', error: missing(task) });
      blocked = true;
      continue;
    }
    const response: WireResponse = {
      status: answer.status,
      headers: answer.headers ?? {},
      body: encodeBody(answer.body) ?? null,
    };
    // Not run (its dependency failed), or left for the shared refresh: it waits, uncharged.
    if (response.status === 424 || response.status === 401) {
      if (response.status === 401) unauthorized.push({ task, response });
      else ctx.untouched(task);
      blocked = true;
      continue;
    }
    // A server that ran a write after a failed dependency still ran it: its 2xx counts.
    const verdict: Verdict = ctx.classify(task, response);
    if (verdict.kind === 'delivered') {
      run.push({ task, verdict });
      continue;
    }
    await settleRun();
    await ctx.settle(task, verdict);
    blocked = true;
  }
  await settleRun();
  return unauthorized;
}

/** A verdict for the whole batch: each key's first write takes it, the others wait uncharged. */
export async function settleHeads(
  ctx: DrainContext,
  chains: Chain[],
  verdict: (task: TaskRecord) => Verdict,
): Promise<void> {
  await Promise.all(
    chains.map(async ([head, ...rest]) => {
      for (const link of rest) ctx.untouched(link.task);
      await ctx.settle(head!.task, verdict(head!.task));
    }),
  );
}

/** Nothing of the batch ran: every write stays queued, uncharged. */
export function leave(ctx: DrainContext, chains: Chain[]): void {
  for (const chain of chains) for (const link of chain) ctx.untouched(link.task);
}

function missing(task: TaskRecord): HttpError {
  return new HttpError(
    { status: 502, headers: {}, data: null },
    `The batch answer has no response for write ${task.id}`,
  );
}
