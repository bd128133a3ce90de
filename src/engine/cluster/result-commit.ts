/**
 * Exactly once. A job's results are first written under its attempt (the token of the BullMQ lock the
 * attempt holds), then renamed to the job's result keys by one script that first checks the lock is
 * still this attempt's. An attempt that BullMQ took for dead (its lock expired, the job went to another
 * worker) and that finishes late finds the lock gone: its blobs are deleted, nothing is renamed, and
 * BullMQ itself refuses its completion for the same reason. So one result is delivered per job.
 */
import type { Redis } from 'ioredis';
import type { ResultVariant } from '../client/api-types.js';
import { clusterKeys } from './contract.js';

// KEYS: the lock, then (attempt blob, result blob) pairs. ARGV: the attempt's lock token.
// RENAME keeps the source's TTL, so results expire like every other blob.
const COMMIT_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  for i = 2, #KEYS, 2 do redis.call('DEL', KEYS[i]) end
  return 0
end
for i = 2, #KEYS, 2 do
  if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('RENAME', KEYS[i], KEYS[i + 1]) end
end
return 1
`;

interface CommitCommand {
  asyrpCommitResults(numKeys: number, ...keysThenToken: string[]): Promise<number>;
}

export class ResultCommitter {
  private readonly redis: Redis & CommitCommand;

  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    redis.defineCommand('asyrpCommitResults', { lua: COMMIT_LUA });
    this.redis = redis as Redis & CommitCommand;
  }

  /** Where an attempt writes a result before it commits. */
  attemptKey(jobId: string, token: string, variant: ResultVariant): string {
    return clusterKeys.attemptBlob(this.prefix, jobId, token, variant);
  }

  /** True when the attempt still held the lock and its results are now the job's; false: discarded. */
  async commit(modelId: string, jobId: string, token: string, variants: readonly ResultVariant[]): Promise<boolean> {
    const keys = [clusterKeys.bull(this.prefix, modelId, `${jobId}:lock`)];
    for (const v of variants) keys.push(this.attemptKey(jobId, token, v), clusterKeys.blob(this.prefix, jobId, v));
    return (await this.redis.asyrpCommitResults(keys.length, ...keys, token)) === 1;
  }
}
