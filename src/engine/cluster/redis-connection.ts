/**
 * Connections to Redis from ASYRP_REDIS_URL. Every connection the cluster opens comes from here, so
 * the options that BullMQ needs are set in one place.
 */
import { Redis } from 'ioredis';
import { ClusterError } from './cluster-error.js';

/** Connection settings both ioredis and BullMQ (its `connection` option) take as they are. */
export interface RedisSettings {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly username?: string;
  readonly password?: string;
  readonly tls?: Record<string, never>;
  readonly connectionName: string;
  readonly maxRetriesPerRequest: null;
}

/**
 * ioredis options for a redis:// URL. maxRetriesPerRequest null: BullMQ's workers block on Redis and
 * must wait through a Redis restart instead of failing their commands after a few retries.
 */
export function redisOptions(url: string, connectionName: string): RedisSettings {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // The URL may hold a password: it is never echoed.
    throw new ClusterError('REDIS_UNAVAILABLE', 'ASYRP_REDIS_URL is not a valid redis:// URL');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new ClusterError('REDIS_UNAVAILABLE', `ASYRP_REDIS_URL must start with redis:// or rediss://, not ${u.protocol}//`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new ClusterError('REDIS_UNAVAILABLE', 'ASYRP_REDIS_URL: the database after the last / must be a number');
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    db,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    connectionName,
    maxRetriesPerRequest: null,
  };
}

/** A new connection (ioredis reconnects by itself; callers quit() it when done). */
export function openRedis(url: string, connectionName: string): Redis {
  return new Redis({ ...redisOptions(url, connectionName) });
}

/** host:port of the URL, for logs and errors (never the password). */
export function redisAddress(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 6379}`;
  } catch {
    return '(invalid URL)';
  }
}
