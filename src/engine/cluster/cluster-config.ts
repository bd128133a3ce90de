/**
 * What `asyrp engine` checks before it starts with engine.queue "redis": a Redis URL is set, the role
 * makes sense, and Redis answers. Each failure is a ConfigError whose message says the fix in one
 * sentence, so a misconfigured host stops at once instead of retrying silently.
 */
import { ConfigError } from '../../config/config-error.js';
import type { EngineRoleSetting, QueueSetting } from '../../config/load-config.js';
import { isClusterError } from './cluster-error.js';
import { Redis } from 'ioredis';
import { redisAddress, redisOptions } from './redis-connection.js';

/** The role a process runs: the flag wins over engine.role; a role other than both needs the redis queue. */
export function chooseRole(queue: QueueSetting, configured: EngineRoleSetting, flag: string | undefined): EngineRoleSetting {
  const role = flag ?? configured;
  if (role !== 'api' && role !== 'worker' && role !== 'both') {
    throw new ConfigError('INVALID_VALUE', 'engine.role', `--role must be api, worker or both; got "${role.slice(0, 40)}"`);
  }
  if (queue === 'local' && role !== 'both') {
    throw new ConfigError('INVALID_VALUE', 'engine.role', `role "${role}" needs the shared queue: set ASYRP_QUEUE=redis (engine.queue) and ASYRP_REDIS_URL, or drop the role to run one engine on its own`);
  }
  return role;
}

export function requireRedisUrl(url: string | null): string {
  if (!url) throw new ConfigError('SECRET_REQUIRED', 'engine.queue', 'engine.queue is "redis" but ASYRP_REDIS_URL is not set: set it to redis://host:6379/0 (or set ASYRP_QUEUE=local to run one engine on its own)');
  return url;
}

/** Resolves when Redis answers PING within `timeoutMs`; otherwise an UNREACHABLE ConfigError. */
export async function checkRedisReachable(url: string, timeoutMs = 5000): Promise<void> {
  let redis;
  try {
    // One try, no reconnecting: a Redis that refuses the connection is reported at once.
    redis = new Redis({ ...redisOptions(url, 'asyrp-check'), maxRetriesPerRequest: 0, retryStrategy: () => null });
  } catch (e) {
    if (isClusterError(e)) throw new ConfigError('INVALID_VALUE', 'ASYRP_REDIS_URL', `${e.message}: set it to redis://[:password@]host:port/db`);
    throw e;
  }
  redis.on('error', () => undefined);
  const where = redisAddress(url);
  try {
    const pong = await Promise.race([redis.ping(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), timeoutMs).unref())]);
    if (pong !== 'PONG') throw new Error(`answered ${String(pong).slice(0, 40)}`);
    const info = await redis.info('server');
    const major = Number(/redis_version:(\d+)/.exec(info)?.[1] ?? 0);
    if (major && major < 7) throw new ConfigError('UNREACHABLE', 'ASYRP_REDIS_URL', `Redis at ${where} is version ${major}; BullMQ needs Redis 7 or later: upgrade it or point ASYRP_REDIS_URL at another`);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    const why = e instanceof Error ? e.message.split('\n')[0]!.slice(0, 120) : 'no answer';
    throw new ConfigError('UNREACHABLE', 'ASYRP_REDIS_URL', `Redis at ${where} does not answer (${why}): start it, or fix ASYRP_REDIS_URL (and its password) so this host can reach it`);
  } finally {
    redis.disconnect();
  }
}
