/**
 * Group commit of job rows and shared folder syncs: inserts asked for in one turn share a transaction
 * yet each gets its own answer (a bad job fails alone, a repeated key is a duplicate), and every caller
 * of a shared folder sync is answered, errors included.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openStorage } from '../../src/storage/index.js';
import { jobStoreFromRepo } from '../../src/engine/service/job-store.js';
import { SharedDirSync } from '../../src/engine/service/atomic-file.js';
import { tempDir } from '../helpers/paths.js';

const job = (id: string, key: string | null = null) => ({ id, idempotencyKey: key, kind: 'edit' as const, modelId: 'm', recipe: 'smile:1', inputPath: '/tmp/x', inputHash: 'h', request: '{}' });
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describe('group commit', () => {
  it('inserts of one turn share a commit and each gets its own answer', async () => {
    const storage = openStorage({ path: join(tempDir('asyrp-gc-'), 'db.sqlite') });
    const store = jobStoreFromRepo(storage.jobs);
    const answers = await Promise.allSettled([
      store.insert(job(uuid(1), 'k1')),
      store.insert(job(uuid(2), 'k1')), // the same key in the same batch: the first job's
      store.insert({ ...job(uuid(3)), kind: 'bogus' as 'edit' }), // fails alone
      store.insert(job(uuid(4))),
    ]);
    expect(answers.map((a) => a.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    const [a, b, , d] = answers as PromiseFulfilledResult<Awaited<ReturnType<typeof store.insert>>>[];
    expect([a!.value.created, a!.value.job.id]).toEqual([true, uuid(1)]);
    expect([b!.value.created, b!.value.job.id]).toEqual([false, uuid(1)]);
    expect([d!.value.created, d!.value.job.status]).toEqual([true, 'queued']);
    expect(store.get(uuid(3))).toBeNull();
    expect(store.listUnfinished().map((j) => j.id).sort()).toEqual([uuid(1), uuid(4)]);
    // A later turn starts a new batch.
    expect((await store.insert(job(uuid(5)))).created).toBe(true);
    storage.close();
  });

  it('a shared folder sync answers every caller, and each caller of a failing one gets the error', async () => {
    const dir = tempDir('asyrp-sync-');
    const sync = new SharedDirSync(dir);
    await expect(Promise.all(Array.from({ length: 20 }, () => sync.sync()))).resolves.toHaveLength(20);
    const missing = new SharedDirSync(join(dir, 'missing'));
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => missing.sync()));
    expect(results.map((r) => r.status)).toEqual(Array(5).fill('rejected'));
    expect((results[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'IO_FAILED' });
  });

  it("answers a batch only once the WAL's fsync (off the event loop) has resolved, and on a failed one fails the rows it created", async () => {
    const storage = openStorage({ path: join(tempDir('asyrp-gc-'), 'db.sqlite') });
    let release: (() => void) | undefined;
    let failNext = false;
    const syncs: string[] = [];
    let onAsked: () => void = () => undefined;
    const asked = new Promise<void>((r) => (onAsked = r));
    // The real repo, with its log sync held until the test lets it go (or failing, as a broken disk would).
    const repo = new Proxy(storage.jobs, {
      get(target, key) {
        if (key === 'syncCommitted') {
          return () => {
            syncs.push('asked');
            onAsked();
            if (failNext) return Promise.reject(new Error('EIO (injected)'));
            return new Promise<void>((r) => (release = () => r(void target.syncCommitted())));
          };
        }
        const v = Reflect.get(target, key) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const store = jobStoreFromRepo(repo);
    let answered = false;
    const first = store.insert(job(uuid(1))).then((r) => ((answered = true), r));
    await asked;
    await Promise.resolve();
    // Committed (the row reads back) and its sync asked for, but not answered while that sync is held.
    expect(store.get(uuid(1))?.status).toBe('queued');
    expect([answered, syncs]).toEqual([false, ['asked']]);
    release!();
    expect((await first).created).toBe(true);
    failNext = true;
    await expect(store.insert(job(uuid(2)))).rejects.toThrow(/EIO/);
    expect(store.get(uuid(2))?.status).toBe('failed');
    storage.close();
  });

  it('commits a start and a final state whose record is elsewhere without their own fsync, visible at once', () => {
    const path = join(tempDir('asyrp-gc-'), 'db.sqlite');
    const storage = openStorage({ path });
    storage.jobs.insertMany([job(uuid(8)), job(uuid(9)), job(uuid(10))]);
    storage.jobs.markRunning(uuid(8));
    storage.jobs.markDone(uuid(8), '/tmp/results', { durable: false });
    storage.jobs.markCancelled(uuid(9), { durable: false });
    storage.jobs.markFailed(uuid(10), 'IO_FAILED'); // durable, as before
    // A second connection reads what the first committed (in the WAL, whether synced yet or not).
    const other = openStorage({ path });
    expect([uuid(8), uuid(9), uuid(10)].map((id) => other.jobs.get(id).status)).toEqual(['done', 'cancelled', 'failed']);
    expect(other.jobs.get(uuid(8)).attempts).toBe(1);
    // An illegal move is still refused, unsynced or not.
    expect(() => storage.jobs.markDone(uuid(9), '/tmp/r', { durable: false })).toThrow(/cancelled/);
    other.close();
    storage.close();
  });

  it('syncCommitted fsyncs a real WAL, shared by the callers of one turn', async () => {
    const storage = openStorage({ path: join(tempDir('asyrp-gc-'), 'db.sqlite') });
    storage.jobs.insertManyUnsynced([job(uuid(7))]);
    await expect(Promise.all(Array.from({ length: 10 }, () => storage.jobs.syncCommitted()))).resolves.toHaveLength(10);
    expect(storage.jobs.get(uuid(7)).status).toBe('queued');
    storage.close();
  });
});
