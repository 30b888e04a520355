import type { DrainContext } from '../../engine/drain-port.js';
import type { WireResponse } from '../../http/transport.js';
import { HttpError } from '../../model/errors.js';
import type { TaskRecord } from '../../model/records.js';
import { type Chain, leave, settleChain, settleHeads } from './batch-answers.js';
import type { BatchCodec, BatchSubRequest, BatchSubResponse } from './batch-codec.js';

/** The `batching()` options, resolved. */
export interface BatchSettings {
  /** Absolute URL of the batch endpoint. */
  readonly url: string;
  readonly maxRequests: number;
  readonly maxBytes: number;
  readonly concurrency: number;
  readonly timeoutMs: number | undefined;
  readonly codec: BatchCodec;
}

/** What a batch's answer means for the rest of the pass. */
type After = 'go-on' | 'unsupported' | 'singly';

/** Statuses of a batch URL that does not take batches. */
const UNSUPPORTED = new Set([404, 405, 501]);

/**
 * One drain pass in batches: what is due now, across ordering keys (a key's
 * writes chained with `dependsOn`), up to `maxRequests` and `maxBytes` per
 * batch, `concurrency` batches at a time on distinct keys. Each sub-response
 * is classified and settled exactly as the same write sent alone would be.
 */
export class BatchPass {
  constructor(
    private readonly ctx: DrainContext,
    private readonly settings: BatchSettings,
    /** Called when the batch URL said it takes no batches. */
    private readonly onUnsupported: (status: number) => Promise<void>,
  ) {}

  /** The queue as one scan read it, by key, for stores without `tasksAfter`. */
  #scan:
    | { readonly byKey: Map<string, TaskRecord[]>; readonly maxSeq: number; readonly epoch: number }
    | undefined;

  /** A due write that cannot ride in a batch (not JSON, too large) was met: the lanes send it. */
  #leftOver = false;

  /**
   * Sends batches until nothing batchable is due. Resolves `true` when nothing
   * is left for the lanes, `false` when they should send the rest now (the URL
   * takes no batches, the batch was refused as a whole, or a write cannot ride in one).
   */
  async run(): Promise<boolean> {
    return (await this.#batches()) === 'go-on' && !this.#leftOver;
  }

  async #batches(): Promise<After> {
    const busy = new Set<string>();
    const running = new Set<Promise<After>>();
    let ending: After = 'go-on';
    for (;;) {
      while (ending === 'go-on' && running.size < this.settings.concurrency) {
        if (!this.ctx.mayContinue()) break;
        const chains = await this.#build(busy);
        if (chains.length === 0) break;
        const keys = chains.map((c) => c[0]!.task.orderingKey);
        for (const key of keys) busy.add(key);
        const sent: Promise<After> = this.#send(chains).finally(() => {
          running.delete(sent);
          for (const key of keys) busy.delete(key);
        });
        running.add(sent);
      }
      if (running.size === 0) return ending;
      const after = await Promise.race(running);
      if (after !== 'go-on') ending = after;
    }
  }

  /** The next batch: the heads of due keys first, then each key's next writes, within the limits. */
  async #build(busy: ReadonlySet<string>): Promise<Chain[]> {
    const { ctx, settings } = this;
    const epoch = ctx.epoch();
    const heads = await ctx.store.dueTasks({
      now: ctx.clock.now(),
      limit: settings.maxRequests + busy.size,
    });
    const chains: Chain[] = [];
    let count = 0;
    let bytes = 0;
    const fits = (task: TaskRecord, after: TaskRecord | undefined, readAt = epoch) => {
      if (count >= settings.maxRequests || !ctx.maySend(task, readAt)) return undefined;
      if (!isJson(task)) {
        if (!after) this.#leftOver = true;
        return undefined;
      }
      // A precondition follows its predecessor's new ETag: it waits for that answer.
      if (after && hasPrecondition(task)) return undefined;
      const request = this.#request(task, after);
      const size = JSON.stringify(request).length;
      if (bytes + size > settings.maxBytes) {
        if (!after && size > settings.maxBytes) this.#leftOver = true;
        return undefined;
      }
      count++;
      bytes += size;
      return { task, request };
    };
    for (const head of heads) {
      if (busy.has(head.orderingKey)) continue;
      const first = fits(head, undefined);
      if (first) chains.push([first]);
    }
    for (const chain of chains) {
      if (count >= settings.maxRequests) break;
      const head = chain[0]!.task;
      const ahead = await this.#followers(head, settings.maxRequests - count);
      for (const next of ahead.tasks) {
        const link = fits(next, chain.at(-1)!.task, ahead.epoch);
        if (!link) break;
        chain.push(link);
      }
    }
    return this.#marked(chains);
  }

  /**
   * The next writes of `head`'s key, in order: the `tasksAfter` accelerator,
   * else one scan of the queue per pass (re-read once a head newer than the
   * scan shows up). A write read earlier is sent only if nothing touched it since.
   */
  async #followers(
    head: TaskRecord,
    limit: number,
  ): Promise<{ tasks: TaskRecord[]; epoch: number }> {
    const { store } = this.ctx;
    if (store.tasksAfter) {
      const epoch = this.ctx.epoch();
      return { tasks: await store.tasksAfter(head.orderingKey, head.seq, limit), epoch };
    }
    if (!this.#scan || head.seq > this.#scan.maxSeq) {
      const epoch = this.ctx.epoch();
      const byKey = new Map<string, TaskRecord[]>();
      let maxSeq = 0;
      for (const task of await store.listTasks(await store.pendingCount())) {
        const tasks = byKey.get(task.orderingKey);
        if (tasks) tasks.push(task);
        else byKey.set(task.orderingKey, [task]);
        maxSeq = Math.max(maxSeq, task.seq);
      }
      for (const tasks of byKey.values()) tasks.sort((a, b) => a.seq - b.seq);
      this.#scan = { byKey, maxSeq, epoch };
    }
    const tasks = (this.#scan.byKey.get(head.orderingKey) ?? [])
      .filter((t) => t.seq > head.seq)
      .slice(0, limit);
    return { tasks, epoch: this.#scan.epoch };
  }

  /** Marks every write at once (one commit); a key's chain ends at a write that cannot be marked. */
  async #marked(chains: Chain[]): Promise<Chain[]> {
    const marks = await Promise.all(
      chains.map((c) => Promise.all(c.map((l) => this.ctx.mark(l.task)))),
    );
    const out: Chain[] = [];
    chains.forEach((chain, i) => {
      const kept: Chain = [];
      let cut = false;
      chain.forEach((link, j) => {
        const marked = marks[i]![j];
        if (marked && !cut) kept.push({ task: marked, request: link.request });
        else {
          cut = true;
          if (marked) this.ctx.untouched(marked);
        }
      });
      if (kept.length > 0) out.push(kept);
    });
    return out;
  }

  #request(task: TaskRecord, after: TaskRecord | undefined): BatchSubRequest {
    const out = this.ctx.prepare(task);
    const { authorization: _once, ...headers } = out.headers;
    return {
      id: task.id,
      method: task.method,
      url: relativeTo(this.ctx.baseUrl, task.url),
      headers: {
        ...headers,
        ...(task.body ? { 'content-type': 'application/json' } : {}),
        'idempotency-key': task.idempotencyKey,
      },
      ...(task.body ? { body: task.body.value } : {}),
      ...(after ? { dependsOn: [after.id] } : {}),
    };
  }

  async #send(chains: Chain[]): Promise<After> {
    const { ctx, settings } = this;
    const requests = chains.flatMap((c) => c.map((l) => l.request));
    const generation = ctx.transport.authGeneration;
    let response: WireResponse;
    try {
      response = await ctx.transport.send({
        method: 'POST',
        url: settings.url,
        headers: { accept: 'application/json' },
        body: { kind: 'json', value: settings.codec.encode(requests) },
        timeoutMs: settings.timeoutMs ?? batchTimeout(ctx.timeoutMs, chains),
      });
    } catch (error) {
      this.#emit(requests.length, 0);
      // No answer: the batch may or may not have run; each key's first write takes the verdict.
      await settleHeads(ctx, chains, (task) => ctx.failure(task, error));
      return 'go-on';
    }
    this.#emit(requests.length, response.status);
    if (UNSUPPORTED.has(response.status)) {
      leave(ctx, chains);
      await this.onUnsupported(response.status);
      return 'unsupported';
    }
    if (response.status < 200 || response.status >= 300) {
      const verdict = ctx.classify(chains[0]![0]!.task, response);
      // A refusal of the batch as a whole says nothing of each write: they go singly.
      if (verdict.kind !== 'retry' && verdict.kind !== 'auth') {
        leave(ctx, chains);
        return 'singly';
      }
      await settleHeads(ctx, chains, (task) => ctx.classify(task, response));
      return 'go-on';
    }
    let answers: Map<string, BatchSubResponse>;
    try {
      const body = response.body?.kind === 'json' ? response.body.value : undefined;
      answers = new Map(settings.codec.decode(body).map((a) => [a.id, a]));
    } catch (cause) {
      const error = new HttpError(
        { status: response.status, headers: response.headers, data: response.body?.value ?? null },
        `Malformed batch answer: ${(cause as Error).message}`,
      );
      await settleHeads(ctx, chains, () => ({ kind: 'retry', error }));
      return 'go-on';
    }
    const unauthorized = (
      await Promise.all(chains.map((chain) => settleChain(ctx, chain, answers)))
    ).flat();
    if (unauthorized.length > 0 && !(await ctx.transport.reauthorize(generation))) {
      const [first, ...rest] = unauthorized;
      for (const task of rest) ctx.untouched(task.task);
      await ctx.settle(first!.task, ctx.classify(first!.task, first!.response));
    } else for (const task of unauthorized) ctx.untouched(task.task);
    return 'go-on';
  }

  #emit(size: number, status: number): void {
    this.ctx.events.emit({ type: 'batch-sent', url: this.settings.url, size, status });
  }
}

/** A write whose body can ride in a JSON batch: JSON, or none. */
function isJson(task: TaskRecord): boolean {
  return task.body === undefined || task.body.kind === 'json';
}

function hasPrecondition(task: TaskRecord): boolean {
  return Object.keys(task.headers).some((name) => /^(if-match|if-unmodified-since)$/i.test(name));
}

/** `url` relative to the base URL when it lies under it (`/items/7`), else absolute. */
function relativeTo(base: string, url: string): string {
  const root = base.endsWith('/') ? base.slice(0, -1) : base;
  if (!url.startsWith(root)) return url;
  const rest = url.slice(root.length);
  if (rest === '') return '/';
  return rest.startsWith('/') || rest.startsWith('?') ? rest : url;
}

/** A batch may take as long as its slowest write may. */
function batchTimeout(defaultMs: number, chains: Chain[]): number {
  let max = defaultMs;
  for (const chain of chains)
    for (const { task } of chain) max = Math.max(max, task.timeoutMs ?? defaultMs);
  return max;
}
