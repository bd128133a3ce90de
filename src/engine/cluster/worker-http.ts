/**
 * The worker's own small HTTP port: GET /v1/health (its id, models, busy and free slots) and GET /metrics
 * (the local engine's Prometheus metrics: steps, batch sizes, jobs, cache). No job routes: jobs reach a
 * worker only through the queue. Same bearer-token rule as the API.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import type { Logger } from '../../log/logger.js';
import type { EngineService } from '../service/engine-service.js';
import type { ClusterWorker } from './cluster-worker.js';

export interface WorkerHttp {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

function authorized(req: IncomingMessage, token: string | null): boolean {
  if (!token) return true;
  const given = Buffer.from(/^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '');
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

export async function startWorkerHttp(opts: { host: string; port: number; token: string | null; worker: ClusterWorker; service: EngineService; log: Logger }): Promise<WorkerHttp> {
  const { worker, service } = opts;
  const server = createServer((req, res) => {
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (!authorized(req, opts.token)) return send(401, 'application/json', JSON.stringify({ error: { code: 'UNAUTHORIZED', message: 'a valid bearer token is required' } }));
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/v1/health') {
      const h = service.health();
      return send(200, 'application/json', JSON.stringify({ ...h, role: 'worker', workerId: worker.workerId, busy: worker.busy }));
    }
    if (req.method === 'GET' && (path === '/metrics' || path === '/v1/metrics')) {
      service.renderMetrics().then(
        (text) => send(200, service.metricsContentType, text),
        (e: unknown) => {
          opts.log.error('metrics failed', { err: e });
          send(500, 'application/json', JSON.stringify({ error: { code: 'INTERNAL', message: 'metrics failed' } }));
        },
      );
      return;
    }
    send(404, 'application/json', JSON.stringify({ error: { code: 'NOT_FOUND', message: 'a worker serves /v1/health and /metrics only; jobs go to an API node' } }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
