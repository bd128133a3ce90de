/**
 * A job that finished before this process started, rebuilt from its database row (and request) so its
 * status and results stay answerable across restarts.
 */
import { Job } from './job.js';
import type { JobFiles } from './job-files.js';
import type { JobStore } from './job-store.js';
import { isApiErrorCode, ServiceError } from './service-error.js';

export function loadFinishedJob(id: string, store: JobStore, files: JobFiles): Job {
  // Ids are UUIDs; anything else never reaches the file system.
  if (!/^[0-9a-f-]{36}$/.test(id)) throw new ServiceError('NOT_FOUND', `no job ${id.slice(0, 64)}`);
  const row = store.get(id);
  const request = row && files.request(id, row.request);
  if (!row || !request) throw new ServiceError('NOT_FOUND', `no job ${id}`);
  const error = row.errorCode ? { code: isApiErrorCode(row.errorCode) ? row.errorCode : ('INTERNAL' as const), message: `the job failed (${row.errorCode})` } : null;
  const job = Job.restoreFinished(id, request, { state: row.status, error, results: row.results, startedAt: row.startedAt, finishedAt: row.finishedAt });
  return job;
}
