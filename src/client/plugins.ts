import type { EngineDeps } from '../engine/engine-deps.js';
import type { VerdictDeps } from '../engine/verdicts.js';
import { checkHeaders } from '../http/headers.js';
import type { WireResponse } from '../http/transport.js';
import { bodyData } from '../model/body.js';
import { CallbackError, ConfigError } from '../model/errors.js';
import type { TaskRecord } from '../model/records.js';
import type { CurrentVersion } from '../model/responses.js';
import type {
  PluginPorts,
  PluginResponse,
  PluginWrite,
  QnoxPlugin,
} from '../outbox/plugin-interface.js';

type Hooks = Pick<EngineDeps, 'beforeSend' | 'onAcknowledged'> &
  Pick<VerdictDeps, 'onDelivered' | 'onAbandoned'>;

const HOOKS = ['beforeSend', 'acknowledged', 'delivered', 'abandoned'] as const;

/** Checks the `plugins` option: an array of objects with a name and only function hooks. */
export function checkPlugins(plugins: unknown): readonly QnoxPlugin[] {
  const list = (plugins ?? []) as QnoxPlugin[];
  const bad = (p: QnoxPlugin) =>
    typeof p?.name !== 'string' || HOOKS.some((h) => p[h] && typeof p[h] !== 'function');
  if (!Array.isArray(list) || list.some(bad))
    throw new ConfigError('plugins', `must be an array of { name, ${HOOKS.join('?, ')}? }`);
  const taken = new Map<string, string>();
  for (const p of list)
    for (const port of Object.keys(p.ports ?? {})) {
      if (port === 'attach') continue;
      const other = taken.get(port);
      if (other) throw new ConfigError('plugins', `${other} and ${p.name} both provide ${port}`);
      taken.set(port, p.name);
    }
  return list;
}

/** The plug-in that provides `port`, if one does. */
export function portOf<K extends keyof PluginPorts>(
  plugins: readonly QnoxPlugin[],
  port: K,
): PluginPorts[K] | undefined {
  for (const p of plugins) if (p.ports?.[port]) return p.ports[port];
  return undefined;
}

/**
 * The engine's four hooks: the built-in ones first, then each plug-in's, each
 * plug-in failing alone (reported through `report`).
 */
export function withPlugins(
  builtIn: Hooks,
  plugins: readonly QnoxPlugin[],
  report: (error: CallbackError) => void,
): Hooks {
  if (plugins.length === 0) return builtIn;
  // One plug-in's hook: a throw (or rejection) is reported, and the caller goes on.
  const guard = (p: QnoxPlugin, hook: string, call: () => unknown): unknown => {
    const fail = (cause: unknown) => report(new CallbackError(`${p.name}.${hook}`, cause));
    try {
      const out = call();
      return out instanceof Promise ? out.catch(fail) : out;
    } catch (cause) {
      fail(cause);
      return undefined;
    }
  };
  const each = async (hook: (typeof HOOKS)[number], call: (p: QnoxPlugin) => unknown) => {
    for (const p of plugins) if (p[hook]) await guard(p, hook, () => call(p));
  };
  return {
    beforeSend(task) {
      let out = builtIn.beforeSend(task);
      for (const p of plugins) {
        const headers = p.beforeSend && guard(p, 'beforeSend', () => sendHeaders(p, view(out)));
        if (headers) out = { ...out, headers: headers as Record<string, string> };
      }
      return out;
    },
    onAcknowledged(task, response) {
      builtIn.onAcknowledged(task, response);
      // Synchronous, in order: the next write of the key leaves right after.
      for (const p of plugins)
        if (p.acknowledged)
          guard(p, 'acknowledged', () => p.acknowledged!(view(task), answer(response)));
    },
    async onDelivered(task, response) {
      await builtIn.onDelivered(task, response);
      await each('delivered', (p) => p.delivered!(view(task), answer(response)));
    },
    async onAbandoned(task, current?: CurrentVersion) {
      await builtIn.onAbandoned(task, current);
      await each('abandoned', (p) => p.abandoned!(view(task)));
    },
  };
}

/** The headers a plug-in's `beforeSend` returned, checked; never the idempotency key (sent from the record). */
function sendHeaders(p: QnoxPlugin, write: PluginWrite): Record<string, string> | undefined {
  const headers = p.beforeSend!(write);
  if (!headers) return undefined;
  const next = checkHeaders(headers, `${p.name}.beforeSend`);
  for (const name in next) if (/^idempotency-key$/i.test(name)) delete next[name];
  return next;
}

function view(task: TaskRecord): PluginWrite {
  return { ...task, headers: { ...task.headers }, data: bodyData(task.body ?? null) };
}

function answer(response: WireResponse): PluginResponse {
  return { ...response, data: bodyData(response.body) };
}
