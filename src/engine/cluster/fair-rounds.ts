/**
 * Fairness across owners on open-source BullMQ (no groups): virtual rounds mapped to BullMQ priorities,
 * one state per model queue (the `fair` hash: the queue's round, a base, and each owner's last round).
 *
 * On add (atomic):   round = max(queueRound, ownerRound[owner] + 1); ownerRound[owner] = round;
 *                    priority = round - base + 1 (BullMQ: lower runs first, equal is FIFO).
 * On start:          queueRound = max(queueRound, job.round).
 *
 * An owner's jobs take successive rounds, and a newcomer's job takes the round being served, so it
 * waits behind at most one job of each other owner per round: an owner with 50 queued jobs delays
 * another owner's single job by at most one turn per worker.
 *
 * When nothing waits, the base moves up to the round being served, so priorities stay small (far under
 * BullMQ's 2^21 cap). Owners idle for a while (forgetIdleMs) are then forgotten, so that rounds of jobs
 * they cancelled stop counting against them. Not every owner: the queue looks empty to this script
 * while a burst of one owner's submits is between this script and its queue.add, and those must keep
 * their successive rounds (forgetting them there gave a whole burst one round, and a newcomer waited
 * behind all of it).
 */
import type { Redis } from 'ioredis';
import { MAX_PRIORITY, clusterKeys } from './contract.js';

// KEYS: fair hash, BullMQ wait list, BullMQ prioritized zset. ARGV: owner, max priority, forget-after ms.
// Each owner has 'o:<owner>' (last round) and 't:<owner>' (when, ms by Redis' clock).
const ADD_LUA = `
local fair = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local queueRound = tonumber(redis.call('HGET', fair, 'round') or '0')
if redis.call('LLEN', KEYS[2]) + redis.call('ZCARD', KEYS[3]) == 0 then
  redis.call('HSET', fair, 'base', queueRound)
  local all = redis.call('HGETALL', fair)
  for i = 1, #all, 2 do
    local f = all[i]
    if string.sub(f, 1, 2) == 't:' and now - tonumber(all[i + 1]) > tonumber(ARGV[3]) then
      redis.call('HDEL', fair, f, 'o:' .. string.sub(f, 3))
    end
  end
end
local base = tonumber(redis.call('HGET', fair, 'base') or '0')
local ownerRound = tonumber(redis.call('HGET', fair, 'o:' .. ARGV[1]) or '-1')
local round = math.max(queueRound, ownerRound + 1)
redis.call('HSET', fair, 'o:' .. ARGV[1], round, 't:' .. ARGV[1], now)
return {round, math.min(round - base + 1, tonumber(ARGV[2]))}
`;

// KEYS: fair hash. ARGV: the round of the job that starts.
const START_LUA = `
local cur = tonumber(redis.call('HGET', KEYS[1], 'round') or '0')
local r = tonumber(ARGV[1])
if r > cur then redis.call('HSET', KEYS[1], 'round', r) return r end
return cur
`;

interface FairCommands {
  asyrpFairAdd(fair: string, wait: string, prioritized: string, owner: string, maxPriority: number, forgetIdleMs: number): Promise<[number, number]>;
  asyrpFairStart(fair: string, round: number): Promise<number>;
}

export interface FairSlot {
  /** The job's round (job.data.round). */
  readonly round: number;
  /** The BullMQ priority to add it with. */
  readonly priority: number;
}

export class FairRounds {
  private readonly redis: Redis & FairCommands;

  constructor(
    redis: Redis,
    private readonly prefix: string,
    /** An owner idle this long is forgotten once the queue is empty; far longer than any submit takes. */
    private readonly forgetIdleMs = 60_000,
  ) {
    // defineCommand sends EVALSHA and falls back to EVAL once per connection: the script text travels rarely.
    redis.defineCommand('asyrpFairAdd', { numberOfKeys: 3, lua: ADD_LUA });
    redis.defineCommand('asyrpFairStart', { numberOfKeys: 1, lua: START_LUA });
    this.redis = redis as Redis & FairCommands;
  }

  /** The round and priority of a job `owner` adds to `modelId`'s queue; call it right before queue.add. */
  async assign(modelId: string, owner: string): Promise<FairSlot> {
    const k = (s: string) => clusterKeys.bull(this.prefix, modelId, s);
    const [round, priority] = await this.redis.asyrpFairAdd(clusterKeys.fair(this.prefix, modelId), k('wait'), k('prioritized'), owner, MAX_PRIORITY, this.forgetIdleMs);
    return { round, priority };
  }

  /** A worker took a job of `round`: later newcomers join the round being served. */
  async started(modelId: string, round: number): Promise<void> {
    await this.redis.asyrpFairStart(clusterKeys.fair(this.prefix, modelId), round);
  }
}
