/**
 * Fairness rounds on a real redis-server and real BullMQ: the order BullMQ hands jobs out in, given the
 * priorities the add script assigns, is round robin by owner, and a newcomer waits at most one turn.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { Queue, Worker, type Job } from 'bullmq';
import { FairRounds } from '../../src/engine/cluster/fair-rounds.js';
import { clusterKeys, queueName } from '../../src/engine/cluster/contract.js';
import { openRedis, redisOptions } from '../../src/engine/cluster/redis-connection.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

let server: RedisServer;
let redis: Redis;
let n = 0;

beforeAll(async () => {
  server = await startRedisServer();
  redis = openRedis(server.url, 'test');
});

afterAll(async () => {
  await redis?.quit();
  await server?.stop();
});

/** A fresh prefix per case: queues and fairness state never leak between cases. */
function setup(forgetIdleMs?: number) {
  const prefix = `f${++n}`;
  const queue = new Queue(queueName('m'), { connection: redisOptions(server.url, 'q'), prefix });
  const rounds = new FairRounds(redis, prefix, forgetIdleMs);
  const add = async (owner: string, label: string) => {
    const slot = await rounds.assign('m', owner);
    await queue.add('edit', { owner, label, round: slot.round }, { priority: slot.priority, jobId: label });
    return slot;
  };
  return { prefix, queue, rounds, add };
}

describe('fair rounds', () => {
  it('orders queued jobs round robin by owner, FIFO within a round', async () => {
    const { queue, add } = setup();
    for (const label of ['a1', 'a2', 'a3']) await add('A', label);
    for (const label of ['b1', 'b2', 'b3']) await add('B', label);
    await add('C', 'c1');
    const order = (await queue.getJobs(['prioritized'], 0, -1, true)).map((j) => j.id);
    expect(order).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'a3', 'b3']);
    await queue.close();
  });

  it('an owner with 50 queued jobs delays a newcomer by at most one turn (one worker, real BullMQ)', async () => {
    const { prefix, queue, rounds, add } = setup();
    for (let i = 0; i < 50; i++) await add('heavy', `h${i}`);
    const ran: string[] = [];
    let newcomerAdded = false;
    const worker = new Worker(
      queueName('m'),
      async (job: Job<{ owner: string; label: string; round: number }>) => {
        await rounds.started('m', job.data.round);
        ran.push(job.data.label);
        // The newcomer arrives while the heavy owner's first job runs.
        if (!newcomerAdded) {
          newcomerAdded = true;
          await add('light', 'l0');
        }
      },
      { connection: redisOptions(server.url, 'w'), prefix, concurrency: 1 },
    );
    const deadline = Date.now() + 30_000;
    while (ran.length < 51 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await worker.close();
    expect(ran).toHaveLength(51);
    // h0 was running when l0 came; l0 is next, before h1: not one extra turn of the heavy owner.
    expect(ran.indexOf('l0')).toBeLessThanOrEqual(1 + 1);
    expect(ran.slice(0, 2)).toEqual(['h0', 'l0']);
    await queue.close();
  });

  it('a burst of one owner\'s submits keeps successive rounds while none has reached the queue yet', async () => {
    const { rounds } = setup();
    // Ten submits at once: every assign runs before any queue.add, so the queue looks empty to each.
    const slots = await Promise.all(Array.from({ length: 10 }, () => rounds.assign('m', 'burst')));
    expect(slots.map((s) => s.round).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect((await rounds.assign('m', 'newcomer')).round).toBe(0);
  });

  it('rebases when nothing waits, so priorities stay small; idle owners are forgotten, recent ones kept', async () => {
    const serveAll = async (queue: Queue, rounds: FairRounds) => {
      for (const j of await queue.getJobs(['prioritized'], 0, -1, true)) {
        await rounds.started('m', (j.data as { round: number }).round);
        await j.remove();
      }
    };
    // Recent owners are kept: A's next job is the round after its last.
    const kept = setup();
    for (let i = 0; i < 5; i++) await kept.add('A', `a${i}`);
    await serveAll(kept.queue, kept.rounds);
    expect(await redis.hget(clusterKeys.fair(kept.prefix, 'm'), 'round')).toBe('4');
    expect(await kept.add('A', 'a5')).toEqual({ round: 5, priority: 2 });
    expect(await kept.add('B', 'b0')).toEqual({ round: 4, priority: 1 });
    await kept.queue.close();
    // With owners forgotten at once (forgetIdleMs 0), the base is the served round and A starts afresh.
    const forgot = setup(0);
    for (let i = 0; i < 5; i++) await forgot.add('A', `a${i}`);
    await serveAll(forgot.queue, forgot.rounds);
    expect(await forgot.add('A', 'a5')).toEqual({ round: 4, priority: 1 });
    expect(await forgot.add('A', 'a6')).toEqual({ round: 5, priority: 2 });
    await forgot.queue.close();
  });
});
