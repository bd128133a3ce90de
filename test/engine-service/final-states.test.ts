/**
 * Recording a job's final state off the event loop: record() returns before final.json is on disk, the
 * job is reported final only once a record is durable, and settled() waits for what is in flight. The
 * files are real (a temp folder) and so is the SQLite store; the gate only holds final.json's write back.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStorage } from '../../src/storage/index.js';
import { jobStoreFromRepo } from '../../src/engine/service/job-store.js';
import { JobFiles, type FinalRecord } from '../../src/engine/service/job-files.js';
import { FinalStates } from '../../src/engine/service/final-states.js';
import { Job, type JobRequest } from '../../src/engine/service/job.js';
import { EngineError } from '../../src/engine/errors.js';
import { createLogger } from '../../src/log/logger.js';
import { tempDir } from '../helpers/paths.js';

/** JobFiles whose final.json writes wait for the test to let them go (or fail, when told to). */
class GatedFiles extends JobFiles {
  private gates: Array<() => void> = [];
  failNext = false;
  writes = 0;

  override async writeFinal(id: string, record: FinalRecord): Promise<void> {
    this.writes++;
    await new Promise<void>((open) => this.gates.push(open));
    if (this.failNext) {
      this.failNext = false;
      throw new EngineError('IO_FAILED', 'the disk is full (test)');
    }
    await super.writeFinal(id, record);
  }

  openGates(): void {
    for (const open of this.gates.splice(0)) open();
  }
}

const request: JobRequest = { kind: 'edit', owner: 'a', recipe: 'smile:1', model: 'm', strengths: [1], size: null, faceIndex: 0, labels: {}, idempotencyKey: null, createdAt: new Date().toISOString() };
const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

async function setUp() {
  const dir = tempDir('asyrp-finals-');
  const storage = openStorage({ path: join(dir, 'db.sqlite') });
  const store = jobStoreFromRepo(storage.jobs);
  const files = new GatedFiles(join(dir, 'jobs'));
  const reported: string[] = [];
  const finals = new FinalStates({ store, files, jobLog: () => createLogger({ level: 'error' }), reportFinal: (job) => (job.record(), reported.push(job.id)) });
  const id = '00000000-0000-4000-8000-000000000001';
  await store.insert({ id, idempotencyKey: null, kind: 'edit', modelId: 'm', recipe: 'smile:1', inputPath: files.inputPath(id), inputHash: 'h', request: JSON.stringify(request) });
  const job = new Job(id, request);
  job.settle({ state: 'cancelled', error: null, finishedAt: new Date().toISOString() });
  return { storage, store, files, finals, reported, job };
}

describe('final states', () => {
  it('record() returns at once; the job is reported final only after final.json is durable', async () => {
    const { storage, store, files, finals, reported, job } = await setUp();
    finals.record(job);
    await turns(5); // the event loop goes on while the write waits
    expect(files.writes).toBe(1);
    expect(reported).toEqual([]);
    expect(job.finished).toBe(false);
    expect(finals.has(job.id)).toBe(true);
    expect(existsSync(join(files.dir(job.id), 'final.json'))).toBe(false);
    finals.retry(true); // an attempt in flight is not started twice
    expect(files.writes).toBe(1);

    files.openGates();
    await finals.settled();
    expect(reported).toEqual([job.id]);
    expect(job.state).toBe('cancelled');
    expect(JSON.parse(readFileSync(join(files.dir(job.id), 'final.json'), 'utf8'))).toMatchObject({ state: 'cancelled' });
    expect(store.get(job.id)?.status).toBe('cancelled');
    expect(finals.has(job.id)).toBe(false);
    storage.close();
  });

  it('a failed final.json write leaves the database row as the record: reported once, nothing retried', async () => {
    const { storage, store, files, finals, reported, job } = await setUp();
    files.failNext = true;
    finals.record(job);
    const settled = finals.settled();
    files.openGates();
    await settled;
    expect(reported).toEqual([job.id]);
    expect(store.get(job.id)?.status).toBe('cancelled');
    expect(existsSync(join(files.dir(job.id), 'final.json'))).toBe(false);
    finals.retry(true);
    await finals.settled();
    expect(files.writes).toBe(1);
    storage.close();
  });
});
