/**
 * A job's request (recipe, owner, kind, sizes, labels: a few hundred bytes of JSON) kept in its row,
 * committed with it: before this it was a file of its own in the job's folder, written and fsynced before
 * the row, one more fsync per submit (docs/benchmarks.md, "Inference worker"). NULL for rows written
 * before; their request stays in the job folder's request.json.
 */
import type { Migration } from './migration.js';

export const migration007: Migration = {
  version: 7,
  name: 'job-request',
  up(db) {
    db.exec('ALTER TABLE engine_jobs ADD COLUMN request TEXT');
  },
};
