/**
 * Composition root of the api role (`asyrp engine --role api`, docs/scaling.md): the HTTP API of
 * docs/engine-api.md on a ClusterEngine, with no model loaded. Everything it answers comes from Redis,
 * so any number of API nodes may run behind a load balancer and one may restart at any time.
 */
import type { AppConfig } from '../../config/load-config.js';
import { silentLogger, type Logger } from '../../log/logger.js';
import { listenEngineHttp, checkListenToken } from '../service/listen-http.js';
import { RedisBlobStore } from './blob-store.js';
import { ClusterEngine } from './cluster-engine.js';
import { Redis } from 'ioredis';
import { redisOptions } from './redis-connection.js';

export interface ClusterApiServer {
  readonly url: string;
  readonly port: number;
  readonly engine: ClusterEngine;
  /** SIGTERM: refuse new submits, give open event streams `ms` to see their jobs end, close. */
  drain(ms?: number): Promise<void>;
  close(): Promise<void>;
}

export interface StartClusterApiOptions {
  readonly redisUrl: string;
  readonly token?: string | null;
  readonly version?: string;
  readonly log?: Logger;
}

export async function startClusterApi(config: AppConfig, opts: StartClusterApiOptions): Promise<ClusterApiServer> {
  const e = config.engine;
  const log = opts.log ?? silentLogger;
  const token = opts.token ?? null;
  checkListenToken(e.host, token);
  // An API request must not hang while Redis is away: a command fails after one retry, and the API
  // answers BUSY with Retry-After (cluster-error.ts) until Redis is back.
  const redis = new Redis({ ...redisOptions(opts.redisUrl, 'asyrp-api'), maxRetriesPerRequest: 1 });
  redis.on('error', (err) => log.warn('redis connection error (it reconnects)', { err: err.message }));
  const engine = new ClusterEngine({
    redis,
    eventsConnection: redisOptions(opts.redisUrl, 'asyrp-api-events'),
    blobs: new RedisBlobStore(redis, { maxBytes: e.cluster.maxBlobBytes, ttlSeconds: e.cluster.blobTtlSeconds }),
    settings: e.cluster,
    limits: config.limits,
    maxBatch: e.maxBatch,
    maxQueued: e.maxQueued,
    maxQueuedPerOwner: e.maxQueuedPerOwner,
    defaultModel: config.defaultModel,
    version: opts.version ?? '0.1.0',
    log,
  });
  try {
    await engine.start();
    const http = await listenEngineHttp(engine, { host: e.host, port: e.port, allowedHosts: e.allowedHosts, token, maxInputBytes: config.limits.maxInputBytes, log });
    log.info(`API node listening on ${http.url} (queue redis, prefix ${e.cluster.prefix})`);
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      await http.close();
      await engine.close();
      redis.disconnect();
    };
    return {
      url: http.url,
      port: http.port,
      engine,
      drain: async (ms = Math.min(e.drainMs, 5000)) => {
        engine.drain();
        // Jobs live in Redis: nothing is lost by stopping; a short grace lets a submit in flight finish.
        await new Promise((r) => setTimeout(r, Math.min(ms, 1000)));
        await close();
      },
      close,
    };
  } catch (err) {
    await engine.close().catch(() => undefined);
    redis.disconnect();
    throw err;
  }
}
