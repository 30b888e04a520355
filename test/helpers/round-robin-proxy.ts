import { Agent, createServer, request as forward, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does to one request instead of a plain pass-through. */
export type ProxyFault =
  /** The connection is cut before the request reaches an API process. */
  | 'reset'
  /** The request runs (and commits) on an API process; its answer is dropped on the way back. */
  | 'commit-then-drop'
  /** A 503 from the balancer: no API process saw the request. */
  | 'unavailable';

/** One request as the proxy passed it on. */
export interface Passed {
  readonly key: string | undefined;
  readonly backend: number;
  readonly status: number;
  readonly replayed: boolean;
  readonly fault: ProxyFault | undefined;
}

/**
 * A small round-robin load balancer on 127.0.0.1: each request goes to the
 * next API process in turn (so a retry lands on another one), after `fault`
 * decides whether to injure it.
 */
export async function startProxy(
  backends: readonly number[],
  fault: () => ProxyFault | undefined = () => undefined,
) {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const passed: Passed[] = [];
  let turn = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const injury = fault();
      if (injury === 'reset') return void req.socket.destroy();
      if (injury === 'unavailable') {
        res.writeHead(503, { 'retry-after': '0' });
        return void res.end();
      }
      const backend = backends[turn++ % backends.length]!;
      const key = req.headers['idempotency-key'] as string | undefined;
      const out = forward(
        {
          host: '127.0.0.1',
          port: backend,
          method: req.method,
          path: req.url,
          headers: req.headers as IncomingHttpHeaders,
          agent,
        },
        (answer) => {
          const body: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => body.push(chunk));
          answer.on('end', () => {
            const status = answer.statusCode ?? 502;
            const replayed = answer.headers['idempotent-replayed'] === 'true';
            passed.push({ key, backend, status, replayed, fault: injury });
            if (injury === 'commit-then-drop') return void req.socket.destroy();
            res.writeHead(status, answer.headers);
            res.end(Buffer.concat(body));
          });
        },
      );
      out.on('error', () => {
        passed.push({ key, backend, status: 502, replayed: false, fault: injury });
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      out.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    passed,
    close: async () => {
      server.closeAllConnections();
      agent.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
