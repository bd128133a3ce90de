/**
 * A loopback proxy in front of a real engine server that can hold the bot's view of running jobs: while
 * closed, every GET under /v1/jobs/ (status, event stream, results) waits at the proxy, so the engine
 * accepts and even finishes the jobs but the bot sees them as still running. Shutdown tests use it to
 * have edits "in flight" at the moment of a SIGTERM without sleeping or slowing the engine down.
 */
import { createServer, request } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EngineGate {
  readonly url: string;
  /** POST /v1/jobs seen (submissions, duplicates included). */
  readonly submissions: () => number;
  /** Requests waiting at the closed gate right now. */
  readonly held: () => number;
  open(): void;
  stop(): Promise<void>;
}

export async function startEngineGate(target: string, o: { closed?: boolean } = {}): Promise<EngineGate> {
  let closed = o.closed ?? true;
  let submissions = 0;
  let waiting: (() => void)[] = [];
  const heldNow = new Set<IncomingMessage>();
  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const up = request(new URL(req.url ?? '/', target), { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy()); // the bot gave up (a handover aborts its stream): so does the proxy
    up.end(body);
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.method === 'POST' && req.url === '/v1/jobs') submissions++;
      if (closed && req.method === 'GET' && (req.url ?? '').startsWith('/v1/jobs/')) {
        heldNow.add(req);
        res.on('close', () => heldNow.delete(req));
        waiting.push(() => {
          heldNow.delete(req);
          if (!res.destroyed) forward(req, res, body);
        });
        return;
      }
      forward(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    submissions: () => submissions,
    held: () => heldNow.size,
    open() {
      closed = false;
      const go = waiting;
      waiting = [];
      for (const f of go) f();
    },
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
