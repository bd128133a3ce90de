/** The Redis blob store on a real redis-server: round trip, expiry, the size cap, and the URL parsing. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { RedisBlobStore } from '../../src/engine/cluster/blob-store.js';
import { isClusterError, toClusterApiError } from '../../src/engine/cluster/cluster-error.js';
import { clusterKeys } from '../../src/engine/cluster/contract.js';
import { openRedis, redisAddress, redisOptions } from '../../src/engine/cluster/redis-connection.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

let server: RedisServer;
let redis: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  redis = openRedis(server.url, 'test');
});

afterAll(async () => {
  await redis?.quit();
  await server?.stop();
});

describe('RedisBlobStore', () => {
  it('stores bytes exactly, with a TTL, and deletes them', async () => {
    const store = new RedisBlobStore(redis, { maxBytes: 1024, ttlSeconds: 3600 });
    const key = clusterKeys.blob('t', 'job1', 'after');
    const bytes = Buffer.from(Array.from({ length: 300 }, (_, i) => i % 256));
    await store.put(key, bytes);
    expect(await store.get(key)).toEqual(bytes);
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThan(3500);
    expect(ttl).toBeLessThanOrEqual(3600);
    await store.put(key, new Uint8Array([1, 2, 3]), 60);
    expect(await redis.ttl(key)).toBeLessThanOrEqual(60);
    await store.delete(key);
    expect(await store.get(key)).toBeNull();
  });

  it('takes a view into a larger buffer without its neighbours (a Float32Array cache entry)', async () => {
    const store = new RedisBlobStore(redis, { maxBytes: 1024, ttlSeconds: 60 });
    const whole = new Float32Array([1, 2, 3, 4, 5, 6]);
    const part = new Uint8Array(whole.buffer, 8, 12);
    await store.put('t:inv:x', part);
    const back = await store.get('t:inv:x');
    expect([...new Float32Array(new Uint8Array(back!).buffer)]).toEqual([3, 4, 5]);
  });

  it('refuses a blob over the size cap with BLOB_TOO_LARGE and writes nothing', async () => {
    const store = new RedisBlobStore(redis, { maxBytes: 100, ttlSeconds: 60 });
    const err = await store.put('t:big', new Uint8Array(101)).catch((e: unknown) => e);
    expect(isClusterError(err, 'BLOB_TOO_LARGE')).toBe(true);
    expect(toClusterApiError(err as never).code).toBe('PAYLOAD_TOO_LARGE');
    expect(await redis.exists('t:big')).toBe(0);
    await store.put('t:edge', new Uint8Array(100));
    expect((await store.get('t:edge'))!.length).toBe(100);
  });

  it('a blob expires after its TTL', async () => {
    const store = new RedisBlobStore(redis, { maxBytes: 100, ttlSeconds: 60 });
    await store.put('t:short', new Uint8Array([9]), 1);
    // Redis expiry is the property under test: poll until it has passed (bounded), never a fixed sleep.
    const deadline = Date.now() + 5000;
    while ((await store.get('t:short')) !== null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await store.get('t:short')).toBeNull();
  });
});

describe('redis URLs', () => {
  it('reads host, port, db and password; BullMQ needs maxRetriesPerRequest null', () => {
    expect(redisOptions('redis://:s3cret@10.0.0.5:6380/2', 'n')).toMatchObject({ host: '10.0.0.5', port: 6380, db: 2, password: 's3cret', maxRetriesPerRequest: null, connectionName: 'n' });
    expect(redisOptions('redis://localhost', 'n')).toMatchObject({ host: 'localhost', port: 6379, db: 0 });
    expect(redisAddress('redis://:s3cret@10.0.0.5:6380/2')).toBe('10.0.0.5:6380');
  });

  it('refuses what is not a redis URL without echoing it', () => {
    for (const bad of ['http://:pw1@h:1', 'not a url pw1', 'redis://:pw1@h:1/x']) {
      let err: unknown;
      try {
        redisOptions(bad, 'n');
      } catch (e) {
        err = e;
      }
      expect(isClusterError(err, 'REDIS_UNAVAILABLE')).toBe(true);
      expect((err as Error).message).not.toContain('pw1');
    }
  });
});
