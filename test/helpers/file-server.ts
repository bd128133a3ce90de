/**
 * A loopback HTTP server for download tests: each route serves a file (with Range support), an HTML page,
 * a status, or a file whose connection is cut after some bytes for the first few requests.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Route =
  | { readonly body: Buffer; readonly contentType?: string; readonly cutAfter?: number; readonly cuts?: number; readonly noRange?: boolean }
  | { readonly status: number };

export interface FileServer {
  readonly url: string;
  /** Requests per path, with their Range header. */
  readonly log: { path: string; range: string | undefined }[];
  set(path: string, route: Route): void;
  close(): Promise<void>;
}

export async function startFileServer(routes: Record<string, Route> = {}): Promise<FileServer> {
  const table = new Map(Object.entries(routes));
  const cutsDone = new Map<string, number>();
  const log: FileServer['log'] = [];
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    log.push({ path, range: req.headers.range });
    const route = table.get(path);
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    if ('status' in route) {
      res.writeHead(route.status).end();
      return;
    }
    const m = route.noRange ? null : /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const from = m ? Number(m[1]) : 0;
    if (from >= route.body.length && m) {
      res.writeHead(416, { 'content-range': `bytes */${route.body.length}` }).end();
      return;
    }
    const slice = route.body.subarray(from);
    res.writeHead(m ? 206 : 200, {
      'content-type': route.contentType ?? 'application/octet-stream',
      'content-length': String(slice.length),
      ...(m ? { 'content-range': `bytes ${from}-${route.body.length - 1}/${route.body.length}` } : {}),
      'accept-ranges': 'bytes',
    });
    const done = cutsDone.get(path) ?? 0;
    if (route.cutAfter !== undefined && done < (route.cuts ?? 1)) {
      cutsDone.set(path, done + 1);
      // Send part of the body, then drop the connection mid-file.
      res.write(slice.subarray(0, route.cutAfter), () => res.socket?.end());
      return;
    }
    res.end(slice);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    set: (p, r) => void table.set(p, r),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
