/**
 * The floor of `asyrp bench load` ("floor" variant): a node:http server that does only what any server
 * must for the burst - accept the connection, read the headers, refuse an owner past its share (5, the
 * engine's default) from the `x-asyrp-owner` header, answer "100 Continue", read the whole body - and then
 * answers 202 at once: no image check, no file, no row, no jobs running. Its submit latency under the same
 * load generator is what the machine, the loopback and the client cost before the engine does anything, so
 * the engine's own share is the difference. Started with fork() like bench-load-engine.ts: answers `{ url }`
 * over IPC once listening, closes on 'stop'.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { API_VERSION, SUBMIT_OWNER_HEADER } from '../engine/client/api-types.js';

const PER_OWNER = 5;
const held = new Map<string, number>();

function json(res: ServerResponse, status: number, body: unknown, close = false): void {
  res.writeHead(status, { 'content-type': 'application/json', ...(close ? { connection: 'close' } : {}) });
  res.end(JSON.stringify(body));
}

function readAndAccept(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    Buffer.concat(chunks);
    json(res, 202, { id: 'floor', state: 'queued', position: 1, duplicate: false });
  });
}

const server = createServer((req, res) => {
  if (req.url === `/${API_VERSION}/health`) return json(res, 200, { status: 'ok' });
  if (req.url === '/metrics') return res.end('');
  readAndAccept(req, res);
});
server.on('checkContinue', (req, res) => {
  const owner = String(req.headers[SUBMIT_OWNER_HEADER] ?? '');
  const n = held.get(owner) ?? 0;
  if (n >= PER_OWNER) return json(res, 429, { error: { code: 'OWNER_LIMIT', message: 'owner share full' } }, true);
  held.set(owner, n + 1);
  res.writeContinue();
  readAndAccept(req, res);
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` });
});
process.on('message', (m) => {
  if (m === 'stop') server.close(() => process.exit(0));
});
process.on('disconnect', () => server.close(() => process.exit(0)));
