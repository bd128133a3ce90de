/**
 * Puts an engine API (the local service or an API node's cluster engine) on engine.host:engine.port:
 * the token rule (no listening off loopback without one), the body limit, the Host check, and the URL
 * clients use. Shared by every process that serves docs/engine-api.md.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../../config/config-error.js';
import type { Logger } from '../../log/logger.js';
import type { EngineApi } from './engine-api.js';
import { createEngineHttpServer } from './http-server.js';
import { allowedHostNames } from './request-guards.js';

export interface ListenOptions {
  readonly host: string;
  readonly port: number;
  readonly allowedHosts: readonly string[];
  readonly token: string | null;
  /** limits.maxInputBytes: the body may hold it base64-encoded. */
  readonly maxInputBytes: number;
  readonly log?: Logger;
}

export interface ListeningApi {
  readonly server: Server;
  readonly url: string;
  readonly port: number;
  /** Drops open connections (event streams included) and stops listening. */
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Throws SECRET_REQUIRED before anything listens when the address is not loopback and no token is set. */
export function checkListenToken(host: string, token: string | null): void {
  if (!LOOPBACK.has(host) && !token) {
    throw new ConfigError('SECRET_REQUIRED', 'engine.host', `the engine listens on ${host}, which is not loopback: set ASYRP_ENGINE_TOKEN so that requests need a bearer token`);
  }
}

export async function listenEngineHttp(api: EngineApi, o: ListenOptions): Promise<ListeningApi> {
  checkListenToken(o.host, o.token);
  const server = createEngineHttpServer(api, {
    token: o.token,
    // base64 inflates by 4/3; leave room for the JSON around it.
    maxBodyBytes: Math.ceil((o.maxInputBytes * 4) / 3) + 65_536,
    allowedHosts: allowedHostNames(o.host, o.allowedHosts),
    ...(o.log ? { log: o.log } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    server,
    url: `http://${host}:${port}`,
    port,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
